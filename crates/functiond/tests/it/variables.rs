//! Variables: the five endpoints, key uniqueness, plaintext in the Function model and
//! ciphertext on disk.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{TestServer, redacted};

#[tokio::test]
async fn the_variable_life_cycle() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;

    let created = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "APP_TEST", "value": "TESTINGVALUE"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    redacted().bind(|| insta::assert_json_snapshot!("variable_created", created.body));
    let id = created.body["$id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 20);

    let duplicate = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "APP_TEST", "value": "other"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    insta::assert_json_snapshot!("variable_already_exists", duplicate.body);

    let listed = server.get("/functions/fn1/variables").await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["variables"][0]["key"], "APP_TEST");
    assert_eq!(listed.body["variables"][0]["value"], "TESTINGVALUE");
    redacted().bind(|| insta::assert_json_snapshot!("variable_list", listed.body));

    let function = server.get("/functions/fn1").await;
    assert_eq!(function.body["vars"][0]["value"], "TESTINGVALUE");
    assert_eq!(function.body["vars"][0]["functionId"], "fn1");

    let path = format!("/functions/fn1/variables/{id}");
    let got = server.get(&path).await;
    assert_eq!(
        (got.body["key"].as_str(), got.body["value"].as_str()),
        (Some("APP_TEST"), Some("TESTINGVALUE"))
    );

    let renamed = server
        .put(
            &path,
            json!({"key": "APP_TEST_UPDATE", "value": "TESTINGVALUEUPDATED"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["value"], "TESTINGVALUEUPDATED");
    let key_only = server.put(&path, json!({"key": "APP_TEST_UPDATE_2"})).await;
    assert_eq!(key_only.body["key"], "APP_TEST_UPDATE_2");
    assert_eq!(key_only.body["value"], "TESTINGVALUEUPDATED");
    let null_value = server
        .put(&path, json!({"key": "APP_TEST_UPDATE_2", "value": null}))
        .await;
    assert_eq!(null_value.body["value"], "TESTINGVALUEUPDATED");
    assert_eq!(server.get(&path).await.body["key"], "APP_TEST_UPDATE_2");

    assert_eq!(
        server.put(&path, json!({})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.put(&path, json!({"value": "v"})).await.status,
        StatusCode::BAD_REQUEST
    );
    let long_key = server.put(&path, json!({"key": "k".repeat(256)})).await;
    assert_eq!(long_key.status, StatusCode::BAD_REQUEST);
    let long_value = server
        .put(&path, json!({"key": "k", "value": "v".repeat(8193)}))
        .await;
    assert_eq!(long_value.status, StatusCode::BAD_REQUEST);

    let deleted = server.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let empty = server.get("/functions/fn1/variables").await;
    assert_eq!(
        (
            empty.body["total"].as_u64(),
            empty.body["variables"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let gone = server.get(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("variable_not_found", gone.body);
}

#[tokio::test]
async fn renaming_onto_a_taken_key_conflicts() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    server
        .post(
            "/functions/fn1/variables",
            json!({"key": "A", "value": "1"}),
        )
        .await;
    let b = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "B", "value": "2"}),
        )
        .await;
    let path = format!(
        "/functions/fn1/variables/{}",
        b.body["$id"].as_str().unwrap()
    );
    let reply = server.put(&path, json!({"key": "A"})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_type(), "variable_already_exists");
}

#[tokio::test]
async fn variables_belong_to_their_function() {
    let server = TestServer::start().await;
    server.create_function("fn1", "One").await;
    server.create_function("fn2", "Two").await;
    let a = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "SAME", "value": "one"}),
        )
        .await;
    let b = server
        .post(
            "/functions/fn2/variables",
            json!({"key": "SAME", "value": "two"}),
        )
        .await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    // fn1's variable is not reachable through fn2.
    let cross = server
        .get(&format!(
            "/functions/fn2/variables/{}",
            a.body["$id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.get("/functions/fn2").await.body["vars"][0]["value"],
        "two"
    );
    let missing_function = server
        .post(
            "/functions/nope/variables",
            json!({"key": "K", "value": "v"}),
        )
        .await;
    assert_eq!(missing_function.status, StatusCode::NOT_FOUND);
    assert_eq!(missing_function.error_type(), "function_not_found");
}

#[tokio::test]
async fn values_are_encrypted_at_rest() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let secret = "plaintext-that-must-not-hit-the-disk";
    let reply = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "SECRET", "value": secret}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(server.data_path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("functiond.db") {
            on_disk.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!on_disk.is_empty());
    assert!(
        !on_disk
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    );
    assert_eq!(
        server.get("/functions/fn1").await.body["vars"][0]["value"],
        secret
    );
}

#[tokio::test]
async fn create_requires_key_and_value() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let no_value = server
        .post("/functions/fn1/variables", json!({"key": "K", "value": ""}))
        .await;
    assert_eq!(no_value.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_value.body["message"], "Param \"value\" is not optional.");
    let no_key = server
        .post("/functions/fn1/variables", json!({"value": "v"}))
        .await;
    assert_eq!(no_key.body["message"], "Param \"key\" is not optional.");
}
