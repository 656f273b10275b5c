//! One execution from request to outcome: pick the pool key, get an instance (warm or cold),
//! make the call under the function's timeout, and turn every way it can end into an
//! [`InvokeOutcome`]. A timed-out or broken instance is killed with its process group before
//! the outcome is returned; a healthy one goes back to the pool.

use std::path::Path;
use std::time::{Duration, Instant};

use functiond_domain::ports::{InvokeOutcome, InvokeRequest};

use crate::instance::CallError;
use crate::pool::{Key, Pool};
use crate::protocol::{self, KEEP, Reply, Request};
use crate::shims::{self, Language, Launch, PER_EXECUTION, Shims};

/// The stderr of an execution that ran out of time: Appwrite 1.0's exact words, which its
/// end-to-end suite asserts (the seconds are logged instead).
pub const TIMEOUT_STDERR: &str =
    "An internal curl error has occurred within the executor! Error Msg: Operation timed out";

pub(crate) async fn invoke(pool: &Pool, shims: &Shims, request: InvokeRequest) -> InvokeOutcome {
    let Some(language) = Language::of(&request.runtime) else {
        return failed(
            format!(
                "The runtime \"{}\" cannot run functions on this server.",
                request.runtime.id
            ),
            Duration::ZERO,
        );
    };
    let launch = Launch {
        language,
        runtime: &request.runtime,
        code_dir: &request.code_dir,
        entrypoint: &request.entrypoint,
        variables: &request.variables,
    };
    let key = Key {
        project: request.project.to_string(),
        deployment: request.deployment.to_string(),
        environment: shims::environment(&request.variables, PER_EXECUTION),
    };
    let spec = |socket: &Path| shims.launch(&launch, socket);
    let mut lease = match pool.acquire(&key, &spec).await {
        Ok(lease) => lease,
        Err(error) => return failed(error.to_string(), Duration::ZERO),
    };
    let frame = Request {
        variables: &request.variables,
        payload: &request.payload,
        headers: &request.headers,
    };
    let instance = lease.instance();
    tracing::debug!(deployment = %request.deployment, pid = instance.pid(), warm = instance.served() > 0, "invoking");
    let started = Instant::now();
    let result = instance.call(&frame, request.timeout).await;
    let duration = started.elapsed();
    match result {
        Ok(reply) => {
            lease.release();
            answered(reply, duration)
        }
        Err(CallError::TimedOut) => {
            let instance = lease.take();
            tracing::info!(
                deployment = %request.deployment,
                pid = instance.pid(),
                timeout = request.timeout.as_secs(),
                "execution timed out; killing its instance"
            );
            instance.kill().await;
            failed(TIMEOUT_STDERR.to_owned(), duration)
        }
        Err(CallError::Broken { error, mark }) => {
            let (exit, stderr) = lease.take().post_mortem(mark).await;
            let reason = match exit {
                Some(exit) => format!("The function's runtime exited unexpectedly ({exit})."),
                None => format!("The function's runtime stopped answering: {error}."),
            };
            let stderr = if stderr.trim().is_empty() {
                reason
            } else {
                format!("{}\n{reason}", stderr.trim_end())
            };
            failed(stderr, duration)
        }
    }
}

/// The outcome of a call the shim answered.
fn answered(reply: Reply, duration: Duration) -> InvokeOutcome {
    let status = reply.status();
    let mut stderr = reply.stderr;
    let status_code = status.unwrap_or_else(|| {
        if !stderr.is_empty() {
            stderr.push('\n');
        }
        stderr.push_str(&format!(
            "The function answered with an invalid status code: {}.",
            reply.status_code
        ));
        500
    });
    InvokeOutcome {
        status_code,
        response: protocol::truncate(reply.response, KEEP),
        stdout: protocol::truncate(reply.stdout, KEEP),
        stderr: protocol::truncate(stderr, KEEP),
        duration,
    }
}

fn failed(stderr: String, duration: Duration) -> InvokeOutcome {
    InvokeOutcome {
        status_code: 500,
        response: String::new(),
        stdout: String::new(),
        stderr: protocol::truncate(stderr, KEEP),
        duration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: serde_json::Value, stderr: &str) -> Reply {
        Reply {
            status_code: status,
            response: "r".repeat(KEEP + 10),
            stdout: "out".into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn an_answer_keeps_its_status_and_is_cut_to_size() {
        let outcome = answered(reply(serde_json::json!(404), ""), Duration::from_millis(3));
        assert_eq!(outcome.status_code, 404);
        assert_eq!(outcome.response.len(), KEEP);
        assert_eq!(outcome.stdout, "out");
        assert_eq!(outcome.duration, Duration::from_millis(3));
        assert!(!outcome.failed());
    }

    #[test]
    fn an_invalid_status_is_a_500_that_says_why() {
        let outcome = answered(reply(serde_json::json!("teapot"), "oops"), Duration::ZERO);
        assert_eq!(outcome.status_code, 500);
        assert_eq!(
            outcome.stderr,
            "oops\nThe function answered with an invalid status code: \"teapot\"."
        );
    }
}
