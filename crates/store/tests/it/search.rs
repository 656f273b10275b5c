//! The `search` param of `list_functions`: any word of the search is a case-insensitive
//! prefix of a word of the function's ID, name or runtime; `_` and `%` are plain characters.

use functiond_store::Store;
use functiond_types::id::ProjectId;
use functiond_types::query::{FilterOp, ListQuery, Scalar};

use crate::harness::{fid, filter, function, list_ids, project, stores};

/// Four functions whose ID, name and runtime words do not overlap:
///
/// | id      | name           | runtime    |
/// |---------|----------------|------------|
/// | hello-1 | Test Function  | node-20.0  |
/// | fn_1    | Mailer         | python-3.9 |
/// | fnx1    | Résumé Builder | php-8.2    |
/// | other   | Cron job       | ruby-3.3   |
async fn catalogue(store: &dyn Store) -> ProjectId {
    let p = project(store, "alpha").await;
    let rows = [
        ("hello-1", "Test Function", "node-20.0"),
        ("fn_1", "Mailer", "python-3.9"),
        ("fnx1", "Résumé Builder", "php-8.2"),
        ("other", "Cron job", "ruby-3.3"),
    ];
    for (id, name, runtime) in rows {
        let mut f = function(id, name);
        f.runtime = runtime.to_owned();
        store.create_function(&p, &f, &[]).await.expect("create");
    }
    // A project whose function would match every search below.
    let noise = project(store, "beta").await;
    let mut f = function("hello-2", "Test Mailer Résumé Cron fn_1 fnx1 function");
    f.runtime = "node-20.0".to_owned();
    store.create_function(&noise, &f, &[]).await.expect("noise");
    p
}

fn search(text: &str) -> ListQuery {
    ListQuery {
        search: Some(text.to_owned()),
        ..ListQuery::default()
    }
}

async fn expect(store: &dyn Store, p: &ProjectId, query: &ListQuery, expected: &[&str]) {
    let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    let total = u64::try_from(expected.len()).expect("small");
    assert_eq!(
        list_ids(store, p, query).await,
        (total, expected),
        "{query:?}"
    );
}

#[tokio::test]
async fn search_matches_id_name_and_runtime_words() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let cases: [(&str, &[&str]); 21] = [
            // By ID.
            ("hello-1", &["hello-1"]),
            ("other", &["other"]),
            ("fnx1", &["fnx1"]),
            // By a name word, whole or as a prefix, in any case.
            ("Function", &["hello-1"]),
            ("Tes", &["hello-1"]),
            ("test", &["hello-1"]),
            ("TEST", &["hello-1"]),
            ("fUnC", &["hello-1"]),
            ("builder", &["fnx1"]),
            ("RÉSUMÉ", &["fnx1"]),
            ("rés", &["fnx1"]),
            // By runtime.
            ("node-20.0", &["hello-1"]),
            ("python", &["fn_1"]),
            // Only word prefixes count, not substrings.
            ("est", &[]),
            ("unction", &[]),
            // Any word of the search may match.
            ("mailer cron", &["fn_1", "other"]),
            ("nothing job", &["other"]),
            ("hello-10", &["hello-1"]),
            ("fn", &["fn_1", "fnx1"]),
            ("f", &["hello-1", "fn_1", "fnx1"]),
            // Nothing matches.
            ("zebra", &[]),
        ];
        for (text, expected) in cases {
            expect(store, &p, &search(text), expected).await;
        }
    }
}

#[tokio::test]
async fn search_treats_like_wildcards_as_plain_characters() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        let cases: [(&str, &[&str]); 9] = [
            // `_` is part of a word and matches only itself: "fn_1" but not "fnx1".
            ("fn_1", &["fn_1"]),
            ("fn_", &["fn_1"]),
            ("_", &[]),
            ("__", &[]),
            ("f_x1", &[]),
            // `%` separates words and never matches by itself.
            ("%", &[]),
            ("%%", &[]),
            ("%ailer", &[]),
            ("\\", &[]),
        ];
        for (text, expected) in cases {
            expect(store, &p, &search(text), expected).await;
        }
    }
}

#[tokio::test]
async fn search_of_only_punctuation_matches_nothing() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        for text in ["-", ".", "!?", "- . , ; ( ) * \" ' @ + < > ~"] {
            expect(store, &p, &search(text), &[]).await;
        }
    }
}

#[tokio::test]
async fn search_combines_with_filters_paging_and_updates() {
    for backend in stores().await {
        let store = backend.enter();
        let p = catalogue(store).await;
        // Search and filters AND together; total counts both, not the page.
        let query = ListQuery {
            filters: vec![filter(
                "$id",
                FilterOp::NotEqual,
                vec![Scalar::String("fn_1".to_owned())],
            )],
            ..search("f")
        };
        expect(store, &p, &query, &["hello-1", "fnx1"]).await;
        let query = ListQuery {
            limit: 1,
            offset: 1,
            ..search("f")
        };
        assert_eq!(
            list_ids(store, &p, &query).await,
            (3, vec!["fn_1".to_owned()])
        );

        // An update re-indexes the name and runtime: old words stop matching.
        let mut renamed = store
            .get_function(&p, &fid("other"))
            .await
            .expect("get")
            .expect("other")
            .function;
        renamed.name = "Nightly Report".to_owned();
        renamed.runtime = "deno-1.40".to_owned();
        assert!(
            store
                .update_function(&p, &renamed, &[])
                .await
                .expect("update")
        );
        expect(store, &p, &search("cron"), &[]).await;
        expect(store, &p, &search("ruby"), &[]).await;
        expect(store, &p, &search("nightly"), &["other"]).await;
        expect(store, &p, &search("deno"), &["other"]).await;

        // A deleted function is no longer found.
        assert!(
            store
                .delete_function(&p, &fid("hello-1"), &[])
                .await
                .expect("delete")
        );
        expect(store, &p, &search("test"), &[]).await;
    }
}
