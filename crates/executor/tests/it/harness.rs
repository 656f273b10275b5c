//! What the executor tests share: the host's real interpreters, archives made on the fly,
//! and an executor in a fresh directory with helpers to deploy and invoke a function.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use functiond_domain::ports::{BuildOutcome, BuildRequest, InvokeOutcome, InvokeRequest, Invoker};
use functiond_executor::runtimes::{Discovery, catalogue};
use functiond_executor::{Executor, Settings};
use functiond_types::id::{DeploymentId, FunctionId, ProjectId};
use functiond_types::runtime::Runtime;

/// The runtimes found on this host's `PATH` (the same discovery the server does).
pub fn runtimes() -> &'static [Runtime] {
    static FOUND: OnceLock<Vec<Runtime>> = OnceLock::new();
    FOUND.get_or_init(|| {
        #[expect(
            clippy::disallowed_methods,
            reason = "the tests find the host's interpreters the way the server's config does"
        )]
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut search_path: Vec<PathBuf> = std::env::split_paths(&path).collect();
        search_path.extend(["/usr/local/bin".into(), "/usr/bin".into()]);
        catalogue(&Discovery {
            search_path,
            ..Discovery::default()
        })
        .expect("runtime discovery")
    })
}

/// What the host needs to reach package registries (mirrors, proxies, CA bundles), passed to
/// builds the way an operator would through `Settings::build_env`.
pub fn registry_env() -> Vec<(String, String)> {
    const NAMES: &[&str] = &[
        "NODE_EXTRA_CA_CERTS",
        "PIP_CERT",
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "npm_config_registry",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
    ];
    NAMES
        .iter()
        .filter_map(|name| {
            #[expect(
                clippy::disallowed_methods,
                reason = "the tests pass on the host's registry settings like an operator would"
            )]
            let value = std::env::var(name).ok()?;
            Some(((*name).to_owned(), value))
        })
        .collect()
}

pub fn node() -> Runtime {
    runtime("node")
}

pub fn python() -> Runtime {
    runtime("python")
}

fn runtime(language: &str) -> Runtime {
    runtimes()
        .iter()
        .find(|r| r.id.starts_with(&format!("{language}-")))
        .unwrap_or_else(|| panic!("these tests need {language} on the PATH"))
        .clone()
}

/// The sandbox the tests run functions in, as the server does; without one (no root, no user
/// namespaces), the tests run plain processes and say so once.
pub fn sandbox() -> Option<functiond_sandbox::Sandbox> {
    static SANDBOX: OnceLock<Option<functiond_sandbox::Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            match functiond_sandbox::Sandbox::new(functiond_sandbox::SandboxConfig::default()) {
                Ok(sandbox) => Some(sandbox),
                Err(error) => {
                    eprintln!("NOTE: executor tests run without the sandbox: {error}");
                    None
                }
            }
        })
        .clone()
}

/// A `tar.gz` holding `files` (path, contents).
pub fn tar_gz(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(format!("code-{}.tar.gz", ProjectId::unique()));
    let file = std::fs::File::create(&path).expect("archive file");
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, contents.as_bytes())
            .expect("archive entry");
    }
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .expect("archive written");
    path
}

/// An executor working in a temporary directory, and one project to deploy into.
pub struct Fixture {
    pub executor: Executor,
    pub dir: tempfile::TempDir,
    pub project: ProjectId,
    pub function: FunctionId,
}

/// A built deployment.
#[derive(Clone)]
pub struct Deployment {
    pub id: DeploymentId,
    pub runtime: Runtime,
    pub entrypoint: String,
    pub code_dir: PathBuf,
    /// The function's own variables (the `APPWRITE_FUNCTION_*` set is added per call).
    pub variables: BTreeMap<String, String>,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    pub fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::new(dir.path().join("work"));
        settings.sandbox = sandbox();
        // The tests' functions leave notes (start counts) in a folder every instance may
        // write to, sandboxed or not.
        let notes = dir.path().join("notes");
        std::fs::create_dir(&notes).expect("notes folder");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o777))
                .expect("open the notes folder");
        }
        settings.extra_binds = vec![functiond_sandbox::Bind::writable(&notes)];
        adjust(&mut settings);
        Self {
            executor: Executor::new(settings).expect("executor starts"),
            dir,
            project: ProjectId::parse("tests").expect("project id"),
            function: FunctionId::unique(),
        }
    }

    /// Builds `files` as a deployment, without checking the outcome.
    pub async fn build(
        &self,
        runtime: Runtime,
        entrypoint: &str,
        files: &[(&str, &str)],
    ) -> (BuildOutcome, Deployment) {
        let id = DeploymentId::unique();
        let code_dir = self.dir.path().join("builds").join(id.as_str());
        let deployment = Deployment {
            id: id.clone(),
            runtime: runtime.clone(),
            entrypoint: entrypoint.to_owned(),
            code_dir: code_dir.clone(),
            variables: BTreeMap::new(),
        };
        let outcome = self
            .executor
            .build(BuildRequest {
                project: self.project.clone(),
                function: self.function.clone(),
                deployment: id,
                runtime,
                entrypoint: entrypoint.to_owned(),
                archive: tar_gz(self.dir.path(), files),
                code_dir,
                variables: BTreeMap::new(),
                timeout: Duration::from_secs(120),
            })
            .await;
        (outcome, deployment)
    }

    /// Builds `files` and insists the build succeeds.
    pub async fn deploy(
        &self,
        runtime: Runtime,
        entrypoint: &str,
        files: &[(&str, &str)],
    ) -> Deployment {
        let (outcome, deployment) = self.build(runtime, entrypoint, files).await;
        assert!(outcome.success, "build failed: {outcome:?}");
        deployment
    }

    /// An invocation of `deployment` with `payload`, its variables and the system set.
    pub fn request(&self, deployment: &Deployment, payload: &str) -> InvokeRequest {
        let mut variables = deployment.variables.clone();
        let runtime = &deployment.runtime;
        for (key, value) in [
            ("APPWRITE_FUNCTION_ID", self.function.as_str()),
            ("APPWRITE_FUNCTION_NAME", "Test"),
            ("APPWRITE_FUNCTION_DEPLOYMENT", deployment.id.as_str()),
            ("APPWRITE_FUNCTION_PROJECT_ID", self.project.as_str()),
            ("APPWRITE_FUNCTION_TRIGGER", "http"),
            ("APPWRITE_FUNCTION_RUNTIME_NAME", runtime.name.as_str()),
            (
                "APPWRITE_FUNCTION_RUNTIME_VERSION",
                runtime.version.as_str(),
            ),
            ("APPWRITE_FUNCTION_EVENT", ""),
            ("APPWRITE_FUNCTION_EVENT_DATA", ""),
            ("APPWRITE_FUNCTION_DATA", payload),
            ("APPWRITE_FUNCTION_USER_ID", ""),
            ("APPWRITE_FUNCTION_JWT", ""),
        ] {
            variables.insert(key.to_owned(), value.to_owned());
        }
        InvokeRequest {
            project: self.project.clone(),
            function: self.function.clone(),
            deployment: deployment.id.clone(),
            runtime: deployment.runtime.clone(),
            entrypoint: deployment.entrypoint.clone(),
            code_dir: deployment.code_dir.clone(),
            variables,
            payload: payload.to_owned(),
            headers: BTreeMap::new(),
            timeout: Duration::from_secs(15),
        }
    }

    pub async fn invoke(&self, deployment: &Deployment, payload: &str) -> InvokeOutcome {
        self.executor
            .invoke(self.request(deployment, payload))
            .await
    }

    /// Invokes and insists on a 200, returning the response parsed as JSON.
    pub async fn json(&self, deployment: &Deployment, payload: &str) -> serde_json::Value {
        let outcome = self.invoke(deployment, payload).await;
        assert_eq!(outcome.status_code, 200, "{outcome:?}");
        serde_json::from_str(&outcome.response)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {outcome:?}"))
    }
}

/// Runs `requests` at the same time, each on its own task; outcomes in request order.
pub async fn concurrently(
    fixture: &Arc<Fixture>,
    requests: Vec<InvokeRequest>,
) -> Vec<InvokeOutcome> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let fixture = Arc::clone(fixture);
            tokio::spawn(async move { fixture.executor.invoke(request).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("invocation task"));
    }
    outcomes
}

/// Whether a process is running (a zombie, or no process at all, is not).
/// Whether an instance whose module set `process.title` to `instance-<id>` is still running
/// (found by its title among the host's processes: in a sandbox, its pid means nothing here).
pub fn instance_running(id: u64) -> bool {
    let title = format!("instance-{id}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|line| line.starts_with(title.as_bytes()))
                && running(entry.file_name().to_string_lossy().parse().unwrap_or(0))
        })
}

pub fn running(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits up to five seconds for `check` to hold.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
