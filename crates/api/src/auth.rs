//! Turns a request's credentials into the domain's `Caller`: the project from
//! `X-Appwrite-Project` (or the `project` query parameter), the API key from `X-Appwrite-Key`,
//! the user from `X-Appwrite-JWT`, and what the origin check needs (`Origin`, `Host`, whether
//! the method writes). Deciding what the caller may do is the domain's job.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use functiond_domain::{Caller, Credentials};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Resolved already by a layer that needed the caller first (the rate limit).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Self(caller.clone()));
        }
        Ok(Self(caller(parts, state).await?))
    }
}

pub(crate) async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let from_query = project_from_query(parts);
    let credentials = Credentials {
        project: header("x-appwrite-project").or(from_query.as_deref()),
        key: header("x-appwrite-key"),
        jwt: header("x-appwrite-jwt"),
        origin: header("origin"),
        host: header("host"),
        write: matches!(
            parts.method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        ),
    };
    Ok(state.services.auth.caller(credentials).await?)
}

fn project_from_query(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "project")
        .map(|(_, value)| value.into_owned())
}
