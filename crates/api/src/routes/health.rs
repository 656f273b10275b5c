//! `/v1/health/version`: what appwrite-cli asks first to check it is talking to a server.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::{API_VERSION, render};

pub async fn version() -> Response {
    render::json(StatusCode::OK, &json!({ "version": API_VERSION }))
}
