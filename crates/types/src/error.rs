//! The catalogue of Appwrite error types: for each one the `type` string clients match on,
//! the HTTP status, and the default message. Every crate's error maps onto one entry here,
//! and `api::error` is the only place that renders them.

macro_rules! error_codes {
    ($($variant:ident => ($type:literal, $status:literal, $message:literal),)+) => {
        /// One Appwrite error type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The `type` field of the error body, e.g. `function_not_found`.
            pub const fn type_name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $type,)+ }
            }

            /// The HTTP status (also the `code` field of the body).
            pub const fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// The message used when the raiser has nothing more specific to say.
            pub const fn default_message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)+ }
            }
        }
    };
}

error_codes! {
    ArgumentInvalid => ("general_argument_invalid", 400,
        "The request contains one or more invalid arguments. Please refer to the endpoint documentation."),
    QueryInvalid => ("general_query_invalid", 400,
        "The query's syntax is invalid. Please check the query and try again."),
    CursorNotFound => ("general_cursor_not_found", 400,
        "The cursor is invalid. This can happen if the item represented by the cursor has been deleted."),
    UnauthorizedScope => ("general_unauthorized_scope", 401,
        "The current user or API key does not have the required scopes to access the requested resource."),
    UnknownOrigin => ("general_unknown_origin", 403,
        "The request originated from an unknown origin. If you trust this domain, please list it as a trusted platform."),
    RouteNotFound => ("general_route_not_found", 404,
        "The requested route was not found. Please refer to the API docs and try again."),
    RateLimitExceeded => ("general_rate_limit_exceeded", 429,
        "Rate limit for the current endpoint has been exceeded. Please try again after some time."),
    ServerError => ("general_server_error", 500,
        "There was an error processing your request. Please check the inputs and try again."),
    Unknown => ("general_unknown", 500,
        "Unknown error. Please check the server logs."),
    ProjectNotFound => ("project_not_found", 404,
        "Project with the requested ID could not be found. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used."),
    ProjectUnknown => ("project_unknown", 400,
        "The project ID is either missing or not valid. Please check the value of the X-Appwrite-Project header to ensure the correct project ID is being used."),
    ProjectKeyExpired => ("project_key_expired", 401,
        "The project key has expired. Please generate a new key using the Appwrite console."),
    UserUnauthorized => ("user_unauthorized", 401,
        "The current user is not authorized to perform the requested action."),
    UserJwtInvalid => ("user_jwt_invalid", 401,
        "The JWT token is invalid. Please check the value of the X-Appwrite-JWT header to ensure the correct token is being used."),
    FunctionNotFound => ("function_not_found", 404,
        "Function with the requested ID could not be found."),
    FunctionAlreadyExists => ("function_already_exists", 409,
        "Function with the requested ID already exists. Try again with a different ID or use ID.unique() to generate a unique ID."),
    FunctionRuntimeUnsupported => ("function_runtime_unsupported", 404,
        "The requested runtime is either inactive or unsupported. Please check the value of the _APP_FUNCTIONS_RUNTIMES environment variable."),
    DeploymentNotFound => ("deployment_not_found", 404,
        "Deployment with the requested ID could not be found."),
    BuildNotFound => ("build_not_found", 404,
        "Build with the requested ID could not be found."),
    BuildNotReady => ("build_not_ready", 400,
        "Build with the requested ID is not ready for execution."),
    BuildInProgress => ("build_in_progress", 400,
        "Build with the requested ID is already in progress. Please wait before you can retry."),
    ExecutionNotFound => ("execution_not_found", 404,
        "Execution with the requested ID could not be found."),
    VariableNotFound => ("variable_not_found", 404,
        "Variable with the requested ID could not be found."),
    VariableAlreadyExists => ("variable_already_exists", 409,
        "Variable with the same ID already exists in your project."),
    StorageFileEmpty => ("storage_file_empty", 400,
        "Empty file passed to the endpoint."),
    StorageFileTypeUnsupported => ("storage_file_type_unsupported", 400,
        "The given file extension is not supported."),
    StorageInvalidFileSize => ("storage_invalid_file_size", 400,
        "The file size is either not valid or exceeds the maximum allowed size. Please check the file or the value of the _APP_STORAGE_LIMIT environment variable."),
    StorageInvalidFile => ("storage_invalid_file", 403,
        "The uploaded file is invalid. Please check the file and try again."),
    StorageInvalidContentRange => ("storage_invalid_content_range", 400,
        "The content range is invalid. Please check the value of the Content-Range header."),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn type_names_are_unique_and_statuses_are_client_visible() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.type_name()),
                "duplicate {}",
                code.type_name()
            );
            assert!(
                [400, 401, 403, 404, 409, 429, 500].contains(&code.status()),
                "{} has status {}",
                code.type_name(),
                code.status()
            );
        }
    }

    #[test]
    fn lookups_match_the_reference() {
        assert_eq!(ErrorCode::FunctionRuntimeUnsupported.status(), 404);
        assert_eq!(ErrorCode::BuildNotReady.type_name(), "build_not_ready");
        assert_eq!(ErrorCode::VariableAlreadyExists.status(), 409);
    }
}
