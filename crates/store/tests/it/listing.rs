//! `list_functions`: default order, limit and offset, `total`, filters, orders, project
//! isolation, the variables of each listed function, and the count cap. The fixture here is
//! shared with `cursors`.

use functiond_store::{COUNT_CAP, Store};
use functiond_types::function::Function;
use functiond_types::id::ProjectId;
use functiond_types::query::{Cursor, FilterOp, ListQuery, Scalar};

use crate::harness::{
    asc, at, desc, filter, function, ids, list_ids, project, stores, variable, with_vars,
};

/// Five functions, created in this order (which is neither ID nor name order):
///
/// | id    | name    | runtime    | enabled | timeout | scheduleNext | createdAt |
/// |-------|---------|------------|---------|---------|--------------|-----------|
/// | one   | alpha   | node-20.0  | true    | 15      | —            | +10 s     |
/// | two   | charlie | python-3.9 | false   | 30      | +500 s       | +20 s     |
/// | three | bravo   | node-20.0  | true    | 15      | +100 s       | +30 s     |
/// | four  | alpha   | php-8.0    | true    | 60      | —            | +40 s     |
/// | five  | delta   | python-3.9 | false   | 15      | +100 s       | +50 s     |
pub async fn catalogue(store: &dyn Store) -> ProjectId {
    let p = project(store, "alpha").await;
    let rows = [
        ("one", "alpha", "node-20.0", true, 15, None),
        ("two", "charlie", "python-3.9", false, 30, Some(500)),
        ("three", "bravo", "node-20.0", true, 15, Some(100)),
        ("four", "alpha", "php-8.0", true, 60, None),
        ("five", "delta", "python-3.9", false, 15, Some(100)),
    ];
    for (i, (id, name, runtime, enabled, timeout, next)) in (1..).zip(rows) {
        let f = Function {
            runtime: runtime.to_owned(),
            enabled,
            timeout,
            schedule: if next.is_some() { "* * * * *" } else { "" }.to_owned(),
            schedule_next: next.map(at),
            created_at: at(10 * i),
            updated_at: at(10 * i),
            ..function(id, name)
        };
        store.create_function(&p, &f, &[]).await.expect("create");
    }
    // Noise in another project that no listing of `alpha` may see.
    let other = project(store, "beta").await;
    for id in ["one", "six"] {
        store
            .create_function(&other, &function(id, "alpha"), &[])
            .await
            .expect("noise");
    }
    p
}

pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts the listing of `query` is exactly `expected`, with `total` matching rows.
pub async fn expect(
    store: &dyn Store,
    p: &ProjectId,
    query: &ListQuery,
    total: u64,
    expected: &[&str],
) {
    assert_eq!(
        list_ids(store, p, query).await,
        (total, names(expected)),
        "{query:?}"
    );
}

#[tokio::test]
async fn default_order_is_creation_order_with_limit_and_offset() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let all = ["one", "two", "three", "four", "five"];
        expect(store, &p, &ListQuery::default(), 5, &all).await;

        let page = |limit, offset| ListQuery {
            limit,
            offset,
            ..ListQuery::default()
        };
        expect(store, &p, &page(2, 0), 5, &["one", "two"]).await;
        expect(store, &p, &page(2, 2), 5, &["three", "four"]).await;
        expect(store, &p, &page(2, 4), 5, &["five"]).await;
        expect(store, &p, &page(25, 3), 5, &["four", "five"]).await;
        expect(store, &p, &page(25, 5), 5, &[]).await;
        expect(store, &p, &page(25, 5000), 5, &[]).await;
        expect(store, &p, &page(0, 0), 5, &[]).await;
        expect(store, &p, &page(100, 0), 5, &all).await;
    }
}

#[tokio::test]
async fn filters_narrow_the_list_and_the_total() {
    use FilterOp::{Equal, GreaterThan, GreaterThanEqual, LessThan, LessThanEqual, NotEqual};
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let text = |s: &str| Scalar::String(s.to_owned());
        let cases = [
            // Equal with several values ORs them; values matching nothing are harmless.
            (
                filter("name", Equal, vec![text("alpha")]),
                vec!["one", "four"],
            ),
            (
                filter(
                    "name",
                    Equal,
                    vec![text("delta"), text("alpha"), text("zulu")],
                ),
                vec!["one", "four", "five"],
            ),
            (
                filter("$id", Equal, vec![text("five"), text("two")]),
                vec!["two", "five"],
            ),
            (filter("name", Equal, vec![text("ALPHA")]), vec![]),
            (
                filter("name", NotEqual, vec![text("alpha")]),
                vec!["two", "three", "five"],
            ),
            (
                filter("runtime", Equal, vec![text("python-3.9")]),
                vec!["two", "five"],
            ),
            // Integers.
            (
                filter("timeout", Equal, vec![Scalar::Int(15), Scalar::Int(60)]),
                vec!["one", "three", "four", "five"],
            ),
            (
                filter("timeout", NotEqual, vec![Scalar::Int(15)]),
                vec!["two", "four"],
            ),
            (
                filter("timeout", LessThan, vec![Scalar::Int(30)]),
                vec!["one", "three", "five"],
            ),
            (
                filter("timeout", LessThanEqual, vec![Scalar::Int(30)]),
                vec!["one", "two", "three", "five"],
            ),
            (
                filter("timeout", GreaterThan, vec![Scalar::Int(15)]),
                vec!["two", "four"],
            ),
            (
                filter("timeout", GreaterThanEqual, vec![Scalar::Int(30)]),
                vec!["two", "four"],
            ),
            (
                filter("timeout", GreaterThan, vec![Scalar::Int(60)]),
                vec![],
            ),
            // Datetimes.
            (
                filter("$createdAt", LessThan, vec![Scalar::Datetime(at(30))]),
                vec!["one", "two"],
            ),
            (
                filter("$createdAt", LessThanEqual, vec![Scalar::Datetime(at(30))]),
                vec!["one", "two", "three"],
            ),
            (
                filter("$createdAt", GreaterThan, vec![Scalar::Datetime(at(30))]),
                vec!["four", "five"],
            ),
            (
                filter(
                    "$createdAt",
                    GreaterThanEqual,
                    vec![Scalar::Datetime(at(30))],
                ),
                vec!["three", "four", "five"],
            ),
            (
                filter("$createdAt", Equal, vec![Scalar::Datetime(at(40))]),
                vec!["four"],
            ),
            // A nullable datetime: functions without a schedule match no comparison.
            (
                filter("scheduleNext", GreaterThan, vec![Scalar::Datetime(at(0))]),
                vec!["two", "three", "five"],
            ),
            (
                filter("scheduleNext", Equal, vec![Scalar::Datetime(at(100))]),
                vec!["three", "five"],
            ),
            // Booleans.
            (
                filter("enabled", Equal, vec![Scalar::Bool(true)]),
                vec!["one", "three", "four"],
            ),
            (
                filter("enabled", Equal, vec![Scalar::Bool(false)]),
                vec!["two", "five"],
            ),
            (
                filter("enabled", NotEqual, vec![Scalar::Bool(true)]),
                vec!["two", "five"],
            ),
        ];
        for (f, expected) in cases {
            let query = ListQuery {
                filters: vec![f],
                ..ListQuery::default()
            };
            let total = u64::try_from(expected.len()).expect("small");
            expect(store, &p, &query, total, &expected).await;
        }
    }
}

#[tokio::test]
async fn filters_and_together_and_total_ignores_paging() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let enabled = filter("enabled", FilterOp::Equal, vec![Scalar::Bool(true)]);
        let short = filter("timeout", FilterOp::Equal, vec![Scalar::Int(15)]);
        let node = filter(
            "runtime",
            FilterOp::Equal,
            vec![Scalar::String("node-20.0".to_owned())],
        );
        let both = ListQuery {
            filters: vec![enabled.clone(), short.clone()],
            ..ListQuery::default()
        };
        expect(store, &p, &both, 2, &["one", "three"]).await;
        let none = ListQuery {
            filters: vec![
                short,
                node,
                filter(
                    "name",
                    FilterOp::Equal,
                    vec![Scalar::String("delta".to_owned())],
                ),
            ],
            ..ListQuery::default()
        };
        expect(store, &p, &none, 0, &[]).await;

        // `total` counts what the filters match, whatever the page shows.
        let paged = ListQuery {
            filters: vec![enabled.clone()],
            limit: 1,
            offset: 1,
            ..ListQuery::default()
        };
        expect(store, &p, &paged, 3, &["three"]).await;
        let after = ListQuery {
            filters: vec![enabled.clone()],
            cursor: Some(Cursor::After("three".to_owned())),
            ..ListQuery::default()
        };
        expect(store, &p, &after, 3, &["four"]).await;
        let before = ListQuery {
            filters: vec![enabled],
            cursor: Some(Cursor::Before("one".to_owned())),
            ..ListQuery::default()
        };
        expect(store, &p, &before, 3, &[]).await;
    }
}

#[tokio::test]
async fn orders_sort_with_creation_order_breaking_ties() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let cases = [
            (vec![asc("name")], ["one", "four", "three", "two", "five"]),
            (vec![desc("name")], ["five", "two", "three", "one", "four"]),
            (
                vec![asc("timeout")],
                ["one", "three", "five", "two", "four"],
            ),
            (
                vec![desc("timeout")],
                ["four", "two", "one", "three", "five"],
            ),
            // Functions without a schedule sort before every scheduled one.
            (
                vec![asc("scheduleNext")],
                ["one", "four", "three", "five", "two"],
            ),
            (
                vec![desc("scheduleNext")],
                ["two", "three", "five", "one", "four"],
            ),
            (
                vec![asc("$createdAt")],
                ["one", "two", "three", "four", "five"],
            ),
            (
                vec![desc("$createdAt")],
                ["five", "four", "three", "two", "one"],
            ),
            (vec![asc("$id")], ["five", "four", "one", "three", "two"]),
            (
                vec![asc("enabled")],
                ["two", "five", "one", "three", "four"],
            ),
            // Several orders apply in turn.
            (
                vec![asc("runtime"), desc("timeout")],
                ["one", "three", "four", "two", "five"],
            ),
            (
                vec![desc("enabled"), asc("name")],
                ["one", "four", "three", "two", "five"],
            ),
        ];
        for (orders, expected) in cases {
            let query = ListQuery {
                orders,
                ..ListQuery::default()
            };
            expect(store, &p, &query, 5, &expected).await;
        }
        // Paging through an order keeps it.
        let query = ListQuery {
            orders: vec![desc("timeout")],
            limit: 2,
            offset: 1,
            ..ListQuery::default()
        };
        expect(store, &p, &query, 5, &["two", "one"]).await;
    }
}

#[tokio::test]
async fn listed_functions_carry_their_own_variables() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let other = project(store, "beta").await;
        let fns: Vec<Function> = ["f1", "f2", "f3"].map(|id| function(id, id)).into();
        for f in &fns {
            store.create_function(&p, f, &[]).await.expect("create");
        }
        store
            .create_function(&other, &fns[0], &[])
            .await
            .expect("create in beta");
        // Created interleaved across functions.
        let v1 = variable("f1", "v1", "B", "f1 first");
        let v2 = variable("f3", "v2", "A", "f3 only");
        let v3 = variable("f1", "v3", "A", "f1 second");
        let noise = variable("f1", "v4", "C", "beta's");
        for v in [&v1, &v2, &v3] {
            store.create_variable(&p, v).await.expect("create variable");
        }
        store
            .create_variable(&other, &noise)
            .await
            .expect("variable in beta");

        let page = store
            .list_functions(&p, &ListQuery::default())
            .await
            .expect("list");
        assert_eq!(page.total, 3);
        assert_eq!(
            page.items,
            vec![
                with_vars(&fns[0], &[&v1, &v3]),
                with_vars(&fns[1], &[]),
                with_vars(&fns[2], &[&v2]),
            ]
        );
        // The same rows on a partial page.
        let query = ListQuery {
            orders: vec![desc("$id")],
            limit: 2,
            ..ListQuery::default()
        };
        let page = store.list_functions(&p, &query).await.expect("list");
        assert_eq!(
            page.items,
            vec![with_vars(&fns[2], &[&v2]), with_vars(&fns[1], &[])]
        );

        let page = store
            .list_functions(&other, &ListQuery::default())
            .await
            .expect("list beta");
        assert_eq!(page.items, vec![with_vars(&fns[0], &[&noise])]);
    }
}

#[tokio::test]
async fn total_is_capped() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let count = COUNT_CAP + 1;
        for i in 0..count {
            let mut f = function(&format!("f{i}"), "bulk");
            f.timeout = if i < 10 { 1 } else { 15 };
            store.create_function(&p, &f, &[]).await.expect("create");
        }
        let query = ListQuery {
            limit: 2,
            ..ListQuery::default()
        };
        let page = store.list_functions(&p, &query).await.expect("list");
        assert_eq!(page.total, COUNT_CAP);
        assert_eq!(ids(&page), names(&["f0", "f1"]));
        // Paging still reaches the rows past the cap.
        let last = ListQuery {
            cursor: Some(Cursor::After(format!("f{}", COUNT_CAP - 1))),
            ..ListQuery::default()
        };
        let last_id = format!("f{COUNT_CAP}");
        expect(store, &p, &last, COUNT_CAP, &[last_id.as_str()]).await;
        // Below the cap, totals are exact.
        let few = ListQuery {
            filters: vec![filter("timeout", FilterOp::Equal, vec![Scalar::Int(1)])],
            limit: 1,
            ..ListQuery::default()
        };
        expect(store, &p, &few, 10, &["f0"]).await;
        let most = ListQuery {
            filters: vec![filter("timeout", FilterOp::Equal, vec![Scalar::Int(15)])],
            limit: 1,
            ..ListQuery::default()
        };
        expect(store, &p, &most, COUNT_CAP - 9, &["f10"]).await;
    }
}
