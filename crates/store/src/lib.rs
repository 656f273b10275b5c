//! Persistence for functiond. Everything the server remembers goes through the [`Store`]
//! trait: projects and API keys, functions and their variables (more resources join as they
//! land). The SQLite backend is the default; a PostgreSQL backend will implement the same
//! trait, so SQL dialect details stay inside each backend module.
//!
//! This crate knows nothing of HTTP or processes. It sits between `types` (the vocabulary it
//! stores) and `domain` (which decides what to store).

use std::sync::Arc;

use async_trait::async_trait;
use functiond_types::Timestamp;
use functiond_types::deployment::{Build, Deployment, DeploymentWithBuild};
use functiond_types::execution::Execution;
use functiond_types::function::{Function, FunctionWithVars};
use functiond_types::id::{DeploymentId, ExecutionId, FunctionId, ProjectId, VariableId};
use functiond_types::job::{Job, NewJob};
use functiond_types::project::{ApiKey, Project};
use functiond_types::query::ListQuery;
use functiond_types::variable::Variable;

pub mod blobs;
pub mod crypto;
mod error;
pub mod search;
pub mod sqlite;

pub use blobs::Blobs;
pub use crypto::Cipher;
pub use error::{Result, StoreError};

/// Lists count at most this many matching rows in `total` (Appwrite's `APP_LIMIT_COUNT`).
pub const COUNT_CAP: u64 = 5000;

/// One page of a list, with the number of rows matching its filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// What is kept of an API key's secret: a clear prefix to find the row, and a hash to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySecret {
    pub prefix: String,
    pub hash: String,
}

/// Everything functiond persists. Every method is scoped by project: no call can read or
/// write another project's rows. A write that takes `queued` jobs (builds, runs, event
/// deliveries) adds them in the same transaction, so a crash never keeps the change and loses
/// the work it needs, or the other way round.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Applies the backend's pending migrations; returns how many ran.
    async fn migrate(&self) -> Result<usize>;

    // Projects and keys.
    async fn create_project(&self, project: &Project) -> Result<()>;
    async fn get_project(&self, id: &ProjectId) -> Result<Option<Project>>;
    async fn count_projects(&self) -> Result<u64>;
    async fn create_key(&self, key: &ApiKey, secret: &KeySecret) -> Result<()>;
    /// The key of `project` whose secret starts with `prefix`, with its stored secret hash.
    async fn find_key(&self, project: &ProjectId, prefix: &str)
    -> Result<Option<(ApiKey, String)>>;

    // Functions.
    async fn create_function(
        &self,
        project: &ProjectId,
        function: &Function,
        queued: &[NewJob],
    ) -> Result<()>;
    async fn get_function(
        &self,
        project: &ProjectId,
        id: &FunctionId,
    ) -> Result<Option<FunctionWithVars>>;
    /// Replaces the stored settings of the function with the same ID (its creation time
    /// stays); false when there is none.
    async fn update_function(
        &self,
        project: &ProjectId,
        function: &Function,
        queued: &[NewJob],
    ) -> Result<bool>;
    /// Deletes the function and its variables; false when there was none.
    async fn delete_function(
        &self,
        project: &ProjectId,
        id: &FunctionId,
        queued: &[NewJob],
    ) -> Result<bool>;
    async fn list_functions(
        &self,
        project: &ProjectId,
        query: &ListQuery,
    ) -> Result<Page<FunctionWithVars>>;
    /// Every event name any function of the project subscribes to.
    async fn subscribed_events(&self, project: &ProjectId) -> Result<Vec<String>>;
    /// The functions of the project subscribed to at least one of `names`.
    async fn subscribers(&self, project: &ProjectId, names: &[String]) -> Result<Vec<FunctionId>>;

    // Variables (values are plaintext here; backends encrypt them at rest).
    async fn create_variable(&self, project: &ProjectId, variable: &Variable) -> Result<()>;
    async fn get_variable(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<Option<Variable>>;
    /// Replaces the stored variable with the same ID; false when there is none.
    async fn update_variable(&self, project: &ProjectId, variable: &Variable) -> Result<bool>;
    async fn delete_variable(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<bool>;
    /// All variables of a function, oldest first.
    async fn list_variables(
        &self,
        project: &ProjectId,
        function: &FunctionId,
    ) -> Result<Vec<Variable>>;

    // Deployments and builds.
    async fn create_deployment(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<()>;
    async fn get_deployment(
        &self,
        project: &ProjectId,
        id: &DeploymentId,
    ) -> Result<Option<DeploymentWithBuild>>;
    /// Replaces the stored deployment's mutable fields; false when there is none.
    async fn update_deployment(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<bool>;
    /// Records a complete upload and queues its build, in one transaction; an activating
    /// deployment takes the `activate` flag from its siblings.
    async fn complete_upload(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<bool>;
    /// Deletes a deployment and its builds, resetting its function's `deployment` if it was
    /// the active one; returns what was deleted.
    async fn delete_deployment(
        &self,
        project: &ProjectId,
        id: &DeploymentId,
        queued: &[NewJob],
    ) -> Result<Option<Deployment>>;
    async fn list_deployments(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        query: &ListQuery,
    ) -> Result<Page<DeploymentWithBuild>>;
    /// Stores a build as its deployment's current one, queuing `job` with it.
    async fn save_build(&self, project: &ProjectId, build: &Build, queued: &[NewJob])
    -> Result<()>;
    /// Records a build's result; with `activate`, makes its deployment that function's active
    /// one in the same transaction.
    async fn finish_build(
        &self,
        project: &ProjectId,
        build: &Build,
        activate: Option<&FunctionId>,
    ) -> Result<()>;

    // Executions.
    /// Inserts an execution, queuing `job` (its asynchronous run) in the same transaction.
    async fn create_execution(
        &self,
        project: &ProjectId,
        execution: &Execution,
        queued: &[NewJob],
    ) -> Result<()>;
    async fn update_execution(
        &self,
        project: &ProjectId,
        execution: &Execution,
        queued: &[NewJob],
    ) -> Result<bool>;
    /// Marks failed every unfinished execution that no job will finish (its job gave up).
    /// Only for a backend with a single server process, at its start.
    async fn fail_interrupted_executions(&self, at: Timestamp, stderr: &str) -> Result<u64>;
    async fn get_execution(
        &self,
        project: &ProjectId,
        id: &ExecutionId,
    ) -> Result<Option<Execution>>;
    /// With `visible_with`, only the executions whose `permissions` hold one of those
    /// permission strings (what a user may read) are listed, counted and usable as cursors;
    /// `None` lists them all.
    async fn list_executions(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        visible_with: Option<&[String]>,
        query: &ListQuery,
    ) -> Result<Page<Execution>>;

    // Jobs.
    async fn enqueue_job(&self, job: &NewJob) -> Result<()>;
    /// Takes the lease of the oldest job due at `now`, until `lease_until`.
    async fn claim_job(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>>;
    /// Extends a lease the worker holds; false when it lost it.
    async fn renew_job(&self, id: i64, worker: &str, lease_until: Timestamp) -> Result<bool>;
    /// Removes a job that is done.
    async fn finish_job(&self, id: i64) -> Result<()>;
    /// Hands a job back to the queue, due again at `run_at`.
    async fn retry_job(&self, id: i64, run_at: Timestamp) -> Result<()>;
    /// Frees every lease: for a backend with a single worker process, at its start.
    async fn release_job_leases(&self) -> Result<u64>;
    async fn count_jobs(&self) -> Result<u64>;

    // Rate limits: hits counted per project, key and fixed window (named by its start).
    /// Counts one hit of `key` in `window` unless `limit` hits are counted there already, as
    /// one atomic step (servers sharing the database share the count). Answers the hits now
    /// counted, this one included, or `None` when the window was full and nothing was counted.
    async fn hit_rate_limit(
        &self,
        project: &ProjectId,
        key: &str,
        window: Timestamp,
        limit: u64,
    ) -> Result<Option<u64>>;
    /// The hits counted for `key` in `window`.
    async fn rate_limit_hits(
        &self,
        project: &ProjectId,
        key: &str,
        window: Timestamp,
    ) -> Result<u64>;
    /// Forgets the windows that started before `before`; answers how many.
    async fn prune_rate_limits(&self, before: Timestamp) -> Result<u64>;
}

/// Opens the store a database URL names: `sqlite://path/to/file.db` (created if missing).
/// Migrations are not applied: call [`Store::migrate`].
/// `postgres://` URLs are refused until that backend lands.
pub async fn open(url: &str, cipher: Cipher) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = sqlite::SqliteStore::open(url, cipher).await?;
        return Ok(Arc::new(store));
    }
    let reason = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        "the PostgreSQL backend has not landed yet; use a sqlite:// URL or leave --database-url unset"
    } else {
        "use sqlite:///path/to/functiond.db or leave --database-url unset"
    };
    Err(StoreError::UnsupportedUrl {
        url: url.to_owned(),
        reason,
    })
}
