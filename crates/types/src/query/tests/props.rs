//! Properties over generated input: parsing and building never panic, and every well-formed
//! query survives rendering and parsing again, in both the string and the JSON form.

use proptest::prelude::*;

use super::{SCHEMA, render};
use crate::query::{Method, Query, Value, build, parse};

/// The chars that matter to the grammar, plus a little plain text.
const GRAMMAR_CHARS: &str = r#"[()\[\],"'\\ a-z0-9.{}:\-]{0,48}"#;

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(Method::ALL.to_vec())
}

/// Any finite float: the string form must carry every one exactly.
fn any_float() -> BoxedStrategy<f64> {
    prop_oneof![prop::num::f64::NORMAL, Just(0.0), Just(-0.0)].boxed()
}

/// Sixteenths with few digits. serde_json's default float parser is fast rather than exact, so
/// the JSON round trip sticks to floats that every parser reads back exactly.
fn short_float() -> BoxedStrategy<f64> {
    any::<i32>().prop_map(|n| f64::from(n) / 16.0).boxed()
}

fn value(floats: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        floats.prop_map(Value::Float),
        any::<String>().prop_map(Value::String),
        GRAMMAR_CHARS.prop_map(Value::String),
    ]
}

/// Queries in the shape the string form can express for their method.
fn well_formed() -> impl Strategy<Value = Query> {
    well_formed_with(any_float())
}

fn well_formed_with(floats: BoxedStrategy<f64>) -> impl Strategy<Value = Query> {
    let known = prop::sample::select(
        SCHEMA
            .attributes
            .iter()
            .map(|attr| attr.name.to_owned())
            .collect::<Vec<_>>(),
    );
    let attribute = prop_oneof![any::<String>(), GRAMMAR_CHARS, Just(String::new()), known];
    (
        method(),
        attribute,
        prop::collection::vec(value(floats), 0..6),
    )
        .prop_map(|(method, attribute, values)| match method {
            Method::OrderAsc | Method::OrderDesc => Query {
                method,
                attribute,
                values: vec![],
            },
            Method::Limit | Method::Offset | Method::CursorAfter | Method::CursorBefore => Query {
                method,
                attribute: String::new(),
                values,
            },
            _ => Query {
                method,
                attribute,
                values,
            },
        })
}

/// Almost-valid text: a real method name around grammar soup, or a valid query cut short or
/// with a char swapped.
fn near_valid() -> impl Strategy<Value = String> {
    prop_oneof![
        (method(), GRAMMAR_CHARS).prop_map(|(method, args)| format!("{}({args}", method.as_str())),
        (method(), GRAMMAR_CHARS).prop_map(|(method, args)| format!("{}({args})", method.as_str())),
        (well_formed(), any::<prop::sample::Index>())
            .prop_map(|(query, cut)| cut_at(&render(&query), cut)),
        (well_formed(), any::<prop::sample::Index>(), any::<char>())
            .prop_map(|(query, at, swap)| swap_at(&render(&query), at, swap)),
        GRAMMAR_CHARS.prop_map(|body| format!("{{{body}}}")),
    ]
}

fn cut_at(text: &str, at: prop::sample::Index) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars[..at.index(chars.len() + 1)].iter().collect()
}

fn swap_at(text: &str, at: prop::sample::Index, swap: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() {
        let index = at.index(chars.len());
        chars[index] = swap;
    }
    chars.into_iter().collect()
}

/// The JSON form of `query`, with every field written out.
fn render_json(query: &Query) -> String {
    let values: Vec<serde_json::Value> = query
        .values
        .iter()
        .map(|value| match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(int) => serde_json::Value::from(*int),
            Value::Float(float) => serde_json::Value::from(*float),
            Value::String(text) => serde_json::Value::from(text.as_str()),
        })
        .collect();
    serde_json::json!({
        "method": query.method.as_str(),
        "attribute": query.attribute,
        "values": values,
    })
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_grammar_soup(text in GRAMMAR_CHARS) {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_near_valid_text(text in near_valid()) {
        let _ = parse(&text);
    }

    #[test]
    fn string_form_round_trips(query in well_formed()) {
        let text = render(&query);
        prop_assert_eq!(parse(&text), Ok(query), "rendered as {}", text);
    }

    #[test]
    fn json_form_round_trips(query in well_formed_with(short_float())) {
        // JSON cannot tell `2.0` from `2`, so integral floats read back as integers (the
        // sixteenths are far inside the i64 range).
        let text = render_json(&query);
        let mut expected = query;
        for value in &mut expected.values {
            if let Value::Float(float) = *value
                && float.fract() == 0.0
            {
                *value = Value::Int(float as i64);
            }
        }
        prop_assert_eq!(parse(&text), Ok(expected), "rendered as {}", text);
    }

    #[test]
    fn build_never_panics(
        queries in prop::collection::vec(
            prop_oneof![
                well_formed().prop_map(|query| render(&query)),
                near_valid(),
                any::<String>(),
            ],
            0..8,
        ),
        search in proptest::option::of(any::<String>()),
    ) {
        let _ = build(&SCHEMA, &queries, search.as_deref());
    }
}
