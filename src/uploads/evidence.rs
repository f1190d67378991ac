//! Evidence files as a shared service: the uploads table, the stored bytes,
//! the background virus scan and serving a file to someone already
//! authorized. The applicant's evidence flow and the officer console both use
//! it; neither reaches into the other.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use crate::app::AppState;
use crate::domain::scan::{ScanState, Serving};
use crate::error::AppError;
use crate::store::{Db, StoreError};
use crate::uploads::kind;
use crate::uploads::storage::{LocalStorage, Storage};

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

/// Uploads still waiting for a scan verdict (oldest first, a batch at a time).
pub async fn pending(db: &Db) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, storage_key FROM uploads WHERE scan_state = 'pending' ORDER BY id LIMIT 50",
    )
    .fetch_all(db.pool())
    .await?)
}

pub fn storage(state: &AppState) -> LocalStorage {
    LocalStorage::new(state.config.data_dir.join("uploads"))
}

/// Scans one stored file in the background and records the verdict;
/// an infected file is moved to quarantine.
pub fn spawn_scan(state: AppState, upload_id: i64, key: String, bytes: Vec<u8>) {
    let Some(addr) = state.config.clamd.clone() else {
        return;
    };
    tokio::spawn(async move {
        let verdict =
            crate::uploads::clamd::scan(&addr, &bytes, std::time::Duration::from_secs(30)).await;
        let result = match verdict {
            Ok(crate::uploads::clamd::ScanVerdict::Clean) => {
                set_scan(&state.db, upload_id, ScanState::Clean, None).await
            }
            Ok(crate::uploads::clamd::ScanVerdict::Infected(name)) => {
                if let Err(e) = storage(&state).quarantine(&key).await {
                    tracing::error!(upload = upload_id, error = %e, "quarantine failed");
                }
                tracing::warn!(upload = upload_id, signature = %name, "infected upload quarantined");
                let audited = crate::audit::record(
                    &state.db,
                    &crate::audit::Event {
                        at: state.now().timestamp(),
                        actor: "system",
                        action: "evidence.infected",
                        subject: Some(format!("upload:{upload_id}")),
                        ip: None,
                        detail: format!("quarantined: {name}"),
                    },
                )
                .await;
                if let Err(e) = audited {
                    tracing::error!(upload = upload_id, error = %e, "auditing an infection failed");
                }
                set_scan(&state.db, upload_id, ScanState::Infected, Some(&name)).await
            }
            Err(e) => {
                // Stays pending; the sweeper retries.
                tracing::warn!(upload = upload_id, error = %e, "scan failed; will retry");
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::error!(upload = upload_id, error = %e, "recording scan result failed");
        }
    });
}

/// Re-scans uploads left pending (e.g. after a restart or a clamd outage).
pub async fn sweep_pending(state: &AppState) -> Result<usize, AppError> {
    if state.config.clamd.is_none() {
        return Ok(0);
    }
    let rows = pending(&state.db).await?;
    let n = rows.len();
    for (id, key) in rows {
        if let Ok(bytes) = storage(state).get(&key).await {
            spawn_scan(state.clone(), id, key, bytes);
        }
    }
    Ok(n)
}

/// Serves a stored file to someone already authorized to see it: only once
/// scanned clean (unless the operator opted in), under a server-chosen
/// name; a refusal is logged and audited with the actor.
pub async fn serve(
    state: &AppState,
    receipt: &str,
    row: UploadRow,
    actor: &str,
    ip: &str,
) -> Result<Response, AppError> {
    match row.scan.serving(state.config.serve_unscanned_uploads) {
        Serving::Serve => {}
        Serving::Gone => return Err(AppError::NotFound),
        Serving::NotScanned => {
            tracing::warn!(
                actor,
                upload = row.id,
                "download refused: not scanned clean"
            );
            crate::audit::record(
                &state.db,
                &crate::audit::Event {
                    at: state.now().timestamp(),
                    actor,
                    action: "evidence.download_refused",
                    subject: Some(format!("upload:{}", row.id)),
                    ip: Some(ip.to_string()),
                    detail: format!("scan state {}", row.scan.code()),
                },
            )
            .await?;
            return Err(AppError::NotScanned);
        }
    }
    let bytes = storage(state)
        .get(&row.storage_key)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(attachment(receipt, &row, bytes))
}

/// The name a download is served under: chosen by the server, with the
/// extension of the type the content was checked to be. The applicant's
/// own name is shown on the pages as text only.
pub fn served_name(receipt: &str, row: &UploadRow) -> String {
    let ext = kind::Kind::from_mime(&row.mime).map_or("bin", kind::Kind::extension);
    let receipt: String = receipt
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("evidence-{receipt}-{}.{ext}", row.id)
}

/// An uploaded file as a download: only ever the type it was checked to be,
/// never inline, sandboxed, never framed.
fn attachment(receipt: &str, row: &UploadRow, bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&row.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = format!("attachment; filename=\"{}\"", served_name(receipt, row));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    resp
}
