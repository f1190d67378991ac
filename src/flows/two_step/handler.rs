//! `/two-step/setup` (GET and POST) and backup-code display.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account;
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, Level, MaybeSession, NewSession, Session};
use crate::auth::totp::{self, TotpSecret};
use crate::auth::{open_totp, record, seal_totp};
use crate::error::AppError;
use crate::i18n::Lang;

#[derive(askama::Template)]
#[template(path = "flows/two_step/setup.html")]
struct SetupTemplate<'a> {
    c: Chrome<'a>,
    qr: String,
    key: String,
    error: Option<String>,
}

use crate::pages::backup_codes::{BackupNext, backup_codes_page, new_backup_codes};

#[derive(Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

crate::redacted_debug!(CodeForm {} redact { code });

#[allow(clippy::result_large_err)] // the rejection is the redirect itself
fn enrol_session(s: Option<Session>) -> Result<Session, Response> {
    match s {
        Some(s) if s.level == Level::Enrol => Ok(s),
        Some(s) if s.level == Level::Full => Err(Redirect::to("/account").into_response()),
        _ => Err(Redirect::to("/sign-in").into_response()),
    }
}

async fn setup_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    s: &Session,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let acct = account::by_id(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = match s
        .pending_totp_sealed
        .as_deref()
        .and_then(|b| open_totp(&state.secrets, s.account_id, b))
    {
        Some(secret) => secret,
        None => {
            let secret = TotpSecret::generate(&mut rand::rngs::OsRng);
            session::set_pending_totp(
                &state.db,
                &s.id_hash,
                Some(seal_totp(&state.secrets, s.account_id, &secret)),
            )
            .await?;
            secret
        }
    };
    let uri = totp::otpauth_uri(&secret, &state.config.agency_name, &acct.email);
    let qr = totp::qr_data_uri(&uri).map_err(|_| AppError::Internal("QR code too long".into()))?;
    let c = Chrome::new(state, lang, "/two-step/setup", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("twostep.title").to_string();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let t = SetupTemplate {
        qr,
        key: secret.base32_grouped(),
        error: error.map(|k| state.messages.get(lang, k).to_string()),
        c: c.titled(title),
    };
    Ok((status, render(&t)).into_response())
}

pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    MaybeSession(s): MaybeSession,
) -> Result<Response, AppError> {
    let s = match enrol_session(s) {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    setup_page(&state, lang, csrf, &s, None).await
}

/// Issues ten new backup codes, stores their salted keyed hashes, returns them for display.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    MaybeSession(s): MaybeSession,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let s = match enrol_session(s) {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let now = state.now().timestamp();
    let Some(secret) = s
        .pending_totp_sealed
        .as_deref()
        .and_then(|b| open_totp(&state.secrets, s.account_id, b))
    else {
        return setup_page(&state, lang, csrf, &s, None).await;
    };
    let step = match totp::verify(&secret, &f.code, now, None) {
        Ok(step) => step,
        Err(_) => return setup_page(&state, lang, csrf, &s, Some("twostep.error.code")).await,
    };
    account::enrol_totp(
        &state.db,
        s.account_id,
        &seal_totp(&state.secrets, s.account_id, &secret),
        step as i64,
        now,
    )
    .await?;
    record(&state, s.account_id, "two_step.enrolled", &ip, "totp").await?;
    // Fully signed in now: a new session id for the new privilege.
    session::revoke(&state.db, &s.id_hash, now).await?;
    let raw = session::create(
        &state.db,
        &state.secrets,
        NewSession {
            account_id: s.account_id,
            level: Level::Full,
            now,
            authenticated_at: Some(now),
            ip: &ip,
            user_agent: &crate::auth::user_agent(&headers),
        },
    )
    .await?;
    // The codes are held for the new session until it confirms them.
    let id_hash = session::hash_id(&state.secrets, &raw);
    let codes = new_backup_codes(&state, s.account_id, &id_hash, BackupNext::Account).await?;
    let mut resp = backup_codes_page(&state, lang, csrf, &codes, None);
    if let Some(v) = session::cookie_header(&raw) {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(resp)
}
