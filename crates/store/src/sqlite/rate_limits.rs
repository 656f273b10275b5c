//! Rate-limit counters: hits per project, key and fixed window.

use functiond_types::Timestamp;
use functiond_types::id::ProjectId;
use sqlx::SqlitePool;

use crate::Result;

/// Counts a hit unless `limit` are already counted, in one statement: the upsert's `WHERE`
/// leaves a full window untouched and then returns no row, so two servers racing on the same
/// key can never both take the last hit.
pub(super) async fn hit(
    pool: &SqlitePool,
    project: &ProjectId,
    key: &str,
    window: Timestamp,
    limit: u64,
) -> Result<Option<u64>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if limit == 0 {
        return Ok(None);
    }
    let hits: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rate_limits (project_id, key, window_start, hits) VALUES (?, ?, ?, 1)
         ON CONFLICT (project_id, key, window_start) DO UPDATE SET hits = hits + 1
         WHERE hits < ?
         RETURNING hits",
    )
    .bind(project.as_str())
    .bind(key)
    .bind(window.millis())
    .bind(limit)
    .fetch_optional(pool)
    .await?;
    Ok(hits.map(i64::unsigned_abs))
}

pub(super) async fn hits(
    pool: &SqlitePool,
    project: &ProjectId,
    key: &str,
    window: Timestamp,
) -> Result<u64> {
    let hits: Option<i64> = sqlx::query_scalar(
        "SELECT hits FROM rate_limits WHERE project_id = ? AND key = ? AND window_start = ?",
    )
    .bind(project.as_str())
    .bind(key)
    .bind(window.millis())
    .fetch_optional(pool)
    .await?;
    Ok(hits.unwrap_or(0).unsigned_abs())
}

pub(super) async fn prune(pool: &SqlitePool, before: Timestamp) -> Result<u64> {
    let done = sqlx::query("DELETE FROM rate_limits WHERE window_start < ?")
        .bind(before.millis())
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
