//! Reading a case's public status: one indexed query (case ⋈ person ⟕ history),
//! behind a small per-instance cache with a short time-to-live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::Row;

use super::policy::{HistoryItem, StatusRecord};
use crate::domain::{CaseStatus, FormType, Office, ReceiptNumber};
use crate::store::{Db, StoreError};

pub async fn lookup(db: &Db, receipt: &ReceiptNumber) -> Result<Option<StatusRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.form, c.office, c.received_date, c.status, c.status_at, c.created_at, \
                p.protected, h.status AS h_status, h.at AS h_at \
         FROM cases c JOIN persons p ON p.id = c.person_id \
         LEFT JOIN case_history h ON h.case_id = c.id \
         WHERE c.receipt_number = $1 \
         ORDER BY h.at DESC, h.id DESC",
    )
    .bind(receipt.as_str())
    .fetch_all(db.pool())
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let bad = |what: &str| StoreError::Query(sqlx::Error::Decode(format!("bad {what}").into()));
    let form: String = first.try_get("form")?;
    let office: String = first.try_get("office")?;
    let received: String = first.try_get("received_date")?;
    let status: String = first.try_get("status")?;
    let mut record = StatusRecord {
        receipt: receipt.clone(),
        form: FormType::parse(&form).ok_or_else(|| bad("form"))?,
        office: Office::from_code(&office).ok_or_else(|| bad("office"))?,
        received_date: NaiveDate::parse_from_str(&received, "%Y-%m-%d")
            .map_err(|_| bad("received_date"))?,
        status: CaseStatus::from_code(&status).ok_or_else(|| bad("status"))?,
        status_at: first.try_get("status_at")?,
        created_at: first.try_get("created_at")?,
        protected: first.try_get::<i64, _>("protected")? != 0,
        history: Vec::with_capacity(rows.len()),
    };
    for row in &rows {
        let h_status: Option<String> = row.try_get("h_status")?;
        let h_at: Option<i64> = row.try_get("h_at")?;
        if let (Some(s), Some(at)) = (h_status, h_at) {
            let status = CaseStatus::from_code(&s).ok_or_else(|| bad("history status"))?;
            record.history.push(HistoryItem { status, at });
        }
    }
    Ok(Some(record))
}

type Entry = (Instant, Option<Arc<StatusRecord>>);

/// Per-instance cache of status lookups (including "no such receipt").
/// Entries live `ttl`; writers on this instance call [`StatusCache::forget`].
pub struct StatusCache {
    ttl: Duration,
    shards: Vec<Mutex<HashMap<String, Entry>>>,
}

const SHARDS: usize = 16;
const MAX_PER_SHARD: usize = 8_192;

impl StatusCache {
    pub fn new(ttl: Duration) -> StatusCache {
        StatusCache {
            ttl,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Entry>> {
        let h = key.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        &self.shards[h % SHARDS]
    }

    pub async fn get(
        &self,
        db: &Db,
        receipt: &ReceiptNumber,
    ) -> Result<Option<Arc<StatusRecord>>, StoreError> {
        if self.ttl.is_zero() {
            return Ok(lookup(db, receipt).await?.map(Arc::new));
        }
        let key = receipt.as_str();
        {
            let shard = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, rec)) = shard.get(key)
                && at.elapsed() < self.ttl
            {
                return Ok(rec.clone());
            }
        }
        let fresh = lookup(db, receipt).await?.map(Arc::new);
        let mut shard = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if shard.len() >= MAX_PER_SHARD {
            let ttl = self.ttl;
            shard.retain(|_, (at, _)| at.elapsed() < ttl);
            if shard.len() >= MAX_PER_SHARD {
                shard.clear();
            }
        }
        shard.insert(key.to_string(), (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// Drops a receipt after this instance changed it.
    pub fn forget(&self, receipt: &str) {
        self.shard(receipt)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(receipt);
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
