//! The audit log: every security event and officer action, appended only and
//! tamper-evident. Each entry carries a keyed hash (HMAC-SHA-256 under a key
//! derived from the master key) of its content and of the entry before it (a
//! keyed hash chain), so someone who can write to the database but does not
//! hold the master key cannot rewrite the log consistently. `casegate audit
//! verify` walks the chain and reports the first broken link; `casegate audit
//! head` prints the current head for operators to record off-host, and
//! `audit verify --head <seq>:<hash>` checks the log still contains that head
//! (which catches a rewrite by someone who does hold the key, or a rollback).
//! Subjects are keyed hashes — never an A-Number or a code.
//!
//! Chains written before the key existed (SHA-256, unkeyed) are re-keyed once
//! at start-up ([`rekey_if_pending`], flagged by migration 0012) after they
//! verify by the old rule; the re-keying is itself an audit entry.

use sqlx::Row;

use crate::crypto::{hmac_sha256, sha256};
use crate::store::{Db, StoreError};

// The key type lives with the database handle that carries it.
pub use crate::store::AuditKey;

/// Every kind of event the code records (the `action` of an [`Event`]).
/// Each has a sentence in English and Spanish under `activity.<kind>` in
/// `messages/*/ui.toml`, which the account's activity list shows; the
/// `message_keys` test fails on a kind recorded in `src/` that is not here.
pub const EVENT_KINDS: &[&str] = &[
    "access_code.request",
    "account.confirmation_resent",
    "account.created",
    "account.email_confirmed",
    "account.reset_started",
    "address.changed",
    "apps.device_approved",
    "apps.device_code_refused",
    "apps.device_denied",
    "apps.device_token_issued",
    "apps.token_created",
    "apps.token_first_used",
    "apps.token_revoked",
    "apps.tokens_revoked_all",
    "address_change.request",
    "address_change.confirm",
    "address_change.cancel",
    "address_change.effective",
    "address_change.reverse",
    "address_change.reverse_refused",
    "address_change.reversed",
    "admin.api_client_created",
    "admin.api_client_disabled",
    "admin.api_client_rotated",
    "admin.codes_revoked",
    "admin.disable_officer",
    "admin.enable_officer",
    "admin.officer_created",
    "admin.role_set",
    "admin.start_reset",
    "admin.unlock",
    "audit.rekeyed",
    "authz.refused",
    "case.link_failed",
    "case.linked",
    "case.status_changed",
    "demo.account_disabled",
    "evidence.download_refused",
    "evidence.infected",
    "evidence.refused",
    "evidence.removed",
    "evidence.reviewed",
    "evidence.submitted",
    "evidence.uploaded",
    "intake.filed",
    "mail.printed",
    "mail.state_changed",
    "notifications.off",
    "notifications.on",
    "officer.setup_completed",
    "password.change_refused",
    "password.changed",
    "password.reset",
    "password.reset_requested",
    "reauth.failed",
    "reauth.refused",
    "reauth.succeeded",
    "session.revoked",
    "session.revoked_all",
    "sign_in.failed",
    "sign_in.password_ok",
    "sign_in.refused",
    "sign_in.succeeded",
    "sign_in.unlock_requested",
    "sign_out",
    "two_step.backup_codes_regenerated",
    "two_step.backup_codes_saved",
    "two_step.enrolled",
    "webhook.disable",
    "webhook.disable_refused",
];

pub struct Event<'a> {
    pub at: i64,
    /// Who acted: `public`, `account:<id>`, `officer:<role>`, `system`.
    pub actor: &'a str,
    /// What happened, e.g. `access_code.request`.
    pub action: &'a str,
    /// Keyed hash of what it was about (see [`subject_hash`]).
    pub subject: Option<String>,
    pub ip: Option<String>,
    /// Outcome and channel; never secrets.
    pub detail: String,
}

/// A stable, keyed, non-reversible handle for an identifier.
pub fn subject_hash(identifier_key: &[u8; 32], kind: &str, value: &str) -> String {
    let mac = hmac_sha256(identifier_key, format!("{kind}:{value}").as_bytes());
    hex::encode(&mac[..16])
}

/// The serialised content of one entry, chained to the previous one. Fields
/// are length-prefixed so no two different entries serialise alike.
fn material(prev: &str, seq: i64, e: &Event<'_>) -> String {
    let mut material = String::new();
    for part in [
        prev,
        &seq.to_string(),
        &e.at.to_string(),
        e.actor,
        e.action,
        e.subject.as_deref().unwrap_or(""),
        e.ip.as_deref().unwrap_or(""),
        &e.detail,
    ] {
        material.push_str(&part.len().to_string());
        material.push(':');
        material.push_str(part);
        material.push('|');
    }
    material
}

/// The keyed hash of one entry, chained to the previous one.
pub fn entry_hash(key: &AuditKey, prev: &str, seq: i64, e: &Event<'_>) -> String {
    hex::encode(hmac_sha256(&key.0, material(prev, seq, e).as_bytes()))
}

/// The unkeyed hash of chains written before migration 0012 (only used to
/// check such a chain before it is re-keyed).
fn legacy_entry_hash(prev: &str, seq: i64, e: &Event<'_>) -> String {
    hex::encode(sha256(material(prev, seq, e).as_bytes()))
}

/// Appends an entry. The head row is updated first, which takes the write
/// lock on both engines, so concurrent appends cannot fork the chain.
pub async fn record(db: &Db, e: &Event<'_>) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    record_in(db, &mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends `e` inside the caller's transaction, so the audit entry commits
/// (or not) with the change it describes. `db` only lends the chain's key.
pub async fn record_in(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &Event<'_>,
) -> Result<(), StoreError> {
    let key = db.audit_key().ok_or(StoreError::AuditKeyMissing)?;
    let (seq, prev): (i64, String) = sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, entry_hash",
    )
    .fetch_one(&mut **tx)
    .await?;
    let hash = entry_hash(key, &prev, seq, e);
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, subject, ip, detail, seq, prev_hash, entry_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.at)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.subject.clone())
    .bind(e.ip.clone())
    .bind(e.detail.clone())
    .bind(seq)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET entry_hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Result of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact {
        entries: i64,
    },
    /// The first entry whose content, link or position does not hold.
    Broken {
        seq: i64,
        reason: &'static str,
    },
}

/// A head of the chain as an operator records it: `<seq>:<hash>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    pub fn parse(s: &str) -> Option<Head> {
        let (seq, hash) = s.trim().split_once(':')?;
        let seq = seq.parse().ok().filter(|n| *n >= 0)?;
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The current head (for `casegate audit head`; verify first).
pub async fn head(db: &Db) -> Result<Head, StoreError> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, entry_hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    Ok(Head { seq, hash })
}

pub async fn verify(db: &Db) -> Result<Verification, StoreError> {
    verify_against(db, None).await
}

/// Walks the chain with the key; with a `recorded` head (kept off-host),
/// also checks that the entry at its position still has its hash.
pub async fn verify_against(db: &Db, recorded: Option<&Head>) -> Result<Verification, StoreError> {
    let key = db.audit_key().ok_or(StoreError::AuditKeyMissing)?;
    walk(db, |prev, seq, e| entry_hash(key, prev, seq, e), recorded).await
}

async fn walk(
    db: &Db,
    hash: impl Fn(&str, i64, &Event<'_>) -> String,
    recorded: Option<&Head>,
) -> Result<Verification, StoreError> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1;
    let mut after = 0i64;
    let mut recorded_seen = recorded.is_none_or(|h| h.seq == 0 && h.hash == prev);
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, ip, detail, prev_hash, entry_hash FROM audit_events \
             WHERE seq > $1 ORDER BY seq LIMIT 5000",
        )
        .bind(after)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if seq != expected_seq {
                return Ok(Verification::Broken {
                    seq: expected_seq,
                    reason: "entry missing",
                });
            }
            let stored_prev: String = r.try_get("prev_hash")?;
            let stored: String = r.try_get("entry_hash")?;
            let e = Event {
                at: r.try_get("at")?,
                actor: &r.try_get::<String, _>("actor")?,
                action: &r.try_get::<String, _>("action")?,
                subject: r.try_get("subject")?,
                ip: r.try_get("ip")?,
                detail: r.try_get("detail")?,
            };
            if stored_prev != prev {
                return Ok(Verification::Broken {
                    seq,
                    reason: "link to the previous entry broken",
                });
            }
            if hash(&prev, seq, &e) != stored {
                return Ok(Verification::Broken {
                    seq,
                    reason: "entry altered",
                });
            }
            if let Some(h) = recorded
                && h.seq == seq
            {
                if h.hash != stored {
                    return Ok(Verification::Broken {
                        seq,
                        reason: "does not match the recorded head",
                    });
                }
                recorded_seen = true;
            }
            prev = stored;
            expected_seq += 1;
            after = seq;
        }
    }
    if let Some(h) = recorded
        && !recorded_seen
    {
        return Ok(Verification::Broken {
            seq: h.seq,
            reason: "the recorded head is no longer in the log",
        });
    }
    // The head must point at the last entry (catches truncation of the tail).
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, entry_hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    if head_seq != expected_seq - 1 || head_hash != prev {
        return Ok(Verification::Broken {
            seq: expected_seq,
            reason: "entries after this one are missing",
        });
    }
    Ok(Verification::Intact {
        entries: expected_seq - 1,
    })
}

/// Why an unkeyed chain could not be re-keyed.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the audit log (written before it was keyed) is broken at entry {seq}: {reason}; it was not \
         re-keyed. Keep a copy of the database for investigation"
    )]
    Broken { seq: i64, reason: &'static str },
}

impl From<sqlx::Error> for RekeyError {
    fn from(e: sqlx::Error) -> Self {
        RekeyError::Store(e.into())
    }
}

/// Re-keys a chain written before the audit key existed (flagged by
/// migration 0012): it must first verify by the old, unkeyed rule; then
/// every entry's link and hash are recomputed with the key, in one
/// transaction, and an `audit.rekeyed` entry records the old head. Returns
/// how many entries were re-keyed (`None`: nothing pending).
pub async fn rekey_if_pending(db: &Db) -> Result<Option<i64>, RekeyError> {
    let key = db.audit_key().ok_or(StoreError::AuditKeyMissing)?.clone();
    let pending: i64 = sqlx::query_scalar("SELECT rekey_pending FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    if pending == 0 {
        return Ok(None);
    }
    if let Verification::Broken { seq, reason } = walk(db, legacy_entry_hash, None).await? {
        return Err(RekeyError::Broken { seq, reason });
    }
    let mut tx = db.pool().begin().await?;
    // Takes the head's write lock: appends wait, a second instance re-keys nothing.
    let (still, old_head): (i64, String) = sqlx::query_as(
        "UPDATE audit_head SET rekey_pending = rekey_pending WHERE id = 1 RETURNING rekey_pending, entry_hash",
    )
    .fetch_one(&mut *tx)
    .await?;
    if still == 0 {
        tx.commit().await?;
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, ip, detail FROM audit_events ORDER BY seq",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut prev = "0".repeat(64);
    for r in &rows {
        let seq: i64 = r.try_get("seq")?;
        let e = Event {
            at: r.try_get("at")?,
            actor: &r.try_get::<String, _>("actor")?,
            action: &r.try_get::<String, _>("action")?,
            subject: r.try_get("subject")?,
            ip: r.try_get("ip")?,
            detail: r.try_get("detail")?,
        };
        let h = entry_hash(&key, &prev, seq, &e);
        sqlx::query("UPDATE audit_events SET prev_hash = $1, entry_hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&h)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        prev = h;
    }
    sqlx::query("UPDATE audit_head SET entry_hash = $1, rekey_pending = 0 WHERE id = 1")
        .bind(&prev)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let n = rows.len() as i64;
    record(
        db,
        &Event {
            at: chrono::Utc::now().timestamp(),
            actor: "system",
            action: "audit.rekeyed",
            subject: None,
            ip: None,
            detail: format!("{n} unkeyed entries re-keyed; unkeyed head {old_head}"),
        },
    )
    .await?;
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_hash_is_keyed_and_stable() {
        let a = subject_hash(&[1; 32], "a_number", "A012345678");
        assert_eq!(a, subject_hash(&[1; 32], "a_number", "A012345678"));
        assert_ne!(a, subject_hash(&[2; 32], "a_number", "A012345678"));
        assert!(!a.contains("012345678"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn entry_hashes_depend_on_every_field_and_the_link() {
        let e = Event {
            at: 1,
            actor: "a",
            action: "b",
            subject: None,
            ip: Some("1.2.3.4".into()),
            detail: "d".into(),
        };
        let k = AuditKey([1; 32]);
        let h = entry_hash(&k, "p", 1, &e);
        assert_ne!(h, entry_hash(&k, "q", 1, &e));
        assert_ne!(h, entry_hash(&k, "p", 2, &e));
        assert_ne!(h, entry_hash(&AuditKey([2; 32]), "p", 1, &e), "keyed");
        assert_ne!(h, legacy_entry_hash("p", 1, &e));
        let moved = Event {
            actor: "ab",
            action: "",
            ..e
        };
        assert_ne!(h, entry_hash(&k, "p", 1, &moved), "field boundaries count");
    }

    #[test]
    fn heads_parse_and_print_alike() {
        let h = Head::parse(&format!("42:{}", "AB".repeat(32))).unwrap();
        assert_eq!(h.seq, 42);
        assert_eq!(h.to_string(), format!("42:{}", "ab".repeat(32)));
        for bad in ["", "42", "x:ab", "-1:00", "42:abc"] {
            assert_eq!(Head::parse(bad), None, "{bad}");
        }
    }
}
