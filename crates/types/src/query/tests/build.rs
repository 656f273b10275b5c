//! `build`: schema checks, value types, filters and orders, and which failure is reported.

use super::SCHEMA;
use crate::query::{
    Cursor, Direction, Filter, FilterOp, ListQuery, Order, QueryError, Scalar, Value, build,
};
use crate::time::Timestamp;

pub(super) fn owned(queries: &[&str]) -> Vec<String> {
    queries.iter().map(|text| (*text).to_owned()).collect()
}

pub(super) fn ok(queries: &[&str]) -> ListQuery {
    match build(&SCHEMA, &owned(queries), None) {
        Ok(list) => list,
        Err(error) => panic!("{queries:?} should be valid, got {error:?}"),
    }
}

pub(super) fn fails(queries: &[&str]) -> QueryError {
    build(&SCHEMA, &owned(queries), None).expect_err("should be refused")
}

pub(super) fn message(queries: &[&str]) -> String {
    fails(queries).to_string()
}

fn single_filter(text: &str) -> Filter {
    let mut list = ok(&[text]);
    assert_eq!(list.filters.len(), 1, "{text}");
    list.filters.remove(0)
}

#[test]
fn no_queries_gives_the_defaults() {
    let list = ok(&[]);
    assert_eq!(list, ListQuery::default());
    assert_eq!((list.limit, list.offset), (25, 0));
    assert_eq!((list.cursor, list.search), (None, None));
    assert!(list.filters.is_empty() && list.orders.is_empty());
}

#[test]
fn sdk_queries_fold_into_a_list_query() {
    let list = ok(&[
        r#"equal("name", ["Test"])"#,
        r#"equal("enabled", [true])"#,
        "limit(10)",
        "offset(5)",
        r#"cursorAfter("abc")"#,
        r#"orderDesc("$createdAt")"#,
    ]);
    assert_eq!(
        list,
        ListQuery {
            filters: vec![
                Filter {
                    attribute: "name",
                    op: FilterOp::Equal,
                    values: vec![Scalar::String("Test".to_owned())]
                },
                Filter {
                    attribute: "enabled",
                    op: FilterOp::Equal,
                    values: vec![Scalar::Bool(true)]
                },
            ],
            orders: vec![Order {
                attribute: "$createdAt",
                direction: Direction::Desc
            }],
            limit: 10,
            offset: 5,
            cursor: Some(Cursor::After("abc".to_owned())),
            search: None,
        }
    );
}

#[test]
fn each_filter_method_maps_to_its_op() {
    for (name, op) in [
        ("equal", FilterOp::Equal),
        ("notEqual", FilterOp::NotEqual),
        ("lessThan", FilterOp::LessThan),
        ("lessThanEqual", FilterOp::LessThanEqual),
        ("greaterThan", FilterOp::GreaterThan),
        ("greaterThanEqual", FilterOp::GreaterThanEqual),
    ] {
        let filter = single_filter(&format!(r#"{name}("timeout", [1, 2, 3])"#));
        assert_eq!(
            filter,
            Filter {
                attribute: "timeout",
                op,
                values: vec![Scalar::Int(1), Scalar::Int(2), Scalar::Int(3)]
            }
        );
    }
}

#[test]
fn values_are_typed_by_their_attribute() {
    assert_eq!(
        single_filter(r#"equal("enabled", true)"#).values,
        vec![Scalar::Bool(true)]
    );
    assert_eq!(
        single_filter(r#"equal("runtime", 'node-18.0')"#).values,
        vec![Scalar::String("node-18.0".to_owned())]
    );
    // An integer is a valid float; a float stays one.
    assert_eq!(
        single_filter(r#"lessThan("duration", [2, 0.5])"#).values,
        vec![Scalar::Float(2.0), Scalar::Float(0.5)]
    );
    assert_eq!(
        single_filter(r#"equal("$id", ["abc"])"#).values,
        vec![Scalar::String("abc".to_owned())]
    );
}

#[test]
fn datetime_values_are_parsed() {
    let filter = single_filter(r#"greaterThan("$createdAt", ["2022-10-12T10:41:07.123+00:00"])"#);
    let at = Timestamp::from_millis(1_665_571_267_123);
    assert_eq!(filter.attribute, "$createdAt");
    assert_eq!(filter.op, FilterOp::GreaterThan);
    assert_eq!(filter.values, vec![Scalar::Datetime(at)]);
    assert_eq!(
        single_filter(r#"lessThan("$updatedAt", ["2022-10-12 10:41:07.123"])"#).values,
        vec![Scalar::Datetime(at)]
    );
    assert_eq!(
        single_filter(r#"equal("scheduleNext", ["2022-10-12T12:41:07.123+02:00"])"#).values,
        vec![Scalar::Datetime(at)]
    );
}

#[test]
fn mismatched_types_are_refused() {
    for (text, expected) in [
        (r#"equal("name", [5])"#, "string"),
        (r#"equal("name", ["a", true])"#, "string"),
        (r#"equal("name", [null])"#, "string"),
        (r#"equal("timeout", [1.5])"#, "integer"),
        (r#"equal("timeout", ["5"])"#, "integer"),
        (r#"equal("duration", ["1.5"])"#, "double"),
        (r#"equal("duration", [true])"#, "double"),
        (r#"equal("enabled", ["true"])"#, "boolean"),
        (r#"equal("enabled", [1])"#, "boolean"),
        (r#"equal("enabled", null)"#, "boolean"),
        (r#"greaterThan("$createdAt", ["yesterday"])"#, "datetime"),
        (r#"greaterThan("$createdAt", [1665571267])"#, "datetime"),
        (r#"equal("scheduleNext", [null])"#, "datetime"),
    ] {
        let error = fails(&[text]);
        assert!(
            matches!(error, QueryError::TypeMismatch { .. }),
            "{text}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("Query type does not match expected: {expected}")
        );
    }
}

#[test]
fn attributes_must_be_in_the_schema() {
    assert_eq!(
        message(&[r#"equal("nope", ["x"])"#]),
        "Attribute not found in schema: nope"
    );
    assert_eq!(
        message(&[r#"orderAsc("nope")"#]),
        "Attribute not found in schema: nope"
    );
    assert_eq!(
        message(&[r#"equal("Name", ["x"])"#]),
        "Attribute not found in schema: Name"
    );
    assert_eq!(
        message(&[r#"search("nope", ["x"])"#]),
        "Attribute not found in schema: nope"
    );
    assert_eq!(
        message(&[r#"equal("", ["x"])"#]),
        "Attribute not found in schema: "
    );
}

#[test]
fn search_queries_need_a_fulltext_index() {
    for attribute in ["name", "$id"] {
        assert_eq!(
            message(&[&format!(r#"search("{attribute}", ["text"])"#)]),
            format!(r#"Searching by attribute "{attribute}" requires a fulltext index."#)
        );
    }
}

#[test]
fn between_one_and_a_hundred_values() {
    assert_eq!(
        message(&[r#"equal("name", [])"#]),
        "Query values must not be empty: name"
    );
    assert_eq!(
        message(&[r#"{"method":"equal","attribute":"timeout"}"#]),
        "Query values must not be empty: timeout"
    );
    let list = |count: usize| {
        let items: Vec<String> = (0..count).map(|n| n.to_string()).collect();
        format!(r#"equal("timeout", [{}])"#, items.join(","))
    };
    assert_eq!(single_filter(&list(100)).values.len(), 100);
    assert_eq!(
        message(&[&list(101)]),
        "Query on attribute has greater than 100 values: timeout"
    );
}

#[test]
fn orders_keep_their_order_and_skip_the_natural_one() {
    let list = ok(&[
        r#"orderAsc("name")"#,
        r#"orderAsc("")"#,
        r#"orderDesc("$createdAt")"#,
    ]);
    assert_eq!(
        list.orders,
        vec![
            Order {
                attribute: "name",
                direction: Direction::Asc
            },
            Order {
                attribute: "$createdAt",
                direction: Direction::Desc
            },
        ]
    );
    assert!(ok(&[r#"orderDesc("")"#]).orders.is_empty());
}

#[test]
fn json_queries_are_validated_the_same_way() {
    let list = ok(&[
        r#"{"method":"equal","attribute":"enabled","values":[true]}"#,
        r#"{"method":"limit","values":[5]}"#,
        r#"{"method":"cursorBefore","values":["abc"]}"#,
        r#"{"method":"orderAsc","attribute":"timeout"}"#,
    ]);
    assert_eq!(list.filters[0].values, vec![Scalar::Bool(true)]);
    assert_eq!(list.limit, 5);
    assert_eq!(list.cursor, Some(Cursor::Before("abc".to_owned())));
    assert_eq!(
        list.orders,
        vec![Order {
            attribute: "timeout",
            direction: Direction::Asc
        }]
    );
}

#[test]
fn the_first_failure_in_order_is_reported() {
    assert_eq!(
        fails(&[r#"equal("nope", ["x"])"#, "limit(500)"]),
        QueryError::UnknownAttribute {
            attribute: "nope".to_owned()
        }
    );
    assert_eq!(
        fails(&["limit(500)", r#"equal("nope", ["x"])"#]),
        QueryError::InvalidLimit {
            value: Some(Value::Int(500))
        }
    );
    assert_eq!(
        message(&["limit(5)", "contains(\"name\", [\"x\"])"]),
        "Query method not valid: contains"
    );
}
