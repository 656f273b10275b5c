//! Functions: the unit users create, configure and run.

use crate::Timestamp;
use crate::id::FunctionId;
use crate::query::{AttrType, Attribute, Schema};
use crate::variable::Variable;

pub const NAME_MAX_LEN: usize = 128;
pub const DEFAULT_TIMEOUT: i64 = 15;
/// Arrays in params (`execute`, `events`) hold at most this many items.
pub const MAX_ARRAY_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub id: FunctionId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub execute: Vec<String>,
    pub name: String,
    pub enabled: bool,
    pub runtime: String,
    /// The active deployment; empty when none.
    pub deployment: String,
    pub events: Vec<String>,
    pub schedule: String,
    pub schedule_next: Option<Timestamp>,
    pub schedule_previous: Option<Timestamp>,
    /// When the schedule was last set; a pending schedule job older than this is stale.
    pub schedule_updated_at: Timestamp,
    pub timeout: i64,
}

impl Function {
    /// The text the `search` param matches against: id, name and runtime.
    pub fn search_text(&self) -> String {
        format!("{} {} {}", self.id, self.name, self.runtime)
    }
}

/// A function with its variables, as every Function model shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionWithVars {
    pub function: Function,
    pub vars: Vec<Variable>,
}

/// The attributes List Functions may filter and sort on.
pub const SCHEMA: Schema = Schema {
    noun: "Function",
    attributes: &[
        Attribute {
            name: "name",
            kind: AttrType::String,
        },
        Attribute {
            name: "enabled",
            kind: AttrType::Boolean,
        },
        Attribute {
            name: "runtime",
            kind: AttrType::String,
        },
        Attribute {
            name: "deployment",
            kind: AttrType::String,
        },
        Attribute {
            name: "schedule",
            kind: AttrType::String,
        },
        Attribute {
            name: "scheduleNext",
            kind: AttrType::Datetime,
        },
        Attribute {
            name: "schedulePrevious",
            kind: AttrType::Datetime,
        },
        Attribute {
            name: "timeout",
            kind: AttrType::Integer,
        },
    ],
};
