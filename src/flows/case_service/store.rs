//! The case service's reads beyond the status read model.

use crate::store::{Db, StoreError};

/// The receipt numbers linked to an account, newest filing first.
pub async fn linked_receipts(db: &Db, account_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT receipt_number FROM cases WHERE account_id = $1 ORDER BY received_date DESC, id DESC",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?)
}

/// The name of the person a case is about, as filed.
pub async fn applicant_name(db: &Db, person_id: i64) -> Result<Option<String>, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT given_name, family_name FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(given, family)| format!("{given} {family}")))
}
