//! Deployments, builds and executions: round trips, the transactions that queue their jobs,
//! and the sweep of executions a crash cut short.

use functiond_store::Store;
use functiond_types::deployment::{Build, BuildStatus, Deployment};
use functiond_types::execution::{Execution, ExecutionStatus, Trigger};
use functiond_types::id::{BuildId, DeploymentId, ExecutionId, ProjectId};
use functiond_types::job::NewJob;
use functiond_types::query::ListQuery;

use crate::harness::{at, fid, function, project, stores};

fn deployment(id: &str, function: &str, activate: bool) -> Deployment {
    Deployment {
        id: DeploymentId::parse(id).expect("deployment id"),
        function_id: fid(function),
        created_at: at(1),
        updated_at: at(1),
        entrypoint: "index.js".into(),
        size: 100,
        build_id: None,
        activate,
        chunks_total: 1,
        chunks_uploaded: 1,
    }
}

fn execution(id: &str, function: &str, deployment: &str, status: ExecutionStatus) -> Execution {
    Execution {
        id: ExecutionId::parse(id).expect("execution id"),
        function_id: fid(function),
        deployment_id: DeploymentId::parse(deployment).expect("deployment id"),
        created_at: at(2),
        updated_at: at(2),
        permissions: vec![],
        trigger: Trigger::Http,
        status,
        status_code: 0,
        response: String::new(),
        stdout: String::new(),
        stderr: String::new(),
        duration: 0.0,
    }
}

fn job(kind: &str, payload: &str) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: payload.into(),
        run_at: at(0),
        dedupe_key: None,
    }
}

async fn with_function(store: &dyn Store) -> ProjectId {
    let p = project(store, "alpha").await;
    store
        .create_function(&p, &function("fn1", "F"), &[])
        .await
        .expect("create function");
    p
}

#[tokio::test]
async fn an_upload_activates_alone_and_queues_its_build() {
    for backend in stores().await {
        let store = backend.enter();
        let p = with_function(store).await;
        let first = deployment("d1", "fn1", true);
        store.create_deployment(&p, &first, &[]).await.unwrap();
        store
            .complete_upload(&p, &first, &[job("build", "{}")])
            .await
            .unwrap();
        let second = deployment("d2", "fn1", true);
        store.create_deployment(&p, &second, &[]).await.unwrap();
        store
            .complete_upload(&p, &second, &[job("build", "{}")])
            .await
            .unwrap();

        let d1 = store.get_deployment(&p, &first.id).await.unwrap().unwrap();
        assert!(
            !d1.deployment.activate,
            "only the newest upload keeps activate"
        );
        assert_eq!(d1.build, None);
        assert_eq!(store.count_jobs().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn builds_attach_to_their_deployment_and_activate_it() {
    for backend in stores().await {
        let store = backend.enter();
        let p = with_function(store).await;
        let d = deployment("d1", "fn1", true);
        store.create_deployment(&p, &d, &[]).await.unwrap();
        let mut build = Build {
            id: BuildId::parse("b1").unwrap(),
            deployment_id: d.id.clone(),
            created_at: at(3),
            updated_at: at(3),
            status: BuildStatus::Building,
            stdout: String::new(),
            stderr: String::new(),
            duration: 0,
        };
        store.save_build(&p, &build, &[]).await.unwrap();
        let found = store.get_deployment(&p, &d.id).await.unwrap().unwrap();
        assert_eq!(found.deployment.build_id, Some(build.id.clone()));
        assert_eq!(
            found.build.as_ref().map(|b| b.status),
            Some(BuildStatus::Building)
        );

        build.status = BuildStatus::Ready;
        build.stdout = "done".into();
        build.duration = 3;
        store
            .finish_build(&p, &build, Some(&d.function_id))
            .await
            .unwrap();
        let f = store.get_function(&p, &fid("fn1")).await.unwrap().unwrap();
        assert_eq!(f.function.deployment, "d1");
        let listed = store
            .list_deployments(&p, &fid("fn1"), &ListQuery::default())
            .await
            .unwrap();
        assert_eq!(listed.items[0].build, Some(build));

        // Deleting the active deployment resets the function.
        assert!(
            store
                .delete_deployment(&p, &d.id, &[])
                .await
                .unwrap()
                .is_some()
        );
        let f = store.get_function(&p, &fid("fn1")).await.unwrap().unwrap();
        assert_eq!(f.function.deployment, "");
        assert!(
            store
                .delete_deployment(&p, &d.id, &[])
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn executions_round_trip_and_list_by_function() {
    for backend in stores().await {
        let store = backend.enter();
        let p = with_function(store).await;
        let mut e = execution("e1", "fn1", "d1", ExecutionStatus::Waiting);
        store
            .create_execution(&p, &e, &[job("execution", "{}")])
            .await
            .unwrap();
        assert_eq!(store.count_jobs().await.unwrap(), 1);
        e.status = ExecutionStatus::Completed;
        e.status_code = 200;
        e.response = "ok".into();
        e.duration = 0.25;
        assert!(store.update_execution(&p, &e, &[]).await.unwrap());
        assert_eq!(
            store.get_execution(&p, &e.id).await.unwrap(),
            Some(e.clone())
        );
        let page = store
            .list_executions(&p, &fid("fn1"), None, &ListQuery::default())
            .await
            .unwrap();
        assert_eq!((page.total, page.items), (1, vec![e]));
        // Executions go with their function.
        store.delete_function(&p, &fid("fn1"), &[]).await.unwrap();
        assert_eq!(
            store
                .get_execution(&p, &ExecutionId::parse("e1").unwrap())
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn only_executions_without_a_job_are_swept() {
    for backend in stores().await {
        let store = backend.enter();
        let p = with_function(store).await;
        let queued = execution("queued", "fn1", "d1", ExecutionStatus::Processing);
        let payload = r#"{"project":"alpha","execution":"queued","data":""}"#;
        store
            .create_execution(&p, &queued, &[job("execution", payload)])
            .await
            .unwrap();
        let cut = execution("cut", "fn1", "d1", ExecutionStatus::Processing);
        store.create_execution(&p, &cut, &[]).await.unwrap();
        let done = execution("done", "fn1", "d1", ExecutionStatus::Completed);
        store.create_execution(&p, &done, &[]).await.unwrap();

        assert_eq!(
            store
                .fail_interrupted_executions(at(9), "stopped")
                .await
                .unwrap(),
            1
        );
        let swept = store.get_execution(&p, &cut.id).await.unwrap().unwrap();
        assert_eq!(
            (swept.status, swept.status_code, swept.stderr.as_str()),
            (ExecutionStatus::Failed, 500, "stopped")
        );
        let kept = store.get_execution(&p, &queued.id).await.unwrap().unwrap();
        assert_eq!(kept.status, ExecutionStatus::Processing);
        let untouched = store.get_execution(&p, &done.id).await.unwrap().unwrap();
        assert_eq!(untouched.status, ExecutionStatus::Completed);
    }
}

/// Many executions written at once (they go out in shared statements) all land, and a taken
/// ID among them is refused alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_all_land_and_conflicts_stay_their_own() {
    for backend in stores().await {
        let store = backend.enter();
        let p = with_function(store).await;
        let taken = execution("taken", "fn1", "d1", ExecutionStatus::Completed);
        store
            .create_execution(&p, &taken, &[])
            .await
            .expect("first insert");
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..200 {
            let store = backend.store.clone();
            let p = p.clone();
            let id = if i == 100 {
                "taken".to_owned()
            } else {
                format!("e{i}")
            };
            writes.spawn(async move {
                let e = execution(&id, "fn1", "d1", ExecutionStatus::Completed);
                (id, store.create_execution(&p, &e, &[]).await)
            });
        }
        let mut conflicts = 0;
        while let Some(done) = writes.join_next().await {
            let (id, written) = done.expect("task");
            match written {
                Ok(()) => {}
                Err(functiond_store::StoreError::Conflict { .. }) if id == "taken" => {
                    conflicts += 1
                }
                Err(error) => panic!("{id}: {error}"),
            }
        }
        assert_eq!(conflicts, 1);
        let query = ListQuery {
            limit: 1,
            ..ListQuery::default()
        };
        let page = store
            .list_executions(&p, &fid("fn1"), None, &query)
            .await
            .expect("list");
        assert_eq!(page.total, 200);
    }
}
