//! Events: announcements, deliveries to subscribers, and the rule that stops loops.

use functiond_domain::executions::ExecutionInput;
use functiond_domain::functions::{FunctionInput, ListInput};
use functiond_types::execution::Trigger;
use functiond_types::id::FunctionId;

use crate::harness::{Domain, domain};

fn listening(events: &[&str]) -> FunctionInput {
    FunctionInput {
        events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
        ..FunctionInput::default()
    }
}

async fn runs_of(d: &Domain, function: &str) -> Vec<functiond_types::execution::Execution> {
    let id = FunctionId::parse(function).expect("test step");
    d.services
        .executions
        .list(&d.caller, &id, ListInput::default())
        .await
        .expect("test step")
        .items
}

#[tokio::test]
async fn a_function_hears_another_function_being_created() {
    let d = domain().await;
    d.deployed("listener", listening(&["functions.*.create"]))
        .await;
    d.services.worker.run_due().await.expect("test step");
    let before = runs_of(&d, "listener").await.len();

    let input = FunctionInput {
        function_id: Some("newcomer".into()),
        name: Some("Newcomer".into()),
        runtime: Some("node-20.0".into()),
        ..FunctionInput::default()
    };
    d.services
        .functions
        .create(&d.caller, input)
        .await
        .expect("test step");
    d.services.worker.run_due().await.expect("test step");

    let runs = runs_of(&d, "listener").await;
    assert_eq!(runs.len(), before + 1);
    let run = runs.last().expect("test step");
    assert_eq!(run.trigger, Trigger::Event);
    assert_eq!(run.status.as_str(), "completed");
    let variables: serde_json::Value = serde_json::from_str(&run.response).expect("test step");
    assert_eq!(variables["APPWRITE_FUNCTION_TRIGGER"], "event");
    assert_eq!(
        variables["APPWRITE_FUNCTION_EVENT"],
        "functions.newcomer.create"
    );
    let data: serde_json::Value = serde_json::from_str(
        variables["APPWRITE_FUNCTION_EVENT_DATA"]
            .as_str()
            .expect("test step"),
    )
    .expect("test step");
    assert_eq!(data["$id"], "newcomer");
    assert_eq!(data["name"], "Newcomer");
}

#[tokio::test]
async fn nobody_listening_queues_nothing() {
    let d = domain().await;
    d.deployed("quiet", FunctionInput::default()).await;
    d.services.worker.run_due().await.expect("test step");
    let jobs_before = d.store.count_jobs().await.expect("test step");
    let id = FunctionId::parse("quiet").expect("test step");
    d.services
        .executions
        .create(&d.caller, &id, ExecutionInput::default())
        .await
        .expect("test step");
    assert_eq!(d.store.count_jobs().await.expect("test step"), jobs_before);
}

#[tokio::test]
async fn executions_that_listen_to_executions_do_not_loop() {
    let d = domain().await;
    // Listens to every execution's end, its own included.
    d.deployed("echo", listening(&["functions.*.executions.*.update"]))
        .await;
    let id = FunctionId::parse("echo").expect("test step");
    let queued = ExecutionInput {
        data: Some("first".into()),
        r#async: Some(true),
    };
    d.services
        .executions
        .create(&d.caller, &id, queued)
        .await
        .expect("test step");
    for _ in 0..5 {
        d.services.worker.run_due().await.expect("test step");
    }
    let runs = runs_of(&d, "echo").await;
    // The queued run, then one run for its update event, and nothing for that run's own end.
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        runs.iter().filter(|r| r.trigger == Trigger::Event).count(),
        1
    );
    assert!(runs.iter().all(|r| r.status.as_str() == "completed"));
}

#[tokio::test]
async fn deployments_are_announced() {
    let d = domain().await;
    d.deployed("watcher", listening(&["functions.*.deployments.*.update"]))
        .await;
    d.services.worker.run_due().await.expect("test step");
    let before = runs_of(&d, "watcher").await.len();
    // Another function's deployment builds: its build start is an update.
    d.deployed("other", FunctionInput::default()).await;
    d.services.worker.run_due().await.expect("test step");
    let runs = runs_of(&d, "watcher").await;
    assert!(
        runs.len() > before,
        "no run for the other deployment's update"
    );
    let last: serde_json::Value =
        serde_json::from_str(&runs.last().expect("test step").response).expect("test step");
    assert!(
        last["APPWRITE_FUNCTION_EVENT"]
            .as_str()
            .expect("test step")
            .starts_with("functions.other.deployments."),
        "{last}"
    );
}
