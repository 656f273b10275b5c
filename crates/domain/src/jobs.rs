//! Background work. Every job type is registered here: its kind, its payload, and the
//! handler that runs it. Jobs are rows in the store, written in the same transaction as the
//! change that needs them; workers claim them with a lease they keep renewing while they run,
//! so a job whose worker died becomes claimable again and nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use functiond_store::Store;
use functiond_types::Timestamp;
use functiond_types::id::{DeploymentId, ExecutionId, ProjectId};
use functiond_types::job::{Job, NewJob};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::builds::Builds;
use crate::error::{Error, Result};
use crate::executions::{Cause, Executions};
use crate::ports::Clock;
use crate::triggers::Triggers;

const BUILD: &str = "build";
const EXECUTION: &str = "execution";

/// How long a claim lasts without renewal, and how often a running job renews it.
const LEASE: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How often an idle worker looks for due jobs it was not woken for (delayed jobs, or jobs
/// queued by another node).
const POLL_EVERY: Duration = Duration::from_millis(500);
/// After this many failed attempts a job is dropped (and logged).
const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BuildPayload {
    pub project: String,
    pub deployment: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExecutionPayload {
    pub project: String,
    pub execution: String,
    /// The `data` param, kept here rather than on the execution (Appwrite does not show it).
    pub data: String,
    /// For runs started by an event: its name and data.
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub event_data: String,
}

fn new_job(kind: &str, payload: &impl Serialize) -> NewJob {
    NewJob {
        kind: kind.to_owned(),
        payload: serde_json::to_string(payload).unwrap_or_default(),
        run_at: Timestamp::now(),
        dedupe_key: None,
    }
}

/// The job that builds a deployment.
pub(crate) fn build(project: &ProjectId, deployment: &DeploymentId) -> NewJob {
    new_job(
        BUILD,
        &BuildPayload {
            project: project.to_string(),
            deployment: deployment.to_string(),
        },
    )
}

/// The job that runs a queued execution.
pub(crate) fn execution(
    project: &ProjectId,
    execution: &ExecutionId,
    data: &str,
    cause: &Cause,
) -> NewJob {
    new_job(
        EXECUTION,
        &ExecutionPayload {
            project: project.to_string(),
            execution: execution.to_string(),
            data: data.to_owned(),
            event: cause.event.clone(),
            event_data: cause.event_data.clone(),
        },
    )
}

/// Wakes idle workers of this process when a job was queued.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    added: Arc<Notify>,
}

impl Queue {
    pub fn wake(&self) {
        self.added.notify_one();
    }
}

/// Claims and runs jobs until cancelled.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    queue: Queue,
    builds: Builds,
    executions: Executions,
    triggers: Triggers,
    /// Decides which jobs are due (delayed jobs: schedules).
    clock: Arc<dyn Clock>,
    /// Names this process's claims, so a lease is renewed only by its holder.
    id: String,
}

impl Worker {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        queue: Queue,
        builds: Builds,
        executions: Executions,
        triggers: Triggers,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            queue,
            builds,
            executions,
            triggers,
            clock,
            id: format!("worker-{}", functiond_types::id::unique()),
        }
    }

    /// Runs `concurrency` worker loops until `shutdown`; a job under way when shutdown comes
    /// is finished first.
    pub async fn run(self, concurrency: usize, shutdown: CancellationToken) {
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let worker = self.clone();
            let shutdown = shutdown.clone();
            loops.spawn(async move { worker.work(shutdown).await });
        }
        while loops.join_next().await.is_some() {}
    }

    async fn work(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.claim().await {
                Ok(Some(job)) => self.handle(job).await,
                Ok(None) => {
                    tokio::select! {
                        () = shutdown.cancelled() => {}
                        () = self.queue.added.notified() => {}
                        () = tokio::time::sleep(POLL_EVERY) => {}
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "could not claim a job");
                    tokio::time::sleep(POLL_EVERY).await;
                }
            }
        }
    }

    async fn claim(&self) -> Result<Option<Job>> {
        let now = self.clock.now();
        let lease_until = Timestamp::from_millis(now.millis() + LEASE.as_millis() as i64);
        Ok(self.store.claim_job(&self.id, now, lease_until).await?)
    }

    /// Runs every job due now, one after the other, until none is left; for tests that drive
    /// time with an injected clock.
    pub async fn run_due(&self) -> Result<usize> {
        let mut ran = 0;
        while let Some(job) = self.claim().await? {
            self.handle(job).await;
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs one job while renewing its lease, then removes it or schedules a retry.
    async fn handle(&self, job: Job) {
        let run = self.dispatch(&job);
        tokio::pin!(run);
        let mut renew = tokio::time::interval(RENEW_EVERY);
        renew.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                _ = renew.tick() => {
                    let until = Timestamp::from_millis(Timestamp::now().millis() + LEASE.as_millis() as i64);
                    if let Err(error) = self.store.renew_job(job.id, &self.id, until).await {
                        tracing::warn!(job.id, %error, "could not renew a job's lease");
                    }
                }
            }
        };
        let settled = match result {
            Ok(()) => self.store.finish_job(job.id).await,
            Err(error) if job.attempts >= MAX_ATTEMPTS => {
                tracing::error!(job.id, job.kind = %job.kind, %error, "job failed for the last time; dropping it");
                self.store.finish_job(job.id).await
            }
            Err(error) => {
                let backoff = 1_i64 << job.attempts.min(10);
                tracing::warn!(job.id, job.kind = %job.kind, %error, retry_in_seconds = backoff, "job failed; will retry");
                let at = Timestamp::from_millis(Timestamp::now().millis() + backoff * 1000);
                self.store.retry_job(job.id, at).await
            }
        };
        if let Err(error) = settled {
            // The lease runs out and the job is claimed again: handlers are idempotent.
            tracing::error!(job.id, %error, "could not settle a job");
        }
    }

    async fn dispatch(&self, job: &Job) -> Result<()> {
        match job.kind.as_str() {
            BUILD => self.builds.run(parse(&job.payload)?).await,
            EXECUTION => self.executions.run_queued(parse(&job.payload)?).await,
            crate::events::KIND => self.triggers.deliver(parse(&job.payload)?).await,
            crate::schedules::KIND => self.triggers.fire(parse(&job.payload)?).await,
            other => {
                tracing::error!(job.id, kind = other, "unknown job kind; dropping it");
                Ok(())
            }
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(payload: &str) -> Result<T> {
    serde_json::from_str(payload).map_err(|error| Error::JobPayload {
        message: error.to_string(),
    })
}
