//! The rate limit around Create Execution. It needs the caller before the handler runs, so it
//! resolves it here and hands it on (the `Authenticated` extractor picks it up), asks the
//! domain to count the call, and puts the `X-RateLimit-*` headers on whatever the route
//! answers, errors included. A request refused while its caller is resolved (unknown project,
//! bad JWT, unknown origin) is answered before anything can be counted, so without the headers,
//! as in Appwrite, whose abuse check runs after those.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use functiond_domain::{Error as DomainError, RateLimitStatus};

use crate::AppState;
use crate::auth;
use crate::client_ip::client_ip;
use crate::error::ApiError;

pub(crate) async fn create_execution(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match auth::caller(&parts, &state).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let ip = client_ip(&parts, &state.settings.trusted_proxies);
    let status = match state
        .services
        .rate_limits
        .create_execution(&caller, ip)
        .await
    {
        Ok(status) => status,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let mut response = if status.is_some_and(|status| status.exceeded) {
        ApiError::from(DomainError::RateLimitExceeded).into_response()
    } else {
        parts.extensions.insert(caller);
        next.run(Request::from_parts(parts, body)).await
    };
    if let Some(status) = status {
        add_headers(&mut response, status);
    }
    response
}

fn add_headers(response: &mut Response, status: RateLimitStatus) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", status.limit.to_string()),
        ("x-ratelimit-remaining", status.remaining.to_string()),
        ("x-ratelimit-reset", status.reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
