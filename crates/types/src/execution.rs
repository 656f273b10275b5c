//! Executions: one run of a function, with what it answered and printed.

use std::fmt;

use crate::Timestamp;
use crate::id::{DeploymentId, ExecutionId, FunctionId};
use crate::query::{AttrType, Attribute, Schema};

/// `data` is at most this many characters.
pub const DATA_MAX_LEN: usize = 8192;
/// `response`, `stdout` and `stderr` keep at most this many bytes each.
pub const OUTPUT_MAX_BYTES: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    Waiting,
    Processing,
    Completed,
    Failed,
}

impl ExecutionStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Waiting => "waiting",
            ExecutionStatus::Processing => "processing",
            ExecutionStatus::Completed => "completed",
            ExecutionStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Processing,
            Self::Completed,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    pub fn is_final(self) -> bool {
        matches!(self, ExecutionStatus::Completed | ExecutionStatus::Failed)
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    Http,
    Event,
    Schedule,
}

impl Trigger {
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::Event => "event",
            Trigger::Schedule => "schedule",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Http, Self::Event, Self::Schedule]
            .into_iter()
            .find(|trigger| trigger.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub id: ExecutionId,
    pub function_id: FunctionId,
    pub deployment_id: DeploymentId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Read permissions, e.g. `read("user:abc")`; empty for keys and guests.
    pub permissions: Vec<String>,
    pub trigger: Trigger,
    pub status: ExecutionStatus,
    pub status_code: i64,
    pub response: String,
    pub stdout: String,
    pub stderr: String,
    /// Seconds.
    pub duration: f64,
}

impl Execution {
    /// The text the `search` param matches against: function id and execution id.
    pub fn search_text(&self) -> String {
        format!("{} {}", self.function_id, self.id)
    }
}

/// Keeps at most `max` bytes of `text`, cut on a character boundary.
pub fn truncate_output(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// The attributes List Executions may filter and sort on.
pub const SCHEMA: Schema = Schema {
    noun: "Execution",
    attributes: &[
        Attribute {
            name: "trigger",
            kind: AttrType::String,
        },
        Attribute {
            name: "status",
            kind: AttrType::String,
        },
        Attribute {
            name: "statusCode",
            kind: AttrType::Integer,
        },
        Attribute {
            name: "duration",
            kind: AttrType::Float,
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_a_character_boundary() {
        assert_eq!(truncate_output("héllo".into(), 2), "h");
        assert_eq!(truncate_output("héllo".into(), 3), "hé");
        assert_eq!(truncate_output("abc".into(), 10), "abc");
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            ExecutionStatus::Waiting,
            ExecutionStatus::Processing,
            ExecutionStatus::Completed,
            ExecutionStatus::Failed,
        ] {
            assert_eq!(ExecutionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Trigger::parse("schedule"), Some(Trigger::Schedule));
        assert_eq!(Trigger::parse("cron"), None);
    }
}
