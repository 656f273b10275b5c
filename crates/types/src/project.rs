//! Projects (tenants) and their API keys.

use crate::Timestamp;
use crate::id::{KeyId, ProjectId};
use crate::scope::Scope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub created_at: Timestamp,
}

/// An API key as stored: the secret itself is never kept, only its lookup prefix and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: KeyId,
    pub project_id: ProjectId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expire: Option<Timestamp>,
    pub created_at: Timestamp,
}
