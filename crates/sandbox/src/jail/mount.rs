//! The mount steps of a sandbox's PID 1, run between `clone` and `exec` under the same rules
//! as the rest of [`super::child`]: no allocation, only system calls on the prepared plan.

use std::ffi::CStr;
use std::ptr;

use libc::{c_int, c_long};

use super::child::{Fds, Step, check, errno, fail};
use super::plan::{MAX_BINDS, Op};

#[repr(C)]
struct MountAttr {
    set: u64,
    clear: u64,
    propagation: u64,
    userns_fd: u64,
}

#[expect(unsafe_code, reason = "mount system calls in a forked child")]
pub(super) fn apply(fds: &Fds, op: &Op, sources: &[c_int; MAX_BINDS]) {
    // SAFETY: each call passes NUL-terminated strings owned by the plan and plain flags.
    unsafe {
        match op {
            Op::Dir { path, mode } => {
                let result = libc::mkdir(path.as_ptr(), *mode);
                if result < 0 && errno() != libc::EEXIST {
                    fail(fds, Step::Mount, errno());
                }
            }
            Op::File { path } => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                check(fds, Step::Mount, fd.into());
                libc::close(fd);
            }
            Op::Bind {
                slot,
                target,
                attributes,
                ..
            } => {
                let fd = sources.get(*slot).copied().unwrap_or(-1);
                let source = fd_path(fd);
                check(
                    fds,
                    Step::Mount,
                    libc::mount(
                        source.as_ptr().cast(),
                        target.as_ptr(),
                        ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        ptr::null(),
                    )
                    .into(),
                );
                set_attributes(fds, target, *attributes, true);
            }
            Op::Tmpfs { target, options } => check(
                fds,
                Step::Mount,
                libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.as_ptr().cast(),
                )
                .into(),
            ),
            Op::Proc { target } => check(
                fds,
                Step::Mount,
                libc::mount(
                    c"proc".as_ptr(),
                    target.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    // Processes of other users (our PID 1, a copy of the server whose
                    // command line would show) are invisible to the workload.
                    c"hidepid=invisible".as_ptr().cast(),
                )
                .into(),
            ),
            Op::Link { target, path } => {
                check(
                    fds,
                    Step::Mount,
                    libc::symlink(target.as_ptr(), path.as_ptr()).into(),
                );
            }
            Op::Write { path, contents } => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                check(fds, Step::Mount, fd.into());
                let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
                check(fds, Step::Mount, written as c_long);
                libc::close(fd);
            }
        }
    }
}

/// `/proc/self/fd/<fd>`, NUL-terminated, formatted without allocating.
fn fd_path(fd: c_int) -> [u8; 32] {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    let mut path = [0u8; 32];
    path[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 10];
    let mut count = 0;
    let mut rest = fd.unsigned_abs();
    loop {
        digits[count] = b'0' + (rest % 10) as u8;
        count += 1;
        rest /= 10;
        if rest == 0 || count == digits.len() {
            break;
        }
    }
    for (at, digit) in digits[..count].iter().rev().enumerate() {
        path[PREFIX.len() + at] = *digit;
    }
    path
}

/// Adds mount attributes (read-only, nosuid, nodev) to a mount, and to those below it when
/// `recursive`. Only adding is allowed in a user namespace, which is all we need.
#[expect(unsafe_code, reason = "mount_setattr in a forked child")]
pub(super) fn set_attributes(fds: &Fds, target: &CStr, attributes: u64, recursive: bool) {
    let attr = MountAttr {
        set: attributes,
        clear: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: passes a NUL-terminated path and a stack struct of the stated size.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            target.as_ptr(),
            flags,
            ptr::from_ref(&attr),
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(fds, Step::Mount, result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_paths_are_formatted_without_allocation() {
        let path = fd_path(1234);
        let end = path.iter().position(|b| *b == 0).unwrap();
        assert_eq!(&path[..end], b"/proc/self/fd/1234");
        let path = fd_path(0);
        let end = path.iter().position(|b| *b == 0).unwrap();
        assert_eq!(&path[..end], b"/proc/self/fd/0");
    }
}
