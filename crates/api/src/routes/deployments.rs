//! `/v1/functions/{functionId}/deployments[/{deploymentId}[/builds/{buildId}]]`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::params::Params;
use crate::path::{BuildPath, DeploymentPath, FunctionPath};
use crate::routes::functions::list_input;
use crate::{render, upload};
use functiond_types::model::{Deployment, Function, List};

pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: FunctionPath,
    request: Request,
) -> Response {
    let deployments = &state.services.deployments;
    let created = async {
        let target = deployments.prepare_upload(&caller, &path.function).await?;
        let input = upload::read(request, &target).await?;
        let deployment = deployments.create(&caller, &path.function, input).await?;
        ApiResult::Ok(render::json(
            StatusCode::ACCEPTED,
            &Deployment::from(deployment),
        ))
    };
    match created.await {
        Ok(response) => response,
        Err(error) => {
            // A refusal may come before the upload's body was read; the connection cannot
            // carry another request after an unread body, so tell the client to open a new one.
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
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
        .deployments
        .list(&caller, &path.function, input)
        .await?;
    let body = List {
        total: page.total,
        plural: "deployments",
        items: page.items.into_iter().map(Deployment::from).collect(),
    };
    Ok(render::json(StatusCode::OK, &body))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: DeploymentPath,
) -> ApiResult<Response> {
    let deployment = state
        .services
        .deployments
        .get(&caller, &path.function, &path.deployment)
        .await?;
    Ok(render::json(StatusCode::OK, &Deployment::from(deployment)))
}

/// Activates the deployment; answers the Function.
pub async fn update(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: DeploymentPath,
) -> ApiResult<Response> {
    let function = state
        .services
        .deployments
        .activate(&caller, &path.function, &path.deployment)
        .await?;
    Ok(render::json(StatusCode::OK, &Function::from(function)))
}

pub async fn delete(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: DeploymentPath,
) -> ApiResult<Response> {
    state
        .services
        .deployments
        .delete(&caller, &path.function, &path.deployment)
        .await?;
    Ok(render::no_content())
}

/// Create Build: retries a failed build.
pub async fn retry_build(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    path: BuildPath,
) -> ApiResult<Response> {
    state
        .services
        .deployments
        .retry_build(&caller, &path.function, &path.deployment, &path.build)
        .await?;
    Ok(render::no_content())
}
