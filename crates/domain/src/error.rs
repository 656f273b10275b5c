//! The domain's errors: each variant is one case a client can act on, and maps to one entry
//! of the Appwrite error catalogue. Store failures are kept whole for the log and shown to
//! clients only as a generic server error.

use functiond_store::StoreError;
use functiond_types::ErrorCode;
use functiond_types::scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter failed validation; `message` names the parameter and the rule.
    #[error("{message}")]
    ArgumentInvalid { message: String },
    #[error("{noun} '{id}' for the 'cursor' value not found.")]
    CursorNotFound { noun: &'static str, id: String },
    #[error("{who} (role: {role}) missing scope ({scope})")]
    UnauthorizedScope {
        who: String,
        role: &'static str,
        scope: Scope,
    },
    #[error("{}", ErrorCode::ProjectUnknown.default_message())]
    ProjectUnknown,
    #[error("{}", ErrorCode::ProjectNotFound.default_message())]
    ProjectNotFound,
    #[error("{}", ErrorCode::ProjectKeyExpired.default_message())]
    KeyExpired,
    #[error("{}", ErrorCode::FunctionNotFound.default_message())]
    FunctionNotFound,
    #[error(
        "Function with the ID \"{id}\" already exists. Try again with a different ID or use ID.unique() to generate a unique ID."
    )]
    FunctionAlreadyExists { id: String },
    #[error("{}", ErrorCode::VariableNotFound.default_message())]
    VariableNotFound,
    #[error("Variable with the key \"{key}\" already exists on this function.")]
    VariableAlreadyExists { key: String },
    #[error("{what} \"{id}\" already exists")]
    AlreadyExists { what: &'static str, id: String },
    #[error("Runtime \"{runtime}\" is not supported")]
    RuntimeUnsupported { runtime: String },
    #[error("{message}")]
    DeploymentNotFound { message: &'static str },
    #[error("{}", ErrorCode::BuildNotFound.default_message())]
    BuildNotFound,
    #[error("{}", ErrorCode::BuildNotReady.default_message())]
    BuildNotReady,
    #[error("Build not failed")]
    BuildInProgress,
    #[error("{}", ErrorCode::ExecutionNotFound.default_message())]
    ExecutionNotFound,
    #[error("{message}")]
    UserUnauthorized { message: String },
    /// A JWT that is malformed, forged, expired or not accepted; `reason` says which.
    #[error("Failed to verify JWT. {reason}")]
    JwtInvalid { reason: String },
    /// A configured JWT key that cannot be used.
    #[error("{message}")]
    JwtKey { message: String },
    #[error(
        "Invalid Origin. The origin \"{origin}\" is not allowed: add it to the server's allowed origins (--allowed-origins) to accept requests from it."
    )]
    UnknownOrigin { origin: String },
    #[error("{}", ErrorCode::RateLimitExceeded.default_message())]
    RateLimitExceeded,
    /// An upload the storage rules refuse; `code` says which rule.
    #[error("{message}")]
    Upload { code: ErrorCode, message: String },
    #[error("file storage failed: {source}")]
    Files {
        #[from]
        source: std::io::Error,
    },
    #[error("a job payload could not be read: {message}")]
    JobPayload { message: String },
    #[error("a background task failed: {message}")]
    Task { message: String },
    #[error("internal store error: {source}")]
    Store {
        #[from]
        source: StoreError,
    },
}

impl Error {
    pub fn upload(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Upload {
            code,
            message: message.into(),
        }
    }

    /// Deployment missing, or belonging to another function.
    pub fn deployment_not_found() -> Self {
        Error::DeploymentNotFound {
            message: "Deployment with the requested ID could not be found.",
        }
    }

    pub fn argument(message: impl Into<String>) -> Self {
        Error::ArgumentInvalid {
            message: message.into(),
        }
    }

    /// The catalogue entry clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::ArgumentInvalid { .. } => ErrorCode::ArgumentInvalid,
            Error::CursorNotFound { .. } => ErrorCode::CursorNotFound,
            Error::UnauthorizedScope { .. } => ErrorCode::UnauthorizedScope,
            Error::ProjectUnknown => ErrorCode::ProjectUnknown,
            Error::ProjectNotFound => ErrorCode::ProjectNotFound,
            Error::KeyExpired => ErrorCode::ProjectKeyExpired,
            Error::FunctionNotFound => ErrorCode::FunctionNotFound,
            Error::FunctionAlreadyExists { .. } => ErrorCode::FunctionAlreadyExists,
            Error::VariableNotFound => ErrorCode::VariableNotFound,
            Error::VariableAlreadyExists { .. } => ErrorCode::VariableAlreadyExists,
            Error::AlreadyExists { .. } => ErrorCode::ArgumentInvalid,
            Error::RuntimeUnsupported { .. } => ErrorCode::FunctionRuntimeUnsupported,
            Error::DeploymentNotFound { .. } => ErrorCode::DeploymentNotFound,
            Error::BuildNotFound => ErrorCode::BuildNotFound,
            Error::BuildNotReady => ErrorCode::BuildNotReady,
            Error::BuildInProgress => ErrorCode::BuildInProgress,
            Error::ExecutionNotFound => ErrorCode::ExecutionNotFound,
            Error::UserUnauthorized { .. } => ErrorCode::UserUnauthorized,
            Error::JwtInvalid { .. } => ErrorCode::UserJwtInvalid,
            Error::UnknownOrigin { .. } => ErrorCode::UnknownOrigin,
            Error::RateLimitExceeded => ErrorCode::RateLimitExceeded,
            Error::Upload { code, .. } => *code,
            Error::Store { .. }
            | Error::Files { .. }
            | Error::JobPayload { .. }
            | Error::Task { .. }
            | Error::JwtKey { .. } => ErrorCode::ServerError,
        }
    }

    /// Whether the message may be shown to the client; otherwise only the catalogue's default
    /// message is, and the details go to the log.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Error::Store { .. }
                | Error::Files { .. }
                | Error::JobPayload { .. }
                | Error::Task { .. }
                | Error::JwtKey { .. }
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
