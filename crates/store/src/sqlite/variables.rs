//! Variables, with values sealed by the store's cipher. The associated data of each value is
//! `<project>/<variable id>`, so a sealed value only opens in the row it was written for.

use std::collections::HashMap;

use functiond_types::Timestamp;
use functiond_types::id::{FunctionId, ProjectId, VariableId};
use functiond_types::variable::Variable;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqlitePool};

use super::conflict_as;
use super::functions::group_by_function;
use super::projects::parse_id;
use crate::{Cipher, Result};

const SELECT: &str = "function_id, id, created_at, updated_at, key, value";

fn context(project: &ProjectId, id: &VariableId) -> String {
    format!("{project}/{id}")
}

pub(super) async fn create(
    pool: &SqlitePool,
    cipher: &Cipher,
    project: &ProjectId,
    v: &Variable,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO variables (project_id, function_id, id, created_at, updated_at, key, value)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(project.as_str())
    .bind(v.function_id.as_str())
    .bind(v.id.as_str())
    .bind(v.created_at.millis())
    .bind(v.updated_at.millis())
    .bind(&v.key)
    .bind(cipher.seal(&v.value, &context(project, &v.id)))
    .execute(pool)
    .await
    .map_err(conflict_as("variable"))?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    cipher: &Cipher,
    project: &ProjectId,
    function: &FunctionId,
    id: &VariableId,
) -> Result<Option<Variable>> {
    let sql = format!(
        "SELECT {SELECT} FROM variables WHERE project_id = ? AND function_id = ? AND id = ?"
    );
    // Built from constants only; every value is a bound parameter.
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project.as_str())
        .bind(function.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(|row| from_row(&row, cipher, project)).transpose()
}

pub(super) async fn update(
    pool: &SqlitePool,
    cipher: &Cipher,
    project: &ProjectId,
    v: &Variable,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE variables SET updated_at = ?, key = ?, value = ?
         WHERE project_id = ? AND function_id = ? AND id = ?",
    )
    .bind(v.updated_at.millis())
    .bind(&v.key)
    .bind(cipher.seal(&v.value, &context(project, &v.id)))
    .bind(project.as_str())
    .bind(v.function_id.as_str())
    .bind(v.id.as_str())
    .execute(pool)
    .await
    .map_err(conflict_as("variable"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete(
    pool: &SqlitePool,
    project: &ProjectId,
    function: &FunctionId,
    id: &VariableId,
) -> Result<bool> {
    let done =
        sqlx::query("DELETE FROM variables WHERE project_id = ? AND function_id = ? AND id = ?")
            .bind(project.as_str())
            .bind(function.as_str())
            .bind(id.as_str())
            .execute(pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn list(
    pool: &SqlitePool,
    cipher: &Cipher,
    project: &ProjectId,
    function: &FunctionId,
) -> Result<Vec<Variable>> {
    let mut groups = list_for(pool, cipher, project, &[function]).await?;
    Ok(groups.remove(function.as_str()).unwrap_or_default())
}

/// The variables of several functions at once, keyed by function ID, oldest first.
pub(super) async fn list_for(
    pool: &SqlitePool,
    cipher: &Cipher,
    project: &ProjectId,
    functions: &[&FunctionId],
) -> Result<HashMap<String, Vec<Variable>>> {
    if functions.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {SELECT} FROM variables WHERE project_id = "
    ));
    sql.push_bind(project.as_str());
    sql.push(" AND function_id IN (");
    let mut ids = sql.separated(", ");
    for function in functions {
        ids.push_bind(function.as_str());
    }
    sql.push(") ORDER BY seq");
    let rows = sql.build().fetch_all(pool).await?;
    let pairs = rows
        .iter()
        .map(|row| {
            let variable = from_row(row, cipher, project)?;
            Ok((variable.function_id.to_string(), variable))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(group_by_function(pairs))
}

fn from_row(row: &SqliteRow, cipher: &Cipher, project: &ProjectId) -> Result<Variable> {
    let id = parse_id(VariableId::parse, row.try_get("id")?)?;
    let sealed: Vec<u8> = row.try_get("value")?;
    Ok(Variable {
        value: cipher.open(&sealed, &context(project, &id))?,
        function_id: parse_id(FunctionId::parse, row.try_get("function_id")?)?,
        key: row.try_get("key")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        id,
    })
}
