//! Migrations, projects and API keys.

use functiond_store::{KeySecret, StoreError};
use functiond_types::id::KeyId;
use functiond_types::project::{ApiKey, Project};
use functiond_types::scope::Scope;

use crate::harness::{at, pid, project, stores, unmigrated};

fn key(id: &str, project: &str, scopes: Vec<Scope>) -> ApiKey {
    ApiKey {
        id: KeyId::parse(id).expect("key id"),
        project_id: pid(project),
        name: format!("Key {id}"),
        scopes,
        expire: None,
        created_at: at(5),
    }
}

fn secret(prefix: &str) -> KeySecret {
    KeySecret {
        prefix: prefix.to_owned(),
        hash: format!("sha256:{prefix}-hash"),
    }
}

#[tokio::test]
async fn migrate_runs_once() {
    for backend in unmigrated().await {
        let store = backend.enter();
        let first = store.migrate().await.expect("first migrate");
        assert!(first >= 1, "a fresh store ran {first} migrations");
        assert_eq!(store.migrate().await.expect("second migrate"), 0);

        // A store opened later on the same data has nothing left to apply either.
        let again = backend.reopen(crate::harness::cipher()).await;
        assert_eq!(again.migrate().await.expect("migrate after reopen"), 0);
        assert_eq!(again.count_projects().await.expect("count"), 0);
    }
}

#[tokio::test]
async fn projects_round_trip_and_count() {
    for backend in stores().await {
        let store = backend.enter();
        assert_eq!(store.count_projects().await.expect("count"), 0);
        assert_eq!(store.get_project(&pid("nope")).await.expect("get"), None);

        let alpha = Project {
            id: pid("alpha"),
            name: "Alpha — ünïcode".to_owned(),
            created_at: at(42),
        };
        store.create_project(&alpha).await.expect("create alpha");
        project(store, "beta").await;

        assert_eq!(
            store.get_project(&pid("alpha")).await.expect("get"),
            Some(alpha.clone())
        );
        let beta = store.get_project(&pid("beta")).await.expect("get");
        assert_eq!(beta.map(|p| p.name), Some("Project beta".to_owned()));
        assert_eq!(store.count_projects().await.expect("count"), 2);
        assert_eq!(store.get_project(&pid("gamma")).await.expect("get"), None);
    }
}

#[tokio::test]
async fn duplicate_project_id_conflicts() {
    for backend in stores().await {
        let store = backend.enter();
        project(store, "alpha").await;
        let again = Project {
            id: pid("alpha"),
            name: "Another name".to_owned(),
            created_at: at(9),
        };
        let error = store.create_project(&again).await.expect_err("duplicate");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");

        // The first project is untouched and still the only one.
        let kept = store.get_project(&pid("alpha")).await.expect("get");
        assert_eq!(kept.map(|p| p.name), Some("Project alpha".to_owned()));
        assert_eq!(store.count_projects().await.expect("count"), 1);
    }
}

#[tokio::test]
async fn keys_are_found_by_prefix_with_scopes_and_hash() {
    for backend in stores().await {
        let store = backend.enter();
        project(store, "alpha").await;
        let mut full = key("k1", "alpha", Scope::ALL.to_vec());
        full.expire = Some(at(3600));
        let narrow = key("k2", "alpha", vec![Scope::ExecutionRead]);
        let none = key("k3", "alpha", Vec::new());
        store
            .create_key(&full, &secret("pre_full"))
            .await
            .expect("k1");
        store
            .create_key(&narrow, &secret("pre_narrow"))
            .await
            .expect("k2");
        store
            .create_key(&none, &secret("pre_none"))
            .await
            .expect("k3");

        let found = store
            .find_key(&pid("alpha"), "pre_full")
            .await
            .expect("find");
        assert_eq!(found, Some((full, "sha256:pre_full-hash".to_owned())));
        let found = store
            .find_key(&pid("alpha"), "pre_narrow")
            .await
            .expect("find");
        assert_eq!(found, Some((narrow, "sha256:pre_narrow-hash".to_owned())));
        let found = store
            .find_key(&pid("alpha"), "pre_none")
            .await
            .expect("find");
        assert_eq!(found, Some((none, "sha256:pre_none-hash".to_owned())));
    }
}

#[tokio::test]
async fn keys_belong_to_their_project_only() {
    for backend in stores().await {
        let store = backend.enter();
        project(store, "alpha").await;
        project(store, "beta").await;
        let alpha_key = key("k1", "alpha", vec![Scope::FunctionsRead]);
        store
            .create_key(&alpha_key, &secret("pre_a"))
            .await
            .expect("create");

        // The right prefix under another project finds nothing.
        assert_eq!(
            store.find_key(&pid("beta"), "pre_a").await.expect("find"),
            None
        );
        // Unknown prefixes, including a shorter or longer one, find nothing either.
        for prefix in ["pre_b", "pre_", "pre_ab", "", "PRE_A"] {
            let found = store.find_key(&pid("alpha"), prefix).await.expect("find");
            assert_eq!(found, None, "prefix {prefix:?}");
        }
        let found = store.find_key(&pid("alpha"), "pre_a").await.expect("find");
        assert_eq!(found.map(|(k, _)| k), Some(alpha_key));
    }
}

#[tokio::test]
async fn duplicate_key_prefix_conflicts() {
    for backend in stores().await {
        let store = backend.enter();
        project(store, "alpha").await;
        let first = key("k1", "alpha", vec![Scope::FunctionsRead]);
        store
            .create_key(&first, &secret("pre_x"))
            .await
            .expect("create");

        let second = key("k2", "alpha", vec![Scope::FunctionsWrite]);
        let error = store
            .create_key(&second, &secret("pre_x"))
            .await
            .expect_err("same prefix");
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");

        // The first key still answers to the prefix, with its own scopes and hash.
        let found = store.find_key(&pid("alpha"), "pre_x").await.expect("find");
        assert_eq!(found, Some((first, "sha256:pre_x-hash".to_owned())));
        // The refused key left nothing behind: its ID is free for another prefix.
        store
            .create_key(&second, &secret("pre_y"))
            .await
            .expect("k2 again");
        let found = store.find_key(&pid("alpha"), "pre_y").await.expect("find");
        assert_eq!(found.map(|(k, _)| k), Some(second));
    }
}

/// Two stores starting on the same fresh database at once (say the server and `functiond
/// migrate`) must not fail, and between them apply each migration exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrations_both_succeed() {
    let all = unmigrated()
        .await
        .remove(0)
        .store
        .migrate()
        .await
        .expect("migrate");
    for attempt in 0..20 {
        for backend in unmigrated().await {
            backend.enter();
            let second = backend.reopen(crate::harness::cipher()).await;
            let (first, second) = tokio::join!(backend.store.migrate(), second.migrate());
            let first = first.unwrap_or_else(|e| panic!("attempt {attempt}, first: {e:?}"));
            let second = second.unwrap_or_else(|e| panic!("attempt {attempt}, second: {e:?}"));
            assert_eq!(first + second, all, "attempt {attempt}: {first} + {second}");
            assert_eq!(backend.store.migrate().await.expect("migrate"), 0);
        }
    }
}
