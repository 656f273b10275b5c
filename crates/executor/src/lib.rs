//! Turns deployments into running code: the runtimes catalogue (which languages the host can
//! run), builds (unpack, check, install dependencies), the warm pool of runtime instances,
//! and the invoke protocol with the in-sandbox runtime shims (`runtimes/<language>/`). The
//! [`Executor`] implements the domain's [`Invoker`](functiond_domain::ports::Invoker) port; the binary creates one and calls
//! [`Executor::shutdown`] when it stops.
//!
//! Flow: `domain -> executor -> sandbox`. It never touches HTTP or SQL, and starts processes
//! only through the sandbox crate.

pub mod archive;
mod build;
mod executor;
mod instance;
mod invoke;
mod pool;
mod protocol;
pub mod runtimes;
mod shims;

pub use executor::{Executor, ExecutorError, Settings};
pub use invoke::TIMEOUT_STDERR;
