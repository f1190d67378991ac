//! Changing a case, the one way: the transition is checked by
//! `domain::status::transition`, the history grows, this instance's status
//! cache forgets the receipt, and the linked applicant (if they want it) gets
//! an email saying the case was updated — no details, no A-Number.
//!
//! The change is written inside the caller's transaction, so an action that
//! writes more (a document request, a notice, an office) commits once: all or
//! nothing. What may only happen after the commit (forgetting the cached
//! status, waking the outbox and the webhook worker) is handed back as
//! [`Changed`]. Webhook deliveries to the case's subscribers are queued in
//! the same transaction (`webhooks::enqueue_change`).

use sqlx::{Any, Row, Transaction};

use crate::app::AppState;
use crate::domain::status::{TransitionError, transition};
use crate::domain::{CaseStatus, FormType};
use crate::i18n::Lang;
use crate::outbox::{self, OutgoingEmail};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such case")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Store(StoreError::from(e))
    }
}

/// A status change written but not yet committed. Once the caller's
/// transaction has committed, [`Changed::committed`] forgets the cached
/// status and wakes the outbox; dropped without it (the transaction rolled
/// back), nothing happened.
#[must_use = "call `committed` after the transaction commits"]
#[derive(Debug)]
pub struct Changed {
    receipt: String,
}

impl Changed {
    /// Effects outside the database, for after the commit.
    pub fn committed(self, state: &AppState) {
        state.status_cache.forget(&self.receipt);
        state.outbox_wake.notify_one();
        state.webhook_wake.notify_one();
    }
}

/// Moves a case to `to`, recorded as done by `actor` at `now`, inside `tx`
/// (the caller commits).
pub async fn change_status(
    tx: &mut Transaction<'_, Any>,
    state: &AppState,
    case_id: i64,
    to: CaseStatus,
    actor: &str,
    now: i64,
) -> Result<Changed, ChangeError> {
    // Read outside the transaction (as before): the UPDATE below is guarded
    // by the status read here, and on SQLite a transaction whose first
    // statement is a write takes the write lock at once instead of failing
    // to upgrade a read snapshot another writer has moved past.
    let row = sqlx::query(
        "SELECT c.receipt_number, c.form, c.status, c.account_id, a.email, a.notify_case_updates, a.lang \
         FROM cases c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or(ChangeError::NotFound)?;
    let receipt: String = row.try_get("receipt_number")?;
    let form = FormType::parse(&row.try_get::<String, _>("form")?).ok_or(ChangeError::NotFound)?;
    let from = CaseStatus::from_code(&row.try_get::<String, _>("status")?);
    transition(form, from, to)?;
    // Guarded by the status we checked, so a concurrent change cannot be skipped over.
    let moved = sqlx::query("UPDATE cases SET status = $1, status_at = $2, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(to.code())
        .bind(now)
        .bind(case_id)
        .bind(from.map(|s| s.code()).unwrap_or(""))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if moved != 1 {
        return Err(ChangeError::NotFound);
    }
    sqlx::query("INSERT INTO case_history (case_id, status, at, actor) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(to.code())
        .bind(now)
        .bind(actor)
        .execute(&mut **tx)
        .await?;
    // Subscribers' webhooks, in this transaction: they exist exactly when
    // the change does (none for a protected case).
    if let Ok(parsed) = crate::domain::ReceiptNumber::parse(&receipt) {
        crate::webhooks::enqueue_change(tx, state.messages, &parsed, now).await?;
    }
    let email: Option<String> = row.try_get("email")?;
    let notify: Option<i64> = row.try_get("notify_case_updates")?;
    if let (Some(to_addr), Some(1)) = (email, notify) {
        let m = state.messages;
        // In the account's language first, then the other (issue 18).
        let lang = row
            .try_get::<Option<String>, _>("lang")?
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(Lang::En);
        let args = [
            ("agency", state.agency(lang)),
            ("url", state.config.public_url.as_str()),
        ];
        outbox::enqueue(
            &mut **tx,
            &state.secrets,
            &mut rand::rngs::OsRng,
            &OutgoingEmail {
                to: to_addr,
                subject: m.fmt(lang, "email.case_updated.subject", &args),
                text: format!(
                    "{}\n\n{}",
                    m.fmt(lang, "email.case_updated.body", &args),
                    m.fmt(lang.other(), "email.case_updated.body", &args)
                ),
            },
            now,
        )
        .await?;
    }
    Ok(Changed { receipt })
}
