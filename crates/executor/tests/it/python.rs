//! Python functions end to end: build, the v2 contract, print capture, tracebacks, warm reuse.

use std::collections::BTreeSet;
use std::time::Duration;

use functiond_domain::ports::Invoker;
use serde_json::json;

use crate::harness::{Fixture, python, registry_env};

const ECHO: &str = r#"
import os
import sys

calls = 0

def main(req, res):
    global calls
    calls += 1
    print("printed", {"a": 1})
    print("to stderr", file=sys.stderr)
    if req.payload == "send":
        return res.send("plain text", 201)
    if req.payload == "silent":
        return None
    res.json({
        "payload": req.payload,
        "headers": req.headers,
        "id": req.variables["APPWRITE_FUNCTION_ID"],
        "custom": req.variables.get("CUSTOM"),
        "calls": calls,
        "pid": os.getpid(),
        "text": "êä",
    })
"#;

#[tokio::test(flavor = "multi_thread")]
async fn res_json_and_res_send_answer_with_their_output() {
    let fixture = Fixture::new();
    let mut deployment = fixture
        .deploy(python(), "main.py", &[("main.py", ECHO)])
        .await;
    deployment.variables.insert("CUSTOM".into(), "value".into());

    let mut request = fixture.request(&deployment, "data");
    request.headers.insert("x-test".into(), "yes".into());
    let outcome = fixture.executor.invoke(request).await;
    assert_eq!(outcome.status_code, 200, "{outcome:?}");
    let body: serde_json::Value = serde_json::from_str(&outcome.response).unwrap();
    assert_eq!(body["payload"], "data");
    assert_eq!(body["headers"], json!({"x-test": "yes"}));
    assert_eq!(body["id"], fixture.function.as_str());
    assert_eq!(body["custom"], "value");
    assert_eq!(body["calls"], 1);
    assert!(
        outcome.response.contains("\"text\":\"êä\""),
        "compact, UTF-8 kept"
    );
    assert_eq!(outcome.stdout, "printed {'a': 1}");
    assert_eq!(outcome.stderr, "to stderr");
    assert!(outcome.duration < Duration::from_secs(5));

    let sent = fixture.invoke(&deployment, "send").await;
    assert_eq!(sent.status_code, 201);
    assert_eq!(sent.response, "plain text");

    // A handler that returns without answering gets an empty 200.
    let silent = fixture.invoke(&deployment, "silent").await;
    assert_eq!(silent.status_code, 200);
    assert_eq!(silent.response, "");
    assert_eq!(silent.stdout, "printed {'a': 1}");

    let again = fixture.json(&deployment, "").await;
    assert_eq!(again["calls"], 4, "the warm instance kept its module state");
    assert_eq!(again["pid"], body["pid"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exception_is_a_500_with_its_traceback() {
    let code = r#"
def helper():
    return 1 / 0

def main(req, res):
    print("before")
    helper()
"#;
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(python(), "main.py", &[("main.py", code)])
        .await;
    let outcome = fixture.invoke(&deployment, "").await;
    assert_eq!(outcome.status_code, 500);
    assert_eq!(outcome.response, "");
    assert_eq!(outcome.stdout, "before");
    assert!(
        outcome
            .stderr
            .starts_with("Traceback (most recent call last):"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("in helper"), "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .ends_with("ZeroDivisionError: division by zero"),
        "{}",
        outcome.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn modules_beside_the_entrypoint_import_and_no_server_environment_leaks() {
    let code = r#"
import os
from helpers import shout

def main(req, res):
    res.json({"env": dict(os.environ), "shout": shout("hi")})
"#;
    let fixture = Fixture::new();
    let mut deployment = fixture
        .deploy(
            python(),
            "src/main.py",
            &[
                ("src/main.py", code),
                ("src/helpers.py", "def shout(s):\n    return s.upper()\n"),
            ],
        )
        .await;
    deployment.variables.insert("MINE".into(), "1".into());
    let body = fixture.json(&deployment, "").await;
    assert_eq!(body["shout"], "HI");
    let names: BTreeSet<&str> = body["env"]
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
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entrypoint_without_main_fails_to_start() {
    let fixture = Fixture::new();
    let deployment = fixture
        .deploy(python(), "main.py", &[("main.py", "x = 1\n")])
        .await;
    let outcome = fixture.invoke(&deployment, "").await;
    assert_eq!(outcome.status_code, 500);
    assert_eq!(
        outcome.stderr,
        "AttributeError: The entrypoint \"main.py\" must define main(req, res)."
    );
    let broken = fixture
        .deploy(python(), "main.py", &[("main.py", "def main(req, res)\n")])
        .await;
    let outcome = fixture.invoke(&broken, "").await;
    assert_eq!(outcome.status_code, 500);
    assert!(
        outcome.stderr.contains("main.py\", line 1"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.ends_with("SyntaxError: expected ':'"),
        "{}",
        outcome.stderr
    );
}

/// Reaches PyPI (or the host's pip mirror): run with `cargo test -- --ignored`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "installs a package from the network"]
async fn requirements_are_installed_where_the_function_finds_them() {
    let code = r#"
import six

def main(req, res):
    res.send(six.__version__)
"#;
    let fixture = Fixture::with(|s| s.build_env = registry_env());
    let deployment = fixture
        .deploy(
            python(),
            "main.py",
            &[("main.py", code), ("requirements.txt", "six==1.16.0\n")],
        )
        .await;
    assert!(
        deployment
            .code_dir
            .join(".functiond/python/six.py")
            .is_file()
    );
    let outcome = fixture.invoke(&deployment, "").await;
    assert_eq!(outcome.response, "1.16.0", "{outcome:?}");
}
