//! The API clients' tokens, as the bearer check reads them.

use sqlx::Row;

use super::Allowance;
use crate::store::{Db, StoreError};

pub struct TokenRow {
    pub client_pk: i64,
    pub expires_at: i64,
    pub allowance: Allowance,
    pub scopes: String,
    pub client_disabled: bool,
}

pub async fn find_token(db: &Db, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT t.client_pk, t.expires_at, c.rate_per_sec, c.daily_quota, c.scopes, c.disabled_at \
         FROM api_tokens t JOIN api_clients c ON c.id = t.client_pk WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(TokenRow {
            client_pk: r.try_get("client_pk")?,
            expires_at: r.try_get("expires_at")?,
            allowance: Allowance {
                rate_per_sec: u32::try_from(r.try_get::<i64, _>("rate_per_sec")?)
                    .unwrap_or(u32::MAX),
                daily_quota: u32::try_from(r.try_get::<i64, _>("daily_quota")?).unwrap_or(u32::MAX),
            },
            scopes: r.try_get("scopes")?,
            client_disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        })
    })
    .transpose()
}
