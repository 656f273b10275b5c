//! Functions: create, list, get, update, delete.

use std::sync::Arc;

use functiond_store::{Blobs, Page, Store, StoreError};
use functiond_types::function::{
    self, DEFAULT_TIMEOUT, Function, FunctionWithVars, MAX_ARRAY_ITEMS, NAME_MAX_LEN,
};
use functiond_types::id::{self, DeploymentId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::model;
use functiond_types::query::{self, Cursor, ListQuery};
use functiond_types::schedule::Schedule;
use functiond_types::scope::Scope;
use functiond_types::{Timestamp, events, roles};

use crate::Context;
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::events::{Event, Events, event_data};
use crate::ports::{Clock, Invoker};
use crate::runtimes::Runtimes;
use crate::schedules;
use crate::validate::{invalid, list, not_optional, required_text};

/// The parameters of Create Function and Update Function, as the client sent them: `None`
/// means absent (or JSON `null`), and takes the documented default.
#[derive(Debug, Clone, Default)]
pub struct FunctionInput {
    /// Create only: a custom ID or `unique()`.
    pub function_id: Option<String>,
    pub name: Option<String>,
    pub execute: Option<Vec<String>>,
    /// Create only: updates cannot change the runtime.
    pub runtime: Option<String>,
    pub events: Option<Vec<String>>,
    pub schedule: Option<String>,
    pub timeout: Option<i64>,
    pub enabled: Option<bool>,
}

/// The parameters of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListInput {
    pub queries: Vec<String>,
    pub search: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Functions {
    store: Arc<dyn Store>,
    blobs: Blobs,
    invoker: Arc<dyn Invoker>,
    events: Events,
    clock: Arc<dyn Clock>,
    runtimes: Runtimes,
    max_timeout: i64,
}

/// The validated settings a function takes from an input (everything but ID and runtime).
struct Settings {
    name: String,
    execute: Vec<String>,
    events: Vec<String>,
    schedule: String,
    schedule_next: Option<Timestamp>,
    timeout: i64,
    enabled: bool,
}

impl Functions {
    pub(crate) fn new(context: &Context, max_timeout: i64) -> Self {
        Self {
            store: context.store.clone(),
            blobs: context.blobs.clone(),
            invoker: context.invoker.clone(),
            runtimes: context.runtimes.clone(),
            events: context.events.clone(),
            clock: context.clock.clone(),
            max_timeout,
        }
    }

    /// The jobs a change to `function` queues: its event, and its next schedule slot.
    async fn queued(
        &self,
        project: &ProjectId,
        function: &FunctionWithVars,
        action: &'static str,
    ) -> Result<Vec<NewJob>> {
        let event = Event::function(&function.function.id, action);
        let mut queued = self
            .events
            .jobs(project, &event, || {
                event_data(&model::Function::from(function.clone()))
            })
            .await?;
        queued.extend(schedules::next_slot(project, &function.function));
        Ok(queued)
    }

    pub async fn create(&self, caller: &Caller, input: FunctionInput) -> Result<FunctionWithVars> {
        caller.require(Scope::FunctionsWrite)?;
        let id = match input.function_id.as_deref() {
            None | Some("") => return Err(not_optional("functionId")),
            Some("unique()") => FunctionId::unique(),
            Some(custom) => {
                FunctionId::parse(custom).map_err(|_| invalid("functionId", id::UID_RULE))?
            }
        };
        let now = self.clock.now();
        let settings = self.settings(&input, now)?;
        let runtime = match input.runtime.as_deref() {
            None | Some("") => return Err(not_optional("runtime")),
            Some(runtime) if self.runtimes.get(runtime).is_some() => runtime.to_owned(),
            Some(_) => {
                return Err(invalid(
                    "runtime",
                    format!("Value must be one of ({})", self.runtimes.ids().join(", ")),
                ));
            }
        };
        let function = Function {
            id,
            created_at: now,
            updated_at: now,
            execute: settings.execute,
            name: settings.name,
            enabled: settings.enabled,
            runtime,
            deployment: String::new(),
            events: settings.events,
            schedule: settings.schedule,
            schedule_next: settings.schedule_next,
            schedule_previous: None,
            schedule_updated_at: now,
            timeout: settings.timeout,
        };
        // Appwrite 1.0 lets the database's duplicate error escape as a 500; a taken ID is the
        // client's mistake, so we answer 409 function_already_exists instead.
        let created = FunctionWithVars {
            function,
            vars: Vec::new(),
        };
        let queued = self.queued(&caller.project, &created, "create").await?;
        match self
            .store
            .create_function(&caller.project, &created.function, &queued)
            .await
        {
            Err(StoreError::Conflict { .. }) => {
                return Err(Error::FunctionAlreadyExists {
                    id: created.function.id.to_string(),
                });
            }
            other => other?,
        }
        self.events.forget(&caller.project);
        Ok(created)
    }

    pub async fn list(&self, caller: &Caller, input: ListInput) -> Result<Page<FunctionWithVars>> {
        caller.require(Scope::FunctionsRead)?;
        let query = list_query(&function::SCHEMA, &input)?;
        self.store
            .list_functions(&caller.project, &query)
            .await
            .map_err(|error| cursor_error(error, function::SCHEMA.noun))
    }

    pub async fn get(&self, caller: &Caller, id: &FunctionId) -> Result<FunctionWithVars> {
        caller.require(Scope::FunctionsRead)?;
        self.find(&caller.project, id).await
    }

    /// Replaces the function's settings: every omitted parameter goes back to its default,
    /// as in Appwrite (omitting `timeout` sets 15, omitting `events` clears them).
    pub async fn update(
        &self,
        caller: &Caller,
        id: &FunctionId,
        input: FunctionInput,
    ) -> Result<FunctionWithVars> {
        caller.require(Scope::FunctionsWrite)?;
        let mut current = self.find(&caller.project, id).await?;
        let now = self.clock.now();
        let settings = self.settings(&input, now)?;
        let function = &mut current.function;
        function.updated_at = now;
        function.name = settings.name;
        function.execute = settings.execute;
        function.events = settings.events;
        function.schedule = settings.schedule;
        function.schedule_next = settings.schedule_next;
        function.schedule_updated_at = now;
        function.timeout = settings.timeout;
        function.enabled = settings.enabled;
        let queued = self.queued(&caller.project, &current, "update").await?;
        if !self
            .store
            .update_function(&caller.project, &current.function, &queued)
            .await?
        {
            return Err(Error::FunctionNotFound);
        }
        self.events.forget(&caller.project);
        Ok(current)
    }

    /// Deletes the function with its variables, deployments, builds and executions, stops its
    /// instances and removes its files.
    pub async fn delete(&self, caller: &Caller, id: &FunctionId) -> Result<()> {
        caller.require(Scope::FunctionsWrite)?;
        let deployments = self.deployment_ids(&caller.project, id).await?;
        let event = Event::function(id, "delete");
        let queued = self
            .events
            .jobs(&caller.project, &event, String::new)
            .await?;
        if !self
            .store
            .delete_function(&caller.project, id, &queued)
            .await?
        {
            return Err(Error::FunctionNotFound);
        }
        self.events.forget(&caller.project);
        for deployment in deployments {
            self.invoker.retire(&caller.project, &deployment).await;
            if let Err(error) = self
                .blobs
                .remove_deployment(&caller.project, &deployment)
                .await
            {
                // The rows are gone; leftover files are only wasted space.
                tracing::warn!(%error, deployment = %deployment, "could not remove a deleted deployment's files");
            }
        }
        Ok(())
    }

    /// Every deployment of a function, page by page.
    async fn deployment_ids(
        &self,
        project: &ProjectId,
        id: &FunctionId,
    ) -> Result<Vec<DeploymentId>> {
        let mut ids = Vec::new();
        let mut query = ListQuery {
            limit: 100,
            ..ListQuery::default()
        };
        loop {
            let page = self.store.list_deployments(project, id, &query).await?;
            let Some(last) = page.items.last() else {
                return Ok(ids);
            };
            query.cursor = Some(Cursor::After(last.deployment.id.to_string()));
            ids.extend(page.items.into_iter().map(|found| found.deployment.id));
        }
    }

    async fn find(&self, project: &ProjectId, id: &FunctionId) -> Result<FunctionWithVars> {
        self.store
            .get_function(project, id)
            .await?
            .ok_or(Error::FunctionNotFound)
    }

    /// Validates the parameters create and update share, in Appwrite's parameter order.
    fn settings(&self, input: &FunctionInput, now: Timestamp) -> Result<Settings> {
        let name = required_text("name", input.name.clone(), NAME_MAX_LEN)?;
        let execute = list(
            "execute",
            input.execute.clone(),
            roles::MAX_ROLES,
            roles::validate,
        )?;
        let events = list("events", input.events.clone(), MAX_ARRAY_ITEMS, |event| {
            if events::is_valid(event) {
                Ok(())
            } else {
                Err(format!(
                    "Event \"{event}\" is not a known event name. Events look like \"users.*.create\" or \"functions.[ID].executions.*.update\"."
                ))
            }
        })?;
        let schedule = input.schedule.clone().unwrap_or_default();
        let schedule_next = if schedule.trim().is_empty() {
            None
        } else {
            let parsed = Schedule::parse(&schedule).map_err(|error| invalid("schedule", error))?;
            parsed.next_after(now)
        };
        let timeout = input.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if !(1..=self.max_timeout).contains(&timeout) {
            return Err(invalid(
                "timeout",
                format!(
                    "Value must be a valid range between 1 and {}",
                    self.max_timeout
                ),
            ));
        }
        Ok(Settings {
            name,
            execute,
            events,
            schedule,
            schedule_next,
            timeout,
            enabled: input.enabled.unwrap_or(true),
        })
    }
}

/// Validates `queries[]` and `search` against a resource's schema.
pub(crate) fn list_query(schema: &query::Schema, input: &ListInput) -> Result<ListQuery> {
    query::build(schema, &input.queries, input.search.as_deref()).map_err(|error| {
        // Messages about `limit`, `search`, a query's syntax… already say what was invalid.
        let message = error.to_string();
        if message.starts_with("Invalid ") {
            Error::argument(message)
        } else {
            invalid("queries", message)
        }
    })
}

/// A missing cursor row is the client's mistake, named after the listed resource.
pub(crate) fn cursor_error(error: StoreError, noun: &'static str) -> Error {
    match error {
        StoreError::CursorNotFound { id } => Error::CursorNotFound { noun, id },
        other => other.into(),
    }
}
