//! Executions through the API: sync and async runs, the checks before a run, and what
//! callers see.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestServer, redacted, send};

const ECHO: &str = r#"module.exports = async (req, res) => {
  console.log('log line');
  console.error('error line');
  res.json({
    data: req.payload,
    id: req.variables.APPWRITE_FUNCTION_ID,
    trigger: req.variables.APPWRITE_FUNCTION_TRIGGER,
    runtime: req.variables.APPWRITE_FUNCTION_RUNTIME_NAME,
    version: req.variables.APPWRITE_FUNCTION_RUNTIME_VERSION,
    custom: req.variables.CUSTOM,
  });
};"#;

#[tokio::test]
async fn sync_execution_answers_the_final_record() {
    let server = TestServer::start().await;
    server.create_function("fn1", "Echo").await;
    server
        .post(
            "/functions/fn1/variables",
            json!({"key": "CUSTOM", "value": "êä"}),
        )
        .await;
    let reply = server
        .upload(
            "fn1",
            "index.js",
            crate::harness::archive(&[("index.js", ECHO)]),
            true,
        )
        .await;
    let deployment = reply.body["$id"].as_str().unwrap().to_owned();
    server.wait_for_build("fn1", &deployment).await;

    let run = server
        .post("/functions/fn1/executions", json!({"data": "hello"}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    assert_eq!(run.body["status"], "completed");
    assert_eq!(run.body["statusCode"], 200);
    assert_eq!(run.body["trigger"], "http");
    assert_eq!(run.body["stdout"], "log line");
    assert_eq!(run.body["stderr"], "error line");
    let response: serde_json::Value =
        serde_json::from_str(run.body["response"].as_str().unwrap()).unwrap();
    assert_eq!(
        response,
        json!({"data": "hello", "id": "fn1", "trigger": "http", "runtime": "Node.js", "version": "20.0", "custom": "êä"})
    );
    assert!(run.body["duration"].as_f64().unwrap() > 0.0);
    redacted().bind(|| {
        insta::assert_json_snapshot!("execution_completed", run.body, {".duration" => "[duration]"})
    });
}

#[tokio::test]
async fn async_execution_is_accepted_then_finished_by_a_worker() {
    let server = TestServer::start().await;
    server.deployed_node("fn1", ECHO).await;
    let accepted = server
        .post(
            "/functions/fn1/executions",
            json!({"data": "later", "async": true}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    redacted().bind(|| insta::assert_json_snapshot!("execution_waiting", accepted.body));
    let id = accepted.body["$id"].as_str().unwrap().to_owned();
    let mut finished = serde_json::Value::Null;
    for _ in 0..100 {
        finished = server
            .get(&format!("/functions/fn1/executions/{id}"))
            .await
            .body;
        if finished["status"] == "completed" || finished["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(finished["status"], "completed", "{finished}");
    assert!(finished["response"].as_str().unwrap().contains("later"));

    let listed = server
        .get("/functions/fn1/executions?queries[]=equal(%22status%22,%5B%22completed%22%5D)")
        .await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(
        server
            .get(&format!("/functions/fn1/executions?search={id}"))
            .await
            .body["total"],
        1
    );
}

#[tokio::test]
async fn failures_timeouts_and_statuses() {
    let server = TestServer::start().await;
    let source = r#"module.exports = async (req, res) => {
  if (req.payload === 'throw') throw new Error('boom');
  if (req.payload === 'hang') return;
  res.send('not here', 404);
};"#;
    server.deployed_node("fn1", source).await;
    server
        .put("/functions/fn1", json!({"name": "fn1", "timeout": 1}))
        .await;

    let thrown = server
        .post("/functions/fn1/executions", json!({"data": "throw"}))
        .await;
    assert_eq!(
        (
            thrown.body["status"].as_str(),
            thrown.body["statusCode"].as_i64()
        ),
        (Some("failed"), Some(500))
    );
    assert!(
        thrown.body["stderr"].as_str().unwrap().contains("boom"),
        "{}",
        thrown.text
    );

    let hung = server
        .post("/functions/fn1/executions", json!({"data": "hang"}))
        .await;
    assert_eq!(
        (
            hung.body["status"].as_str(),
            hung.body["statusCode"].as_i64()
        ),
        (Some("failed"), Some(500))
    );
    assert!(
        hung.body["stderr"].as_str().unwrap().contains("timed out"),
        "{}",
        hung.text
    );

    let not_found = server
        .post("/functions/fn1/executions", json!({"data": "ok"}))
        .await;
    assert_eq!(
        (
            not_found.body["status"].as_str(),
            not_found.body["statusCode"].as_i64()
        ),
        (Some("completed"), Some(404))
    );
    assert_eq!(not_found.body["response"], "not here");
}

#[tokio::test]
async fn checks_before_a_run_follow_appwrite_order() {
    let server = TestServer::start().await;
    server.create_function("fn1", "No deployment").await;
    let none = server.post("/functions/fn1/executions", json!({})).await;
    assert_eq!(
        (none.status.as_u16(), none.error_type()),
        (404, "deployment_not_found")
    );

    server
        .deployed_node(
            "fn2",
            "module.exports = async (req, res) => res.send('ok');",
        )
        .await;
    server
        .put("/functions/fn2", json!({"name": "fn2", "enabled": false}))
        .await;
    for reply in [
        server.post("/functions/fn2/executions", json!({})).await,
        server.get("/functions/fn2/executions").await,
    ] {
        assert_eq!(
            (reply.status.as_u16(), reply.error_type()),
            (404, "function_not_found")
        );
    }
    server
        .put("/functions/fn2", json!({"name": "fn2", "enabled": true}))
        .await;

    // A guest may execute only with `any` or `guests` in `execute`, and sees no logs.
    let guest = |method: Method, path: &str| {
        server
            .bare(method, path)
            .header("x-appwrite-project", "default")
    };
    let denied = send(guest(Method::POST, "/functions/fn2/executions").json(&json!({}))).await;
    assert_eq!(
        (denied.status.as_u16(), denied.error_type()),
        (401, "user_unauthorized")
    );
    server
        .put("/functions/fn2", json!({"name": "fn2", "execute": ["any"]}))
        .await;
    let allowed = send(guest(Method::POST, "/functions/fn2/executions").json(&json!({}))).await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.text);
    assert_eq!(allowed.body["response"], "ok");
    assert_eq!(allowed.body["stdout"], "");
    let read = send(guest(Method::GET, "/functions/fn2/executions")).await;
    assert_eq!(
        (read.status.as_u16(), read.error_type()),
        (401, "general_unauthorized_scope")
    );

    let too_long = server
        .post(
            "/functions/fn2/executions",
            json!({"data": "x".repeat(8193)}),
        )
        .await;
    assert_eq!(too_long.error_type(), "general_argument_invalid");
    let not_strict = server
        .post("/functions/fn2/executions", json!({"async": "true"}))
        .await;
    assert_eq!(not_strict.error_type(), "general_argument_invalid");
    let other = server.get("/functions/fn2/executions/unknown").await;
    assert_eq!(other.error_type(), "execution_not_found");
}

#[tokio::test]
async fn a_client_that_hangs_up_does_not_leave_the_execution_unfinished() {
    let server = TestServer::start().await;
    let source = "module.exports = async (req, res) => { await new Promise(r => setTimeout(r, 800)); res.send('late'); };";
    server.deployed_node("fn1", source).await;
    let impatient = server
        .request(Method::POST, "/functions/fn1/executions")
        .json(&json!({}))
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(impatient.is_err(), "the client should have given up");
    let mut last = serde_json::Value::Null;
    for _ in 0..40 {
        last = server.get("/functions/fn1/executions").await.body;
        if last["executions"][0]["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["executions"][0]["status"], "completed", "{last}");
    assert_eq!(last["executions"][0]["response"], "late");
    // The instance was not stopped mid-call: the next run is warm and answers.
    let next = server.post("/functions/fn1/executions", json!({})).await;
    assert_eq!(next.body["response"], "late");
}
