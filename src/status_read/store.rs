//! Reading a case's public status: one indexed query (case ⋈ person ⟕ history),
//! read in place on SQLite (`store::sqlite_read`) or through the pool on
//! PostgreSQL, behind a small per-instance cache with a short time-to-live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::Row;

use super::describe::{HistoryItem, StatusRecord};
use crate::domain::{CaseStatus, FormType, Office, ReceiptNumber};
use crate::store::{Db, StoreError, receipt_key_sql};

const LOOKUP_SQL: &str = "SELECT c.form, c.office, c.received_date, c.status, c.status_at, c.created_at, \
            p.protected, h.status AS h_status, h.at AS h_at, h.id AS h_id \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     LEFT JOIN case_history h ON h.case_id = c.id \
     WHERE c.receipt_number = $1";

/// The case's own fields, whichever driver read them.
struct Head {
    form: String,
    office: String,
    received: String,
    status: String,
    status_at: i64,
    created_at: i64,
    protected: i64,
}

/// One history entry: status code, time, row id (the tie-breaker).
type RawHistory = (String, i64, i64);

pub async fn lookup(db: &Db, receipt: &ReceiptNumber) -> Result<Option<StatusRecord>, StoreError> {
    let found = match db.sqlite_reader() {
        // SQLite: the one-read status table (`store::sqlite_read`).
        Some(reader) => match reader.status_row(receipt.key(), receipt.as_str())? {
            None => None,
            Some(r) => {
                let history = parse_history(&r.history).ok_or_else(|| {
                    StoreError::Query(sqlx::Error::Decode(
                        "bad history entry in status_rows".into(),
                    ))
                })?;
                let head = Head {
                    form: r.form,
                    office: r.office,
                    received: r.received,
                    status: r.status,
                    status_at: r.status_at,
                    created_at: r.created_at,
                    protected: r.protected,
                };
                Some((head, history))
            }
        },
        None => {
            let rows = sqlx::query(LOOKUP_SQL)
                .bind(receipt.as_str())
                .fetch_all(db.pool())
                .await?;
            from_join(&rows)?
        }
    };
    match found {
        None => Ok(None),
        Some((head, history)) => assemble(receipt, head, history).map(Some),
    }
}

/// The same record read through the join on the caller's connection (both
/// engines), so a writer sees its own uncommitted change: the webhook
/// payload is built inside the transaction that changes the case.
pub async fn lookup_on(
    conn: &mut sqlx::AnyConnection,
    receipt: &ReceiptNumber,
) -> Result<Option<StatusRecord>, StoreError> {
    let rows = sqlx::query(LOOKUP_SQL)
        .bind(receipt.as_str())
        .fetch_all(&mut *conn)
        .await?;
    match from_join(&rows)? {
        None => Ok(None),
        Some((head, history)) => assemble(receipt, head, history).map(Some),
    }
}

/// The case's fields and history from the rows of [`LOOKUP_SQL`].
fn from_join(rows: &[sqlx::any::AnyRow]) -> Result<Option<(Head, Vec<RawHistory>)>, StoreError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let head = Head {
        form: r.try_get(0)?,
        office: r.try_get(1)?,
        received: r.try_get(2)?,
        status: r.try_get(3)?,
        status_at: r.try_get(4)?,
        created_at: r.try_get(5)?,
        protected: r.try_get(6)?,
    };
    let mut history = Vec::with_capacity(rows.len());
    for r in rows {
        let entry: (Option<String>, Option<i64>, Option<i64>) =
            (r.try_get(7)?, r.try_get(8)?, r.try_get(9)?);
        if let (Some(s), Some(at), Some(id)) = entry {
            history.push((s, at, id));
        }
    }
    Ok(Some((head, history)))
}

/// `status_rows.history`: `status:at:id` entries joined by ',' (empty when
/// the case has no history); `None` if any entry is malformed.
fn parse_history(packed: &str) -> Option<Vec<RawHistory>> {
    if packed.is_empty() {
        return Some(Vec::new());
    }
    packed
        .split(',')
        .map(|entry| {
            let mut parts = entry.split(':');
            let status = parts.next()?.to_string();
            let at = parts.next()?.parse().ok()?;
            let id = parts.next()?.parse().ok()?;
            parts.next().is_none().then_some((status, at, id))
        })
        .collect()
}

fn assemble(
    receipt: &ReceiptNumber,
    head: Head,
    mut history: Vec<RawHistory>,
) -> Result<StatusRecord, StoreError> {
    let bad = |what: &str| StoreError::Query(sqlx::Error::Decode(format!("bad {what}").into()));
    // Newest first; the order is not left to the query plan or the triggers.
    history.sort_by_key(|(_, at, id)| std::cmp::Reverse((*at, *id)));
    let history = history
        .iter()
        .map(|(s, at, _)| {
            let status = CaseStatus::from_code(s).ok_or_else(|| bad("history status"))?;
            Ok(HistoryItem { status, at: *at })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(StatusRecord {
        receipt: receipt.clone(),
        form: FormType::parse(&head.form).ok_or_else(|| bad("form"))?,
        office: Office::from_code(&head.office).ok_or_else(|| bad("office"))?,
        received_date: NaiveDate::parse_from_str(&head.received, "%Y-%m-%d")
            .map_err(|_| bad("received_date"))?,
        status: CaseStatus::from_code(&head.status).ok_or_else(|| bad("status"))?,
        status_at: head.status_at,
        created_at: head.created_at,
        protected: head.protected != 0,
        history,
    })
}

/// Cases whose `status_rows` row disagrees with cases ⋈ persons ⟕ history
/// (missing, stale, or a history entry missing or extra), plus rows left
/// without a case. Zero when the triggers did their work.
const STATUS_ROWS_DRIFT_SQL: &str = concat!(
    "SELECT
  (SELECT COUNT(*) FROM cases c JOIN persons p ON p.id = c.person_id
     LEFT JOIN status_rows s ON s.receipt_key = ",
    receipt_key_sql!("c.receipt_number"),
    "
   WHERE s.receipt_key IS NULL OR s.receipt_number IS NOT c.receipt_number
      OR s.form IS NOT c.form OR s.office IS NOT c.office
      OR s.received_date IS NOT c.received_date OR s.status IS NOT c.status
      OR s.status_at IS NOT c.status_at OR s.created_at IS NOT c.created_at
      OR s.protected IS NOT p.protected
      OR (SELECT COUNT(*) FROM case_history h WHERE h.case_id = c.id)
         != (CASE WHEN s.history = '' THEN 0
             ELSE length(s.history) - length(replace(s.history, ',', '')) + 1 END)
      OR EXISTS (SELECT 1 FROM case_history h WHERE h.case_id = c.id
                 AND instr(',' || s.history || ',', ',' || h.status || ':' || h.at || ':' || h.id || ',') = 0))
  + (SELECT COUNT(*) FROM status_rows s
     WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.receipt_number = s.receipt_number))"
);

/// How many cases the one-read status table has wrong (SQLite); `None` on
/// PostgreSQL, which reads the join itself. Tests call this after every kind
/// of write; an operator can run the same query with `sqlite3`.
pub async fn status_rows_drift(db: &Db) -> Result<Option<i64>, StoreError> {
    if db.engine() != crate::config::DbEngine::Sqlite {
        return Ok(None);
    }
    let n: i64 = sqlx::query_scalar(STATUS_ROWS_DRIFT_SQL)
        .fetch_one(db.pool())
        .await?;
    Ok(Some(n))
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
    fn packed_history_parses_or_is_refused_whole() {
        assert_eq!(parse_history(""), Some(vec![]));
        assert_eq!(
            parse_history("case_was_received:100:7,case_was_approved:200:9"),
            Some(vec![
                ("case_was_received".to_string(), 100, 7),
                ("case_was_approved".to_string(), 200, 9),
            ])
        );
        for bad in [",", "a:1", "a:1:2:3", "a:x:2", "a:1:2,", "a:1:2,b:2"] {
            assert_eq!(parse_history(bad), None, "{bad}");
        }
    }

    #[test]
    fn history_is_newest_first_whatever_order_it_was_stored_in() {
        let receipt = ReceiptNumber::parse("IOE0912345678").unwrap();
        let head = || Head {
            form: "I-485".into(),
            office: "IOE".into(),
            received: "2026-01-02".into(),
            status: "case_was_approved".into(),
            status_at: 300,
            created_at: 100,
            protected: 0,
        };
        let history = vec![
            ("case_was_approved".to_string(), 300, 3),
            ("case_was_received".to_string(), 100, 1),
            ("actively_reviewed".to_string(), 300, 2),
        ];
        let rec = assemble(&receipt, head(), history).unwrap();
        let order: Vec<_> = rec
            .history
            .iter()
            .map(|h| (h.status.code(), h.at))
            .collect();
        assert_eq!(
            order,
            [
                ("case_was_approved", 300),
                ("actively_reviewed", 300),
                ("case_was_received", 100)
            ]
        );
        let broken = vec![("no_such_status".to_string(), 1, 1)];
        assert!(assemble(&receipt, head(), broken).is_err());
    }

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
