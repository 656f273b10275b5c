//! The jobs queue: due order, leases, renewal, retries and dedupe keys.

use functiond_types::job::NewJob;

use crate::harness::{at, stores};

fn job(kind: &str, run_at: i64, dedupe: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: format!("{{\"kind\":\"{kind}\"}}"),
        run_at: at(run_at),
        dedupe_key: dedupe.map(str::to_owned),
    }
}

#[tokio::test]
async fn claims_take_due_jobs_oldest_first_and_hold_them() {
    for backend in stores().await {
        let store = backend.enter();
        store.enqueue_job(&job("later", 100, None)).await.unwrap();
        store.enqueue_job(&job("second", 2, None)).await.unwrap();
        store.enqueue_job(&job("first", 1, None)).await.unwrap();

        let a = store
            .claim_job("w1", at(10), at(70))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a.kind.as_str(), a.attempts), ("first", 1));
        let b = store
            .claim_job("w2", at(10), at(70))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.kind, "second");
        // The delayed job is not due, and the others are leased.
        assert_eq!(store.claim_job("w3", at(10), at(70)).await.unwrap(), None);

        // Only the holder renews; an expired lease frees the job for another worker.
        assert!(store.renew_job(a.id, "w1", at(80)).await.unwrap());
        assert!(!store.renew_job(a.id, "w2", at(90)).await.unwrap());
        let again = store
            .claim_job("w3", at(75), at(135))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.kind.as_str(), again.attempts), ("second", 2));

        store.finish_job(a.id).await.unwrap();
        store.retry_job(again.id, at(200)).await.unwrap();
        assert_eq!(store.count_jobs().await.unwrap(), 2);
        let delayed = store
            .claim_job("w1", at(150), at(210))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(delayed.kind, "later");
    }
}

#[tokio::test]
async fn releasing_leases_frees_every_claimed_job() {
    for backend in stores().await {
        let store = backend.enter();
        store.enqueue_job(&job("a", 1, None)).await.unwrap();
        store
            .claim_job("dead", at(10), at(1000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.claim_job("new", at(11), at(70)).await.unwrap(), None);
        assert_eq!(store.release_job_leases().await.unwrap(), 1);
        assert!(
            store
                .claim_job("new", at(11), at(70))
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn a_dedupe_key_keeps_one_pending_job() {
    for backend in stores().await {
        let store = backend.enter();
        store
            .enqueue_job(&job("fire", 1, Some("fn1@60")))
            .await
            .unwrap();
        store
            .enqueue_job(&job("fire", 1, Some("fn1@60")))
            .await
            .unwrap();
        store
            .enqueue_job(&job("fire", 1, Some("fn1@120")))
            .await
            .unwrap();
        assert_eq!(store.count_jobs().await.unwrap(), 2);
    }
}
