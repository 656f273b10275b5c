//! A started process and the one way to start it. Every process gets a clean environment
//! (only what the spec names), a null stdin, no core dumps, and its output drained.
//!
//! A spec with a [`crate::Jail`] runs in a sandbox (see [`crate::jail`]): killing it kills
//! everything it started. A spec without one runs as a plain child in its own process group
//! (the development mode): a descendant that calls `setsid` (or `setpgid`) leaves the group
//! and survives [`Instance::kill`].

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::capture::{Capture, Keep};
use crate::jail::{self, LimitHit};
use crate::{SandboxError, Spec};

/// The soft open-files limit a process gets (capped by the server's own hard limit).
const OPEN_FILES: u64 = 65_536;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit code {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(name) => write!(f, "signal {signal} ({name})"),
                Err(_) => write!(f, "signal {signal}"),
            },
            (None, None) => f.write_str("unknown status"),
        }
    }
}

/// A running (or finished, not yet reaped) process started from a [`Spec`]. Dropping it kills
/// it with everything it started.
#[derive(Debug)]
pub struct Instance {
    handle: Handle,
    stdout: Capture,
    stderr: Capture,
    /// Set once the process has been reaped; its pid may then belong to someone else.
    reaped: Option<Exit>,
}

/// Starts `spec` as a long-lived process: its output is drained continuously and the last
/// `spec.output_limit` bytes of each stream are kept. `spec.timeout` does not apply; the
/// owner decides when it ends.
pub fn spawn(spec: &Spec) -> Result<Instance, SandboxError> {
    start(spec, Keep::Tail)
}

#[derive(Debug)]
enum Handle {
    Plain(Child),
    Jailed(Box<jail::Process>),
}

pub(crate) fn start(spec: &Spec, keep: Keep) -> Result<Instance, SandboxError> {
    if let Some(jail) = &spec.jail {
        let started = jail::start(spec, jail)?;
        return Ok(Instance {
            handle: Handle::Jailed(Box::new(started.process)),
            stdout: Capture::start(Some(started.stdout), spec.output_limit, keep),
            stderr: Capture::start(Some(started.stderr), spec.output_limit, keep),
            reaped: None,
        });
    }
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a kill reaches everything it started.
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    // Read in the parent: the child inherits the same limits, and reading them here keeps
    // the code that runs between fork and exec minimal.
    let open_files = getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(_, hard)| (hard.min(OPEN_FILES), hard));
    limit_resources(&mut command, open_files);
    let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
        program: spec.program.display().to_string(),
        source,
    })?;
    let stdout = Capture::start(child.stdout.take(), spec.output_limit, keep);
    let stderr = Capture::start(child.stderr.take(), spec.output_limit, keep);
    Ok(Instance {
        handle: Handle::Plain(child),
        stdout,
        stderr,
        reaped: None,
    })
}

/// Sets the child's rlimits between fork and exec.
#[expect(
    unsafe_code,
    reason = "rlimits must be set in the child between fork and exec (`pre_exec`)"
)]
fn limit_resources(command: &mut Command, open_files: Option<(u64, u64)>) {
    // SAFETY: the closure runs in the forked child before exec; it only calls setrlimit (an
    // async-signal-safe system call, wrapped without allocation) and builds an io::Error from
    // a plain errno value, so it neither allocates nor touches locks held by other threads.
    unsafe {
        command.pre_exec(move || {
            let fail = |errno: Errno| std::io::Error::from_raw_os_error(errno as i32);
            setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(fail)?;
            if let Some((soft, hard)) = open_files {
                setrlimit(Resource::RLIMIT_NOFILE, soft, hard).map_err(fail)?;
            }
            Ok(())
        });
    }
}

impl Instance {
    /// The process id: of the process itself, or of the sandbox's PID 1 (as the host sees it).
    pub fn id(&self) -> u32 {
        match &self.handle {
            Handle::Plain(child) => child.id(),
            Handle::Jailed(process) => process.id(),
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.id()).unwrap_or(i32::MAX))
    }

    /// Whether a peer process (say, the other end of a unix socket, as `SO_PEERCRED` gives
    /// it) belongs to this instance: in a sandbox, whether it runs as the sandbox's own host
    /// uid (no other sandbox has it); otherwise, whether it is in the process group.
    pub fn owns_peer(&self, pid: Option<i32>, uid: u32) -> bool {
        match &self.handle {
            Handle::Jailed(process) => process.host_uid() == Some(uid),
            Handle::Plain(_) => {
                let Some(pid) = pid else { return false };
                if u32::try_from(pid).ok() == Some(self.id()) {
                    return true;
                }
                nix::unistd::getpgid(Some(Pid::from_raw(pid)))
                    .is_ok_and(|group| group == self.pid())
            }
        }
    }

    /// Whether the process has ended, without waiting. An ended process is left unreaped
    /// (a zombie) until [`Instance::kill`], so its pid, and with it the group id, cannot be
    /// reused by another process before the group is signalled.
    pub fn exited(&mut self) -> Result<Option<Exit>, SandboxError> {
        if let Some(exit) = self.reaped {
            return Ok(Some(exit));
        }
        if let Handle::Jailed(process) = &mut self.handle {
            return process.exited();
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.pid()), flags) {
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(Exit {
                code: Some(code),
                signal: None,
            })),
            Ok(WaitStatus::Signaled(_, signal, _)) => Ok(Some(Exit {
                code: None,
                signal: Some(signal as i32),
            })),
            Ok(_) => Ok(None),
            Err(errno) => Err(SandboxError::Wait {
                source: std::io::Error::from_raw_os_error(errno as i32),
            }),
        }
    }

    /// Kills the process with everything it started (if anything is left) and reaps it.
    /// Blocking, but only briefly: a killed process is reaped at once.
    pub fn kill(&mut self) -> Result<Exit, SandboxError> {
        if let Some(exit) = self.reaped {
            return Ok(exit);
        }
        let pid = self.pid();
        let exit = match &mut self.handle {
            Handle::Jailed(process) => process.kill()?,
            Handle::Plain(child) => {
                // The leader is not reaped yet, so the group id is still ours to signal.
                if killpg(pid, Signal::SIGKILL).is_err() {
                    let _ = child.kill();
                }
                let status = child
                    .wait()
                    .map_err(|source| SandboxError::Wait { source })?;
                Exit {
                    code: status.code(),
                    signal: std::os::unix::process::ExitStatusExt::signal(&status),
                }
            }
        };
        self.reaped = Some(exit);
        Ok(exit)
    }

    /// The host uid of a sandboxed workload (for tests that look for its processes).
    #[cfg(test)]
    pub(crate) fn handle_uid(&self) -> Option<u32> {
        match &self.handle {
            Handle::Jailed(process) => process.host_uid(),
            Handle::Plain(_) => None,
        }
    }

    /// Waits up to `timeout` for the process to end, without reaping it.
    pub(crate) fn wait_exit(&self, timeout: Duration) {
        if !wait_pidfd(self.id(), timeout) {
            std::thread::sleep(timeout.min(Duration::from_millis(5)));
        }
    }

    /// The cgroup limit the process ran into (memory, processes), known after
    /// [`Instance::kill`]; always `None` outside a sandbox.
    pub fn limit_hit(&self) -> Option<LimitHit> {
        match &self.handle {
            Handle::Jailed(process) => process.limit_hit(),
            Handle::Plain(_) => None,
        }
    }

    /// How many bytes the process has written to stdout so far (a mark for `stdout_since`).
    pub fn stdout_mark(&self) -> u64 {
        self.stdout.total()
    }

    /// How many bytes the process has written to stderr so far (a mark for `stderr_since`).
    pub fn stderr_mark(&self) -> u64 {
        self.stderr.total()
    }

    /// The kept stdout written after `mark`.
    pub fn stdout_since(&self, mark: u64) -> Vec<u8> {
        self.stdout.since(mark)
    }

    /// The kept stderr written after `mark` (the reason a process died is usually here).
    pub fn stderr_since(&self, mark: u64) -> Vec<u8> {
        self.stderr.since(mark)
    }

    /// Waits up to `timeout` for both output pipes to close, so that what a dying process
    /// wrote last has been read. Tells whether they did.
    pub fn settle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        self.stdout.wait_closed(timeout)
            && self
                .stderr
                .wait_closed(deadline.saturating_duration_since(std::time::Instant::now()))
    }

    pub(crate) fn take_output(&self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.contents(), self.stderr.contents())
    }
}

/// Waits on a pidfd until `pid` exits or `timeout` passes; false when pidfds are unavailable.
#[expect(unsafe_code, reason = "pidfd_open has no wrapper in nix or std")]
fn wait_pidfd(pid: u32, timeout: Duration) -> bool {
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};
    // SAFETY: pidfd_open returns a new descriptor (or -1) that we then own.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(raw) = i32::try_from(raw) else {
        return false;
    };
    if raw < 0 {
        return false;
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [nix::poll::PollFd::new(
        pidfd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(millis));
    true
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Whether a process is still around (a zombie counts as gone: it runs nothing).
    fn running(pid: u32) -> bool {
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

    fn eventually(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn shell(script: &str) -> Spec {
        Spec::new("/bin/sh").arg("-c").arg(script)
    }

    #[test]
    fn a_spawned_process_sees_only_its_environment_and_its_output_is_drained() {
        let mut instance =
            spawn(&shell("/usr/bin/env; echo err >&2; exec sleep 30").env("A", "1")).unwrap();
        eventually("output", || {
            instance.stdout_since(0).ends_with(b"\n") && instance.stderr_since(0) == b"err\n"
        });
        let env = String::from_utf8(instance.stdout_since(0)).unwrap();
        // sh itself may add PWD; nothing of the test process's environment is there.
        let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
        assert!(names.contains(&"A"), "{env}");
        assert!(
            names.iter().all(|n| ["A", "PWD", "SHLVL", "_"].contains(n)),
            "{env}"
        );
        assert_eq!(instance.exited().unwrap(), None);
        let exit = instance.kill().unwrap();
        assert_eq!(exit.signal, Some(Signal::SIGKILL as i32));
        assert_eq!(exit.to_string(), "signal 9 (SIGKILL)");
    }

    #[test]
    fn kill_takes_the_whole_process_group() {
        let mut instance = spawn(&shell("sleep 300 & echo $!; wait")).unwrap();
        eventually("the child's pid", || {
            instance.stdout_since(0).ends_with(b"\n")
        });
        let child: u32 = String::from_utf8(instance.stdout_since(0))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(running(child));
        instance.kill().unwrap();
        eventually("the grandchild to die", || !running(child));
        assert!(!running(instance.id()));
    }

    #[test]
    fn an_exit_is_seen_without_reaping_and_its_stderr_kept() {
        let mut instance = spawn(&shell("echo first >&2; echo bye >&2; exit 7")).unwrap();
        eventually("the exit", || instance.exited().unwrap().is_some());
        let exit = instance.exited().unwrap().unwrap();
        assert_eq!(exit.code, Some(7));
        assert_eq!(exit.to_string(), "exit code 7");
        // Not reaped yet: the zombie keeps the pid (and so the group id) reserved.
        assert!(std::path::Path::new(&format!("/proc/{}", instance.id())).exists());
        assert!(instance.settle(Duration::from_secs(5)));
        assert_eq!(instance.stderr_since(6), b"bye\n");
        assert_eq!(instance.stderr_mark(), 10);
        assert_eq!(instance.kill().unwrap().code, Some(7));
    }

    #[test]
    fn dropping_an_instance_kills_it() {
        let instance = spawn(&Spec::new("/bin/sleep").arg("300")).unwrap();
        let pid = instance.id();
        assert!(running(pid));
        drop(instance);
        assert!(!running(pid));
    }

    #[test]
    fn a_chatty_process_never_blocks_and_only_its_tail_is_kept() {
        let spec =
            shell("head -c 10000000 /dev/zero; echo done >&2; exec sleep 30").output_limit(100);
        let instance = spawn(&spec).unwrap();
        eventually("the end of the output", || {
            instance.stderr_since(0) == b"done\n"
        });
        assert_eq!(instance.stdout_mark(), 10_000_000);
        assert_eq!(instance.stdout_since(0), vec![0u8; 100]);
    }

    #[test]
    fn core_dumps_are_off_and_open_files_generous() {
        let outcome = crate::run(&shell("ulimit -c; ulimit -n")).unwrap();
        let text = String::from_utf8(outcome.stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("0"));
        let open_files: u64 = lines.next().unwrap().parse().unwrap();
        assert!(open_files >= 1024, "{text}");
    }
}
