//! Resource limits through cgroups: memory, pids and cpu for each sandbox, in a group of its
//! own that is created before the sandbox starts and removed once its last process is gone.
//!
//! Each controller is taken from cgroup v2 when the unified hierarchy offers it, and from
//! its v1 hierarchy otherwise: hosts such as our CI mount a v2 tree that holds only
//! `hugetlb` and keep memory, pids and cpu on v1. Groups live under `functiond/` in each
//! hierarchy and are named `sbx-<server pid>-<n>`, so a server sweeps away what an earlier,
//! crashed server left behind without touching the groups of another live server.
//!
//! Moving a process into a group (a write to `cgroup.procs`) waits for an RCU grace period
//! on a stock kernel, about 10 ms; see [`favor_dynamic_changes`] for how that is avoided.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::SandboxError;

const PARENT: &str = "functiond";

/// A controller's home: which hierarchy, and the directory our groups go under.
#[derive(Debug, Clone)]
struct Place {
    v2: bool,
    dir: PathBuf,
}

/// The controllers this host offers us, found once at start.
#[derive(Debug)]
pub(crate) struct Cgroups {
    memory: Place,
    pids: Place,
    cpu: Place,
}

/// Numbers groups: one counter for the whole process, which may hold several [`Cgroups`].
static NEXT: AtomicU64 = AtomicU64::new(0);

/// What one sandbox may use. `None` means no limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    /// CPU time per wall-clock second (1.5 = one and a half cores).
    pub cpus: Option<f64>,
    pub pids: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: Some(512 * 1024 * 1024),
            cpus: Some(1.0),
            pids: Some(256),
        }
    }
}

/// A limit the sandbox ran into, read from the group's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    Memory { limit_bytes: u64 },
    Pids { limit: u64 },
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory { limit_bytes } => write!(
                f,
                "The function ran out of memory (its limit is {} MB) and was killed.",
                limit_bytes / (1024 * 1024)
            ),
            Self::Pids { limit } => write!(
                f,
                "The function reached its limit of {limit} processes and threads."
            ),
        }
    }
}

fn failed(what: &str, path: &Path, error: std::io::Error) -> SandboxError {
    SandboxError::Cgroup {
        message: format!("{what} {}: {error}", path.display()),
    }
}

impl Cgroups {
    /// Finds memory, pids and cpu controllers and prepares our parent groups; says which is
    /// missing when one is.
    pub(crate) fn discover() -> Result<Self, SandboxError> {
        let mounts = std::fs::read_to_string("/proc/self/mounts")
            .map_err(|error| failed("cannot read", Path::new("/proc/self/mounts"), error))?;
        let mut v2_root = None;
        let mut v1 = Vec::new();
        for line in mounts.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, path, kind, options, ..] = fields[..] else {
                continue;
            };
            match kind {
                "cgroup2" => v2_root = Some(PathBuf::from(path)),
                "cgroup" => v1.push((PathBuf::from(path), options.to_owned())),
                _ => {}
            }
        }
        let v2_controllers = v2_root
            .as_ref()
            .and_then(|root| std::fs::read_to_string(root.join("cgroup.controllers")).ok())
            .unwrap_or_default();
        let find = |name: &str| -> Result<Place, SandboxError> {
            if let Some(root) = &v2_root
                && v2_controllers.split_whitespace().any(|c| c == name)
            {
                return Ok(Place {
                    v2: true,
                    dir: root.join(PARENT),
                });
            }
            v1.iter()
                .find(|(_, options)| options.split(',').any(|o| o == name))
                .map(|(path, _)| Place {
                    v2: false,
                    dir: path.join(PARENT),
                })
                .ok_or_else(|| SandboxError::Cgroup {
                    message: format!(
                        "the `{name}` cgroup controller is not available (neither cgroup v2 nor a v1 hierarchy offers it)"
                    ),
                })
        };
        let cgroups = Self {
            memory: find("memory")?,
            pids: find("pids")?,
            cpu: find("cpu")?,
        };
        cgroups.prepare(v2_root.as_deref())?;
        cgroups.sweep();
        Ok(cgroups)
    }

    fn places(&self) -> [&Place; 3] {
        [&self.memory, &self.pids, &self.cpu]
    }

    fn prepare(&self, v2_root: Option<&Path>) -> Result<(), SandboxError> {
        let v2_wanted: Vec<&str> = [
            ("memory", &self.memory),
            ("pids", &self.pids),
            ("cpu", &self.cpu),
        ]
        .iter()
        .filter(|(_, place)| place.v2)
        .map(|(name, _)| *name)
        .collect();
        for place in self.places() {
            std::fs::create_dir_all(&place.dir)
                .map_err(|error| failed("cannot create", &place.dir, error))?;
        }
        if let Some(root) = v2_root
            && !v2_wanted.is_empty()
        {
            let enable: Vec<String> = v2_wanted.iter().map(|c| format!("+{c}")).collect();
            for dir in [root.to_path_buf(), root.join(PARENT)] {
                let control = dir.join("cgroup.subtree_control");
                std::fs::write(&control, enable.join(" "))
                    .map_err(|error| failed("cannot enable controllers in", &control, error))?;
            }
        }
        Ok(())
    }

    /// Removes the groups of servers that are no longer running, killing what is left in them.
    fn sweep(&self) {
        for place in self.places() {
            let Ok(entries) = std::fs::read_dir(&place.dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(owner) = name
                    .strip_prefix("sbx-")
                    .and_then(|rest| rest.split('-').next())
                    .and_then(|pid| pid.parse::<u32>().ok())
                else {
                    continue;
                };
                if alive(owner) {
                    continue;
                }
                remove(&entry.path(), Duration::from_secs(1));
            }
        }
    }

    /// Creates the groups of one sandbox, limits set.
    pub(crate) fn create(&self, limits: &Limits) -> Result<Group, SandboxError> {
        let name = format!(
            "sbx-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut group = Group {
            dirs: Vec::new(),
            memory: self.memory.clone(),
            pids: self.pids.clone(),
            limits: *limits,
            name,
        };
        for place in self.places() {
            let dir = place.dir.join(&group.name);
            if group.dirs.contains(&dir) {
                continue;
            }
            std::fs::create_dir(&dir).map_err(|error| failed("cannot create", &dir, error))?;
            group.dirs.push(dir);
        }
        group.limit(&self.cpu)?;
        Ok(group)
    }
}

/// The groups of one sandbox (one directory per hierarchy). Dropping it removes them; the
/// sandbox must be dead by then.
#[derive(Debug)]
pub(crate) struct Group {
    dirs: Vec<PathBuf>,
    memory: Place,
    pids: Place,
    limits: Limits,
    name: String,
}

impl Group {
    fn file(&self, place: &Place, name: &str) -> PathBuf {
        place.dir.join(&self.name).join(name)
    }

    fn write(&self, place: &Place, name: &str, value: &str) -> Result<(), SandboxError> {
        let path = self.file(place, name);
        std::fs::write(&path, value).map_err(|error| failed("cannot write", &path, error))
    }

    fn limit(&self, cpu: &Place) -> Result<(), SandboxError> {
        let memory = &self.memory;
        if let Some(bytes) = self.limits.memory_bytes {
            let bytes = bytes.to_string();
            if memory.v2 {
                self.write(memory, "memory.max", &bytes)?;
                // Swap would let a function exceed its memory silently and slowly.
                let _ = self.write(memory, "memory.swap.max", "0");
                // One process killed for memory takes the whole sandbox with it.
                self.write(memory, "memory.oom.group", "1")?;
            } else {
                self.write(memory, "memory.limit_in_bytes", &bytes)?;
                if self.file(memory, "memory.memsw.limit_in_bytes").exists() {
                    self.write(memory, "memory.memsw.limit_in_bytes", &bytes)?;
                }
            }
        }
        if let Some(pids) = self.limits.pids {
            self.write(&self.pids, "pids.max", &pids.to_string())?;
        }
        if let Some(cpus) = self.limits.cpus {
            const PERIOD: u64 = 100_000;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a quota in microseconds per period, rounded; at least 1 ms"
            )]
            let quota = ((cpus * PERIOD as f64).round() as u64).max(1_000);
            if cpu.v2 {
                self.write(cpu, "cpu.max", &format!("{quota} {PERIOD}"))?;
            } else {
                self.write(cpu, "cpu.cfs_period_us", &PERIOD.to_string())?;
                self.write(cpu, "cpu.cfs_quota_us", &quota.to_string())?;
            }
        }
        Ok(())
    }

    /// Moves `pid` (and its future children) into every group.
    pub(crate) fn attach(&self, pid: i32) -> Result<(), SandboxError> {
        let pid = pid.to_string();
        for dir in &self.dirs {
            let procs = dir.join("cgroup.procs");
            std::fs::write(&procs, &pid).map_err(|error| failed("cannot write", &procs, error))?;
        }
        Ok(())
    }

    /// The limit the sandbox ran into, if any: a memory kill first, since it explains the rest.
    pub(crate) fn hit(&self) -> Option<LimitHit> {
        let counter = |place: &Place, file: &str, key: &str| -> u64 {
            std::fs::read_to_string(self.file(place, file))
                .ok()
                .and_then(|text| {
                    text.lines().find_map(|line| {
                        let (name, value) = line.split_once(' ')?;
                        (name == key).then(|| value.trim().parse().ok())?
                    })
                })
                .unwrap_or(0)
        };
        let memory_file = if self.memory.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        if let Some(limit_bytes) = self.limits.memory_bytes
            && counter(&self.memory, memory_file, "oom_kill") > 0
        {
            return Some(LimitHit::Memory { limit_bytes });
        }
        if let Some(limit) = self.limits.pids
            && counter(&self.pids, "pids.events", "max") > 0
        {
            return Some(LimitHit::Pids { limit });
        }
        None
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for dir in &self.dirs {
            remove(dir, Duration::from_millis(500));
        }
    }
}

/// Whether process `pid` runs (a zombie, dead but not yet reaped by its parent, does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Kills whatever is left in a group and removes it, retrying while the kernel finishes
/// tearing the last processes down.
fn remove(dir: &Path, patience: Duration) {
    let deadline = std::time::Instant::now() + patience;
    loop {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            for pid in procs
                .lines()
                .filter_map(|line| line.trim().parse::<i32>().ok())
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        if std::time::Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Makes moving a process between cgroups cheap. The kernel guards migrations with a lock
/// that, in its default mode, makes every writer wait for an RCU grace period (about 10 ms,
/// measured: 10–18 ms per `cgroup.procs` write on this host's kernel when writes are spaced
/// out). The cgroup2 mount option `favordynmods` switches that lock, for every hierarchy at
/// once, to a mode where writers do not wait (0.3–0.5 ms measured) and forks pay a little
/// instead. Remounting needs root; when it fails the sandbox still works, only slower.
pub(crate) fn favor_dynamic_changes() -> Result<bool, String> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").map_err(|e| e.to_string())?;
    let Some((path, options)) = mounts.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(2) == Some(&"cgroup2")).then(|| (fields[1].to_owned(), fields[3].to_owned()))
    }) else {
        return Ok(false);
    };
    if options.split(',').any(|o| o == "favordynmods") {
        return Ok(true);
    }
    // mount(8) keeps the mount's other options (a bare mount(2) remount would reset them).
    let status = std::process::Command::new("mount")
        .args(["-o", "remount,favordynmods", &path])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if status.success() {
        Ok(true)
    } else {
        Err(format!(
            "`mount -o remount,favordynmods {path}` failed ({status})"
        ))
    }
}
