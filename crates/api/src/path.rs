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

/// Declares an extractor for one route shape: its fields, each read from the path parameter
/// of the given name and checked against the UID rule.
macro_rules! path_extractor {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $kind:ident = $param:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            $(pub $field: $kind,)+
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let params = raw(parts, state).await?;
                Ok(Self {
                    $($field: param(&params, $param, $kind::parse)?,)+
                })
            }
        }
    };
}

path_extractor!(
    /// `/functions/{functionId}`
    FunctionPath { function: FunctionId = "functionId" }
);

path_extractor!(
    /// `/functions/{functionId}/variables/{variableId}`
    VariablePath {
        function: FunctionId = "functionId",
        variable: VariableId = "variableId",
    }
);

path_extractor!(
    /// `/functions/{functionId}/deployments/{deploymentId}`
    DeploymentPath {
        function: FunctionId = "functionId",
        deployment: DeploymentId = "deploymentId",
    }
);

path_extractor!(
    /// `/functions/{functionId}/deployments/{deploymentId}/builds/{buildId}`
    BuildPath {
        function: FunctionId = "functionId",
        deployment: DeploymentId = "deploymentId",
        build: BuildId = "buildId",
    }
);

path_extractor!(
    /// `/functions/{functionId}/executions/{executionId}`
    ExecutionPath {
        function: FunctionId = "functionId",
        execution: ExecutionId = "executionId",
    }
);
