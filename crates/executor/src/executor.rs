//! The [`Executor`]: its settings, its working directory, and the [`Invoker`] implementation
//! the domain calls. Everything it owns lives under `Settings::work_dir`: the runtime shims
//! (rewritten at every start), the instances' sockets, npm's cache and the builds' `HOME`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use functiond_domain::ports::{BuildOutcome, BuildRequest, InvokeOutcome, InvokeRequest, Invoker};
use functiond_types::id::{DeploymentId, ProjectId};

use crate::pool::{self, Pool};
use crate::shims::Shims;
use crate::{archive, build, invoke};

/// The longest socket path the kernel accepts (`sun_path` holds 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// The longest socket file name the pool makes: `<u64>.sock`.
const SOCKET_NAME: usize = 20 + ".sock".len();

/// How the executor behaves. Every field has a default except the working directory.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the executor keeps its files (shims, sockets, npm cache, build home). Keep the
    /// path short: socket paths under it must fit in 107 bytes.
    pub work_dir: PathBuf,
    /// How long an unused warm instance is kept (Appwrite's `_APP_FUNCTIONS_INACTIVE_THRESHOLD`).
    pub idle_ttl: Duration,
    /// Live instances across all functions; when full, the least recently used idle one is
    /// evicted, or the caller waits.
    pub max_instances: usize,
    /// Live instances of one deployment (and variables); more callers queue.
    pub max_instances_per_deployment: usize,
    /// How long a runtime may take to load the function's code before the start fails.
    pub cold_start_timeout: Duration,
    /// How long a caller may wait for an instance (queued behind busy ones, or its cold
    /// start) before the execution fails.
    pub queue_timeout: Duration,
    /// How long a queued caller waits for a busy instance before another is started.
    pub scale_out_delay: Duration,
    /// What a deployment archive may unpack to.
    pub archive: archive::Limits,
    /// Bytes of build output kept per stream.
    pub build_output_limit: usize,
    /// Where `npm` is looked for when it is not installed beside `node`.
    pub tool_path: Vec<PathBuf>,
    /// Extra environment for build commands, chosen by the operator: registry mirrors,
    /// proxies, CA bundles (`NODE_EXTRA_CA_CERTS`, `PIP_INDEX_URL`, `HTTPS_PROXY`, ...). Builds
    /// inherit nothing from the server's own environment; a function's variables override these.
    pub build_env: Vec<(String, String)>,
    /// The sandbox instances and builds run in; `None` runs them as plain processes, which
    /// is only fit for development (`--insecure-no-sandbox`).
    pub sandbox: Option<functiond_sandbox::Sandbox>,
    /// Memory, cpu and process limits of each instance (`--functions-memory` ...). Builds get
    /// at least [`BUILD_MEMORY`] and [`BUILD_PIDS`]: package managers need more.
    pub limits: functiond_sandbox::Limits,
    /// What network instances have (none by default).
    pub functions_network: functiond_sandbox::Network,
    /// What network builds have (egress by default: package managers need the registries).
    pub build_network: functiond_sandbox::Network,
    /// Host paths every instance sees besides its own (none by default; the tests share a
    /// writable folder with their functions this way).
    pub extra_binds: Vec<functiond_sandbox::Bind>,
}

/// The least memory a build's sandbox gets, whatever the instances' limit.
pub const BUILD_MEMORY: u64 = 2048 * 1024 * 1024;
/// The least processes and threads a build's sandbox gets.
pub const BUILD_PIDS: u64 = 1024;

impl Settings {
    /// The defaults, working in `work_dir`.
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        Self {
            work_dir: work_dir.into(),
            idle_ttl: Duration::from_secs(60),
            max_instances: 32,
            max_instances_per_deployment: 4,
            cold_start_timeout: Duration::from_secs(30),
            queue_timeout: Duration::from_secs(60),
            scale_out_delay: Duration::from_millis(10),
            archive: archive::Limits::default(),
            build_output_limit: 1_000_000,
            tool_path: ["/usr/local/bin", "/usr/bin", "/bin"]
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            build_env: Vec::new(),
            sandbox: None,
            limits: functiond_sandbox::Limits::default(),
            functions_network: functiond_sandbox::Network::None,
            build_network: functiond_sandbox::Network::Egress(functiond_sandbox::Egress::default()),
            extra_binds: Vec::new(),
        }
    }

    /// How instances are confined, when there is a sandbox.
    fn instance_jail(&self) -> Option<functiond_sandbox::Jail> {
        let sandbox = self.sandbox.as_ref()?;
        let mut jail = functiond_sandbox::Jail::new(sandbox);
        jail.limits = self.limits;
        jail.network = self.functions_network.clone();
        jail.binds.extend(self.extra_binds.iter().cloned());
        Some(jail)
    }

    /// How builds are confined, when there is a sandbox: the instances' limits (memory and
    /// processes raised to what package managers need), a larger `/tmp` and larger files.
    fn build_jail(&self) -> Option<functiond_sandbox::Jail> {
        let mut jail = self.instance_jail()?;
        jail.limits.memory_bytes = jail.limits.memory_bytes.map(|m| m.max(BUILD_MEMORY));
        jail.limits.pids = jail.limits.pids.map(|p| p.max(BUILD_PIDS));
        jail.tmp_size = 512 * 1024 * 1024;
        jail.network = self.build_network.clone();
        jail.binds.clear();
        jail.file_size = 1024 * 1024 * 1024;
        Some(jail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error("cannot prepare the executor's directory {path}: {source}")]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the executor's directory {path} is too long for unix socket paths (at most {max} bytes before the socket's name); choose a shorter data directory"
    )]
    SocketPath { path: PathBuf, max: usize },
    #[error("the executor must be created inside a tokio runtime")]
    NoRuntime,
}

/// Builds deployments and runs executions on this host.
#[derive(Debug)]
pub struct Executor {
    pool: Pool,
    shims: Shims,
    build: build::Config,
}

impl Executor {
    /// Prepares the working directory, writes the shims, and starts the idle sweeper. Must be
    /// called inside a tokio runtime.
    pub fn new(settings: Settings) -> Result<Self, ExecutorError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ExecutorError::NoRuntime)?;
        let work_dir = &settings.work_dir;
        let sockets = work_dir.join("sockets");
        if sockets.as_os_str().len() + 1 + SOCKET_NAME > MAX_SOCKET_PATH {
            return Err(ExecutorError::SocketPath {
                path: sockets,
                max: MAX_SOCKET_PATH - SOCKET_NAME - 1,
            });
        }
        let home = work_dir.join("build-home");
        let npm_cache = work_dir.join("npm-cache");
        for dir in [work_dir, &sockets, &home, &npm_cache] {
            create_dir(dir)?;
        }
        // Only the server may reach the instances' sockets.
        restrict(&sockets)?;
        clear_stale_sockets(&sockets);
        let shims_dir = work_dir.join("runtimes");
        let shims = Shims::install(&shims_dir)
            .map_err(|source| ExecutorError::WorkDir {
                path: shims_dir,
                source,
            })?
            .confined(settings.instance_jail());
        let build_jail = settings.build_jail();
        let pool = Pool::new(
            pool::Limits {
                max_instances: settings.max_instances.max(1),
                per_key: settings.max_instances_per_deployment.max(1),
                idle_ttl: settings.idle_ttl,
                cold_start_timeout: settings.cold_start_timeout,
                queue_timeout: settings.queue_timeout,
                scale_out_delay: settings.scale_out_delay,
            },
            sockets,
        );
        runtime.spawn(sweep(pool.downgrade(), sweep_interval(settings.idle_ttl)));
        Ok(Self {
            pool,
            shims,
            build: build::Config {
                archive: settings.archive,
                home,
                npm_cache,
                tool_path: settings.tool_path,
                env: settings.build_env,
                output_limit: settings.build_output_limit,
                jail: build_jail,
            },
        })
    }

    /// Refuses new executions and kills every idle instance; an instance still serving a call
    /// is killed when the call ends. Call it on shutdown (dropping the executor kills the
    /// idle instances too, but without waiting for them).
    pub async fn shutdown(&self) {
        self.pool.shutdown().await;
    }

    /// Instances alive or starting, across all functions.
    pub fn live_instances(&self) -> usize {
        self.pool.live()
    }
}

#[async_trait]
impl Invoker for Executor {
    async fn build(&self, request: BuildRequest) -> BuildOutcome {
        build::build(&self.build, request).await
    }

    async fn invoke(&self, request: InvokeRequest) -> InvokeOutcome {
        invoke::invoke(&self.pool, &self.shims, request).await
    }

    async fn retire(&self, project: &ProjectId, deployment: &DeploymentId) {
        self.pool
            .retire(project.as_str(), deployment.as_str())
            .await;
    }
}

fn create_dir(dir: &Path) -> Result<(), ExecutorError> {
    std::fs::create_dir_all(dir).map_err(|source| ExecutorError::WorkDir {
        path: dir.to_owned(),
        source,
    })
}

fn restrict(dir: &Path) -> Result<(), ExecutorError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        ExecutorError::WorkDir {
            path: dir.to_owned(),
            source,
        }
    })
}

/// Sockets left by a previous run that did not stop cleanly; nobody listens on them.
fn clear_stale_sockets(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|ext| ext == "sock") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Sweeps often enough that an idle instance outlives its TTL by at most a quarter of it.
fn sweep_interval(idle_ttl: Duration) -> Duration {
    (idle_ttl / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

async fn sweep(pool: pool::WeakPool, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        pool.sweep().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_scale_with_the_idle_ttl() {
        assert_eq!(
            sweep_interval(Duration::from_secs(60)),
            Duration::from_secs(5)
        );
        assert_eq!(
            sweep_interval(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
        assert_eq!(sweep_interval(Duration::ZERO), Duration::from_millis(50));
    }

    #[tokio::test]
    async fn a_long_work_dir_is_refused_and_a_short_one_prepared() {
        let long = PathBuf::from("/tmp").join("x".repeat(90));
        let error = Executor::new(Settings::new(&long)).unwrap_err();
        assert!(matches!(error, ExecutorError::SocketPath { .. }), "{error}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sockets")).unwrap();
        std::fs::write(dir.path().join("sockets/7.sock"), "").unwrap();
        let executor = Executor::new(Settings::new(dir.path())).unwrap();
        assert!(dir.path().join("runtimes/node/shim.cjs").is_file());
        assert!(dir.path().join("runtimes/python/shim.py").is_file());
        assert!(!dir.path().join("sockets/7.sock").exists());
        assert_eq!(executor.live_instances(), 0);
    }

    #[test]
    fn outside_a_runtime_there_is_no_executor() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Executor::new(Settings::new(dir.path())),
            Err(ExecutorError::NoRuntime)
        ));
    }
}
