//! `parse`: the string form, the JSON form, and the messages for text that is neither.

use super::{query, string};
use crate::query::{Method, QueryError, Value, parse};

fn ok(text: &str) -> crate::query::Query {
    match parse(text) {
        Ok(query) => query,
        Err(error) => panic!("{text:?} should parse, got {error:?}"),
    }
}

fn values(text: &str) -> Vec<Value> {
    ok(text).values
}

/// `text` must be refused as malformed, with the user's text in the message.
fn assert_syntax_error(text: &str) {
    let error = parse(text).expect_err(text);
    assert!(
        matches!(error, QueryError::Syntax { .. }),
        "{text:?}: {error:?}"
    );
    assert_eq!(error.to_string(), format!("Invalid query: {text}"));
}

#[test]
fn sdk_generated_queries() {
    assert_eq!(
        ok(r#"equal("name", ["Test"])"#),
        query(Method::Equal, "name", vec![string("Test")])
    );
    assert_eq!(
        ok(r#"equal("enabled", [true])"#),
        query(Method::Equal, "enabled", vec![Value::Bool(true)])
    );
    assert_eq!(
        ok("limit(25)"),
        query(Method::Limit, "", vec![Value::Int(25)])
    );
    assert_eq!(
        ok("offset(0)"),
        query(Method::Offset, "", vec![Value::Int(0)])
    );
    assert_eq!(
        ok(r#"cursorAfter("abc")"#),
        query(Method::CursorAfter, "", vec![string("abc")])
    );
    assert_eq!(
        ok(r#"cursorBefore("abc")"#),
        query(Method::CursorBefore, "", vec![string("abc")])
    );
    assert_eq!(
        ok(r#"orderDesc("$createdAt")"#),
        query(Method::OrderDesc, "$createdAt", vec![])
    );
    assert_eq!(
        ok(r#"orderAsc("name")"#),
        query(Method::OrderAsc, "name", vec![])
    );
}

#[test]
fn every_filter_method_name() {
    for (name, method) in [
        ("equal", Method::Equal),
        ("notEqual", Method::NotEqual),
        ("lessThan", Method::LessThan),
        ("lessThanEqual", Method::LessThanEqual),
        ("greaterThan", Method::GreaterThan),
        ("greaterThanEqual", Method::GreaterThanEqual),
        ("search", Method::Search),
    ] {
        let text = format!(r#"{name}("timeout", [1, 2])"#);
        assert_eq!(
            ok(&text),
            query(method, "timeout", vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(Method::from_name(name), Some(method));
        assert_eq!(method.as_str(), name);
    }
}

#[test]
fn a_single_value_is_wrapped() {
    assert_eq!(
        ok(r#"equal("enabled", true)"#).values,
        vec![Value::Bool(true)]
    );
    assert_eq!(values(r#"equal("name", "x")"#), vec![string("x")]);
    assert_eq!(ok("limit([5])").values, vec![Value::Int(5)]);
}

#[test]
fn keywords_and_numbers() {
    assert_eq!(
        values(r#"equal("a", [true, false, null, 1, -2, 0, 1.5, -0.25, 1e3, 2E-2, 007])"#),
        vec![
            Value::Bool(true),
            Value::Bool(false),
            Value::Null,
            Value::Int(1),
            Value::Int(-2),
            Value::Int(0),
            Value::Float(1.5),
            Value::Float(-0.25),
            Value::Float(1000.0),
            Value::Float(0.02),
            Value::Int(7),
        ]
    );
    // Too big for i64 is still a number; too big for f64 is just text.
    assert_eq!(
        values(r#"equal("a", [99999999999999999999])"#),
        vec![Value::Float(1e20)]
    );
    assert_eq!(values(r#"equal("a", [1e999])"#), vec![string("1e999")]);
    assert_eq!(
        values("limit(-9223372036854775808)"),
        vec![Value::Int(i64::MIN)]
    );
}

#[test]
fn unquoted_text_stays_a_trimmed_string() {
    assert_eq!(
        ok("equal(name, [ hello world , TRUE, inf, NaN, +1, .5, 5., 1-2, a\\b ])"),
        query(
            Method::Equal,
            "name",
            [
                "hello world",
                "TRUE",
                "inf",
                "NaN",
                "+1",
                ".5",
                "5.",
                "1-2",
                "a\\b"
            ]
            .into_iter()
            .map(string)
            .collect()
        )
    );
}

#[test]
fn whitespace_outside_strings_is_ignored() {
    assert_eq!(
        ok("  equal ( \"name\" ,\n\t[ \" x \" , 2 ] )  "),
        query(Method::Equal, "name", vec![string(" x "), Value::Int(2)])
    );
    assert_eq!(
        ok(" limit ( 3 ) "),
        query(Method::Limit, "", vec![Value::Int(3)])
    );
}

#[test]
fn single_quotes_and_escapes() {
    assert_eq!(
        values(r#"equal('name', ['it\'s', 'a\\b', 'x\,y', '\[z\]', "say \"hi\"", "it's", 'a"b'])"#),
        vec![
            string("it's"),
            string("a\\b"),
            string("x,y"),
            string("[z]"),
            string("say \"hi\""),
            string("it's"),
            string("a\"b"),
        ]
    );
    assert_eq!(ok(r#"equal('name', ['x'])"#).attribute, "name");
    // An unknown escape keeps its backslash, since SDKs never escape.
    assert_eq!(
        values(r#"equal("path", ["C:\dir\new"])"#),
        vec![string("C:\\dir\\new")]
    );
}

#[test]
fn quoted_text_never_splits_or_converts() {
    assert_eq!(
        values(r#"equal("name", ["a,b", "c)d", "(", "]", "[x, y]", "true", "12", "null", ""])"#),
        ["a,b", "c)d", "(", "]", "[x, y]", "true", "12", "null", ""]
            .into_iter()
            .map(string)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        values(r#"equal("name", ["héllo ✓ 日本"])"#),
        vec![string("héllo ✓ 日本")]
    );
}

#[test]
fn order_with_an_empty_or_missing_attribute() {
    assert_eq!(ok(r#"orderAsc("")"#), query(Method::OrderAsc, "", vec![]));
    assert_eq!(ok("orderDesc()"), query(Method::OrderDesc, "", vec![]));
}

#[test]
fn old_syntax_and_unknown_methods_are_refused() {
    for (text, method) in [
        (r#"name.equal("x")"#, "name.equal"),
        (r#"contains("name", ["x"])"#, "contains"),
        (r#"Equal("name", ["x"])"#, "Equal"),
        (r#" isNull ("name")"#, "isNull"),
        (r#"{"method":"name.equal"}"#, "name.equal"),
        (
            r#"{"method":"contains","attribute":"name","values":["x"]}"#,
            "contains",
        ),
    ] {
        let error = parse(text).expect_err(text);
        assert_eq!(
            error,
            QueryError::UnknownMethod {
                method: method.to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            format!("Query method not valid: {method}")
        );
    }
}

#[test]
fn malformed_text_is_refused_with_the_text() {
    for text in [
        "",
        "   ",
        "equal",
        r#"("name", ["x"])"#,
        r#"equal("name", ["x"]"#,
        r#"equal("name", ["x")"#,
        r#"equal("name", "x)"#,
        r#"equal("name", ['x"])"#,
        r#"equal("name", ["x"]) junk"#,
        r#"equal("name", ["x"]))"#,
        r#"equal("name", [["x"]])"#,
        r#"equal("name", [1,])"#,
        r#"equal("name", [,1])"#,
        r#"equal("name", [1 "2"])"#,
        r#"equal("name",)"#,
        r#"equal("name")"#,
        r#"equal("name", [1], [2])"#,
        r#"equal(5, [1])"#,
        r#"equal(["name"], [1])"#,
        r#"equal("name", ["x"] "y")"#,
        r#"equal("name", [x"y"])"#,
        r#"equal(a(b), [1])"#,
        r#"equal("a\"#,
        "limit()",
        "limit(1, 2)",
        "cursorAfter()",
        r#"orderAsc("a", "b")"#,
        "orderAsc(5)",
    ] {
        assert_syntax_error(text);
    }
}

#[test]
fn syntax_errors_carry_a_reason() {
    let Err(QueryError::Syntax { reason, .. }) = parse(r#"equal("name", ["x"#) else {
        panic!("expected a syntax error");
    };
    assert_eq!(reason, "unterminated string");
}

#[test]
fn json_form() {
    assert_eq!(
        ok(r#"{"method":"equal","attribute":"name","values":["x", 2, 2.5, true, null]}"#),
        query(
            Method::Equal,
            "name",
            vec![
                string("x"),
                Value::Int(2),
                Value::Float(2.5),
                Value::Bool(true),
                Value::Null
            ]
        )
    );
    assert_eq!(
        ok(r#"  { "method": "limit", "values": [25] }"#),
        query(Method::Limit, "", vec![Value::Int(25)])
    );
    assert_eq!(
        ok(r#"{"method":"offset","values":5}"#).values,
        vec![Value::Int(5)]
    );
    assert_eq!(
        ok(r#"{"method":"limit","values":[25.0]}"#).values,
        vec![Value::Int(25)]
    );
    assert_eq!(
        ok(r#"{"method":"equal","values":[18446744073709551615, -1e300]}"#).values,
        vec![
            Value::Float(18_446_744_073_709_551_615.0),
            Value::Float(-1e300)
        ]
    );
    assert_eq!(
        ok(r#"{"method":"orderAsc"}"#),
        query(Method::OrderAsc, "", vec![])
    );
    assert_eq!(
        ok(r#"{"method":"cursorAfter","values":["abc"],"extra":1}"#),
        query(Method::CursorAfter, "", vec![string("abc")])
    );
}

#[test]
fn malformed_json_is_refused() {
    for text in [
        "{",
        "{not json}",
        "{}",
        r#"{"method":5}"#,
        r#"{"method":null}"#,
        r#"{"method":"equal","attribute":5}"#,
        r#"{"method":"equal","values":[[1]]}"#,
        r#"{"method":"equal","values":[{"a":1}]}"#,
        r#"{"method":"equal","values":{"a":1}}"#,
        r#"{"method":"equal"} trailing"#,
        r#"["equal"]"#,
    ] {
        assert_syntax_error(text);
    }
}
