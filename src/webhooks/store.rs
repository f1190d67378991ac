//! The webhook tables: subscriptions, the receipts they follow, and the
//! delivery queue.

use sqlx::{AnyConnection, Row};

use super::Owner;
use crate::store::{Db, StoreError};

/// A subscription as stored.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub id: i64,
    pub public_id: String,
    pub owner: Owner,
    pub client_name: Option<String>,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub disabled_by: Option<String>,
    pub deleted_at: Option<i64>,
}

const SUB_COLUMNS: &str = "s.id, s.public_id, s.owner_kind, s.client_pk, k.name, s.url, \
     s.secret_sealed, s.created_at, s.disabled_at, s.disabled_by, s.deleted_at, \
     s.token_pk, s.account_pk \
     FROM webhook_subscriptions s LEFT JOIN api_clients k ON k.id = s.client_pk";

fn sub_from(r: &sqlx::any::AnyRow) -> Result<Option<SubscriptionRow>, StoreError> {
    let kind: String = r.try_get(2)?;
    let client_pk: Option<i64> = r.try_get(3)?;
    let token_pk: Option<i64> = r.try_get(11)?;
    let account_pk: Option<i64> = r.try_get(12)?;
    let Some(owner) = Owner::from_stored(&kind, client_pk, token_pk, account_pk) else {
        return Ok(None);
    };
    Ok(Some(SubscriptionRow {
        id: r.try_get(0)?,
        public_id: r.try_get(1)?,
        owner,
        client_name: r.try_get(4)?,
        url: r.try_get(5)?,
        secret_sealed: r.try_get(6)?,
        created_at: r.try_get(7)?,
        disabled_at: r.try_get(8)?,
        disabled_by: r.try_get(9)?,
        deleted_at: r.try_get(10)?,
    }))
}

pub struct NewSubscription<'a> {
    pub public_id: &'a str,
    pub owner: Owner,
    pub url: &'a str,
    pub secret_sealed: &'a [u8],
    pub receipts: &'a [String],
    pub now: i64,
}

pub async fn create(db: &Db, n: NewSubscription<'_>) -> Result<i64, StoreError> {
    let mut tx = db.pool().begin().await?;
    let (kind, client_pk, token_pk, account_pk) = n.owner.to_stored();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (public_id, owner_kind, client_pk, url, secret_sealed, \
         created_at, token_pk, account_pk) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(n.public_id)
    .bind(kind)
    .bind(client_pk)
    .bind(n.url)
    .bind(n.secret_sealed)
    .bind(n.now)
    .bind(token_pk)
    .bind(account_pk)
    .fetch_one(&mut *tx)
    .await?;
    for r in n.receipts {
        sqlx::query(
            "INSERT INTO webhook_receipts (subscription_id, receipt_number) VALUES ($1, $2)",
        )
        .bind(id)
        .bind(r.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Live (not deleted) subscriptions of an owner, newest first.
pub async fn list_for(db: &Db, owner: Owner) -> Result<Vec<SubscriptionRow>, StoreError> {
    let (sql, pk) = match owner {
        Owner::ApiClient { client_pk } => (
            "s.client_pk = $1 AND s.owner_kind = 'api_client'",
            client_pk,
        ),
        Owner::ApplicantToken { token_pk, .. } => (
            "s.token_pk = $1 AND s.owner_kind = 'applicant_token'",
            token_pk,
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SUB_COLUMNS} WHERE {sql} AND s.deleted_at IS NULL ORDER BY s.id DESC"
    )))
    .bind(pk)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(sub_from(r)?);
    }
    // An applicant token's subscriptions are its account's too (the owner
    // compares both).
    out.retain(|s| s.owner == owner);
    Ok(out)
}

/// Every subscription (officers' console), newest first, at most `limit`.
pub async fn list_all(db: &Db, limit: i64) -> Result<Vec<SubscriptionRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SUB_COLUMNS} ORDER BY s.id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(sub_from(r)?);
    }
    Ok(out)
}

pub async fn find(db: &Db, public_id: &str) -> Result<Option<SubscriptionRow>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SUB_COLUMNS} WHERE s.public_id = $1"
    )))
    .bind(public_id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => sub_from(&r),
        None => Ok(None),
    }
}

pub async fn receipts_of(db: &Db, subscription_id: i64) -> Result<Vec<String>, StoreError> {
    let v: Vec<String> = sqlx::query_scalar(
        "SELECT receipt_number FROM webhook_receipts WHERE subscription_id = $1 ORDER BY receipt_number",
    )
    .bind(subscription_id)
    .fetch_all(db.pool())
    .await?;
    Ok(v)
}

/// A delivery as the client and the officers see it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub message_id: String,
    pub receipt_number: String,
    pub event_type: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// The newest `limit` deliveries of a subscription.
pub async fn recent_deliveries(
    db: &Db,
    subscription_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, subscription_id, message_id, receipt_number, event_type, created_at, attempts, \
         next_attempt_at, delivered_at, failed_at, last_status, last_error \
         FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(subscription_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get(0)?,
                subscription_id: r.try_get(1)?,
                message_id: r.try_get(2)?,
                receipt_number: r.try_get(3)?,
                event_type: r.try_get(4)?,
                created_at: r.try_get(5)?,
                attempts: r.try_get(6)?,
                next_attempt_at: r.try_get(7)?,
                delivered_at: r.try_get(8)?,
                failed_at: r.try_get(9)?,
                last_status: r.try_get(10)?,
                last_error: r.try_get(11)?,
            })
        })
        .collect()
}

/// Ends a subscription (`deleted` by its owner, else `disabled` by `actor`);
/// its pending deliveries are given up. Returns whether it was live.
pub async fn end(
    db: &Db,
    subscription_id: i64,
    deleted: bool,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.pool().begin().await?;
    let sql = if deleted {
        "UPDATE webhook_subscriptions SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL"
    } else {
        "UPDATE webhook_subscriptions SET disabled_at = $2, disabled_by = $3 \
         WHERE id = $1 AND disabled_at IS NULL AND deleted_at IS NULL"
    };
    let mut q = sqlx::query(sql).bind(subscription_id).bind(now);
    if !deleted {
        q = q.bind(actor);
    }
    let changed = q.execute(&mut *tx).await?.rows_affected() == 1;
    if changed {
        sqlx::query(
            "UPDATE webhook_deliveries SET failed_at = $2, last_error = $3, locked_until = NULL \
             WHERE subscription_id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
        )
        .bind(subscription_id)
        .bind(now)
        .bind(if deleted {
            "subscription deleted"
        } else {
            "subscription disabled"
        })
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The owner-specific half of "this subscription may receive `receipt` at
/// `$2`": an API client not disabled; an applicant token not revoked nor
/// expired, of an account that is (still) an applicant's (as
/// `authz::may_hold_applicant_tokens`) and that the case is (still) linked
/// to. Used at queueing
/// and at sending time (`s` the subscription, `r_receipt` the receipt).
macro_rules! owner_live {
    ($receipt:literal) => {
        concat!(
            "((s.owner_kind = 'api_client' AND k.disabled_at IS NULL) \
              OR (s.owner_kind = 'applicant_token' AND t.revoked_at IS NULL \
                  AND t.expires_at > $2 AND t.account_id = s.account_pk \
                  AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_pk \
                              AND a.role = 'applicant') \
                  AND EXISTS (SELECT 1 FROM cases c WHERE c.receipt_number = ",
            $receipt,
            " AND c.account_id = s.account_pk)))"
        )
    };
}

/// Live subscriptions following `receipt` whose owner may still receive it
/// at `now`, read on the caller's connection (inside the change's
/// transaction).
pub async fn followers_on(
    conn: &mut AnyConnection,
    receipt: &str,
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(concat!(
        "SELECT s.id FROM webhook_receipts r \
         JOIN webhook_subscriptions s ON s.id = r.subscription_id \
         LEFT JOIN api_clients k ON k.id = s.client_pk \
         LEFT JOIN applicant_tokens t ON t.id = s.token_pk \
         WHERE r.receipt_number = $1 AND s.disabled_at IS NULL AND s.deleted_at IS NULL AND ",
        owner_live!("r.receipt_number"),
        " ORDER BY s.id"
    ))
    .bind(receipt)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

pub struct NewDelivery<'a> {
    pub subscription_id: i64,
    pub message_id: &'a str,
    pub receipt: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
    pub now: i64,
}

pub async fn insert_delivery_on(
    conn: &mut AnyConnection,
    d: NewDelivery<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (subscription_id, message_id, receipt_number, event_type, \
         payload, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(d.subscription_id)
    .bind(d.message_id)
    .bind(d.receipt)
    .bind(d.event_type)
    .bind(d.payload)
    .bind(d.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub subscription_id: i64,
    pub message_id: String,
    pub receipt_number: String,
    pub payload: String,
    pub attempts: i64,
}

type ClaimedRow = (i64, i64, String, String, String, i64);

/// Leases up to `batch` due deliveries until `now + lease_secs` (same
/// claim as the email outbox: conditions repeated outside the sub-select so
/// a racing instance's UPDATE skips rows another one took).
pub async fn claim(
    db: &Db,
    now: i64,
    lease_secs: i64,
    batch: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(
        "UPDATE webhook_deliveries SET locked_until = $1 \
         WHERE id IN (SELECT id FROM webhook_deliveries \
                      WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                        AND (locked_until IS NULL OR locked_until < $2) \
                      ORDER BY next_attempt_at, id LIMIT $3) \
           AND delivered_at IS NULL AND failed_at IS NULL \
           AND (locked_until IS NULL OR locked_until < $2) \
         RETURNING id, subscription_id, message_id, receipt_number, payload, attempts",
    )
    .bind(now + lease_secs)
    .bind(now)
    .bind(batch)
    .fetch_all(db.pool())
    .await?;
    let mut v: Vec<Claimed> = rows
        .into_iter()
        .map(
            |(id, subscription_id, message_id, receipt_number, payload, attempts)| Claimed {
                id,
                subscription_id,
                message_id,
                receipt_number,
                payload,
                attempts,
            },
        )
        .collect();
    v.sort_by_key(|c| c.id);
    Ok(v)
}

/// What a delivery needs to know at sending time: the target, the sealed
/// secret, whether the subscription is still live and whether the case is
/// (now) protected.
pub struct Target {
    pub public_id: String,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub live: bool,
    pub protected: bool,
}

pub async fn target(
    db: &Db,
    subscription_id: i64,
    receipt: &str,
    now: i64,
) -> Result<Option<Target>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT s.public_id, s.url, s.secret_sealed, s.disabled_at, s.deleted_at, \
         (SELECT MAX(p.protected) FROM cases c JOIN persons p ON p.id = c.person_id \
          WHERE c.receipt_number = $3), \
         CASE WHEN ",
        owner_live!("$3"),
        " THEN 1 ELSE 0 END \
         FROM webhook_subscriptions s LEFT JOIN api_clients k ON k.id = s.client_pk \
         LEFT JOIN applicant_tokens t ON t.id = s.token_pk WHERE s.id = $1"
    ))
    .bind(subscription_id)
    .bind(now)
    .bind(receipt)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let disabled: Option<i64> = r.try_get(3)?;
    let deleted: Option<i64> = r.try_get(4)?;
    let protected: Option<i64> = r.try_get(5)?;
    let owner_live: i64 = r.try_get(6)?;
    Ok(Some(Target {
        public_id: r.try_get(0)?,
        url: r.try_get(1)?,
        secret_sealed: r.try_get(2)?,
        live: disabled.is_none() && deleted.is_none() && owner_live == 1,
        protected: protected.unwrap_or(0) != 0,
    }))
}

pub async fn record_delivered(db: &Db, id: i64, status: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET delivered_at = $2, attempts = attempts + 1, last_status = $3, \
         last_error = NULL, locked_until = NULL WHERE id = $1 AND delivered_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(status)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub struct Failure<'a> {
    pub attempts: i64,
    /// `Some(at)`: try again at; `None`: give up now.
    pub retry_at: Option<i64>,
    pub status: Option<i64>,
    pub error: &'a str,
    pub now: i64,
}

pub async fn record_failure(db: &Db, id: i64, f: Failure<'_>) -> Result<(), StoreError> {
    match f.retry_at {
        Some(at) => {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = $2, next_attempt_at = $3, last_status = $4, \
                 last_error = $5, locked_until = NULL WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(id)
            .bind(f.attempts)
            .bind(at)
            .bind(f.status)
            .bind(f.error)
            .execute(db.pool())
            .await?;
        }
        None => {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = $2, failed_at = $3, last_status = $4, \
                 last_error = $5, locked_until = NULL WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(id)
            .bind(f.attempts)
            .bind(f.now)
            .bind(f.status)
            .bind(f.error)
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}

/// Deliveries neither delivered nor given up.
pub async fn queue_depth(db: &Db) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(n)
}

/// Deletes deliveries finished before `before`; returns how many.
pub async fn purge_finished(db: &Db, before: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE (delivered_at IS NOT NULL AND delivered_at < $1) \
         OR (failed_at IS NOT NULL AND failed_at < $1)",
    )
    .bind(before)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}
