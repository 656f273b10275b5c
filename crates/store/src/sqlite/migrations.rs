//! Numbered, forward-only migrations, embedded in the binary. Each runs in its own
//! transaction together with the row that records it, so a crash never half-applies one.

use sqlx::SqlitePool;

use crate::{Result, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_deployments_executions_jobs.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_rate_limits.sql"),
    ),
];

pub(super) async fn apply(pool: &SqlitePool) -> Result<usize> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )
    .execute(pool)
    .await?;
    let mut applied = 0;
    for (version, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        // writes gets SQLITE_BUSY at once (no busy wait) when another process migrates too.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        let failed = |source| StoreError::Migration {
            version: *version,
            source,
        };
        sqlx::raw_sql(*sql)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
            .bind(version)
            .bind(functiond_types::Timestamp::now().millis())
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(migration.version = version, "applied database migration");
        applied += 1;
    }
    Ok(applied)
}
