//! The seccomp filter every sandboxed workload runs under: a deny-list, because the runtimes
//! (node, python, npm, pip and whatever native modules they load) use a wide and changing set
//! of system calls, while the calls that matter for escaping or attacking the kernel are few
//! and well known. The program is classic BPF built here by hand, once per process, so the
//! forked child only has to hand a pointer to the kernel.
//!
//! Refused with `EPERM`: mounting and namespace calls (a nested `unshare -U` would otherwise
//! give the workload a fresh set of capabilities to probe the kernel with), tracing
//! (`ptrace`, `process_vm_*`, `perf_event_open`), kernel objects that have been a steady
//! source of exploits (`bpf`, `io_uring_*`, `userfaultfd`, `keyctl`), host administration
//! (`reboot`, `kexec_*`, modules, clocks, swap, quotas), `clone` with any `CLONE_NEW*` flag,
//! and the `TIOCSTI`/`TIOCLINUX` ioctls that push input into a terminal. `clone3` answers
//! `ENOSYS`: BPF cannot read its flags (they sit in a struct in memory), and libc falls back
//! to plain `clone` on `ENOSYS`, which is filtered. Any other architecture's calling
//! convention (i386 `int 0x80`, x32) kills the process: its numbers would bypass the list.

use libc::sock_filter;

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Offsets in `struct seccomp_data`: `int nr; u32 arch; u64 ip; u64 args[6]`. The low half
/// of an argument comes first on little-endian machines, the only ones we build for.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;
const ARG1_LOW: u32 = 24;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// x32 system calls are the x86_64 numbers with this bit set.
const X32_BIT: u32 = 0x4000_0000;

/// The `CLONE_NEW*` flags `clone` may not carry (`CLONE_NEWTIME` shares its bit with the
/// exit signal in `clone`, and only `clone3`/`unshare` accept it: both are refused anyway).
const CLONE_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// The calls refused outright.
const DENIED: &[libc::c_long] = &[
    libc::SYS_acct,
    libc::SYS_add_key,
    libc::SYS_adjtimex,
    libc::SYS_bpf,
    libc::SYS_clock_adjtime,
    libc::SYS_clock_settime,
    libc::SYS_delete_module,
    libc::SYS_fanotify_init,
    libc::SYS_finit_module,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fsopen,
    libc::SYS_fspick,
    libc::SYS_init_module,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_io_uring_setup,
    libc::SYS_kcmp,
    libc::SYS_kexec_file_load,
    libc::SYS_kexec_load,
    libc::SYS_keyctl,
    libc::SYS_lookup_dcookie,
    libc::SYS_migrate_pages,
    libc::SYS_mount,
    libc::SYS_mount_setattr,
    libc::SYS_move_mount,
    libc::SYS_move_pages,
    libc::SYS_name_to_handle_at,
    libc::SYS_open_by_handle_at,
    libc::SYS_open_tree,
    libc::SYS_perf_event_open,
    libc::SYS_personality,
    libc::SYS_pidfd_getfd,
    libc::SYS_pivot_root,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_ptrace,
    libc::SYS_quotactl,
    libc::SYS_reboot,
    libc::SYS_request_key,
    libc::SYS_setns,
    libc::SYS_settimeofday,
    libc::SYS_swapoff,
    libc::SYS_swapon,
    libc::SYS_syslog,
    libc::SYS_umount2,
    libc::SYS_unshare,
    libc::SYS_userfaultfd,
    libc::SYS_vhangup,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_sysfs,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ustat,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_nfsservctl,
];

/// ioctl requests refused: both inject input into a terminal the workload may share.
const DENIED_IOCTLS: &[u32] = &[libc::TIOCSTI as u32, 0x541C /* TIOCLINUX */];

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

fn ret_errno(errno: i32) -> sock_filter {
    stmt(
        RET_K,
        libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA),
    )
}

fn number(call: libc::c_long) -> u32 {
    u32::try_from(call).unwrap_or(u32::MAX)
}

/// The filter program, ready for `seccomp(SECCOMP_SET_MODE_FILTER)`.
pub(crate) fn program() -> Vec<sock_filter> {
    let allow = stmt(RET_K, libc::SECCOMP_RET_ALLOW);
    let kill = stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS);
    let mut code = vec![
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, AUDIT_ARCH, 1, 0),
        kill,
        stmt(LD_W_ABS, NR),
        jump(JGE_K, X32_BIT, 0, 1),
        kill,
    ];
    for &call in DENIED {
        code.push(jump(JEQ_K, number(call), 0, 1));
        code.push(ret_errno(libc::EPERM));
    }
    code.push(jump(JEQ_K, number(libc::SYS_clone3), 0, 1));
    code.push(ret_errno(libc::ENOSYS));
    // clone: look at the flags (the first argument on x86_64 and aarch64).
    code.push(jump(JEQ_K, number(libc::SYS_clone), 0, 4));
    code.push(stmt(LD_W_ABS, ARG0_LOW));
    code.push(jump(JSET_K, CLONE_NAMESPACES, 0, 1));
    code.push(ret_errno(libc::EPERM));
    code.push(allow);
    // ioctl: look at the request.
    let checks = u8::try_from(DENIED_IOCTLS.len() * 2).unwrap_or(u8::MAX);
    code.push(jump(JEQ_K, number(libc::SYS_ioctl), 0, checks + 1));
    code.push(stmt(LD_W_ABS, ARG1_LOW));
    for &request in DENIED_IOCTLS {
        code.push(jump(JEQ_K, request, 0, 1));
        code.push(ret_errno(libc::EPERM));
    }
    code.push(allow);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_fits_the_kernel_limit_and_ends_allowing() {
        let program = program();
        assert!(program.len() < 4096);
        assert_eq!(program.last().map(|s| s.k), Some(libc::SECCOMP_RET_ALLOW));
        // Every jump lands inside the program.
        for (at, insn) in program.iter().enumerate() {
            if insn.code & 0x07 == libc::BPF_JMP as u16 {
                assert!(at + 1 + usize::from(insn.jt.max(insn.jf)) < program.len());
            }
        }
    }
}
