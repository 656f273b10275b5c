//! Listing executions for a caller who may read only some of them (a JWT user sees the ones
//! whose permissions name one of their roles): page, total and cursors see the same rows.

use functiond_store::StoreError;
use functiond_types::execution::{Execution, ExecutionStatus, Trigger};
use functiond_types::id::{DeploymentId, ExecutionId};
use functiond_types::query::{Cursor, ListQuery};

use crate::harness::{at, fid, function, project, stores};

fn execution(id: &str, seconds: i64, permissions: &[&str]) -> Execution {
    Execution {
        id: ExecutionId::parse(id).expect("execution id"),
        function_id: fid("fn1"),
        deployment_id: DeploymentId::parse("d1").expect("deployment id"),
        created_at: at(seconds),
        updated_at: at(seconds),
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        trigger: Trigger::Http,
        status: ExecutionStatus::Completed,
        status_code: 200,
        response: String::new(),
        stdout: String::new(),
        stderr: String::new(),
        duration: 0.1,
    }
}

fn ids(executions: &[Execution]) -> Vec<&str> {
    executions.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn users_list_only_what_their_roles_may_read() {
    for backend in stores().await {
        let store = backend.enter();
        let p = project(store, "alpha").await;
        store
            .create_function(&p, &function("fn1", "F"), &[])
            .await
            .unwrap();
        let rows = [
            execution("by-key", 1, &[]),
            execution("by-alice", 2, &[r#"read("user:alice")"#]),
            execution("by-bob", 3, &[r#"read("user:bob")"#]),
            execution("by-alice-2", 4, &[r#"read("user:alice")"#]),
            execution("for-team", 5, &[r#"read("team:t1")"#]),
        ];
        for row in &rows {
            store.create_execution(&p, row, &[]).await.unwrap();
        }
        let list = |visible: Option<Vec<&str>>, query: ListQuery| {
            let visible: Option<Vec<String>> =
                visible.map(|v| v.into_iter().map(str::to_owned).collect());
            let p = p.clone();
            async move {
                store
                    .list_executions(&p, &fid("fn1"), visible.as_deref(), &query)
                    .await
            }
        };

        let everything = list(None, ListQuery::default()).await.unwrap();
        assert_eq!(everything.total, 5);

        let alice = vec![
            r#"read("any")"#,
            r#"read("users")"#,
            r#"read("user:alice")"#,
        ];
        let page = list(Some(alice.clone()), ListQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(ids(&page.items), ["by-alice", "by-alice-2"]);

        let with_team = vec![r#"read("user:alice")"#, r#"read("team:t1")"#];
        let page = list(Some(with_team), ListQuery::default()).await.unwrap();
        assert_eq!(ids(&page.items), ["by-alice", "by-alice-2", "for-team"]);

        // Cursors: a visible row pages on; another user's row is as good as missing.
        let after = ListQuery {
            cursor: Some(Cursor::After("by-alice".into())),
            ..ListQuery::default()
        };
        let page = list(Some(alice.clone()), after).await.unwrap();
        assert_eq!(ids(&page.items), ["by-alice-2"]);
        assert_eq!(page.total, 2);
        let hidden = ListQuery {
            cursor: Some(Cursor::After("by-bob".into())),
            ..ListQuery::default()
        };
        assert!(matches!(
            list(Some(alice), hidden).await,
            Err(StoreError::CursorNotFound { .. })
        ));

        let nobody = list(Some(Vec::new()), ListQuery::default()).await.unwrap();
        assert_eq!((nobody.total, nobody.items.len()), (0, 0));
    }
}
