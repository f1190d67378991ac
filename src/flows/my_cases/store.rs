//! Queries of My cases and the case page.

use crate::store::{Db, StoreError};

/// One of the account's cases, as the My cases list shows it.
pub struct CaseListRow {
    pub receipt: String,
    pub form: String,
    pub status: String,
    pub status_at: i64,
    /// The earliest due date (`YYYY-MM-DD`) of the case's open evidence
    /// requests, if any.
    pub open_request_due: Option<String>,
}

/// The account's cases, newest received first.
pub async fn cases_of(db: &Db, account_id: i64) -> Result<Vec<CaseListRow>, StoreError> {
    let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT c.receipt_number, c.form, c.status, c.status_at, \
           (SELECT MIN(r.due_date) FROM document_requests r WHERE r.case_id = c.id AND r.responded_at IS NULL) \
         FROM cases c WHERE c.account_id = $1 ORDER BY c.received_date DESC, c.id DESC",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(receipt, form, status, status_at, open_request_due)| CaseListRow {
                receipt,
                form,
                status,
                status_at,
                open_request_due,
            },
        )
        .collect())
}

pub async fn notify_case_updates(db: &Db, account_id: i64) -> Result<bool, StoreError> {
    let on: i64 = sqlx::query_scalar("SELECT notify_case_updates FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(db.pool())
        .await?;
    Ok(on != 0)
}

pub async fn set_notify_case_updates(db: &Db, account_id: i64, on: bool) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET notify_case_updates = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(account_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A request for evidence on the case page.
pub struct RequestListRow {
    pub id: i64,
    pub due_date: String,
    pub responded_at: Option<i64>,
}

/// The case's evidence requests, newest first.
pub async fn requests_of(db: &Db, case_id: i64) -> Result<Vec<RequestListRow>, StoreError> {
    let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, due_date, responded_at FROM document_requests WHERE case_id = $1 ORDER BY id DESC",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, due_date, responded_at)| RequestListRow {
            id,
            due_date,
            responded_at,
        })
        .collect())
}

/// One officer action in the case's history: the status it set, when, and
/// the officer's role (never who).
pub struct OfficerAction {
    pub status: String,
    pub at: i64,
    pub role: String,
}

/// The officer actions on the case, newest first.
pub async fn officer_actions(db: &Db, case_id: i64) -> Result<Vec<OfficerAction>, StoreError> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT status, at, actor FROM case_history WHERE case_id = $1 AND actor LIKE 'officer:%' ORDER BY at DESC, id DESC",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(status, at, actor)| OfficerAction {
            status,
            at,
            role: actor.trim_start_matches("officer:").to_string(),
        })
        .collect())
}
