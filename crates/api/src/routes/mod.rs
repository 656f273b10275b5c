//! One file per Appwrite resource. Each handler does three things: extract, make one domain
//! call, render.

pub mod deployments;
pub mod executions;
pub mod functions;
pub mod health;
pub mod runtimes;
pub mod variables;
