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
    // The draft became the response.
    sqlx::query("DELETE FROM evidence_drafts WHERE request_id = $1")
        .bind(request_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Starts the request's draft response or pushes its expiry back (the
/// person just changed it).
pub async fn touch_draft(
    db: &Db,
    request_id: i64,
    account_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO evidence_drafts (request_id, account_id, created_at, updated_at, expires_at) \
         VALUES ($1, $2, $3, $3, $4) \
         ON CONFLICT (request_id) DO UPDATE SET updated_at = $3, expires_at = $4",
    )
    .bind(request_id)
    .bind(account_id)
    .bind(now)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// When the request's draft expires, if it has one.
pub async fn draft_expiry(db: &Db, request_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT expires_at FROM evidence_drafts WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Takes a staged (not yet sent) file out of the draft; returns its storage
/// key so the caller deletes the bytes after the row is gone (a crash in
/// between leaves an unreferenced file, never a row without its file).
pub async fn remove_staged(
    db: &Db,
    request_id: i64,
    upload_id: i64,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "DELETE FROM uploads WHERE id = $1 AND request_id = $2 AND submitted_at IS NULL RETURNING storage_key",
    )
    .bind(upload_id)
    .bind(request_id)
    .fetch_optional(db.pool())
    .await?)
}

/// Removes every draft that expired before `now` with its staged files;
/// returns the storage keys to delete.
pub async fn purge_expired_drafts(db: &Db, now: i64) -> Result<Vec<String>, StoreError> {
    let mut tx = db.pool().begin().await?;
    let keys: Vec<String> = sqlx::query_scalar(
        "DELETE FROM uploads WHERE submitted_at IS NULL AND request_id IN \
         (SELECT request_id FROM evidence_drafts WHERE expires_at < $1) RETURNING storage_key",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM evidence_drafts WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(keys)
}
