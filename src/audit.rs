//! The audit log: every security event and officer action, appended only.
//! Subjects are keyed hashes (never an A-Number or a code).

use crate::crypto::hmac_sha256;
use crate::store::StoreError;

pub struct Event<'a> {
    pub at: i64,
    /// Who acted: `public`, `applicant:<id>`, `officer:<role>`, `system`.
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

pub async fn record<'c, E>(exec: E, e: &Event<'_>) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, subject, ip, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.at)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.subject.clone())
    .bind(e.ip.clone())
    .bind(e.detail.clone())
    .execute(exec)
    .await?;
    Ok(())
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
}
