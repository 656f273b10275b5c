//! Functions: round trips, conflicts, updates, deletes, and isolation between projects.

use functiond_store::StoreError;
use functiond_types::Timestamp;
use functiond_types::function::Function;
use functiond_types::query::ListQuery;

use crate::harness::{T0, at, fid, function, list_ids, project, stores, variable, vid, with_vars};

/// A function with every optional field set and every default changed.
fn full(id: &str) -> Function {
    Function {
        id: fid(id),
        created_at: at(10),
        updated_at: at(11),
        execute: vec![
            "any".to_owned(),
            "user:u1".to_owned(),
            "team:t1/owner".to_owned(),
        ],
        name: "Full «function» 🚀".to_owned(),
        enabled: false,
        runtime: "python-3.9".to_owned(),
        deployment: "dep-123".to_owned(),
        events: vec![
            "users.*.create".to_owned(),
            "databases.db1.collections.*.documents.*".to_owned(),
        ],
        schedule: "*/5 * * * *".to_owned(),
        schedule_next: Some(at(300)),
        schedule_previous: Some(Timestamp::from_millis(T0 - 1)),
        schedule_updated_at: at(12),
        timeout: 900,
    }
}

#[tokio::test]
async fn functions_round_trip_every_field() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let full = full("full");
        let plain = function("plain", "Plain");
        store
            .create_function(&p, &full, &[])
            .await
            .expect("create full");
        store
            .create_function(&p, &plain, &[])
            .await
            .expect("create plain");

        let got = store.get_function(&p, &fid("full")).await.expect("get");
        assert_eq!(got, Some(with_vars(&full, &[])));
        let got = store.get_function(&p, &fid("plain")).await.expect("get");
        assert_eq!(got, Some(with_vars(&plain, &[])));
        assert_eq!(got.map(|f| f.function.schedule_next), Some(None));

        assert_eq!(
            store.get_function(&p, &fid("missing")).await.expect("get"),
            None
        );
    }
}

#[tokio::test]
async fn duplicate_function_id_conflicts_within_a_project() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let first = function("fn1", "First");
        store
            .create_function(&p, &first, &[])
            .await
            .expect("create");

        let error = store
            .create_function(&p, &full("fn1"), &[])
            .await
            .expect_err("same id");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");

        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(got, Some(with_vars(&first, &[])));
        assert_eq!(
            list_ids(store, &p, &ListQuery::default()).await,
            (1, vec!["fn1".to_owned()])
        );
    }
}

#[tokio::test]
async fn the_same_function_id_in_two_projects_stays_separate() {
    for backend in stores().await {
        let store = backend.enter();
        let a = project(store, "alpha").await;
        let b = project(store, "beta").await;
        let in_a = function("shared", "In alpha");
        let mut in_b = full("shared");
        in_b.name = "In beta".to_owned();
        store
            .create_function(&a, &in_a, &[])
            .await
            .expect("create in alpha");
        store
            .create_function(&b, &in_b, &[])
            .await
            .expect("create in beta");
        // Variable IDs are per project too.
        let var_a = variable("shared", "v1", "KEY", "alpha value");
        let var_b = variable("shared", "v1", "KEY", "beta value");
        store
            .create_variable(&a, &var_a)
            .await
            .expect("var in alpha");
        store
            .create_variable(&b, &var_b)
            .await
            .expect("var in beta");

        let got = store.get_function(&a, &fid("shared")).await.expect("get");
        assert_eq!(got, Some(with_vars(&in_a, &[&var_a])));
        let got = store.get_function(&b, &fid("shared")).await.expect("get");
        assert_eq!(got, Some(with_vars(&in_b, &[&var_b])));
        let page = store
            .list_functions(&a, &ListQuery::default())
            .await
            .expect("list");
        assert_eq!(page.total, 1);
        assert_eq!(page.items, vec![with_vars(&in_a, &[&var_a])]);

        // Updating in alpha leaves beta's row alone.
        let mut renamed = in_a.clone();
        renamed.name = "Renamed in alpha".to_owned();
        renamed.timeout = 60;
        assert!(
            store
                .update_function(&a, &renamed, &[])
                .await
                .expect("update")
        );
        let got = store.get_function(&b, &fid("shared")).await.expect("get");
        assert_eq!(got, Some(with_vars(&in_b, &[&var_b])));

        // Deleting in alpha leaves beta's function and variables alone.
        assert!(
            store
                .delete_function(&a, &fid("shared"), &[])
                .await
                .expect("delete")
        );
        assert_eq!(
            store.get_function(&a, &fid("shared")).await.expect("get"),
            None
        );
        let got = store.get_function(&b, &fid("shared")).await.expect("get");
        assert_eq!(got, Some(with_vars(&in_b, &[&var_b])));
        let got = store.get_variable(&b, &fid("shared"), &vid("v1")).await;
        assert_eq!(got.expect("get variable"), Some(var_b.clone()));
        assert_eq!(
            list_ids(store, &a, &ListQuery::default()).await,
            (0, vec![])
        );
        assert_eq!(
            list_ids(store, &b, &ListQuery::default()).await,
            (1, vec!["shared".to_owned()])
        );

        // A variable cannot hang off a function of another project.
        let orphan = variable("only-b", "v9", "KEY", "orphan");
        store
            .create_function(&b, &function("only-b", "Only in beta"), &[])
            .await
            .expect("create");
        assert!(store.create_variable(&a, &orphan).await.is_err());
        assert_eq!(
            store
                .list_variables(&a, &fid("only-b"))
                .await
                .expect("list"),
            vec![]
        );
        assert_eq!(
            store
                .list_variables(&b, &fid("only-b"))
                .await
                .expect("list"),
            vec![]
        );

        // With alpha's copy gone, alpha cannot reach beta's through update or delete.
        assert!(
            !store
                .update_function(&a, &renamed, &[])
                .await
                .expect("update")
        );
        assert!(
            !store
                .delete_function(&a, &fid("shared"), &[])
                .await
                .expect("delete")
        );
        let got = store.get_function(&b, &fid("shared")).await.expect("get");
        assert_eq!(got, Some(with_vars(&in_b, &[&var_b])));
    }
}

#[tokio::test]
async fn update_replaces_every_field() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let other = project(store, "beta").await;
        let original = function("fn1", "Original");
        store
            .create_function(&p, &original, &[])
            .await
            .expect("create");
        let untouched = function("fn2", "Untouched");
        store
            .create_function(&p, &untouched, &[])
            .await
            .expect("create");

        // Everything but the ID and the creation time changes.
        let mut changed = full("fn1");
        changed.created_at = original.created_at;
        assert!(
            store
                .update_function(&p, &changed, &[])
                .await
                .expect("update")
        );
        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(got, Some(with_vars(&changed, &[])));

        // And back again: optional times return to None, arrays to empty, enabled to true.
        let mut back = original.clone();
        back.updated_at = at(99);
        assert!(store.update_function(&p, &back, &[]).await.expect("update"));
        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(got, Some(with_vars(&back, &[])));

        let got = store.get_function(&p, &fid("fn2")).await.expect("get");
        assert_eq!(got, Some(with_vars(&untouched, &[])));

        // An update that changes nothing still finds the row.
        assert!(
            store
                .update_function(&p, &back, &[])
                .await
                .expect("same again")
        );
        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(got, Some(with_vars(&back, &[])));

        // Missing here, or existing only in another project: nothing to update.
        let missing = function("nope", "Nope");
        assert!(
            !store
                .update_function(&p, &missing, &[])
                .await
                .expect("update")
        );
        assert!(
            !store
                .update_function(&other, &changed, &[])
                .await
                .expect("update")
        );
        assert_eq!(
            store.get_function(&p, &fid("nope")).await.expect("get"),
            None
        );
        assert_eq!(
            list_ids(store, &other, &ListQuery::default()).await,
            (0, vec![])
        );
    }
}

#[tokio::test]
async fn delete_reports_whether_it_deleted() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        store
            .create_function(&p, &function("fn2", "Two"), &[])
            .await
            .expect("create");

        assert!(
            store
                .delete_function(&p, &fid("fn1"), &[])
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete_function(&p, &fid("fn1"), &[])
                .await
                .expect("delete again")
        );
        assert!(
            !store
                .delete_function(&p, &fid("never"), &[])
                .await
                .expect("delete missing")
        );
        assert_eq!(
            store.get_function(&p, &fid("fn1")).await.expect("get"),
            None
        );
        assert_eq!(
            list_ids(store, &p, &ListQuery::default()).await,
            (1, vec!["fn2".to_owned()])
        );
    }
}

#[tokio::test]
async fn deleting_a_function_deletes_its_variables() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "One"), &[])
            .await
            .expect("create");
        store
            .create_function(&p, &function("fn2", "Two"), &[])
            .await
            .expect("create");
        let gone_a = variable("fn1", "v1", "A", "1");
        let gone_b = variable("fn1", "v2", "B", "2");
        let kept = variable("fn2", "v3", "A", "3");
        for v in [&gone_a, &gone_b, &kept] {
            store.create_variable(&p, v).await.expect("create variable");
        }

        assert!(
            store
                .delete_function(&p, &fid("fn1"), &[])
                .await
                .expect("delete")
        );
        for id in ["v1", "v2"] {
            let got = store.get_variable(&p, &fid("fn1"), &vid(id)).await;
            assert_eq!(got.expect("get variable"), None, "{id}");
        }
        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![]
        );
        assert_eq!(
            store.list_variables(&p, &fid("fn2")).await.expect("list"),
            vec![kept.clone()]
        );

        // A new function with the old ID starts without variables, and the old variable
        // IDs and keys are free again.
        store
            .create_function(&p, &function("fn1", "Reborn"), &[])
            .await
            .expect("recreate");
        let got = store.get_function(&p, &fid("fn1")).await.expect("get");
        assert_eq!(got.map(|f| f.vars), Some(vec![]));
        store
            .create_variable(&p, &gone_a)
            .await
            .expect("reuse id and key");
        assert_eq!(
            store.list_variables(&p, &fid("fn1")).await.expect("list"),
            vec![gone_a]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_all_land() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let store = backend.store.clone();
                let p = p.clone();
                tokio::spawn(async move {
                    let id = format!("f{i}");
                    store
                        .create_function(&p, &function(&id, "Busy"), &[])
                        .await?;
                    let v = variable(&id, &format!("v{i}"), "KEY", &format!("value {i}"));
                    store.create_variable(&p, &v).await
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("write");
        }
        let query = ListQuery {
            limit: 100,
            ..ListQuery::default()
        };
        let page = store.list_functions(&p, &query).await.expect("list");
        assert_eq!(page.total, 100);
        for item in &page.items {
            let n = item.function.id.as_str().trim_start_matches('f');
            let values: Vec<&str> = item.vars.iter().map(|v| v.value.as_str()).collect();
            assert_eq!(values, [format!("value {n}")], "{}", item.function.id);
        }
    }
}

/// Reads may be served from memory; every write must still show in the next read.
#[tokio::test]
async fn reads_after_writes_see_the_writes() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let mut f = function("fn1", "Before");
        store.create_function(&p, &f, &[]).await.expect("create");
        assert_eq!(
            store.get_function(&p, &f.id).await.expect("get"),
            Some(with_vars(&f, &[]))
        );

        f.name = "After".to_owned();
        assert!(store.update_function(&p, &f, &[]).await.expect("update"));
        assert_eq!(
            store
                .get_function(&p, &f.id)
                .await
                .expect("get")
                .map(|g| g.function.name),
            Some("After".to_owned())
        );

        let mut v = variable("fn1", "v1", "KEY", "one");
        store
            .create_variable(&p, &v)
            .await
            .expect("create variable");
        assert_eq!(
            store.get_function(&p, &f.id).await.expect("get"),
            Some(with_vars(&f, &[&v]))
        );

        v.value = "two".to_owned();
        assert!(
            store
                .update_variable(&p, &v)
                .await
                .expect("update variable")
        );
        assert_eq!(
            store.get_function(&p, &f.id).await.expect("get"),
            Some(with_vars(&f, &[&v]))
        );

        assert!(
            store
                .delete_variable(&p, &f.id, &v.id)
                .await
                .expect("delete variable")
        );
        assert_eq!(
            store.get_function(&p, &f.id).await.expect("get"),
            Some(with_vars(&f, &[]))
        );

        assert!(store.delete_function(&p, &f.id, &[]).await.expect("delete"));
        assert_eq!(store.get_function(&p, &f.id).await.expect("get"), None);
    }
}
