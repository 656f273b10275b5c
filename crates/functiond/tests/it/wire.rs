//! Wire details SDKs depend on: content types (204s included), error headers, no cookies,
//! unknown routes.

use reqwest::{Method, StatusCode};

use crate::harness::{TestServer, send};

#[tokio::test]
async fn every_response_has_a_content_type_and_no_cookie() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let replies = [
        server.get("/functions").await,
        server.get("/functions/missing").await,
        server.delete("/functions/fn1").await,
        send(server.bare(Method::GET, "/nowhere")).await,
        send(server.request(Method::PATCH, "/functions")).await,
    ];
    for reply in replies {
        assert!(reply.headers.contains_key("content-type"), "{reply:?}");
        assert!(!reply.headers.contains_key("set-cookie"), "{reply:?}");
    }
}

#[tokio::test]
async fn no_content_is_empty_with_a_content_type() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let reply = server.delete("/functions/fn1").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.text, "");
    assert_eq!(reply.headers["content-type"], "text/plain; charset=UTF-8");
}

#[tokio::test]
async fn errors_carry_appwrite_headers_and_shape() {
    let server = TestServer::start().await;
    let reply = server.get("/functions/missing").await;
    assert_eq!(
        reply.headers["content-type"],
        "application/json; charset=UTF-8"
    );
    assert_eq!(
        reply.headers["cache-control"],
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(reply.headers["expires"], "0");
    assert_eq!(reply.headers["pragma"], "no-cache");
    // Field order matters to nobody's parser, but matches the original byte for byte.
    assert!(reply.text.starts_with("{\"message\":"), "{}", reply.text);
    assert_eq!(reply.body["code"], 404);
    assert_eq!(reply.body["version"], "1.0.3");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_route_not_found() {
    let server = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/nowhere"),
        (Method::GET, "/v2/functions"),
        (Method::PATCH, "/functions"),
        (Method::POST, "/functions/runtimes"),
        (Method::GET, "/functions/fn1/variables/v1/extra"),
    ] {
        let reply = send(server.request(method.clone(), path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            reply.error_type(),
            "general_route_not_found",
            "{method} {path}"
        );
    }
    let root = send(server.bare(Method::GET, "/../../")).await;
    assert_eq!(root.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_version_needs_no_credentials() {
    let server = TestServer::start().await;
    let reply = send(server.bare(Method::GET, "/health/version")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["version"], "1.0.3");
}

#[tokio::test]
async fn models_keep_appwrite_field_order() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    let reply = server.get("/functions").await;
    let order = [
        "\"total\"",
        "\"functions\"",
        "\"$id\"",
        "\"$createdAt\"",
        "\"$updatedAt\"",
        "\"execute\"",
        "\"name\"",
        "\"enabled\"",
        "\"runtime\"",
        "\"deployment\"",
        "\"vars\"",
        "\"events\"",
        "\"schedule\"",
        "\"scheduleNext\"",
        "\"schedulePrevious\"",
        "\"timeout\"",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|field| {
            reply
                .text
                .find(field)
                .unwrap_or_else(|| panic!("{field} missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", reply.text);
}

#[tokio::test]
async fn error_bodies_of_the_framework() {
    let server = TestServer::start().await;
    let route = send(server.bare(Method::GET, "/nowhere")).await;
    insta::assert_json_snapshot!("route_not_found", route.body);
    let argument = server
        .post(
            "/functions",
            serde_json::json!({"functionId": "fn1", "name": "x", "runtime": "cobol-1.0"}),
        )
        .await;
    insta::assert_json_snapshot!("argument_invalid_runtime", argument.body);
    let missing = server
        .post("/functions", serde_json::json!({"functionId": "fn1"}))
        .await;
    insta::assert_json_snapshot!("argument_not_optional", missing.body);
    let query = server
        .get("/functions?queries[]=equal(\"secret\",[1])")
        .await;
    insta::assert_json_snapshot!("argument_invalid_query", query.body);
    let no_project = send(server.bare(Method::GET, "/functions")).await;
    insta::assert_json_snapshot!("project_unknown", no_project.body);
}

#[tokio::test]
async fn bodies_on_routes_that_take_none_are_read_and_the_connection_reused() {
    // The Python SDK sends `{}` with every GET and DELETE.
    let server = TestServer::start().await;
    server.create_function("fn1", "Test").await;
    for _ in 0..3 {
        let reply = send(
            server
                .request(Method::GET, "/functions/fn1")
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["name"], "Test");
        assert!(
            !reply.headers.contains_key("connection"),
            "{:?}",
            reply.headers
        );
    }
}
