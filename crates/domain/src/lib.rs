//! The use cases of functiond: one service per Appwrite resource family, one method per use
//! case. Each method takes the [`Caller`] first, authorizes it, validates the input with
//! Appwrite's rules, and writes through the [`Store`].
//!
//! Flow: `api -> domain -> store`. This crate knows no HTTP, no SQL and no processes.

use std::sync::Arc;

use functiond_store::Store;
use functiond_types::runtime::Runtime;

pub mod auth;
pub mod caller;
mod error;
pub mod functions;
pub mod ports;
pub mod projects;
pub mod runtimes;
mod validate;
pub mod variables;

pub use auth::Auth;
pub use caller::{Caller, Identity};
pub use error::{Error, Result};
pub use functions::Functions;
pub use projects::Projects;
pub use runtimes::Runtimes;
pub use variables::Variables;

/// Limits the services enforce, from the server's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The largest `timeout` a function may ask for, in seconds.
    pub max_timeout: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { max_timeout: 900 }
    }
}

/// Every service, built once at start-up and shared by the API handlers.
#[derive(Debug, Clone)]
pub struct Services {
    pub auth: Auth,
    pub projects: Projects,
    pub functions: Functions,
    pub variables: Variables,
    pub runtimes: Runtimes,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, runtimes: Vec<Runtime>, settings: Settings) -> Self {
        let auth = Auth::new(store.clone());
        let runtimes = Runtimes::new(runtimes);
        Self {
            projects: Projects::new(store.clone(), auth.clone()),
            functions: Functions::new(store.clone(), runtimes.clone(), settings.max_timeout),
            variables: Variables::new(store),
            runtimes,
            auth,
        }
    }
}
