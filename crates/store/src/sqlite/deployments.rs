//! Deployments and their builds.

use functiond_types::Timestamp;
use functiond_types::deployment::{Build, BuildStatus, Deployment, DeploymentWithBuild};
use functiond_types::id::{BuildId, DeploymentId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::query::ListQuery;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::conflict_as;
use super::jobs;
use super::list::{self, Table, col};
use super::projects::parse_id;
use crate::{Page, Result, StoreError, search};

const SELECT: &str = "d.function_id, d.id, d.created_at, d.updated_at, d.entrypoint, d.size, \
     d.build_id, d.activate, d.chunks_total, d.chunks_uploaded, \
     b.id AS b_id, b.created_at AS b_created_at, b.updated_at AS b_updated_at, b.status AS b_status, \
     b.stdout AS b_stdout, b.stderr AS b_stderr, b.duration AS b_duration";

/// Deployments joined with their current build.
const FROM: &str = "deployments d LEFT JOIN builds b \
     ON b.project_id = d.project_id AND b.id = d.build_id";

pub(super) const TABLE: Table = Table {
    name: FROM,
    select: SELECT,
    columns: &[
        col("$id", "d.id"),
        col("$createdAt", "d.created_at"),
        col("$updatedAt", "d.updated_at"),
        col("entrypoint", "d.entrypoint"),
        col("size", "d.size"),
        col("buildId", "d.build_id"),
        col("activate", "d.activate"),
    ],
    prefix: "d.",
};

pub(super) async fn create(
    pool: &SqlitePool,
    project: &ProjectId,
    d: &Deployment,
    queued: &[NewJob],
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO deployments (project_id, function_id, id, created_at, updated_at, entrypoint,
            size, build_id, activate, chunks_total, chunks_uploaded, search)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(project.as_str())
    .bind(d.function_id.as_str())
    .bind(d.id.as_str())
    .bind(d.created_at.millis())
    .bind(d.updated_at.millis())
    .bind(&d.entrypoint)
    .bind(as_i64(d.size))
    .bind(d.build_id.as_ref().map(BuildId::as_str).unwrap_or_default())
    .bind(d.activate)
    .bind(as_i64(d.chunks_total))
    .bind(as_i64(d.chunks_uploaded))
    .bind(search::index_text(&d.search_text()))
    .execute(&mut *tx)
    .await
    .map_err(conflict_as("deployment"))?;
    jobs::commit_with(tx, queued).await?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    project: &ProjectId,
    id: &DeploymentId,
) -> Result<Option<DeploymentWithBuild>> {
    let sql = format!("SELECT {SELECT} FROM {FROM} WHERE d.project_id = ? AND d.id = ?");
    // Built from constants only; every value is a bound parameter.
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(project.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

async fn write(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    d: &Deployment,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE deployments SET updated_at = ?, entrypoint = ?, size = ?, build_id = ?,
            activate = ?, chunks_total = ?, chunks_uploaded = ?
         WHERE project_id = ? AND id = ?",
    )
    .bind(d.updated_at.millis())
    .bind(&d.entrypoint)
    .bind(as_i64(d.size))
    .bind(d.build_id.as_ref().map(BuildId::as_str).unwrap_or_default())
    .bind(d.activate)
    .bind(as_i64(d.chunks_total))
    .bind(as_i64(d.chunks_uploaded))
    .bind(project.as_str())
    .bind(d.id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn update(
    pool: &SqlitePool,
    project: &ProjectId,
    d: &Deployment,
    queued: &[NewJob],
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if !write(&mut tx, project, d).await? {
        return Ok(false);
    }
    jobs::commit_with(tx, queued).await?;
    Ok(true)
}

/// Records a finished upload: the deployment's final state, the end of `activate` on its
/// siblings when it asks for activation, and the queued build, all at once.
pub(super) async fn complete_upload(
    pool: &SqlitePool,
    project: &ProjectId,
    d: &Deployment,
    queued: &[NewJob],
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if !write(&mut tx, project, d).await? {
        return Ok(false);
    }
    if d.activate {
        sqlx::query(
            "UPDATE deployments SET activate = 0
             WHERE project_id = ? AND function_id = ? AND id != ? AND activate = 1",
        )
        .bind(project.as_str())
        .bind(d.function_id.as_str())
        .bind(d.id.as_str())
        .execute(&mut *tx)
        .await?;
    }
    jobs::commit_with(tx, queued).await?;
    Ok(true)
}

/// Deletes a deployment with its builds; the function's `deployment` is reset when it was the
/// active one. Returns the deleted deployment.
pub(super) async fn delete(
    pool: &SqlitePool,
    project: &ProjectId,
    id: &DeploymentId,
    queued: &[NewJob],
) -> Result<Option<Deployment>> {
    let Some(found) = get(pool, project, id).await? else {
        return Ok(None);
    };
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM deployments WHERE project_id = ? AND id = ?")
        .bind(project.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE functions SET deployment = '', updated_at = ?
         WHERE project_id = ? AND id = ? AND deployment = ?",
    )
    .bind(Timestamp::now().millis())
    .bind(project.as_str())
    .bind(found.deployment.function_id.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    jobs::commit_with(tx, queued).await?;
    Ok(Some(found.deployment))
}

pub(super) async fn list(
    pool: &SqlitePool,
    project: &ProjectId,
    function: &FunctionId,
    query: &ListQuery,
) -> Result<Page<DeploymentWithBuild>> {
    let scope = [
        ("d.project_id", project.as_str()),
        ("d.function_id", function.as_str()),
    ];
    let (total, rows) = list::page(pool, &TABLE, &scope, query).await?;
    let items = rows.iter().map(from_row).collect::<Result<_>>()?;
    Ok(Page { total, items })
}

/// Saves a build (new or retried) as the deployment's current one, with its queued jobs.
pub(super) async fn save_build(
    pool: &SqlitePool,
    project: &ProjectId,
    build: &Build,
    queued: &[NewJob],
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    write_build(&mut tx, project, build).await?;
    sqlx::query("UPDATE deployments SET build_id = ? WHERE project_id = ? AND id = ?")
        .bind(build.id.as_str())
        .bind(project.as_str())
        .bind(build.deployment_id.as_str())
        .execute(&mut *tx)
        .await?;
    jobs::commit_with(tx, queued).await?;
    Ok(())
}

/// Records a build's result; `activate` also makes the deployment its function's active one.
pub(super) async fn finish_build(
    pool: &SqlitePool,
    project: &ProjectId,
    build: &Build,
    activate: Option<&FunctionId>,
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    write_build(&mut tx, project, build).await?;
    if let Some(function) = activate {
        sqlx::query(
            "UPDATE functions SET deployment = ?, updated_at = ? WHERE project_id = ? AND id = ?",
        )
        .bind(build.deployment_id.as_str())
        .bind(build.updated_at.millis())
        .bind(project.as_str())
        .bind(function.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn write_build(
    tx: &mut Transaction<'_, Sqlite>,
    project: &ProjectId,
    b: &Build,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO builds (project_id, id, deployment_id, created_at, updated_at, status,
            stdout, stderr, duration)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, id) DO UPDATE SET updated_at = excluded.updated_at,
            status = excluded.status, stdout = excluded.stdout, stderr = excluded.stderr,
            duration = excluded.duration",
    )
    .bind(project.as_str())
    .bind(b.id.as_str())
    .bind(b.deployment_id.as_str())
    .bind(b.created_at.millis())
    .bind(b.updated_at.millis())
    .bind(b.status.as_str())
    .bind(&b.stdout)
    .bind(&b.stderr)
    .bind(b.duration)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_row(row: &SqliteRow) -> Result<DeploymentWithBuild> {
    let time = |name: &str| -> Result<Timestamp> { Ok(Timestamp::from_millis(row.try_get(name)?)) };
    let build_id: String = row.try_get("build_id")?;
    let deployment = Deployment {
        id: parse_id(DeploymentId::parse, row.try_get("id")?)?,
        function_id: parse_id(FunctionId::parse, row.try_get("function_id")?)?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        entrypoint: row.try_get("entrypoint")?,
        size: row.try_get::<i64, _>("size")?.unsigned_abs(),
        build_id: if build_id.is_empty() {
            None
        } else {
            Some(parse_id(BuildId::parse, &build_id)?)
        },
        activate: row.try_get("activate")?,
        chunks_total: row.try_get::<i64, _>("chunks_total")?.unsigned_abs(),
        chunks_uploaded: row.try_get::<i64, _>("chunks_uploaded")?.unsigned_abs(),
    };
    let build = match row.try_get::<Option<String>, _>("b_id")? {
        None => None,
        Some(id) => {
            let status: String = row.try_get("b_status")?;
            Some(Build {
                id: parse_id(BuildId::parse, &id)?,
                deployment_id: deployment.id.clone(),
                created_at: time("b_created_at")?,
                updated_at: time("b_updated_at")?,
                status: BuildStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                    message: format!("unknown build status {status:?}"),
                })?,
                stdout: row.try_get("b_stdout")?,
                stderr: row.try_get("b_stderr")?,
                duration: row.try_get("b_duration")?,
            })
        }
    };
    Ok(DeploymentWithBuild { deployment, build })
}
