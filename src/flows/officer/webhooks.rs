//! Webhook subscriptions in the console (admins): every API client's
//! subscriptions, each one's recent deliveries and their state, and
//! disabling one — `GET …/disable` asks for confirmation, `POST` disables
//! (pending deliveries are given up; audited).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;

use super::handler::{Officer, audit};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::authz::{OfficerArea, officer_may};
use crate::error::AppError;
use crate::i18n::{Lang, Messages};
use crate::webhooks::store::{self as hooks, DeliveryRow, SubscriptionRow};

/// Subscriptions the list shows.
const LIST_LIMIT: i64 = 200;
/// Deliveries one subscription's page shows.
const RECENT: i64 = 50;

fn when(msgs: &Messages, lang: Lang, at: i64) -> String {
    DateTime::from_timestamp(at, 0)
        .map(|d| {
            format!(
                "{} {}",
                msgs.long_date(lang, d.date_naive()),
                d.format("%H:%M UTC")
            )
        })
        .unwrap_or_default()
}

/// One subscription as the console shows it.
pub struct SubLine {
    pub id: String,
    pub client: String,
    pub url: String,
    pub receipts: Vec<String>,
    pub created: String,
    pub state: String,
    pub active: bool,
}

/// One delivery as the console shows it.
pub struct DeliveryLine {
    pub webhook_id: String,
    pub receipt: String,
    pub created: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt: String,
    pub last_response: String,
}

fn sub_line(msgs: &Messages, lang: Lang, s: &SubscriptionRow, receipts: Vec<String>) -> SubLine {
    let state = if s.deleted_at.is_some() {
        msgs.get(lang, "officer.webhooks.state.deleted").to_string()
    } else if let Some(at) = s.disabled_at {
        msgs.fmt(
            lang,
            "officer.webhooks.state.disabled",
            &[
                ("date", &when(msgs, lang, at)),
                ("by", s.disabled_by.as_deref().unwrap_or("")),
            ],
        )
    } else {
        msgs.get(lang, "officer.webhooks.state.active").to_string()
    };
    SubLine {
        id: s.public_id.clone(),
        client: match s.owner {
            crate::webhooks::Owner::ApiClient { .. } => s.client_name.clone().unwrap_or_default(),
            crate::webhooks::Owner::ApplicantToken { account_pk, .. } => msgs.fmt(
                lang,
                "officer.webhooks.owner_applicant",
                &[("account", &account_pk.to_string())],
            ),
        },
        url: s.url.clone(),
        receipts,
        created: when(msgs, lang, s.created_at),
        state,
        active: s.deleted_at.is_none() && s.disabled_at.is_none(),
    }
}

fn delivery_line(msgs: &Messages, lang: Lang, d: &DeliveryRow) -> DeliveryLine {
    let (key, pending) = if d.delivered_at.is_some() {
        ("delivered", false)
    } else if d.failed_at.is_some() {
        ("failed", false)
    } else {
        ("pending", true)
    };
    let mut last = d.last_status.map(|s| s.to_string()).unwrap_or_default();
    if let Some(e) = &d.last_error {
        if !last.is_empty() {
            last.push_str(" — ");
        }
        last.push_str(e);
    }
    DeliveryLine {
        webhook_id: d.message_id.clone(),
        receipt: d.receipt_number.clone(),
        created: when(msgs, lang, d.created_at),
        state: msgs
            .get(lang, &format!("officer.webhooks.delivery.{key}"))
            .to_string(),
        attempts: d.attempts,
        next_attempt: if pending {
            when(msgs, lang, d.next_attempt_at)
        } else {
            String::new()
        },
        last_response: last,
    }
}

#[derive(askama::Template)]
#[template(path = "flows/officer/webhooks.html")]
struct ListTemplate<'a> {
    c: Chrome<'a>,
    subs: Vec<SubLine>,
}

/// `GET /officer/webhooks`.
pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    o: Officer,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Admin)?;
    let m = state.messages;
    let mut subs = Vec::new();
    for s in hooks::list_all(&state.db, LIST_LIMIT).await? {
        let receipts = hooks::receipts_of(&state.db, s.id).await?;
        subs.push(sub_line(m, lang, &s, receipts));
    }
    let c = Chrome::new(&state, lang, "/officer/webhooks", "").signed_in(true);
    let title = c.t("officer.webhooks.title").to_string();
    Ok(render(&ListTemplate {
        c: c.titled(title),
        subs,
    }))
}

#[derive(askama::Template)]
#[template(path = "flows/officer/webhook.html")]
struct DetailTemplate<'a> {
    c: Chrome<'a>,
    sub: SubLine,
    deliveries: Vec<DeliveryLine>,
}

async fn found(state: &AppState, id: &str) -> Result<SubscriptionRow, AppError> {
    hooks::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

/// `GET /officer/webhooks/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    o: Officer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Admin)?;
    let s = found(&state, &id).await?;
    let m = state.messages;
    let receipts = hooks::receipts_of(&state.db, s.id).await?;
    let deliveries = hooks::recent_deliveries(&state.db, s.id, RECENT)
        .await?
        .iter()
        .map(|d| delivery_line(m, lang, d))
        .collect();
    let c = Chrome::new(&state, lang, &format!("/officer/webhooks/{id}"), "").signed_in(true);
    let title = c.t("officer.webhooks.detail_title").to_string();
    Ok(render(&DetailTemplate {
        c: c.titled(title),
        sub: sub_line(m, lang, &s, receipts),
        deliveries,
    }))
}

#[derive(askama::Template)]
#[template(path = "flows/officer/webhook_disable.html")]
struct DisableTemplate<'a> {
    c: Chrome<'a>,
    sub: SubLine,
}

/// `GET /officer/webhooks/{id}/disable`: the confirmation.
pub async fn disable_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Admin)?;
    let s = found(&state, &id).await?;
    let receipts = hooks::receipts_of(&state.db, s.id).await?;
    let sub = sub_line(state.messages, lang, &s, receipts);
    if !sub.active {
        return Ok(Redirect::to(&format!("/officer/webhooks/{id}")).into_response());
    }
    let c = Chrome::new(&state, lang, &format!("/officer/webhooks/{id}/disable"), "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("officer.webhooks.disable_title").to_string();
    Ok(render(&DisableTemplate {
        c: c.titled(title),
        sub,
    }))
}

/// `POST /officer/webhooks/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    o: Officer,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !officer_may(o.role, OfficerArea::Admin) {
        audit(&state, &o, "webhook.disable_refused", &ip, "role").await?;
        return Err(AppError::NotFound);
    }
    let s = found(&state, &id).await?;
    let now = state.now().timestamp();
    let changed = hooks::end(&state.db, s.id, false, &o.actor(), now).await?;
    audit(
        &state,
        &o,
        "webhook.disable",
        &ip,
        &format!("subscription={id} changed={changed}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/officer/webhooks/{id}")).into_response())
}
