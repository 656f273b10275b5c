//! CRON schedules as delayed jobs. Setting a schedule queues a job for its next slot; firing
//! it starts a run (trigger `schedule`), moves `scheduleNext`/`schedulePrevious` on, and queues
//! the following slot. Every slot's job carries a dedupe key (function and slot time), so a
//! slot is queued once however many times it is computed; and claiming a job is exclusive, so
//! it fires once, also with several servers on one database. A slot that came due while the
//! server was down fires once when it is back, and the next slot is counted from then: missed
//! slots are not replayed.

use functiond_types::function::Function;
use functiond_types::id::ProjectId;
use functiond_types::job::NewJob;
use serde::{Deserialize, Serialize};

pub(crate) const KIND: &str = "schedule";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SlotPayload {
    pub project: String,
    pub function: String,
    /// The slot's time, in milliseconds.
    pub slot: i64,
    /// The function's `schedule_updated_at` when the slot was queued: a schedule changed
    /// since then makes this slot stale.
    pub schedule_updated_at: i64,
}

/// The job for the function's next slot, if it has a schedule.
pub(crate) fn next_slot(project: &ProjectId, function: &Function) -> Option<NewJob> {
    let slot = function.schedule_next?;
    let payload = SlotPayload {
        project: project.to_string(),
        function: function.id.to_string(),
        slot: slot.millis(),
        schedule_updated_at: function.schedule_updated_at.millis(),
    };
    Some(NewJob {
        kind: KIND.to_owned(),
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        run_at: slot,
        dedupe_key: Some(format!(
            "schedule:{project}:{}:{}:{}",
            function.id,
            function.schedule_updated_at.millis(),
            slot.millis()
        )),
    })
}
