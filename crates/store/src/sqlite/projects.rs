//! Projects and API keys.

use functiond_types::Timestamp;
use functiond_types::id::{KeyId, ProjectId};
use functiond_types::project::{ApiKey, Project};
use functiond_types::scope::Scope;
use sqlx::{Row, SqlitePool};

use super::{conflict_as, from_json, to_json};
use crate::{KeySecret, Result, StoreError};

pub(super) async fn create(pool: &SqlitePool, project: &Project) -> Result<()> {
    sqlx::query("INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)")
        .bind(project.id.as_str())
        .bind(&project.name)
        .bind(project.created_at.millis())
        .execute(pool)
        .await
        .map_err(conflict_as("project"))?;
    Ok(())
}

pub(super) async fn get(pool: &SqlitePool, id: &ProjectId) -> Result<Option<Project>> {
    let row = sqlx::query("SELECT id, name, created_at FROM projects WHERE id = ?")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(Project {
            id: parse_id(ProjectId::parse, row.try_get("id")?)?,
            name: row.try_get("name")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
        })
    })
    .transpose()
}

pub(super) async fn count(pool: &SqlitePool) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects")
        .fetch_one(pool)
        .await?;
    Ok(count.unsigned_abs())
}

pub(super) async fn create_key(pool: &SqlitePool, key: &ApiKey, secret: &KeySecret) -> Result<()> {
    let scopes: Vec<String> = key.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    sqlx::query(
        "INSERT INTO api_keys (id, project_id, name, prefix, secret_hash, scopes, expire, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(key.id.as_str())
    .bind(key.project_id.as_str())
    .bind(&key.name)
    .bind(&secret.prefix)
    .bind(&secret.hash)
    .bind(to_json(&scopes))
    .bind(key.expire.map(Timestamp::millis))
    .bind(key.created_at.millis())
    .execute(pool)
    .await
    .map_err(conflict_as("key"))?;
    Ok(())
}

pub(super) async fn find_key(
    pool: &SqlitePool,
    project: &ProjectId,
    prefix: &str,
) -> Result<Option<(ApiKey, String)>> {
    let row = sqlx::query(
        "SELECT id, name, secret_hash, scopes, expire, created_at
         FROM api_keys WHERE project_id = ? AND prefix = ?",
    )
    .bind(project.as_str())
    .bind(prefix)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let scope_names = from_json(row.try_get("scopes")?)?;
    let scopes = scope_names
        .iter()
        .map(|name| name.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| StoreError::Corrupt {
            message: error.to_string(),
        })?;
    let key = ApiKey {
        id: parse_id(KeyId::parse, row.try_get("id")?)?,
        project_id: project.clone(),
        name: row.try_get("name")?,
        scopes,
        expire: row
            .try_get::<Option<i64>, _>("expire")?
            .map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    };
    Ok(Some((key, row.try_get("secret_hash")?)))
}

/// Reads an ID column back into its newtype; the store only ever writes valid IDs.
pub(super) fn parse_id<T, E>(parse: impl Fn(&str) -> Result<T, E>, text: &str) -> Result<T> {
    parse(text).map_err(|_| StoreError::Corrupt {
        message: format!("invalid id {text:?} in the database"),
    })
}
