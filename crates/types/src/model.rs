//! The wire models of Appwrite's response format 1.0.0: field names, order and defaults as
//! the SDKs expect them. Every field is always present; unset datetimes are `""`.
//!
//! They live here rather than in the API because they are also what event payloads carry
//! (`APPWRITE_FUNCTION_EVENT_DATA` is the triggering call's response body).

use crate::deployment::DeploymentWithBuild;
use crate::execution::Execution as ExecutionModel;
use crate::function::FunctionWithVars;
use crate::runtime::Runtime as RuntimeModel;
use crate::time::api_string_or_empty;
use crate::variable::Variable as VariableModel;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Function {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub execute: Vec<String>,
    pub name: String,
    pub enabled: bool,
    pub runtime: String,
    pub deployment: String,
    pub vars: Vec<Variable>,
    pub events: Vec<String>,
    pub schedule: String,
    #[serde(rename = "scheduleNext")]
    pub schedule_next: String,
    #[serde(rename = "schedulePrevious")]
    pub schedule_previous: String,
    pub timeout: i64,
}

impl From<FunctionWithVars> for Function {
    fn from(FunctionWithVars { function: f, vars }: FunctionWithVars) -> Self {
        Self {
            id: f.id.to_string(),
            created_at: f.created_at.to_api_string(),
            updated_at: f.updated_at.to_api_string(),
            execute: f.execute,
            name: f.name,
            enabled: f.enabled,
            runtime: f.runtime,
            deployment: f.deployment,
            vars: vars.into_iter().map(Variable::from).collect(),
            events: f.events,
            schedule: f.schedule,
            schedule_next: api_string_or_empty(f.schedule_next),
            schedule_previous: api_string_or_empty(f.schedule_previous),
            timeout: f.timeout,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Variable {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    pub key: String,
    pub value: String,
    #[serde(rename = "functionId")]
    pub function_id: String,
}

impl From<VariableModel> for Variable {
    fn from(v: VariableModel) -> Self {
        Self {
            id: v.id.to_string(),
            created_at: v.created_at.to_api_string(),
            updated_at: v.updated_at.to_api_string(),
            key: v.key,
            value: v.value,
            function_id: v.function_id.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Runtime {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    pub version: String,
    pub base: String,
    pub image: String,
    pub logo: String,
    pub supports: Vec<String>,
}

impl From<&RuntimeModel> for Runtime {
    fn from(r: &RuntimeModel) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            version: r.version.clone(),
            base: r.base.clone(),
            image: r.image.clone(),
            logo: r.logo.clone(),
            supports: r.supports.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Deployment {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    #[serde(rename = "resourceId")]
    pub resource_id: String,
    #[serde(rename = "resourceType")]
    pub resource_type: &'static str,
    pub entrypoint: String,
    pub size: u64,
    #[serde(rename = "buildId")]
    pub build_id: String,
    pub activate: bool,
    pub status: String,
    #[serde(rename = "buildStdout")]
    pub build_stdout: String,
    #[serde(rename = "buildStderr")]
    pub build_stderr: String,
    /// Appwrite 1.1 added this; 1.0 clients ignore it.
    #[serde(rename = "buildTime")]
    pub build_time: i64,
    /// Not in Appwrite's model, but the SDKs' upload progress callbacks read them.
    #[serde(rename = "chunksTotal")]
    pub chunks_total: u64,
    #[serde(rename = "chunksUploaded")]
    pub chunks_uploaded: u64,
}

impl From<DeploymentWithBuild> for Deployment {
    fn from(
        DeploymentWithBuild {
            deployment: d,
            build,
        }: DeploymentWithBuild,
    ) -> Self {
        let (status, build_stdout, build_stderr, build_time) = match build {
            // A deployment waits as `processing` until its build starts.
            None => ("processing".to_owned(), String::new(), String::new(), 0),
            Some(b) => (b.status.as_str().to_owned(), b.stdout, b.stderr, b.duration),
        };
        Self {
            id: d.id.to_string(),
            created_at: d.created_at.to_api_string(),
            updated_at: d.updated_at.to_api_string(),
            resource_id: d.function_id.to_string(),
            resource_type: "functions",
            entrypoint: d.entrypoint,
            size: d.size,
            build_id: d.build_id.map(|id| id.to_string()).unwrap_or_default(),
            activate: d.activate,
            status,
            build_stdout,
            build_stderr,
            build_time,
            chunks_total: d.chunks_total,
            chunks_uploaded: d.chunks_uploaded,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Execution {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$createdAt")]
    pub created_at: String,
    #[serde(rename = "$updatedAt")]
    pub updated_at: String,
    #[serde(rename = "$permissions")]
    pub permissions: Vec<String>,
    #[serde(rename = "functionId")]
    pub function_id: String,
    pub trigger: &'static str,
    pub status: &'static str,
    #[serde(rename = "statusCode")]
    pub status_code: i64,
    pub response: String,
    pub stdout: String,
    pub stderr: String,
    pub duration: f64,
}

impl From<ExecutionModel> for Execution {
    fn from(e: ExecutionModel) -> Self {
        Self {
            id: e.id.to_string(),
            created_at: e.created_at.to_api_string(),
            updated_at: e.updated_at.to_api_string(),
            permissions: e.permissions,
            function_id: e.function_id.to_string(),
            trigger: e.trigger.as_str(),
            status: e.status.as_str(),
            status_code: e.status_code,
            response: e.response,
            stdout: e.stdout,
            stderr: e.stderr,
            duration: e.duration,
        }
    }
}

/// `{ "total": n, "<plural>": [...] }`, with `total` first as in Appwrite.
#[derive(Debug)]
pub struct List<T> {
    pub total: u64,
    pub plural: &'static str,
    pub items: Vec<T>,
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("total", &self.total)?;
        map.serialize_entry(self.plural, &self.items)?;
        map.end()
    }
}
