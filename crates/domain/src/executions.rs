//! Executions: run a function now (synchronously, in the request) or later (a queued job),
//! list and get them. The checks before a run follow Appwrite's order: function (missing or
//! disabled), runtime, deployment, build, then the caller's `execute` permission.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use functiond_store::{Blobs, Page, Store};
use functiond_types::Timestamp;
use functiond_types::deployment::{BuildStatus, Deployment};
use functiond_types::execution::{
    self, DATA_MAX_LEN, Execution, ExecutionStatus, OUTPUT_MAX_BYTES, Trigger, truncate_output,
};
use functiond_types::function::FunctionWithVars;
use functiond_types::id::{DeploymentId, ExecutionId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::model;
use functiond_types::roles;
use functiond_types::runtime::Runtime;
use functiond_types::scope::Scope;

use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::events::{Event, Events, event_data};
use crate::functions::{ListInput, cursor_error, list_query};
use crate::jobs::{self, ExecutionPayload, Queue};
use crate::ports::{InvokeRequest, Invoker};
use crate::runtimes::Runtimes;
use crate::validate::text_length;

/// The parameters of Create Execution; `None` means absent.
#[derive(Debug, Clone, Default)]
pub struct ExecutionInput {
    pub data: Option<String>,
    pub r#async: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Executions {
    store: Arc<dyn Store>,
    blobs: Blobs,
    invoker: Arc<dyn Invoker>,
    runtimes: Runtimes,
    queue: Queue,
    events: Events,
}

/// What started a run other than an HTTP call: the event name and its data.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cause {
    pub event: String,
    pub event_data: String,
}

/// Everything a run needs, found and checked.
struct Target {
    function: FunctionWithVars,
    deployment: Deployment,
    runtime: Runtime,
}

impl Executions {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        blobs: Blobs,
        invoker: Arc<dyn Invoker>,
        runtimes: Runtimes,
        queue: Queue,
        events: Events,
    ) -> Self {
        Self {
            store,
            blobs,
            invoker,
            runtimes,
            queue,
            events,
        }
    }

    /// Runs the function for the caller: synchronously (the finished execution) or, with
    /// `async`, queued (the execution in `waiting`).
    pub async fn create(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: ExecutionInput,
    ) -> Result<Execution> {
        caller.require(Scope::ExecutionWrite)?;
        let data = input.data.unwrap_or_default();
        text_length("data", &data, DATA_MAX_LEN)?;
        let target = self.target(&caller.project, function).await?;
        authorize_execute(caller, &target.function.function.execute)?;

        let now = Timestamp::now();
        let mut execution = Execution {
            id: ExecutionId::unique(),
            function_id: function.clone(),
            deployment_id: target.deployment.id.clone(),
            created_at: now,
            updated_at: now,
            // A user may read back what they ran (`read("user:<id>")`); keys and guests leave
            // no permission, so a guest can run but never read.
            permissions: caller.own_permissions(),
            trigger: Trigger::Http,
            status: ExecutionStatus::Waiting,
            status_code: 0,
            response: String::new(),
            stdout: String::new(),
            stderr: String::new(),
            duration: 0.0,
        };
        if input.r#async.unwrap_or(false) {
            let mut queued = vec![jobs::execution(
                &caller.project,
                &execution.id,
                &data,
                &Cause::default(),
            )];
            queued.extend(
                self.announce(&caller.project, &execution, "create", Some(caller))
                    .await?,
            );
            self.store
                .create_execution(&caller.project, &execution, &queued)
                .await?;
            self.queue.wake();
        } else {
            // A synchronous run is stored once, finished: the client holds the request open
            // meanwhile, so nobody can look for it before then, and one write is half the cost
            // of two on the hot path. The run goes on in its own task even if the client hangs
            // up: the record must still be written, and the instance must not be stopped in
            // the middle of a call.
            let this = self.clone();
            let project = caller.project.clone();
            let shown = caller.clone();
            let run = tokio::spawn(async move {
                this.run(&project, &target, &mut execution, &data, &Cause::default())
                    .await;
                let queued = this
                    .announce(&project, &execution, "create", Some(&shown))
                    .await?;
                this.store
                    .create_execution(&project, &execution, &queued)
                    .await?;
                Ok::<_, Error>(execution)
            });
            execution = run.await.map_err(|error| Error::Task {
                message: error.to_string(),
            })??;
        }
        Ok(visible_to(caller, execution))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: ListInput,
    ) -> Result<Page<Execution>> {
        caller.require(Scope::ExecutionRead)?;
        let query = list_query(&execution::SCHEMA, &input)?;
        self.enabled_function(&caller.project, function).await?;
        // A user sees only the executions their roles may read, and `total` counts only those.
        let visible_with = caller.read_permissions();
        let page = self
            .store
            .list_executions(&caller.project, function, visible_with.as_deref(), &query)
            .await
            .map_err(|error| cursor_error(error, execution::SCHEMA.noun))?;
        Ok(Page {
            total: page.total,
            items: page
                .items
                .into_iter()
                .map(|e| visible_to(caller, e))
                .collect(),
        })
    }

    pub async fn get(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &ExecutionId,
    ) -> Result<Execution> {
        caller.require(Scope::ExecutionRead)?;
        self.enabled_function(&caller.project, function).await?;
        let execution = self
            .store
            .get_execution(&caller.project, id)
            .await?
            .filter(|execution| execution.function_id == *function)
            // Another user's execution is as good as missing.
            .filter(|execution| caller.may_read(&execution.permissions))
            .ok_or(Error::ExecutionNotFound)?;
        Ok(visible_to(caller, execution))
    }

    /// The job of an asynchronous execution. Idempotent: a finished execution is left alone,
    /// and one interrupted by a crash (`processing`) runs again.
    pub(crate) async fn run_queued(&self, payload: ExecutionPayload) -> Result<()> {
        let bad = |what: &str| Error::JobPayload {
            message: format!("invalid {what} in an execution job"),
        };
        let project = ProjectId::parse(&payload.project).map_err(|_| bad("project"))?;
        let id = ExecutionId::parse(&payload.execution).map_err(|_| bad("execution"))?;
        // Gone with its function, or already done.
        let Some(mut execution) = self.store.get_execution(&project, &id).await? else {
            return Ok(());
        };
        if execution.status.is_final() {
            return Ok(());
        }
        execution.status = ExecutionStatus::Processing;
        execution.updated_at = Timestamp::now();
        self.store
            .update_execution(&project, &execution, &[])
            .await?;
        let cause = Cause {
            event: payload.event.clone(),
            event_data: payload.event_data.clone(),
        };
        match self.target_of(&project, &execution).await {
            Ok(target) => {
                self.run(&project, &target, &mut execution, &payload.data, &cause)
                    .await;
                let queued = self.announce(&project, &execution, "update", None).await?;
                self.store
                    .update_execution(&project, &execution, &queued)
                    .await?;
                Ok(())
            }
            Err(error) if error.is_internal() => Err(error),
            Err(error) => {
                // The deployment or its build went away while the execution waited.
                execution.status = ExecutionStatus::Failed;
                execution.status_code = 500;
                execution.stderr = format!("The execution could not start: {error}");
                execution.updated_at = Timestamp::now();
                let queued = self.announce(&project, &execution, "update", None).await?;
                self.store
                    .update_execution(&project, &execution, &queued)
                    .await?;
                Ok(())
            }
        }
    }

    /// Invokes the deployment and puts the outcome on the execution (the caller stores it).
    async fn run(
        &self,
        project: &ProjectId,
        target: &Target,
        execution: &mut Execution,
        data: &str,
        cause: &Cause,
    ) {
        let function = &target.function.function;
        let mut variables: BTreeMap<String, String> = target
            .function
            .vars
            .iter()
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect();
        for (key, value) in [
            ("APPWRITE_FUNCTION_ID", function.id.to_string()),
            ("APPWRITE_FUNCTION_NAME", function.name.clone()),
            (
                "APPWRITE_FUNCTION_DEPLOYMENT",
                target.deployment.id.to_string(),
            ),
            ("APPWRITE_FUNCTION_PROJECT_ID", project.to_string()),
            (
                "APPWRITE_FUNCTION_TRIGGER",
                execution.trigger.as_str().to_owned(),
            ),
            (
                "APPWRITE_FUNCTION_RUNTIME_NAME",
                target.runtime.name.clone(),
            ),
            (
                "APPWRITE_FUNCTION_RUNTIME_VERSION",
                target.runtime.version.clone(),
            ),
            ("APPWRITE_FUNCTION_EVENT", cause.event.clone()),
            ("APPWRITE_FUNCTION_EVENT_DATA", cause.event_data.clone()),
            ("APPWRITE_FUNCTION_DATA", data.to_owned()),
            // The user who ran it, known from the permission they were given (also when a
            // worker runs it later).
            (
                "APPWRITE_FUNCTION_USER_ID",
                roles::reading_user(&execution.permissions)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            // Appwrite mints a JWT here only for callers with a cookie session and leaves it
            // empty for callers who sent X-Appwrite-JWT (reference §4.6). functiond has no
            // sessions, so it is always empty; passing on the caller's own token would hand
            // their credentials to the function's code.
            ("APPWRITE_FUNCTION_JWT", String::new()),
        ] {
            variables.insert(key.to_owned(), value);
        }
        let request = InvokeRequest {
            project: project.clone(),
            function: function.id.clone(),
            deployment: target.deployment.id.clone(),
            runtime: target.runtime.clone(),
            entrypoint: target.deployment.entrypoint.clone(),
            code_dir: self.blobs.code_dir(project, &target.deployment.id),
            variables,
            payload: data.to_owned(),
            headers: BTreeMap::new(),
            timeout: Duration::from_secs(function.timeout.unsigned_abs()),
        };
        let outcome = self.invoker.invoke(request).await;
        execution.status = if outcome.failed() {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        };
        execution.status_code = i64::from(outcome.status_code);
        execution.response = truncate_output(outcome.response, OUTPUT_MAX_BYTES);
        execution.stdout = truncate_output(outcome.stdout, OUTPUT_MAX_BYTES);
        execution.stderr = truncate_output(outcome.stderr, OUTPUT_MAX_BYTES);
        execution.duration = outcome.duration.as_secs_f64();
        execution.updated_at = Timestamp::now();
    }

    /// The jobs announcing a change to an execution, whose payload is the execution as
    /// `shown_to` sees it (everything, for the worker's updates). Runs started by an event
    /// announce nothing, so that events cannot loop (see `events`).
    async fn announce(
        &self,
        project: &ProjectId,
        execution: &Execution,
        action: &'static str,
        shown_to: Option<&Caller>,
    ) -> Result<Vec<NewJob>> {
        if execution.trigger == Trigger::Event {
            return Ok(Vec::new());
        }
        let event = Event::execution(&execution.function_id, &execution.id, action);
        self.events
            .jobs(project, &event, || {
                let shown = match shown_to {
                    Some(caller) => visible_to(caller, execution.clone()),
                    None => execution.clone(),
                };
                event_data(&model::Execution::from(shown))
            })
            .await
    }

    /// Queues a run started by an event or a schedule, under an ID the caller derives from
    /// what started it, so a trigger handled twice starts the run once. Appwrite runs these
    /// whether or not the function is enabled, and checks no `execute` roles. Returns false
    /// when the function has nothing to run (no ready deployment, or an unsupported runtime).
    pub(crate) async fn start(
        &self,
        project: &ProjectId,
        function: FunctionWithVars,
        id: ExecutionId,
        trigger: Trigger,
        cause: &Cause,
    ) -> Result<bool> {
        let active = function.function.deployment.clone();
        let target = match self.target_with(project, function, &active).await {
            Ok(target) => target,
            Err(error) if error.is_internal() => return Err(error),
            Err(error) => {
                tracing::info!(%error, "a triggered run has nothing to run; skipping it");
                return Ok(false);
            }
        };
        let now = Timestamp::now();
        let execution = Execution {
            id,
            function_id: target.function.function.id.clone(),
            deployment_id: target.deployment.id.clone(),
            created_at: now,
            updated_at: now,
            permissions: Vec::new(),
            trigger,
            status: ExecutionStatus::Waiting,
            status_code: 0,
            response: String::new(),
            stdout: String::new(),
            stderr: String::new(),
            duration: 0.0,
        };
        let mut queued = vec![jobs::execution(project, &execution.id, "", cause)];
        queued.extend(self.announce(project, &execution, "create", None).await?);
        match self
            .store
            .create_execution(project, &execution, &queued)
            .await
        {
            // Already started by an earlier attempt at the same trigger.
            Err(functiond_store::StoreError::Conflict { .. }) => return Ok(true),
            other => other?,
        }
        self.queue.wake();
        Ok(true)
    }

    /// A function that exists and is enabled; a disabled one is not found, even for keys.
    async fn enabled_function(
        &self,
        project: &ProjectId,
        id: &FunctionId,
    ) -> Result<FunctionWithVars> {
        self.store
            .get_function(project, id)
            .await?
            .filter(|found| found.function.enabled)
            .ok_or(Error::FunctionNotFound)
    }

    /// The checks before a run, in Appwrite's order, for the function's active deployment.
    async fn target(&self, project: &ProjectId, id: &FunctionId) -> Result<Target> {
        let function = self.enabled_function(project, id).await?;
        let active = function.function.deployment.clone();
        self.target_with(project, function, &active).await
    }

    /// The target of a queued execution: the deployment it was created for, whether or not
    /// the function is still enabled (Appwrite's workers do not check).
    async fn target_of(&self, project: &ProjectId, execution: &Execution) -> Result<Target> {
        let function = self
            .store
            .get_function(project, &execution.function_id)
            .await?
            .ok_or(Error::FunctionNotFound)?;
        self.target_with(project, function, execution.deployment_id.as_str())
            .await
    }

    async fn target_with(
        &self,
        project: &ProjectId,
        function: FunctionWithVars,
        deployment: &str,
    ) -> Result<Target> {
        let runtime = self
            .runtimes
            .get(&function.function.runtime)
            .cloned()
            .ok_or_else(|| Error::RuntimeUnsupported {
                runtime: function.function.runtime.clone(),
            })?;
        let deployment = self
            .ready_deployment(project, &function.function.id, deployment)
            .await?;
        Ok(Target {
            function,
            deployment,
            runtime,
        })
    }

    async fn ready_deployment(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &str,
    ) -> Result<Deployment> {
        let missing = || Error::DeploymentNotFound {
            message: "Deployment not found. Create a deployment before trying to execute a function",
        };
        let id = DeploymentId::parse(id).map_err(|_| missing())?;
        let found = self
            .store
            .get_deployment(project, &id)
            .await?
            .filter(|found| found.deployment.function_id == *function)
            .ok_or_else(missing)?;
        match found.build.map(|build| build.status) {
            None => Err(Error::BuildNotFound),
            Some(BuildStatus::Ready) => Ok(found.deployment),
            Some(_) => Err(Error::BuildNotReady),
        }
    }
}

/// Keys may run any function; everyone else needs one of their roles in `execute`.
fn authorize_execute(caller: &Caller, execute: &[String]) -> Result<()> {
    if caller.may_execute(execute) {
        return Ok(());
    }
    Err(Error::UserUnauthorized {
        message: format!(
            "Missing \"execute\" permission for roles ({}): the function allows [{}].",
            caller.roles().join(", "),
            execute.join(", ")
        ),
    })
}

/// `stdout` and `stderr` are only for API keys; users and guests see them empty.
fn visible_to(caller: &Caller, mut execution: Execution) -> Execution {
    if !caller.is_key() {
        execution.stdout.clear();
        execution.stderr.clear();
    }
    execution
}
