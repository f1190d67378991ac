//! Applicant tokens and device grants in the database (keyed hashes only).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::TokenKind;
use super::device::GrantState;
use crate::store::{Db, StoreError};

fn bad(what: &str) -> StoreError {
    StoreError::Query(sqlx::Error::Decode(format!("bad {what}").into()))
}

/// A token as the bearer check reads it.
pub struct TokenRow {
    pub id: i64,
    pub account_id: i64,
    pub kind: TokenKind,
    pub name: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The owner's role now (an account that is not an applicant's cannot
    /// use a token).
    pub role: String,
}

pub async fn find_token(db: &Db, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT t.id, t.account_id, t.kind, t.name, t.expires_at, t.revoked_at, t.last_used_at, a.role \
         FROM applicant_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        let kind: String = r.try_get("kind")?;
        Ok(TokenRow {
            id: r.try_get("id")?,
            account_id: r.try_get("account_id")?,
            kind: TokenKind::from_code(&kind).ok_or_else(|| bad("token kind"))?,
            name: r.try_get("name")?,
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
            last_used_at: r.try_get("last_used_at")?,
            role: r.try_get("role")?,
        })
    })
    .transpose()
}

/// Notes a use (at most once a minute per token); `true` when this was the
/// token's first use ever.
pub async fn touch(
    db: &Db,
    id: i64,
    last_used_at: Option<i64>,
    now: i64,
) -> Result<bool, StoreError> {
    match last_used_at {
        None => {
            let r = sqlx::query(
                "UPDATE applicant_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(db.pool())
            .await?;
            Ok(r.rows_affected() == 1)
        }
        Some(prev) if now - prev >= super::LAST_USE_GRANULARITY_SECS => {
            sqlx::query("UPDATE applicant_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(db.pool())
                .await?;
            Ok(false)
        }
        Some(_) => Ok(false),
    }
}

pub struct NewTokenRow<'a> {
    pub account_id: i64,
    pub token_hash: &'a [u8],
    pub kind: TokenKind,
    pub name: &'a str,
    pub client_pk: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Stores a token in the caller's transaction; returns its id.
pub async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    t: NewTokenRow<'_>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO applicant_tokens (account_id, token_hash, kind, name, client_pk, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(t.account_id)
    .bind(t.token_hash)
    .bind(t.kind.code())
    .bind(t.name)
    .bind(t.client_pk)
    .bind(t.created_at)
    .bind(t.expires_at)
    .fetch_one(conn)
    .await?)
}

/// A live token, as Connected apps lists it.
pub struct ListedToken {
    pub id: i64,
    pub kind: TokenKind,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

fn listed(r: &AnyRow) -> Result<ListedToken, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(ListedToken {
        id: r.try_get("id")?,
        kind: TokenKind::from_code(&kind).ok_or_else(|| bad("token kind"))?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// The account's tokens that still work, newest first.
pub async fn live_tokens(
    db: &Db,
    account_id: i64,
    now: i64,
) -> Result<Vec<ListedToken>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, name, created_at, expires_at, last_used_at FROM applicant_tokens \
         WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(listed).collect()
}

/// One live token of this account (another account's answers `None`).
pub async fn live_token(
    db: &Db,
    account_id: i64,
    id: i64,
    now: i64,
) -> Result<Option<ListedToken>, StoreError> {
    let row = sqlx::query(
        "SELECT id, kind, name, created_at, expires_at, last_used_at FROM applicant_tokens \
         WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(id)
    .bind(account_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(listed).transpose()
}

/// Revokes one token of this account; `false` if there was no such live one.
pub async fn revoke_token(db: &Db, account_id: i64, id: i64, now: i64) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE applicant_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(account_id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every token of the account and every approval not yet picked up;
/// returns how many tokens were revoked.
pub async fn revoke_all_in(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE applicant_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE device_grants SET state = $1, decided_at = $2 WHERE account_id = $3 AND state = $4",
    )
    .bind(GrantState::Denied.code())
    .bind(now)
    .bind(account_id)
    .bind(GrantState::Approved.code())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// A registered API client, as the device grant needs it.
pub struct AppClient {
    pub pk: i64,
    pub name: String,
}

/// A registered, enabled API client by its `client_id`.
pub async fn enabled_client(db: &Db, client_id: &str) -> Result<Option<AppClient>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name FROM api_clients WHERE client_id = $1 AND disabled_at IS NULL",
    )
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(AppClient {
            pk: r.try_get("id")?,
            name: r.try_get("name")?,
        })
    })
    .transpose()
}

pub struct NewGrant<'a> {
    pub device_code_hash: &'a [u8],
    pub user_code_hash: &'a [u8],
    pub client_pk: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub interval_secs: i64,
}

/// Stores a new pending grant (and drops grants that expired a day ago).
pub async fn insert_grant(db: &Db, g: NewGrant<'_>) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM device_grants WHERE expires_at < $1")
        .bind(g.created_at - 86_400)
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO device_grants (device_code_hash, user_code_hash, client_pk, created_at, expires_at, interval_secs, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(g.device_code_hash)
    .bind(g.user_code_hash)
    .bind(g.client_pk)
    .bind(g.created_at)
    .bind(g.expires_at)
    .bind(g.interval_secs)
    .bind(GrantState::Pending.code())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A device grant with its app.
pub struct GrantRow {
    pub id: i64,
    pub client_pk: i64,
    pub client_id: String,
    pub app_name: String,
    pub state: GrantState,
    pub expires_at: i64,
    pub interval_secs: i64,
    pub last_poll_at: Option<i64>,
    pub account_id: Option<i64>,
}

/// `SELECT` of a grant with its app, then the given condition (a literal).
macro_rules! select_grant {
    ($rest:literal) => {
        concat!(
            "SELECT g.id, g.client_pk, c.client_id, c.name, g.state, g.expires_at, g.interval_secs, \
             g.last_poll_at, g.account_id FROM device_grants g JOIN api_clients c ON c.id = g.client_pk ",
            $rest
        )
    };
}

fn grant(r: &AnyRow) -> Result<GrantRow, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(GrantRow {
        id: r.try_get("id")?,
        client_pk: r.try_get("client_pk")?,
        client_id: r.try_get("client_id")?,
        app_name: r.try_get("name")?,
        state: GrantState::from_code(&state).ok_or_else(|| bad("grant state"))?,
        expires_at: r.try_get("expires_at")?,
        interval_secs: r.try_get("interval_secs")?,
        last_poll_at: r.try_get("last_poll_at")?,
        account_id: r.try_get("account_id")?,
    })
}

/// The pending, unexpired grant a user code names (disabled clients' grants
/// are not found).
pub async fn pending_by_user_code(
    db: &Db,
    user_code_hash: &[u8],
    now: i64,
) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query(select_grant!(
        "WHERE g.user_code_hash = $1 AND g.state = $2 AND g.expires_at > $3 \
         AND c.disabled_at IS NULL ORDER BY g.id DESC LIMIT 1"
    ))
    .bind(user_code_hash)
    .bind(GrantState::Pending.code())
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(grant).transpose()
}

pub async fn by_device_code(
    db: &Db,
    device_code_hash: &[u8],
) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query(select_grant!("WHERE g.device_code_hash = $1"))
        .bind(device_code_hash)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(grant).transpose()
}

/// Records the applicant's answer if the grant is still pending; `false`
/// when someone else answered first or it expired.
pub async fn decide(
    db: &Db,
    id: i64,
    account_id: i64,
    to: GrantState,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE device_grants SET state = $1, account_id = $2, decided_at = $3 \
         WHERE id = $4 AND state = $5 AND expires_at > $3",
    )
    .bind(to.code())
    .bind(account_id)
    .bind(now)
    .bind(id)
    .bind(GrantState::Pending.code())
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Notes a poll (and the interval the app must now keep).
pub async fn polled(db: &Db, id: i64, now: i64, interval_secs: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE device_grants SET last_poll_at = $1, interval_secs = $2 WHERE id = $3")
        .bind(now)
        .bind(interval_secs)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Marks an approved grant spent, in the caller's transaction; `false` if
/// it was not approved any more (spent by a concurrent poll, or ended).
pub async fn mark_issued(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE device_grants SET state = $1, last_poll_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(GrantState::Issued.code())
    .bind(now)
    .bind(id)
    .bind(GrantState::Approved.code())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Housekeeping: forgets device grants a day after they expired, and tokens
/// 30 days after they expired or were revoked, with the webhook
/// subscriptions they owned (their receipts and deliveries; the audit log
/// keeps their story). Returns how many grants and tokens went.
pub async fn purge(db: &Db, now: i64) -> Result<u64, StoreError> {
    let grants = sqlx::query("DELETE FROM device_grants WHERE expires_at < $1")
        .bind(now - 86_400)
        .execute(db.pool())
        .await?;
    const ENDED_SUBS: &str = "SELECT s.id FROM webhook_subscriptions s \
         JOIN applicant_tokens t ON t.id = s.token_pk \
         WHERE t.expires_at < $1 OR t.revoked_at < $1";
    let before = now - 30 * 86_400;
    let mut tx = db.pool().begin().await?;
    for table in ["webhook_deliveries", "webhook_receipts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE subscription_id IN ({ENDED_SUBS})"
        )))
        .bind(before)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM webhook_subscriptions WHERE id IN ({ENDED_SUBS})"
    )))
    .bind(before)
    .execute(&mut *tx)
    .await?;
    let tokens =
        sqlx::query("DELETE FROM applicant_tokens WHERE expires_at < $1 OR revoked_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(grants.rows_affected() + tokens.rows_affected())
}
