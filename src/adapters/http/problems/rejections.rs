//! Adapters layer (HTTP): what poem or poem-openapi refuses before a handler runs, as a
//! problem of this API.

use poem::http::StatusCode;

use super::from_core::fault;
use super::problem::ApiError;

impl ApiError {
    /// What poem or poem-openapi refused before a handler ran — a route or method that does
    /// not exist, an unreadable body or parameter, a missing bearer token — as a problem.
    pub(crate) fn from_rejection(error: poem::Error) -> ApiError {
        let error = match error.downcast::<ApiError>() {
            Ok(problem) => return problem,
            Err(error) => error,
        };
        match error.status() {
            StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed { allow: None },
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            status if status.is_server_error() => {
                fault(anyhow::anyhow!("{error} (status {status})"))
            }
            // Everything else the framework refuses (bad JSON, wrong or missing content type,
            // unparsable parameters) is the client's request being unreadable; poem's message
            // describes the client's own input, never our internals.
            _ => ApiError::MalformedRequest {
                reason: error.to_string(),
            },
        }
    }
}

/// The `bad_request_handler` of every operation: whatever poem-openapi could not extract (the
/// body, a parameter, the bearer token) becomes that operation's own problem response.
pub(crate) fn rejected_request<R: From<ApiError>>(error: poem::Error) -> R {
    R::from(ApiError::from_rejection(error))
}
