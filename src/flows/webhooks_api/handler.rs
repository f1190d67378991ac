//! HTTP side of the webhook subscriptions: API clients (Bearer, like the
//! Case Status API, under the same rate and quota) at `/case-status/webhooks`,
//! and applicant tokens (Bearer, like the case service, for the cases linked
//! to their account) at `/account/case-service/api/webhooks`. Both answer in
//! the same shapes; only who the caller is, and which receipts it may
//! follow, differ.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::form::{Subscribe, SubscribeBody};
use crate::api_guard::Grant;
use crate::api_guard::applicant;
use crate::api_guard::bearer::{admit, authorize, rate_headers, store_failure};
use crate::api_guard::error::api_error;
use crate::app::{AppState, ClientIp};
use crate::flows::status_api::SCOPE_STATUS;
use crate::webhooks::store::{DeliveryRow, SubscriptionRow};
use crate::webhooks::{self, Owner, SubscribeError, TargetRules};

/// Recent deliveries shown with one subscription.
const RECENT: i64 = 50;

fn rfc3339(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Who is asking, as a subscription owner, and the API client's usage (for
/// the rate headers; none for an applicant token).
struct Caller {
    owner: Owner,
    usage: Option<crate::api_guard::Usage>,
}

/// Bearer, rate and scope of an API client: the caller, or the response to
/// send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
async fn client_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let grant: Grant = authorize(state, headers).await?;
    let usage = admit(state, &grant)?;
    if !grant.has_scope(SCOPE_STATUS) {
        let mut resp = api_error(
            StatusCode::FORBIDDEN,
            "This client may not read case status",
        );
        rate_headers(resp.headers_mut(), usage);
        return Err(resp);
    }
    Ok(Caller {
        owner: Owner::ApiClient {
            client_pk: grant.client_pk,
        },
        usage: Some(usage),
    })
}

/// An applicant token (`api_guard::applicant::resolve`: live, of an
/// applicant's account): the caller, or the 401 to send.
#[allow(clippy::result_large_err)] // the rejection is the response itself
async fn applicant_caller(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
) -> Result<Caller, Response> {
    let grant = applicant::resolve(state, headers, ip).await?;
    Ok(Caller {
        owner: Owner::ApplicantToken {
            token_pk: grant.token_id,
            account_pk: grant.account_id,
        },
        usage: None,
    })
}

fn summary(sub: &SubscriptionRow, receipts: &[String]) -> Value {
    json!({
        "id": sub.public_id,
        "url": sub.url,
        "receiptNumbers": receipts,
        "status": if sub.disabled_at.is_some() { "disabled" } else { "active" },
        "createdAt": rfc3339(sub.created_at),
    })
}

fn delivery_json(d: &DeliveryRow) -> Value {
    let status = if d.delivered_at.is_some() {
        "delivered"
    } else if d.failed_at.is_some() {
        "failed"
    } else {
        "pending"
    };
    json!({
        "id": d.message_id,
        "eventType": d.event_type,
        "receiptNumber": d.receipt_number,
        "status": status,
        "attempts": d.attempts,
        "createdAt": rfc3339(d.created_at),
        "nextAttemptAt": (status == "pending").then(|| rfc3339(d.next_attempt_at)),
        "deliveredAt": d.delivered_at.map(rfc3339),
        "lastResponseCode": d.last_status,
        "lastError": d.last_error,
    })
}

fn with_rate(mut resp: Response, usage: Option<crate::api_guard::Usage>) -> Response {
    if let Some(usage) = usage {
        rate_headers(resp.headers_mut(), usage);
    }
    resp
}

/// `POST /case-status/webhooks`.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match client_caller(&state, &headers).await {
        Ok(c) => create_as(&state, c, &body).await,
        Err(resp) => resp,
    }
}

/// `POST /account/case-service/api/webhooks`.
pub async fn applicant_create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match applicant_caller(&state, &headers, &ip).await {
        Ok(c) => create_as(&state, c, &body).await,
        Err(resp) => resp,
    }
}

async fn create_as(state: &AppState, caller: Caller, body: &[u8]) -> Response {
    let Caller { owner, usage } = caller;
    let parsed: SubscribeBody = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(_) => {
            return with_rate(
                api_error(
                    StatusCode::BAD_REQUEST,
                    "The body must be JSON: {\"url\": \"https://…\", \"receiptNumbers\": [\"…\"]}",
                ),
                usage,
            );
        }
    };
    let req = match Subscribe::parse(parsed, TargetRules::from_config(&state.config)) {
        Ok(r) => r,
        Err(e) => {
            return with_rate(
                api_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
                usage,
            );
        }
    };
    // An applicant token follows only its account's cases: another person's
    // receipt (audited by `authz`) answers exactly like an unknown one.
    if let Owner::ApplicantToken { account_pk, .. } = owner {
        for r in &req.receipts {
            match crate::authz::case_for_account(&state.db, account_pk, r).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return api_error(
                        StatusCode::NOT_FOUND,
                        "Case not found: every receipt number must be a case linked to your account",
                    );
                }
                Err(e) => return store_failure(e),
            }
        }
    }
    let now = state.now().timestamp();
    let created = match webhooks::subscribe(
        &state.db,
        &state.secrets,
        &mut rand::rngs::OsRng,
        owner,
        &req.url,
        &req.receipts,
        now,
    )
    .await
    {
        Ok(c) => c,
        Err(SubscribeError::TooMany) => {
            return with_rate(
                api_error(
                    StatusCode::CONFLICT,
                    "This caller already has the most subscriptions allowed (20); delete one first",
                ),
                usage,
            );
        }
        Err(SubscribeError::Store(e)) => return store_failure(e),
    };
    tracing::info!(
        subscription = %created.public_id,
        receipts = req.receipts.len(),
        "webhook subscription created"
    );
    let body = json!({
        "id": created.public_id,
        "url": req.url.as_str(),
        "receiptNumbers": req.receipts,
        "status": "active",
        "createdAt": rfc3339(now),
        "secret": created.secret.to_whsec(),
    });
    with_rate(
        (StatusCode::CREATED, axum::Json(body)).into_response(),
        usage,
    )
}

/// `GET /case-status/webhooks`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match client_caller(&state, &headers).await {
        Ok(c) => list_as(&state, c).await,
        Err(resp) => resp,
    }
}

/// `GET /account/case-service/api/webhooks`.
pub async fn applicant_list(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    match applicant_caller(&state, &headers, &ip).await {
        Ok(c) => list_as(&state, c).await,
        Err(resp) => resp,
    }
}

async fn list_as(state: &AppState, caller: Caller) -> Response {
    let Caller { owner, usage } = caller;
    let subs = match webhooks::store::list_for(&state.db, owner).await {
        Ok(s) => s,
        Err(e) => return store_failure(e),
    };
    let mut out = Vec::with_capacity(subs.len());
    for s in &subs {
        let receipts = match webhooks::store::receipts_of(&state.db, s.id).await {
            Ok(r) => r,
            Err(e) => return store_failure(e),
        };
        out.push(summary(s, &receipts));
    }
    with_rate(
        axum::Json(json!({ "webhooks": out })).into_response(),
        usage,
    )
}

fn not_found(usage: Option<crate::api_guard::Usage>) -> Response {
    with_rate(
        api_error(StatusCode::NOT_FOUND, "Webhook subscription not found"),
        usage,
    )
}

/// `GET /case-status/webhooks/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match client_caller(&state, &headers).await {
        Ok(c) => show_as(&state, c, &id).await,
        Err(resp) => resp,
    }
}

/// `GET /account/case-service/api/webhooks/{id}`.
pub async fn applicant_show(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match applicant_caller(&state, &headers, &ip).await {
        Ok(c) => show_as(&state, c, &id).await,
        Err(resp) => resp,
    }
}

async fn show_as(state: &AppState, caller: Caller, id: &str) -> Response {
    let Caller { owner, usage } = caller;
    let sub = match crate::authz::webhook_subscription(state, owner, id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(usage),
        Err(e) => return store_failure(e),
    };
    let receipts = match webhooks::store::receipts_of(&state.db, sub.id).await {
        Ok(r) => r,
        Err(e) => return store_failure(e),
    };
    let deliveries = match webhooks::store::recent_deliveries(&state.db, sub.id, RECENT).await {
        Ok(d) => d,
        Err(e) => return store_failure(e),
    };
    let mut body = summary(&sub, &receipts);
    body["deliveries"] = Value::Array(deliveries.iter().map(delivery_json).collect());
    with_rate(axum::Json(body).into_response(), usage)
}

/// `DELETE /case-status/webhooks/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match client_caller(&state, &headers).await {
        Ok(c) => delete_as(&state, c, &id).await,
        Err(resp) => resp,
    }
}

/// `DELETE /account/case-service/api/webhooks/{id}`.
pub async fn applicant_delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match applicant_caller(&state, &headers, &ip).await {
        Ok(c) => delete_as(&state, c, &id).await,
        Err(resp) => resp,
    }
}

async fn delete_as(state: &AppState, caller: Caller, id: &str) -> Response {
    let Caller { owner, usage } = caller;
    let sub = match crate::authz::webhook_subscription(state, owner, id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(usage),
        Err(e) => return store_failure(e),
    };
    let now = state.now().timestamp();
    if let Err(e) = webhooks::store::end(&state.db, sub.id, true, "owner", now).await {
        return store_failure(e);
    }
    tracing::info!(subscription = %sub.public_id, "webhook subscription deleted");
    with_rate(StatusCode::NO_CONTENT.into_response(), usage)
}
