//! HTTP side of the Case Status API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::form::{TokenForm, TokenRequestError, basic_credentials};
use super::store;
pub use crate::api_guard::bearer::{authorize, store_failure, unauthorized};
pub use crate::api_guard::error::api_error;
use crate::api_guard::{Admission, Grant, Usage};
use crate::app::AppState;
use crate::crypto::{constant_time_eq, hmac_sha256, random_hex, sha256};
use crate::domain::ReceiptNumber;
use crate::i18n::Lang;
use crate::status_read::describe as status_policy;

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

/// Adds the client's standing in both spellings trackers read: the IETF
/// httpapi draft (`RateLimit-Policy` / `RateLimit`) and the common
/// `X-RateLimit-Limit` / `-Remaining` / `-Reset` trio (daily quota).
pub fn rate_headers(headers: &mut HeaderMap, u: Usage) {
    let pairs = [
        (
            "ratelimit-policy",
            format!(
                "\"burst\";q={};w=1, \"daily\";q={};w=86400",
                u.rate_per_sec, u.daily_quota
            ),
        ),
        (
            "ratelimit",
            format!("\"daily\";r={};t={}", u.remaining_today, u.reset_secs),
        ),
        ("x-ratelimit-limit", u.daily_quota.to_string()),
        ("x-ratelimit-remaining", u.remaining_today.to_string()),
        ("x-ratelimit-reset", u.reset_secs.to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

/// Applies the client's rate and quota; `Ok` is the client's standing (for
/// [`rate_headers`]), `Err` the 429 to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
pub fn admit(state: &AppState, grant: &Grant) -> Result<Usage, Response> {
    let now_ms = state.now().timestamp_millis();
    let (admission, usage) = state.api.admit(grant.client_pk, grant.allowance, now_ms);
    let retry_ms = match admission {
        Admission::Allowed => return Ok(usage),
        Admission::RateLimited { retry_after_ms }
        | Admission::QuotaExhausted { retry_after_ms } => retry_after_ms,
    };
    let mut resp = api_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    rate_headers(resp.headers_mut(), usage);
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
    let usage = match admit(&state, &grant) {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let mut resp = case_answer(&state, &raw, &headers).await;
    rate_headers(resp.headers_mut(), usage);
    resp
}

/// When the case was received, as the Torch API's `submittedDate`: the
/// first history event on the received date (else that date's midnight),
/// never after the current status (`modifiedDate`).
pub fn submitted_at(rec: &status_policy::StatusRecord) -> i64 {
    let midnight = rec
        .received_date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(rec.status_at);
    let first_event = rec
        .history
        .iter()
        .map(|h| h.at)
        .filter(|at| status_policy::date_of(*at) == rec.received_date)
        .min();
    first_event.unwrap_or(midnight).min(rec.status_at)
}

/// A strong validator for a case answer: the hash of its exact bytes.
fn etag_of(body: &[u8]) -> String {
    let digest = sha256(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// RFC 9110 §13.1.2: `If-None-Match` matches `*` or any listed tag (weak
/// comparison).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

async fn case_answer(state: &AppState, raw: &str, headers: &HeaderMap) -> Response {
    let Ok(receipt) = ReceiptNumber::parse(raw) else {
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
        submittedDate: torch_datetime(submitted_at(rec)),
        modifiedDate: torch_datetime(rec.status_at),
        current_case_status_text_en: en.current.title,
        current_case_status_desc_en: en.current.description,
        current_case_status_text_es: es.current.title,
        current_case_status_desc_es: es.current.description,
        hist_case_status: (!hist.is_empty()).then_some(hist),
    };
    // Serialized straight from the structs (no intermediate JSON tree).
    let bytes = match serde_json::to_vec(&Envelope {
        case_status: body,
        message: "Query was successful",
    }) {
        Ok(b) => b,
        Err(_) => return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
    };
    let etag = etag_of(&bytes);
    let Ok(etag_value) = HeaderValue::from_str(&etag) else {
        return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
    };
    let mut resp = if none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response()
    };
    resp.headers_mut().insert(header::ETAG, etag_value);
    resp
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::docs::OPENAPI,
    )
        .into_response()
}
