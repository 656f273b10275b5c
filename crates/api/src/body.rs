//! Every request's body is read before its handler runs, even where the route takes no body:
//! the Python SDK sends `{}` with every GET and DELETE. A server that answers without reading
//! what the client sent closes the connection with unread bytes in it, and the kernel then
//! resets the connection, sometimes before the client has read the whole answer.
//!
//! Multipart bodies are left alone: uploads stream them to disk, and `Params` reads the rest.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The most a non-upload request body may hold.
pub(crate) const LIMIT: usize = 2 * 1024 * 1024;

pub(crate) async fn read_whole(request: Request, next: Next) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/"));
    if multipart {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, LIMIT).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => ApiError::argument(format!(
            "The request body could not be read, or is larger than {LIMIT} bytes."
        ))
        .into_response(),
    }
}
