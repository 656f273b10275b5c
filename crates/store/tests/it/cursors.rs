//! Keyset cursors of `list_functions`: `Cursor::After` and `Cursor::Before` with the default
//! order, with orders that tie, with nullable sort keys, and cursors that name no row.

use functiond_store::{Store, StoreError};
use functiond_types::id::ProjectId;
use functiond_types::query::{Cursor, FilterOp, ListQuery, Order, Scalar};

use crate::harness::{asc, desc, fid, filter, stores};
use crate::listing::{catalogue, expect};

fn after(id: &str) -> Option<Cursor> {
    Some(Cursor::After(id.to_owned()))
}

fn before(id: &str) -> Option<Cursor> {
    Some(Cursor::Before(id.to_owned()))
}

/// Lists with `orders` from each `(cursor, limit)` and expects exactly those IDs (and the
/// full total of 5, which cursors never change).
async fn walk(
    store: &dyn Store,
    p: &ProjectId,
    orders: &[Order],
    cases: &[(Option<Cursor>, u32, &[&str])],
) {
    for (cursor, limit, expected) in cases {
        let query = ListQuery {
            orders: orders.to_vec(),
            cursor: cursor.clone(),
            limit: *limit,
            ..ListQuery::default()
        };
        expect(store, p, &query, 5, expected).await;
    }
}

#[tokio::test]
async fn cursors_return_the_right_neighbours() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;

        // Creation order: one two three four five.
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("two"), 25, &["three", "four", "five"]),
            (after("two"), 1, &["three"]),
            (after("five"), 25, &[]),
            (before("four"), 25, &["one", "two", "three"]),
            (before("four"), 2, &["two", "three"]),
            (before("one"), 25, &[]),
        ];
        walk(store, &p, &[], cases).await;

        // orderDesc(timeout), ties in creation order: four(60) two(30) one three five(15).
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("four"), 25, &["two", "one", "three", "five"]),
            (after("two"), 25, &["one", "three", "five"]),
            (after("one"), 25, &["three", "five"]),
            (after("three"), 1, &["five"]),
            (after("five"), 25, &[]),
            (before("five"), 25, &["four", "two", "one", "three"]),
            (before("five"), 2, &["one", "three"]),
            (before("three"), 1, &["one"]),
            (before("one"), 25, &["four", "two"]),
            (before("four"), 25, &[]),
        ];
        walk(store, &p, &[desc("timeout")], cases).await;

        // orderAsc(scheduleNext), unscheduled first: one four (—) three five (100) two (500).
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("one"), 25, &["four", "three", "five", "two"]),
            (after("four"), 2, &["three", "five"]),
            (before("three"), 25, &["one", "four"]),
            (before("two"), 1, &["five"]),
        ];
        walk(store, &p, &[asc("scheduleNext")], cases).await;

        // orderDesc(scheduleNext): two three five one four.
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("five"), 25, &["one", "four"]),
            (after("one"), 25, &["four"]),
            (before("one"), 25, &["two", "three", "five"]),
            (before("four"), 1, &["one"]),
        ];
        walk(store, &p, &[desc("scheduleNext")], cases).await;

        // orderAsc(name): one four (alpha) three (bravo) two (charlie) five (delta).
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("one"), 2, &["four", "three"]),
            (before("three"), 25, &["one", "four"]),
        ];
        walk(store, &p, &[asc("name")], cases).await;

        // orderAsc(runtime), orderDesc(timeout): one three four two five.
        let cases: &[(Option<Cursor>, u32, &[&str])] = &[
            (after("three"), 25, &["four", "two", "five"]),
            (before("two"), 2, &["three", "four"]),
        ];
        walk(store, &p, &[asc("runtime"), desc("timeout")], cases).await;

        // Offset counts from the cursor.
        let query = ListQuery {
            cursor: after("one"),
            offset: 1,
            limit: 2,
            ..ListQuery::default()
        };
        expect(store, &p, &query, 5, &["three", "four"]).await;

        // The cursor row positions the page even when the filters exclude it.
        let query = ListQuery {
            filters: vec![filter("enabled", FilterOp::Equal, vec![Scalar::Bool(true)])],
            orders: vec![desc("timeout")],
            cursor: after("two"),
            ..ListQuery::default()
        };
        expect(store, &p, &query, 3, &["one", "three"]).await;
    }
}

#[tokio::test]
async fn unknown_cursors_are_refused() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        assert!(
            store
                .delete_function(&p, &fid("three"), &[])
                .await
                .expect("delete")
        );
        // "six" exists, but only in the other project; "three" existed until just now.
        for id in ["missing", "six", "three"] {
            for cursor in [Cursor::After(id.to_owned()), Cursor::Before(id.to_owned())] {
                let query = ListQuery {
                    cursor: Some(cursor.clone()),
                    orders: vec![desc("timeout")],
                    ..ListQuery::default()
                };
                let error = store.list_functions(&p, &query).await.expect_err("cursor");
                assert!(
                    matches!(&error, StoreError::CursorNotFound { id: got } if got == id),
                    "{cursor:?}: {error:?}"
                );
            }
        }
    }
}
