//! Tests of the query language: syntax (`parse`), validation (`build`) and properties that
//! must hold for any input (no panics, rendering round trips).

use super::{AttrType, Attribute, Method, Query, Schema, Value};

mod build;
mod paging;
mod parse;
mod props;

/// Shaped like the functions collection: one attribute of every type.
const ATTRIBUTES: &[Attribute] = &[
    Attribute {
        name: "name",
        kind: AttrType::String,
    },
    Attribute {
        name: "runtime",
        kind: AttrType::String,
    },
    Attribute {
        name: "enabled",
        kind: AttrType::Boolean,
    },
    Attribute {
        name: "timeout",
        kind: AttrType::Integer,
    },
    Attribute {
        name: "duration",
        kind: AttrType::Float,
    },
    Attribute {
        name: "scheduleNext",
        kind: AttrType::Datetime,
    },
];

const SCHEMA: Schema = Schema {
    noun: "Function",
    attributes: ATTRIBUTES,
};

fn query(method: Method, attribute: &str, values: Vec<Value>) -> Query {
    Query {
        method,
        attribute: attribute.to_owned(),
        values,
    }
}

fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// A double-quoted string with `\` and `"` escaped, so any text survives a round trip.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn render_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(int) => int.to_string(),
        // `{:?}` always writes a `.` or an exponent, so the text reads back as a float.
        Value::Float(float) => format!("{float:?}"),
        Value::String(text) => quote(text),
    }
}

fn render_list(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(render_value).collect();
    format!("[{}]", items.join(", "))
}

/// The canonical 1.0 string form of `query`.
fn render(query: &Query) -> String {
    let name = query.method.as_str();
    match query.method {
        Method::OrderAsc | Method::OrderDesc => format!("{name}({})", quote(&query.attribute)),
        Method::Limit | Method::Offset | Method::CursorAfter | Method::CursorBefore => {
            match query.values.as_slice() {
                [single] => format!("{name}({})", render_value(single)),
                values => format!("{name}({})", render_list(values)),
            }
        }
        _ => format!(
            "{name}({}, {})",
            quote(&query.attribute),
            render_list(&query.values)
        ),
    }
}
