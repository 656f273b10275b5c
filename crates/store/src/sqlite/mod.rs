//! The SQLite backend: one file in the data dir, WAL mode, numbered forward-only migrations
//! applied at start. Row structs and SQL stay private to this module.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

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
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::{Cipher, KeySecret, Page, Result, Store, StoreError};

mod batch;
mod cache;
mod deployments;
mod executions;
mod functions;
mod jobs;
mod list;
mod migrations;
mod projects;
mod rate_limits;
mod variables;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers: WAL lets them run beside the writer and see every committed write.
    pool: SqlitePool,
    /// The one connection that writes. SQLite takes one writer at a time anyway; queuing
    /// writers here, instead of letting several connections race for the lock, avoids
    /// SQLite's busy-retry sleeps (1 to 100 ms each) under load.
    writer: SqlitePool,
    cipher: Cipher,
    functions: Arc<cache::RowCache<FunctionWithVars>>,
    deployments: Arc<cache::RowCache<DeploymentWithBuild>>,
    /// Writes executions that queue nothing, many per statement under load.
    executions: batch::ExecutionBatcher,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`. Call [`Store::migrate`] before use.
    pub async fn open(url: &str, cipher: Cipher) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL sync survives process crashes; only a power loss can drop the
            // last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self {
            executions: batch::ExecutionBatcher::start(writer.clone()),
            pool,
            writer,
            cipher,
            functions: Arc::default(),
            deployments: Arc::default(),
        })
    }
}

/// Maps a unique-constraint failure to a conflict on `what`, leaving other errors as they are.
fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what },
        _ => StoreError::Database { source: error },
    }
}

/// Arrays are stored as JSON text.
fn to_json(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

fn from_json(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        message: format!("bad JSON array in the database: {error}"),
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<usize> {
        migrations::apply(&self.writer).await
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        projects::create(&self.writer, project).await
    }

    async fn get_project(&self, id: &ProjectId) -> Result<Option<Project>> {
        projects::get(&self.pool, id).await
    }

    async fn count_projects(&self) -> Result<u64> {
        projects::count(&self.pool).await
    }

    async fn create_key(&self, key: &ApiKey, secret: &KeySecret) -> Result<()> {
        projects::create_key(&self.writer, key, secret).await
    }

    async fn find_key(
        &self,
        project: &ProjectId,
        prefix: &str,
    ) -> Result<Option<(ApiKey, String)>> {
        projects::find_key(&self.pool, project, prefix).await
    }

    async fn create_function(
        &self,
        project: &ProjectId,
        function: &Function,
        queued: &[NewJob],
    ) -> Result<()> {
        functions::create(&self.writer, project, function, queued).await
    }

    async fn get_function(
        &self,
        project: &ProjectId,
        id: &FunctionId,
    ) -> Result<Option<FunctionWithVars>> {
        if let Some(cached) = self.functions.get(project, id.as_str()) {
            return Ok(Some(cached));
        }
        let generation = self.functions.generation();
        let Some(function) = functions::get(&self.pool, project, id).await? else {
            return Ok(None);
        };
        let vars = variables::list(&self.pool, &self.cipher, project, id).await?;
        let loaded = FunctionWithVars { function, vars };
        self.functions
            .put(generation, project, id.as_str(), &loaded);
        Ok(Some(loaded))
    }

    async fn update_function(
        &self,
        project: &ProjectId,
        function: &Function,
        queued: &[NewJob],
    ) -> Result<bool> {
        let written = functions::update(&self.writer, project, function, queued).await;
        // After the write, so that no reader can cache what it replaced.
        self.functions.forget(project, function.id.as_str());
        written
    }

    async fn delete_function(
        &self,
        project: &ProjectId,
        id: &FunctionId,
        queued: &[NewJob],
    ) -> Result<bool> {
        let written = functions::delete(&self.writer, project, id, queued).await;
        // After the write, so that no reader can cache what it replaced.
        self.functions.forget(project, id.as_str());
        written
    }

    async fn list_functions(
        &self,
        project: &ProjectId,
        query: &ListQuery,
    ) -> Result<Page<FunctionWithVars>> {
        let page = functions::list(&self.pool, project, query).await?;
        let ids: Vec<&FunctionId> = page.items.iter().map(|f| &f.id).collect();
        let mut vars = variables::list_for(&self.pool, &self.cipher, project, &ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|function| FunctionWithVars {
                vars: vars.remove(function.id.as_str()).unwrap_or_default(),
                function,
            })
            .collect();
        Ok(Page {
            total: page.total,
            items,
        })
    }

    async fn subscribed_events(&self, project: &ProjectId) -> Result<Vec<String>> {
        functions::subscribed_events(&self.pool, project).await
    }

    async fn subscribers(&self, project: &ProjectId, names: &[String]) -> Result<Vec<FunctionId>> {
        functions::subscribers(&self.pool, project, names).await
    }

    async fn create_variable(&self, project: &ProjectId, variable: &Variable) -> Result<()> {
        let written = variables::create(&self.writer, &self.cipher, project, variable).await;
        // After the write, so that no reader can cache what it replaced.
        self.functions
            .forget(project, variable.function_id.as_str());
        written
    }

    async fn get_variable(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<Option<Variable>> {
        variables::get(&self.pool, &self.cipher, project, function, id).await
    }

    async fn update_variable(&self, project: &ProjectId, variable: &Variable) -> Result<bool> {
        let written = variables::update(&self.writer, &self.cipher, project, variable).await;
        // After the write, so that no reader can cache what it replaced.
        self.functions
            .forget(project, variable.function_id.as_str());
        written
    }

    async fn delete_variable(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &VariableId,
    ) -> Result<bool> {
        let written = variables::delete(&self.writer, project, function, id).await;
        // After the write, so that no reader can cache what it replaced.
        self.functions.forget(project, function.as_str());
        written
    }

    async fn list_variables(
        &self,
        project: &ProjectId,
        function: &FunctionId,
    ) -> Result<Vec<Variable>> {
        variables::list(&self.pool, &self.cipher, project, function).await
    }

    async fn create_deployment(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<()> {
        deployments::create(&self.writer, project, deployment, queued).await
    }

    async fn get_deployment(
        &self,
        project: &ProjectId,
        id: &DeploymentId,
    ) -> Result<Option<DeploymentWithBuild>> {
        if let Some(cached) = self.deployments.get(project, id.as_str()) {
            return Ok(Some(cached));
        }
        let generation = self.deployments.generation();
        let loaded = deployments::get(&self.pool, project, id).await?;
        if let Some(found) = &loaded {
            self.deployments
                .put(generation, project, id.as_str(), found);
        }
        Ok(loaded)
    }

    async fn update_deployment(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<bool> {
        let written = deployments::update(&self.writer, project, deployment, queued).await;
        self.deployments.forget(project, deployment.id.as_str());
        written
    }

    async fn complete_upload(
        &self,
        project: &ProjectId,
        deployment: &Deployment,
        queued: &[NewJob],
    ) -> Result<bool> {
        let written = deployments::complete_upload(&self.writer, project, deployment, queued).await;
        // Its siblings may have lost their `activate` flag: drop every cached deployment.
        self.deployments.forget_all();
        written
    }

    async fn delete_deployment(
        &self,
        project: &ProjectId,
        id: &DeploymentId,
        queued: &[NewJob],
    ) -> Result<Option<Deployment>> {
        let deleted = deployments::delete(&self.writer, project, id, queued).await;
        self.deployments.forget(project, id.as_str());
        // It may have been its function's active deployment.
        if let Ok(Some(deployment)) = &deleted {
            self.functions
                .forget(project, deployment.function_id.as_str());
        }
        deleted
    }

    async fn list_deployments(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        query: &ListQuery,
    ) -> Result<Page<DeploymentWithBuild>> {
        deployments::list(&self.pool, project, function, query).await
    }

    async fn save_build(
        &self,
        project: &ProjectId,
        build: &Build,
        queued: &[NewJob],
    ) -> Result<()> {
        let written = deployments::save_build(&self.writer, project, build, queued).await;
        self.deployments
            .forget(project, build.deployment_id.as_str());
        written
    }

    async fn finish_build(
        &self,
        project: &ProjectId,
        build: &Build,
        activate: Option<&FunctionId>,
    ) -> Result<()> {
        let written = deployments::finish_build(&self.writer, project, build, activate).await;
        self.deployments
            .forget(project, build.deployment_id.as_str());
        if let Some(function) = activate {
            self.functions.forget(project, function.as_str());
        }
        written
    }

    async fn create_execution(
        &self,
        project: &ProjectId,
        execution: &Execution,
        queued: &[NewJob],
    ) -> Result<()> {
        if queued.is_empty() {
            return self.executions.insert(project, execution).await;
        }
        executions::create(&self.writer, project, execution, queued).await
    }

    async fn update_execution(
        &self,
        project: &ProjectId,
        execution: &Execution,
        queued: &[NewJob],
    ) -> Result<bool> {
        executions::update(&self.writer, project, execution, queued).await
    }

    async fn fail_interrupted_executions(&self, at: Timestamp, stderr: &str) -> Result<u64> {
        executions::fail_interrupted(&self.writer, at, stderr).await
    }

    async fn get_execution(
        &self,
        project: &ProjectId,
        id: &ExecutionId,
    ) -> Result<Option<Execution>> {
        executions::get(&self.pool, project, id).await
    }

    async fn list_executions(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        visible_with: Option<&[String]>,
        query: &ListQuery,
    ) -> Result<Page<Execution>> {
        executions::list(&self.pool, project, function, visible_with, query).await
    }

    async fn enqueue_job(&self, job: &NewJob) -> Result<()> {
        jobs::enqueue(&self.writer, job).await
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>> {
        jobs::claim(&self.writer, worker, now, lease_until).await
    }

    async fn renew_job(&self, id: i64, worker: &str, lease_until: Timestamp) -> Result<bool> {
        jobs::renew(&self.writer, id, worker, lease_until).await
    }

    async fn finish_job(&self, id: i64) -> Result<()> {
        jobs::finish(&self.writer, id).await
    }

    async fn retry_job(&self, id: i64, run_at: Timestamp) -> Result<()> {
        jobs::retry(&self.writer, id, run_at).await
    }

    async fn release_job_leases(&self) -> Result<u64> {
        jobs::release_leases(&self.writer).await
    }

    async fn count_jobs(&self) -> Result<u64> {
        jobs::count(&self.pool).await
    }

    async fn hit_rate_limit(
        &self,
        project: &ProjectId,
        key: &str,
        window: Timestamp,
        limit: u64,
    ) -> Result<Option<u64>> {
        rate_limits::hit(&self.writer, project, key, window, limit).await
    }

    async fn rate_limit_hits(
        &self,
        project: &ProjectId,
        key: &str,
        window: Timestamp,
    ) -> Result<u64> {
        rate_limits::hits(&self.pool, project, key, window).await
    }

    async fn prune_rate_limits(&self, before: Timestamp) -> Result<u64> {
        rate_limits::prune(&self.writer, before).await
    }
}
