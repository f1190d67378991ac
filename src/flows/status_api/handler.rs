//! HTTP side of the Case Status API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::form::{TokenForm, TokenRequestError, basic_credentials};
use super::policy::{Admission, Grant, token_live};
use super::store;
use crate::crypto::{constant_time_eq, hmac_sha256, random_hex};
use crate::domain::ReceiptNumber;
use crate::error::ErrorPage;
use crate::flows::case_status::policy as status_policy;
use crate::i18n::Lang;
use crate::web::AppState;

/// `{"code": N, "message": "…"}` with the given status.
pub fn api_error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "code": status.as_u16(), "message": message });
    (status, axum::Json(body)).into_response()
}

/// JSON body for errors raised outside the API handlers (404 route, 413, 503…).
pub fn error_json(status: StatusCode, page: ErrorPage) -> String {
    let message = match page {
        ErrorPage::NotFound => "Not found",
        ErrorPage::BadRequest => "Bad request",
        ErrorPage::TooLarge => "Payload too large",
        ErrorPage::TimedOut => "Request timeout",
        ErrorPage::Forbidden => "Forbidden",
        ErrorPage::TooManyRequests => "Too many requests",
        ErrorPage::Unavailable => "Service unavailable",
        ErrorPage::Internal => "Internal error",
    };
    json!({ "code": status.as_u16(), "message": message }).to_string()
}

fn store_failure(e: crate::store::StoreError) -> Response {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "database unavailable");
        api_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
    } else {
        tracing::error!(error = %e, "api store error");
        api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
    }
}

/// `POST /oauth/accesstoken` — client credentials → bearer token.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut form = TokenForm::default();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "grant_type" => form.grant_type = Some(v.into_owned()),
            "client_id" => form.client_id = Some(v.into_owned()),
            "client_secret" => form.client_secret = Some(v.into_owned()),
            _ => {}
        }
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let creds = match form.credentials(basic) {
        Ok(c) => c,
        Err(TokenRequestError::UnsupportedGrant) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "grant_type must be client_credentials",
            );
        }
        Err(TokenRequestError::MissingCredentials) => {
            return api_error(StatusCode::UNAUTHORIZED, "Invalid client credentials");
        }
    };
    let presented = hmac_sha256(&state.secrets.api_key, creds.client_secret.as_bytes());
    let client = match store::find_client(&state.db, &creds.client_id).await {
        Ok(c) => c,
        Err(e) => return store_failure(e),
    };
    // Compare against a dummy when the client is unknown, so both paths cost the same.
    let (expected, client) = match client {
        Some(c) => (c.secret_hash.clone(), Some(c)),
        None => (vec![0u8; 32], None),
    };
    let matches = constant_time_eq(&presented, &expected);
    let Some(client) = client.filter(|c| matches && !c.disabled) else {
        return api_error(StatusCode::UNAUTHORIZED, "Invalid client credentials");
    };
    let now = state.now();
    let ttl = state.config.api_token_ttl_secs;
    let token = random_hex(&mut rand::rngs::OsRng, 32);
    let token_hash = hmac_sha256(&state.secrets.api_key, token.as_bytes());
    if let Err(e) = store::insert_token(
        &state.db,
        &token_hash,
        client.id,
        now.timestamp(),
        now.timestamp() + ttl,
    )
    .await
    {
        return store_failure(e);
    }
    let body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl.to_string(),
        "issued_at": now.timestamp_millis().to_string(),
        "client_id": creds.client_id,
        "application_name": client.name,
        "scope": "",
        "status": "approved",
        "api_product_list": "[case-status]",
        "refresh_token_expires_in": "0",
        "refresh_count": "0",
    });
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Checks the bearer token; `Err` is the response to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
pub async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Grant, Response> {
    let unauthorized = || api_error(StatusCode::UNAUTHORIZED, "Invalid or expired access token");
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

/// Applies the client's rate and quota; `Err` is the 429 to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
pub fn admit(state: &AppState, grant: &Grant) -> Result<(), Response> {
    let now_ms = state.now().timestamp_millis();
    let retry_ms = match state.api.admit(grant.client_pk, grant.allowance, now_ms) {
        Admission::Allowed => return Ok(()),
        Admission::RateLimited { retry_after_ms }
        | Admission::QuotaExhausted { retry_after_ms } => retry_after_ms,
    };
    let mut resp = api_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    let secs = ((retry_ms + 999) / 1000).max(1);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Err(resp)
}

#[derive(Serialize)]
struct HistEntry {
    date: String,
    completed_text_en: String,
    completed_text_es: String,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct CaseStatusBody {
    receiptNumber: String,
    formType: String,
    submittedDate: String,
    modifiedDate: String,
    current_case_status_text_en: String,
    current_case_status_desc_en: String,
    current_case_status_text_es: String,
    current_case_status_desc_es: String,
    hist_case_status: Option<Vec<HistEntry>>,
}

#[derive(Serialize)]
struct Envelope {
    case_status: CaseStatusBody,
    message: &'static str,
}

fn torch_datetime(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .unwrap_or_default()
        .format("%m-%d-%Y %H:%M:%S")
        .to_string()
}

/// `GET /case-status/{receiptNumber}`.
pub async fn case_status(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let grant = match authorize(&state, &headers).await {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    if let Err(resp) = admit(&state, &grant) {
        return resp;
    }
    let Ok(receipt) = ReceiptNumber::parse(&raw) else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid receipt number: expected 3 letters and 10 digits, e.g. EAC9999103403",
        );
    };
    let record = match state.status_cache.get(&state.db, &receipt).await {
        Ok(r) => r,
        Err(e) => return store_failure(e),
    };
    let Some(rec) = status_policy::public_view(record.as_deref()) else {
        return api_error(StatusCode::NOT_FOUND, "Case not found");
    };
    let msgs = state.messages;
    let en = status_policy::describe(rec, msgs, Lang::En);
    let es = status_policy::describe(rec, msgs, Lang::Es);
    let hist: Vec<HistEntry> = en
        .history
        .into_iter()
        .zip(es.history)
        .map(|(en, es)| HistEntry {
            date: en.day.format("%Y-%m-%d").to_string(),
            completed_text_en: en.text,
            completed_text_es: es.text,
        })
        .collect();
    let body = CaseStatusBody {
        receiptNumber: rec.receipt.as_str().to_string(),
        formType: rec.form.id().to_string(),
        submittedDate: torch_datetime(rec.created_at),
        modifiedDate: torch_datetime(rec.status_at),
        current_case_status_text_en: en.current.title,
        current_case_status_desc_en: en.current.description,
        current_case_status_text_es: es.current.title,
        current_case_status_desc_es: es.current.description,
        hist_case_status: (!hist.is_empty()).then_some(hist),
    };
    // Serialized straight from the structs (no intermediate JSON tree).
    axum::Json(Envelope {
        case_status: body,
        message: "Query was successful",
    })
    .into_response()
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::docs::OPENAPI,
    )
        .into_response()
}
