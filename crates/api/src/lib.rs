//! functiond's HTTP face: the Appwrite 1.0 REST API (response format `1.0.0`) over the domain
//! services. It reads requests into typed inputs, turns credentials into a `Caller`, makes one
//! domain call per request and renders the result or the Appwrite error JSON.
//!
//! Flow: `api -> domain`. This crate holds no SQL, no authorization rules and no processes.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};
use functiond_domain::Services;

mod auth;
mod body;
pub mod client_ip;
mod error;
mod params;
mod path;
mod rate_limit;
pub mod render;
mod routes;
mod upload;

pub use error::ApiError;

/// The Appwrite version whose API this server reproduces; reported in error bodies and by
/// `/v1/health/version`, where SDKs and the CLI look for it.
pub const API_VERSION: &str = "1.0.3";

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub settings: Arc<ApiSettings>,
}

/// HTTP-level settings, from the server's configuration.
#[derive(Debug, Clone, Default)]
pub struct ApiSettings {
    /// Peers whose `X-Forwarded-For` names the client (for the rate limit).
    pub trusted_proxies: client_ip::TrustedProxies,
}

/// The whole route table.
pub fn router(services: Arc<Services>, settings: ApiSettings) -> Router {
    use routes::{deployments, executions, functions, health, runtimes, variables};

    let state = AppState {
        services,
        settings: Arc::new(settings),
    };
    let limited = axum::middleware::from_fn_with_state(state.clone(), rate_limit::create_execution);

    let api = Router::new()
        .route("/functions", get(functions::list).post(functions::create))
        // A static segment wins over `{functionId}`, so `runtimes` is never taken for an ID.
        .route("/functions/runtimes", get(runtimes::list))
        .route(
            "/functions/{functionId}",
            get(functions::get)
                .put(functions::update)
                .delete(functions::delete),
        )
        .route(
            "/functions/{functionId}/variables",
            get(variables::list).post(variables::create),
        )
        .route(
            "/functions/{functionId}/variables/{variableId}",
            get(variables::get)
                .put(variables::update)
                .delete(variables::delete),
        )
        .route(
            "/functions/{functionId}/deployments",
            // Uploads are streamed to disk and capped by the configured size limit, not by
            // the default body limit.
            get(deployments::list).post(deployments::create.layer(DefaultBodyLimit::disable())),
        )
        .route(
            "/functions/{functionId}/deployments/{deploymentId}",
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route(
            "/functions/{functionId}/deployments/{deploymentId}/builds/{buildId}",
            post(deployments::retry_build),
        )
        .route(
            "/functions/{functionId}/executions",
            get(executions::list).post(executions::create.layer(limited)),
        )
        .route(
            "/functions/{functionId}/executions/{executionId}",
            get(executions::get),
        )
        .route("/health/version", get(health::version));

    Router::new()
        .nest("/v1", api)
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        .layer(axum::middleware::from_fn(body::read_whole))
        .layer(axum::middleware::map_response(render::common_headers))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}
