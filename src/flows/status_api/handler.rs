//! HTTP side of the Case Status API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::form::{TokenForm, TokenRequestError, basic_credentials};
use super::store;
use crate::api_guard::applicant::exchange;
pub use crate::api_guard::bearer::{admit, authorize, rate_headers, store_failure, unauthorized};
pub use crate::api_guard::error::api_error;
use crate::app::{AppState, ClientIp};
use crate::crypto::{constant_time_eq, hmac_sha256, random_hex, sha256};
use crate::domain::ReceiptNumber;
use crate::status_read::describe as status_policy;
use crate::status_read::torch::{CaseStatusBody, case_status_body};

/// `POST /oauth/accesstoken` — client credentials → bearer token.
/// Also the device-code grant of RFC 8628 (`grant_type=urn:ietf:params:oauth:grant-type:device_code`,
/// `client_id`, `device_code`), answered by `api_guard::applicant::exchange`.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut form = TokenForm::default();
    let mut device_code = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "grant_type" => form.grant_type = Some(v.into_owned()),
            "client_id" => form.client_id = Some(v.into_owned()),
            "client_secret" => form.client_secret = Some(v.into_owned()),
            "device_code" => device_code = Some(v.into_owned()),
            _ => {}
        }
    }
    if form.grant_type.as_deref() == Some(exchange::GRANT_TYPE) {
        return exchange::device_token(
            &state,
            form.client_id.as_deref(),
            device_code.as_deref(),
            &ip,
        )
        .await;
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
                "grant_type must be client_credentials or urn:ietf:params:oauth:grant-type:device_code",
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

#[derive(Serialize)]
struct Envelope {
    case_status: CaseStatusBody,
    message: &'static str,
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

pub use crate::status_read::torch::submitted_at;

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
    let body = case_status_body(rec, state.messages);
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
