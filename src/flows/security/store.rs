//! The security page's SQL: the account's own activity (from the audit log)
//! and revoking one of its sessions.

use sqlx::Row;

use crate::store::{Db, StoreError};

/// One line of the account's activity.
pub struct ActivityRow {
    pub at: i64,
    pub action: String,
    pub ip: Option<String>,
}

/// The account's latest 50 audit events, newest first.
pub async fn activity(db: &Db, account_id: i64) -> Result<Vec<ActivityRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT at, action, ip FROM audit_events WHERE actor = $1 ORDER BY at DESC, id DESC LIMIT 50",
    )
    .bind(format!("account:{account_id}"))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActivityRow {
                at: r.try_get("at")?,
                action: r.try_get("action")?,
                ip: r.try_get("ip")?,
            })
        })
        .collect()
}

/// Revokes one live session of this account (only this account's sessions
/// can be named); `false` when there is no such session.
pub async fn revoke_session(
    db: &Db,
    account_id: i64,
    id_hash: &[u8],
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND account_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id_hash)
    .bind(account_id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}
