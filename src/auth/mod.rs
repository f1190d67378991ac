//! Authentication machinery shared by the account flows: accounts, passwords
//! (argon2id + pepper on a bounded pool of dedicated threads), TOTP and backup
//! codes, sessions, CSRF, throttling, one-time email codes.

pub mod account;
pub mod backup_codes;
pub mod cookies;
pub mod csrf;
pub mod email_codes;
pub mod help_desk;
pub mod password;
pub mod return_to;
pub mod session;
pub mod throttle;
pub mod totp;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use rand::Rng;

use crate::app::AppState;
use crate::audit;
use crate::crypto::{hmac_sha256, open, seal};
use crate::error::AppError;
use crate::secrets::Secrets;

/// A fresh 8-digit email code.
pub fn new_email_code<R: Rng + ?Sized>(rng: &mut R) -> String {
    (0..8)
        .map(|_| char::from(b'0' + rng.gen_range(0..=9u8)))
        .collect()
}

/// Keyed hash of an email code (digits only, spaces and dashes ignored).
pub fn email_code_hash(secrets: &Secrets, account_id: i64, code: &str) -> Vec<u8> {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    hmac_sha256(
        &secrets.session_key,
        format!("email-code:{account_id}:{digits}").as_bytes(),
    )
    .to_vec()
}

pub fn seal_totp(secrets: &Secrets, account_id: i64, secret: &totp::TotpSecret) -> Vec<u8> {
    seal(
        &secrets.totp_key,
        &mut rand::rngs::OsRng,
        format!("totp:{account_id}").as_bytes(),
        secret.as_bytes(),
    )
}

pub fn open_totp(secrets: &Secrets, account_id: i64, sealed: &[u8]) -> Option<totp::TotpSecret> {
    let plain = open(
        &secrets.totp_key,
        format!("totp:{account_id}").as_bytes(),
        sealed,
    )
    .ok()?;
    totp::TotpSecret::from_bytes(&plain)
}

/// Records a security event in the audit log (and so in the person's
/// account activity).
pub async fn record(
    state: &AppState,
    account_id: i64,
    action: &str,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    audit::record(
        &state.db,
        &audit::Event {
            at: state.now().timestamp(),
            actor: &format!("account:{account_id}"),
            action,
            subject: None,
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
}

pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A redirect that also sets (or clears) the session cookie.
pub fn redirect_with_cookie(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut resp = Redirect::to(to).into_response();
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// A one-time email code: what it is for, how long it lives, and which
/// message (`email.<key>.subject` / `.body`, with `{code}`, `{agency}`, `{url}`) carries it.
pub struct EmailCode<'a> {
    pub purpose: account::CodePurpose,
    pub valid_secs: i64,
    pub message: &'a str,
    pub url: &'a str,
}

/// Issues a fresh code (older ones of the same purpose die), stores only its
/// keyed hash and queues the email through the outbox.
pub async fn send_email_code(
    state: &AppState,
    lang: crate::i18n::Lang,
    account_id: i64,
    to: &str,
    spec: EmailCode<'_>,
) -> Result<(), AppError> {
    let now = state.now().timestamp();
    let code = new_email_code(&mut rand::rngs::OsRng);
    account::issue_email_code(
        &state.db,
        account_id,
        spec.purpose,
        &email_code_hash(&state.secrets, account_id, &code),
        now,
        now + spec.valid_secs,
    )
    .await?;
    let m = state.messages;
    let args = [
        ("code", code.as_str()),
        ("agency", state.agency(lang)),
        ("url", spec.url),
    ];
    crate::outbox::enqueue(
        state.db.pool(),
        &state.secrets,
        &mut rand::rngs::OsRng,
        &crate::outbox::OutgoingEmail {
            to: to.to_string(),
            subject: m.fmt(lang, &format!("email.{}.subject", spec.message), &args),
            text: m.fmt(lang, &format!("email.{}.body", spec.message), &args),
        },
        now,
    )
    .await?;
    state.outbox_wake.notify_one();
    Ok(())
}
