//! Embedded, ordered migrations, one SQL file per engine per version.
//! Applied in a transaction each; PostgreSQL instances serialise on an
//! advisory lock, SQLite on its write lock.

use sqlx::Acquire;

use super::{Db, StoreError};
use crate::config::DbEngine;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// One migration: version, name, and the file stem under
/// `migrations/sqlite/` and `migrations/postgres/`.
macro_rules! migration {
    ($version:expr, $name:expr, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../../migrations/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../../migrations/postgres/", $file, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "foundation", "0001_foundation"),
    migration!(2, "outbox", "0002_outbox"),
    migration!(3, "access_code", "0003_access_code"),
    migration!(4, "accounts", "0004_accounts"),
    migration!(5, "applicant", "0005_applicant"),
    migration!(6, "audit_chain", "0006_audit_chain"),
    migration!(7, "officer", "0007_officer"),
    migration!(8, "status_reads", "0008_status_reads"),
    migration!(9, "status_rows", "0009_status_rows"),
    migration!(10, "change_address", "0010_change_address"),
    // Security review (issue 16): backup-code salts, keyed audit chain.
    migration!(12, "security_review", "0012_security_review"),
    // Issue 18: backup codes held until confirmed, words people understand.
    migration!(13, "plain_words", "0013_plain_words"),
    // Evidence responses built as an expiring draft (issue 18).
    migration!(14, "evidence_drafts", "0014_evidence_drafts"),
    // Connected apps (issue 19): applicant tokens and device grants.
    migration!(15, "connected_apps", "0015_connected_apps"),
    // Issue 19: webhook subscriptions and their delivery queue.
    migration!(16, "webhooks", "0016_webhooks"),
    // Issue 19: applicant tokens subscribe to webhooks for their own cases.
    migration!(17, "applicant_webhooks", "0017_applicant_webhooks"),
];

const LOCK_ID: i64 = 0x6361_7365_6761_7465; // "casegate"

/// Applies what is missing; returns how many migrations ran.
pub async fn run(db: &Db) -> Result<usize, StoreError> {
    let mut conn = db.pool().acquire().await?;
    if db.engine() == DbEngine::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(LOCK_ID)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(db.engine(), &mut conn).await;
    if db.engine() == DbEngine::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_ID)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(engine: DbEngine, conn: &mut sqlx::AnyConnection) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS casegate_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM casegate_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let mut ran = 0;
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        let sql = match engine {
            DbEngine::Sqlite => m.sqlite,
            DbEngine::Postgres => m.postgres,
        };
        let fail = |e: sqlx::Error| StoreError::Migration {
            version: m.version,
            name: m.name,
            message: e.to_string(),
        };
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query(
            "INSERT INTO casegate_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(chrono::Utc::now().timestamp())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "migration applied");
        ran += 1;
    }
    Ok(ran)
}
