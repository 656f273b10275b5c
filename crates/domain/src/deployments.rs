//! Deployments: upload (whole or in chunks), list, get, delete, activate, and retry a
//! failed build. Uploads are streamed by the API into a staging file this service names, so
//! no upload is ever held in memory.

use std::path::PathBuf;
use std::sync::Arc;

use functiond_store::{Blobs, Page, Store};
use functiond_types::deployment::{
    self, Build, BuildStatus, Deployment, DeploymentWithBuild, ENTRYPOINT_MAX_LEN,
};
use functiond_types::function::FunctionWithVars;
use functiond_types::id::{self, DeploymentId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::model;
use functiond_types::scope::Scope;
use functiond_types::{ErrorCode, Timestamp};

use crate::Context;
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::events::{Event, Events, event_data};
use crate::functions::{ListInput, cursor_error, list_query};
use crate::jobs::{self, Queue};
use crate::ports::Invoker;
use crate::upload::{ContentRange, covers};
use crate::validate::required_text;

/// Where the API should stream an upload's file, and how many bytes it may take.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    pub path: PathBuf,
    pub max_bytes: u64,
}

/// A file the API has streamed to an [`UploadTarget`].
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub path: PathBuf,
    pub file_name: String,
    pub size: u64,
}

/// The parameters of Create Deployment; `None` means absent.
#[derive(Debug, Clone, Default)]
pub struct UploadInput {
    pub entrypoint: Option<String>,
    pub activate: Option<bool>,
    pub file: Option<StagedFile>,
    /// The `Content-Range` header of a chunked upload.
    pub content_range: Option<String>,
    /// The `X-Appwrite-ID` header: the deployment the chunk belongs to.
    pub upload_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Deployments {
    store: Arc<dyn Store>,
    blobs: Blobs,
    invoker: Arc<dyn Invoker>,
    queue: Queue,
    events: Events,
    size_limit: u64,
}

impl Deployments {
    pub(crate) fn new(context: &Context, size_limit: u64) -> Self {
        Self {
            store: context.store.clone(),
            blobs: context.blobs.clone(),
            invoker: context.invoker.clone(),
            queue: context.queue.clone(),
            events: context.events.clone(),
            size_limit,
        }
    }

    /// The event of a change to a deployment, as jobs.
    async fn announce(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        deployment: &DeploymentId,
        action: &'static str,
        data: impl FnOnce() -> String,
    ) -> Result<Vec<NewJob>> {
        let event = Event::deployment(function, deployment, action);
        self.events.jobs(project, &event, data).await
    }

    /// The checks that come before the upload's body is read: scope and function.
    pub async fn prepare_upload(
        &self,
        caller: &Caller,
        function: &FunctionId,
    ) -> Result<UploadTarget> {
        caller.require(Scope::FunctionsWrite)?;
        self.function(&caller.project, function).await?;
        Ok(UploadTarget {
            path: self.blobs.staging_path().await?,
            max_bytes: self.size_limit,
        })
    }

    /// Takes a whole upload, or one chunk of it. Answers the deployment as it now stands.
    pub async fn create(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: UploadInput,
    ) -> Result<DeploymentWithBuild> {
        let staged = input.file.as_ref().map(|file| file.path.clone());
        let result = self.accept(caller, function, input).await;
        if let Some(path) = staged {
            // Kept files were moved away; anything still here was refused.
            self.blobs.discard(&path).await;
        }
        result
    }

    async fn accept(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: UploadInput,
    ) -> Result<DeploymentWithBuild> {
        caller.require(Scope::FunctionsWrite)?;
        let entrypoint = required_text("entrypoint", input.entrypoint, ENTRYPOINT_MAX_LEN)?;
        self.function(&caller.project, function).await?;
        let file = match input.file {
            Some(file) if file.size > 0 => file,
            _ => return Err(Error::upload(ErrorCode::StorageFileEmpty, "No file sent")),
        };
        // Only the last extension counts, as in Appwrite: `code.tar.gz` passes.
        let extension = file.file_name.rsplit_once('.').map(|(_, ext)| ext);
        if extension != Some("gz") {
            return Err(Error::upload(
                ErrorCode::StorageFileTypeUnsupported,
                format!(
                    "File \"{}\" is not a .gz archive: upload the code as a tar.gz file.",
                    file.file_name
                ),
            ));
        }
        let range = match input.content_range.as_deref() {
            None => ContentRange {
                start: 0,
                end: file.size,
                size: file.size,
            },
            Some(header) => ContentRange::parse(header)?,
        };
        if range.size > self.size_limit {
            return Err(Error::upload(
                ErrorCode::StorageInvalidFileSize,
                format!(
                    "The deployment is {} bytes; the limit is {} bytes.",
                    range.size, self.size_limit
                ),
            ));
        }
        if file.size != range.chunk_len() {
            return Err(Error::upload(
                ErrorCode::StorageInvalidContentRange,
                format!(
                    "The Content-Range announces {} bytes but the file has {}.",
                    range.chunk_len(),
                    file.size
                ),
            ));
        }
        let id = match (input.content_range.as_ref(), input.upload_id.as_deref()) {
            (Some(_), Some(upload_id)) if !upload_id.is_empty() => DeploymentId::parse(upload_id)
                .map_err(|_| {
                Error::argument(format!("Invalid X-Appwrite-ID: {}", id::UID_RULE))
            })?,
            _ => DeploymentId::unique(),
        };
        let project = &caller.project;
        let mut deployment = match self.store.get_deployment(project, &id).await? {
            Some(found) if found.deployment.function_id != *function => {
                return Err(Error::deployment_not_found());
            }
            Some(found) if found.deployment.is_uploaded() => {
                return Err(Error::upload(
                    ErrorCode::StorageInvalidContentRange,
                    "This deployment's upload is already complete.",
                ));
            }
            Some(found) if found.deployment.size != range.size => {
                return Err(Error::upload(
                    ErrorCode::StorageInvalidContentRange,
                    "The Content-Range's total size differs from the upload's first chunk.",
                ));
            }
            Some(found) => found.deployment,
            None => {
                let now = Timestamp::now();
                let new = Deployment {
                    id: id.clone(),
                    function_id: function.clone(),
                    created_at: now,
                    updated_at: now,
                    entrypoint,
                    size: range.size,
                    build_id: None,
                    activate: input.activate.unwrap_or(false),
                    chunks_total: range.size.div_ceil(file.size).max(1),
                    chunks_uploaded: 0,
                };
                self.store.create_deployment(project, &new, &[]).await?;
                new
            }
        };

        self.blobs
            .keep_chunk(&file.path, project, &id, range.start)
            .await?;
        let chunks = self.blobs.chunks(project, &id).await?;
        deployment.chunks_uploaded = chunks.len() as u64;
        deployment.updated_at = Timestamp::now();
        let complete = covers(&chunks, range.size);
        if complete {
            deployment.size = self.blobs.assemble(project, &id).await?;
            deployment.chunks_total = deployment.chunks_uploaded;
        }
        let answer = DeploymentWithBuild {
            deployment,
            build: None,
        };
        // Every request announces the deployment's creation, each chunk included.
        let mut queued = self
            .announce(project, function, &id, "create", || {
                event_data(&model::Deployment::from(answer.clone()))
            })
            .await?;
        if complete {
            queued.push(jobs::build(project, &id));
            self.store
                .complete_upload(project, &answer.deployment, &queued)
                .await?;
            self.queue.wake();
        } else {
            self.store
                .update_deployment(project, &answer.deployment, &queued)
                .await?;
        }
        Ok(answer)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        function: &FunctionId,
        input: ListInput,
    ) -> Result<Page<DeploymentWithBuild>> {
        caller.require(Scope::FunctionsRead)?;
        let query = list_query(&deployment::SCHEMA, &input)?;
        self.function(&caller.project, function).await?;
        self.store
            .list_deployments(&caller.project, function, &query)
            .await
            .map_err(|error| cursor_error(error, deployment::SCHEMA.noun))
    }

    pub async fn get(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &DeploymentId,
    ) -> Result<DeploymentWithBuild> {
        caller.require(Scope::FunctionsRead)?;
        self.function(&caller.project, function).await?;
        self.find(&caller.project, function, id).await
    }

    /// Makes a deployment with a ready build the function's active one.
    pub async fn activate(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &DeploymentId,
    ) -> Result<FunctionWithVars> {
        caller.require(Scope::FunctionsWrite)?;
        let mut current = self.function(&caller.project, function).await?;
        let found = self.find(&caller.project, function, id).await?;
        match found.build.map(|build| build.status) {
            None => return Err(Error::BuildNotFound),
            Some(BuildStatus::Ready) => {}
            Some(_) => return Err(Error::BuildNotReady),
        }
        current.function.deployment = id.to_string();
        current.function.updated_at = Timestamp::now();
        let queued = self
            .announce(&caller.project, function, id, "update", || {
                event_data(&model::Function::from(current.clone()))
            })
            .await?;
        if !self
            .store
            .update_function(&caller.project, &current.function, &queued)
            .await?
        {
            return Err(Error::FunctionNotFound);
        }
        Ok(current)
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &DeploymentId,
    ) -> Result<()> {
        caller.require(Scope::FunctionsWrite)?;
        self.function(&caller.project, function).await?;
        self.find(&caller.project, function, id).await?;
        if self
            .store
            .delete_deployment(
                &caller.project,
                id,
                &self
                    .announce(&caller.project, function, id, "delete", String::new)
                    .await?,
            )
            .await?
            .is_none()
        {
            return Err(Error::deployment_not_found());
        }
        self.invoker.retire(&caller.project, id).await;
        self.blobs.remove_deployment(&caller.project, id).await?;
        Ok(())
    }

    /// Queues a new attempt at a failed build.
    pub async fn retry_build(
        &self,
        caller: &Caller,
        function: &FunctionId,
        id: &DeploymentId,
        build: &functiond_types::id::BuildId,
    ) -> Result<()> {
        caller.require(Scope::FunctionsWrite)?;
        self.function(&caller.project, function).await?;
        let found = self.find(&caller.project, function, id).await?;
        let current = found
            .build
            .filter(|current| current.id == *build)
            .ok_or(Error::BuildNotFound)?;
        if current.status != BuildStatus::Failed {
            return Err(Error::BuildInProgress);
        }
        let retry = Build {
            status: BuildStatus::Processing,
            stdout: String::new(),
            stderr: String::new(),
            duration: 0,
            updated_at: Timestamp::now(),
            ..current
        };
        let job = jobs::build(&caller.project, id);
        self.store
            .save_build(
                &caller.project,
                &retry,
                &[
                    vec![job],
                    self.announce(&caller.project, function, id, "update", String::new)
                        .await?,
                ]
                .concat(),
            )
            .await?;
        self.queue.wake();
        Ok(())
    }

    async fn function(&self, project: &ProjectId, id: &FunctionId) -> Result<FunctionWithVars> {
        self.store
            .get_function(project, id)
            .await?
            .ok_or(Error::FunctionNotFound)
    }

    /// A deployment of this function (one of another function is not found).
    async fn find(
        &self,
        project: &ProjectId,
        function: &FunctionId,
        id: &DeploymentId,
    ) -> Result<DeploymentWithBuild> {
        self.store
            .get_deployment(project, id)
            .await?
            .filter(|found| found.deployment.function_id == *function)
            .ok_or_else(Error::deployment_not_found)
    }
}
