//! Typed errors and their single mapping to what people see.
//!
//! A page handler returns `Result<_, AppError>`. `AppError` turns into a bare
//! response carrying an [`ErrorPage`] marker; the `render_errors` middleware
//! (which knows the visitor's language) turns the marker into the plain-language
//! error page. The API builds its own `{code, message}` JSON in `flows::status_api`.
//! Details (database messages) are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request")]
    BadRequest,
    /// The request body is larger than the route accepts.
    #[error("request body too large")]
    TooLarge,
    /// The request body did not arrive in time (a stalled or very slow client).
    #[error("request body not received in time")]
    TimedOut,
    #[error("forbidden")]
    Forbidden,
    /// An officer account asked for an applicant function.
    #[error("officer account refused an applicant function")]
    OfficerAccount,
    /// An upload that is not (yet) scanned clean was asked for.
    #[error("upload not scanned clean")]
    NotScanned,
    #[error("too many requests; retry after {retry_after_secs}s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            AppError::Unavailable(e.to_string())
        } else {
            AppError::Internal(e.to_string())
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(StoreError::from(e))
    }
}

/// `Retry-After` of every 503 (added by the error middleware): the database
/// (or the hashing pool) is usually back within moments, and clients should
/// not hammer it meanwhile.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 30;

/// Which error page to show; the middleware renders it in the visitor's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    BadRequest,
    TooLarge,
    TimedOut,
    Forbidden,
    OfficerAccount,
    NotScanned,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ErrorPage {
    pub fn message_key(self) -> &'static str {
        match self {
            ErrorPage::NotFound => "error.not_found",
            ErrorPage::BadRequest => "error.bad_request",
            ErrorPage::TooLarge => "error.too_large",
            ErrorPage::TimedOut => "error.timed_out",
            ErrorPage::Forbidden => "error.forbidden",
            ErrorPage::OfficerAccount => "error.officer_account",
            ErrorPage::NotScanned => "error.not_scanned",
            ErrorPage::TooManyRequests => "error.too_many",
            ErrorPage::Unavailable => "error.unavailable",
            ErrorPage::Internal => "error.internal",
        }
    }

    pub fn from_status(status: StatusCode) -> Option<ErrorPage> {
        match status {
            StatusCode::NOT_FOUND => Some(ErrorPage::NotFound),
            StatusCode::BAD_REQUEST
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ErrorPage::BadRequest),
            StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorPage::TooLarge),
            StatusCode::REQUEST_TIMEOUT => Some(ErrorPage::TimedOut),
            StatusCode::TOO_MANY_REQUESTS => Some(ErrorPage::TooManyRequests),
            StatusCode::FORBIDDEN => Some(ErrorPage::Forbidden),
            StatusCode::SERVICE_UNAVAILABLE => Some(ErrorPage::Unavailable),
            s if s.is_server_error() => Some(ErrorPage::Internal),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, page) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, ErrorPage::NotFound),
            AppError::BadRequest => (StatusCode::BAD_REQUEST, ErrorPage::BadRequest),
            AppError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorPage::TooLarge),
            AppError::TimedOut => (StatusCode::REQUEST_TIMEOUT, ErrorPage::TimedOut),
            AppError::Forbidden => (StatusCode::FORBIDDEN, ErrorPage::Forbidden),
            AppError::OfficerAccount => (StatusCode::FORBIDDEN, ErrorPage::OfficerAccount),
            AppError::NotScanned => (StatusCode::CONFLICT, ErrorPage::NotScanned),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorPage::TooManyRequests)
            }
            AppError::Unavailable(detail) => {
                tracing::warn!(%detail, "service unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, ErrorPage::Unavailable)
            }
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorPage::Internal)
            }
        };
        let mut resp = status.into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = retry_after_secs.to_string().parse()
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(page);
        resp
    }
}
