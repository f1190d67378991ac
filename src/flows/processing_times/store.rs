//! The cached figures: recomputed by [`refresh`], read by [`figure_for`] and [`all`].

use chrono::{NaiveDate, NaiveTime};
use sqlx::Row;

use super::policy::{self, Decided, Figure};
use crate::store::{Db, StoreError};

fn encode_histogram(h: &[(u32, usize)]) -> String {
    h.iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_histogram(s: &str) -> Vec<(u32, usize)> {
    s.split(',')
        .filter_map(|p| {
            let (a, b) = p.split_once(':')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

/// Recomputes every figure from the decisions of the last six months.
pub async fn refresh(db: &Db, today: NaiveDate, now: i64) -> Result<usize, StoreError> {
    let since = policy::window_start(today)
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let rows = sqlx::query(
        "SELECT c.form, c.office, c.received_date, MIN(h.at) AS decided_at FROM case_history h \
         JOIN cases c ON c.id = h.case_id \
         WHERE h.status IN ('case_was_approved', 'case_was_denied') AND h.at >= $1 \
         GROUP BY c.id, c.form, c.office, c.received_date",
    )
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    let mut decided = Vec::with_capacity(rows.len());
    for r in rows {
        let received: String = r.try_get("received_date")?;
        let at: i64 = r.try_get("decided_at")?;
        let (Ok(received), Some(decided_at)) = (
            NaiveDate::parse_from_str(&received, "%Y-%m-%d"),
            chrono::DateTime::from_timestamp(at, 0),
        ) else {
            continue;
        };
        decided.push(Decided {
            form: r.try_get("form")?,
            office: r.try_get("office")?,
            received,
            decided: decided_at.date_naive(),
        });
    }
    let figures = policy::compute(&decided, today);
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM processing_times")
        .execute(&mut *tx)
        .await?;
    for f in &figures {
        sqlx::query(
            "INSERT INTO processing_times (form, office, cases, p80_days, median_days, max_days, bucket_days, histogram, computed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&f.form)
        .bind(&f.office)
        .bind(f.cases as i64)
        .bind(i64::from(f.p80_days))
        .bind(i64::from(f.median_days))
        .bind(i64::from(f.max_days))
        .bind(i64::from(f.bucket_days))
        .bind(encode_histogram(&f.histogram))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(figures.len())
}

fn figure(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Figure, StoreError> {
    let p80: i64 = r.try_get("p80_days")?;
    let p80 = u32::try_from(p80).unwrap_or(0);
    Ok(Figure {
        form: r.try_get("form")?,
        office: r.try_get("office")?,
        cases: usize::try_from(r.try_get::<i64, _>("cases")?).unwrap_or(0),
        p80_days: p80,
        median_days: u32::try_from(r.try_get::<i64, _>("median_days")?).unwrap_or(0),
        max_days: u32::try_from(r.try_get::<i64, _>("max_days")?).unwrap_or(0),
        inquiry_date: policy::inquiry_date(today, p80),
        bucket_days: u32::try_from(r.try_get::<i64, _>("bucket_days")?).unwrap_or(1),
        histogram: decode_histogram(&r.try_get::<String, _>("histogram")?),
    })
}

pub async fn figure_for(
    db: &Db,
    form: &str,
    office: &str,
    today: NaiveDate,
) -> Result<Option<Figure>, StoreError> {
    let row = sqlx::query("SELECT * FROM processing_times WHERE form = $1 AND office = $2")
        .bind(form)
        .bind(office)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(|r| figure(r, today)).transpose()
}

pub async fn all(db: &Db, today: NaiveDate) -> Result<Vec<Figure>, StoreError> {
    let rows = sqlx::query("SELECT * FROM processing_times ORDER BY form, office")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| figure(r, today)).collect()
}
