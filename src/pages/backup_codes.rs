//! The page that shows a new set of backup codes (after enrolment and from
//! the security page), and the making of that set.
//!
//! A new set is held for the session that must confirm it, sealed to that
//! session (AES-GCM under a key of its own, the session's id hash as
//! associated data), until the person confirms "I have saved my codes".
//! While it is held the person stays on the page (the router's
//! `codes_pending` middleware sends every other page back to it), can
//! switch language, download the codes as a text file or print them. The
//! codes are never logged; confirming forgets them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::{AppState, Chrome, render};
use crate::auth::account;
use crate::auth::backup_codes::{self, BackupCode};
use crate::auth::session;
use crate::crypto::{open, seal};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::secrets::Secrets;

/// The page everything else redirects to while codes are pending.
pub const PATH: &str = "/account/backup-codes";

/// Where the person goes once the codes are saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupNext {
    /// After enrolment: the account's home.
    Account,
    /// After "Get new backup codes": back to the security page.
    Security,
}

impl BackupNext {
    fn code(self) -> &'static str {
        match self {
            BackupNext::Account => "account",
            BackupNext::Security => "security",
        }
    }

    fn parse(s: &str) -> Option<BackupNext> {
        match s {
            "account" => Some(BackupNext::Account),
            "security" => Some(BackupNext::Security),
            _ => None,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            BackupNext::Account => "/account",
            BackupNext::Security => "/account/security",
        }
    }
}

/// A set of codes waiting for "I have saved my codes".
pub struct PendingCodes {
    pub codes: Vec<String>,
    pub next: BackupNext,
}

impl std::fmt::Debug for PendingCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PendingCodes({} codes, {:?})",
            self.codes.len(),
            self.next
        )
    }
}

fn aad(id_hash: &[u8]) -> Vec<u8> {
    let mut a = b"pending-backup-codes:".to_vec();
    a.extend_from_slice(id_hash);
    a
}

/// Seals a set to one session (pure but for the nonce's randomness).
pub fn seal_pending(secrets: &Secrets, id_hash: &[u8], p: &PendingCodes) -> Vec<u8> {
    let mut plain = String::from(p.next.code());
    for c in &p.codes {
        plain.push('\n');
        plain.push_str(c);
    }
    seal(
        &secrets.pending_codes_key,
        &mut rand::rngs::OsRng,
        &aad(id_hash),
        plain.as_bytes(),
    )
}

/// Opens a set sealed to this session; `None` for any other session's.
pub fn open_pending(secrets: &Secrets, id_hash: &[u8], sealed: &[u8]) -> Option<PendingCodes> {
    let plain = open(&secrets.pending_codes_key, &aad(id_hash), sealed).ok()?;
    let text = String::from_utf8(plain).ok()?;
    let mut lines = text.split('\n');
    let next = BackupNext::parse(lines.next()?)?;
    Some(PendingCodes {
        codes: lines.map(str::to_string).collect(),
        next,
    })
}

/// The session's pending set, if it has one.
pub fn pending_of(state: &AppState, s: &session::Session) -> Option<PendingCodes> {
    s.pending_backup_sealed
        .as_deref()
        .and_then(|b| open_pending(&state.secrets, &s.id_hash, b))
}

/// Makes a new set for the account (replacing the old one), holds it for
/// the session `id_hash` until confirmed, and returns it.
pub async fn new_backup_codes(
    state: &AppState,
    account_id: i64,
    id_hash: &[u8],
    next: BackupNext,
) -> Result<PendingCodes, AppError> {
    let codes: Vec<BackupCode> = backup_codes::generate_set(&mut rand::rngs::OsRng, 10);
    account::replace_backup_codes(
        &state.db,
        account_id,
        &state.secrets.session_key,
        &codes,
        state.now().timestamp(),
    )
    .await?;
    let pending = PendingCodes {
        codes: codes.iter().map(|c| c.display()).collect(),
        next,
    };
    session::set_pending_backup(
        &state.db,
        id_hash,
        Some(seal_pending(&state.secrets, id_hash, &pending)),
    )
    .await?;
    Ok(pending)
}

#[derive(askama::Template)]
#[template(path = "pages/backup_codes.html")]
struct BackupCodesTemplate<'a> {
    c: Chrome<'a>,
    codes: Vec<String>,
    error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "pages/backup_codes_print.html")]
struct BackupCodesPrintTemplate<'a> {
    c: Chrome<'a>,
    codes: Vec<String>,
}

/// The page, in `lang`; `error` when the person pressed continue without
/// ticking "I have saved my codes".
pub fn backup_codes_page(
    state: &AppState,
    lang: Lang,
    csrf: crate::auth::csrf::CsrfToken,
    p: &PendingCodes,
    error: Option<&str>,
) -> Response {
    let c = Chrome::new(state, lang, PATH, "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("backup.title").to_string();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let t = BackupCodesTemplate {
        codes: p.codes.clone(),
        error: error.map(|k| state.messages.get(lang, k).to_string()),
        c: c.titled(title),
    };
    (status, render(&t)).into_response()
}

/// The print-friendly page: the codes and what they are for, nothing else.
pub fn backup_codes_print(state: &AppState, lang: Lang, p: &PendingCodes) -> Response {
    let c = Chrome::new(state, lang, &format!("{PATH}/print"), "").signed_in(true);
    let title = c.t("backup.title").to_string();
    render(&BackupCodesPrintTemplate {
        codes: p.codes.clone(),
        c: c.titled(title),
    })
}

/// The codes as a plain-text file to keep.
pub fn backup_codes_download(state: &AppState, lang: Lang, p: &PendingCodes) -> Response {
    let m = state.messages;
    let mut body = format!(
        "{} | {}\r\n\r\n{}\r\n\r\n",
        m.get(lang, "backup.title"),
        state.agency(lang),
        m.get(lang, "backup.intro")
    );
    for (i, code) in p.codes.iter().enumerate() {
        body.push_str(&format!("{:>2}. {code}\r\n", i + 1));
    }
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"backup-codes.txt\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_set_opens_only_for_its_session() {
        let secrets = Secrets::from_master(&[7u8; 32]);
        let p = PendingCodes {
            codes: vec!["ABCDE-FGHJK".into(), "23456-789AB".into()],
            next: BackupNext::Security,
        };
        let sealed = seal_pending(&secrets, b"session-one", &p);
        let back = open_pending(&secrets, b"session-one", &sealed).unwrap();
        assert_eq!(back.codes, p.codes);
        assert_eq!(back.next, BackupNext::Security);
        assert!(open_pending(&secrets, b"session-two", &sealed).is_none());
        let other = Secrets::from_master(&[8u8; 32]);
        assert!(open_pending(&other, b"session-one", &sealed).is_none());
        assert!(
            !format!("{back:?}").contains("ABCDE"),
            "Debug hides the codes"
        );
    }
}
