//! The caller's side of the pool: [`Lease`], one instance lent for one call, and the
//! bookkeeping that keeps the pool's counts right however a caller leaves (done, failed, or
//! cancelled mid-call).

use std::sync::Arc;
use std::time::Instant;

use super::{Idle, Inner, Key};
use crate::instance::Instance;

/// Counts a caller as waiting on a key for as long as it is inside `acquire`, so the key's
/// slot (and a failure the caller may need to hear about) is not forgotten under it.
pub(super) struct Waiting<'a> {
    inner: &'a Inner,
    key: &'a Key,
}

impl<'a> Waiting<'a> {
    pub(super) fn new(inner: &'a Inner, key: &'a Key) -> Self {
        inner.lock().slots.entry(key.clone()).or_default().waiters += 1;
        Self { inner, key }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        if let Some(slot) = state.slots.get_mut(self.key) {
            slot.waiters -= 1;
        }
        state.forget_if_unused(self.key);
    }
}

/// The use of one instance for one call. [`Lease::release`] gives a healthy instance back;
/// any other end ([`Lease::take`], or dropping the lease, e.g. when the caller's future is
/// cancelled mid-call) counts it as gone, since its state is unknown.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(super) inner: Arc<Inner>,
    pub(super) key: Key,
    pub(super) instance: Option<Instance>,
}

impl Lease {
    pub(crate) fn instance(&mut self) -> &mut Instance {
        self.instance
            .as_mut()
            .unwrap_or_else(|| unreachable!("a lease holds its instance until it ends"))
    }

    /// Gives the instance back for the next call (or kills it if its key was retired or the
    /// pool closed meanwhile).
    pub(crate) fn release(mut self) {
        let Some(instance) = self.instance.take() else {
            return;
        };
        let doomed = {
            let mut state = self.inner.lock();
            let closed = state.closed;
            let slot = state.slots.entry(self.key.clone()).or_default();
            slot.busy = slot.busy.saturating_sub(1);
            if closed || slot.draining {
                state.live -= 1;
                state.forget_if_unused(&self.key);
                Some(instance)
            } else {
                slot.idle.push(Idle {
                    instance,
                    since: Instant::now(),
                });
                None
            }
        };
        self.inner.changed.notify_waiters();
        kill_later(doomed.into_iter().collect());
    }

    /// Ends the lease without giving the instance back: the caller kills it.
    pub(crate) fn take(mut self) -> Instance {
        let instance = self
            .instance
            .take()
            .unwrap_or_else(|| unreachable!("a lease holds its instance until it ends"));
        self.forget();
        instance
    }

    fn forget(&self) {
        {
            let mut state = self.inner.lock();
            state.live -= 1;
            if let Some(slot) = state.slots.get_mut(&self.key) {
                slot.busy = slot.busy.saturating_sub(1);
            }
            state.forget_if_unused(&self.key);
        }
        self.inner.changed.notify_waiters();
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(instance) = self.instance.take() {
            self.forget();
            kill_later(vec![instance]);
        }
    }
}

/// Kills instances on a blocking thread without waiting for it.
pub(super) fn kill_later(instances: Vec<Instance>) {
    if instances.is_empty() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(kill_all(instances));
        }
        // Outside a runtime (a drop during shutdown), dropping kills, blocking briefly.
        Err(_) => drop(instances),
    }
}

/// Kills instances and returns once they are gone.
pub(super) async fn kill_all(instances: Vec<Instance>) {
    for instance in instances {
        instance.kill().await;
    }
}
