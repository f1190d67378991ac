//! Queries of the officer console: case search and the case page, the
//! writes of case actions (inside the action's transaction), the mail
//! room's list, and the admin page's officers, API clients and access codes.
//!
//! Writes that belong to a multi-write action take the caller's
//! transaction, so the action commits once.

use sqlx::{Any, Row, Transaction};

use super::form::CaseSearch;
use crate::auth::account::Role;
use crate::domain::notice::MailState;
use crate::domain::{ANumber, CaseStatus, FormType, ReceiptNumber};
use crate::store::{Db, StoreError};

/// One case the search found.
pub struct FoundRow {
    pub receipt: String,
    pub form: String,
    /// The status code as stored.
    pub status: String,
    pub given_name: String,
    pub family_name: String,
}

pub async fn search(db: &Db, by: &CaseSearch) -> Result<Vec<FoundRow>, StoreError> {
    const BASE: &str = "SELECT c.receipt_number, c.form, c.status, p.given_name, p.family_name \
                        FROM cases c JOIN persons p ON p.id = c.person_id";
    let (sql, value) = match by {
        CaseSearch::Receipt(r) => (
            format!("{BASE} WHERE c.receipt_number = $1"),
            r.as_str().to_string(),
        ),
        CaseSearch::ANumber(a) => (
            format!("{BASE} WHERE p.a_number = $1 ORDER BY c.id"),
            a.as_str().to_string(),
        ),
        // Family name, case-insensitive, prefix match.
        CaseSearch::FamilyPrefix(p) => (
            format!(
                "{BASE} WHERE LOWER(p.family_name) LIKE $1 ORDER BY p.family_name, c.id LIMIT 50"
            ),
            format!("{p}%"),
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(FoundRow {
                receipt: r.try_get("receipt_number")?,
                form: r.try_get("form")?,
                status: r.try_get("status")?,
                given_name: r.try_get("given_name")?,
                family_name: r.try_get("family_name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// A case as the console's actions need it.
pub struct CaseRow {
    pub id: i64,
    pub receipt: String,
    pub form: FormType,
    pub office: String,
    pub status: CaseStatus,
}

/// The case with this receipt number; `None` when there is none (or its
/// stored form or status is not one the catalogue knows).
pub async fn case_by_receipt(
    db: &Db,
    receipt: &ReceiptNumber,
) -> Result<Option<CaseRow>, StoreError> {
    let row: Option<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, receipt_number, form, office, status FROM cases WHERE receipt_number = $1",
    )
    .bind(receipt.as_str())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|(id, receipt, form, office, status)| {
        Some(CaseRow {
            id,
            receipt,
            form: FormType::parse(&form)?,
            office,
            status: CaseStatus::from_code(&status)?,
        })
    }))
}

/// The case's id and its person's id.
pub async fn case_and_person(
    db: &Db,
    receipt: &ReceiptNumber,
) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, person_id FROM cases WHERE receipt_number = $1")
            .bind(receipt.as_str())
            .fetch_optional(db.pool())
            .await?,
    )
}

/// The person on a case, and the account number of the account it is
/// linked to (if any).
pub struct PersonRow {
    pub a_number: String,
    pub given_name: String,
    pub family_name: String,
    pub street: String,
    pub unit: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub protected: bool,
    pub account_number: Option<String>,
}

pub async fn person_on_case(db: &Db, case_id: i64) -> Result<PersonRow, StoreError> {
    let p = sqlx::query(
        "SELECT p.a_number, p.given_name, p.family_name, p.street, p.unit, p.city, p.state, p.zip, p.protected, \
         a.account_number FROM cases c JOIN persons p ON p.id = c.person_id LEFT JOIN accounts a ON a.id = c.account_id \
         WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_one(db.pool())
    .await?;
    Ok(PersonRow {
        a_number: p.try_get("a_number")?,
        given_name: p.try_get("given_name")?,
        family_name: p.try_get("family_name")?,
        street: p.try_get("street")?,
        unit: p.try_get("unit")?,
        city: p.try_get("city")?,
        state: p.try_get("state")?,
        zip: p.try_get("zip")?,
        protected: p.try_get::<i64, _>("protected")? != 0,
        account_number: p.try_get("account_number")?,
    })
}

/// One entry of the status history.
pub struct HistoryRow {
    pub status: String,
    pub at: i64,
    pub actor: String,
}

/// The case's status history, newest first.
pub async fn history(db: &Db, case_id: i64) -> Result<Vec<HistoryRow>, StoreError> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT status, at, actor FROM case_history WHERE case_id = $1 ORDER BY at DESC, id DESC",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(status, at, actor)| HistoryRow { status, at, actor })
        .collect())
}

/// One note on the case (address changed, reversed).
pub struct NoteRow {
    /// The note's kind, the key of its text.
    pub kind: String,
    pub at: i64,
    pub actor: String,
}

/// The case's notes, in no particular order.
pub async fn notes(db: &Db, case_id: i64) -> Result<Vec<NoteRow>, StoreError> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT kind, at, actor FROM case_notes WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(db.pool())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, at, actor)| NoteRow { kind, at, actor })
        .collect())
}

/// A request for evidence on the case.
pub struct RequestRow {
    pub id: i64,
    /// One item per line.
    pub items: String,
    pub due_date: String,
    pub responded: bool,
    pub reviewed: bool,
}

/// id, items, due_date, responded_at, reviewed_at
type RequestTuple = (i64, String, String, Option<i64>, Option<i64>);

pub async fn document_requests(db: &Db, case_id: i64) -> Result<Vec<RequestRow>, StoreError> {
    let rows: Vec<RequestTuple> = sqlx::query_as(
        "SELECT id, items, due_date, responded_at, reviewed_at FROM document_requests WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, items, due_date, responded, reviewed)| RequestRow {
            id,
            items,
            due_date,
            responded: responded.is_some(),
            reviewed: reviewed.is_some(),
        })
        .collect())
}

/// A request for evidence, in the action's transaction.
pub async fn insert_document_request(
    tx: &mut Transaction<'_, Any>,
    case_id: i64,
    items: &str,
    due_date: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO document_requests (case_id, kind, items, due_date, created_at) VALUES ($1, 'additional', $2, $3, $4)",
    )
    .bind(case_id)
    .bind(items)
    .bind(due_date)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the case to another office, in the action's transaction.
pub async fn set_office(
    tx: &mut Transaction<'_, Any>,
    case_id: i64,
    office: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET office = $1 WHERE id = $2")
        .bind(office)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks an answered, not yet reviewed request of the case reviewed;
/// `false` when there is no such request.
pub async fn mark_reviewed(
    tx: &mut Transaction<'_, Any>,
    request_id: i64,
    case_id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE document_requests SET reviewed_at = $1 WHERE id = $2 AND case_id = $3 AND responded_at IS NOT NULL AND reviewed_at IS NULL",
    )
    .bind(now)
    .bind(request_id)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether the upload answers that request of that case.
pub async fn upload_belongs_to_case(
    db: &Db,
    upload_id: i64,
    request_id: i64,
    case_id: i64,
) -> Result<bool, StoreError> {
    let owned: Option<i64> = sqlx::query_scalar(
        "SELECT u.id FROM uploads u JOIN document_requests d ON d.id = u.request_id WHERE u.id = $1 AND d.id = $2 AND d.case_id = $3",
    )
    .bind(upload_id)
    .bind(request_id)
    .bind(case_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(owned.is_some())
}

/// The ids of the notices in a mail state, oldest first (at most `limit`).
pub async fn notice_ids_in_mail_state(
    db: &Db,
    state: MailState,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM notices WHERE mail_state = $1 ORDER BY id LIMIT $2")
            .bind(state.code())
            .bind(limit)
            .fetch_all(db.pool())
            .await?,
    )
}

/// An officer account as the admin page lists it.
pub struct OfficerRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub disabled: bool,
}

pub async fn officers(db: &Db) -> Result<Vec<OfficerRow>, StoreError> {
    let rows: Vec<(i64, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, email, role, disabled_at FROM accounts WHERE role <> 'applicant' ORDER BY email",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, email, role, disabled_at)| OfficerRow {
            id,
            email,
            role,
            disabled: disabled_at.is_some(),
        })
        .collect())
}

/// An API client as the admin page lists it.
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub rate: i64,
    pub disabled: bool,
}

pub async fn api_clients(db: &Db) -> Result<Vec<ClientRow>, StoreError> {
    let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT client_id, name, scopes, rate_per_sec, disabled_at FROM api_clients ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(client_id, name, scopes, rate, disabled_at)| ClientRow {
            client_id,
            name,
            scopes,
            rate,
            disabled: disabled_at.is_some(),
        })
        .collect())
}

/// Disables (`Some(now)`) or enables (`None`) an officer account; `false`
/// when there is no such officer (applicants are never touched here).
pub async fn set_officer_disabled(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
    disabled_at: Option<i64>,
) -> Result<bool, StoreError> {
    let r =
        sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND role <> 'applicant'")
            .bind(disabled_at)
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives an officer account another officer role; `false` when there is
/// no such officer.
pub async fn set_officer_role(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
    role: Role,
) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE accounts SET role = $1 WHERE id = $2 AND role <> 'applicant'")
        .bind(role.code())
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces an API client's secret (its keyed hash) and deletes the
/// tokens issued with the old one; `false` when there is no such client.
pub async fn rotate_client_secret(
    tx: &mut Transaction<'_, Any>,
    client_id: &str,
    secret_hash: &[u8],
) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE api_clients SET secret_hash = $1 WHERE client_id = $2")
        .bind(secret_hash.to_vec())
        .bind(client_id)
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "DELETE FROM api_tokens WHERE client_pk = (SELECT id FROM api_clients WHERE client_id = $1)",
    )
    .bind(client_id)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Disables an enabled API client; `false` when there is none.
pub async fn disable_client(
    tx: &mut Transaction<'_, Any>,
    client_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE api_clients SET disabled_at = $1 WHERE client_id = $2 AND disabled_at IS NULL",
    )
    .bind(now)
    .bind(client_id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every unused, unrevoked access code of the person with this
/// A-Number; how many.
pub async fn revoke_unused_codes(
    tx: &mut Transaction<'_, Any>,
    a_number: &ANumber,
    now: i64,
) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE access_codes SET revoked_at = $1 WHERE used_at IS NULL AND revoked_at IS NULL \
         AND person_id = (SELECT id FROM persons WHERE a_number = $2)",
    )
    .bind(now)
    .bind(a_number.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected())
}
