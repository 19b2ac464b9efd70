//! The API's errors: a status, a stable code and a message, answered as
//! `{"error": {"code", "message", "details"}}`. Internal failures are logged on the
//! server's standard error and answered without their detail (no paths, no traces).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cxkpi_app::wire::{ErrorBody, ErrorDetail};
use cxkpi_app::{AppError, ErrorKind};

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    /// The status answered.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// More, when there is more.
    pub details: Option<serde_json::Value>,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

/// The handlers' result type.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error of `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401: no token, or one that is not (or no longer) valid.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: a valid token without the scope (or from an origin it does not allow).
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 415.
    pub fn unsupported_media(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// 503: the server is shutting down.
    pub fn shutting_down() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down; try again shortly",
        )
    }

    /// The same error with details.
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let (status, code) = match e.kind {
            ErrorKind::Usage => (StatusCode::BAD_REQUEST, "invalid_request"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            ErrorKind::Internal => {
                eprintln!("internal error: {}", e.message);
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server's log has the details",
                );
            }
        };
        // CLI wording (`--by`, `--where`) reads as the query parameter of the same name.
        let message = e.message.replace("--where", "where").replace("--", "");
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
