//! `/v1/functions/{functionId}/variables[/{variableId}]`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use functiond_domain::variables::VariableInput;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::params::Params;
use crate::path::{FunctionPath, VariablePath};
use crate::render;
use functiond_types::model::{List, Variable};

fn variable_input(params: &Params) -> ApiResult<VariableInput> {
    Ok(VariableInput {
        key: params.string("key")?,
        value: params.string("value")?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
    params: Params,
) -> ApiResult<Response> {
    let input = variable_input(&params)?;
    let variable = state
        .services
        .variables
        .create(&caller, &path.function, input)
        .await?;
    Ok(render::json(StatusCode::CREATED, &Variable::from(variable)))
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
) -> ApiResult<Response> {
    let variables = state
        .services
        .variables
        .list(&caller, &path.function)
        .await?;
    let body = List {
        total: variables.len() as u64,
        plural: "variables",
        items: variables.into_iter().map(Variable::from).collect(),
    };
    Ok(render::json(StatusCode::OK, &body))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: VariablePath,
) -> ApiResult<Response> {
    let variable = state
        .services
        .variables
        .get(&caller, &path.function, &path.variable)
        .await?;
    Ok(render::json(StatusCode::OK, &Variable::from(variable)))
}

pub async fn update(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: VariablePath,
    params: Params,
) -> ApiResult<Response> {
    let input = variable_input(&params)?;
    let variable = state
        .services
        .variables
        .update(&caller, &path.function, &path.variable, input)
        .await?;
    Ok(render::json(StatusCode::OK, &Variable::from(variable)))
}

pub async fn delete(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: VariablePath,
) -> ApiResult<Response> {
    state
        .services
        .variables
        .delete(&caller, &path.function, &path.variable)
        .await?;
    Ok(render::no_content())
}
