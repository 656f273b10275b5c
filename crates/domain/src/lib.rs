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
pub mod executions;
pub mod functions;
pub mod jobs;
pub mod ports;
pub mod projects;
pub mod runtimes;
mod upload;
mod validate;
pub mod variables;

pub use auth::Auth;
pub use caller::{Caller, Identity};
pub use deployments::Deployments;
pub use error::{Error, Result};
pub use executions::Executions;
pub use functions::Functions;
pub use jobs::Worker;
use ports::Invoker;
pub use projects::Projects;
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_timeout: 900,
            size_limit: 30_000_000,
            build_timeout: Duration::from_secs(900),
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
        } = parts;
        let auth = Auth::new(store.clone());
        let runtimes = Runtimes::new(runtimes);
        let queue = jobs::Queue::default();
        let executions = Executions::new(
            store.clone(),
            blobs.clone(),
            invoker.clone(),
            runtimes.clone(),
            queue.clone(),
        );
        let builds = builds::Builds::new(
            store.clone(),
            blobs.clone(),
            invoker.clone(),
            runtimes.clone(),
            settings.build_timeout,
        );
        Self {
            projects: Projects::new(store.clone(), auth.clone()),
            functions: Functions::new(
                store.clone(),
                blobs.clone(),
                invoker.clone(),
                runtimes.clone(),
                settings.max_timeout,
            ),
            variables: Variables::new(store.clone()),
            deployments: Deployments::new(
                store.clone(),
                blobs,
                invoker,
                queue.clone(),
                settings.size_limit,
            ),
            worker: Worker::new(store, queue, builds, executions.clone()),
            executions,
            runtimes,
            auth,
        }
    }
}
