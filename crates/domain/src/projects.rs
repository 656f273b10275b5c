//! Operator actions on projects, run from the command line by whoever holds the data dir
//! (there is no console or admin API): create a project, and set up a fresh server.

use std::sync::Arc;

use functiond_store::{Store, StoreError};
use functiond_types::Timestamp;
use functiond_types::id::ProjectId;
use functiond_types::project::Project;
use functiond_types::scope::Scope;

use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::validate::{invalid, text_length};

pub const DEFAULT_PROJECT: &str = "default";

/// What a first start created: the default project and an all-scope key.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub project: ProjectId,
    pub key_secret: String,
}

#[derive(Debug, Clone)]
pub struct Projects {
    store: Arc<dyn Store>,
    auth: Auth,
}

impl Projects {
    pub fn new(store: Arc<dyn Store>, auth: Auth) -> Self {
        Self { store, auth }
    }

    pub async fn create(&self, id: &str, name: Option<&str>) -> Result<Project> {
        let id = ProjectId::parse(id).map_err(|error| invalid("projectId", error))?;
        let name = name.unwrap_or(id.as_str()).to_owned();
        text_length("name", &name, 128)?;
        let project = Project {
            id,
            name,
            created_at: Timestamp::now(),
        };
        match self.store.create_project(&project).await {
            Err(StoreError::Conflict { .. }) => Err(Error::AlreadyExists {
                what: "project",
                id: project.id.to_string(),
            }),
            other => Ok(other.map(|()| project)?),
        }
    }

    /// On an empty store, creates project `default` and a key with every scope. Returns
    /// `None` when the store already holds a project.
    pub async fn bootstrap(&self) -> Result<Option<Bootstrap>> {
        if self.store.count_projects().await? > 0 {
            return Ok(None);
        }
        let project = self.create(DEFAULT_PROJECT, Some("Default")).await?;
        let (_, key_secret) = self
            .auth
            .create_key(&project.id, "bootstrap", Scope::ALL.to_vec())
            .await?;
        Ok(Some(Bootstrap {
            project: project.id,
            key_secret,
        }))
    }
}
