//! `/v1/functions/{functionId}/executions[/{executionId}]`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use functiond_domain::executions::ExecutionInput;
use functiond_types::execution::ExecutionStatus;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::params::Params;
use crate::path::{ExecutionPath, FunctionPath};
use crate::render;
use crate::routes::functions::list_input;
use functiond_types::model::{Execution, List};

pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
    params: Params,
) -> ApiResult<Response> {
    let input = ExecutionInput {
        data: params.string("data")?,
        r#async: params.boolean("async")?,
    };
    let execution = state
        .services
        .executions
        .create(&caller, &path.function, input)
        .await?;
    // Queued runs are accepted; synchronous ones are created finished.
    let status = if execution.status == ExecutionStatus::Waiting {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Ok(render::json(status, &Execution::from(execution)))
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
    params: Params,
) -> ApiResult<Response> {
    let input = list_input(&params)?;
    let page = state
        .services
        .executions
        .list(&caller, &path.function, input)
        .await?;
    let body = List {
        total: page.total,
        plural: "executions",
        items: page.items.into_iter().map(Execution::from).collect(),
    };
    Ok(render::json(StatusCode::OK, &body))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: ExecutionPath,
) -> ApiResult<Response> {
    let execution = state
        .services
        .executions
        .get(&caller, &path.function, &path.execution)
        .await?;
    Ok(render::json(StatusCode::OK, &Execution::from(execution)))
}
