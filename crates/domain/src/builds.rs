//! The build job: unpack a deployment's archive, install its dependencies, record the
//! outcome, and activate the deployment when it asked for it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use functiond_store::{Blobs, Store};
use functiond_types::Timestamp;
use functiond_types::deployment::{Build, BuildStatus, DeploymentWithBuild};
use functiond_types::id::{BuildId, DeploymentId, ProjectId};
use functiond_types::model;

use crate::Context;
use crate::error::{Error, Result};
use crate::events::{Event, Events, event_data};
use crate::jobs::BuildPayload;
use crate::ports::{BuildRequest, Invoker};
use crate::runtimes::Runtimes;

#[derive(Debug, Clone)]
pub(crate) struct Builds {
    store: Arc<dyn Store>,
    events: Events,
    blobs: Blobs,
    invoker: Arc<dyn Invoker>,
    runtimes: Runtimes,
    timeout: Duration,
}

impl Builds {
    pub(crate) fn new(context: &Context, timeout: Duration) -> Self {
        Self {
            store: context.store.clone(),
            events: context.events.clone(),
            blobs: context.blobs.clone(),
            invoker: context.invoker.clone(),
            runtimes: context.runtimes.clone(),
            timeout,
        }
    }

    /// Builds a deployment. Safe to run again after a crash: it starts over from the archive.
    pub(crate) async fn run(&self, payload: BuildPayload) -> Result<()> {
        let bad = |what: &str| Error::JobPayload {
            message: format!("invalid {what} in a build job"),
        };
        let project = ProjectId::parse(&payload.project).map_err(|_| bad("project"))?;
        let id = DeploymentId::parse(&payload.deployment).map_err(|_| bad("deployment"))?;
        // A deployment or function deleted since the job was queued needs no build.
        let Some(found) = self.store.get_deployment(&project, &id).await? else {
            return Ok(());
        };
        let deployment = found.deployment;
        let Some(function) = self
            .store
            .get_function(&project, &deployment.function_id)
            .await?
        else {
            return Ok(());
        };

        let now = Timestamp::now();
        let mut build = found.build.unwrap_or_else(|| Build {
            id: BuildId::unique(),
            deployment_id: id.clone(),
            created_at: now,
            updated_at: now,
            status: BuildStatus::Processing,
            stdout: String::new(),
            stderr: String::new(),
            duration: 0,
        });
        build.status = BuildStatus::Building;
        build.updated_at = now;
        // Appwrite announces the deployment's update when its build starts.
        let event = Event::deployment(&deployment.function_id, &id, "update");
        let queued = self
            .events
            .jobs(&project, &event, || {
                let mut started = deployment.clone();
                started.build_id = Some(build.id.clone());
                event_data(&model::Deployment::from(DeploymentWithBuild {
                    deployment: started,
                    build: Some(build.clone()),
                }))
            })
            .await?;
        self.store.save_build(&project, &build, &queued).await?;

        let outcome = match self.runtimes.get(&function.function.runtime) {
            None => {
                build.stderr = format!(
                    "Runtime \"{}\" is not available on this server.",
                    function.function.runtime
                );
                None
            }
            Some(runtime) => {
                let request = BuildRequest {
                    project: project.clone(),
                    function: deployment.function_id.clone(),
                    deployment: id.clone(),
                    runtime: runtime.clone(),
                    entrypoint: deployment.entrypoint.clone(),
                    archive: self.blobs.archive_path(&project, &id),
                    code_dir: self.blobs.fresh_code_dir(&project, &id).await?,
                    variables: function
                        .vars
                        .iter()
                        .map(|v| (v.key.clone(), v.value.clone()))
                        .collect::<BTreeMap<_, _>>(),
                    timeout: self.timeout,
                };
                Some(self.invoker.build(request).await)
            }
        };

        let succeeded = outcome.as_ref().is_some_and(|o| o.success);
        if let Some(outcome) = outcome {
            build.stdout = if outcome.success && outcome.stdout.trim().is_empty() {
                "Build Successful!".to_owned()
            } else {
                outcome.stdout
            };
            build.stderr = outcome.stderr;
            build.duration = outcome.duration.as_secs_f64().round() as i64;
        }
        build.status = if succeeded {
            BuildStatus::Ready
        } else {
            BuildStatus::Failed
        };
        build.updated_at = Timestamp::now();
        let activate = (succeeded && deployment.activate).then_some(&deployment.function_id);
        self.store.finish_build(&project, &build, activate).await?;
        tracing::info!(
            project = %project,
            deployment = %id,
            status = %build.status,
            seconds = build.duration,
            "build finished"
        );
        Ok(())
    }
}
