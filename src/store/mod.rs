//! The database: one `sqlx::Any` pool over SQLite (default) or PostgreSQL.
//! All SQL is written once, in the portable subset both engines share
//! (`$n` parameters, BIGINT unix times, ISO date text, `ON CONFLICT`,
//! `RETURNING`); only migrations differ per engine.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::config::DbEngine;

pub mod migrate;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        version: i64,
        name: &'static str,
        message: String,
    },
}

impl StoreError {
    /// Whether the failure means the database cannot be reached right now.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Query(e) => is_unavailable(e),
            StoreError::Migration { .. } => false,
        }
    }
}

pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    )
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: DbEngine,
}

impl Db {
    pub async fn connect(url: &str, engine: DbEngine, max: u32) -> Result<Db, StoreError> {
        install_default_drivers();
        let url = match engine {
            DbEngine::Sqlite => sqlite_url(url),
            DbEngine::Postgres => url.to_string(),
        };
        let is_sqlite = engine == DbEngine::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(if is_sqlite { 1 } else { 0 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if is_sqlite {
                        conn.execute(sqlx::raw_sql(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                             PRAGMA foreign_keys=ON; PRAGMA busy_timeout=15000; \
                             PRAGMA cache_size=-2000; PRAGMA temp_store=MEMORY;",
                        ))
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Db { pool, engine })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> DbEngine {
        self.engine
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
        self.pool.close().await;
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
/// parameters (1.8 s for one 32,000-parameter insert). Anonymous `?` are
/// never listed, so bulk statements use them on SQLite.
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

/// Builds `($1,$2,$3),($4,$5,$6)…` for a multi-row insert.
pub fn values_placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
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
            s.push('$');
            s.push_str(&n.to_string());
            n += 1;
        }
        s.push(')');
    }
    s
}

/// `$1,$2,…,$n` starting at `from`.
pub fn list_placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(values_placeholders(2, 3), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(list_placeholders(3, 2), "$3,$4");
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
