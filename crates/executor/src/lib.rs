//! Turns deployments into running code. Today it owns the runtimes catalogue: which languages
//! the host can run, discovered from the interpreters installed on it. Builds, the warm pool
//! and the invoke protocol join it with the executions work.
//!
//! Flow: `domain -> executor -> sandbox`. It never touches HTTP or SQL.

pub mod runtimes;
