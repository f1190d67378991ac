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

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "outbox",
        sqlite: include_str!("../../migrations/sqlite/0002_outbox.sql"),
        postgres: include_str!("../../migrations/postgres/0002_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "access_code",
        sqlite: include_str!("../../migrations/sqlite/0003_access_code.sql"),
        postgres: include_str!("../../migrations/postgres/0003_access_code.sql"),
    },
    Migration {
        version: 4,
        name: "accounts",
        sqlite: include_str!("../../migrations/sqlite/0004_accounts.sql"),
        postgres: include_str!("../../migrations/postgres/0004_accounts.sql"),
    },
    Migration {
        version: 5,
        name: "applicant",
        sqlite: include_str!("../../migrations/sqlite/0005_applicant.sql"),
        postgres: include_str!("../../migrations/postgres/0005_applicant.sql"),
    },
    Migration {
        version: 6,
        name: "audit_chain",
        sqlite: include_str!("../../migrations/sqlite/0006_audit_chain.sql"),
        postgres: include_str!("../../migrations/postgres/0006_audit_chain.sql"),
    },
    Migration {
        version: 7,
        name: "officer",
        sqlite: include_str!("../../migrations/sqlite/0007_officer.sql"),
        postgres: include_str!("../../migrations/postgres/0007_officer.sql"),
    },
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
