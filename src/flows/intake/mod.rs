//! Intake of filings: `casegate intake FILE` (bulk CSV) and `POST /api/intake`
//! (the same CSV, for a lockbox or scanning system holding an API client with
//! the `intake` scope). Each filing finds or creates the person, gets a fresh
//! receipt number, a "Case Was Received" history entry, a receipt notice and —
//! for paper filings — an Account Access Notice carrying a new access code.

pub mod cli;
pub mod form;
pub mod handler;
pub mod policy;
pub mod store;

use crate::app::AppState;
use crate::store::StoreError;

/// Files filings received over the web (the API or the officer console):
/// one batch with the server's settings, then this instance forgets any
/// cached status of the new receipts.
pub async fn file_filings(
    state: &AppState,
    filings: Vec<store::Filing>,
) -> Result<store::BatchOutcome, StoreError> {
    let outcome = store::write_batch(
        &state.db,
        &state.secrets,
        &mut rand::rngs::OsRng,
        filings,
        state.now().timestamp(),
        state.config.access_notice_code_days,
    )
    .await?;
    for c in &outcome.created {
        state.status_cache.forget(c.receipt.as_str());
    }
    Ok(outcome)
}
