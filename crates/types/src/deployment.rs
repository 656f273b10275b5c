//! Deployments (uploaded versions of a function's code) and their builds.

use std::fmt;

use crate::Timestamp;
use crate::id::{BuildId, DeploymentId, FunctionId};
use crate::query::{AttrType, Attribute, Schema};

pub const ENTRYPOINT_MAX_LEN: usize = 1028;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: DeploymentId,
    pub function_id: FunctionId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub entrypoint: String,
    /// The archive's size in bytes: the declared total while a chunked upload is under way,
    /// the stored size once it is complete.
    pub size: u64,
    /// The current build; `None` until the build job picks the deployment up.
    pub build_id: Option<BuildId>,
    /// Activate automatically when the build succeeds.
    pub activate: bool,
    pub chunks_total: u64,
    pub chunks_uploaded: u64,
}

impl Deployment {
    /// The text the `search` param matches against: id and entrypoint.
    pub fn search_text(&self) -> String {
        format!("{} {}", self.id, self.entrypoint)
    }

    pub fn is_uploaded(&self) -> bool {
        self.chunks_uploaded >= self.chunks_total
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuildStatus {
    Processing,
    Building,
    Ready,
    Failed,
}

impl BuildStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Processing => "processing",
            BuildStatus::Building => "building",
            BuildStatus::Ready => "ready",
            BuildStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Processing, Self::Building, Self::Ready, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for BuildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub id: BuildId,
    pub deployment_id: DeploymentId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status: BuildStatus,
    pub stdout: String,
    pub stderr: String,
    /// Whole seconds the build took.
    pub duration: i64,
}

/// A deployment with its current build, as the Deployment model shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentWithBuild {
    pub deployment: Deployment,
    pub build: Option<Build>,
}

/// The attributes List Deployments may filter and sort on.
pub const SCHEMA: Schema = Schema {
    noun: "Deployment",
    attributes: &[
        Attribute {
            name: "entrypoint",
            kind: AttrType::String,
        },
        Attribute {
            name: "size",
            kind: AttrType::Integer,
        },
        Attribute {
            name: "buildId",
            kind: AttrType::String,
        },
        Attribute {
            name: "activate",
            kind: AttrType::Boolean,
        },
    ],
};
