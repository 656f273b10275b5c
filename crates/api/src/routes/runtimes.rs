//! `/v1/functions/runtimes`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::render;
use functiond_types::model::{List, Runtime};

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Response> {
    let runtimes = state.services.runtimes.list(&caller)?;
    let body = List {
        total: runtimes.len() as u64,
        plural: "runtimes",
        items: runtimes.iter().map(Runtime::from).collect(),
    };
    Ok(render::json(StatusCode::OK, &body))
}
