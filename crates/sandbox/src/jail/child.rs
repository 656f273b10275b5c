//! The code that runs in the sandbox between `clone` and `exec`: first as the namespaces'
//! PID 1 (build the root, then stay behind as a tiny reaper), then as the workload (drop to
//! the sandbox user, close stray descriptors, no_new_privs, seccomp, exec).
//!
//! This runs in a copy of a multi-threaded process. It must not allocate, lock, panic or
//! touch Rust's standard I/O: only the prepared [`Plan`] and raw system calls (not even
//! glibc's `setresuid` and friends, which signal the threads glibc believes exist). Failures are
//! reported to the parent as a (step, errno) pair on the error pipe.

use std::ptr;

use libc::{c_char, c_int, c_long};

use super::plan::{ATTR_NOSUID, ATTR_RDONLY, MAX_BINDS, Op, Plan, WORKLOAD_ID};

/// Which step failed, as reported on the error pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Step {
    Descriptors = 1,
    Credentials,
    Propagation,
    RootTmpfs,
    Mount,
    PivotRoot,
    Hostname,
    Loopback,
    Limits,
    Fork,
    Session,
    Drop,
    Directory,
    NoNewPrivs,
    Seccomp,
    Exec,
}

impl Step {
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        const ALL: [Step; 16] = [
            Step::Descriptors,
            Step::Credentials,
            Step::Propagation,
            Step::RootTmpfs,
            Step::Mount,
            Step::PivotRoot,
            Step::Hostname,
            Step::Loopback,
            Step::Limits,
            Step::Fork,
            Step::Session,
            Step::Drop,
            Step::Directory,
            Step::NoNewPrivs,
            Step::Seccomp,
            Step::Exec,
        ];
        ALL.into_iter().find(|step| *step as u32 == code)
    }
}

/// The descriptors the child works with, by number in its own table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fds {
    pub(crate) sync: c_int,
    pub(crate) error: c_int,
    pub(crate) status: c_int,
    pub(crate) stdin: c_int,
    pub(crate) stdout: c_int,
    pub(crate) stderr: c_int,
}

/// Null-terminated pointer arrays into the plan's strings.
#[derive(Debug)]
pub(crate) struct Pointers<'a> {
    pub(crate) argv: &'a [*const c_char],
    pub(crate) envp: &'a [*const c_char],
    pub(crate) seccomp: &'a libc::sock_fprog,
}

/// Tells the parent which step failed and why, then exits.
#[expect(unsafe_code, reason = "raw write and _exit in a forked child")]
pub(super) fn fail(fds: &Fds, step: Step, errno: c_int) -> ! {
    let mut message = [0u8; 8];
    message[..4].copy_from_slice(&(step as u32).to_ne_bytes());
    message[4..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: writes a stack buffer of the stated length to a descriptor we own, then exits
    // without running any Rust or libc exit handlers.
    unsafe {
        libc::write(fds.error, message.as_ptr().cast(), message.len());
        libc::_exit(127)
    }
}

#[expect(unsafe_code, reason = "reads errno in a forked child")]
pub(super) fn errno() -> c_int {
    // SAFETY: errno is thread-local and valid for the calling thread.
    unsafe { *libc::__errno_location() }
}

pub(super) fn check(fds: &Fds, step: Step, result: c_long) {
    if result < 0 {
        fail(fds, step, errno());
    }
}

/// Closes every descriptor from `from` up, except those in `keep` (sorted ascending).
#[expect(unsafe_code, reason = "close_range in a forked child")]
fn close_others(from: c_int, keep: &[c_int]) -> c_long {
    let mut low = from;
    for &fd in keep {
        if fd > low {
            // SAFETY: closes descriptors of this process only; no Rust object owns them here.
            let result = unsafe { libc::syscall(libc::SYS_close_range, low, fd - 1, 0) };
            if result < 0 {
                return result;
            }
        }
        low = low.max(fd + 1);
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, low, c_int::MAX, 0) }
}

fn sort3(mut fds: [c_int; 3]) -> [c_int; 3] {
    if fds[0] > fds[1] {
        fds.swap(0, 1);
    }
    if fds[1] > fds[2] {
        fds.swap(1, 2);
    }
    if fds[0] > fds[1] {
        fds.swap(0, 1);
    }
    fds
}

/// Reads the one-byte go-ahead from the parent; an end of file means the parent is gone.
#[expect(unsafe_code, reason = "raw read and _exit in a forked child")]
fn await_parent(fds: &Fds) {
    let mut byte = 0u8;
    // SAFETY: reads one byte into a stack variable; exits quietly if the parent is gone.
    unsafe {
        if libc::read(fds.sync, ptr::from_mut(&mut byte).cast(), 1) != 1 {
            libc::_exit(1);
        }
    }
}

#[expect(unsafe_code, reason = "the raw system calls of the sandbox's PID 1")]
pub(crate) fn init(plan: &Plan, fds: &Fds, pointers: &Pointers<'_>) -> ! {
    // SAFETY: every call below is a plain system call on memory owned by `plan` (alive in
    // this copy of the parent's address space) or on the stack; nothing allocates or locks.
    unsafe {
        check(fds, Step::Descriptors, libc::dup2(fds.stdin, 0).into());
        check(fds, Step::Descriptors, libc::dup2(fds.stdout, 1).into());
        check(fds, Step::Descriptors, libc::dup2(fds.stderr, 2).into());
        check(
            fds,
            Step::Descriptors,
            close_others(3, &sort3([fds.sync, fds.error, fds.status])),
        );
        // Open every bind's source now, while we still have the host's root ids: the sources
        // may lie under directories only root may enter (the data dir, /root), which the
        // namespace's root, a stranger to the host, could not cross.
        let mut sources = [-1 as c_int; MAX_BINDS];
        for op in &plan.ops {
            if let Op::Bind { source, slot, .. } = op
                && let Some(entry) = sources.get_mut(*slot)
            {
                *entry = libc::open(source.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                check(fds, Step::Mount, (*entry).into());
            }
        }
        await_parent(fds);
        // Become root of the new user namespace: the inherited host ids are unmapped there,
        // and files created on the new tmpfs would fail with EOVERFLOW.
        // Raw system calls: glibc's wrappers would try to apply the change to every thread
        // it believes this process has, and wait forever for threads that were not copied.
        check(
            fds,
            Step::Credentials,
            libc::syscall(libc::SYS_setresgid, 0, 0, 0),
        );
        check(
            fds,
            Step::Credentials,
            libc::syscall(libc::SYS_setresuid, 0, 0, 0),
        );
        check(
            fds,
            Step::Credentials,
            libc::syscall(libc::SYS_setgroups, 0, ptr::null::<libc::gid_t>()),
        );
        // After the credential change, which clears it: if the parent dies, so do we.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        check(
            fds,
            Step::Propagation,
            libc::mount(
                ptr::null(),
                c"/".as_ptr(),
                ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                ptr::null(),
            )
            .into(),
        );
        check(
            fds,
            Step::RootTmpfs,
            libc::mount(
                c"tmpfs".as_ptr(),
                plan.root.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=1m,mode=755".as_ptr().cast(),
            )
            .into(),
        );
        for op in &plan.ops {
            super::mount::apply(fds, op, &sources);
        }
        check(
            fds,
            Step::Descriptors,
            close_others(3, &sort3([fds.sync, fds.error, fds.status])),
        );
        check(fds, Step::PivotRoot, libc::chdir(plan.root.as_ptr()).into());
        check(
            fds,
            Step::PivotRoot,
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()),
        );
        check(
            fds,
            Step::PivotRoot,
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH).into(),
        );
        check(fds, Step::PivotRoot, libc::chdir(c"/".as_ptr()).into());
        super::mount::set_attributes(fds, c"/", ATTR_RDONLY | ATTR_NOSUID, false);
        check(
            fds,
            Step::Hostname,
            libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len()).into(),
        );
        if plan.loopback
            && let Err(error) = super::net::loopback_up()
        {
            fail(fds, Step::Loopback, error.raw_os_error().unwrap_or(0));
        }
        for &(resource, value) in &plan.rlimits {
            let limit = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            check(fds, Step::Limits, libc::setrlimit(resource, &limit).into());
        }
        // The parent has put us in our cgroups once this byte arrives: nothing the user wrote
        // may run before.
        await_parent(fds);
        libc::close(fds.sync);
        // A cgroup namespace rooted at the sandbox's own group: /proc/self/cgroup shows "/".
        check(
            fds,
            Step::Limits,
            libc::unshare(libc::CLONE_NEWCGROUP).into(),
        );
        let workload = libc::syscall(libc::SYS_clone, c_long::from(libc::SIGCHLD), 0, 0, 0, 0);
        check(fds, Step::Fork, workload);
        if workload == 0 {
            exec(plan, fds, pointers);
        }
        // The error pipe now belongs to the workload: its exec closes it, telling the parent
        // the start succeeded.
        libc::close(fds.error);
        reap(fds, workload)
    }
}

/// Waits for everything in the namespace; when the workload ends, reports its wait status
/// and exits, which makes the kernel kill whatever else is left in the namespace.
#[expect(unsafe_code, reason = "waitpid and _exit in the sandbox's PID 1")]
fn reap(fds: &Fds, workload: c_long) -> ! {
    loop {
        let mut status: c_int = 0;
        // SAFETY: waits on our own children with a stack status variable.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if c_long::from(pid) == workload {
            let bytes = status.to_ne_bytes();
            // SAFETY: writes a stack buffer to our status pipe, then exits.
            unsafe {
                libc::write(fds.status, bytes.as_ptr().cast(), bytes.len());
                libc::_exit(0);
            }
        }
        if pid < 0 && errno() == libc::ECHILD {
            // SAFETY: exits without running exit handlers.
            unsafe { libc::_exit(0) };
        }
    }
}

/// Becomes the workload: its own session, the sandbox user, only the standard descriptors
/// (and the error pipe, closed by exec), no_new_privs, seccomp, then the program.
#[expect(
    unsafe_code,
    reason = "the raw system calls of the workload before exec"
)]
fn exec(plan: &Plan, fds: &Fds, pointers: &Pointers<'_>) -> ! {
    // SAFETY: plain system calls on strings and arrays owned by the plan or the caller.
    unsafe {
        check(fds, Step::Descriptors, close_others(3, &[fds.error]));
        check(fds, Step::Session, libc::setsid().into());
        check(
            fds,
            Step::Drop,
            libc::syscall(libc::SYS_setgroups, 0, ptr::null::<libc::gid_t>()),
        );
        check(
            fds,
            Step::Drop,
            libc::syscall(libc::SYS_setresgid, WORKLOAD_ID, WORKLOAD_ID, WORKLOAD_ID),
        );
        check(
            fds,
            Step::Drop,
            libc::syscall(libc::SYS_setresuid, WORKLOAD_ID, WORKLOAD_ID, WORKLOAD_ID),
        );
        check(fds, Step::Directory, libc::chdir(plan.cwd.as_ptr()).into());
        check(
            fds,
            Step::NoNewPrivs,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(),
        );
        check(
            fds,
            Step::Seccomp,
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                ptr::from_ref(pointers.seccomp),
            ),
        );
        libc::execve(
            plan.program.as_ptr(),
            pointers.argv.as_ptr(),
            pointers.envp.as_ptr(),
        );
        fail(fds, Step::Exec, errno())
    }
}
