//! Queries of the link-a-case flow.

use chrono::NaiveDate;

use super::policy::{CodeRow, MAX_WRONG_TRIES, TargetCase};
use crate::store::{Db, StoreError};

pub async fn target_case(db: &Db, receipt: &str) -> Result<Option<TargetCase>, StoreError> {
    let row: Option<(i64, i64, String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT c.id, c.person_id, p.dob, c.account_id, p.protected FROM cases c JOIN persons p ON p.id = c.person_id \
         WHERE c.receipt_number = $1",
    )
    .bind(receipt)
    .fetch_optional(db.pool())
    .await?;
    Ok(
        row.and_then(|(case_id, person_id, dob, linked_account, protected)| {
            Some(TargetCase {
                case_id,
                person_id,
                dob: NaiveDate::parse_from_str(&dob, "%Y-%m-%d").ok()?,
                linked_account,
                protected: protected != 0,
            })
        }),
    )
}

/// id, used_at, revoked_at, expires_at, wrong_tries
type CodeTuple = (i64, Option<i64>, Option<i64>, i64, i64);

pub async fn find_code(
    db: &Db,
    person_id: i64,
    hash: &[u8],
) -> Result<Option<CodeRow>, StoreError> {
    let row: Option<CodeTuple> = sqlx::query_as(
        "SELECT id, used_at, revoked_at, expires_at, wrong_tries FROM access_codes WHERE person_id = $1 AND code_hash = $2",
    )
    .bind(person_id)
    .bind(hash)
    .fetch_optional(db.pool())
    .await?;
    Ok(
        row.map(|(id, used_at, revoked_at, expires_at, tries)| CodeRow {
            id,
            used_at,
            revoked_at,
            expires_at,
            wrong_tries: u32::try_from(tries).unwrap_or(u32::MAX),
        }),
    )
}

/// Consumes the code (one conditional UPDATE: of two concurrent redemptions
/// exactly one sees a row) and links every unlinked case of the person.
pub async fn consume_and_link(
    db: &Db,
    code_id: i64,
    person_id: i64,
    account_id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let won = sqlx::query(
        "UPDATE access_codes SET used_at = $1, used_by_account = $2 \
         WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 AND wrong_tries < $4",
    )
    .bind(now)
    .bind(account_id)
    .bind(code_id)
    .bind(i64::from(MAX_WRONG_TRIES))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !won {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("UPDATE cases SET account_id = $1, updated_at = $2 WHERE person_id = $3 AND account_id IS NULL")
        .bind(account_id)
        .bind(now)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    // The person's other unused codes have nothing left to unlock.
    sqlx::query("UPDATE access_codes SET revoked_at = $1 WHERE person_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
        .bind(now)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
