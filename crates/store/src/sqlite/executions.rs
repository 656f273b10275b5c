//! Executions.

use functiond_types::Timestamp;
use functiond_types::execution::{Execution, ExecutionStatus, Trigger};
use functiond_types::id::{DeploymentId, ExecutionId, FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::query::ListQuery;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::list::{self, Table, col};
use super::projects::parse_id;
use super::{conflict_as, from_json, jobs, to_json};
use crate::{Page, Result, StoreError, search};

const SELECT: &str = "function_id, id, deployment_id, created_at, updated_at, permissions, \
     trigger_name, status, status_code, response, stdout, stderr, duration";

pub(super) const TABLE: Table = Table {
    name: "executions",
    select: SELECT,
    columns: &[
        col("$id", "id"),
        col("$createdAt", "created_at"),
        col("$updatedAt", "updated_at"),
        col("trigger", "trigger_name"),
        col("status", "status"),
        col("statusCode", "status_code"),
        col("duration", "duration"),
    ],
    prefix: "",
};

/// Inserts an execution with its queued jobs (its run, its events).
pub(super) async fn create(
    pool: &SqlitePool,
    project: &ProjectId,
    e: &Execution,
    queued: &[NewJob],
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("INSERT INTO executions ({COLUMNS}) "));
    sql.push_values([e], |mut row, e| push_values(&mut row, project, e));
    sql.build()
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("execution"))?;
    jobs::commit_with(tx, queued).await?;
    Ok(())
}

/// The columns an execution row is inserted with, in the order of [`push_values`].
pub(super) const COLUMNS: &str = "project_id, function_id, id, deployment_id, created_at, \
     updated_at, permissions, trigger_name, status, status_code, response, stdout, stderr, \
     duration, search";

/// Binds one execution's values, in the order of [`COLUMNS`].
pub(super) fn push_values(
    row: &mut Separated<'_, Sqlite, &'static str>,
    project: &ProjectId,
    e: &Execution,
) {
    row.push_bind(project.to_string())
        .push_bind(e.function_id.to_string())
        .push_bind(e.id.to_string())
        .push_bind(e.deployment_id.to_string())
        .push_bind(e.created_at.millis())
        .push_bind(e.updated_at.millis())
        .push_bind(to_json(&e.permissions))
        .push_bind(e.trigger.as_str())
        .push_bind(e.status.as_str())
        .push_bind(e.status_code)
        .push_bind(e.response.clone())
        .push_bind(e.stdout.clone())
        .push_bind(e.stderr.clone())
        .push_bind(e.duration)
        .push_bind(search::index_text(&e.search_text()));
}

pub(super) async fn update(
    pool: &SqlitePool,
    project: &ProjectId,
    e: &Execution,
    queued: &[NewJob],
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query(
        "UPDATE executions SET updated_at = ?, status = ?, status_code = ?, response = ?,
            stdout = ?, stderr = ?, duration = ?
         WHERE project_id = ? AND id = ?",
    )
    .bind(e.updated_at.millis())
    .bind(e.status.as_str())
    .bind(e.status_code)
    .bind(&e.response)
    .bind(&e.stdout)
    .bind(&e.stderr)
    .bind(e.duration)
    .bind(project.as_str())
    .bind(e.id.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    jobs::commit_with(tx, queued).await?;
    Ok(true)
}

pub(super) async fn fail_interrupted(
    pool: &SqlitePool,
    at: Timestamp,
    stderr: &str,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE executions SET status = 'failed', status_code = 500, stderr = ?, updated_at = ?
         WHERE status IN ('waiting', 'processing')
           AND NOT EXISTS (
               SELECT 1 FROM jobs
               WHERE kind = 'execution' AND json_extract(payload, '$.execution') = executions.id
                 AND json_extract(payload, '$.project') = executions.project_id
           )",
    )
    .bind(stderr)
    .bind(at.millis())
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn get(
    pool: &SqlitePool,
    project: &ProjectId,
    id: &ExecutionId,
) -> Result<Option<Execution>> {
    let sql = format!("SELECT {SELECT} FROM executions WHERE project_id = ? AND id = ?");
    // Built from constants only; every value is a bound parameter.
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(project.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    project: &ProjectId,
    function: &FunctionId,
    visible_with: Option<&[String]>,
    query: &ListQuery,
) -> Result<Page<Execution>> {
    let scope = [
        ("project_id", project.as_str()),
        ("function_id", function.as_str()),
    ];
    let (total, rows) = list::page_visible(pool, &TABLE, &scope, visible_with, query).await?;
    let items = rows.iter().map(from_row).collect::<Result<_>>()?;
    Ok(Page { total, items })
}

fn from_row(row: &SqliteRow) -> Result<Execution> {
    let corrupt = |what: &str, value: &str| StoreError::Corrupt {
        message: format!("unknown execution {what} {value:?}"),
    };
    let trigger: String = row.try_get("trigger_name")?;
    let status: String = row.try_get("status")?;
    Ok(Execution {
        id: parse_id(ExecutionId::parse, row.try_get("id")?)?,
        function_id: parse_id(FunctionId::parse, row.try_get("function_id")?)?,
        deployment_id: parse_id(DeploymentId::parse, row.try_get("deployment_id")?)?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        permissions: from_json(row.try_get("permissions")?)?,
        trigger: Trigger::parse(&trigger).ok_or_else(|| corrupt("trigger", &trigger))?,
        status: ExecutionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        status_code: row.try_get("status_code")?,
        response: row.try_get("response")?,
        stdout: row.try_get("stdout")?,
        stderr: row.try_get("stderr")?,
        duration: row.try_get("duration")?,
    })
}
