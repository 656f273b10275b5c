//! The sandbox against the real kernel. These need root and user namespaces; where the host
//! has neither, each test says so on stderr and passes without checking anything.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::*;
use crate::{Spec, run, spawn};

fn sandbox() -> Option<Sandbox> {
    static SANDBOX: OnceLock<Result<Sandbox, String>> = OnceLock::new();
    match SANDBOX.get_or_init(|| Sandbox::new(SandboxConfig::default()).map_err(|e| e.to_string()))
    {
        Ok(sandbox) => Some(sandbox.clone()),
        Err(error) => {
            eprintln!("SKIPPED: no sandbox on this host: {error}");
            None
        }
    }
}

fn shell(sandbox: &Sandbox, script: &str) -> Spec {
    Spec::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .env("PATH", "/usr/bin:/bin")
        .jail(Jail::new(sandbox))
}

fn stdout(spec: &Spec) -> String {
    let outcome = run(spec).unwrap();
    assert!(
        outcome.success(),
        "{outcome:?} {}",
        String::from_utf8_lossy(&outcome.stderr)
    );
    String::from_utf8(outcome.stdout).unwrap()
}

#[test]
fn the_workload_is_an_unprivileged_user_alone_in_a_fresh_root() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(
        &sandbox,
        "id -u; id -g; hostname; echo $$; ls /; ls /proc | grep -c '^[0-9]'; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status; cat /proc/self/cgroup | head -1",
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..4], ["1000", "1000", "sandbox", "2"], "{text}");
    let root: Vec<&str> = lines[4..]
        .iter()
        .take_while(|l| !l.chars().all(|c| c.is_ascii_digit()))
        .copied()
        .collect();
    assert!(
        root.iter().all(|entry| [
            "bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "lib32", "libx32"
        ]
        .contains(entry)),
        "{text}"
    );
    assert!(text.contains("CapEff:\t0000000000000000"), "{text}");
    assert!(text.contains("NoNewPrivs:\t1"), "{text}");
    assert!(text.contains("Seccomp:\t2"), "{text}");
}

#[test]
fn the_environment_is_only_what_the_spec_names() {
    let Some(sandbox) = sandbox() else { return };
    let spec = Spec::new("/usr/bin/env")
        .env("ONLY", "this")
        .jail(Jail::new(&sandbox));
    assert_eq!(stdout(&spec), "ONLY=this\n");
}

#[test]
fn only_the_standard_descriptors_are_open() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(&sandbox, "ls /proc/self/fd"));
    // 0, 1, 2, and the one `ls` opened to read the directory.
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn the_system_is_read_only_and_tmp_is_private_and_capped() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(
        &sandbox,
        "touch /usr/x 2>/dev/null || echo usr-ro; touch /x 2>/dev/null || echo root-ro; \
         touch /etc/x 2>/dev/null || echo etc-ro; echo hi > /tmp/x && cat /tmp/x; \
         head -c 100000000 /dev/zero > /tmp/big 2>/dev/null || echo tmp-full; \
         cat /etc/shadow 2>/dev/null || echo no-shadow",
    ));
    assert_eq!(text, "usr-ro\nroot-ro\netc-ro\nhi\ntmp-full\nno-shadow\n");
}

#[test]
fn there_is_no_network() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(
        &sandbox,
        "cat /proc/net/dev | grep -c ':'; (echo > /dev/tcp/127.0.0.1/22) 2>/dev/null || echo refused",
    ));
    assert!(text.starts_with("1\n"), "{text}");
}

#[test]
fn namespaces_mounts_and_tracing_are_refused() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(
        &sandbox,
        "unshare -U true 2>/dev/null || echo no-unshare; unshare -r true 2>/dev/null || echo no-userns; \
         mount -t tmpfs x /tmp 2>/dev/null || echo no-mount",
    ));
    assert_eq!(text, "no-unshare\nno-userns\nno-mount\n");
}

#[test]
fn a_missing_program_fails_to_start() {
    let Some(sandbox) = sandbox() else { return };
    let spec = Spec::new("/nonexistent/program").jail(Jail::new(&sandbox));
    let error = run(&spec).unwrap_err();
    assert!(
        matches!(error, crate::SandboxError::Spawn { .. }),
        "{error}"
    );
}

#[test]
fn binds_are_read_only_unless_writable() {
    let Some(sandbox) = sandbox() else { return };
    let ro = tempfile::tempdir().unwrap();
    let rw = tempfile::tempdir().unwrap();
    let lent = tempfile::tempdir().unwrap();
    std::fs::write(ro.path().join("in"), "data").unwrap();
    std::fs::create_dir(rw.path().join("inner")).unwrap();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::set_permissions(rw.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let script = format!(
        "cat {0}/in; touch {0}/x 2>/dev/null || echo ro; echo out > {1}/made && echo rw; \
         touch {1}/inner/x 2>/dev/null || echo inner-ro; echo out > {2}/made && echo lent",
        ro.path().display(),
        rw.path().display(),
        lent.path().display()
    );
    let mut spec = shell(&sandbox, &script);
    let jail = spec.jail.take().unwrap();
    let spec = spec.jail(
        jail.bind(Bind::read_only(ro.path()))
            .bind(Bind::writable(rw.path()))
            .bind(Bind::read_only(rw.path().join("inner")))
            .bind(Bind::lent(lent.path())),
    );
    assert_eq!(stdout(&spec), "dataro\nrw\ninner-ro\nlent\n");
    assert!(rw.path().join("made").is_file());
    // Given back to the server's user once the sandbox is gone.
    assert_eq!(
        std::fs::metadata(lent.path().join("made")).unwrap().uid(),
        0
    );
}

#[test]
fn kill_takes_every_descendant_even_setsid_ones() {
    let Some(sandbox) = sandbox() else { return };
    let spec = shell(
        &sandbox,
        "setsid sleep 300 & (sleep 300 &) ; nohup sleep 300 >/dev/null 2>&1 & echo ready; exec sleep 300",
    );
    let mut instance = spawn(&spec).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !instance.stdout_since(0).ends_with(b"ready\n") {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    let uid = match &instance.handle_uid() {
        Some(uid) => *uid,
        None => panic!("a sandboxed instance has a uid"),
    };
    let started = Instant::now();
    instance.kill().unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(processes_of(uid), 0);
}

/// Host processes running as `uid`.
fn processes_of(uid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("status")).is_ok_and(|status| {
                status.lines().any(|line| {
                    line.starts_with("Uid:")
                        && line.split_whitespace().nth(1) == Some(&uid.to_string())
                })
            })
        })
        .count()
}

#[test]
fn a_finished_workload_takes_its_daemons_with_it() {
    let Some(sandbox) = sandbox() else { return };
    let started = Instant::now();
    let outcome = run(&shell(&sandbox, "setsid sleep 300 & echo done")).unwrap();
    assert!(outcome.success());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn exit_codes_and_signals_come_from_the_workload() {
    let Some(sandbox) = sandbox() else { return };
    let outcome = run(&shell(&sandbox, "exit 7")).unwrap();
    assert_eq!(outcome.exit_code, Some(7));
    let mut instance = spawn(&shell(&sandbox, "kill -TERM $$")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = instance.exited().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(exit.signal, Some(libc::SIGTERM));
    assert_eq!(instance.kill().unwrap(), exit);
}

#[test]
fn memory_past_the_limit_is_killed_and_reported() {
    let Some(sandbox) = sandbox() else { return };
    let mut jail = Jail::new(&sandbox);
    jail.limits.memory_bytes = Some(64 * 1024 * 1024);
    jail.tmp_size = 512 * 1024 * 1024;
    let spec = Spec::new("/bin/sh")
        .arg("-c")
        .arg("head -c 200000000 /dev/zero > /tmp/fill; echo survived")
        .jail(jail);
    let outcome = run(&spec).unwrap();
    assert!(!outcome.success(), "{outcome:?}");
    assert_eq!(
        outcome.limit,
        Some(LimitHit::Memory {
            limit_bytes: 64 * 1024 * 1024
        })
    );
}

#[test]
fn processes_past_the_limit_are_refused_and_reported() {
    let Some(sandbox) = sandbox() else { return };
    let mut jail = Jail::new(&sandbox);
    jail.limits.pids = Some(8);
    let spec = Spec::new("/bin/sh")
        .arg("-c")
        .arg("for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done 2>/dev/null; echo forked")
        .timeout(Duration::from_secs(3))
        .jail(jail);
    let outcome = run(&spec).unwrap();
    assert_eq!(
        outcome.limit,
        Some(LimitHit::Pids { limit: 8 }),
        "{outcome:?}"
    );
}

#[test]
fn egress_goes_through_the_proxy_and_only_to_public_addresses() {
    let Some(sandbox) = sandbox() else { return };
    // A server on the host's loopback: the sandbox must not reach it, directly or by proxy.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut jail = Jail::new(&sandbox);
    jail.network = Network::Egress(Egress::default());
    let script = format!(
        "echo $HTTPS_PROXY; (echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo direct-open || echo direct-refused; \
         exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\n\\r\\n' >&3; head -c 12 <&3; echo"
    );
    let spec = Spec::new("/bin/bash").arg("-c").arg(script).jail(jail);
    let text = stdout(&spec);
    assert_eq!(
        text, "http://127.0.0.1:3128\ndirect-refused\nHTTP/1.1 403\n",
        "{text}"
    );
}

#[test]
fn pid_1_and_its_copy_of_the_server_are_invisible() {
    let Some(sandbox) = sandbox() else { return };
    let text = stdout(&shell(
        &sandbox,
        "cat /proc/1/cmdline 2>/dev/null || echo hidden; ls /proc | grep -c '^[0-9]'",
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "hidden", "{text}");
    let visible: u32 = lines[1].parse().unwrap();
    assert!(visible <= 3, "{text}");
}

#[test]
fn cpu_time_is_capped_by_the_quota() {
    let Some(sandbox) = sandbox() else { return };
    let mut jail = Jail::new(&sandbox);
    jail.limits.cpus = Some(0.2);
    let script = "import os, time\nstart = time.time()\nwhile time.time() - start < 1: pass\n\
                  t = os.times()\nprint(t.user + t.system)";
    let spec = Spec::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .jail(jail);
    let used: f64 = stdout(&spec).trim().parse().unwrap();
    assert!(used < 0.5, "used {used} s of CPU in one second at 0.2 cpus");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn dangerous_system_calls_are_refused() {
    let Some(sandbox) = sandbox() else { return };
    // bpf, keyctl, io_uring_setup, perf_event_open, kexec_load, init_module, reboot,
    // userfaultfd, setns, open_tree: each must fail with EPERM.
    let script = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n\
                  for nr in (321, 250, 425, 298, 246, 175, 169, 323, 308, 428):\n\
                  \x20   r = libc.syscall(nr, 0, 0, 0, 0, 0)\n\
                  \x20   print(nr, r, ctypes.get_errno())";
    let spec = Spec::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .jail(Jail::new(&sandbox));
    let text = stdout(&spec);
    for line in text.lines() {
        assert!(line.ends_with(" -1 1"), "{text}");
    }
    assert_eq!(text.lines().count(), 10, "{text}");
}

/// Not a test of its own: run by `a_killed_supervisor_takes_its_sandboxes_with_it` as a
/// separate process that holds a sandbox and waits to be killed.
#[test]
#[ignore = "a helper process for another test"]
fn helper_holds_a_sandbox() {
    #[expect(
        clippy::disallowed_methods,
        reason = "tells the helper run from a plain --ignored run"
    )]
    if std::env::var_os("FUNCTIOND_SANDBOX_HELPER").is_none() {
        return;
    }
    let Some(sandbox) = sandbox() else { return };
    let spec = Spec::new("/bin/sleep")
        .arg("1234.75")
        .jail(Jail::new(&sandbox));
    let _instance = spawn(&spec).unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_supervisor_takes_its_sandboxes_with_it() {
    if sandbox().is_none() {
        return;
    }
    let marked = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|entry| {
                std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|line| line == b"/bin/sleep\x001234.75\x00")
            })
            .count()
    };
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "jail::tests::helper_holds_a_sandbox",
            "--ignored",
            "--nocapture",
        ])
        .env("FUNCTIOND_SANDBOX_HELPER", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while marked() == 0 {
        assert!(
            Instant::now() < deadline,
            "the helper's sandbox never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    helper.kill().unwrap();
    helper.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(1);
    while marked() > 0 {
        assert!(
            Instant::now() < deadline,
            "the sandbox outlived its supervisor"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
