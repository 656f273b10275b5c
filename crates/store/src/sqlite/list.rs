//! Turns a validated [`ListQuery`] into SQL for any listed table: filters (values OR-ed within
//! a filter, filters AND-ed), the `search` param, orders with the creation sequence as the final
//! tie-breaker, keyset cursors, limit and offset, and a capped `total` that counts the filters
//! only.
//!
//! The SQL text is assembled only from table and column constants; every user value is a bound
//! parameter, which is why the dynamic strings are marked safe.

use functiond_types::query::{Cursor, Direction, Filter, FilterOp, ListQuery, Scalar};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, SqlitePool};

use crate::{COUNT_CAP, Result, StoreError, search};

/// How an API attribute reads in SQL: the column filters compare, and the expression orders
/// and cursors sort by (nullable columns sort through `COALESCE` so keysets never meet NULL).
pub(super) struct Column {
    pub attribute: &'static str,
    pub filter: &'static str,
    pub sort: &'static str,
}

pub(super) const fn col(attribute: &'static str, sql: &'static str) -> Column {
    Column {
        attribute,
        filter: sql,
        sort: sql,
    }
}

/// A listed table: its name (or a join), the columns selected, its API attributes, and the
/// qualifier of its own `id`, `seq` and `search` columns (`d.` when joined as `d`).
pub(super) struct Table {
    pub name: &'static str,
    pub select: &'static str,
    pub columns: &'static [Column],
    pub prefix: &'static str,
}

impl Table {
    fn column(&self, attribute: &str) -> Result<&Column> {
        self.columns
            .iter()
            .find(|c| c.attribute == attribute)
            .ok_or_else(|| StoreError::Corrupt {
                message: format!("no column for attribute {attribute} in {}", self.name),
            })
    }
}

#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

#[derive(Default, Clone)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn bind(&mut self, value: Bind) {
        self.text.push('?');
        self.binds.push(value);
    }

    fn arguments(&self) -> Result<SqliteArguments> {
        let mut args = SqliteArguments::default();
        for bind in &self.binds {
            let added = match bind {
                Bind::Text(text) => args.add(text.clone()),
                Bind::Int(int) => args.add(*int),
                Bind::Float(float) => args.add(*float),
            };
            added.map_err(|source| StoreError::Database {
                source: sqlx::Error::Encode(source),
            })?;
        }
        Ok(args)
    }
}

fn scalar_bind(value: &Scalar) -> Bind {
    match value {
        Scalar::String(text) => Bind::Text(text.clone()),
        Scalar::Int(int) => Bind::Int(*int),
        Scalar::Float(float) => Bind::Float(*float),
        Scalar::Bool(flag) => Bind::Int(i64::from(*flag)),
        Scalar::Datetime(at) => Bind::Int(at.millis()),
    }
}

fn operator(op: FilterOp) -> &'static str {
    match op {
        FilterOp::Equal => "=",
        FilterOp::NotEqual => "!=",
        FilterOp::LessThan => "<",
        FilterOp::LessThanEqual => "<=",
        FilterOp::GreaterThan => ">",
        FilterOp::GreaterThanEqual => ">=",
    }
}

/// `WHERE` body for the scope, visibility, filters and search (no cursor).
fn conditions(
    table: &Table,
    scope: &[(&str, &str)],
    visible_with: Option<&[String]>,
    query: &ListQuery,
) -> Result<Sql> {
    let mut sql = Sql::default();
    sql.push("1 = 1");
    for (column, value) in scope {
        sql.push(&format!(" AND {column} = "));
        sql.bind(Bind::Text((*value).to_owned()));
    }
    if let Some(permissions) = visible_with {
        push_visibility(&mut sql, table, permissions);
    }
    for Filter {
        attribute,
        op,
        values,
    } in &query.filters
    {
        let column = table.column(attribute)?;
        sql.push(" AND (");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(&format!("{} {} ", column.filter, operator(*op)));
            sql.bind(scalar_bind(value));
        }
        sql.push(")");
    }
    if let Some(text) = &query.search {
        let words = search::words(text);
        if words.is_empty() {
            sql.push(" AND 0");
        } else {
            sql.push(" AND (");
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push(&format!("{}search LIKE ", table.prefix));
                sql.bind(Bind::Text(search::like_pattern(word)));
                sql.push(" ESCAPE '\\'");
            }
            sql.push(")");
        }
    }
    Ok(sql)
}

/// Keeps the rows whose `permissions` (a JSON array) hold one of `permissions`. The arrays
/// are a handful of strings, so probing each row of the scope is cheap next to reading it.
fn push_visibility(sql: &mut Sql, table: &Table, permissions: &[String]) {
    if permissions.is_empty() {
        sql.push(" AND 0");
        return;
    }
    sql.push(&format!(
        " AND EXISTS (SELECT 1 FROM json_each({}permissions) WHERE json_each.value IN (",
        table.prefix
    ));
    for (i, permission) in permissions.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Bind::Text(permission.clone()));
    }
    sql.push("))");
}

/// Runs the listing: the matching rows of this page (in the requested order) and the total.
pub(super) async fn page(
    pool: &SqlitePool,
    table: &Table,
    scope: &[(&str, &str)],
    query: &ListQuery,
) -> Result<(u64, Vec<SqliteRow>)> {
    page_visible(pool, table, scope, None, query).await
}

/// [`page`] over the rows `visible_with` lets the caller see (all of them with `None`): the
/// total, the page and the cursor row alike, so a caller cannot learn of rows it may not read.
pub(super) async fn page_visible(
    pool: &SqlitePool,
    table: &Table,
    scope: &[(&str, &str)],
    visible_with: Option<&[String]>,
    query: &ListQuery,
) -> Result<(u64, Vec<SqliteRow>)> {
    let filtered = conditions(table, scope, visible_with, query)?;

    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {COUNT_CAP})",
        table.name, filtered.text
    );
    let total: i64 = sqlx::query_scalar_with(AssertSqlSafe(count_sql), filtered.arguments()?)
        .fetch_one(pool)
        .await?;

    // Sort keys: the requested orders, then the creation sequence. Paging backwards
    // (cursorBefore) walks the reversed order and flips the page afterwards.
    let backwards = matches!(query.cursor, Some(Cursor::Before(_)));
    let mut keys: Vec<(&str, bool)> = Vec::new();
    for order in &query.orders {
        let ascending = matches!(order.direction, Direction::Asc) != backwards;
        keys.push((table.column(order.attribute)?.sort, ascending));
    }
    let seq = format!("{}seq", table.prefix);
    keys.push((&seq, !backwards));

    let mut sql = filtered.clone();
    if let Some(Cursor::After(id) | Cursor::Before(id)) = &query.cursor {
        ensure_cursor_exists(pool, table, scope, visible_with, id).await?;
        push_keyset(&mut sql, table, scope, id, &keys);
    }
    let order_by: Vec<String> = keys
        .iter()
        .map(|(expr, asc)| format!("{expr} {}", if *asc { "ASC" } else { "DESC" }))
        .collect();
    sql.text = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {} OFFSET {}",
        table.select,
        table.name,
        sql.text,
        order_by.join(", "),
        query.limit,
        query.offset
    );
    let mut rows = sqlx::query_with(AssertSqlSafe(sql.text.clone()), sql.arguments()?)
        .fetch_all(pool)
        .await?;
    if backwards {
        rows.reverse();
    }
    Ok((total.unsigned_abs(), rows))
}

async fn ensure_cursor_exists(
    pool: &SqlitePool,
    table: &Table,
    scope: &[(&str, &str)],
    visible_with: Option<&[String]>,
    id: &str,
) -> Result<()> {
    let mut sql = conditions(table, scope, visible_with, &ListQuery::default())?;
    sql.push(&format!(" AND {}id = ", table.prefix));
    sql.bind(Bind::Text(id.to_owned()));
    let text = format!("SELECT COUNT(*) FROM {} WHERE {}", table.name, sql.text);
    let found: i64 = sqlx::query_scalar_with(AssertSqlSafe(text), sql.arguments()?)
        .fetch_one(pool)
        .await?;
    if found == 0 {
        return Err(StoreError::CursorNotFound { id: id.to_owned() });
    }
    Ok(())
}

/// Appends "comes after the cursor row in this order": for sort keys k1..kn,
/// `k1 > c1 OR (k1 = c1 AND k2 > c2) OR …`, with `<` for descending keys.
fn push_keyset(
    sql: &mut Sql,
    table: &Table,
    scope: &[(&str, &str)],
    id: &str,
    keys: &[(&str, bool)],
) {
    let cursor_value = |sql: &mut Sql, expr: &str| {
        sql.push(&format!(
            "(SELECT {expr} FROM {} WHERE {}id = ",
            table.name, table.prefix
        ));
        sql.bind(Bind::Text(id.to_owned()));
        for (column, value) in scope {
            sql.push(&format!(" AND {column} = "));
            sql.bind(Bind::Text((*value).to_owned()));
        }
        sql.push(")");
    };
    sql.push(" AND (");
    for (i, (expr, asc)) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        for (earlier, _) in &keys[..i] {
            sql.push(&format!("{earlier} = "));
            cursor_value(sql, earlier);
            sql.push(" AND ");
        }
        sql.push(&format!("{expr} {} ", if *asc { ">" } else { "<" }));
        cursor_value(sql, expr);
        sql.push(")");
    }
    sql.push(")");
}
