//! The warm pool's rules, observed through real Node instances: shared cold starts,
//! scale-out, stale-instance prevention, retirement, idle eviction and the global cap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use functiond_domain::ports::Invoker;

use crate::harness::{Fixture, concurrently, eventually, instance_running as running, node};

/// Records each start of the module in `STARTS_FILE`, then answers with an id of its
/// instance (a pid would not do: in a sandbox every instance is pid 2) after sleeping for the
/// payload's milliseconds.
const COUNTED: &str = r#"
const fs = require('node:fs');
const instance = Math.floor(Math.random() * 1e15);
process.title = `instance-${instance}`;
fs.appendFileSync(process.env.STARTS_FILE, `${instance}\n`);
module.exports = async (req, res) => {
  const ms = Number(req.payload || 0);
  setTimeout(() => res.json({ pid: instance, env: process.env.FLAVOUR || null }), ms);
};
"#;

async fn counted(fixture: &Fixture) -> (crate::harness::Deployment, std::path::PathBuf) {
    let mut deployment = fixture
        .deploy(node(), "index.js", &[("index.js", COUNTED)])
        .await;
    let starts = fixture
        .dir
        .path()
        .join("notes")
        .join(format!("starts-{}", deployment.id));
    // Every instance appends to it; in a sandbox each runs as a user of its own.
    std::fs::write(&starts, "").expect("starts file");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&starts, std::fs::Permissions::from_mode(0o666))
            .expect("open the starts file");
    }
    deployment
        .variables
        .insert("STARTS_FILE".into(), starts.display().to_string());
    (deployment, starts)
}

fn starts(file: &std::path::Path) -> usize {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .count()
}

fn pid(outcome: &functiond_domain::ports::InvokeOutcome) -> u64 {
    assert_eq!(outcome.status_code, 200, "{outcome:?}");
    let body: serde_json::Value = serde_json::from_str(&outcome.response).expect("JSON answer");
    body["pid"].as_u64().expect("a pid in the answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_first_calls_share_one_cold_start() {
    let fixture = Arc::new(Fixture::with(|s| {
        s.scale_out_delay = Duration::from_millis(500)
    }));
    let (deployment, file) = counted(&fixture).await;
    let requests = (0..6).map(|_| fixture.request(&deployment, "")).collect();
    let outcomes = concurrently(&fixture, requests).await;
    let pids: Vec<u64> = outcomes.iter().map(pid).collect();
    assert_eq!(starts(&file), 1, "one cold start for six callers");
    assert!(pids.iter().all(|p| *p == pids[0]), "{pids:?}");
    assert_eq!(fixture.executor.live_instances(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_calls_scale_out_one_instance_at_a_time_up_to_the_cap() {
    let fixture = Arc::new(Fixture::with(|s| {
        s.max_instances_per_deployment = 2;
        s.scale_out_delay = Duration::from_millis(100);
    }));
    let (deployment, file) = counted(&fixture).await;
    // Warm one instance first, so the test measures scale-out rather than the cold start.
    pid(&fixture.invoke(&deployment, "").await);
    let started = Instant::now();
    let requests = (0..4)
        .map(|_| fixture.request(&deployment, "800"))
        .collect();
    let outcomes = concurrently(&fixture, requests).await;
    let elapsed = started.elapsed();
    let mut pids: Vec<u64> = outcomes.iter().map(pid).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 2, "two instances served four slow calls");
    assert_eq!(starts(&file), 2);
    assert_eq!(fixture.executor.live_instances(), 2);
    // Four 800 ms calls on two instances take two rounds; on one they would take 3.2 s.
    assert!(elapsed < Duration::from_millis(3200), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_variables_never_reach_a_stale_instance() {
    let fixture = Fixture::new();
    let (mut deployment, file) = counted(&fixture).await;
    deployment
        .variables
        .insert("FLAVOUR".into(), "vanilla".into());
    let first = fixture.invoke(&deployment, "").await;

    // Per-execution variables (caller, JWT, data) do not make an instance stale.
    let mut request = fixture.request(&deployment, "other data");
    request
        .variables
        .insert("APPWRITE_FUNCTION_JWT".into(), "jwt".into());
    request
        .variables
        .insert("APPWRITE_FUNCTION_USER_ID".into(), "someone".into());
    let same = fixture.executor.invoke(request).await;
    assert_eq!(pid(&same), pid(&first));

    deployment
        .variables
        .insert("FLAVOUR".into(), "chocolate".into());
    let changed = fixture.invoke(&deployment, "").await;
    assert_ne!(pid(&changed), pid(&first));
    let body: serde_json::Value = serde_json::from_str(&changed.response).unwrap();
    assert_eq!(
        body["env"], "chocolate",
        "the new instance has the new environment"
    );
    assert_eq!(starts(&file), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn retiring_a_deployment_kills_its_instances() {
    let fixture = Fixture::new();
    let (deployment, _) = counted(&fixture).await;
    let (other, _) = counted(&fixture).await;
    let first = pid(&fixture.invoke(&deployment, "").await);
    let kept = pid(&fixture.invoke(&other, "").await);
    fixture
        .executor
        .retire(&fixture.project, &deployment.id)
        .await;
    assert!(!running(first));
    assert!(running(kept), "other deployments keep their instances");
    assert_eq!(fixture.executor.live_instances(), 1);
    let again = pid(&fixture.invoke(&deployment, "").await);
    assert_ne!(again, first);
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_instances_are_evicted_after_their_ttl() {
    let fixture = Fixture::with(|s| s.idle_ttl = Duration::from_millis(300));
    let (deployment, _) = counted(&fixture).await;
    let first = pid(&fixture.invoke(&deployment, "").await);
    assert_eq!(fixture.executor.live_instances(), 1);
    eventually("the idle instance to be evicted", || {
        fixture.executor.live_instances() == 0
    })
    .await;
    eventually("its process to die", || !running(first)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_pool_evicts_the_least_recently_used_idle_instance() {
    let fixture = Fixture::with(|s| s.max_instances = 2);
    let (a, _) = counted(&fixture).await;
    let (b, _) = counted(&fixture).await;
    let (c, _) = counted(&fixture).await;
    let pid_a = pid(&fixture.invoke(&a, "").await);
    let pid_b = pid(&fixture.invoke(&b, "").await);
    // Touch `a` again so that `b` is the least recently used.
    assert_eq!(pid(&fixture.invoke(&a, "").await), pid_a);
    let pid_c = pid(&fixture.invoke(&c, "").await);
    assert_eq!(fixture.executor.live_instances(), 2);
    eventually("b's instance to die", || !running(pid_b)).await;
    assert!(running(pid_a));
    assert!(running(pid_c));
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_kills_every_instance_and_refuses_new_calls() {
    let fixture = Fixture::new();
    let (deployment, _) = counted(&fixture).await;
    let first = pid(&fixture.invoke(&deployment, "").await);
    fixture.executor.shutdown().await;
    assert!(!running(first));
    assert_eq!(fixture.executor.live_instances(), 0);
    let refused = fixture.invoke(&deployment, "").await;
    assert_eq!(refused.status_code, 500);
    assert_eq!(refused.stderr, "The executor is shutting down.");
}
