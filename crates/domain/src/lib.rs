//! The use cases of functiond: one service per Appwrite resource family, one method per use
//! case. Each method takes the [`Caller`] first, authorizes it, validates the input with
//! Appwrite's rules, and writes through the [`Store`].
//!
//! Flow: `api -> domain -> store`. This crate knows no HTTP, no SQL and no processes.

use std::sync::Arc;
use std::time::Duration;

use functiond_store::{Blobs, Store};
use functiond_types::runtime::Runtime;

pub mod auth;
mod builds;
pub mod caller;
pub mod deployments;
mod error;
pub mod events;
pub mod executions;
pub mod functions;
pub mod jobs;
pub mod jwt;
pub mod origins;
pub mod ports;
pub mod projects;
pub mod rate_limits;
pub mod runtimes;
mod schedules;
mod triggers;
mod upload;
mod validate;
pub mod variables;

pub use auth::{Auth, AuthPolicy, Credentials};
pub use caller::{Caller, Identity};
pub use deployments::Deployments;
pub use error::{Error, Result};
pub use executions::Executions;
pub use functions::Functions;
pub use jobs::Worker;
use ports::{Clock, Invoker};
pub use projects::Projects;
pub use rate_limits::{RateLimitSettings, RateLimitStatus, RateLimits};
pub use runtimes::Runtimes;
pub use variables::Variables;

/// Limits the services enforce, from the server's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The largest `timeout` a function may ask for, in seconds.
    pub max_timeout: i64,
    /// The largest deployment archive, in bytes.
    pub size_limit: u64,
    /// How long a build may take.
    pub build_timeout: Duration,
    /// JWTs and browser origins: how keyless callers are identified and checked.
    pub auth: AuthPolicy,
    /// The rate limit of Create Execution.
    pub rate_limit: RateLimitSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_timeout: 900,
            size_limit: 30_000_000,
            build_timeout: Duration::from_secs(900),
            auth: AuthPolicy::default(),
            rate_limit: RateLimitSettings::default(),
        }
    }
}

/// What the services are built from.
#[derive(Debug, Clone)]
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub blobs: Blobs,
    pub invoker: Arc<dyn Invoker>,
    pub runtimes: Vec<Runtime>,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
}

/// What the services share.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub store: Arc<dyn Store>,
    pub blobs: Blobs,
    pub invoker: Arc<dyn Invoker>,
    pub runtimes: Runtimes,
    pub queue: jobs::Queue,
    pub events: events::Events,
    pub clock: Arc<dyn Clock>,
}

/// Every service, built once at start-up and shared by the API handlers.
#[derive(Debug, Clone)]
pub struct Services {
    pub auth: Auth,
    pub projects: Projects,
    pub functions: Functions,
    pub variables: Variables,
    pub runtimes: Runtimes,
    pub deployments: Deployments,
    pub executions: Executions,
    pub rate_limits: RateLimits,
    /// Runs the queued jobs; the binary starts it (`Worker::run`) in the roles that work.
    pub worker: Worker,
}

impl Services {
    pub fn new(parts: Parts) -> Self {
        let Parts {
            store,
            blobs,
            invoker,
            runtimes,
            settings,
            clock,
        } = parts;
        let auth = Auth::new(store.clone()).with_policy(settings.auth.clone());
        let rate_limits = RateLimits::new(store.clone(), settings.rate_limit);
        let context = Context {
            events: events::Events::new(store.clone()),
            runtimes: Runtimes::new(runtimes),
            queue: jobs::Queue::default(),
            store,
            blobs,
            invoker,
            clock,
        };
        let executions = Executions::new(
            context.store.clone(),
            context.blobs.clone(),
            context.invoker.clone(),
            context.runtimes.clone(),
            context.queue.clone(),
            context.events.clone(),
        );
        let triggers = triggers::Triggers::new(
            context.store.clone(),
            executions.clone(),
            context.clock.clone(),
        );
        let worker = Worker::new(
            context.store.clone(),
            context.queue.clone(),
            builds::Builds::new(&context, settings.build_timeout),
            executions.clone(),
            triggers,
            context.clock.clone(),
        );
        Self {
            projects: Projects::new(context.store.clone(), auth.clone()),
            functions: Functions::new(&context, settings.max_timeout),
            variables: Variables::new(context.store.clone()),
            deployments: Deployments::new(&context, settings.size_limit),
            runtimes: context.runtimes.clone(),
            worker,
            executions,
            rate_limits,
            auth,
        }
    }
}
