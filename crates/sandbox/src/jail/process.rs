//! The parent's side of one sandbox: clone it (from one long-lived thread, see [`spawner`]),
//! map its ids, put it in its cgroups, let it go, and learn whether its program started.
//! Then: see whether it ended, kill it, and clean up after it.

use std::ffi::c_char;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use super::cgroup::{Group, LimitHit};
use super::child::{self, Fds, Pointers, Step};
use super::ids::{RANGE, Range};
use super::plan::{self, Plan, WORKLOAD_ID};
use super::{Host, Jail};
use crate::process::Exit;
use crate::{SandboxError, Spec};

/// A sandbox seen from outside: its PID 1, which exits (taking everything else in the
/// namespace with it) when the workload does.
#[derive(Debug)]
pub(crate) struct Process {
    pid: Pid,
    /// Where PID 1 reports the workload's wait status before it exits.
    status: File,
    /// Held open for the sandbox's life: PID 1 reads it to learn that its parent is alive.
    _sync: OwnedFd,
    group: Option<Group>,
    range: Option<Range>,
    exit: Option<Exit>,
    reaped: bool,
    hit: Option<LimitHit>,
    /// Binds lent to the workload's uid until the sandbox is gone.
    writable: Vec<std::path::PathBuf>,
    /// The egress proxy serving this sandbox, if it has egress.
    proxy: Option<super::egress::Proxy>,
}

/// A started sandbox with the read ends of its output.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) process: Process,
    pub(crate) stdout: File,
    pub(crate) stderr: File,
}

type Job = Box<dyn FnOnce() + Send>;

/// The one thread that clones sandboxes. The kernel sends PID 1 its death signal when the
/// *thread* that cloned it exits, so that thread must live as long as the server: a tokio
/// blocking thread would retire after a few idle seconds and take its sandboxes with it.
fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                for job in receiver {
                    job();
                }
            });
        if let Err(error) = started {
            // Jobs sent to a channel nobody reads fail at `recv`, reported per spawn.
            eprintln!("cannot start the sandbox spawner thread: {error}");
        }
        Mutex::new(sender)
    })
}

/// Runs `job` on the spawner thread and waits for its answer.
fn on_spawner<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (answer, receive) = mpsc::sync_channel(1);
    let sent = spawner()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send(Box::new(move || {
            let _ = answer.send(job());
        }));
    sent.ok()?;
    receive.recv().ok()
}

/// A pipe whose ends are close-on-exec and numbered 3 or above (0–2 are the child's stdio).
fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(os_error)?;
    Ok((above_stdio(read)?, above_stdio(write)?))
}

fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, SandboxError> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // `try_clone` duplicates to the lowest free number from 3 up.
    fd.try_clone().map_err(|source| SandboxError::Setup {
        message: format!("cannot duplicate a descriptor: {source}"),
    })
}

fn os_error(errno: Errno) -> SandboxError {
    SandboxError::Setup {
        message: format!("{}", std::io::Error::from_raw_os_error(errno as i32)),
    }
}

const CLONE_FLAGS: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS
    | libc::SIGCHLD;

/// Clones PID 1 of a new sandbox running `plan`; called on the spawner thread.
#[expect(
    unsafe_code,
    reason = "clone(2) without exec, continued by the child module"
)]
fn clone(plan: &Plan, fds: Fds, seccomp: &[libc::sock_filter]) -> Result<Pid, SandboxError> {
    let pointers = |strings: &[std::ffi::CString]| -> Vec<*const c_char> {
        strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let argv = pointers(&plan.argv);
    let envp = pointers(&plan.envp);
    let program = libc::sock_fprog {
        len: u16::try_from(seccomp.len()).unwrap_or(u16::MAX),
        filter: seccomp.as_ptr().cast_mut(),
    };
    let pointers = Pointers {
        argv: &argv,
        envp: &envp,
        seccomp: &program,
    };
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack): the child gets a copy of this
    // address space and continues here; it only runs `child::init`, which never returns
    // and keeps to system calls on the prepared plan (see that module).
    let pid =
        unsafe { libc::syscall(libc::SYS_clone, libc::c_long::from(CLONE_FLAGS), 0, 0, 0, 0) };
    if pid == 0 {
        child::init(plan, &fds, &pointers);
    }
    if pid < 0 {
        return Err(SandboxError::Unavailable {
            message: format!(
                "the kernel refused to create the sandbox's namespaces: {}",
                std::io::Error::last_os_error()
            ),
        });
    }
    Ok(Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX)))
}

pub(crate) fn start(spec: &Spec, jail: &Jail, host: &Arc<Host>) -> Result<Started, SandboxError> {
    let plan = plan::plan(spec, jail, &host.system, &host.root)?;
    let range = host.ids.claim()?;
    let owner = range.first + WORKLOAD_ID;
    for bind in jail.binds.iter().filter(|bind| bind.lent) {
        super::ids::hand_over(&bind.path, Some(owner));
    }
    let group = host.cgroups.create(&jail.limits)?;
    let (sync_read, sync_write) = pipe()?;
    let (error_read, error_write) = pipe()?;
    let (status_read, status_write) = pipe()?;
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let stdin = above_stdio(
        File::open("/dev/null")
            .map_err(|source| SandboxError::Setup {
                message: format!("cannot open /dev/null: {source}"),
            })?
            .into(),
    )?;
    let fds = Fds {
        sync: sync_read.as_raw_fd(),
        error: error_write.as_raw_fd(),
        status: status_write.as_raw_fd(),
        stdin: stdin.as_raw_fd(),
        stdout: stdout_write.as_raw_fd(),
        stderr: stderr_write.as_raw_fd(),
    };
    let shared = Arc::clone(host);
    let pid = on_spawner(move || clone(&plan, fds, &shared.seccomp)).ok_or_else(|| {
        SandboxError::Setup {
            message: "the sandbox spawner thread is gone".into(),
        }
    })??;
    // The child has its copies; ours would keep its pipes from ever reporting an end.
    drop((
        sync_read,
        error_write,
        status_write,
        stdout_write,
        stderr_write,
        stdin,
    ));
    nix::fcntl::fcntl(
        &status_read,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .map_err(os_error)?;
    let mut process = Process {
        writable: jail
            .binds
            .iter()
            .filter(|b| b.lent)
            .map(|b| b.path.clone())
            .collect(),
        pid,
        status: File::from(status_read),
        _sync: sync_write,
        group: Some(group),
        range: Some(range),
        exit: None,
        reaped: false,
        hit: None,
        proxy: None,
    };
    if let super::Network::Egress(policy) = &jail.network {
        match super::egress::start(pid.as_raw(), policy.clone()) {
            Ok(proxy) => process.proxy = Some(proxy),
            Err(error) => {
                let _ = process.kill();
                return Err(SandboxError::Setup {
                    message: format!("cannot start the egress proxy: {error}"),
                });
            }
        }
    }
    let mut sync = File::from(
        process
            ._sync
            .try_clone()
            .map_err(|source| SandboxError::Setup {
                message: format!("cannot duplicate a descriptor: {source}"),
            })?,
    );
    let released = process.release(&mut sync);
    drop(sync);
    if let Err(error) = released {
        let _ = process.kill();
        return Err(error);
    }
    // The error pipe ends when the workload's exec succeeds (close-on-exec), or carries the
    // step that failed.
    let mut report = Vec::new();
    let _ = File::from(error_read).read_to_end(&mut report);
    if report.len() >= 8 {
        let _ = process.kill();
        let step = u32::from_ne_bytes([report[0], report[1], report[2], report[3]]);
        let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
        let source = std::io::Error::from_raw_os_error(errno);
        return Err(match Step::from_code(step) {
            Some(Step::Exec) => SandboxError::Spawn {
                program: spec.program.display().to_string(),
                source,
            },
            step => SandboxError::Setup {
                message: format!("the sandbox failed at step {step:?}: {source}"),
            },
        });
    }
    Ok(Started {
        process,
        stdout: File::from(stdout_read),
        stderr: File::from(stderr_read),
    })
}

impl Process {
    /// Maps the ids, lets PID 1 build its root, puts it in its cgroups, and lets it start the
    /// workload.
    fn release(&mut self, sync: &mut File) -> Result<(), SandboxError> {
        let first = self.range.as_ref().map_or(0, |range| range.first);
        let map = format!("0 {first} {RANGE}\n");
        for file in ["uid_map", "gid_map"] {
            let path = format!("/proc/{}/{file}", self.pid);
            std::fs::write(&path, &map).map_err(|source| SandboxError::Setup {
                message: format!("cannot write {path}: {source}"),
            })?;
        }
        let go = |sync: &mut File| {
            sync.write_all(b"g").map_err(|source| SandboxError::Setup {
                message: format!("the sandbox died while starting: {source}"),
            })
        };
        go(sync)?;
        if let Some(group) = &self.group {
            group.attach(self.pid.as_raw())?;
        }
        go(sync)
    }

    pub(crate) fn id(&self) -> u32 {
        self.pid.as_raw().unsigned_abs()
    }

    /// The host uid the workload runs as; no other sandbox has it.
    pub(crate) fn host_uid(&self) -> Option<u32> {
        self.range.as_ref().map(|range| range.first + WORKLOAD_ID)
    }

    /// How the workload ended, as PID 1 reported it before exiting; else how PID 1 ended.
    fn exit_from(&mut self, init: Exit) -> Exit {
        if let Some(exit) = self.exit {
            return exit;
        }
        let mut bytes = [0u8; 4];
        let exit = match self.status.read(&mut bytes) {
            Ok(4) => {
                let status = i32::from_ne_bytes(bytes);
                if libc::WIFEXITED(status) {
                    Exit {
                        code: Some(libc::WEXITSTATUS(status)),
                        signal: None,
                    }
                } else {
                    Exit {
                        code: None,
                        signal: Some(libc::WTERMSIG(status)),
                    }
                }
            }
            _ => init,
        };
        self.exit = Some(exit);
        exit
    }

    pub(crate) fn exited(&mut self) -> Result<Option<Exit>, SandboxError> {
        if self.reaped {
            return Ok(self.exit);
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.pid), flags) {
            Ok(status) => Ok(init_exit(status).map(|init| self.exit_from(init))),
            Err(errno) => Err(SandboxError::Wait {
                source: std::io::Error::from_raw_os_error(errno as i32),
            }),
        }
    }

    /// Kills PID 1, which makes the kernel kill everything else in the namespace; returns
    /// once all of it is gone and the cgroups are removed.
    pub(crate) fn kill(&mut self) -> Result<Exit, SandboxError> {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGKILL);
            let status = loop {
                match waitpid(self.pid, None) {
                    Err(Errno::EINTR) => {}
                    other => break other,
                }
            };
            self.reaped = true;
            let init = status.ok().and_then(init_exit).unwrap_or(Exit {
                code: None,
                signal: None,
            });
            self.exit_from(init);
            if let Some(group) = self.group.take() {
                self.hit = group.hit();
            }
            self.range = None;
            self.proxy = None;
            for path in &self.writable {
                super::ids::hand_over(path, None);
            }
        }
        Ok(self.exit.unwrap_or(Exit {
            code: None,
            signal: None,
        }))
    }

    /// The limit the sandbox ran into, known once it has been killed.
    pub(crate) fn limit_hit(&self) -> Option<LimitHit> {
        self.hit
    }
}

fn init_exit(status: WaitStatus) -> Option<Exit> {
    match status {
        WaitStatus::Exited(_, code) => Some(Exit {
            code: Some(code),
            signal: None,
        }),
        WaitStatus::Signaled(_, signal, _) => Some(Exit {
            code: None,
            signal: Some(signal as i32),
        }),
        _ => None,
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
