//! Events: every change to a function, its deployments or its executions is announced under
//! each of its names (`functions.fn1.executions.ex1.create`, `functions.*.executions.*`, …),
//! and functions subscribed to one of those names run with trigger `event`.
//!
//! An announcement is a job written in the same transaction as the change, and only when some
//! function of the project listens for one of the names: the delivery job then starts one
//! execution per subscriber. The set of names a project listens for is remembered in memory
//! and forgotten whenever a function of the project changes.
//!
//! Loops: an execution started by an event announces nothing about itself. A function that
//! listens to executions' events therefore hears about runs started by calls, schedules and
//! asynchronous requests, but a chain of event-triggered runs stops after one step.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use functiond_store::Store;
use functiond_types::Timestamp;
use functiond_types::events::expand;
use functiond_types::id::{DeploymentId, ExecutionId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use serde::Serialize;

use crate::error::Result;

/// One change, before expansion: the resources and IDs it concerns, and its action. Its
/// payload is given to [`Events::jobs`], which only builds it when someone listens.
#[derive(Debug, Clone)]
pub struct Event {
    parts: Vec<String>,
    action: &'static str,
}

/// An event payload: the model as the API shows it.
pub(crate) fn event_data(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Event {
    fn new(parts: Vec<String>, action: &'static str) -> Self {
        Self { parts, action }
    }

    pub fn function(id: &FunctionId, action: &'static str) -> Self {
        Self::new(vec!["functions".into(), id.to_string()], action)
    }

    pub fn deployment(
        function: &FunctionId,
        deployment: &DeploymentId,
        action: &'static str,
    ) -> Self {
        let parts = vec![
            "functions".into(),
            function.to_string(),
            "deployments".into(),
            deployment.to_string(),
        ];
        Self::new(parts, action)
    }

    pub fn execution(function: &FunctionId, execution: &ExecutionId, action: &'static str) -> Self {
        let parts = vec![
            "functions".into(),
            function.to_string(),
            "executions".into(),
            execution.to_string(),
        ];
        Self::new(parts, action)
    }

    /// Every name of the event, most specific first.
    pub fn names(&self) -> Vec<String> {
        let parts: Vec<&str> = self.parts.iter().map(String::as_str).collect();
        expand(&parts, self.action)
    }
}

/// What a delivery job carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct DeliveryPayload {
    pub project: String,
    /// Unique per announcement: the seed of the IDs of the executions it starts, so a
    /// delivery that runs twice starts each execution once.
    pub id: String,
    pub names: Vec<String>,
    pub data: String,
}

pub(crate) const KIND: &str = "event";

/// Decides which announcements need a delivery job.
#[derive(Debug, Clone)]
pub struct Events {
    store: Arc<dyn Store>,
    /// Per project: every event name some function listens for.
    listened: Arc<RwLock<HashMap<String, Arc<HashSet<String>>>>>,
    /// Bumped by every `forget`, so a load that raced with a change is not kept.
    generation: Arc<AtomicU64>,
}

impl Events {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            listened: Arc::default(),
            generation: Arc::default(),
        }
    }

    /// The jobs announcing `event`: one delivery when a function of the project listens for
    /// one of its names, none otherwise. `data` makes the payload subscribers receive as
    /// `APPWRITE_FUNCTION_EVENT_DATA`; it is only called when someone listens, so an event
    /// nobody hears costs no copy of the model (an execution's outputs reach megabytes).
    pub(crate) async fn jobs(
        &self,
        project: &ProjectId,
        event: &Event,
        data: impl FnOnce() -> String,
    ) -> Result<Vec<NewJob>> {
        let listened = self.listened(project).await?;
        let names = event.names();
        if !names.iter().any(|name| listened.contains(name)) {
            return Ok(Vec::new());
        }
        let payload = DeliveryPayload {
            project: project.to_string(),
            id: functiond_types::id::unique(),
            names,
            data: data(),
        };
        Ok(vec![NewJob {
            kind: KIND.to_owned(),
            payload: serde_json::to_string(&payload).unwrap_or_default(),
            run_at: Timestamp::now(),
            dedupe_key: None,
        }])
    }

    /// Call when a function of the project was created, changed or deleted.
    pub(crate) fn forget(&self, project: &ProjectId) {
        let mut listened = self
            .listened
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        listened.remove(project.as_str());
    }

    async fn listened(&self, project: &ProjectId) -> Result<Arc<HashSet<String>>> {
        if let Some(names) = self
            .listened
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(project.as_str())
        {
            return Ok(names.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let names: Arc<HashSet<String>> = Arc::new(
            self.store
                .subscribed_events(project)
                .await?
                .into_iter()
                .collect(),
        );
        let mut listened = self
            .listened
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) == generation {
            listened.insert(project.to_string(), names.clone());
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_an_execution_update() {
        let event = Event::execution(
            &FunctionId::parse("f1").unwrap(),
            &ExecutionId::parse("e1").unwrap(),
            "update",
        );
        let names = event.names();
        assert_eq!(names[0], "functions.f1.executions.e1.update");
        assert!(names.contains(&"functions.*.executions.*.update".to_owned()));
        assert!(names.contains(&"functions.*".to_owned()));
    }
}
