//! `/account/backup-codes` (GET), `/download`, `/print` and `/confirm` (POST).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::{AppState, ClientIp};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::auth::session::{self, FullSession};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::pages::backup_codes::{
    backup_codes_download, backup_codes_page, backup_codes_print, pending_of,
};

/// Nothing pending (never made, already confirmed, or another session's):
/// the account's home, which says nothing about codes.
fn nothing_pending() -> Response {
    Redirect::to("/account").into_response()
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    FullSession(s): FullSession,
) -> Response {
    match pending_of(&state, &s) {
        Some(p) => backup_codes_page(&state, lang, csrf, &p, None),
        None => nothing_pending(),
    }
}

pub async fn download(
    State(state): State<AppState>,
    lang: Lang,
    FullSession(s): FullSession,
) -> Result<Response, AppError> {
    match pending_of(&state, &s) {
        Some(p) => Ok(backup_codes_download(&state, lang, &p)),
        None => Err(AppError::NotFound),
    }
}

pub async fn print(
    State(state): State<AppState>,
    lang: Lang,
    FullSession(s): FullSession,
) -> Result<Response, AppError> {
    match pending_of(&state, &s) {
        Some(p) => Ok(backup_codes_print(&state, lang, &p)),
        None => Err(AppError::NotFound),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub saved: Option<String>,
}

pub async fn confirm(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FullSession(s): FullSession,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(p) = pending_of(&state, &s) else {
        return Ok(nothing_pending());
    };
    if f.saved.as_deref() != Some("yes") {
        return Ok(backup_codes_page(
            &state,
            lang,
            csrf,
            &p,
            Some("backup.error_unconfirmed"),
        ));
    }
    session::set_pending_backup(&state.db, &s.id_hash, None).await?;
    record(&state, s.account_id, "two_step.backup_codes_saved", &ip, "").await?;
    Ok(Redirect::to(p.next.path()).into_response())
}
