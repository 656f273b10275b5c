//! The vocabulary of functiond, shared by every other crate: validated IDs, the resources
//! (functions, variables, runtimes, projects, keys), roles and scopes, event names, CRON
//! schedules, the Appwrite query language, and the catalogue of Appwrite error types.
//!
//! This crate does no I/O. It sits below everything: `types <- store <- domain <- api`.

pub mod deployment;
pub mod error;
pub mod events;
pub mod execution;
pub mod function;
pub mod id;
pub mod job;
pub mod model;
pub mod project;
pub mod query;
pub mod roles;
pub mod runtime;
pub mod schedule;
pub mod scope;
pub mod time;
pub mod variable;

pub use error::ErrorCode;
pub use time::Timestamp;
