//! Bad input never hurts: every malformed body, query, header, over-long field or invalid ID
//! on every route answers an Appwrite error with the right type, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, send};

/// One hostile request and the error it must get.
struct Case {
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    error: &'static str,
}

fn json_case(method: Method, path: &str, body: serde_json::Value, error: &'static str) -> Case {
    Case {
        method,
        path: path.to_owned(),
        content_type: "application/json",
        body: body.to_string().into_bytes(),
        status: 400,
        error,
    }
}

fn raw_case(method: Method, path: &str, content_type: &'static str, body: &[u8]) -> Case {
    Case {
        method,
        path: path.to_owned(),
        content_type,
        body: body.to_vec(),
        status: 400,
        error: "general_argument_invalid",
    }
}

fn get_case(path: &str, status: u16, error: &'static str) -> Case {
    Case {
        method: Method::GET,
        path: path.to_owned(),
        content_type: "",
        body: Vec::new(),
        status,
        error,
    }
}

const INVALID: &str = "general_argument_invalid";

fn valid_function() -> serde_json::Value {
    json!({"functionId": "new1", "name": "Fine", "runtime": "node-20.0"})
}

/// `valid_function()` with one field replaced.
fn function_with(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut body = valid_function();
    body[field] = value;
    body
}

fn cases() -> Vec<Case> {
    let long_id = "a".repeat(37);
    let mut cases = vec![
        // Bodies that are not what they claim to be.
        raw_case(Method::POST, "/functions", "application/json", b"{"),
        raw_case(Method::POST, "/functions", "application/json", b"[1, 2]"),
        raw_case(Method::POST, "/functions", "application/json", b"\"text\""),
        raw_case(
            Method::POST,
            "/functions",
            "application/json",
            b"{\"name\": \"\xff\xfe\"}",
        ),
        raw_case(
            Method::POST,
            "/functions",
            "application/json; charset=utf-8",
            b"nul\0l",
        ),
        raw_case(
            Method::POST,
            "/functions",
            "multipart/form-data",
            b"--x\r\n",
        ),
        raw_case(
            Method::POST,
            "/functions",
            "multipart/form-data; boundary=x",
            b"--x\r\nnot a part",
        ),
        raw_case(
            Method::POST,
            "/functions",
            "application/x-www-form-urlencoded",
            b"%%%&&&==",
        ),
        raw_case(Method::POST, "/functions", "text/plain", b"functionId=x"),
        raw_case(
            Method::PUT,
            "/functions/fn1",
            "application/json",
            b"{\"name\":",
        ),
        raw_case(
            Method::POST,
            "/functions/fn1/variables",
            "application/json",
            b"{]",
        ),
        raw_case(
            Method::PUT,
            "/functions/fn1/variables/v1",
            "application/json",
            b"1",
        ),
    ];
    // Create Function, field by field.
    for (field, value) in [
        ("functionId", json!(long_id)),
        ("functionId", json!("-starts-badly")),
        ("functionId", json!("has space")),
        ("functionId", json!(12)),
        ("name", json!("n".repeat(129))),
        ("name", json!(5)),
        ("name", json!(["list"])),
        ("runtime", json!("cobol-1.0")),
        ("runtime", json!(true)),
        ("execute", json!("any")),
        ("execute", json!([1])),
        ("execute", json!(["*"])),
        ("execute", json!(["role:all"])),
        ("execute", json!(["some-random-string"])),
        ("execute", json!(vec!["any"; 101])),
        ("events", json!(["nope"])),
        ("events", json!(["users.*.explode"])),
        ("events", json!(vec!["users.*.create"; 101])),
        ("events", json!({"a": 1})),
        ("schedule", json!("nope")),
        ("schedule", json!("* * * *")),
        ("schedule", json!("61 * * * *")),
        ("schedule", json!(5)),
        ("timeout", json!(0)),
        ("timeout", json!(901)),
        ("timeout", json!(-1)),
        ("timeout", json!("abc")),
        ("timeout", json!(1.5)),
        ("timeout", json!(i64::MAX)),
        ("enabled", json!("yes")),
        ("enabled", json!("true")),
        ("enabled", json!(1)),
    ] {
        cases.push(json_case(
            Method::POST,
            "/functions",
            function_with(field, value.clone()),
            INVALID,
        ));
        if field != "functionId" && field != "runtime" {
            let mut update = valid_function();
            update[field] = value;
            cases.push(json_case(Method::PUT, "/functions/fn1", update, INVALID));
        }
    }
    for missing in ["functionId", "name", "runtime"] {
        let mut body = valid_function();
        body[missing] = json!(null);
        cases.push(json_case(Method::POST, "/functions", body, INVALID));
    }
    // Variables.
    for body in [
        json!({"key": "k".repeat(256), "value": "v"}),
        json!({"key": "K", "value": "v".repeat(8193)}),
        json!({"key": 5, "value": "v"}),
        json!({"key": "K", "value": ["v"]}),
        json!({"key": "K"}),
        json!({"value": "v"}),
    ] {
        cases.push(json_case(
            Method::POST,
            "/functions/fn1/variables",
            body,
            INVALID,
        ));
    }
    cases.push(json_case(
        Method::PUT,
        "/functions/fn1/variables/v1",
        json!({"key": ""}),
        INVALID,
    ));
    cases.push(json_case(
        Method::PUT,
        "/functions/fn1/variables/v1",
        json!({"key": "K", "value": 3}),
        INVALID,
    ));
    // Queries.
    for query in [
        "queries[]=equal(",
        "queries[]=name.equal(\"x\")",
        "queries[]=contains(\"name\",[\"x\"])",
        "queries[]=equal(\"secret\",[\"x\"])",
        "queries[]=equal(\"timeout\",[\"fifteen\"])",
        "queries[]=equal(\"enabled\",[\"true\"])",
        "queries[]=search(\"name\",[\"x\"])",
        "queries[]=limit(101)",
        "queries[]=limit(-1)",
        "queries[]=offset(5001)",
        "queries[]=cursorAfter(\"-bad\")",
        "queries[]=orderAsc(\"nope\")",
        "queries[]=greaterThan(\"$createdAt\",[\"yesterday\"])",
        "queries[]={\"method\":1}",
        "queries[]={\"method\":\"equal\",\"attribute\":\"name\",\"values\":[[1]]}",
        "queries=limit(5)&queries[]=",
    ] {
        cases.push(get_case(&format!("/functions?{query}"), 400, INVALID));
    }
    let too_many: Vec<String> = (0..101).map(|i| format!("queries[{i}]=limit(1)")).collect();
    cases.push(get_case(
        &format!("/functions?{}", too_many.join("&")),
        400,
        INVALID,
    ));
    cases.push(get_case(
        &format!("/functions?search={}", "s".repeat(257)),
        400,
        INVALID,
    ));
    cases.push(get_case(
        "/functions?queries[]=cursorAfter(\"ghost\")",
        400,
        "general_cursor_not_found",
    ));
    // Path IDs.
    for path in [
        format!("/functions/{long_id}"),
        "/functions/_hidden".to_owned(),
        "/functions/.dot".to_owned(),
        "/functions/has%20space".to_owned(),
        "/functions/a%2Fb".to_owned(),
        format!("/functions/fn1/variables/{long_id}"),
        format!("/functions/{long_id}/variables"),
        "/functions/fn1/variables/-v".to_owned(),
    ] {
        cases.push(get_case(&path, 400, INVALID));
        // The variables collection has no DELETE route.
        if !path.ends_with("/variables") {
            cases.push(Case {
                method: Method::DELETE,
                ..get_case(&path, 400, INVALID)
            });
        }
    }
    // Things that are not there.
    cases.push(get_case("/functions/ghost", 404, "function_not_found"));
    cases.push(get_case(
        "/functions/ghost/variables",
        404,
        "function_not_found",
    ));
    cases.push(get_case(
        "/functions/fn1/variables/ghost",
        404,
        "variable_not_found",
    ));
    cases.push(Case {
        status: 404,
        ..json_case(
            Method::PUT,
            "/functions/ghost",
            json!({"name": "x"}),
            "function_not_found",
        )
    });
    cases
}

#[tokio::test]
async fn every_route_answers_bad_input_with_an_appwrite_error() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Target").await;
    let mut failures = Vec::new();
    for case in cases() {
        let mut request = server.request(case.method.clone(), &case.path);
        if !case.content_type.is_empty() {
            request = request.header("content-type", case.content_type);
        }
        if !case.body.is_empty() {
            request = request.body(case.body.clone());
        }
        let reply = send(request).await;
        let shaped = reply.body["message"].is_string()
            && reply.body["code"] == case.status
            && reply.body["version"].is_string();
        if reply.status.as_u16() != case.status || reply.error_type() != case.error || !shaped {
            failures.push(format!(
                "{} {} {:?}: expected {} {}, got {} {}",
                case.method,
                case.path,
                String::from_utf8_lossy(&case.body)
                    .chars()
                    .take(80)
                    .collect::<String>(),
                case.status,
                case.error,
                reply.status,
                reply.text.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // And the server still answers normally afterwards.
    assert_eq!(server.get("/functions/fn1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn hostile_headers_are_refused_cleanly() {
    let server = TestServer::start().await;
    let cases = [
        (
            "x-appwrite-project",
            "a".repeat(500),
            404,
            "project_not_found",
        ),
        (
            "x-appwrite-project",
            "../etc".to_owned(),
            404,
            "project_not_found",
        ),
        (
            "x-appwrite-project",
            "   ".to_owned(),
            400,
            "project_unknown",
        ),
    ];
    for (name, value, status, error) in cases {
        let reply = send(
            server
                .bare(Method::GET, "/functions")
                .header(name, value.as_str()),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error_type()),
            (status, error),
            "{name}: {value}"
        );
    }
    let huge_key = "k".repeat(8000);
    let reply = send(server.as_key("default", &huge_key, Method::GET, "/functions")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let odd_key = "ключ-key-with-unicode-and-more-than-sixteen";
    let reply = send(
        server
            .bare(Method::GET, "/functions")
            .header("x-appwrite-project", "default")
            .header(
                "x-appwrite-key",
                reqwest::header::HeaderValue::from_bytes(odd_key.as_bytes()).unwrap(),
            ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = TestServer::start().await;
    let body = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let reply = send(
        server
            .request(Method::POST, "/functions")
            .header("content-type", "application/json")
            .body(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_type(), INVALID);
}
