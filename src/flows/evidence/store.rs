//! Queries of the evidence flow.

use sqlx::Row;

use crate::store::{Db, StoreError};

// The uploads table is shared with the officer console and the scanner.
pub use crate::uploads::evidence::{
    NewUpload, UploadRow, insert_upload, set_scan, upload, uploads,
};

pub struct RequestView {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub items: Vec<String>,
    pub due_date: String,
    pub responded_at: Option<i64>,
}

pub async fn request(db: &Db, id: i64) -> Result<Option<RequestView>, StoreError> {
    let row = sqlx::query("SELECT id, case_id, kind, items, due_date, responded_at FROM document_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        let items: String = r.try_get("items")?;
        Ok(RequestView {
            id: r.try_get("id")?,
            case_id: r.try_get("case_id")?,
            kind: r.try_get("kind")?,
            items: items
                .lines()
                .map(str::to_string)
                .filter(|l| !l.trim().is_empty())
                .collect(),
            due_date: r.try_get("due_date")?,
            responded_at: r.try_get("responded_at")?,
        })
    })
    .transpose()
}

/// Marks the request answered and its files submitted; false if it already was.
pub async fn submit(db: &Db, request_id: i64, now: i64) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let r = sqlx::query(
        "UPDATE document_requests SET responded_at = $1 WHERE id = $2 AND responded_at IS NULL",
    )
    .bind(now)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "UPDATE uploads SET submitted_at = $1 WHERE request_id = $2 AND submitted_at IS NULL",
    )
    .bind(now)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
