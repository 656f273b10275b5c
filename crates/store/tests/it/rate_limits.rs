//! Rate-limit counters: fixed windows per project and key, a hard cap that concurrent hits
//! cannot overshoot, and the pruning of old windows.

use std::sync::Arc;

use functiond_store::Store;

use crate::harness::{at, project, stores};

const KEY: &str = "ip:127.0.0.1,userId:u1";

#[tokio::test]
async fn hits_count_up_to_the_limit_and_no_further() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        let window = at(60);
        assert_eq!(store.rate_limit_hits(&p, KEY, window).await.unwrap(), 0);
        for expected in 1..=3 {
            assert_eq!(
                store.hit_rate_limit(&p, KEY, window, 3).await.unwrap(),
                Some(expected)
            );
        }
        // Full: refused, and the refusal is not counted.
        assert_eq!(
            store.hit_rate_limit(&p, KEY, window, 3).await.unwrap(),
            None
        );
        assert_eq!(store.rate_limit_hits(&p, KEY, window).await.unwrap(), 3);
        // A raised limit lets the same window go on from its count.
        assert_eq!(
            store.hit_rate_limit(&p, KEY, window, 5).await.unwrap(),
            Some(4)
        );
        // A limit of zero refuses everything.
        assert_eq!(
            store.hit_rate_limit(&p, "other", window, 0).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn windows_keys_and_projects_count_apart() {
    for backend in stores().await {
        let store = backend.enter();
        let alpha = project(store, "alpha").await;
        let beta = project(store, "beta").await;
        let hit = |p, key, window| store.hit_rate_limit(p, key, window, 10);
        assert_eq!(hit(&alpha, KEY, at(60)).await.unwrap(), Some(1));
        assert_eq!(hit(&alpha, KEY, at(60)).await.unwrap(), Some(2));
        assert_eq!(hit(&alpha, KEY, at(120)).await.unwrap(), Some(1));
        assert_eq!(
            hit(&alpha, "ip:127.0.0.1,userId:", at(60)).await.unwrap(),
            Some(1)
        );
        assert_eq!(hit(&beta, KEY, at(60)).await.unwrap(), Some(1));
        assert_eq!(store.rate_limit_hits(&alpha, KEY, at(60)).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn concurrent_hits_never_overshoot_the_limit() {
    for backend in stores().await {
        let store: Arc<dyn Store> = backend.store.clone();
        backend.enter();
        let p = project(&*store, "alpha").await;
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = store.clone();
                let p = p.clone();
                tokio::spawn(async move { store.hit_rate_limit(&p, KEY, at(60), 25).await })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            if task.await.unwrap().unwrap().is_some() {
                granted += 1;
            }
        }
        assert_eq!(granted, 25);
        assert_eq!(store.rate_limit_hits(&p, KEY, at(60)).await.unwrap(), 25);
    }
}

#[tokio::test]
async fn old_windows_are_pruned() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        for window in [at(0), at(60), at(120)] {
            store.hit_rate_limit(&p, KEY, window, 10).await.unwrap();
        }
        assert_eq!(store.prune_rate_limits(at(120)).await.unwrap(), 2);
        assert_eq!(store.rate_limit_hits(&p, KEY, at(60)).await.unwrap(), 0);
        assert_eq!(store.rate_limit_hits(&p, KEY, at(120)).await.unwrap(), 1);
        assert_eq!(store.prune_rate_limits(at(120)).await.unwrap(), 0);
    }
}
