//! The Appwrite 1.0 query language used by the `queries[]` parameter of every list endpoint.
//!
//! Two steps, kept apart so the store and the domain only ever see checked data:
//! - [`parse`] turns one element of `queries[]` into a raw [`Query`]. It understands the 1.0
//!   string form `equal("name", ["x"])` and the later JSON form
//!   `{"method":"equal","attribute":"name","values":["x"]}`, and only checks syntax.
//! - [`build`] validates a whole `queries[]` list against a resource's [`Schema`] and folds it,
//!   together with the `search` parameter, into a typed [`ListQuery`].
//!
//! Every failure is a [`QueryError`] whose `Display` is the message Appwrite 1.0.3 shows, because
//! SDK users and their tests see it verbatim.

use crate::time::Timestamp;

mod parse;
mod validate;

#[cfg(test)]
mod tests;

pub use parse::parse;
pub use validate::build;

/// A value as written in a query, before it is checked against an attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

/// The query methods of Appwrite 1.0. Anything else is refused while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Equal,
    NotEqual,
    LessThan,
    LessThanEqual,
    GreaterThan,
    GreaterThanEqual,
    Search,
    OrderAsc,
    OrderDesc,
    Limit,
    Offset,
    CursorAfter,
    CursorBefore,
}

impl Method {
    const ALL: [Method; 13] = [
        Method::Equal,
        Method::NotEqual,
        Method::LessThan,
        Method::LessThanEqual,
        Method::GreaterThan,
        Method::GreaterThanEqual,
        Method::Search,
        Method::OrderAsc,
        Method::OrderDesc,
        Method::Limit,
        Method::Offset,
        Method::CursorAfter,
        Method::CursorBefore,
    ];

    /// The name as written in a query, e.g. `greaterThanEqual`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Equal => "equal",
            Method::NotEqual => "notEqual",
            Method::LessThan => "lessThan",
            Method::LessThanEqual => "lessThanEqual",
            Method::GreaterThan => "greaterThan",
            Method::GreaterThanEqual => "greaterThanEqual",
            Method::Search => "search",
            Method::OrderAsc => "orderAsc",
            Method::OrderDesc => "orderDesc",
            Method::Limit => "limit",
            Method::Offset => "offset",
            Method::CursorAfter => "cursorAfter",
            Method::CursorBefore => "cursorBefore",
        }
    }

    /// The method called `name`; names are case-sensitive, as in Appwrite.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|method| method.as_str() == name)
    }

    /// The comparison this method performs, for the six filter methods.
    pub const fn filter_op(self) -> Option<FilterOp> {
        match self {
            Method::Equal => Some(FilterOp::Equal),
            Method::NotEqual => Some(FilterOp::NotEqual),
            Method::LessThan => Some(FilterOp::LessThan),
            Method::LessThanEqual => Some(FilterOp::LessThanEqual),
            Method::GreaterThan => Some(FilterOp::GreaterThan),
            Method::GreaterThanEqual => Some(FilterOp::GreaterThanEqual),
            _ => None,
        }
    }
}

/// One parsed element of `queries[]`. Which fields are meaningful depends on the method:
/// filters and `search` use both, orders only `attribute` (empty = natural order), and
/// `limit`/`offset`/cursors only `values[0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub method: Method,
    pub attribute: String,
    pub values: Vec<Value>,
}

/// The type of a queryable attribute; decides which [`Value`]s a filter on it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    String,
    Integer,
    Float,
    Boolean,
    Datetime,
}

impl AttrType {
    /// The name Appwrite uses in `Query type does not match expected: <type>`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Integer => "integer",
            AttrType::Float => "double",
            AttrType::Boolean => "boolean",
            AttrType::Datetime => "datetime",
        }
    }
}

/// A queryable attribute of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: AttrType,
}

/// What a resource's list endpoint may filter and order by. `$id`, `$createdAt` and
/// `$updatedAt` are always allowed and need not be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// `Function`, `Execution`, `Deployment`: the store names the resource with it when a
    /// cursor points at a missing document.
    pub noun: &'static str,
    pub attributes: &'static [Attribute],
}

/// The attributes every resource has, as Appwrite adds them to every collection's validator.
const IMPLICIT: [Attribute; 3] = [
    Attribute {
        name: "$id",
        kind: AttrType::String,
    },
    Attribute {
        name: "$createdAt",
        kind: AttrType::Datetime,
    },
    Attribute {
        name: "$updatedAt",
        kind: AttrType::Datetime,
    },
];

impl Schema {
    /// The attribute called `name`, declared or implicit.
    pub fn attribute(&self, name: &str) -> Option<Attribute> {
        self.attributes
            .iter()
            .chain(IMPLICIT.iter())
            .find(|attr| attr.name == name)
            .copied()
    }
}

/// A comparison of a [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    Equal,
    NotEqual,
    LessThan,
    LessThanEqual,
    GreaterThan,
    GreaterThanEqual,
}

/// A filter value converted to its attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(Timestamp),
}

/// `attribute op value` for any of `values` (they are OR-ed by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The schema's own name for the attribute, so the store can match on it.
    pub attribute: &'static str,
    pub op: FilterOp,
    pub values: Vec<Scalar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Order {
    pub attribute: &'static str,
    pub direction: Direction,
}

/// Where a page starts: right after or right before the document with this ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cursor {
    After(String),
    Before(String),
}

/// A validated list request, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// In the order given; the store breaks ties itself.
    pub orders: Vec<Order>,
    pub limit: u32,
    pub offset: u32,
    pub cursor: Option<Cursor>,
    /// The trimmed `search` parameter, `None` when absent or blank.
    pub search: Option<String>,
}

/// Appwrite's default page size.
pub const DEFAULT_LIMIT: u32 = 25;

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            orders: Vec::new(),
            limit: DEFAULT_LIMIT,
            offset: 0,
            cursor: None,
            search: None,
        }
    }
}

/// Why a query was refused. `Display` is the message the user sees (the HTTP layer answers
/// 400 `general_argument_invalid` with it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The text is not a well-formed query. `reason` is for logs and tests; the user is shown
    /// their own text, as Appwrite does.
    #[error("Invalid query: {text}")]
    Syntax { text: String, reason: &'static str },
    #[error("Query method not valid: {method}")]
    UnknownMethod { method: String },
    #[error("Attribute not found in schema: {attribute}")]
    UnknownAttribute { attribute: String },
    #[error("Searching by attribute \"{attribute}\" requires a fulltext index.")]
    NoFulltextIndex { attribute: String },
    #[error("Query type does not match expected: {expected}")]
    TypeMismatch {
        attribute: &'static str,
        expected: &'static str,
    },
    #[error("Query values must not be empty: {attribute}")]
    EmptyValues { attribute: &'static str },
    #[error("Query on attribute has greater than 100 values: {attribute}")]
    TooManyValues { attribute: &'static str },
    #[error("Invalid limit: Value must be a valid range between 0 and 100")]
    InvalidLimit { value: Option<Value> },
    #[error("Invalid offset: Value must be a valid range between 0 and 5,000")]
    InvalidOffset { value: Option<Value> },
    #[error(
        "Invalid cursor: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, \
         period, hyphen, and underscore. Can't start with a special char"
    )]
    InvalidCursor { value: Option<Value> },
    #[error("Invalid search: Value must be a valid string and no longer than 256 chars")]
    InvalidSearch { length: usize },
    #[error(
        "Invalid queries: Value must a valid array no longer than 100 items and Value must be \
         a valid string and at least 1 chars and no longer than 4096 chars"
    )]
    InvalidQueries { count: usize },
}
