//! Background work as data: a job row names a kind and carries a JSON payload. Jobs are
//! written in the same transaction as the change that needs them, so a crash never loses one.

use crate::Timestamp;

/// A job to add to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Which handler runs it, e.g. `build` or `execution`.
    pub kind: String,
    pub payload: String,
    /// Not before this time.
    pub run_at: Timestamp,
    /// At most one pending job may carry a given key (e.g. one firing per schedule slot).
    pub dedupe_key: Option<String>,
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// How many times it has been claimed, this time included.
    pub attempts: u32,
}
