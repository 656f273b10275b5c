//! Projects, keys and scopes: who may do what, and that projects never see each other.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, send};

#[tokio::test]
async fn a_request_names_an_existing_project() {
    let server = TestServer::start().await;
    let none = send(server.bare(Method::GET, "/functions")).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert_eq!(none.error_type(), "project_unknown");
    let unknown = send(
        server
            .bare(Method::GET, "/functions")
            .header("x-appwrite-project", "nope"),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("project_not_found", unknown.body);
    // `?project=` works like the header.
    let by_query = send(
        server
            .bare(Method::GET, "/functions?project=default")
            .header("x-appwrite-key", &server.key),
    )
    .await;
    assert_eq!(by_query.status, StatusCode::OK);
}

#[tokio::test]
async fn guests_and_unknown_keys_lack_scopes() {
    let server = TestServer::start().await;
    let guest = send(
        server
            .bare(Method::GET, "/functions")
            .header("x-appwrite-project", "default"),
    )
    .await;
    assert_eq!(guest.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("unauthorized_scope_guest", guest.body);
    // The real key with its last character changed: right prefix, wrong secret.
    let last = if server.key.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &server.key[..server.key.len() - 1]);
    let wrong = send(server.as_key("default", &forged, Method::GET, "/functions")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body["message"],
        "User (role: guests) missing scope (functions.read)"
    );
}

#[tokio::test]
async fn a_key_holds_only_its_scopes() {
    let server = TestServer::start().await;
    let reader = server
        .project_with_key("default", &["functions.read"])
        .await;
    let listed = send(server.as_key("default", &reader, Method::GET, "/functions")).await;
    assert_eq!(listed.status, StatusCode::OK);
    let denied = send(
        server
            .as_key("default", &reader, Method::POST, "/functions")
            .json(&json!({"functionId": "x", "name": "x", "runtime": "node-20.0"})),
    )
    .await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert_eq!(denied.error_type(), "general_unauthorized_scope");
    assert_eq!(
        denied.body["message"],
        "app.default@service.functiond (role: applications) missing scope (functions.write)"
    );
}

#[tokio::test]
async fn projects_never_see_each_other() {
    let server = TestServer::start().await;
    server.create_function("shared-id", "In default").await;
    let other_key = server
        .project_with_key("other", &["functions.read", "functions.write"])
        .await;

    // The default key is unknown to project `other`: a guest there.
    let crossed = send(server.as_key("other", &server.key, Method::GET, "/functions")).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);
    // And the other key is a guest in `default`.
    let crossed =
        send(server.as_key("default", &other_key, Method::GET, "/functions/shared-id")).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);

    let empty = send(server.as_key("other", &other_key, Method::GET, "/functions")).await;
    assert_eq!(empty.body["total"], 0);
    let missing =
        send(server.as_key("other", &other_key, Method::GET, "/functions/shared-id")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The same ID may exist in both projects, separately.
    let created = send(
        server
            .as_key("other", &other_key, Method::POST, "/functions")
            .json(&json!({"functionId": "shared-id", "name": "In other", "runtime": "node-20.0"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let deleted =
        send(server.as_key("other", &other_key, Method::DELETE, "/functions/shared-id")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/functions/shared-id").await.body["name"],
        "In default"
    );
}

#[tokio::test]
async fn bootstrap_file_is_private_and_complete() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let path = server.data_path().join("bootstrap.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["project"], "default");
    assert_eq!(saved["key"], server.key.as_str());
    assert_eq!(saved["endpoint"], server.base.as_str());
}
