//! The API's one error shape, `{"code": N, "message": "…"}`: what the API
//! handlers answer when they refuse ([`api_error`]), and what the router
//! answers for the errors it raises on an API path — unknown route, body too
//! large, time-out, database unavailable ([`error_json`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ErrorPage;

fn body(status: StatusCode, message: &str) -> serde_json::Value {
    json!({ "code": status.as_u16(), "message": message })
}

/// `{"code": N, "message": "…"}` with the given status.
pub fn api_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(body(status, message))).into_response()
}

/// The JSON body for an error page raised outside the API handlers.
pub fn error_json(status: StatusCode, page: ErrorPage) -> String {
    let message = match page {
        ErrorPage::NotFound => "Not found",
        ErrorPage::BadRequest => "Bad request",
        ErrorPage::TooLarge => "Payload too large",
        ErrorPage::TimedOut => "Request timeout",
        ErrorPage::Forbidden | ErrorPage::OfficerAccount => "Forbidden",
        ErrorPage::NotScanned => "Conflict",
        ErrorPage::TooManyRequests => "Too many requests",
        ErrorPage::Unavailable => "Service unavailable",
        ErrorPage::Internal => "Internal error",
    };
    body(status, message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_are_the_same_json() {
        let raised = error_json(StatusCode::NOT_FOUND, ErrorPage::NotFound);
        let v: serde_json::Value = serde_json::from_str(&raised).unwrap_or_default();
        assert_eq!(v, json!({ "code": 404, "message": "Not found" }));
        assert_eq!(
            error_json(StatusCode::SERVICE_UNAVAILABLE, ErrorPage::Unavailable),
            body(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable").to_string()
        );
    }
}
