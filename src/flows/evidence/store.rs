//! Queries of the evidence flow.

use sqlx::Row;

use super::ScanState;
use crate::store::{Db, StoreError};

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

pub struct UploadRow {
    pub id: i64,
    pub display_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub scan: ScanState,
    pub storage_key: String,
    pub submitted_at: Option<i64>,
    pub created_at: i64,
}

pub async fn uploads(db: &Db, request_id: i64) -> Result<Vec<UploadRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, display_name, mime, size, sha256, scan_state, storage_key, submitted_at, created_at \
         FROM uploads WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(upload_row).collect()
}

fn upload_row(r: &sqlx::any::AnyRow) -> Result<UploadRow, StoreError> {
    Ok(UploadRow {
        id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        mime: r.try_get("mime")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        scan: ScanState::from_code(&r.try_get::<String, _>("scan_state")?),
        storage_key: r.try_get("storage_key")?,
        submitted_at: r.try_get("submitted_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn upload(db: &Db, id: i64) -> Result<Option<UploadRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, display_name, mime, size, sha256, scan_state, storage_key, submitted_at, created_at FROM uploads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(upload_row).transpose()
}

pub struct NewUpload<'a> {
    pub request_id: i64,
    pub account_id: i64,
    pub key: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub mime: &'a str,
    pub display_name: &'a str,
    pub scan: ScanState,
    pub now: i64,
}

pub async fn insert_upload(db: &Db, u: NewUpload<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO uploads (request_id, account_id, storage_key, sha256, size, mime, display_name, scan_state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(u.request_id)
    .bind(u.account_id)
    .bind(u.key)
    .bind(u.sha256)
    .bind(u.size)
    .bind(u.mime)
    .bind(u.display_name)
    .bind(u.scan.code())
    .bind(u.now)
    .fetch_one(db.pool())
    .await?)
}

pub async fn set_scan(
    db: &Db,
    id: i64,
    scan: ScanState,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE uploads SET scan_state = $1, scan_detail = $2 WHERE id = $3")
        .bind(scan.code())
        .bind(detail)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
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
