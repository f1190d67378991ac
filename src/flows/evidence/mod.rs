//! Answer a request for evidence (`/account/cases/{receipt}/requests/{id}`):
//! the applicant uploads files — PDF, JPEG, PNG or TIFF judged from their
//! content, at most 12 MB each and 10 per request — stored under random names
//! outside any served folder with their SHA-256, scanned by ClamAV when
//! `CASEGATE_CLAMD` is set (never a silent pretend-clean), then submits the
//! response, which moves the case to "Response To USCIS' Request For Evidence
//! Was Received" and gives a printable receipt.

pub mod handler;
pub mod policy;
pub mod store;

/// Most files one request accepts.
pub const MAX_FILES: i64 = 10;

// The scan state is a domain state; the flow keeps its old path.
pub use crate::domain::scan::{ScanState, Serving};

/// Removes the drafts that expired (files chosen but never sent) with their
/// stored bytes; returns how many files went. Run by the housekeeping task.
pub async fn expire_drafts(
    state: &crate::app::AppState,
    now: i64,
) -> Result<usize, crate::store::StoreError> {
    use crate::uploads::storage::Storage;
    let keys = store::purge_expired_drafts(&state.db, now).await?;
    let files = crate::uploads::evidence::storage(state);
    for key in &keys {
        if let Err(e) = files.delete(key).await {
            tracing::warn!(error = %e, "expired draft file not deleted");
        }
    }
    Ok(keys.len())
}
