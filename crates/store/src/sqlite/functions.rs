//! Functions.

use std::collections::HashMap;

use functiond_types::Timestamp;
use functiond_types::function::Function;
use functiond_types::id::{FunctionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::query::ListQuery;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqlitePool};

use super::list::{self, Column, Table, col};
use super::projects::parse_id;
use super::{conflict_as, from_json, jobs, to_json};
use crate::{Page, Result, search};

const SELECT: &str = "id, created_at, updated_at, execute, name, enabled, runtime, deployment, \
     events, schedule, schedule_next, schedule_previous, schedule_updated_at, timeout";

pub(super) const TABLE: Table = Table {
    name: "functions",
    select: SELECT,
    columns: &[
        col("$id", "id"),
        col("$createdAt", "created_at"),
        col("$updatedAt", "updated_at"),
        col("name", "name"),
        col("enabled", "enabled"),
        col("runtime", "runtime"),
        col("deployment", "deployment"),
        col("schedule", "schedule"),
        Column {
            attribute: "scheduleNext",
            filter: "schedule_next",
            sort: "COALESCE(schedule_next, -1)",
        },
        Column {
            attribute: "schedulePrevious",
            filter: "schedule_previous",
            sort: "COALESCE(schedule_previous, -1)",
        },
        col("timeout", "timeout"),
    ],
    prefix: "",
};

pub(super) async fn create(
    pool: &SqlitePool,
    project: &ProjectId,
    f: &Function,
    queued: &[NewJob],
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO functions (project_id, id, created_at, updated_at, execute, name, enabled,
            runtime, deployment, events, schedule, schedule_next, schedule_previous,
            schedule_updated_at, timeout, search)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(project.as_str())
    .bind(f.id.as_str())
    .bind(f.created_at.millis())
    .bind(f.updated_at.millis())
    .bind(to_json(&f.execute))
    .bind(&f.name)
    .bind(f.enabled)
    .bind(&f.runtime)
    .bind(&f.deployment)
    .bind(to_json(&f.events))
    .bind(&f.schedule)
    .bind(f.schedule_next.map(Timestamp::millis))
    .bind(f.schedule_previous.map(Timestamp::millis))
    .bind(f.schedule_updated_at.millis())
    .bind(f.timeout)
    .bind(search::index_text(&f.search_text()))
    .execute(&mut *tx)
    .await
    .map_err(conflict_as("function"))?;
    jobs::commit_with(tx, queued).await?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    project: &ProjectId,
    id: &FunctionId,
) -> Result<Option<Function>> {
    let sql = format!("SELECT {SELECT} FROM functions WHERE project_id = ? AND id = ?");
    // Built from constants only; every value is a bound parameter.
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn update(
    pool: &SqlitePool,
    project: &ProjectId,
    f: &Function,
    queued: &[NewJob],
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query(
        "UPDATE functions SET updated_at = ?, execute = ?, name = ?, enabled = ?, runtime = ?,
            deployment = ?, events = ?, schedule = ?, schedule_next = ?, schedule_previous = ?,
            schedule_updated_at = ?, timeout = ?, search = ?
         WHERE project_id = ? AND id = ?",
    )
    .bind(f.updated_at.millis())
    .bind(to_json(&f.execute))
    .bind(&f.name)
    .bind(f.enabled)
    .bind(&f.runtime)
    .bind(&f.deployment)
    .bind(to_json(&f.events))
    .bind(&f.schedule)
    .bind(f.schedule_next.map(Timestamp::millis))
    .bind(f.schedule_previous.map(Timestamp::millis))
    .bind(f.schedule_updated_at.millis())
    .bind(f.timeout)
    .bind(search::index_text(&f.search_text()))
    .bind(project.as_str())
    .bind(f.id.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    jobs::commit_with(tx, queued).await?;
    Ok(true)
}

pub(super) async fn delete(
    pool: &SqlitePool,
    project: &ProjectId,
    id: &FunctionId,
    queued: &[NewJob],
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Variables, deployments, builds and executions go with the function through their
    // foreign keys' ON DELETE CASCADE.
    let done = sqlx::query("DELETE FROM functions WHERE project_id = ? AND id = ?")
        .bind(project.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    jobs::commit_with(tx, queued).await?;
    Ok(true)
}

pub(super) async fn list(
    pool: &SqlitePool,
    project: &ProjectId,
    query: &ListQuery,
) -> Result<Page<Function>> {
    let scope = [("project_id", project.as_str())];
    let (total, rows) = list::page(pool, &TABLE, &scope, query).await?;
    let items = rows.iter().map(from_row).collect::<Result<_>>()?;
    Ok(Page { total, items })
}

pub(super) async fn subscribed_events(
    pool: &SqlitePool,
    project: &ProjectId,
) -> Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT e.value FROM functions f, json_each(f.events) e WHERE f.project_id = ?",
    )
    .bind(project.as_str())
    .fetch_all(pool)
    .await?;
    Ok(names)
}

pub(super) async fn subscribers(
    pool: &SqlitePool,
    project: &ProjectId,
    names: &[String],
) -> Result<Vec<FunctionId>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT DISTINCT f.id FROM functions f, json_each(f.events) e WHERE f.project_id = ",
    );
    sql.push_bind(project.as_str());
    sql.push(" AND e.value IN (");
    let mut list = sql.separated(", ");
    for name in names {
        list.push_bind(name.as_str());
    }
    sql.push(") ORDER BY f.seq");
    let ids: Vec<String> = sql.build_query_scalar().fetch_all(pool).await?;
    ids.iter()
        .map(|id| parse_id(FunctionId::parse, id))
        .collect()
}

fn from_row(row: &SqliteRow) -> Result<Function> {
    let time = |name: &str| -> Result<Timestamp> { Ok(Timestamp::from_millis(row.try_get(name)?)) };
    let optional_time = |name: &str| -> Result<Option<Timestamp>> {
        Ok(row
            .try_get::<Option<i64>, _>(name)?
            .map(Timestamp::from_millis))
    };
    Ok(Function {
        id: parse_id(FunctionId::parse, row.try_get("id")?)?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        execute: from_json(row.try_get("execute")?)?,
        name: row.try_get("name")?,
        enabled: row.try_get("enabled")?,
        runtime: row.try_get("runtime")?,
        deployment: row.try_get("deployment")?,
        events: from_json(row.try_get("events")?)?,
        schedule: row.try_get("schedule")?,
        schedule_next: optional_time("schedule_next")?,
        schedule_previous: optional_time("schedule_previous")?,
        schedule_updated_at: time("schedule_updated_at")?,
        timeout: row.try_get("timeout")?,
    })
}

/// Groups rows of `(function_id, T)` by function, keeping their order.
pub(super) fn group_by_function<T>(pairs: Vec<(String, T)>) -> HashMap<String, Vec<T>> {
    let mut groups: HashMap<String, Vec<T>> = HashMap::new();
    for (function_id, item) in pairs {
        groups.entry(function_id).or_default().push(item);
    }
    groups
}
