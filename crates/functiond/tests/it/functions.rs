//! Functions: create, list (queries, search, cursors), get, update, delete.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, redacted, send};

#[tokio::test]
async fn create_returns_the_function_model() {
    let server = TestServer::start().await;
    let reply = server
        .post(
            "/functions",
            json!({
                "functionId": "fn1",
                "name": "Test",
                "runtime": "node-20.0",
                "execute": ["any", "user:abc"],
                "events": ["users.*.create", "users.*.delete"],
                "schedule": "0 0 1 1 *",
                "timeout": 10,
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    redacted().bind(|| insta::assert_json_snapshot!("function_created", reply.body));
    let next = reply.body["scheduleNext"].as_str().unwrap();
    assert!(next.ends_with("-01-01T00:00:00.000+00:00"), "{next}");
    assert_eq!(reply.body["schedulePrevious"], "");
    let created = reply.body["$createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2022-10-12T10:41:07.123+00:00".len());
    assert!(created.ends_with("+00:00"));
}

#[tokio::test]
async fn unique_asks_the_server_for_an_id() {
    let server = TestServer::start().await;
    let body = server.create_function("unique()", "Generated").await;
    let id = body["$id"].as_str().unwrap();
    assert_eq!(id.len(), 20);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        server.get(&format!("/functions/{id}")).await.body["name"],
        "Generated"
    );
}

#[tokio::test]
async fn defaults_fill_what_create_omits() {
    let server = TestServer::start().await;
    let body = server.create_function("fn1", "Plain").await;
    assert_eq!(body["execute"], json!([]));
    assert_eq!(body["events"], json!([]));
    assert_eq!(body["schedule"], "");
    assert_eq!(body["scheduleNext"], "");
    assert_eq!(body["timeout"], 15);
    assert_eq!(body["enabled"], true);
    assert_eq!(body["deployment"], "");
    assert_eq!(body["vars"], json!([]));
}

#[tokio::test]
async fn a_taken_id_is_a_conflict() {
    let server = TestServer::start().await;
    server.create_function("fn1", "First").await;
    let reply = server
        .post(
            "/functions",
            json!({"functionId": "fn1", "name": "Second", "runtime": "node-20.0"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_type(), "function_already_exists");
    insta::assert_json_snapshot!("function_already_exists", reply.body);
    assert_eq!(server.get("/functions/fn1").await.body["name"], "First");
}

#[tokio::test]
async fn get_and_missing() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let found = server.get("/functions/fn1").await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["name"], "Test");
    let missing = server.get("/functions/x").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("function_not_found", missing.body);
}

#[tokio::test]
async fn update_replaces_every_field() {
    let server = TestServer::start().await;
    let created = server
        .post(
            "/functions",
            json!({
                "functionId": "fn1", "name": "Test", "runtime": "node-20.0",
                "execute": ["any"], "events": ["users.*.create"], "schedule": "@daily",
                "timeout": 30, "enabled": false,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);

    let updated = server
        .put(
            "/functions/fn1",
            json!({"name": "Test1", "events": ["users.*.update.name"], "timeout": 5, "runtime": "python-3.11"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let body = &updated.body;
    assert_eq!(body["name"], "Test1");
    assert_eq!(body["events"], json!(["users.*.update.name"]));
    assert_eq!(body["timeout"], 5);
    // Omitted: back to the defaults.
    assert_eq!(body["execute"], json!([]));
    assert_eq!(body["schedule"], "");
    assert_eq!(body["scheduleNext"], "");
    assert_eq!(body["enabled"], true);
    // The runtime cannot change.
    assert_eq!(body["runtime"], "node-20.0");
    assert_eq!(body["$createdAt"], created.body["$createdAt"]);

    let stored = server.get("/functions/fn1").await.body;
    assert_eq!(stored, updated.body);

    let missing = server.put("/functions/nope", json!({"name": "x"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_name = server.put("/functions/fn1", json!({})).await;
    assert_eq!(no_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_name.body["message"], "Param \"name\" is not optional.");
}

#[tokio::test]
async fn delete_removes_the_function_and_its_variables() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let var = server
        .post(
            "/functions/fn1/variables",
            json!({"key": "K", "value": "v"}),
        )
        .await;
    assert_eq!(var.status, StatusCode::CREATED);
    let deleted = server.delete("/functions/fn1").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.text, "");
    assert_eq!(
        server.get("/functions/fn1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.delete("/functions/fn1").await.status,
        StatusCode::NOT_FOUND
    );
    // A new function with the same ID starts without the old variables.
    let again = server.create_function("fn1", "Again").await;
    assert_eq!(again["vars"], json!([]));
}

async fn list(server: &TestServer, query: &str) -> serde_json::Value {
    let reply = server.get(&format!("/functions?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
    reply.body
}

fn names(body: &serde_json::Value) -> Vec<&str> {
    body["functions"]
        .as_array()
        .expect("a list of functions")
        .iter()
        .map(|f| f["name"].as_str().expect("a name"))
        .collect()
}

#[tokio::test]
async fn list_with_queries_search_and_cursors() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let second = server
        .post(
            "/functions",
            json!({"functionId": "fn2", "name": "Test 2", "runtime": "python-3.11", "enabled": false, "timeout": 40}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    server.create_function("other", "Zeta").await;

    let all = list(&server, "").await;
    assert_eq!(all["total"], 3);
    assert_eq!(names(&all), ["Test", "Test 2", "Zeta"]);
    redacted().bind(|| insta::assert_json_snapshot!("function_list", all));

    // limit(0) returns nothing, but total still counts the filters only.
    let none = list(&server, "queries[]=limit(0)").await;
    assert_eq!((none["total"].as_u64(), names(&none).len()), (Some(3), 0));
    assert_eq!(
        names(&list(&server, "queries[]=offset(1)").await),
        ["Test 2", "Zeta"]
    );
    assert_eq!(
        names(&list(&server, "queries[0]=limit(1)&queries[1]=offset(1)").await),
        ["Test 2"]
    );

    let enabled = list(&server, "queries[]=equal(\"enabled\",%20true)").await;
    assert_eq!(
        (enabled["total"].as_u64(), names(&enabled)),
        (Some(2), vec!["Test", "Zeta"])
    );
    assert_eq!(
        names(&list(&server, "queries[]=equal(\"enabled\",%20[false])").await),
        ["Test 2"]
    );
    assert_eq!(
        names(&list(&server, "queries[]=equal(\"name\",%20[\"Zeta\",\"Test\"])").await),
        ["Test", "Zeta"]
    );
    assert_eq!(
        names(&list(&server, "queries[]=greaterThan(\"timeout\",%2020)").await),
        ["Test 2"]
    );
    assert_eq!(
        names(&list(&server, "queries[]=orderDesc(\"name\")").await),
        ["Zeta", "Test 2", "Test"]
    );
    assert_eq!(
        names(
            &list(
                &server,
                "queries[]=orderDesc(\"timeout\")&queries[]=limit(1)"
            )
            .await
        ),
        ["Test 2"]
    );
    // The JSON query form of later SDKs works too.
    let json_form = r#"{"method":"equal","attribute":"runtime","values":["python-3.11"]}"#;
    let encoded: String = form_urlencoded_byte_serialize(json_form);
    assert_eq!(
        names(&list(&server, &format!("queries[]={encoded}")).await),
        ["Test 2"]
    );

    // search matches the id, the name and the runtime.
    assert_eq!(names(&list(&server, "search=fn2").await), ["Test 2"]);
    assert_eq!(names(&list(&server, "search=Zeta").await), ["Zeta"]);
    assert_eq!(
        names(&list(&server, "search=python-3.11").await),
        ["Test 2"]
    );
    assert_eq!(list(&server, "search=nothing-like-it").await["total"], 0);

    assert_eq!(
        names(&list(&server, "queries[]=cursorAfter(\"fn1\")").await),
        ["Test 2", "Zeta"]
    );
    assert_eq!(
        names(&list(&server, "queries[]=cursorBefore(\"other\")").await),
        ["Test", "Test 2"]
    );
    let unknown = server
        .get("/functions?queries[]=cursorAfter(\"unknown\")")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("function_cursor_not_found", unknown.body);
}

fn form_urlencoded_byte_serialize(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn forms_work_as_well_as_json() {
    let server = TestServer::start().await;
    let reply = send(
        server
            .request(Method::POST, "/functions")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("functionId=form1&name=Form&runtime=node-20.0&timeout=20&enabled=false&events[]=users.*.create&execute[0]=any"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["timeout"], 20);
    assert_eq!(reply.body["enabled"], false);
    assert_eq!(reply.body["events"], json!(["users.*.create"]));
    assert_eq!(reply.body["execute"], json!(["any"]));

    let form = reqwest::multipart::Form::new()
        .text("functionId", "multi1")
        .text("name", "Multi")
        .text("runtime", "python-3.11");
    let reply = send(server.request(Method::POST, "/functions").multipart(form)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["runtime"], "python-3.11");
}

#[tokio::test]
async fn json_null_means_absent() {
    let server = TestServer::start().await;
    let reply = server
        .post(
            "/functions",
            json!({"functionId": "fn1", "name": "N", "runtime": "node-20.0",
                   "execute": null, "events": null, "schedule": null, "timeout": null, "enabled": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["timeout"], 15);
    assert_eq!(reply.body["enabled"], true);
}
