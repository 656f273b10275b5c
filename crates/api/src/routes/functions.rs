//! `/v1/functions` and `/v1/functions/{functionId}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use functiond_domain::functions::{FunctionInput, ListInput};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::params::Params;
use crate::path::FunctionPath;
use crate::render;
use functiond_types::model::{Function, List};

fn function_input(params: &Params) -> ApiResult<FunctionInput> {
    Ok(FunctionInput {
        function_id: params.string("functionId")?,
        name: params.string("name")?,
        execute: params.strings("execute")?,
        runtime: params.string("runtime")?,
        events: params.strings("events")?,
        schedule: params.string("schedule")?,
        timeout: params.integer("timeout")?,
        enabled: params.boolean("enabled")?,
    })
}

pub(crate) fn list_input(params: &Params) -> ApiResult<ListInput> {
    Ok(ListInput {
        queries: params.strings("queries")?.unwrap_or_default(),
        search: params.string("search")?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> ApiResult<Response> {
    let input = function_input(&params)?;
    let function = state.services.functions.create(&caller, input).await?;
    Ok(render::json(StatusCode::CREATED, &Function::from(function)))
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    params: Params,
) -> ApiResult<Response> {
    let input = list_input(&params)?;
    let page = state.services.functions.list(&caller, input).await?;
    let body = List {
        total: page.total,
        plural: "functions",
        items: page.items.into_iter().map(Function::from).collect(),
    };
    Ok(render::json(StatusCode::OK, &body))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
) -> ApiResult<Response> {
    let function = state
        .services
        .functions
        .get(&caller, &path.function)
        .await?;
    Ok(render::json(StatusCode::OK, &Function::from(function)))
}

pub async fn update(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
    params: Params,
) -> ApiResult<Response> {
    let input = function_input(&params)?;
    let function = state
        .services
        .functions
        .update(&caller, &path.function, input)
        .await?;
    Ok(render::json(StatusCode::OK, &Function::from(function)))
}

pub async fn delete(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
) -> ApiResult<Response> {
    state
        .services
        .functions
        .delete(&caller, &path.function)
        .await?;
    Ok(render::no_content())
}
