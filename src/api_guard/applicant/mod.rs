//! Applicant-owned access for trackers (issue 19): personal read-only
//! tokens and the tokens a device grant issues (RFC 8628, `device`). Both are
//! bearer tokens that read only their owner's cases; they are stored as
//! keyed hashes (HMAC-SHA-256 under the API key) and are recognisable by
//! their prefix (`cgp_` personal, `cgd_` device), as GitHub's `ghp_`/`gho_`
//! are, so secret scanners can find leaked ones.
//!
//! [`resolve`] is the one function that turns `Authorization: Bearer …` into
//! the applicant it belongs to; every endpoint that takes applicant tokens
//! (the case service, later webhooks for a person's own cases) calls it.

pub mod device;
pub mod exchange;
pub mod store;

use axum::http::{HeaderMap, header};
use axum::response::Response;
use rand::RngCore;

use super::bearer::{store_failure, unauthorized};
use crate::app::AppState;
use crate::crypto::{hmac_sha256, random_hex};
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

/// The only scope an applicant token holds: read the status of the owner's
/// cases.
pub const SCOPE_CASES_READ: &str = "cases:read";

/// How a token came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Created by the applicant on Connected apps, shown once.
    Personal,
    /// Issued to an app through the device grant the applicant approved.
    Device,
}

impl TokenKind {
    pub fn code(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Device => "device",
        }
    }

    pub fn from_code(s: &str) -> Option<TokenKind> {
        match s {
            "personal" => Some(TokenKind::Personal),
            "device" => Some(TokenKind::Device),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "cgp_",
            TokenKind::Device => "cgd_",
        }
    }
}

/// A new token: the raw value exists only here (shown once), the hash is
/// what is stored.
pub struct NewToken {
    pub raw: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken { raw: [redacted], .. }")
    }
}

/// The keyed hash a token is stored and looked up under.
pub fn token_hash(secrets: &Secrets, raw: &str) -> [u8; 32] {
    hmac_sha256(&secrets.api_key, raw.as_bytes())
}

/// 160 random bits behind the kind's prefix.
pub fn new_token(secrets: &Secrets, rng: &mut (dyn RngCore + Send), kind: TokenKind) -> NewToken {
    let raw = format!("{}{}", kind.prefix(), random_hex(rng, 20));
    let hash = token_hash(secrets, &raw);
    NewToken { raw, hash }
}

/// Pure: whether a stored token may be used now. A token of an account that
/// is not (or no longer) an applicant's never works.
pub fn usable(
    expires_at: i64,
    revoked_at: Option<i64>,
    owner_is_applicant: bool,
    now: i64,
) -> bool {
    owner_is_applicant && revoked_at.is_none() && now < expires_at
}

/// `last_used_at` is written at most this often per token (not on every
/// request).
pub const LAST_USE_GRANULARITY_SECS: i64 = 60;

/// What a valid applicant token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantGrant {
    pub account_id: i64,
    pub token_id: i64,
    pub kind: TokenKind,
}

/// The bearer token of the request (of any kind; an API client's token
/// simply finds no applicant token).
pub fn presented_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Resolves `Authorization: Bearer <applicant token>` to the applicant it
/// belongs to; `Err` is the RFC 6750 401 to send. The first use of a token
/// is audited; its last use is kept (to the minute).
#[allow(clippy::result_large_err)] // the rejection is the response itself
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
) -> Result<ApplicantGrant, Response> {
    let presented = headers.get(header::AUTHORIZATION).is_some();
    let raw = presented_token(headers).ok_or_else(|| unauthorized(presented))?;
    let hash = token_hash(&state.secrets, raw);
    let now = state.now().timestamp();
    let row = store::find_token(&state.db, &hash)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| unauthorized(true))?;
    if !usable(
        row.expires_at,
        row.revoked_at,
        crate::authz::may_hold_applicant_tokens(&row.role),
        now,
    ) {
        return Err(unauthorized(true));
    }
    let first = store::touch(&state.db, row.id, row.last_used_at, now)
        .await
        .map_err(store_failure)?;
    if first {
        crate::audit::record(
            &state.db,
            &crate::audit::Event {
                at: now,
                actor: &format!("account:{}", row.account_id),
                action: "apps.token_first_used",
                subject: Some(format!("token:{}", row.id)),
                ip: Some(ip.to_string()),
                detail: row.name.chars().take(100).collect(),
            },
        )
        .await
        .map_err(store_failure)?;
    }
    Ok(ApplicantGrant {
        account_id: row.account_id,
        token_id: row.id,
        kind: row.kind,
    })
}

/// Ends every applicant token of the account and every device approval an
/// app has not picked up yet, with one audit entry, in one transaction:
/// called by a password reset (by email or the help desk), a password change
/// and "sign out everywhere". `why` names the occasion (for the audit).
pub async fn revoke_all(
    db: &Db,
    account_id: i64,
    ip: Option<&str>,
    why: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let mut tx = db.pool().begin().await?;
    let n = store::revoke_all_in(&mut tx, account_id, now).await?;
    if n > 0 {
        crate::audit::record_in(
            db,
            &mut tx,
            &crate::audit::Event {
                at: now,
                actor: &format!("account:{account_id}"),
                action: "apps.tokens_revoked_all",
                subject: None,
                ip: ip.map(str::to_string),
                detail: format!("{why}: {n}"),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_only_the_hash_is_kept() {
        let s = Secrets::from_master(&[7; 32]);
        let t = new_token(&s, &mut rand::rngs::OsRng, TokenKind::Personal);
        assert!(t.raw.starts_with("cgp_") && t.raw.len() == 44);
        assert_eq!(t.hash, token_hash(&s, &t.raw));
        assert!(!format!("{t:?}").contains(&t.raw));
        let d = new_token(&s, &mut rand::rngs::OsRng, TokenKind::Device);
        assert!(d.raw.starts_with("cgd_"));
    }

    #[test]
    fn revoked_expired_or_officer_tokens_are_unusable() {
        assert!(usable(100, None, true, 99));
        assert!(!usable(100, None, true, 100));
        assert!(!usable(100, Some(5), true, 50));
        assert!(!usable(100, None, false, 50));
    }
}
