//! A synchronous read path for SQLite's hottest point reads.
//!
//! sqlx runs every SQLite connection on its own worker thread and hands each
//! statement and row across channels; for a point read over an index that
//! hand-off costs several times the read itself (the README's "Performance"
//! section has the figures). The public status page and the Case Status
//! API are the busiest reads the service has, so on SQLite they read through
//! a small pool of read-only connections used directly on the calling thread.
//! Writes never go through here; PostgreSQL keeps the sqlx pool.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Idle connections kept; more are opened under a burst and then dropped.
const MAX_IDLE: usize = 8;
/// A reader waits at most this long for a lock (WAL readers rarely wait).
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader").finish_non_exhaustive()
    }
}

impl SqliteReader {
    /// A reader over the database file at `path` (which must already exist).
    pub fn new(path: &Path) -> SqliteReader {
        SqliteReader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA cache_size=-2000; PRAGMA query_only=ON;")?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Runs `f` on an idle connection (opening one if none is idle).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the database is closed".into()));
        }
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        let healthy = match &out {
            Ok(_) => true,
            Err(e) => !is_unavailable(e),
        };
        if healthy && !self.closed.load(Ordering::Acquire) {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        Ok(out?)
    }
}

/// One row of `status_rows` (migration 0009): a case's public status with its
/// history packed as `status:at:id` entries joined by ','.
pub struct StatusRow {
    pub form: String,
    pub office: String,
    pub received: String,
    pub status: String,
    pub status_at: i64,
    pub created_at: i64,
    pub protected: i64,
    pub history: String,
}

/// One B-tree leaf per lookup: `status_rows` is kept in step with cases,
/// persons and history by triggers.
const STATUS_ROW_SQL: &str = "SELECT form, office, received_date, status, status_at, created_at, \
            protected, history FROM status_rows WHERE receipt_key = ?1 AND receipt_number = ?2";

impl SqliteReader {
    /// The status row of `receipt` (`key` is `ReceiptNumber::key`), if any.
    pub fn status_row(&self, key: i64, receipt: &str) -> Result<Option<StatusRow>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(STATUS_ROW_SQL)?;
            let mut rows = stmt.query(rusqlite::params![key, receipt])?;
            let Some(r) = rows.next()? else {
                return Ok(None);
            };
            Ok(Some(StatusRow {
                form: r.get(0)?,
                office: r.get(1)?,
                received: r.get(2)?,
                status: r.get(3)?,
                status_at: r.get(4)?,
                created_at: r.get(5)?,
                protected: r.get(6)?,
                history: r.get(7)?,
            }))
        })
    }
}

impl SqliteReader {
    /// Refuses further reads and closes the idle connections (with the pool).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Process-wide SQLite settings, applied once before SQLite is first used
/// (from `cli::main`, before any connection opens).
///
/// Turns off SQLite's memory statistics: with them on, every allocation
/// inside SQLite takes one global mutex, which serialised the in-place
/// readers on different threads and slowed the bulk writer.
pub fn configure_process() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before sqlite3_initialize (no
        // connection exists yet; `Once` keeps it to one call); with any other
        // timing it only returns SQLITE_MISUSE and changes nothing.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(
                rc,
                "SQLite was already initialised; memory statistics stay on"
            );
        }
    });
}

/// Whether a SQLite error means "cannot read right now" rather than a bug.
pub fn is_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode;
    matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
        )
    )
}
