//! The executor's integration suite: real builds and executions with the host's `node` and
//! `python3`, through the public `Invoker` interface.

mod builds;
mod harness;
mod latency;
mod node;
mod pool;
mod python;
