//! HTTP side of the webhook subscriptions (Bearer, like the Case Status API,
//! under the same rate and quota).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::form::{Subscribe, SubscribeBody};
use crate::api_guard::Grant;
use crate::api_guard::bearer::{admit, authorize, rate_headers, store_failure};
use crate::api_guard::error::api_error;
use crate::app::AppState;
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

/// Bearer, rate and scope: the caller as a subscription owner, or the
/// response to send.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Owner, crate::api_guard::Usage), Response> {
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
    Ok((
        Owner::ApiClient {
            client_pk: grant.client_pk,
        },
        usage,
    ))
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

fn with_rate(mut resp: Response, usage: crate::api_guard::Usage) -> Response {
    rate_headers(resp.headers_mut(), usage);
    resp
}

/// `POST /case-status/webhooks`.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (owner, usage) = match caller(&state, &headers).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let parsed: SubscribeBody = match serde_json::from_slice(&body) {
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
                    "This client already has the most subscriptions allowed (20); delete one first",
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
    let (owner, usage) = match caller(&state, &headers).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let Owner::ApiClient { client_pk } = owner;
    let subs = match webhooks::store::list_for_client(&state.db, client_pk).await {
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

fn not_found(usage: crate::api_guard::Usage) -> Response {
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
    let (owner, usage) = match caller(&state, &headers).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let sub = match crate::authz::webhook_subscription(&state, owner, &id).await {
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
    let (owner, usage) = match caller(&state, &headers).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let sub = match crate::authz::webhook_subscription(&state, owner, &id).await {
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
