//! `build`: pagination (`limit`, `offset`, cursors), the `search` parameter and the bounds on
//! the `queries[]` list itself.

use super::SCHEMA;
use super::build::{fails, message, ok};
use crate::query::{Cursor, QueryError, build};

#[test]
fn limit_range() {
    assert_eq!(ok(&["limit(0)"]).limit, 0);
    assert_eq!(ok(&["limit(100)"]).limit, 100);
    for text in [
        "limit(101)",
        "limit(-1)",
        r#"limit("25")"#,
        "limit(2.5)",
        "limit(null)",
        "limit([])",
    ] {
        let error = fails(&[text]);
        assert!(
            matches!(error, QueryError::InvalidLimit { .. }),
            "{text}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            "Invalid limit: Value must be a valid range between 0 and 100"
        );
    }
}

#[test]
fn offset_range() {
    assert_eq!(ok(&["offset(0)"]).offset, 0);
    assert_eq!(ok(&["offset(5000)"]).offset, 5000);
    for text in [
        "offset(5001)",
        "offset(-1)",
        "offset(true)",
        r#"{"method":"offset"}"#,
    ] {
        let error = fails(&[text]);
        assert!(
            matches!(error, QueryError::InvalidOffset { .. }),
            "{text}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            "Invalid offset: Value must be a valid range between 0 and 5,000"
        );
    }
}

#[test]
fn only_the_first_limit_offset_and_cursor_count() {
    let list = ok(&[
        "limit(10)",
        "offset(3)",
        r#"cursorAfter("first")"#,
        "limit(20)",
        "limit(500)",
        "offset(9999)",
        r#"cursorBefore("second")"#,
        r#"cursorAfter("_not-a-uid")"#,
    ]);
    assert_eq!((list.limit, list.offset), (10, 3));
    assert_eq!(list.cursor, Some(Cursor::After("first".to_owned())));
    assert_eq!(
        ok(&[r#"cursorBefore("b")"#, r#"cursorAfter("a")"#]).cursor,
        Some(Cursor::Before("b".to_owned()))
    );
    // Later ones are still parsed.
    assert!(matches!(
        fails(&["limit(10)", "limit(x"]),
        QueryError::Syntax { .. }
    ));
}

#[test]
fn cursors_must_be_uids() {
    let max = "a".repeat(36);
    for id in ["abc", "a.b-c_d", "5e8f", "A9", max.as_str()] {
        assert_eq!(
            ok(&[&format!(r#"cursorBefore("{id}")"#)]).cursor,
            Some(Cursor::Before(id.to_owned()))
        );
    }
    let long = "a".repeat(37);
    for text in [
        r#"cursorAfter("")"#.to_owned(),
        r#"cursorAfter("_a")"#.to_owned(),
        r#"cursorAfter(".a")"#.to_owned(),
        r#"cursorAfter("-a")"#.to_owned(),
        r#"cursorAfter("a b")"#.to_owned(),
        r#"cursorAfter("ä")"#.to_owned(),
        format!(r#"cursorAfter("{long}")"#),
        "cursorAfter(5)".to_owned(),
        "cursorAfter(null)".to_owned(),
        r#"cursorAfter([])"#.to_owned(),
    ] {
        let error = fails(&[&text]);
        assert!(
            matches!(error, QueryError::InvalidCursor { .. }),
            "{text}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            "Invalid cursor: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, \
             period, hyphen, and underscore. Can't start with a special char"
        );
    }
}

#[test]
fn search_parameter() {
    let search = |term: &str| build(&SCHEMA, &[], Some(term));
    assert_eq!(build(&SCHEMA, &[], None).map(|list| list.search), Ok(None));
    assert_eq!(search("").map(|list| list.search), Ok(None));
    assert_eq!(search(" \t ").map(|list| list.search), Ok(None));
    assert_eq!(
        search("  hello world ").map(|list| list.search),
        Ok(Some("hello world".to_owned()))
    );
    let longest = "é".repeat(256);
    assert_eq!(
        search(&longest).map(|list| list.search),
        Ok(Some(longest.clone()))
    );
    let error = search(&"a".repeat(257)).expect_err("too long");
    assert_eq!(error, QueryError::InvalidSearch { length: 257 });
    assert_eq!(
        error.to_string(),
        "Invalid search: Value must be a valid string and no longer than 256 chars"
    );
}

#[test]
fn query_count_and_length_are_bounded() {
    const MESSAGE: &str = "Invalid queries: Value must a valid array no longer than 100 items and \
                           Value must be a valid string and at least 1 chars and no longer than \
                           4096 chars";
    assert_eq!(ok(&["limit(5)"; 100]).limit, 5);
    assert_eq!(message(&["limit(5)"; 101]), MESSAGE);
    assert_eq!(message(&[""]), MESSAGE);

    let padded = |chars: usize, fill: char| {
        let frame = r#"equal("name", [""])"#.len();
        format!(
            r#"equal("name", ["{}"])"#,
            fill.to_string().repeat(chars - frame)
        )
    };
    assert_eq!(ok(&[&padded(4096, 'x')]).filters.len(), 1);
    // The bound is in chars, not bytes.
    assert_eq!(ok(&[&padded(4096, 'é')]).filters.len(), 1);
    assert_eq!(message(&[&padded(4097, 'x')]), MESSAGE);
}
