//! Authorization, in one place per resource: a case, notice, document request
//! or upload is reachable only through the account that linked the case (or,
//! later, an officer role). Every handler that touches one goes through here,
//! and someone else's object answers exactly like a missing one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use crate::app::{AppState, ClientIp};
use crate::auth::account::Role;
use crate::auth::session::{FullSession, Session};
use crate::error::AppError;
use crate::store::{Db, StoreError};

/// A fully signed-in applicant: the only kind of account that may use the
/// applicant functions (linking a case, evidence, change of address,
/// notices). An officer account is refused with a page pointing to the
/// console, and the refusal is logged and audited: officers work on cases
/// through the console, where every action is audited under their role.
pub struct Applicant(pub Session);

/// Pure: may an account of this role use the applicant functions? An
/// unknown role may not (fail closed).
pub fn applicant_may(role: &str) -> bool {
    Role::parse(role) == Some(Role::Applicant)
}

/// Pure: may an account of this role create or use applicant tokens
/// (Connected apps: personal tokens and device grants)? Only an
/// applicant's: an officer's token would be a credential outside the
/// console's audit, and a token stops working if its account stops being an
/// applicant's. The Connected apps pages take [`Applicant`], which asks this
/// same rule.
pub fn may_hold_applicant_tokens(role: &str) -> bool {
    applicant_may(role)
}

impl FromRequestParts<AppState> for Applicant {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let FullSession(s) = FullSession::from_request_parts(parts, state).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let what = format!("{} {}", parts.method, parts.uri.path());
        require_applicant(state, &s, &ip, &what)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Applicant(s))
    }
}

/// Refuses (logged, audited, [`AppError::OfficerAccount`]) a session that is
/// not an applicant's; for handlers that read the session themselves.
pub async fn require_applicant(
    state: &AppState,
    s: &Session,
    ip: &str,
    what: &str,
) -> Result<(), AppError> {
    if applicant_may(&s.role) {
        return Ok(());
    }
    let actor = format!("officer:{}", s.role);
    refused(
        state,
        &actor,
        s.account_id,
        ip,
        &format!("applicant function {what}"),
    )
    .await?;
    Err(AppError::OfficerAccount)
}

/// Someone else's object asked for: it answers like a missing one, and the
/// attempt is logged and audited with the actor (the client IP is on the
/// request's log line).
async fn refused_object(db: &Db, account_id: i64, what: &str) -> Result<(), StoreError> {
    let actor = format!("account:{account_id}");
    tracing::warn!(
        actor,
        what,
        "authorization refused: another person's object"
    );
    crate::audit::record(
        db,
        &crate::audit::Event {
            at: chrono::Utc::now().timestamp(),
            actor: &actor,
            action: "authz.refused",
            subject: Some(actor.clone()),
            ip: None,
            detail: format!("another person's {what}"),
        },
    )
    .await
}

/// Records a refused authorization: a warning in the log and an entry in the
/// audit chain, both naming the actor (`officer:<role>` or `account:<id>`),
/// the account and what was asked for.
pub async fn refused(
    state: &AppState,
    actor: &str,
    account_id: i64,
    ip: &str,
    what: &str,
) -> Result<(), AppError> {
    tracing::warn!(actor, account_id, what, "authorization refused");
    crate::audit::record(
        &state.db,
        &crate::audit::Event {
            at: state.now().timestamp(),
            actor,
            action: "authz.refused",
            subject: Some(format!("account:{account_id}")),
            ip: Some(ip.to_string()),
            detail: what.chars().take(200).collect(),
        },
    )
    .await?;
    Ok(())
}

/// A case as its linked applicant sees it.
#[derive(Debug, Clone)]
pub struct CaseRef {
    pub case_id: i64,
    pub person_id: i64,
    pub receipt: String,
    pub form: String,
    pub office: String,
    pub received_date: String,
    pub status: String,
    pub status_at: i64,
}

pub async fn case_for_account(
    db: &Db,
    account_id: i64,
    receipt: &str,
) -> Result<Option<CaseRef>, StoreError> {
    let Ok(receipt) = crate::domain::ReceiptNumber::parse(receipt) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT id, person_id, receipt_number, form, office, received_date, status, status_at \
         FROM cases WHERE receipt_number = $1 AND account_id = $2",
    )
    .bind(receipt.as_str())
    .bind(account_id)
    .fetch_optional(db.pool())
    .await?;
    if row.is_none() {
        let owner: Option<Option<i64>> =
            sqlx::query_scalar("SELECT account_id FROM cases WHERE receipt_number = $1")
                .bind(receipt.as_str())
                .fetch_optional(db.pool())
                .await?;
        if let Some(Some(_)) = owner {
            refused_object(db, account_id, &format!("case {}", receipt.as_str())).await?;
        }
    }
    row.map(|r| {
        Ok(CaseRef {
            case_id: r.try_get("id")?,
            person_id: r.try_get("person_id")?,
            receipt: r.try_get("receipt_number")?,
            form: r.try_get("form")?,
            office: r.try_get("office")?,
            received_date: r.try_get("received_date")?,
            status: r.try_get("status")?,
            status_at: r.try_get("status_at")?,
        })
    })
    .transpose()
}

/// A notice of a case this account may see.
pub async fn notice_for_account(
    db: &Db,
    account_id: i64,
    receipt: &str,
    notice_id: i64,
) -> Result<Option<crate::notices::store::NoticeRecord>, StoreError> {
    let Some(case) = case_for_account(db, account_id, receipt).await? else {
        return Ok(None);
    };
    let notice = crate::notices::store::get(db, notice_id).await?;
    let (mine, other): (Vec<_>, Vec<_>) = notice
        .into_iter()
        .partition(|n| n.receipt_number.as_deref() == Some(case.receipt.as_str()));
    if !other.is_empty() {
        refused_object(db, account_id, &format!("notice {notice_id}")).await?;
    }
    Ok(mine.into_iter().next())
}

/// A document request of a case this account may see.
pub async fn request_for_account(
    db: &Db,
    account_id: i64,
    receipt: &str,
    request_id: i64,
) -> Result<Option<(CaseRef, i64)>, StoreError> {
    let Some(case) = case_for_account(db, account_id, receipt).await? else {
        return Ok(None);
    };
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM document_requests WHERE id = $1 AND case_id = $2")
            .bind(request_id)
            .bind(case.case_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(found.map(|id| (case, id)))
}

/// An upload of a request this account may see.
pub async fn upload_for_account(
    db: &Db,
    account_id: i64,
    receipt: &str,
    request_id: i64,
    upload_id: i64,
) -> Result<Option<i64>, StoreError> {
    let Some((_, request_id)) = request_for_account(db, account_id, receipt, request_id).await?
    else {
        return Ok(None);
    };
    Ok(
        sqlx::query_scalar("SELECT id FROM uploads WHERE id = $1 AND request_id = $2")
            .bind(upload_id)
            .bind(request_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// What an officer may do, by role — the one matrix every console route asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficerArea {
    /// Search and read cases.
    CaseView,
    /// Change cases: statuses, evidence requests, interviews, decisions.
    CaseWork,
    /// Enter filings.
    Intake,
    /// The letters queue.
    MailRoom,
    /// Officers, API clients, unlocks and resets.
    Admin,
}

pub fn officer_may(role: crate::auth::account::Role, area: OfficerArea) -> bool {
    use crate::auth::account::Role::*;
    match area {
        OfficerArea::CaseView => matches!(role, Intake | Adjudicator | Admin),
        OfficerArea::CaseWork => matches!(role, Adjudicator | Admin),
        OfficerArea::Intake => matches!(role, Intake | Admin),
        OfficerArea::MailRoom => matches!(role, Mailroom | Admin),
        OfficerArea::Admin => matches!(role, Admin),
    }
}

/// Pure: may `caller` see and end a subscription owned by `owner`? Only its
/// owner may (officers act through the console, not this rule).
pub fn webhook_owner_may(owner: crate::webhooks::Owner, caller: crate::webhooks::Owner) -> bool {
    owner == caller
}

/// A webhook subscription as `caller` may reach it: another owner's (or a
/// deleted one) answers exactly like a missing one, and asking for another
/// owner's is logged and audited.
pub async fn webhook_subscription(
    state: &AppState,
    caller: crate::webhooks::Owner,
    public_id: &str,
) -> Result<Option<crate::webhooks::store::SubscriptionRow>, StoreError> {
    let Some(sub) = crate::webhooks::store::find(&state.db, public_id).await? else {
        return Ok(None);
    };
    if sub.deleted_at.is_some() {
        return Ok(None);
    }
    if webhook_owner_may(sub.owner, caller) {
        return Ok(Some(sub));
    }
    let actor = caller.actor();
    tracing::warn!(
        actor,
        subscription = public_id,
        "authorization refused: another owner's webhook subscription"
    );
    crate::audit::record(
        &state.db,
        &crate::audit::Event {
            at: state.now().timestamp(),
            actor: &actor,
            action: "authz.refused",
            subject: Some(actor.clone()),
            ip: None,
            detail: format!("another owner's webhook subscription {public_id}"),
        },
    )
    .await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::account::Role;

    #[test]
    fn applicants_may_do_nothing_officers_only_their_part() {
        for area in [
            OfficerArea::CaseView,
            OfficerArea::CaseWork,
            OfficerArea::Intake,
            OfficerArea::MailRoom,
            OfficerArea::Admin,
        ] {
            assert!(!officer_may(Role::Applicant, area));
            assert!(officer_may(Role::Admin, area));
        }
        assert!(officer_may(Role::Mailroom, OfficerArea::MailRoom));
        assert!(!officer_may(Role::Mailroom, OfficerArea::CaseView));
        assert!(officer_may(Role::Intake, OfficerArea::CaseView));
        assert!(!officer_may(Role::Intake, OfficerArea::CaseWork));
        assert!(!officer_may(Role::Adjudicator, OfficerArea::MailRoom));
    }

    #[test]
    fn only_applicants_may_use_applicant_functions() {
        assert!(applicant_may("applicant"));
        for r in Role::OFFICER {
            assert!(!applicant_may(r.code()));
        }
        assert!(!applicant_may("superuser"), "unknown roles fail closed");
        assert!(may_hold_applicant_tokens("applicant"));
        for r in Role::OFFICER {
            assert!(!may_hold_applicant_tokens(r.code()));
        }
    }
}
