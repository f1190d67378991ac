//! API clients and their bearer tokens. Secrets and tokens are stored only as
//! keyed hashes (HMAC-SHA-256 under the server's API key).

use sqlx::Row;

use crate::api_guard::Allowance;
use crate::store::{Db, StoreError};

pub use crate::api_guard::store::{TokenRow, find_token};

pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub secret_hash: &'a [u8],
    pub scopes: &'a str,
    pub allowance: Allowance,
    pub now: i64,
}

pub async fn create_client(db: &Db, c: NewClient<'_>) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_clients (client_id, name, secret_hash, scopes, rate_per_sec, daily_quota, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(c.client_id)
    .bind(c.name)
    .bind(c.secret_hash)
    .bind(c.scopes)
    .bind(i64::from(c.allowance.rate_per_sec))
    .bind(i64::from(c.allowance.daily_quota))
    .bind(c.now)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub secret_hash: Vec<u8>,
    pub disabled: bool,
}

pub async fn find_client(db: &Db, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, secret_hash, disabled_at FROM api_clients WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(ClientRow {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            secret_hash: r.try_get("secret_hash")?,
            disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        })
    })
    .transpose()
}

pub async fn insert_token(
    db: &Db,
    token_hash: &[u8],
    client_pk: i64,
    issued_at: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, client_pk, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(client_pk)
    .bind(issued_at)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes tokens that expired before `now`; returns how many.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM api_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected())
}
