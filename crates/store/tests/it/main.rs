//! The store conformance suite: every test runs against each backend the harness opens
//! (SQLite in a temp dir today; PostgreSQL joins through `harness::unmigrated`), through
//! `Arc<dyn Store>` only, and asserts specific values. Checks that must read raw rows (is a
//! variable value encrypted at rest?) go through the backend's own driver.

mod cursors;
mod executions;
mod functions;
mod harness;
mod jobs;
mod listing;
mod projects;
mod rate_limits;
mod search;
mod variables;
mod visibility;
