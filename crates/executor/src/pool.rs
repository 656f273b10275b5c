//! The warm pool: instances kept per key (project, deployment, and the environment the
//! instance was started with) so that a new deployment or changed variables never reach a
//! stale instance.
//!
//! Rules: one invocation at a time per instance; at most one cold start in flight per key,
//! and callers that arrive meanwhile wait for it (simultaneous first calls share one cold
//! start, and share its failure too); a key scales out one instance at a time, and only
//! when a caller has queued for `scale_out_delay` with every instance busy; a global cap on
//! live instances, making room by evicting the least recently used idle instance; idle
//! instances die after `idle_ttl`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use functiond_sandbox::Spec;
use tokio::sync::Notify;

use crate::instance::Instance;

mod lease;

pub(crate) use lease::Lease;
use lease::{Waiting, kill_all, kill_later};

/// Which instances may serve a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) project: String,
    pub(crate) deployment: String,
    /// The instance's process environment, exactly: a change of variables means a new key.
    pub(crate) environment: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_instances: usize,
    pub(crate) per_key: usize,
    pub(crate) idle_ttl: Duration,
    pub(crate) cold_start_timeout: Duration,
    pub(crate) queue_timeout: Duration,
    pub(crate) scale_out_delay: Duration,
}

/// Why no instance could be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AcquireError {
    #[error("{message}")]
    ColdStart { message: String },
    #[error("No instance of the function became available within {} seconds.", .after.as_secs())]
    Queue { after: Duration },
    #[error("The executor is shutting down.")]
    Closed,
}

#[derive(Debug)]
struct Idle {
    instance: Instance,
    since: Instant,
}

#[derive(Debug, Default)]
struct Slot {
    /// Oldest first; calls take the newest, so extras age out under light load.
    idle: Vec<Idle>,
    busy: usize,
    starting: bool,
    /// Counts cold starts; waiters remember the one they wait for.
    generation: u64,
    /// The last cold start that failed while the key had no instance, and why.
    failure: Option<(u64, String)>,
    waiters: usize,
    /// Retired while calls were in flight: their instances die instead of idling.
    draining: bool,
}

impl Slot {
    fn unused(&self) -> bool {
        self.idle.is_empty() && self.busy == 0 && !self.starting && self.waiters == 0
    }
}

#[derive(Debug, Default)]
struct State {
    slots: HashMap<Key, Slot>,
    /// Instances alive or starting, all keys together.
    live: usize,
    closed: bool,
}

impl State {
    fn forget_if_unused(&mut self, key: &Key) {
        if self.slots.get(key).is_some_and(Slot::unused) {
            self.slots.remove(key);
        }
    }

    /// Takes the least recently used idle instance of any key.
    fn evict_oldest(&mut self) -> Option<Instance> {
        let (_, slot) = self
            .slots
            .iter_mut()
            .filter(|(_, slot)| !slot.idle.is_empty())
            .min_by_key(|(_, slot)| slot.idle[0].since)?;
        let victim = slot.idle.remove(0);
        self.live -= 1;
        Some(victim.instance)
    }
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Signalled whenever an instance is freed, started, or dropped.
    changed: Notify,
    limits: Limits,
    socket_dir: PathBuf,
    sockets: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update under the lock is a few field writes; a panic cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

/// What one pass over the state decided for a waiting caller.
enum Step {
    Take(Instance),
    Start(u64),
    Wait { until: Option<Instant> },
    Fail(String),
}

impl Pool {
    pub(crate) fn new(limits: Limits, socket_dir: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                changed: Notify::new(),
                limits,
                socket_dir,
                sockets: AtomicU64::new(0),
            }),
        }
    }

    /// An instance for `key`, warm if one is idle, else cold started from `spec(socket)`.
    pub(crate) async fn acquire(
        &self,
        key: &Key,
        spec: &(dyn Fn(&Path) -> Spec + Sync),
    ) -> Result<Lease, AcquireError> {
        let limits = &self.inner.limits;
        let deadline = Instant::now() + limits.queue_timeout;
        let _waiting = Waiting::new(&self.inner, key);
        let mut watching = None;
        let mut since = Instant::now();
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            // Registered before looking, so a change between the look and the wait is not lost.
            notified.as_mut().enable();
            let mut doomed = Vec::new();
            let step = {
                let mut state = self.inner.lock();
                self.step(&mut state, key, &mut watching, &mut since, &mut doomed)
            };
            kill_later(doomed);
            let until = match step? {
                Step::Take(instance) => {
                    return Ok(Lease {
                        inner: Arc::clone(&self.inner),
                        key: key.clone(),
                        instance: Some(instance),
                    });
                }
                Step::Fail(message) => return Err(AcquireError::ColdStart { message }),
                Step::Start(generation) => {
                    self.cold_start(key, spec, generation);
                    deadline
                }
                Step::Wait { until } => until.map_or(deadline, |until| until.min(deadline)),
            };
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(until.into()) => {}
            }
            if Instant::now() >= deadline {
                return Err(AcquireError::Queue {
                    after: limits.queue_timeout,
                });
            }
        }
    }

    fn step(
        &self,
        state: &mut State,
        key: &Key,
        watching: &mut Option<u64>,
        since: &mut Instant,
        doomed: &mut Vec<Instance>,
    ) -> Result<Step, AcquireError> {
        if state.closed {
            return Err(AcquireError::Closed);
        }
        let limits = &self.inner.limits;
        let now = Instant::now();
        let State { slots, live, .. } = state;
        let slot = slots.entry(key.clone()).or_default();
        slot.draining = false;
        if let (Some(watched), Some((failed, message))) = (*watching, &slot.failure)
            && watched == *failed
        {
            return Ok(Step::Fail(message.clone()));
        }
        while let Some(mut idle) = slot.idle.pop() {
            if idle.instance.alive() {
                slot.busy += 1;
                return Ok(Step::Take(idle.instance));
            }
            *live -= 1;
            doomed.push(idle.instance);
        }
        if slot.starting {
            // Wait for that start; a scale-out may follow only after a further wait.
            *watching = Some(slot.generation);
            *since = now;
            return Ok(Step::Wait { until: None });
        }
        if slot.busy >= limits.per_key {
            return Ok(Step::Wait { until: None });
        }
        let scale_at = *since + limits.scale_out_delay;
        if slot.busy > 0 && now < scale_at {
            return Ok(Step::Wait {
                until: Some(scale_at),
            });
        }
        if *live >= limits.max_instances {
            match state.evict_oldest() {
                Some(victim) => doomed.push(victim),
                None => return Ok(Step::Wait { until: None }),
            }
        }
        state.live += 1;
        let slot = state.slots.entry(key.clone()).or_default();
        slot.starting = true;
        slot.generation += 1;
        *watching = Some(slot.generation);
        Ok(Step::Start(slot.generation))
    }

    /// Starts an instance on its own task, so that a caller who gives up does not leave the
    /// key marked as starting; the instance joins the idle list for whoever waits.
    fn cold_start(&self, key: &Key, spec: &(dyn Fn(&Path) -> Spec + Sync), generation: u64) {
        let number = self.inner.sockets.fetch_add(1, Ordering::Relaxed);
        let socket = self.inner.socket_dir.join(format!("{number}.sock"));
        let spec = spec(&socket);
        let inner = Arc::clone(&self.inner);
        let key = key.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = Instance::start(spec, &socket, inner.limits.cold_start_timeout).await;
            let mut doomed = None;
            {
                let mut state = inner.lock();
                let closed = state.closed;
                let slot = state.slots.entry(key.clone()).or_default();
                slot.starting = false;
                match result {
                    Ok(instance) if !closed && !slot.draining => {
                        tracing::debug!(deployment = %key.deployment, pid = instance.pid(), elapsed = ?started.elapsed(), "cold start");
                        slot.idle.push(Idle {
                            instance,
                            since: Instant::now(),
                        });
                    }
                    Ok(instance) => {
                        state.live -= 1;
                        doomed = Some(instance);
                    }
                    Err(error) => {
                        tracing::info!(deployment = %key.deployment, %error, "cold start failed");
                        if slot.idle.is_empty() && slot.busy == 0 {
                            slot.failure = Some((generation, error.to_string()));
                        }
                        state.live -= 1;
                    }
                }
                state.forget_if_unused(&key);
            }
            inner.changed.notify_waiters();
            if let Some(instance) = doomed {
                instance.kill().await;
            }
        });
    }

    /// Kills the idle instances of a deployment now, and its busy ones when their call ends.
    pub(crate) async fn retire(&self, project: &str, deployment: &str) {
        let doomed = {
            let mut state = self.inner.lock();
            let mut doomed = Vec::new();
            for (key, slot) in &mut state.slots {
                if key.project == project && key.deployment == deployment {
                    slot.draining = true;
                    doomed.extend(slot.idle.drain(..).map(|idle| idle.instance));
                }
            }
            state.live -= doomed.len();
            state.slots.retain(|_, slot| !slot.unused());
            doomed
        };
        self.inner.changed.notify_waiters();
        kill_all(doomed).await;
    }

    /// Kills idle instances past their time, and idle ones that died on their own.
    pub(crate) async fn sweep(&self) {
        let ttl = self.inner.limits.idle_ttl;
        let doomed = {
            let mut state = self.inner.lock();
            let mut doomed = Vec::new();
            for slot in state.slots.values_mut() {
                let (keep, expired): (Vec<Idle>, Vec<Idle>) = slot
                    .idle
                    .drain(..)
                    .partition(|idle| idle.since.elapsed() < ttl);
                slot.idle = keep;
                doomed.extend(expired.into_iter().map(|idle| idle.instance));
                let mut index = 0;
                while index < slot.idle.len() {
                    if slot.idle[index].instance.alive() {
                        index += 1;
                    } else {
                        doomed.push(slot.idle.remove(index).instance);
                    }
                }
            }
            state.live -= doomed.len();
            state.slots.retain(|_, slot| !slot.unused());
            doomed
        };
        if !doomed.is_empty() {
            tracing::debug!(count = doomed.len(), "evicting idle instances");
            self.inner.changed.notify_waiters();
        }
        kill_all(doomed).await;
    }

    /// Refuses new calls and kills every idle instance; busy ones die when their call ends.
    pub(crate) async fn shutdown(&self) {
        let doomed = {
            let mut state = self.inner.lock();
            state.closed = true;
            let doomed: Vec<Instance> = state
                .slots
                .values_mut()
                .flat_map(|slot| slot.idle.drain(..).map(|idle| idle.instance))
                .collect();
            state.live -= doomed.len();
            doomed
        };
        self.inner.changed.notify_waiters();
        kill_all(doomed).await;
    }

    /// Instances alive or starting.
    pub(crate) fn live(&self) -> usize {
        self.inner.lock().live
    }

    /// A handle the sweeper can hold without keeping the pool alive.
    pub(crate) fn downgrade(&self) -> WeakPool {
        WeakPool(Arc::downgrade(&self.inner))
    }
}

/// A pool reference that does not keep the pool alive.
#[derive(Debug, Clone)]
pub(crate) struct WeakPool(Weak<Inner>);

impl WeakPool {
    pub(crate) fn upgrade(&self) -> Option<Pool> {
        self.0.upgrade().map(|inner| Pool { inner })
    }
}
