//! A domain over a temporary SQLite store, a fake invoker and a clock the test moves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use functiond_domain::deployments::{StagedFile, UploadInput};
use functiond_domain::functions::FunctionInput;
use functiond_domain::ports::{
    BuildOutcome, BuildRequest, Clock, InvokeOutcome, InvokeRequest, Invoker,
};
use functiond_domain::{Caller, Identity, Parts, Services, Settings};
use functiond_store::{Blobs, Cipher, Store};
use functiond_types::Timestamp;
use functiond_types::id::{DeploymentId, FunctionId, KeyId, ProjectId};
use functiond_types::project::Project;
use functiond_types::runtime::Runtime;
use functiond_types::scope::Scope;

/// A clock that stands still until the test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().expect("test step") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("test step")
    }
}

/// Builds succeed; a run answers, as JSON, the variables it was given.
#[derive(Debug, Default)]
pub struct FakeInvoker {
    pub runs: Mutex<Vec<BTreeMap<String, String>>>,
}

#[async_trait]
impl Invoker for FakeInvoker {
    async fn build(&self, _request: BuildRequest) -> BuildOutcome {
        BuildOutcome {
            success: true,
            stdout: String::new(),
            stderr: String::new(),
            duration: Duration::from_millis(1),
        }
    }

    async fn invoke(&self, request: InvokeRequest) -> InvokeOutcome {
        self.runs
            .lock()
            .expect("test step")
            .push(request.variables.clone());
        InvokeOutcome {
            status_code: 200,
            response: serde_json::to_string(&request.variables).expect("test step"),
            stdout: String::new(),
            stderr: String::new(),
            duration: Duration::from_millis(1),
        }
    }

    async fn retire(&self, _project: &ProjectId, _deployment: &DeploymentId) {}
}

pub struct Domain {
    pub services: Services,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub invoker: Arc<FakeInvoker>,
    pub caller: Caller,
    /// Where the clock started: 30 s past a minute.
    pub start: Timestamp,
    _dir: tempfile::TempDir,
}

/// 30 s past a minute, at least half a minute after the real time: jobs queued "now" (in
/// real time) are then always due for the manual clock, which only moves forward from here.
pub fn start_time() -> Timestamp {
    let now = Timestamp::now().millis();
    Timestamp::from_millis(now - now % 60_000 + 90_000)
}

pub async fn domain() -> Domain {
    let dir = tempfile::tempdir().expect("test step");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = functiond_store::open(&url, Cipher::new([3; 32]))
        .await
        .expect("test step");
    store.migrate().await.expect("test step");
    let project = ProjectId::parse("p").expect("test step");
    store
        .create_project(&Project {
            id: project.clone(),
            name: "P".into(),
            created_at: Timestamp::now(),
        })
        .await
        .expect("test step");
    let start = start_time();
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let invoker = Arc::new(FakeInvoker::default());
    let services = services_over(&store, &dir, &clock, &invoker);
    Domain {
        services,
        store,
        clock,
        invoker,
        start,
        caller: Caller {
            project,
            identity: Identity::Key {
                id: KeyId::parse("k").expect("test step"),
                scopes: Scope::ALL.to_vec(),
            },
        },
        _dir: dir,
    }
}

/// Services over the same store: what a second server sharing the database would run.
pub fn services_over(
    store: &Arc<dyn Store>,
    dir: &tempfile::TempDir,
    clock: &Arc<ManualClock>,
    invoker: &Arc<FakeInvoker>,
) -> Services {
    Services::new(Parts {
        store: store.clone(),
        blobs: Blobs::new(dir.path().join("files")),
        invoker: invoker.clone(),
        runtimes: vec![Runtime {
            id: "node-20.0".into(),
            name: "Node.js".into(),
            version: "20.0".into(),
            base: String::new(),
            image: "/usr/bin/node".into(),
            logo: "node.png".into(),
            supports: vec!["x86".into()],
        }],
        settings: Settings::default(),
        clock: clock.clone(),
    })
}

impl Domain {
    pub fn at(&self, offset_seconds: i64) -> Timestamp {
        Timestamp::from_millis(self.start.millis() + offset_seconds * 1000)
    }

    pub fn second_server(&self) -> Services {
        services_over(&self.store, &self._dir, &self.clock, &self.invoker)
    }

    /// Creates a function with a ready, active deployment.
    pub async fn deployed(&self, id: &str, input: FunctionInput) -> FunctionId {
        let input = FunctionInput {
            function_id: Some(id.into()),
            name: Some(id.into()),
            runtime: Some("node-20.0".into()),
            ..input
        };
        let function = self
            .services
            .functions
            .create(&self.caller, input)
            .await
            .expect("test step");
        let id = function.function.id;
        let target = self
            .services
            .deployments
            .prepare_upload(&self.caller, &id)
            .await
            .expect("test step");
        std::fs::write(
            &target.path,
            b"not really a tar.gz: the fake invoker builds anything",
        )
        .expect("test step");
        let upload = UploadInput {
            entrypoint: Some("index.js".into()),
            activate: Some(true),
            file: Some(StagedFile {
                path: target.path.clone(),
                file_name: "code.tar.gz".into(),
                size: std::fs::metadata(&target.path).expect("test step").len(),
            }),
            content_range: None,
            upload_id: None,
        };
        self.services
            .deployments
            .create(&self.caller, &id, upload)
            .await
            .expect("test step");
        self.services.worker.run_due().await.expect("test step");
        let function = self
            .services
            .functions
            .get(&self.caller, &id)
            .await
            .expect("test step");
        assert!(
            !function.function.deployment.is_empty(),
            "the deployment was not activated"
        );
        id
    }
}
