//! HTTP side of the Case Status Online JSON.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::policy::{self, Details, Envelope};
use crate::app::{AppState, ClientIp};
use crate::audit::subject_hash;
use crate::domain::ReceiptNumber;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};
use crate::status_read::describe as status_policy;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": status.as_u16(), "message": message })),
    )
        .into_response()
}

/// `GET /csol-api/ui-auth`.
pub async fn ui_auth(State(state): State<AppState>) -> Response {
    let token = policy::issue_token(&state.secrets.csol_key, state.now().timestamp());
    let mut resp = axum::Json(json!({ "JwtResponse": { "accessToken": token } })).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /csol-api/case-statuses/{receipt}`.
pub async fn case_status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = state.now().timestamp();
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let token = v
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or_default();
        if !policy::token_valid(&state.secrets.csol_key, token, now) {
            let mut resp = error(StatusCode::UNAUTHORIZED, "Invalid or expired access token");
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"casegate\", error=\"invalid_token\""),
            );
            return resp;
        }
    }
    let subject = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    match limits::hit(&state.db, Limit::CsolLookupsPerIp, &subject, now).await {
        Ok(Verdict::Allowed { .. }) => {}
        Ok(Verdict::Exceeded { retry_at }) => {
            tracing::info!(
                limit = "csol_lookups_ip",
                "status lookups refused: over the per-IP limit"
            );
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            let secs = retry_at.saturating_sub(now).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        Err(e) => return store_failure(e),
    }
    let Ok(receipt) = ReceiptNumber::parse(&raw) else {
        let shown: String = raw.trim().chars().take(20).collect();
        return axum::Json(policy::not_found(&shown)).into_response();
    };
    let record = match state.status_cache.get(&state.db, &receipt).await {
        Ok(r) => r,
        Err(e) => return store_failure(e),
    };
    let Some(rec) = status_policy::public_view(record.as_deref()) else {
        return axum::Json(policy::not_found(receipt.as_str())).into_response();
    };
    let details = |lang: Lang| {
        let d = status_policy::describe(rec, state.messages, lang);
        Details {
            formNum: rec.form.id().to_string(),
            formTitle: state.messages.get(lang, &rec.form.title_key()).to_string(),
            actionCodeText: d.current.title,
            actionCodeDesc: d.current.description,
            empty: false,
        }
    };
    axum::Json(Envelope {
        CaseStatusResponse: policy::CaseStatusResponse {
            receiptNumber: receipt.as_str().to_string(),
            isValid: true,
            detailsEng: details(Lang::En),
            detailsSpa: details(Lang::Es),
        },
    })
    .into_response()
}

fn store_failure(e: crate::store::StoreError) -> Response {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "database unavailable");
        error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
    } else {
        tracing::error!(error = %e, "csol store error");
        error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
    }
}
