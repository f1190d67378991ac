//! The database: one `sqlx::Any` pool over SQLite (default) or PostgreSQL.
//! Queries are written once, in the portable subset both engines share
//! (`$n` parameters, BIGINT unix times, ISO date text, `ON CONFLICT`,
//! `RETURNING`), and migrations differ per engine. Two SQLite fast paths
//! bypass the pool with rusqlite connections used in place: status reads
//! ([`sqlite_read`]) and the bulk-intake writer ([`batch::SqliteBatch`]).
//! The SQLite driver (rusqlite) is used only inside `src/store/`: a flow's
//! store asks [`Db`] for a fast path (`sqlite_reader`, `SqliteBatch::open`)
//! and gets `None` on PostgreSQL, where its portable query runs instead.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::config::DbEngine;

pub mod batch;
pub mod migrate;
pub mod sqlite_read;

pub use sqlite_read::SqliteReader;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Read(#[from] rusqlite::Error),
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        version: i64,
        name: &'static str,
        message: String,
    },
    /// The audit log was written or checked before its key was set.
    #[error("the audit chain's key is not set")]
    AuditKeyMissing,
}

impl StoreError {
    /// Whether the failure means the database cannot be reached right now.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Query(e) => is_unavailable(e),
            StoreError::Read(e) => sqlite_read::is_unavailable(e),
            StoreError::Migration { .. } | StoreError::AuditKeyMissing => false,
        }
    }
}

pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // The server (or something in between) answered with nothing or
        // garbage, e.g. a connection closed during the start-up handshake.
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| unavailable_code(&c)),
        _ => false,
    }
}

/// Database error codes that mean "cannot serve this right now" rather than a
/// bug: PostgreSQL SQLSTATEs (always five characters) of a lost connection, a
/// server shutting down or out of connections; SQLite result codes (numbers,
/// possibly extended) of a lock held past the busy timeout, or a file that
/// cannot be opened or read.
fn unavailable_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08")
            || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "53100");
    }
    // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10, SQLITE_CANTOPEN 14,
    // each also with its extended codes (primary code in the low byte).
    code.parse::<u32>()
        .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 14))
}

/// Pool settings of [`Db::connect_with`].
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_connections: u32,
    /// How long a query waits for a connection before failing with
    /// [`sqlx::Error::PoolTimedOut`] (an "unavailable" error).
    pub acquire_timeout: Duration,
    /// SQLite only: how long a write waits for another writer's lock.
    pub busy_timeout: Duration,
}

impl PoolOptions {
    /// The defaults of the configuration with `max` connections.
    pub fn with_max(max: u32) -> PoolOptions {
        PoolOptions {
            max_connections: max,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(15),
        }
    }

    /// The pool settings of casegate's configuration.
    pub fn from_config(c: &crate::config::Config) -> PoolOptions {
        PoolOptions {
            max_connections: c.db_max_connections,
            acquire_timeout: Duration::from_millis(c.db_acquire_timeout_ms),
            busy_timeout: Duration::from_millis(c.db_busy_timeout_ms),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: DbEngine,
    /// SQLite file databases only: in-place reads for the hottest lookups.
    reader: Option<std::sync::Arc<SqliteReader>>,
    /// SQLite only: how long a write waits for another writer's lock.
    busy_timeout: Duration,
    /// The key of the audit chain, set once from the master key and shared
    /// by every clone of this handle; appending to the audit log without it
    /// fails (closed).
    audit_key: std::sync::Arc<std::sync::OnceLock<AuditKey>>,
}

/// The settings of every SQLite connection that writes (the pool's, and the
/// bulk intake's own, which adds a larger cache). journal_size_limit: after a
/// checkpoint the log is cut back to 64 MiB instead of keeping its high-water
/// size (bench/soak saw 120 MiB of log beside a 30 MiB database).
fn sqlite_write_pragmas(busy: Duration) -> String {
    format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
         PRAGMA foreign_keys=ON; PRAGMA busy_timeout={}; \
         PRAGMA cache_size=-2000; PRAGMA temp_store=MEMORY; \
         PRAGMA journal_size_limit=67108864;",
        busy.as_millis()
    )
}

impl Db {
    /// Connects with the default timeouts and `max` connections.
    pub async fn connect(url: &str, engine: DbEngine, max: u32) -> Result<Db, StoreError> {
        Self::connect_with(url, engine, PoolOptions::with_max(max)).await
    }

    /// Connects with the pool settings of casegate's configuration.
    pub async fn from_config(c: &crate::config::Config) -> Result<Db, StoreError> {
        Self::connect_with(&c.database_url, c.engine, PoolOptions::from_config(c)).await
    }

    pub async fn connect_with(
        url: &str,
        engine: DbEngine,
        opts: PoolOptions,
    ) -> Result<Db, StoreError> {
        install_default_drivers();
        let url = match engine {
            DbEngine::Sqlite => sqlite_url(url),
            DbEngine::Postgres => url.to_string(),
        };
        let reader = match engine {
            DbEngine::Sqlite => {
                sqlite_file(&url).map(|p| std::sync::Arc::new(SqliteReader::new(&p)))
            }
            DbEngine::Postgres => None,
        };
        let is_sqlite = engine == DbEngine::Sqlite;
        let pragmas = sqlite_write_pragmas(opts.busy_timeout);
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .min_connections(if is_sqlite { 1 } else { 0 })
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(move |conn, _meta| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    if is_sqlite {
                        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas)))
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Db {
            pool,
            engine,
            reader,
            busy_timeout: opts.busy_timeout,
            audit_key: Default::default(),
        })
    }

    /// Attaches the audit chain's key (derived from the master key) to this
    /// handle and its clones. The first key set stays.
    pub fn set_audit_key(&self, key: [u8; 32]) {
        let _ = self.audit_key.set(AuditKey(key));
    }

    /// The audit chain's key, once set.
    pub fn audit_key(&self) -> Option<&AuditKey> {
        self.audit_key.get()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> DbEngine {
        self.engine
    }

    /// The in-place SQLite reader, when the database is a SQLite file.
    pub fn sqlite_reader(&self) -> Option<&SqliteReader> {
        self.reader.as_deref()
    }

    /// A connection of its own to the SQLite file (none on PostgreSQL or an
    /// in-memory database), with the pool's write settings then `extra`.
    pub fn sqlite_writer(&self, extra: &str) -> Result<Option<rusqlite::Connection>, StoreError> {
        let Some(reader) = self.sqlite_reader() else {
            return Ok(None);
        };
        let conn = rusqlite::Connection::open(reader.path())?;
        conn.execute_batch(&sqlite_write_pragmas(self.busy_timeout))?;
        conn.execute_batch(extra)?;
        Ok(Some(conn))
    }

    /// Largest number of bind parameters one statement may carry.
    pub fn max_params(&self) -> usize {
        match self.engine {
            DbEngine::Sqlite => 32_000,
            DbEngine::Postgres => 65_000,
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn migrate(&self) -> Result<usize, StoreError> {
        migrate::run(self).await
    }

    /// Pool gauges for metrics: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        if let Some(r) = &self.reader {
            r.close();
        }
        self.pool.close().await;
    }
}

/// The file behind a `sqlite://` URL (none for in-memory databases).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let file = path.split_once('?').map_or(path, |(f, _)| f);
    if file.is_empty() || file.contains(":memory:") || url.contains("mode=memory") {
        None
    } else {
        Some(std::path::PathBuf::from(file))
    }
}

/// Makes sure SQLite creates the file and its folder exists.
fn sqlite_url(url: &str) -> String {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (file, query) = path.split_once('?').unwrap_or((path, ""));
    if let Some(parent) = std::path::Path::new(file).parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("sqlite://{file}?mode=rwc")
    } else {
        format!("sqlite://{file}?{query}&mode=rwc")
    }
}

/// How parameters are written. PostgreSQL needs `$n`. SQLite takes `$n` and
/// `?n` too, but keeps every named or numbered parameter in a list that it
/// searches linearly — when parsing, and again per parameter when sqlx asks
/// for its name — which is quadratic over a statement with thousands of
/// parameters. Anonymous `?` are never listed, so bulk statements use them on
/// SQLite. (`sqlx::QueryBuilder` cannot replace the builders below: over the
/// `Any` driver it always writes `?`, which PostgreSQL refuses.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    Dollar,
    Question,
}

impl Db {
    pub fn param_style(&self) -> ParamStyle {
        match self.engine {
            DbEngine::Sqlite => ParamStyle::Question,
            DbEngine::Postgres => ParamStyle::Dollar,
        }
    }
}

fn push_param(s: &mut String, style: ParamStyle, n: usize) {
    match style {
        ParamStyle::Dollar => {
            s.push('$');
            s.push_str(&n.to_string());
        }
        // Positional: parameters must be bound in order of appearance.
        ParamStyle::Question => s.push('?'),
    }
}

/// Builds `($1,$2,$3),($4,$5,$6)…` (or `(?,?,?),…` on SQLite) for a multi-row insert.
pub fn values_placeholders_styled(style: ParamStyle, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 7);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            push_param(&mut s, style, n);
            n += 1;
        }
        s.push(')');
    }
    s
}

/// `$from,…` (or `?from,…` on SQLite), `n` parameters.
pub fn list_placeholders_styled(style: ParamStyle, from: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 7);
    for i in from..from + n {
        if i > from {
            s.push(',');
        }
        push_param(&mut s, style, i);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            values_placeholders_styled(ParamStyle::Dollar, 2, 3),
            "($1,$2,$3),($4,$5,$6)"
        );
        assert_eq!(list_placeholders_styled(ParamStyle::Dollar, 3, 2), "$3,$4");
        assert_eq!(
            values_placeholders_styled(ParamStyle::Question, 2, 2),
            "(?,?),(?,?)"
        );
        assert_eq!(
            list_placeholders_styled(ParamStyle::Question, 2, 3),
            "?,?,?"
        );
    }

    #[test]
    fn lost_connections_and_held_locks_are_unavailable() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "5", "517", "6", "262", "14",
        ] {
            assert!(unavailable_code(code), "{code}");
        }
        // Constraint violations, syntax errors, a cancelled statement.
        for code in ["23505", "42601", "57014", "19", "2067", "1"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn sqlite_urls_create_files() {
        assert_eq!(
            sqlite_url("sqlite:///tmp/x.db"),
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite:///tmp/x.db?cache=shared"),
            "sqlite:///tmp/x.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite:///tmp/x.db?mode=ro"),
            "sqlite:///tmp/x.db?mode=ro"
        );
    }
}

/// SQL for `ReceiptNumber::key` of a canonical receipt column (the letters in
/// base 26, then the ten digits): the integer key of `status_rows`. The same
/// expression is written out in migrations/sqlite/0009_status_rows.sql.
macro_rules! receipt_key_sql {
    ($col:literal) => {
        concat!(
            "((unicode(substr(",
            $col,
            ", 1, 1)) - 65) * 676 + (unicode(substr(",
            $col,
            ", 2, 1)) - 65) * 26 + (unicode(substr(",
            $col,
            ", 3, 1)) - 65)) * 10000000000 + CAST(substr(",
            $col,
            ", 4, 10) AS INTEGER)"
        )
    };
}
pub(crate) use receipt_key_sql;

#[cfg(test)]
mod receipt_key_tests {
    use crate::domain::{Office, ReceiptNumber};

    #[test]
    fn the_sql_key_is_the_rust_key() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let sql = concat!("SELECT ", receipt_key_sql!("?1"));
        let mut stmt = conn.prepare(sql).unwrap();
        for (i, office) in Office::ALL.into_iter().enumerate() {
            for (fy, wd, seq) in [(0, 0, 0), (24, 900, 12_345), (99, 999, 99_999), (25, 1, 1)] {
                let r = ReceiptNumber::new(office, fy, (wd + i as u16) % 1000, seq).unwrap();
                let sql_key: i64 = stmt.query_row([r.as_str()], |row| row.get(0)).unwrap();
                assert_eq!(sql_key, r.key(), "{r}");
            }
        }
    }
}

/// The audit chain's key (derived from the master key by `secrets`), carried
/// by the database handle so every append is keyed; `Debug` is redacted.
#[derive(Clone)]
pub struct AuditKey(pub [u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}
