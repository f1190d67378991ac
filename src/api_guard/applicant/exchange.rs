//! The token endpoint's device-code grant
//! (`grant_type=urn:ietf:params:oauth:grant-type:device_code`, RFC 8628
//! §3.4–3.5): errors in RFC 6749 §5.2's shape, then an applicant token.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::device::{self, PollOutcome};
use super::{SCOPE_CASES_READ, TokenKind, new_token, store};
use crate::api_guard::bearer::store_failure;
use crate::app::AppState;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `{"error": …, "error_description": …}`, 400 (401 for `invalid_client`),
/// never cached.
pub fn oauth_error(error: &str, description: &str) -> Response {
    let status = if error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = json!({ "error": error, "error_description": description });
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Answers one poll of the token endpoint for a device code.
pub async fn device_token(
    state: &AppState,
    client_id: Option<&str>,
    device_code: Option<&str>,
    ip: &str,
) -> Response {
    let (Some(client_id), Some(device_code)) = (client_id, device_code) else {
        return oauth_error("invalid_request", "client_id and device_code are required");
    };
    let hash = device::device_code_hash(&state.secrets, device_code);
    let grant = match store::by_device_code(&state.db, &hash).await {
        Ok(Some(g)) => g,
        Ok(None) => return oauth_error("invalid_grant", "Unknown device code"),
        Err(e) => return store_failure(e),
    };
    // A device code works only for the app it was given to.
    if !crate::crypto::constant_time_eq(grant.client_id.as_bytes(), client_id.as_bytes()) {
        return oauth_error("invalid_grant", "Unknown device code");
    }
    let now = state.now().timestamp();
    let outcome = device::poll(
        grant.state,
        grant.expires_at,
        grant.interval_secs,
        grant.last_poll_at,
        now,
    );
    let interval = match outcome {
        PollOutcome::SlowDown { interval_secs } => interval_secs,
        _ => grant.interval_secs,
    };
    if !matches!(outcome, PollOutcome::Issue | PollOutcome::Spent)
        && let Err(e) = store::polled(&state.db, grant.id, now, interval).await
    {
        return store_failure(e);
    }
    match outcome {
        PollOutcome::Pending => {
            oauth_error("authorization_pending", "The person has not answered yet")
        }
        PollOutcome::SlowDown { .. } => oauth_error(
            "slow_down",
            "Polling too fast: wait longer between requests",
        ),
        PollOutcome::Denied => oauth_error("access_denied", "The person denied the request"),
        PollOutcome::Expired => oauth_error("expired_token", "The device code has expired"),
        PollOutcome::Spent => oauth_error("invalid_grant", "The device code was already used"),
        PollOutcome::Issue => match issue(state, &grant, ip, now).await {
            Ok(Some(body)) => {
                let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Ok(None) => oauth_error("invalid_grant", "The device code was already used"),
            Err(e) => store_failure(e),
        },
    }
}

/// Spends the approved grant and creates the app's token (one transaction,
/// audited); `None` when a concurrent poll spent it first.
async fn issue(
    state: &AppState,
    grant: &store::GrantRow,
    ip: &str,
    now: i64,
) -> Result<Option<serde_json::Value>, crate::store::StoreError> {
    let Some(account_id) = grant.account_id else {
        return Ok(None);
    };
    let token = new_token(&state.secrets, &mut rand::rngs::OsRng, TokenKind::Device);
    let expires_at = now + device::DEVICE_TOKEN_TTL_SECS;
    let mut tx = state.db.pool().begin().await?;
    if !store::mark_issued(&mut tx, grant.id, now).await? {
        return Ok(None);
    }
    let id = store::insert_token(
        &mut tx,
        store::NewTokenRow {
            account_id,
            token_hash: &token.hash,
            kind: TokenKind::Device,
            name: &grant.app_name,
            client_pk: Some(grant.client_pk),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    crate::audit::record_in(
        &state.db,
        &mut tx,
        &crate::audit::Event {
            at: now,
            actor: &format!("account:{account_id}"),
            action: "apps.device_token_issued",
            subject: Some(format!("token:{id}")),
            ip: Some(ip.to_string()),
            detail: grant.app_name.chars().take(100).collect(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(json!({
        "access_token": token.raw,
        "token_type": "Bearer",
        "expires_in": device::DEVICE_TOKEN_TTL_SECS,
        "scope": SCOPE_CASES_READ,
    })))
}
