//! The one place that writes Appwrite's error JSON: `{message, code, type, version}` with the
//! HTTP status equal to `code`. Internal failures are logged in full and shown to the client
//! only as the catalogue's generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use functiond_domain::Error as DomainError;
use functiond_types::ErrorCode;
use serde::Serialize;

use crate::API_VERSION;

#[derive(Debug)]
pub enum ApiError {
    /// A use case refused the request.
    Domain(DomainError),
    /// The request could not be read: bad body, bad parameter type, bad path ID.
    Argument { message: String },
    /// No route has this method and path.
    RouteNotFound,
    /// An upload refused while it was being read.
    Upload { code: ErrorCode, message: String },
}

impl ApiError {
    pub fn argument(message: impl Into<String>) -> Self {
        ApiError::Argument {
            message: message.into(),
        }
    }

    fn code_and_message(&self) -> (ErrorCode, String) {
        match self {
            ApiError::Domain(error) if error.is_internal() => {
                tracing::error!(error = %error, "request failed inside the server");
                (error.code(), error.code().default_message().to_owned())
            }
            ApiError::Domain(error) => (error.code(), error.to_string()),
            ApiError::Argument { message } => (ErrorCode::ArgumentInvalid, message.clone()),
            ApiError::Upload { code, message } => (*code, message.clone()),
            ApiError::RouteNotFound => (
                ErrorCode::RouteNotFound,
                ErrorCode::RouteNotFound.default_message().to_owned(),
            ),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError::Domain(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, message) = self.code_and_message();
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            message,
            code: code.status(),
            r#type: code.type_name(),
            version: API_VERSION,
        };
        let mut response = (status, crate::render::json_body(&body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::render::JSON),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store, must-revalidate"),
        );
        headers.insert(header::EXPIRES, HeaderValue::from_static("0"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Appwrite's error body, fields in Appwrite's order.
#[derive(Debug, Serialize)]
struct ErrorBody {
    message: String,
    code: u16,
    r#type: &'static str,
    version: &'static str,
}

pub type ApiResult<T> = Result<T, ApiError>;
