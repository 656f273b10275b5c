//! Why the server or a command could not do its job, worded for the operator.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot use the data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the secret key file {path} is unreadable or malformed (expected 64 hex characters); restore it or remove the data dir: {message}"
    )]
    SecretKey { path: PathBuf, message: String },
    #[error("cannot open the database: {source}")]
    Store {
        #[from]
        source: functiond_store::StoreError,
    },
    #[error("{source}")]
    Domain {
        #[from]
        source: functiond_domain::Error,
    },
    #[error("{source}")]
    Runtimes {
        #[from]
        source: functiond_executor::runtimes::CatalogueError,
    },
    #[error("cannot start the executor: {source}")]
    Executor {
        #[from]
        source: functiond_executor::ExecutorError,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{message}")]
    Usage { message: String },
    #[error(
        "{source}. functiond runs functions only in a sandbox; fix the host (run as root, enable user namespaces and the memory, pids and cpu cgroup controllers), or pass --insecure-no-sandbox for development only"
    )]
    Sandbox {
        source: functiond_sandbox::SandboxError,
    },
}
