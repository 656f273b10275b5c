//! Success responses: JSON with Appwrite's content type, and empty 204s that still carry a
//! `Content-Type` (the Python SDK reads that header on every response).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const JSON: &str = "application/json; charset=UTF-8";
const EMPTY: &str = "text/plain; charset=UTF-8";

pub(crate) fn json_body(value: &impl Serialize) -> String {
    // Serializing our own DTOs cannot fail: they hold only strings, numbers, bools and lists.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let mut response = (status, json_body(value)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

pub fn no_content() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(EMPTY));
    response
}

/// Headers every response gets: a `Content-Type` when a layer below set none (axum's own
/// rejections, 405s), and no cookies, ever (the CLI would overwrite its session with them).
pub(crate) async fn common_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(EMPTY));
    }
    headers.remove(header::SET_COOKIE);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::SERVER, HeaderValue::from_static("functiond"));
    response
}
