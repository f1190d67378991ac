//! Reading a case's public status: one indexed query (case ⋈ person ⟕ history),
//! read in place on SQLite (`store::sqlite_read`) or through the pool on
//! PostgreSQL, behind a small per-instance cache with a short time-to-live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::Row;

use super::policy::{HistoryItem, StatusRecord};
use crate::domain::{CaseStatus, FormType, Office, ReceiptNumber};
use crate::store::{Db, StoreError};

const LOOKUP_SQL: &str = "SELECT c.form, c.office, c.received_date, c.status, c.status_at, c.created_at, \
            p.protected, h.status AS h_status, h.at AS h_at, h.id AS h_id \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     LEFT JOIN case_history h ON h.case_id = c.id \
     WHERE c.receipt_number = $1";

/// The same lookup for SQLite's in-place reader, every table read through a
/// covering index (migration 0008): one random page fewer per table.
const LOOKUP_SQL_SQLITE: &str = "SELECT c.form, c.office, c.received_date, c.status, c.status_at, c.created_at, \
            p.protected, h.status AS h_status, h.at AS h_at, h.id AS h_id \
     FROM cases c JOIN persons p INDEXED BY persons_protected ON p.id = c.person_id \
     LEFT JOIN case_history h INDEXED BY case_history_status ON h.case_id = c.id \
     WHERE c.receipt_number = ?1";

/// One row of [`LOOKUP_SQL`], whichever driver read it.
struct Raw {
    form: String,
    office: String,
    received: String,
    status: String,
    status_at: i64,
    created_at: i64,
    protected: i64,
    h_status: Option<String>,
    h_at: Option<i64>,
    h_id: Option<i64>,
}

pub async fn lookup(db: &Db, receipt: &ReceiptNumber) -> Result<Option<StatusRecord>, StoreError> {
    let rows = match db.sqlite_reader() {
        Some(reader) => reader.with(|conn| {
            let mut stmt = conn.prepare_cached(LOOKUP_SQL_SQLITE)?;
            let rows = stmt.query_map([receipt.as_str()], |r| {
                Ok(Raw {
                    form: r.get(0)?,
                    office: r.get(1)?,
                    received: r.get(2)?,
                    status: r.get(3)?,
                    status_at: r.get(4)?,
                    created_at: r.get(5)?,
                    protected: r.get(6)?,
                    h_status: r.get(7)?,
                    h_at: r.get(8)?,
                    h_id: r.get(9)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<Raw>>>()
        })?,
        None => {
            let rows = sqlx::query(LOOKUP_SQL)
                .bind(receipt.as_str())
                .fetch_all(db.pool())
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(Raw {
                    form: r.try_get(0)?,
                    office: r.try_get(1)?,
                    received: r.try_get(2)?,
                    status: r.try_get(3)?,
                    status_at: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    protected: r.try_get(6)?,
                    h_status: r.try_get(7)?,
                    h_at: r.try_get(8)?,
                    h_id: r.try_get(9)?,
                });
            }
            out
        }
    };
    assemble(receipt, &rows)
}

fn assemble(receipt: &ReceiptNumber, rows: &[Raw]) -> Result<Option<StatusRecord>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let bad = |what: &str| StoreError::Query(sqlx::Error::Decode(format!("bad {what}").into()));
    let mut record = StatusRecord {
        receipt: receipt.clone(),
        form: FormType::parse(&first.form).ok_or_else(|| bad("form"))?,
        office: Office::from_code(&first.office).ok_or_else(|| bad("office"))?,
        received_date: NaiveDate::parse_from_str(&first.received, "%Y-%m-%d")
            .map_err(|_| bad("received_date"))?,
        status: CaseStatus::from_code(&first.status).ok_or_else(|| bad("status"))?,
        status_at: first.status_at,
        created_at: first.created_at,
        protected: first.protected != 0,
        history: Vec::with_capacity(rows.len()),
    };
    // Newest first; the order is not left to the query plan.
    let mut history: Vec<&Raw> = rows.iter().filter(|r| r.h_status.is_some()).collect();
    history.sort_by_key(|r| std::cmp::Reverse((r.h_at, r.h_id)));
    for row in history {
        if let (Some(s), Some(at)) = (&row.h_status, row.h_at) {
            let status = CaseStatus::from_code(s).ok_or_else(|| bad("history status"))?;
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
/// Expired entries are swept when a shard reaches this size (and the shard is
/// emptied if all are still live). 16 × 1,024 entries is a few MiB at most;
/// at 8,192 per shard, lookups spread over many receipts kept ~130 k expired
/// entries (~40 MiB) alive and the soak saw RSS climb ~3 MB/min.
const MAX_PER_SHARD: usize = 1_024;

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
        self.remember(key, fresh.clone(), Instant::now());
        Ok(fresh)
    }

    /// Stores a lookup read at `now`, keeping the shard within its bound.
    fn remember(&self, key: &str, rec: Option<Arc<StatusRecord>>, now: Instant) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if shard.len() >= MAX_PER_SHARD {
            let ttl = self.ttl;
            shard.retain(|_, (at, _)| now.saturating_duration_since(*at) < ttl);
            if shard.len() >= MAX_PER_SHARD {
                shard.clear();
            }
        }
        shard.insert(key.to_string(), (now, rec));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_stays_bounded_and_sweeps_expired_entries() {
        let cache = StatusCache::new(Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..100_000u32 {
            cache.remember(&format!("EAC{i:010}"), None, t0);
        }
        assert!(cache.len() <= SHARDS * MAX_PER_SHARD, "{}", cache.len());
        assert!(!cache.is_empty());
        // Two seconds later the old entries are expired: the next insert into a
        // full shard sweeps them instead of keeping them.
        let later = t0 + Duration::from_secs(2);
        for i in 0..100_000u32 {
            cache.remember(&format!("WAC{i:010}"), None, later);
        }
        let old = cache
            .shards
            .iter()
            .flat_map(|s| {
                let s = s.lock().unwrap_or_else(|p| p.into_inner());
                s.keys()
                    .filter(|k| k.starts_with("EAC"))
                    .count()
                    .checked_sub(0)
            })
            .sum::<usize>();
        assert_eq!(old, 0, "expired entries must not survive a sweep");
    }
}
