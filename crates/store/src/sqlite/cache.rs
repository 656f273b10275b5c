//! A read-through cache of functions (with their variables), the rows every request to a
//! function reads. It is sound because, with SQLite, this process is the only one that writes
//! functions and variables (the CLI writes only projects and keys): every write goes through
//! this store and drops the function's entry.
//!
//! A reader that loaded a row before a concurrent write could put the old row back after the
//! write dropped it. A generation counter, bumped by every write, prevents that: a loaded row
//! is kept only if no write happened since the load began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use functiond_types::function::FunctionWithVars;
use functiond_types::id::{FunctionId, ProjectId};

/// Beyond this many entries the cache starts over; it holds the working set, not the table.
const MAX_ENTRIES: usize = 10_000;

type Key = (String, String);

#[derive(Debug, Default)]
pub(super) struct FunctionCache {
    entries: Mutex<HashMap<Key, FunctionWithVars>>,
    generation: AtomicU64,
}

fn key(project: &ProjectId, id: &FunctionId) -> Key {
    (project.to_string(), id.to_string())
}

impl FunctionCache {
    pub(super) fn get(&self, project: &ProjectId, id: &FunctionId) -> Option<FunctionWithVars> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&key(project, id)).cloned()
    }

    /// The generation to hand back to [`Self::put`] after loading a row.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a row loaded while the cache was at `generation`, unless a write came since.
    pub(super) fn put(&self, generation: u64, value: &FunctionWithVars, project: &ProjectId) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key(project, &value.function.id), value.clone());
    }

    /// Drops a function's entry; call after every write to the function or its variables.
    pub(super) fn forget(&self, project: &ProjectId, id: &FunctionId) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&key(project, id));
    }
}
