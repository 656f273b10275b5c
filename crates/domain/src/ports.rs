//! What the domain needs from the outside world, as traits the binary wires up: the
//! [`Invoker`] builds deployments and runs them (implemented by the executor).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use functiond_types::id::{DeploymentId, FunctionId, ProjectId};
use functiond_types::runtime::Runtime;

/// Build one deployment: check and unpack its archive into `code_dir`, make sure the
/// entrypoint exists, and install its dependencies (`npm install` when `package.json` exists,
/// `pip install -r requirements.txt` when that exists, nothing otherwise).
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub project: ProjectId,
    pub function: FunctionId,
    pub deployment: DeploymentId,
    pub runtime: Runtime,
    pub entrypoint: String,
    /// The uploaded `tar.gz`.
    pub archive: PathBuf,
    /// An empty directory the build fills; it becomes the code every instance starts from.
    pub code_dir: PathBuf,
    /// The function's variables, available to install scripts.
    pub variables: BTreeMap<String, String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutcome {
    pub success: bool,
    pub stdout: String,
    /// On failure, what went wrong, in words the user can act on (e.g. the missing
    /// entrypoint's name, or the unsafe archive entry).
    pub stderr: String,
    pub duration: Duration,
}

/// Run a built deployment once.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    pub project: ProjectId,
    pub function: FunctionId,
    pub deployment: DeploymentId,
    pub runtime: Runtime,
    pub entrypoint: String,
    /// The build's output (`BuildRequest::code_dir`).
    pub code_dir: PathBuf,
    /// The function's variables merged with the `APPWRITE_FUNCTION_*` set: `req.variables`,
    /// and the process environment of the instance.
    pub variables: BTreeMap<String, String>,
    /// `req.payload`.
    pub payload: String,
    /// `req.headers`.
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvokeOutcome {
    /// The status the function answered with (`res.send(text, status)`), or 500 when it
    /// threw, timed out or could not start.
    pub status_code: u16,
    /// The response body; `res.json` values arrive JSON-encoded.
    pub response: String,
    /// What the handler printed during this call.
    pub stdout: String,
    /// What the handler printed to stderr, plus the error when it threw, timed out or
    /// could not start.
    pub stderr: String,
    /// Time spent in the call itself (a cold start is not counted).
    pub duration: Duration,
}

impl InvokeOutcome {
    /// Whether the execution counts as failed: a status of 500 or more.
    pub fn failed(&self) -> bool {
        self.status_code >= 500
    }
}

/// Builds and runs deployments. Implementations must never panic on user code's behaviour:
/// every failure is an outcome.
#[async_trait]
pub trait Invoker: Send + Sync + std::fmt::Debug {
    async fn build(&self, request: BuildRequest) -> BuildOutcome;

    async fn invoke(&self, request: InvokeRequest) -> InvokeOutcome;

    /// Stops the warm instances of a deployment (it was deleted, or replaced).
    async fn retire(&self, project: &ProjectId, deployment: &DeploymentId);
}

/// The time, as the use cases see it: injected so schedules can be tested without waiting.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> functiond_types::Timestamp;
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> functiond_types::Timestamp {
        functiond_types::Timestamp::now()
    }
}
