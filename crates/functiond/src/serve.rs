//! The `serve` command: bootstrap an empty store, listen, and stop cleanly on SIGINT/SIGTERM
//! after in-flight requests finish.

use std::net::SocketAddr;
use std::sync::Arc;

use functiond_domain::Services;
use functiond_domain::projects::Bootstrap;
use functiond_executor::Executor;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app;
use crate::config::Config;
use crate::error::Error;

const BOOTSTRAP_FILE: &str = "bootstrap.json";

/// A server bound to its address, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    services: Arc<Services>,
    executor: Arc<Executor>,
    workers: usize,
    api: functiond_api::ApiSettings,
    pub endpoint: String,
    pub bootstrap: Option<Bootstrap>,
}

impl Server {
    /// Opens the store, creates the first project and key if the store is empty (saving
    /// them in `<data-dir>/bootstrap.json`), and binds the listener.
    pub async fn start(config: &Config) -> Result<Self, Error> {
        let store = app::migrated_store(config).await?;
        // With SQLite this process is the only worker: jobs leased by a previous run that
        // died are free to run again now, not when their leases run out.
        let released = store.release_job_leases().await?;
        if released > 0 {
            tracing::info!(
                jobs = released,
                "resuming jobs interrupted by the last stop"
            );
        }
        // An unfinished execution without a job (its job gave up after its last attempt) would
        // otherwise wait forever: report it as failed.
        let interrupted = store
            .fail_interrupted_executions(
                functiond_types::Timestamp::now(),
                "This execution was interrupted and could not be completed; run it again.",
            )
            .await?;
        if interrupted > 0 {
            tracing::warn!(
                executions = interrupted,
                "marked executions that no job would finish as failed"
            );
        }
        let (services, executor) = app::services(config, store)?;
        let services = Arc::new(services);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                address: config.listen,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| Error::Listen {
            address: config.listen,
            source,
        })?;
        let endpoint = format!("http://{}/v1", reachable(address));
        let bootstrap = services.projects.bootstrap().await?;
        if let Some(first) = &bootstrap {
            let saved = json!({
                "endpoint": endpoint,
                "project": first.project.as_str(),
                "key": first.key_secret,
            });
            let path = config.data_dir.join(BOOTSTRAP_FILE);
            let text = serde_json::to_string_pretty(&saved).unwrap_or_default();
            app::write_private(&path, &text).map_err(|source| Error::DataDir { path, source })?;
        }
        Ok(Self {
            listener,
            services,
            executor,
            workers: config.workers,
            api: functiond_api::ApiSettings {
                trusted_proxies: config.access.trusted_proxies.clone(),
            },
            endpoint,
            bootstrap,
        })
    }

    /// Serves and works the job queue until `shutdown` is cancelled; then lets in-flight
    /// requests and jobs finish, and stops every function instance.
    pub async fn run(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let worker = tokio::spawn(
            self.services
                .worker
                .clone()
                .run(self.workers, shutdown.clone()),
        );
        let router = functiond_api::router(self.services, self.api);
        // The peer address is the client's IP for the rate limit.
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
        if let Err(error) = worker.await {
            tracing::error!(%error, "the job worker stopped abnormally");
        }
        self.executor.shutdown().await;
        served
    }
}

/// An address clients can use: a wildcard bind is reached through loopback.
fn reachable(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], address.port()))
    } else {
        address
    }
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down: finishing in-flight requests");
        token.cancel();
    });
}
