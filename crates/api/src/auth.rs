//! Turns a request's credentials into the domain's `Caller`: the project from
//! `X-Appwrite-Project` (or the `project` query parameter) and the API key from
//! `X-Appwrite-Key`. Deciding what the caller may do is the domain's job.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use functiond_domain::Caller;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let project = header("x-appwrite-project").or_else(|| project_from_query(parts));
        let key = header("x-appwrite-key");
        let caller = state
            .services
            .auth
            .caller(project.as_deref(), key.as_deref())
            .await?;
        Ok(Self(caller))
    }
}

fn project_from_query(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "project")
        .map(|(_, value)| value.into_owned())
}
