//! The audit log: every security event and officer action, appended only and
//! tamper-evident. Each entry carries the hash of the one before it (a hash
//! chain); `casegate audit verify` walks the chain and reports the first
//! broken link. Subjects are keyed hashes — never an A-Number or a code.

use sqlx::Row;

use crate::crypto::{hmac_sha256, sha256};
use crate::store::{Db, StoreError};

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

/// The hash of one entry, chained to the previous one. Fields are
/// length-prefixed so no two different entries serialise alike.
pub fn entry_hash(prev: &str, seq: i64, e: &Event<'_>) -> String {
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
    hex::encode(sha256(material.as_bytes()))
}

/// Appends an entry. The head row is updated first, which takes the write
/// lock on both engines, so concurrent appends cannot fork the chain.
pub async fn record(db: &Db, e: &Event<'_>) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    record_in(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// [`record`] inside the caller's transaction: the entry is written if and
/// only if the action it describes commits.
pub async fn record_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &Event<'_>,
) -> Result<(), StoreError> {
    let (seq, prev): (i64, String) = sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, entry_hash",
    )
    .fetch_one(&mut **tx)
    .await?;
    let hash = entry_hash(&prev, seq, e);
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

pub async fn verify(db: &Db) -> Result<Verification, StoreError> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1;
    let mut after = 0i64;
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
            if entry_hash(&prev, seq, &e) != stored {
                return Ok(Verification::Broken {
                    seq,
                    reason: "entry altered",
                });
            }
            prev = stored;
            expected_seq += 1;
            after = seq;
        }
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
        let h = entry_hash("p", 1, &e);
        assert_ne!(h, entry_hash("q", 1, &e));
        assert_ne!(h, entry_hash("p", 2, &e));
        let moved = Event {
            actor: "ab",
            action: "",
            ..e
        };
        assert_ne!(h, entry_hash("p", 1, &moved), "field boundaries count");
    }
}
