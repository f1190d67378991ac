//! Multi-row writes inside one transaction, for bulk work (intake). Two
//! drivers implement [`BatchTx`]: [`SqlxBatch`] (a transaction of the pool:
//! the server, and the command line on PostgreSQL) and [`SqliteBatch`] (one
//! SQLite connection used in place by the command line, which skips sqlx's
//! hand-off of every row between threads). Callers write their statements
//! once against the trait; the choice of driver stays in this module.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, ParamStyle, StoreError, list_placeholders_styled, values_placeholders_styled};
use crate::store::receipt_key_sql;

/// A value bound into, or read back from, a batch statement.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
    Bytes(Vec<u8>),
    MaybeBytes(Option<Vec<u8>>),
}

/// The type of a column read back (`SELECT` or `RETURNING`).
#[derive(Debug, Clone, Copy)]
pub enum ColumnType {
    Int,
    MaybeInt,
    Text,
    MaybeText,
    Bytes,
}

impl Value {
    /// The integer, if this is a present integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(x) | Value::MaybeInt(Some(x)) => Some(*x),
            _ => None,
        }
    }

    /// The text, if this is present text.
    pub fn into_text(self) -> Option<String> {
        match self {
            Value::Text(x) | Value::MaybeText(Some(x)) => Some(x),
            _ => None,
        }
    }

    /// The bytes, if these are present bytes.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(x) | Value::MaybeBytes(Some(x)) => Some(x),
            _ => None,
        }
    }
}

/// The error for a row that does not have the shape its statement promised.
pub fn malformed(what: &str) -> StoreError {
    StoreError::Query(sqlx::Error::Decode(format!("unexpected {what}").into()))
}

/// What a bulk writer needs from an open transaction.
pub trait BatchTx {
    /// `head (k)` for every key (`head` ends in `IN`), rows decoded by `shape`.
    fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[ColumnType],
    ) -> impl Future<Output = Result<Vec<Vec<Value>>, StoreError>> + Send;

    /// `head VALUES (…) tail` for every row; the `RETURNING` rows (if `tail`
    /// has one) decoded by `shape`.
    fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Value>>,
        tail: &str,
        shape: &[ColumnType],
    ) -> impl Future<Output = Result<Vec<Vec<Value>>, StoreError>> + Send;
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind(q: AnyQuery<'_>, v: Value) -> AnyQuery<'_> {
    match v {
        Value::Int(x) => q.bind(x),
        Value::MaybeInt(x) => q.bind(x),
        Value::Text(x) => q.bind(x),
        Value::MaybeText(x) => q.bind(x),
        Value::Bytes(x) => q.bind(x),
        Value::MaybeBytes(x) => q.bind(x),
    }
}

fn decode_any(r: &AnyRow, shape: &[ColumnType]) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, k) in shape.iter().enumerate() {
        out.push(match k {
            ColumnType::Int => Value::Int(r.try_get(i)?),
            ColumnType::MaybeInt => Value::MaybeInt(r.try_get(i)?),
            ColumnType::Text => Value::Text(r.try_get(i)?),
            ColumnType::MaybeText => Value::MaybeText(r.try_get(i)?),
            ColumnType::Bytes => Value::Bytes(r.try_get(i)?),
        });
    }
    Ok(out)
}

/// A sqlx transaction: multi-row statements, split to respect the engine's
/// parameter limit.
pub struct SqlxBatch<'t, 'c> {
    tx: &'t mut Transaction<'c, Any>,
    style: ParamStyle,
    max_params: usize,
}

impl<'t, 'c> SqlxBatch<'t, 'c> {
    /// Batch statements inside `tx`, a transaction of `db`'s pool.
    pub fn new(db: &Db, tx: &'t mut Transaction<'c, Any>) -> SqlxBatch<'t, 'c> {
        SqlxBatch {
            tx,
            style: db.param_style(),
            max_params: db.max_params(),
        }
    }
}

impl BatchTx for SqlxBatch<'_, '_> {
    async fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(self.max_params.min(10_000)) {
            let sql = format!(
                "{head} ({})",
                list_placeholders_styled(self.style, 1, chunk.len())
            );
            // Built only from constant text and numbered placeholders.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&mut **self.tx).await? {
                out.push(decode_any(&r, shape)?);
            }
        }
        Ok(out)
    }

    async fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Value>>,
        tail: &str,
        shape: &[ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let per = (self.max_params / cols).max(1);
        let mut out = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(per).collect();
            let sql = format!(
                "{head} VALUES {} {tail}",
                values_placeholders_styled(self.style, chunk.len(), cols)
            );
            // Built only from constant text and numbered placeholders.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = bind(q, v);
                }
            }
            if shape.is_empty() {
                q.execute(&mut **self.tx).await?;
            } else {
                for r in q.fetch_all(&mut **self.tx).await? {
                    out.push(decode_any(&r, shape)?);
                }
            }
        }
        Ok(out)
    }
}

/// One SQLite connection used in place (the command-line intake on SQLite):
/// single-row prepared statements, no thread hand-off.
pub struct SqliteBatch {
    conn: rusqlite::Connection,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(x) | Value::MaybeInt(Some(x)) => {
                ToSqlOutput::Borrowed(ValueRef::Integer(*x))
            }
            Value::Text(x) | Value::MaybeText(Some(x)) => {
                ToSqlOutput::Borrowed(ValueRef::Text(x.as_bytes()))
            }
            Value::Bytes(x) | Value::MaybeBytes(Some(x)) => {
                ToSqlOutput::Borrowed(ValueRef::Blob(x))
            }
            Value::MaybeInt(None) | Value::MaybeText(None) | Value::MaybeBytes(None) => {
                ToSqlOutput::Borrowed(ValueRef::Null)
            }
        })
    }
}

fn decode_sqlite(r: &rusqlite::Row<'_>, shape: &[ColumnType]) -> rusqlite::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, k) in shape.iter().enumerate() {
        out.push(match k {
            ColumnType::Int => Value::Int(r.get(i)?),
            ColumnType::MaybeInt => Value::MaybeInt(r.get(i)?),
            ColumnType::Text => Value::Text(r.get(i)?),
            ColumnType::MaybeText => Value::MaybeText(r.get(i)?),
            ColumnType::Bytes => Value::Bytes(r.get(i)?),
        });
    }
    Ok(out)
}

/// `status_rows` for the cases with ids in `?1..=?2` (see migration 0009).
const FILL_STATUS_ROWS_SQL: &str = concat!(
    "INSERT INTO status_rows (receipt_key, receipt_number, form, office, received_date, status, \
     status_at, created_at, protected, history) SELECT ",
    receipt_key_sql!("c.receipt_number"),
    ", c.receipt_number, c.form, c.office, c.received_date, c.status, c.status_at, \
     c.created_at, p.protected, \
     COALESCE((SELECT group_concat(h.status || ':' || h.at || ':' || h.id, ',') \
               FROM case_history h WHERE h.case_id = c.id), '') \
     FROM cases c JOIN persons p ON p.id = c.person_id \
     WHERE c.id BETWEEN ?1 AND ?2 ORDER BY 1"
);

impl SqliteBatch {
    /// Its own connection to the database file (`None` unless SQLite),
    /// with the pool's settings plus a bulk writer's: a 128 MiB page cache
    /// keeps the unique indexes' pages hot across batches once they outgrow
    /// the server's 2 MB per connection, and a checkpoint every 64 MiB of
    /// log rather than 4 MiB rewrites each hot page less often.
    pub fn open(db: &Db) -> Result<Option<SqliteBatch>, StoreError> {
        let Some(conn) =
            db.sqlite_writer("PRAGMA cache_size=-131072; PRAGMA wal_autocheckpoint=16384;")?
        else {
            return Ok(None);
        };
        conn.set_prepared_statement_cache_capacity(32);
        // The public status table's triggers (migration 0009) make SQLite
        // set up a trigger program per row; this connection fills the table
        // itself instead, once per batch and in receipt order
        // ([`SqliteBatch::fill_status_rows`]).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
            false,
        )?;
        Ok(Some(SqliteBatch { conn }))
    }

    /// Opens a write transaction (taking the write lock at once).
    pub fn begin(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commits the transaction [`SqliteBatch::begin`] opened.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Rolls the transaction back. The caller's error is what matters; a
    /// failed rollback leaves nothing committed either.
    pub fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Writes the `status_rows` of the cases with ids `first..=last` (one
    /// range: the transaction holds the write lock), sorted by key so the
    /// table's pages are visited in order; the same rows the triggers would
    /// have built (`tests/intake.rs` checks both agree). Returns how many.
    pub fn fill_status_rows(&self, first: i64, last: i64) -> Result<usize, StoreError> {
        let mut stmt = self.conn.prepare_cached(FILL_STATUS_ROWS_SQL)?;
        Ok(stmt.execute([first, last])?)
    }
}

impl BatchTx for SqliteBatch {
    async fn select_in(
        &mut self,
        head: &str,
        keys: &[String],
        shape: &[ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("{head} (?1)"))?;
        let mut out = Vec::new();
        for k in keys {
            let mut rows = stmt.query([k.as_str()])?;
            while let Some(r) = rows.next()? {
                out.push(decode_sqlite(r, shape)?);
            }
        }
        Ok(out)
    }

    async fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        rows: Vec<Vec<Value>>,
        tail: &str,
        shape: &[ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let sql = format!(
            "{head} VALUES ({}) {tail}",
            list_placeholders_styled(ParamStyle::Question, 1, cols)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        for row in &rows {
            let params = rusqlite::params_from_iter(row.iter());
            if shape.is_empty() {
                stmt.execute(params)?;
            } else {
                let mut got = stmt.query(params)?;
                while let Some(r) = got.next()? {
                    out.push(decode_sqlite(r, shape)?);
                }
            }
        }
        Ok(out)
    }
}
