//! CRON schedules, driven with the injected clock.

use functiond_domain::functions::{FunctionInput, ListInput};
use functiond_types::execution::Trigger;

use crate::harness::{Domain, domain};

async fn scheduled_runs(d: &Domain, function: &str) -> Vec<functiond_types::execution::Execution> {
    let id = functiond_types::id::FunctionId::parse(function).expect("test step");
    let page = d
        .services
        .executions
        .list(&d.caller, &id, ListInput::default())
        .await
        .expect("test step");
    page.items
        .into_iter()
        .filter(|e| e.trigger == Trigger::Schedule)
        .collect()
}

fn every_minute() -> FunctionInput {
    FunctionInput {
        schedule: Some("* * * * *".into()),
        ..FunctionInput::default()
    }
}

#[tokio::test]
async fn a_slot_fires_once_and_moves_the_schedule_on() {
    let d = domain().await;
    let id = d.deployed("cron", every_minute()).await;
    let created = d
        .services
        .functions
        .get(&d.caller, &id)
        .await
        .expect("test step")
        .function;
    assert_eq!(
        created.schedule_next,
        Some(d.at(30)),
        "the next whole minute"
    );
    assert_eq!(created.schedule_previous, None);

    // Nothing is due before the slot.
    d.clock.set(d.at(29));
    d.services.worker.run_due().await.expect("test step");
    assert!(scheduled_runs(&d, "cron").await.is_empty());

    d.clock.set(d.at(31));
    d.services.worker.run_due().await.expect("test step");
    let runs = scheduled_runs(&d, "cron").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "completed");
    let moved = d
        .services
        .functions
        .get(&d.caller, &id)
        .await
        .expect("test step")
        .function;
    assert_eq!(moved.schedule_previous, Some(d.at(31)));
    assert_eq!(moved.schedule_next, Some(d.at(90)));
    let variables = d
        .invoker
        .runs
        .lock()
        .expect("test step")
        .last()
        .cloned()
        .expect("test step");
    assert_eq!(variables["APPWRITE_FUNCTION_TRIGGER"], "schedule");
    assert_eq!(variables["APPWRITE_FUNCTION_DATA"], "");

    // Running the queue again fires nothing new.
    d.services.worker.run_due().await.expect("test step");
    assert_eq!(scheduled_runs(&d, "cron").await.len(), 1);
}

#[tokio::test]
async fn slots_missed_while_down_fire_once() {
    let d = domain().await;
    d.deployed("cron", every_minute()).await;
    // Ten minutes pass with nobody working the queue.
    d.clock.set(d.at(30 + 600 + 5));
    d.services.worker.run_due().await.expect("test step");
    assert_eq!(scheduled_runs(&d, "cron").await.len(), 1);
    let id = functiond_types::id::FunctionId::parse("cron").expect("test step");
    let moved = d
        .services
        .functions
        .get(&d.caller, &id)
        .await
        .expect("test step")
        .function;
    assert_eq!(moved.schedule_next, Some(d.at(30 + 660)));
}

#[tokio::test]
async fn two_servers_on_one_database_fire_a_slot_once() {
    let d = domain().await;
    d.deployed("cron", every_minute()).await;
    let other = d.second_server();
    for minute in 0..3 {
        d.clock.set(d.at(31 + 60 * minute));
        let (a, b) = tokio::join!(d.services.worker.run_due(), other.worker.run_due());
        a.expect("test step");
        b.expect("test step");
    }
    assert_eq!(scheduled_runs(&d, "cron").await.len(), 3);
}

#[tokio::test]
async fn a_changed_schedule_drops_the_old_slot_and_disabled_functions_still_run() {
    let d = domain().await;
    let id = d.deployed("cron", every_minute()).await;
    // Every five minutes from now on, and disabled: the job for the old next minute is stale.
    let update = FunctionInput {
        name: Some("cron".into()),
        schedule: Some("*/5 * * * *".into()),
        enabled: Some(false),
        ..FunctionInput::default()
    };
    let updated = d
        .services
        .functions
        .update(&d.caller, &id, update)
        .await
        .expect("test step")
        .function;
    let next = updated.schedule_next.expect("test step");
    assert_eq!(next.millis() % 300_000, 0);
    d.clock.set(d.at(31));
    d.services.worker.run_due().await.expect("test step");
    // (Unless the old slot is also a five-minute slot, when firing it is right.)
    if next != d.at(30) {
        assert_eq!(
            scheduled_runs_raw(&d).await,
            0,
            "the stale one-minute slot fired"
        );
    }
    d.clock.set(functiond_types::Timestamp::from_millis(
        next.millis() + 1000,
    ));
    d.services.worker.run_due().await.expect("test step");
    assert_eq!(scheduled_runs_raw(&d).await, 1);
}

/// Scheduled runs of `cron`, counted straight from the store (the function may be disabled).
async fn scheduled_runs_raw(d: &Domain) -> usize {
    let id = functiond_types::id::FunctionId::parse("cron").expect("test step");
    let query = functiond_types::query::ListQuery::default();
    let page = d
        .store
        .list_executions(&d.caller.project, &id, None, &query)
        .await
        .expect("test step");
    page.items
        .iter()
        .filter(|e| e.trigger == Trigger::Schedule)
        .count()
}
