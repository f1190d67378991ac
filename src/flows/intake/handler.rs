//! `POST /api/intake`: the bulk CSV over HTTP, for an API client holding the
//! `intake` scope. Answers which lines became which receipt numbers, which
//! were already present, and which were refused and why. Access codes are
//! never returned: they exist only on the letters.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::cli::parse_all;
use crate::api_guard::bearer::authorize;
use crate::api_guard::error::api_error;
use crate::app::AppState;
use crate::flows::status_api::SCOPE_INTAKE;

pub async fn intake_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let grant = match authorize(&state, &headers).await {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    if !grant.has_scope(SCOPE_INTAKE) {
        return api_error(StatusCode::FORBIDDEN, "This client may not submit filings");
    }
    let now = state.now();
    let parsed = match parse_all(&body[..], now.date_naive()) {
        Ok(p) => p,
        Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    let mut errors: Vec<_> = parsed
        .rejected
        .iter()
        .map(|(line, reason)| json!({"line": line, "reason": reason}))
        .collect();
    let outcome = match super::file_filings(&state, parsed.filings).await {
        Ok(o) => o,
        Err(e) if e.is_unavailable() => {
            return api_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
        }
        Err(e) => {
            tracing::error!(error = %e, "intake batch failed");
            return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
        }
    };
    errors.extend(
        outcome
            .failed
            .iter()
            .map(|(line, reason)| json!({"line": line, "reason": reason})),
    );
    let created: Vec<_> = outcome
        .created
        .iter()
        .map(|c| json!({"line": c.line, "receiptNumber": c.receipt.as_str(), "accessNotice": c.access_code.is_some()}))
        .collect();
    tracing::info!(
        created = created.len(),
        duplicates = outcome.duplicates.len(),
        rejected = errors.len(),
        client = grant.client_pk,
        "intake over API"
    );
    (
        StatusCode::OK,
        axum::Json(json!({
            "created": created,
            "duplicates": outcome.duplicates,
            "errors": errors,
        })),
    )
        .into_response()
}
