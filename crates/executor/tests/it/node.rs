//! Node.js functions end to end: build, the v2 contract, logs, errors, timeouts, warm reuse.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use functiond_domain::ports::Invoker;
use serde_json::json;

use crate::harness::{Fixture, concurrently, eventually, node};

const ECHO: &str = r#"
let calls = 0;
module.exports = async (req, res) => {
  calls += 1;
  console.log('log', { a: 1 });
  console.info('info');
  console.error('error');
  console.warn('warn');
  if (req.payload === 'send') return res.send('plain text', 201);
  res.json({
    payload: req.payload,
    headers: req.headers,
    id: req.variables.APPWRITE_FUNCTION_ID,
    custom: req.variables.CUSTOM,
    trigger: req.variables.APPWRITE_FUNCTION_TRIGGER,
    calls,
    pid: process.pid,
    text: 'êä',
  });
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn res_json_and_res_send_answer_with_their_logs() {
    let fixture = Fixture::new();
    let mut deployment = fixture
        .deploy(node(), "index.js", &[("index.js", ECHO)])
        .await;
    deployment.variables.insert("CUSTOM".into(), "value".into());

    let mut request = fixture.request(&deployment, r#"{"x":1}"#);
    request.headers.insert("x-test".into(), "yes".into());
    let outcome = fixture.executor.invoke(request).await;
    assert_eq!(outcome.status_code, 200, "{outcome:?}");
    let body: serde_json::Value = serde_json::from_str(&outcome.response).unwrap();
    assert_eq!(body["payload"], r#"{"x":1}"#);
    assert_eq!(body["headers"], json!({"x-test": "yes"}));
    assert_eq!(body["id"], fixture.function.as_str());
    assert_eq!(body["custom"], "value");
    assert_eq!(body["trigger"], "http");
    assert_eq!(body["text"], "êä");
    assert!(outcome.response.contains("êä"), "UTF-8 is kept as is");
    assert_eq!(outcome.stdout, "log { a: 1 }\ninfo");
    assert_eq!(outcome.stderr, "error\nwarn");
    assert!(outcome.duration < Duration::from_secs(5));

    let sent = fixture.invoke(&deployment, "send").await;
    assert_eq!(sent.status_code, 201);
    assert_eq!(sent.response, "plain text");
    assert_eq!(sent.stdout, "log { a: 1 }\ninfo", "logs are per call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warm_instance_is_reused_and_keeps_its_module_state() {
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(node(), "index.js", &[("index.js", ECHO)])
        .await;
    let first = fixture.json(&deployment, "").await;
    let second = fixture.json(&deployment, "").await;
    let third = fixture.json(&deployment, "").await;
    assert_eq!(first["calls"], 1);
    assert_eq!(second["calls"], 2);
    assert_eq!(third["calls"], 3);
    assert_eq!(first["pid"], third["pid"]);
    assert_eq!(fixture.executor.live_instances(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thrown_error_is_a_500_with_its_stack() {
    let code = r#"
module.exports = async (req, res) => {
  console.log('before');
  console.error('about to fail');
  throw new Error('boom');
};
"#;
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(node(), "index.js", &[("index.js", code)])
        .await;
    let outcome = fixture.invoke(&deployment, "").await;
    assert_eq!(outcome.status_code, 500);
    assert_eq!(outcome.response, "");
    assert_eq!(outcome.stdout, "before");
    assert!(
        outcome
            .stderr
            .starts_with("about to fail\nError: boom\n    at "),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("index.js"), "{}", outcome.stderr);
    // The instance survives a thrown error.
    assert_eq!(fixture.invoke(&deployment, "").await.status_code, 500);
    assert_eq!(fixture.executor.live_instances(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_that_never_answers_times_out_and_its_process_tree_dies() {
    // The child sleeps for a marked time, so the test can find it among the host's
    // processes (inside a sandbox, pids mean nothing outside).
    let code = r#"
const { spawn } = require('node:child_process');
const instance = Math.floor(Math.random() * 1e15);
module.exports = async (req, res) => {
  if (req.payload === 'quick') return res.json({ instance });
  spawn('sleep', ['1000.375'], { stdio: 'ignore' });
  setTimeout(() => console.log(instance), 0);
  setInterval(() => {}, 1000);
};
"#;
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(node(), "index.js", &[("index.js", code)])
        .await;
    let first = fixture.json(&deployment, "quick").await;

    let mut request = fixture.request(&deployment, "hang");
    request.timeout = Duration::from_secs(1);
    let outcome = fixture.executor.invoke(request).await;
    assert_eq!(outcome.status_code, 500);
    assert_eq!(outcome.stderr, functiond_executor::TIMEOUT_STDERR);
    assert!(outcome.stderr.contains("timed out"));
    assert_eq!(outcome.response, "");
    assert!(outcome.duration >= Duration::from_secs(1));
    assert!(outcome.duration < Duration::from_secs(3), "{outcome:?}");

    eventually("the handler's child to die", || marked_sleepers() == 0).await;
    assert_eq!(fixture.executor.live_instances(), 0);

    let next = fixture.json(&deployment, "quick").await;
    assert_ne!(next["instance"], first["instance"], "a fresh instance");
}

/// Host processes running the `sleep 1000.375` of the test above.
fn marked_sleepers() -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|line| line.ends_with(b"sleep\x001000.375\x00"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_instance_sees_no_environment_of_the_server() {
    let code = r#"
module.exports = async (req, res) => res.json(process.env);
"#;
    let fixture = Fixture::new();
    let mut deployment = fixture
        .deploy(node(), "index.js", &[("index.js", code)])
        .await;
    deployment.variables.insert("MINE".into(), "1".into());
    let env = fixture.json(&deployment, "").await;
    let names: BTreeSet<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "HOME",
        "LANG",
        "PATH",
        "MINE",
        "APPWRITE_FUNCTION_ID",
        "APPWRITE_FUNCTION_NAME",
        "APPWRITE_FUNCTION_DEPLOYMENT",
        "APPWRITE_FUNCTION_PROJECT_ID",
        "APPWRITE_FUNCTION_RUNTIME_NAME",
        "APPWRITE_FUNCTION_RUNTIME_VERSION",
        // The per-call set: in the environment for the length of the call only.
        "APPWRITE_FUNCTION_TRIGGER",
        "APPWRITE_FUNCTION_EVENT",
        "APPWRITE_FUNCTION_EVENT_DATA",
        "APPWRITE_FUNCTION_DATA",
        "APPWRITE_FUNCTION_USER_ID",
        "APPWRITE_FUNCTION_JWT",
    ]
    .into();
    assert_eq!(names, expected);
    assert_eq!(env["PATH"], "/usr/local/bin:/usr/bin:/bin");
    assert_eq!(env["HOME"], "/tmp");
    assert_eq!(env["LANG"], "C.UTF-8");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_is_a_500_with_what_it_printed_and_the_next_call_recovers() {
    let code = r#"
module.exports = async (req, res) => {
  if (req.payload === 'crash') {
    process.stderr.write('going down\n');
    process.exit(3);
  }
  res.send(String(instance));
};
const instance = Math.floor(Math.random() * 1e15);
"#;
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(node(), "index.js", &[("index.js", code)])
        .await;
    let before = fixture.invoke(&deployment, "").await;
    let outcome = fixture.invoke(&deployment, "crash").await;
    assert_eq!(outcome.status_code, 500);
    assert_eq!(
        outcome.stderr,
        "going down\nThe function's runtime exited unexpectedly (exit code 3)."
    );
    let after = fixture.invoke(&deployment, "").await;
    assert_eq!(after.status_code, 200);
    assert_ne!(after.response, before.response, "a new instance");
}

#[tokio::test(flavor = "multi_thread")]
async fn code_that_cannot_load_fails_every_waiting_call_with_its_error() {
    let fixture = Arc::new(Fixture::new());
    let deployment = fixture
        .deploy(node(), "index.js", &[("index.js", "module.exports = (;")])
        .await;
    let requests = (0..3).map(|_| fixture.request(&deployment, "")).collect();
    for outcome in concurrently(&fixture, requests).await {
        assert_eq!(outcome.status_code, 500);
        assert!(outcome.stderr.contains("SyntaxError"), "{}", outcome.stderr);
        assert!(outcome.stderr.contains("index.js"), "{}", outcome.stderr);
        assert_eq!(outcome.duration, Duration::ZERO);
    }
    let not_a_function = fixture
        .deploy(node(), "index.js", &[("index.js", "module.exports = 42;")])
        .await;
    let outcome = fixture.invoke(&not_a_function, "").await;
    assert_eq!(outcome.status_code, 500);
    assert!(
        outcome.stderr.contains("must export a function"),
        "{}",
        outcome.stderr
    );
    assert_eq!(fixture.executor.live_instances(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_es_module_with_a_package_json_is_installed_and_runs() {
    let fixture = Fixture::new();
    let (outcome, deployment) = fixture
        .build(
            node(),
            "src/main.js",
            &[
                (
                    "package.json",
                    r#"{"name":"esm-fn","version":"1.0.0","type":"module","dependencies":{}}"#,
                ),
                (
                    "src/main.js",
                    "export default async (req, res) => res.json({ esm: true, status: 'ok' }, 202);",
                ),
            ],
        )
        .await;
    assert!(outcome.success, "{outcome:?}");
    assert!(!outcome.stdout.is_empty());
    let result = fixture.invoke(&deployment, "").await;
    assert_eq!(result.status_code, 202, "{result:?}");
    assert_eq!(result.response, r#"{"esm":true,"status":"ok"}"#);
}

/// Reaches the npm registry: run with `cargo test -- --ignored`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "installs a package from the network"]
async fn dependencies_are_installed_where_the_function_finds_them() {
    let code = r#"
const isOdd = require('is-odd');
module.exports = async (req, res) => res.json({ odd: isOdd(3) });
"#;
    let fixture = Fixture::with(|s| s.build_env = crate::harness::registry_env());
    let deployment = fixture
        .deploy(
            node(),
            "index.js",
            &[
                ("index.js", code),
                (
                    "package.json",
                    r#"{"name":"fn","version":"1.0.0","dependencies":{"is-odd":"3.0.1"}}"#,
                ),
            ],
        )
        .await;
    assert!(deployment.code_dir.join("node_modules/is-odd").is_dir());
    let body = fixture.json(&deployment, "").await;
    assert_eq!(body["odd"], true);
}
