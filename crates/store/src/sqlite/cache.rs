//! Read-through caches of the rows every execution reads: functions (with their variables)
//! and deployments (with their current build). They are sound because, with SQLite, this
//! process is the only one that writes those rows (the CLI writes only projects and keys):
//! every write goes through this store and drops the entries it touched.
//!
//! A reader that loaded a row before a concurrent write could put the old row back after the
//! write dropped it. A generation counter, bumped by every write, prevents that: a loaded row
//! is kept only if no write happened since the load began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use functiond_types::id::ProjectId;

/// Beyond this many entries a cache starts over; it holds the working set, not the table.
const MAX_ENTRIES: usize = 10_000;

type Key = (String, String);

#[derive(Debug)]
pub(super) struct RowCache<V> {
    entries: Mutex<HashMap<Key, V>>,
    generation: AtomicU64,
}

impl<V> Default for RowCache<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }
}

fn key(project: &ProjectId, id: &str) -> Key {
    (project.to_string(), id.to_owned())
}

impl<V: Clone> RowCache<V> {
    pub(super) fn get(&self, project: &ProjectId, id: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&key(project, id)).cloned()
    }

    /// The generation to hand back to [`Self::put`] after loading a row.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a row loaded while the cache was at `generation`, unless a write came since.
    pub(super) fn put(&self, generation: u64, project: &ProjectId, id: &str, value: &V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key(project, id), value.clone());
    }

    /// Drops every entry; for writes that touch rows beyond the one named.
    pub(super) fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Drops a row's entry; call after every write to it.
    pub(super) fn forget(&self, project: &ProjectId, id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&key(project, id));
    }
}
