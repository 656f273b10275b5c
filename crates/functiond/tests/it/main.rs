//! The API integration suite: a real server on `127.0.0.1:0` over a fresh SQLite data dir per
//! test, driven over HTTP. Wire bodies are pinned with insta snapshots (IDs and times
//! redacted); everything else asserts specific values.

mod auth;
mod bad_input;
mod deployments;
mod executions;
mod functions;
mod harness;
mod rate_limit;
mod runtimes;
mod sandbox;
mod users;
mod variables;
mod wire;
