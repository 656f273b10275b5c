//! The rate limit of Create Execution (Appwrite's abuse limit): by default 60 calls per 60
//! seconds per project for each client IP and user ID, in fixed windows aligned to the Unix
//! epoch. Counters live in the store, so servers sharing a database share them.
//!
//! Keys are never limited and their calls never counted; users and guests are. Every answer
//! reports the state of the caller's window, computed before this call is counted:
//! `remaining = max(0, limit - (hits so far + 1))`, and `reset` = the window's end.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use functiond_store::Store;
use functiond_types::Timestamp;

use crate::caller::Caller;
use crate::error::Result;

/// The limit, from the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Calls per window; 0 turns the limit off entirely (no counting, no headers).
    pub limit: u64,
    pub window: Duration,
    /// False (`_APP_OPTIONS_ABUSE=disabled`) reports the headers but counts and refuses
    /// nothing, as Appwrite does.
    pub enforce: bool,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            limit: 60,
            window: Duration::from_secs(60),
            enforce: true,
        }
    }
}

/// What a limited call is told (the `X-RateLimit-*` headers), and whether it may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub limit: u64,
    pub remaining: u64,
    /// When the window ends, Unix seconds.
    pub reset: i64,
    /// The window was full: the call must be refused (429 `general_rate_limit_exceeded`).
    pub exceeded: bool,
}

#[derive(Debug, Clone)]
pub struct RateLimits {
    store: Arc<dyn Store>,
    settings: RateLimitSettings,
    /// The newest window this process has pruned up to, so old windows are deleted about
    /// once per window rather than on every call.
    pruned: Arc<AtomicI64>,
    /// The latest count this process saw per project and client key: (window start, hits).
    /// API keys are shown it instead of reading the store on every call: they are never
    /// limited, so their headers only inform, and with SQLite (one server) it is exact.
    seen: Arc<Mutex<Seen>>,
}

/// Per (project, client key): the window start and the hits counted in it.
type Seen = HashMap<(String, String), (i64, u64)>;

/// Beyond this many client keys the memory of counts starts over.
const MAX_SEEN: usize = 10_000;

/// The start of the window holding `now`, in milliseconds.
fn window_start(now: Timestamp, window: Duration) -> Timestamp {
    let length = i64::try_from(window.as_millis())
        .unwrap_or(i64::MAX)
        .max(1000);
    Timestamp::from_millis(now.millis().div_euclid(length) * length)
}

/// The status of a window holding `hits_before` hits before this call.
fn status(limit: u64, hits_before: u64, start: Timestamp, window: Duration) -> RateLimitStatus {
    RateLimitStatus {
        limit,
        remaining: limit.saturating_sub(hits_before.saturating_add(1)),
        reset: start.millis().div_euclid(1000) + i64::try_from(window.as_secs()).unwrap_or(0),
        exceeded: false,
    }
}

impl RateLimits {
    pub(crate) fn new(store: Arc<dyn Store>, settings: RateLimitSettings) -> Self {
        Self {
            store,
            settings,
            pruned: Arc::new(AtomicI64::new(i64::MIN)),
            seen: Arc::default(),
        }
    }

    /// Counts a Create Execution call by `caller` from `ip` and says whether it may go on;
    /// `None` when no limit is configured.
    pub async fn create_execution(
        &self,
        caller: &Caller,
        ip: IpAddr,
    ) -> Result<Option<RateLimitStatus>> {
        self.hit(caller, ip, Timestamp::now()).await
    }

    async fn hit(
        &self,
        caller: &Caller,
        ip: IpAddr,
        now: Timestamp,
    ) -> Result<Option<RateLimitStatus>> {
        let RateLimitSettings {
            limit,
            window,
            enforce,
        } = self.settings;
        if limit == 0 {
            return Ok(None);
        }
        let start = window_start(now, window);
        if !enforce {
            return Ok(Some(status(limit, 0, start, window)));
        }
        // Appwrite's key: the user ID is empty for guests and keys.
        let user = caller.user().map(|user| user.id.as_str()).unwrap_or("");
        let key = format!("ip:{ip},userId:{user}");
        let slot = (caller.project.to_string(), key);
        if caller.is_key() {
            let hits = self
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&slot)
                .filter(|(window_start, _)| *window_start == start.millis())
                .map_or(0, |(_, hits)| *hits);
            return Ok(Some(status(limit, hits, start, window)));
        }
        let key = &slot.1;
        self.prune_before(start);
        let counted = self
            .store
            .hit_rate_limit(&caller.project, key, start, limit)
            .await?;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_SEEN {
            seen.clear();
        }
        seen.insert(slot.clone(), (start.millis(), counted.unwrap_or(limit)));
        drop(seen);
        Ok(Some(match counted {
            Some(hits) => status(limit, hits - 1, start, window),
            None => RateLimitStatus {
                exceeded: true,
                ..status(limit, limit, start, window)
            },
        }))
    }

    /// Deletes the windows before `start` in the background, once per window per process.
    fn prune_before(&self, start: Timestamp) {
        if self.pruned.fetch_max(start.millis(), Ordering::Relaxed) >= start.millis() {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            match store.prune_rate_limits(start).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "forgot old rate-limit windows"),
                Err(error) => tracing::warn!(%error, "cannot forget old rate-limit windows"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_the_epoch() {
        let minute = Duration::from_secs(60);
        let at = |ms| window_start(Timestamp::from_millis(ms), minute).millis();
        assert_eq!(at(1_700_000_039_999), 1_699_999_980_000);
        assert_eq!(at(1_700_000_040_000), 1_700_000_040_000);
        assert_eq!(at(1_700_000_099_999), 1_700_000_040_000);
        assert_eq!(at(0), 0);
    }

    #[test]
    fn remaining_counts_this_call_and_stops_at_zero() {
        let minute = Duration::from_secs(60);
        let start = Timestamp::from_millis(1_700_000_040_000);
        let first = status(60, 0, start, minute);
        assert_eq!((first.remaining, first.reset), (59, 1_700_000_100));
        assert_eq!(status(60, 58, start, minute).remaining, 1);
        assert_eq!(status(60, 59, start, minute).remaining, 0);
        assert_eq!(status(60, 60, start, minute).remaining, 0);
        assert_eq!(status(60, 600, start, minute).remaining, 0);
    }
}
