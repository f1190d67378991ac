//! HTTP side of the case service.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::store;
use crate::api_guard::applicant;
use crate::api_guard::bearer::{store_failure, unauthorized};
use crate::api_guard::error::api_error;
use crate::app::{AppState, ClientIp};
use crate::auth::session::{Level, MaybeSession};
use crate::authz::{self, CaseRef};
use crate::domain::ReceiptNumber;
use crate::i18n::Lang;
use crate::status_read::describe::StatusRecord;

#[derive(Serialize)]
#[allow(non_snake_case)]
struct Event {
    eventCode: &'static str,
    createdAt: String,
    createdAtTimestamp: String,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct Notice {
    actionType: String,
    noticeType: &'static str,
    generationDate: String,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct CaseBody {
    receiptNumber: String,
    formType: &'static str,
    formName: String,
    submissionDate: String,
    updatedAt: String,
    applicantName: String,
    events: Vec<Event>,
    notices: Vec<Notice>,
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

fn timestamp(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
    }
}

fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Case not found")
}

/// Who is asking: the owner of the bearer token, else the signed-in
/// applicant's browser session; `Err` is the 401/403 to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    session: Option<crate::auth::session::Session>,
    ip: &str,
    what: &str,
) -> Result<i64, Response> {
    if headers.contains_key(header::AUTHORIZATION) {
        return applicant::resolve(state, headers, ip)
            .await
            .map(|g| g.account_id);
    }
    match session {
        Some(s) if s.level == Level::Full => {
            if authz::require_applicant(state, &s, ip, what).await.is_err() {
                return Err(api_error(StatusCode::FORBIDDEN, "Forbidden"));
            }
            Ok(s.account_id)
        }
        _ => Err(unauthorized(false)),
    }
}

/// A linked case in the case-service shape; `None` for a 1367-protected one
/// (it answers like an unknown receipt, as everywhere in the API).
async fn case_body(
    state: &AppState,
    case: &CaseRef,
) -> Result<Option<CaseBody>, crate::store::StoreError> {
    let Ok(receipt) = ReceiptNumber::parse(&case.receipt) else {
        return Ok(None);
    };
    let Some(rec) = state.status_cache.get(&state.db, &receipt).await? else {
        return Ok(None);
    };
    let rec: &StatusRecord = &rec;
    if rec.protected {
        return Ok(None);
    }
    let m = state.messages;
    let events = rec
        .history
        .iter()
        .map(|h| Event {
            eventCode: h.status.code(),
            createdAt: crate::status_read::describe::date_of(h.at)
                .format("%Y-%m-%d")
                .to_string(),
            createdAtTimestamp: timestamp(h.at),
        })
        .collect();
    let notices = crate::notices::store::for_case(&state.db, &case.receipt)
        .await?
        .into_iter()
        .map(|n| Notice {
            actionType: m.get(Lang::En, &n.kind.title_key()).to_string(),
            noticeType: n.kind.code(),
            generationDate: n.notice_date,
        })
        .collect();
    Ok(Some(CaseBody {
        receiptNumber: rec.receipt.as_str().to_string(),
        formType: rec.form.id(),
        formName: m.get(Lang::En, &rec.form.title_key()).to_string(),
        submissionDate: rec.received_date.format("%Y-%m-%d").to_string(),
        updatedAt: timestamp(rec.status_at),
        applicantName: store::applicant_name(&state.db, case.person_id)
            .await?
            .unwrap_or_default(),
        events,
        notices,
    }))
}

/// `GET /account/case-service/api/cases/{receipt}`.
pub async fn case(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    MaybeSession(session): MaybeSession,
    Path(raw): Path<String>,
) -> Response {
    let account_id = match caller(&state, &headers, session, &ip, "case service").await {
        Ok(id) => id,
        Err(resp) => return resp,
    };
    // Someone else's receipt answers exactly like an unknown one (and the
    // attempt is audited by `authz`).
    let case = match authz::case_for_account(&state.db, account_id, &raw).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(),
        Err(e) => return store_failure(e),
    };
    match case_body(&state, &case).await {
        Ok(Some(body)) => json(&Data { data: body }),
        Ok(None) => not_found(),
        Err(e) => store_failure(e),
    }
}

/// `GET /account/case-service/api/cases`: every case linked to the caller.
pub async fn cases(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    MaybeSession(session): MaybeSession,
) -> Response {
    let account_id = match caller(&state, &headers, session, &ip, "case service").await {
        Ok(id) => id,
        Err(resp) => return resp,
    };
    let receipts = match store::linked_receipts(&state.db, account_id).await {
        Ok(r) => r,
        Err(e) => return store_failure(e),
    };
    let mut data = Vec::with_capacity(receipts.len());
    for receipt in receipts {
        let case = match authz::case_for_account(&state.db, account_id, &receipt).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => return store_failure(e),
        };
        match case_body(&state, &case).await {
            Ok(Some(body)) => data.push(body),
            Ok(None) => {}
            Err(e) => return store_failure(e),
        }
    }
    json(&Data { data })
}
