//! Path IDs, checked against Appwrite's UID rule before anything else looks at them: a bad ID
//! in a path is a 400 naming the parameter, not a 404.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use functiond_types::id::{
    BuildId, DeploymentId, ExecutionId, FunctionId, InvalidId, UID_RULE, VariableId,
};

use crate::error::ApiError;

fn param<T>(
    params: &RawPathParams,
    name: &str,
    parse: impl Fn(&str) -> Result<T, InvalidId>,
) -> Result<T, ApiError> {
    let raw = params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .ok_or(ApiError::RouteNotFound)?;
    parse(raw).map_err(|_| ApiError::argument(format!("Invalid {name}: {UID_RULE}")))
}

async fn raw<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::RouteNotFound)
}

/// `/functions/{functionId}`
#[derive(Debug)]
pub struct FunctionPath {
    pub function: FunctionId,
}

impl<S: Send + Sync> FromRequestParts<S> for FunctionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = raw(parts, state).await?;
        Ok(Self {
            function: param(&params, "functionId", FunctionId::parse)?,
        })
    }
}

/// `/functions/{functionId}/variables/{variableId}`
#[derive(Debug)]
pub struct VariablePath {
    pub function: FunctionId,
    pub variable: VariableId,
}

impl<S: Send + Sync> FromRequestParts<S> for VariablePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = raw(parts, state).await?;
        Ok(Self {
            function: param(&params, "functionId", FunctionId::parse)?,
            variable: param(&params, "variableId", VariableId::parse)?,
        })
    }
}

/// `/functions/{functionId}/deployments/{deploymentId}`
#[derive(Debug)]
pub struct DeploymentPath {
    pub function: FunctionId,
    pub deployment: DeploymentId,
}

impl<S: Send + Sync> FromRequestParts<S> for DeploymentPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = raw(parts, state).await?;
        Ok(Self {
            function: param(&params, "functionId", FunctionId::parse)?,
            deployment: param(&params, "deploymentId", DeploymentId::parse)?,
        })
    }
}

/// `/functions/{functionId}/deployments/{deploymentId}/builds/{buildId}`
#[derive(Debug)]
pub struct BuildPath {
    pub function: FunctionId,
    pub deployment: DeploymentId,
    pub build: BuildId,
}

impl<S: Send + Sync> FromRequestParts<S> for BuildPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = raw(parts, state).await?;
        Ok(Self {
            function: param(&params, "functionId", FunctionId::parse)?,
            deployment: param(&params, "deploymentId", DeploymentId::parse)?,
            build: param(&params, "buildId", BuildId::parse)?,
        })
    }
}

/// `/functions/{functionId}/executions/{executionId}`
#[derive(Debug)]
pub struct ExecutionPath {
    pub function: FunctionId,
    pub execution: ExecutionId,
}

impl<S: Send + Sync> FromRequestParts<S> for ExecutionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = raw(parts, state).await?;
        Ok(Self {
            function: param(&params, "functionId", FunctionId::parse)?,
            execution: param(&params, "executionId", ExecutionId::parse)?,
        })
    }
}
