//! The page that shows a new set of backup codes once (after enrolment and
//! from the security page), and the making of that set.

use crate::app::{AppState, Chrome};
use crate::auth::account;
use crate::auth::backup_codes::{self, BackupCode};
use crate::error::AppError;

#[derive(askama::Template)]
#[template(path = "pages/backup_codes.html")]
pub struct BackupCodesTemplate<'a> {
    pub c: Chrome<'a>,
    pub codes: Vec<String>,
    pub next: &'static str,
}

pub async fn new_backup_codes(state: &AppState, account_id: i64) -> Result<Vec<String>, AppError> {
    let codes: Vec<BackupCode> = backup_codes::generate_set(&mut rand::rngs::OsRng, 10);
    account::replace_backup_codes(
        &state.db,
        account_id,
        &state.secrets.session_key,
        &codes,
        state.now().timestamp(),
    )
    .await?;
    Ok(codes.iter().map(|c| c.display()).collect())
}
