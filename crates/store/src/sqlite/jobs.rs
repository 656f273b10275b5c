//! The jobs queue. A worker claims the oldest due job by taking its lease; a lease that runs
//! out (its worker died) makes the job claimable again. With SQLite one process runs every
//! worker, so at start it may release all leases at once and resume at once.

use functiond_types::Timestamp;
use functiond_types::job::{Job, NewJob};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use crate::Result;

/// Adds a job inside a caller's transaction. A job whose dedupe key is already pending is
/// silently dropped: it is already queued.
pub(super) async fn insert(tx: &mut Transaction<'_, Sqlite>, job: &NewJob) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, dedupe_key) VALUES (?, ?, ?, ?)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.run_at.millis())
    .bind(&job.dedupe_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds the queued jobs to a caller's transaction and commits it: the change and the work it
/// needs land together or not at all.
pub(super) async fn commit_with(mut tx: Transaction<'_, Sqlite>, queued: &[NewJob]) -> Result<()> {
    insert_all(&mut tx, queued).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds every job of `queued` inside a caller's transaction.
pub(super) async fn insert_all(tx: &mut Transaction<'_, Sqlite>, queued: &[NewJob]) -> Result<()> {
    for job in queued {
        insert(tx, job).await?;
    }
    Ok(())
}

pub(super) async fn enqueue(pool: &SqlitePool, job: &NewJob) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    insert(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn claim(
    pool: &SqlitePool,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Job>> {
    let row = sqlx::query(
        "UPDATE jobs SET locked_by = ?, lease_until = ?, attempts = attempts + 1
         WHERE id = (
            SELECT id FROM jobs
            WHERE run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
            ORDER BY run_at, id LIMIT 1
         )
         RETURNING id, kind, payload, attempts",
    )
    .bind(worker)
    .bind(lease_until.millis())
    .bind(now.millis())
    .bind(now.millis())
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            payload: row.try_get("payload")?,
            attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        })
    })
    .transpose()
}

/// Extends a held lease; false when the worker no longer holds it.
pub(super) async fn renew(
    pool: &SqlitePool,
    id: i64,
    worker: &str,
    until: Timestamp,
) -> Result<bool> {
    let done = sqlx::query("UPDATE jobs SET lease_until = ? WHERE id = ? AND locked_by = ?")
        .bind(until.millis())
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn finish(pool: &SqlitePool, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn retry(pool: &SqlitePool, id: i64, run_at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE jobs SET run_at = ?, locked_by = NULL, lease_until = NULL WHERE id = ?")
        .bind(run_at.millis())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn release_leases(pool: &SqlitePool) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET locked_by = NULL, lease_until = NULL WHERE lease_until IS NOT NULL",
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn count(pool: &SqlitePool) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(pool)
        .await?;
    Ok(count.unsigned_abs())
}
