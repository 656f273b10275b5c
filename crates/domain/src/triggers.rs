//! The jobs that start runs without an HTTP call: an event's delivery to the functions that
//! listen for it, and a schedule's slot. Both derive each run's ID from what started it, so a
//! job handled twice (after a crash) starts each run once.

use std::sync::Arc;

use functiond_store::Store;
use functiond_types::execution::Trigger;
use functiond_types::id::{ExecutionId, FunctionId, ProjectId};
use functiond_types::schedule::Schedule;
use functiond_types::{Timestamp, job::NewJob};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::events::DeliveryPayload;
use crate::executions::{Cause, Executions};
use crate::ports::Clock;
use crate::schedules::{self, SlotPayload};

#[derive(Debug, Clone)]
pub(crate) struct Triggers {
    store: Arc<dyn Store>,
    executions: Executions,
    clock: Arc<dyn Clock>,
}

impl Triggers {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        executions: Executions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            executions,
            clock,
        }
    }

    /// Starts one run per function listening for one of the event's names.
    pub(crate) async fn deliver(&self, payload: DeliveryPayload) -> Result<()> {
        let project = parse_project(&payload.project)?;
        let cause = Cause {
            // The most specific name: the one with every ID.
            event: payload.names.first().cloned().unwrap_or_default(),
            event_data: payload.data,
        };
        for function in self.store.subscribers(&project, &payload.names).await? {
            let Some(found) = self.store.get_function(&project, &function).await? else {
                continue;
            };
            let id = derived_id(&["event", &payload.id, function.as_str()]);
            self.executions
                .start(&project, found, id, Trigger::Event, &cause)
                .await?;
        }
        Ok(())
    }

    /// Fires a schedule's slot: one run, and the next slot queued.
    pub(crate) async fn fire(&self, payload: SlotPayload) -> Result<()> {
        let project = parse_project(&payload.project)?;
        let id = FunctionId::parse(&payload.function).map_err(|_| invalid("function"))?;
        let Some(found) = self.store.get_function(&project, &id).await? else {
            return Ok(());
        };
        let function = &found.function;
        // Only the function's current next slot fires: a schedule changed or removed since
        // this slot was queued has queued its own, and a slot fired already has moved on.
        let slot = Timestamp::from_millis(payload.slot);
        if function.schedule.trim().is_empty()
            || function.schedule_updated_at.millis() != payload.schedule_updated_at
            || function.schedule_next != Some(slot)
        {
            return Ok(());
        }
        let now = self.clock.now();
        let run = derived_id(&[
            "schedule",
            &payload.project,
            &payload.function,
            &payload.slot.to_string(),
        ]);
        self.executions
            .start(
                &project,
                found.clone(),
                run,
                Trigger::Schedule,
                &Cause::default(),
            )
            .await?;

        let mut moved = found.function.clone();
        moved.schedule_previous = Some(now);
        moved.schedule_next = Schedule::parse(&moved.schedule)
            .ok()
            .and_then(|schedule| schedule.next_after(now.max(slot)));
        let queued: Vec<NewJob> = schedules::next_slot(&project, &moved).into_iter().collect();
        self.store
            .update_function(&project, &moved, &queued)
            .await?;
        Ok(())
    }
}

fn parse_project(text: &str) -> Result<ProjectId> {
    ProjectId::parse(text).map_err(|_| invalid("project"))
}

fn invalid(what: &str) -> Error {
    Error::JobPayload {
        message: format!("invalid {what} in a trigger job"),
    }
}

/// A 20-character execution ID derived from what started the run.
fn derived_id(seed: &[&str]) -> ExecutionId {
    let digest = Sha256::digest(seed.join("\u{1f}").as_bytes());
    let text: String = hex::encode(digest).chars().take(20).collect();
    ExecutionId::parse(&text).unwrap_or_else(|_| ExecutionId::unique())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_valid_and_distinct() {
        let a = derived_id(&["schedule", "p", "f", "60000"]);
        assert_eq!(a, derived_id(&["schedule", "p", "f", "60000"]));
        assert_ne!(a, derived_id(&["schedule", "p", "f", "120000"]));
        assert_eq!(a.as_str().len(), 20);
    }
}
