//! The API's bearer check, shared by every endpoint that takes an API
//! client's token (the Case Status API and the intake CSV API): the token's
//! keyed hash is looked up (behind the per-instance grant cache) and refused
//! with RFC 6750's challenge.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::api_error;
use super::{Grant, store, token_live};
use crate::app::AppState;
use crate::crypto::hmac_sha256;

pub fn store_failure(e: crate::store::StoreError) -> Response {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "database unavailable");
        api_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
    } else {
        tracing::error!(error = %e, "api store error");
        api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
    }
}

/// The 401 of RFC 6750 §3: `WWW-Authenticate: Bearer` always, with
/// `error="invalid_token"` when a token was presented but is no good (a
/// request without any credentials gets no error code, §3.1).
pub fn unauthorized(token_presented: bool) -> Response {
    let mut resp = api_error(StatusCode::UNAUTHORIZED, "Invalid or expired access token");
    let challenge = if token_presented {
        "Bearer realm=\"casegate\", error=\"invalid_token\", error_description=\"The access token is invalid or has expired\""
    } else {
        "Bearer realm=\"casegate\""
    };
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    resp
}

/// Checks the bearer token; `Err` is the response to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
pub async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Grant, Response> {
    let presented = headers.get(header::AUTHORIZATION).is_some();
    let unauthorized = || unauthorized(presented);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(unauthorized)?;
    let token_hash = hmac_sha256(&state.secrets.api_key, token.as_bytes());
    let now = state.now();
    if let Some(g) = state.api.cached_grant(&token_hash, now.timestamp_millis()) {
        return Ok(g);
    }
    let row = store::find_token(&state.db, &token_hash)
        .await
        .map_err(store_failure)?
        .ok_or_else(unauthorized)?;
    if !token_live(row.expires_at, row.client_disabled, now.timestamp()) {
        return Err(unauthorized());
    }
    let grant = Grant {
        client_pk: row.client_pk,
        allowance: row.allowance,
        scopes: row.scopes,
        expires_at: row.expires_at,
        cached_at_ms: now.timestamp_millis(),
    };
    state.api.remember_grant(token_hash, grant.clone());
    Ok(grant)
}
