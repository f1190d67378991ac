//! Notice rows and the mail-room queue.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{MailState, NoticeKind};
use crate::store::{Db, StoreError};

/// A notice as issued: the addressee and case facts are a snapshot taken at
/// issue time, so re-rendering later yields the same document.
#[derive(Debug, Clone)]
pub struct NoticeRecord {
    pub id: i64,
    pub kind: NoticeKind,
    pub lang: String,
    pub notice_date: String,
    pub addressee: String,
    pub street: String,
    pub unit: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub receipt_number: Option<String>,
    pub form: Option<String>,
    pub received_date: Option<String>,
    pub access_code_id: Option<i64>,
    pub body: Option<String>,
    pub code_sealed: Option<Vec<u8>>,
    pub code_expires_at: Option<i64>,
    pub mail_state: MailState,
    /// The change-of-address request a change-of-address letter belongs to.
    pub address_change_id: Option<i64>,
}

const COLUMNS: &str = "id, kind, lang, notice_date, addressee, street, unit, city, state, zip, \
     receipt_number, form, received_date, access_code_id, body, code_sealed, code_expires_at, mail_state, address_change_id";

fn from_row(r: &AnyRow) -> Result<NoticeRecord, StoreError> {
    let bad = |what: &str| StoreError::Query(sqlx::Error::Decode(format!("bad {what}").into()));
    let kind: String = r.try_get("kind")?;
    let mail: String = r.try_get("mail_state")?;
    Ok(NoticeRecord {
        id: r.try_get("id")?,
        kind: NoticeKind::from_code(&kind).ok_or_else(|| bad("notice kind"))?,
        lang: r.try_get("lang")?,
        notice_date: r.try_get("notice_date")?,
        addressee: r.try_get("addressee")?,
        street: r.try_get("street")?,
        unit: r.try_get("unit")?,
        city: r.try_get("city")?,
        state: r.try_get("state")?,
        zip: r.try_get("zip")?,
        receipt_number: r.try_get("receipt_number")?,
        form: r.try_get("form")?,
        received_date: r.try_get("received_date")?,
        access_code_id: r.try_get("access_code_id")?,
        body: r.try_get("body")?,
        code_sealed: r.try_get("code_sealed")?,
        code_expires_at: r.try_get("code_expires_at")?,
        mail_state: MailState::from_code(&mail).ok_or_else(|| bad("mail state"))?,
        address_change_id: r.try_get("address_change_id")?,
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<NoticeRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notices WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn for_case(db: &Db, receipt: &str) -> Result<Vec<NoticeRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notices WHERE receipt_number = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(receipt)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Up to `limit` queued letters, oldest first, after `after_id`.
pub async fn queued(db: &Db, after_id: i64, limit: i64) -> Result<Vec<NoticeRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notices WHERE mail_state = 'queued' AND id > $1 ORDER BY id LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count_queued(db: &Db) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM notices WHERE mail_state = 'queued'")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Moves a letter along the mail-room path; false when the move is not
/// allowed from its current state (checked in the same statement, so two
/// clerks cannot both move it). Runs on any executor, so it joins the
/// caller's transaction (`&mut *tx`) or runs alone (`db.pool()`).
pub async fn set_mail_state<'c, E>(
    exec: E,
    id: i64,
    from: MailState,
    to: MailState,
    now: i64,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if !from.can_become(to) {
        return Ok(false);
    }
    // Once a letter is mailed its sealed code is no longer needed: erase it.
    let sql = if to == MailState::Mailed {
        "UPDATE notices SET mail_state = $1, mail_state_at = $2, code_sealed = NULL WHERE id = $3 AND mail_state = $4"
    } else {
        "UPDATE notices SET mail_state = $1, mail_state_at = $2 WHERE id = $3 AND mail_state = $4"
    };
    let r = sqlx::query(sql)
        .bind(to.code())
        .bind(now)
        .bind(id)
        .bind(from.code())
        .execute(exec)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Issues a notice about a case to the person on file (mailed when the case
/// was filed on paper), inside the caller's transaction.
/// The language a case's notices are written in: the linked account's (the
/// language its holder last signed up or signed in with), else English.
pub async fn case_lang(db: &Db, case_id: i64) -> Result<crate::i18n::Lang, StoreError> {
    let lang: Option<String> = sqlx::query_scalar(
        "SELECT a.lang FROM cases c JOIN accounts a ON a.id = c.account_id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(lang
        .as_deref()
        .and_then(crate::i18n::Lang::parse)
        .unwrap_or(crate::i18n::Lang::En))
}

/// Issues a notice for a case in `lang` (see [`case_lang`]); `body` is
/// already written in that language.
pub async fn issue_for_case(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: i64,
    kind: NoticeKind,
    lang: crate::i18n::Lang,
    body: Option<&str>,
    now: i64,
) -> Result<i64, StoreError> {
    let notice_date = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notices (kind, lang, person_id, case_id, notice_date, created_at, addressee, street, unit, city, \
         state, zip, receipt_number, form, received_date, body, mail_state, mail_state_at) \
         SELECT $1, $6, p.id, c.id, $2, $3, p.given_name || ' ' || p.family_name, p.street, p.unit, p.city, p.state, p.zip, \
         c.receipt_number, c.form, c.received_date, $4, CASE WHEN c.channel = 'paper' THEN 'queued' ELSE 'none' END, $3 \
         FROM cases c JOIN persons p ON p.id = c.person_id WHERE c.id = $5 RETURNING id",
    )
    .bind(kind.code())
    .bind(notice_date)
    .bind(now)
    .bind(body)
    .bind(case_id)
    .bind(lang.code())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}
