//! Changes of address on the officer's case page: the person's pending and
//! completed requests (`/change-address`), the case's address notes in its
//! history, and reversal — `GET …/address-changes/{id}/reverse` asks for
//! confirmation, `POST` reverses (case workers only; audited).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;

use super::form::CaseError;
use super::handler::{HistoryLine, Officer};
use super::store;
use crate::address_change::ChangeState;
use crate::address_change::store::{self as changes, Reversal};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::authz::{OfficerArea, officer_may};
use crate::domain::ReceiptNumber;
use crate::error::AppError;
use crate::i18n::{Lang, Messages};

/// One request as the case page lists it.
pub struct ChangeLine {
    pub id: i64,
    pub requested: String,
    pub from: String,
    pub to: String,
    pub state: String,
    /// When the state was reached and by whom.
    pub since: String,
    pub reversible: bool,
}

fn day(msgs: &Messages, lang: Lang, at: i64) -> String {
    DateTime::from_timestamp(at, 0)
        .map(|d| msgs.long_date(lang, d.date_naive()))
        .unwrap_or_default()
}

fn state_text(msgs: &Messages, lang: Lang, s: ChangeState) -> String {
    let label = msgs
        .get(lang, &format!("officer.address_changes.state.{}", s.code()))
        .to_string();
    match s {
        ChangeState::Confirmed { hold_until } => format!(
            "{label} ({})",
            msgs.fmt(
                lang,
                "officer.address_changes.until",
                &[("date", &day(msgs, lang, hold_until))]
            )
        ),
        _ => label,
    }
}

async fn person_of_case(state: &AppState, receipt: &str) -> Result<(i64, i64), AppError> {
    let r = ReceiptNumber::parse(receipt).map_err(|_| AppError::NotFound)?;
    store::case_and_person(&state.db, &r)
        .await?
        .ok_or(AppError::NotFound)
}

/// The person's requests, newest first (a change whose hold has ended is
/// applied first, so the page never shows a stale "on hold").
pub async fn lines(
    state: &AppState,
    lang: Lang,
    receipt: &str,
) -> Result<Vec<ChangeLine>, AppError> {
    let (_, person_id) = person_of_case(state, receipt).await?;
    changes::apply_due(&state.db, state.now().timestamp()).await?;
    let m = state.messages;
    Ok(changes::for_person(&state.db, person_id)
        .await?
        .into_iter()
        .map(|r| ChangeLine {
            id: r.id,
            requested: day(m, lang, r.created_at),
            from: r.old.one_line(),
            to: r.new.one_line(),
            state: state_text(m, lang, r.state),
            since: format!("{} — {}", day(m, lang, r.state_at), r.state_actor),
            reversible: crate::address_change::transition(
                r.state,
                crate::address_change::ChangeEvent::Reverse,
                0,
            )
            .is_ok(),
        })
        .collect())
}

/// The case's notes (address changed, reversed) as history lines, with
/// their time for merging into the status history.
pub async fn notes(
    state: &AppState,
    lang: Lang,
    case_id: i64,
) -> Result<Vec<(i64, HistoryLine)>, AppError> {
    let m = state.messages;
    Ok(store::notes(&state.db, case_id)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.at,
                HistoryLine {
                    date: day(m, lang, r.at),
                    status: m
                        .get(lang, &format!("officer.address_changes.note.{}", r.kind))
                        .to_string(),
                    actor: r.actor,
                },
            )
        })
        .collect())
}

#[derive(askama::Template)]
#[template(path = "flows/officer/reverse.html")]
struct ReverseTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    line: ChangeLine,
}

pub async fn reverse_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let line = lines(&state, lang, &receipt)
        .await?
        .into_iter()
        .find(|l| l.id == id && l.reversible)
        .ok_or(AppError::NotFound)?;
    let c = Chrome::new(
        &state,
        lang,
        &format!("/officer/cases/{receipt}/address-changes/{id}/reverse"),
        "",
    )
    .with_csrf(csrf)
    .signed_in(true);
    let title = c.t("officer.address_changes.reverse_title").to_string();
    Ok(render(&ReverseTemplate {
        c: c.titled(title),
        receipt,
        line,
    }))
}

pub async fn reverse(
    State(state): State<AppState>,
    o: Officer,
    ClientIp(ip): ClientIp,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    if !officer_may(o.role, OfficerArea::CaseWork) {
        super::handler::audit(&state, &o, "address_change.reverse_refused", &ip, "role").await?;
        return Err(AppError::NotFound);
    }
    let (_, person_id) = person_of_case(&state, &receipt).await?;
    let now = state.now().timestamp();
    let actor = format!("officer:{}", o.role.code());
    let outcome = changes::reverse(&state.db, id, person_id, now, &actor).await?;
    super::handler::audit(
        &state,
        &o,
        "address_change.reverse",
        &ip,
        &format!("request={id} outcome={outcome:?}"),
    )
    .await?;
    Ok(match outcome {
        Reversal::Done { .. } => Redirect::to(&format!("/officer/cases/{receipt}")).into_response(),
        Reversal::NotAllowed => {
            let e = CaseError::AddressChange.code();
            Redirect::to(&format!("/officer/cases/{receipt}?error={e}")).into_response()
        }
    })
}
