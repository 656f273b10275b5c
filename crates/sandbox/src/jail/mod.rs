//! Real isolation for untrusted code: the recipe of DESIGN.md. A [`Sandbox`] is the host side,
//! checked and prepared once at start (cgroups, the uid ranges, the seccomp program, the empty
//! directory new roots are mounted on); a [`Jail`] says how one process is confined (what it
//! sees, what it may use, what network it has).
//!
//! Each sandboxed process gets new user, pid, mount, ipc, uts, net and cgroup namespaces;
//! its namespace's root is mapped to a range of host ids of its own, and the workload runs as
//! uid 1000 inside it. It sees a fresh tmpfs root holding only read-only binds of the host's
//! system files and the paths the jail names, a private size-capped `/tmp`, a fresh `/proc`
//! and a minimal `/dev`. PID 1 of the namespace is ours (a reaper that exits with the
//! workload), so killing it kills everything the workload started, setsid'd or not.

mod cgroup;
mod child;
mod egress;
mod ids;
mod mount;
mod net;
mod plan;
mod process;
mod seccomp;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use cgroup::{LimitHit, Limits};
pub use egress::{Cidr, Egress};
pub(crate) use process::Process;

use crate::SandboxError;

/// A path of the host made visible in the sandbox at the same place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub path: PathBuf,
    pub writable: bool,
    /// Whether the tree is handed to the sandbox's user for the sandbox's life (and back to
    /// the server's user after): how a sandbox gets to write where only root could.
    pub lent: bool,
    /// Where the sandbox sees it; `None`: at the same path as the host.
    pub inside: Option<PathBuf>,
}

impl Bind {
    pub fn read_only(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writable: false,
            lent: false,
            inside: None,
        }
    }

    /// Writable as far as the file permissions let the sandbox's user (uid 1000 inside, a
    /// uid of its own outside) write: for folders the caller opened up on purpose.
    pub fn writable(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writable: true,
            lent: false,
            inside: None,
        }
    }

    /// Writable, and owned by the sandbox's user while it runs: a build's code folder. Only
    /// for trees no other sandbox uses at the same time.
    pub fn lent(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writable: true,
            lent: true,
            inside: None,
        }
    }

    /// The same bind, seen at `path` inside the sandbox (which then learns nothing of where
    /// it lives on the host).
    pub fn at(mut self, path: impl Into<PathBuf>) -> Self {
        self.inside = Some(path.into());
        self
    }
}

/// What network a sandbox has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Network {
    /// A network namespace of its own with every interface down: nothing is reachable, not
    /// even its own loopback.
    #[default]
    None,
    /// Its own loopback only (the host's stays out of reach).
    Loopback,
    /// Its own loopback, where an HTTP proxy of the server (named in `HTTP_PROXY` and
    /// `HTTPS_PROXY`) relays connections to the addresses the policy allows; see `egress`.
    Egress(Egress),
}

impl Network {
    pub(crate) fn needs_loopback(&self) -> bool {
        matches!(self, Self::Loopback)
    }
}

/// How one process is confined.
#[derive(Debug, Clone)]
pub struct Jail {
    pub sandbox: Sandbox,
    /// Host paths visible inside, besides the system files every sandbox gets.
    pub binds: Vec<Bind>,
    pub limits: Limits,
    pub network: Network,
    /// The size of the private `/tmp`, in bytes (its pages count against the memory limit).
    pub tmp_size: u64,
    /// `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// `RLIMIT_FSIZE`: the largest file the process may write, in bytes.
    pub file_size: u64,
}

impl Jail {
    /// A jail with the sandbox's defaults and nothing of the host but its system files.
    pub fn new(sandbox: &Sandbox) -> Self {
        Self {
            sandbox: sandbox.clone(),
            binds: Vec::new(),
            limits: Limits::default(),
            network: Network::None,
            tmp_size: 64 * 1024 * 1024,
            open_files: 4096,
            file_size: 256 * 1024 * 1024,
        }
    }

    pub fn bind(mut self, bind: Bind) -> Self {
        self.binds.push(bind);
        self
    }
}

/// Host-side settings of the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// A host directory every user may traverse; new roots are mounted (each in its own
    /// mount namespace) on an empty folder inside it, so it may be shared by several servers.
    pub state_dir: PathBuf,
    /// Where the locks that hand out uid ranges live; shared by every server on the host so
    /// that no two sandboxes, even of different servers, share a range.
    pub id_lock_dir: PathBuf,
    /// The first host uid (and gid) given to sandboxes; each gets [`ids::RANGE`] ids.
    pub first_id: u32,
    /// How many sandboxes may exist at once (each holds one uid range).
    pub max_sandboxes: u32,
    /// Read-only host paths every sandbox sees (the system files runtimes need).
    pub system: Vec<Bind>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let system = [
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/etc/ssl",
            "/etc/ca-certificates",
            "/etc/alternatives",
            "/etc/ld.so.cache",
            "/etc/localtime",
            "/etc/nsswitch.conf",
        ]
        .into_iter()
        .map(Bind::read_only)
        .collect();
        Self {
            state_dir: PathBuf::from("/run/functiond-sandbox"),
            id_lock_dir: PathBuf::from("/run/functiond-sandbox/ids"),
            first_id: 1_000_000_000,
            max_sandboxes: 4096,
            system,
        }
    }
}

#[derive(Debug)]
struct Host {
    root: PathBuf,
    system: Vec<Bind>,
    cgroups: cgroup::Cgroups,
    ids: ids::Ranges,
    seccomp: Vec<libc::sock_filter>,
}

/// The host side of sandboxing, prepared once; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    host: Arc<Host>,
}

impl Sandbox {
    /// Checks that this host can sandbox (root, user namespaces, cgroup controllers) and
    /// prepares it. The error says what is missing.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let unavailable = |message: String| SandboxError::Unavailable { message };
        if !nix::unistd::geteuid().is_root() {
            return Err(unavailable(
                "the sandbox needs root: it maps uid ranges and manages cgroups".into(),
            ));
        }
        let namespaces = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if namespaces == 0 {
            return Err(unavailable(
                "user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0 or missing)"
                    .into(),
            ));
        }
        let cgroups = cgroup::Cgroups::discover()?;
        let root = config.state_dir.join("root");
        create_private_dir(&config.state_dir, 0o711)?;
        create_private_dir(&root, 0o755)?;
        let ids = ids::Ranges::new(&config.id_lock_dir, config.first_id, config.max_sandboxes)?;
        let sandbox = Self {
            host: Arc::new(Host {
                root,
                system: config.system,
                cgroups,
                ids,
                seccomp: seccomp::program(),
            }),
        };
        sandbox.probe()?;
        Ok(sandbox)
    }

    /// Runs `true` in a sandbox: the kernel may refuse a namespace or a mount that the checks
    /// above cannot foresee, and it is better to learn that at start than at the first call.
    fn probe(&self) -> Result<(), SandboxError> {
        let spec = crate::Spec::new("/bin/true").jail(Jail::new(self));
        let outcome = crate::run(&spec).map_err(|error| SandboxError::Unavailable {
            message: format!("a test sandbox could not start: {error}"),
        })?;
        if outcome.success() {
            Ok(())
        } else {
            Err(SandboxError::Unavailable {
                message: format!(
                    "a test sandbox failed ({:?}): {}",
                    outcome.exit_code,
                    String::from_utf8_lossy(&outcome.stderr).trim()
                ),
            })
        }
    }

    /// Makes moving processes into cgroups cheap for the whole host (see
    /// `cgroup::favor_dynamic_changes`); tells whether it is on.
    pub fn favor_fast_cgroup_moves() -> Result<bool, String> {
        cgroup::favor_dynamic_changes()
    }
}

/// Starts `spec` confined by `jail`.
pub(crate) fn start(spec: &crate::Spec, jail: &Jail) -> Result<process::Started, SandboxError> {
    process::start(spec, jail, &jail.sandbox.host)
}

fn create_private_dir(path: &Path, mode: u32) -> Result<(), SandboxError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|error| SandboxError::Setup {
            message: format!("cannot prepare {}: {error}", path.display()),
        })
}
