//! Meaning of a `queries[]` list: checks every parsed query against a resource's schema and
//! folds the list, with the `search` parameter, into one typed [`ListQuery`].

use super::{
    AttrType, Attribute, Cursor, Direction, Filter, FilterOp, ListQuery, Method, Order, Query,
    QueryError, Scalar, Schema, Value, parse,
};
use crate::time::Timestamp;

/// Bounds that keep the work per request small (Appwrite 1.0 itself has none).
const MAX_QUERIES: usize = 100;
const MAX_QUERY_CHARS: usize = 4096;
/// Appwrite's limits on one request.
const MAX_VALUES: usize = 100;
const MAX_LIMIT: u32 = 100;
const MAX_OFFSET: u32 = 5000;
const MAX_SEARCH_CHARS: usize = 256;
const MAX_UID_CHARS: usize = 36;

/// Validates the raw `queries[]` strings against `schema` and folds in the `search` param.
///
/// Queries are checked in the order given and the first failure is returned. Only the first
/// `limit`, `offset` and cursor count; later ones must still parse but are otherwise ignored.
pub fn build(
    schema: &Schema,
    queries: &[String],
    search: Option<&str>,
) -> Result<ListQuery, QueryError> {
    check_bounds(queries)?;
    let mut list = ListQuery::default();
    let (mut limit_seen, mut offset_seen, mut cursor_seen) = (false, false, false);

    for text in queries {
        let Query {
            method,
            attribute,
            values,
        } = parse(text)?;
        if let Some(op) = method.filter_op() {
            let attr = lookup(schema, &attribute)?;
            list.filters.push(filter(op, attr, values)?);
            continue;
        }
        match method {
            Method::Search => {
                // None of the resources behind these endpoints has a fulltext index, so a
                // known attribute is refused just as Appwrite refuses an unindexed one.
                let attr = lookup(schema, &attribute)?;
                return Err(QueryError::NoFulltextIndex {
                    attribute: attr.name.to_owned(),
                });
            }
            Method::OrderAsc | Method::OrderDesc => {
                // `orderAsc("")` asks for the natural order, which is what no order gives.
                if attribute.is_empty() {
                    continue;
                }
                let attr = lookup(schema, &attribute)?;
                let direction = if method == Method::OrderAsc {
                    Direction::Asc
                } else {
                    Direction::Desc
                };
                list.orders.push(Order {
                    attribute: attr.name,
                    direction,
                });
            }
            Method::Limit if !limit_seen => {
                limit_seen = true;
                list.limit =
                    in_range(&values, MAX_LIMIT).ok_or_else(|| QueryError::InvalidLimit {
                        value: values.first().cloned(),
                    })?;
            }
            Method::Offset if !offset_seen => {
                offset_seen = true;
                list.offset =
                    in_range(&values, MAX_OFFSET).ok_or_else(|| QueryError::InvalidOffset {
                        value: values.first().cloned(),
                    })?;
            }
            Method::CursorAfter | Method::CursorBefore if !cursor_seen => {
                cursor_seen = true;
                let id = match values.first() {
                    Some(Value::String(id)) if is_uid(id) => id.clone(),
                    other => {
                        return Err(QueryError::InvalidCursor {
                            value: other.cloned(),
                        });
                    }
                };
                list.cursor = Some(if method == Method::CursorAfter {
                    Cursor::After(id)
                } else {
                    Cursor::Before(id)
                });
            }
            // A repeated limit, offset or cursor: Appwrite uses only the first one.
            Method::Limit | Method::Offset | Method::CursorAfter | Method::CursorBefore => {}
            // Handled above, before the match.
            Method::Equal
            | Method::NotEqual
            | Method::LessThan
            | Method::LessThanEqual
            | Method::GreaterThan
            | Method::GreaterThanEqual => {}
        }
    }

    list.search = search_term(search)?;
    Ok(list)
}

fn check_bounds(queries: &[String]) -> Result<(), QueryError> {
    // A string's byte length bounds its char count, so counting chars is only needed for
    // long texts.
    let too_long =
        |text: &String| text.len() > MAX_QUERY_CHARS && text.chars().count() > MAX_QUERY_CHARS;
    if queries.len() > MAX_QUERIES || queries.iter().any(|text| text.is_empty() || too_long(text)) {
        return Err(QueryError::InvalidQueries {
            count: queries.len(),
        });
    }
    Ok(())
}

fn lookup(schema: &Schema, name: &str) -> Result<Attribute, QueryError> {
    schema
        .attribute(name)
        .ok_or_else(|| QueryError::UnknownAttribute {
            attribute: name.to_owned(),
        })
}

fn filter(op: FilterOp, attr: Attribute, values: Vec<Value>) -> Result<Filter, QueryError> {
    if values.is_empty() {
        return Err(QueryError::EmptyValues {
            attribute: attr.name,
        });
    }
    if values.len() > MAX_VALUES {
        return Err(QueryError::TooManyValues {
            attribute: attr.name,
        });
    }
    let values = values
        .into_iter()
        .map(|value| {
            typed(attr.kind, value).ok_or(QueryError::TypeMismatch {
                attribute: attr.name,
                expected: attr.kind.as_str(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Filter {
        attribute: attr.name,
        op,
        values,
    })
}

/// `value` as a value of type `kind`, if it is one. Types must match exactly, except that an
/// integer is also a valid float; `null` matches nothing.
fn typed(kind: AttrType, value: Value) -> Option<Scalar> {
    match (kind, value) {
        (AttrType::String, Value::String(text)) => Some(Scalar::String(text)),
        (AttrType::Integer, Value::Int(int)) => Some(Scalar::Int(int)),
        (AttrType::Float, Value::Float(float)) => Some(Scalar::Float(float)),
        // Every i64 a user would type converts without surprise; huge ones round, as in PHP.
        (AttrType::Float, Value::Int(int)) => Some(Scalar::Float(int as f64)),
        (AttrType::Boolean, Value::Bool(flag)) => Some(Scalar::Bool(flag)),
        (AttrType::Datetime, Value::String(text)) => Timestamp::parse(&text).map(Scalar::Datetime),
        _ => None,
    }
}

/// The first value as a `u32` in `0..=max`, if it is an integer in that range.
fn in_range(values: &[Value], max: u32) -> Option<u32> {
    match values.first() {
        Some(Value::Int(int)) => u32::try_from(*int).ok().filter(|n| *n <= max),
        _ => None,
    }
}

/// Appwrite's UID rule: 1 to 36 chars of `[A-Za-z0-9._-]`, not starting with `.`, `-` or `_`.
fn is_uid(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        None | Some(b'.' | b'-' | b'_') => false,
        Some(_) => {
            bytes.len() <= MAX_UID_CHARS
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        }
    }
}

/// The `search` parameter, trimmed; blank means no search. The length limit applies to the
/// text as sent, as Appwrite validates the parameter before using it.
fn search_term(search: Option<&str>) -> Result<Option<String>, QueryError> {
    let Some(raw) = search else {
        return Ok(None);
    };
    let term = raw.trim();
    if term.is_empty() {
        return Ok(None);
    }
    let length = raw.chars().count();
    if length > MAX_SEARCH_CHARS {
        return Err(QueryError::InvalidSearch { length });
    }
    Ok(Some(term.to_owned()))
}
