//! Not a test of behaviour but a measurement, run on demand:
//! `cargo test -p functiond-executor --test it latency -- --ignored --nocapture`.
//! Prints the median cold start (spawn to first answer, as a caller sees it) and the median
//! warm call, for a hello-world function in each language.

use std::time::{Duration, Instant};

use functiond_domain::ports::Invoker;
use functiond_types::runtime::Runtime;

use crate::harness::{Fixture, node, python};

const ROUNDS: usize = 20;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

async fn measure(runtime: Runtime, entrypoint: &str, code: &str) {
    let fixture = Fixture::new();
    let mut deployment = fixture
        .deploy(runtime.clone(), entrypoint, &[(entrypoint, code)])
        .await;
    let mut cold = Vec::new();
    for round in 0..ROUNDS {
        // A new variable value is a new pool key: every round is a cold start.
        deployment
            .variables
            .insert("ROUND".into(), round.to_string());
        let started = Instant::now();
        let outcome = fixture.invoke(&deployment, "").await;
        cold.push(started.elapsed());
        assert_eq!(outcome.response, "hello");
        fixture
            .executor
            .retire(&fixture.project, &deployment.id)
            .await;
    }
    let mut warm = Vec::new();
    let mut in_call = Vec::new();
    fixture.invoke(&deployment, "").await;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let outcome = fixture.invoke(&deployment, "").await;
        warm.push(started.elapsed());
        in_call.push(outcome.duration);
    }
    println!(
        "{}: cold start median {:.1} ms; warm call median {:.2} ms (in-call duration {:.2} ms); {ROUNDS} rounds",
        runtime.id,
        median(cold).as_secs_f64() * 1e3,
        median(warm).as_secs_f64() * 1e3,
        median(in_call).as_secs_f64() * 1e3,
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check"]
async fn latency() {
    measure(
        node(),
        "index.js",
        "module.exports = async (req, res) => res.send('hello');",
    )
    .await;
    measure(
        python(),
        "main.py",
        "def main(req, res):\n    res.send('hello')\n",
    )
    .await;
}
