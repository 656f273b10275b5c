//! Hostile code, driven through the public API: each attempt fails clearly for the execution
//! that makes it, and the server and a second function keep answering. Needs a host that can
//! sandbox (root, user namespaces, cgroups); elsewhere each test says SKIPPED and passes.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::TestServer;

const PROBE: &str = r#"
const fs = require('fs');
const net = require('net');
const cp = require('child_process');

function attempt(action) {
  try {
    const value = action();
    return { ok: true, value: String(value).slice(0, 300) };
  } catch (error) {
    return { ok: false, error: error.code || String(error.message).slice(0, 300) };
  }
}

function connect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); resolve({ ok: false, error: 'TIMEOUT' }); }, 3000);
    socket.on('connect', () => { clearTimeout(timer); socket.destroy(); resolve({ ok: true }); });
    socket.on('error', (error) => { clearTimeout(timer); resolve({ ok: false, error: error.code }); });
  });
}

function run(program, args) {
  const ran = cp.spawnSync(program, args, { encoding: 'utf8', timeout: 10000 });
  return { ok: ran.status === 0, value: ran.stdout, error: ran.stderr || String(ran.error) };
}

module.exports = async (req, res) => {
  const { what, arg, port } = JSON.parse(req.payload);
  let result;
  switch (what) {
    case 'read': result = attempt(() => fs.readFileSync(arg, 'utf8')); break;
    case 'list': result = attempt(() => fs.readdirSync(arg).join(',')); break;
    case 'write': result = attempt(() => fs.writeFileSync(arg, 'x')); break;
    case 'procs': result = { ok: true, value: fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length }; break;
    case 'fill': result = attempt(() => {
      const fd = fs.openSync('/tmp/fill', 'w');
      try {
        const chunk = Buffer.alloc(1 << 20, 1);
        for (let i = 0; i < 1024; i++) fs.writeSync(fd, chunk);
      } finally {
        fs.closeSync(fd);
        fs.rmSync('/tmp/fill', { force: true });
      }
    }); break;
    case 'connect': result = await connect(arg, port); break;
    case 'python': result = run('/usr/bin/python3', ['-c', arg]); break;
    case 'sh': result = run('/bin/sh', ['-c', arg]); break;
    case 'fds': {
      const opened = [];
      result = attempt(() => { for (;;) opened.push(fs.openSync('/dev/null', 'r')); });
      result.value = opened.length;
      for (const fd of opened) fs.closeSync(fd);
      break;
    }
    case 'detach': {
      const child = cp.spawn('/bin/sleep', ['1234.5'], { detached: true, stdio: 'ignore' });
      child.unref();
      result = { ok: true, value: child.pid };
      break;
    }
    case 'spin': for (;;) {} // eslint-disable-line no-constant-condition
    case 'hog': {
      const hoard = [];
      for (;;) hoard.push(Buffer.alloc(16 * 1024 * 1024, 1));
    }
    case 'bomb': {
      const ran = cp.spawnSync('/bin/sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i+1)); done; wait'], { encoding: 'utf8', timeout: 20000 });
      throw new Error(`fork bomb ended (${ran.status}): ${ran.stderr.slice(0, 200)}`);
    }
    default: result = { ok: false, error: 'unknown case' };
  }
  res.json(result);
};
"#;

/// Whether this host can sandbox functions (root, user namespaces, cgroups); checked once.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let checked = AVAILABLE.get_or_init(|| {
        functiond_sandbox::Sandbox::new(functiond_sandbox::SandboxConfig::default())
            .map(drop)
            .map_err(|error| error.to_string())
    });
    match checked {
        Ok(()) => true,
        Err(error) => {
            eprintln!("NOTE: functions run without the sandbox on this host: {error}");
            false
        }
    }
}

/// Whether the hostile cases can run here; says SKIPPED when not.
fn sandboxed() -> bool {
    let ok = available();
    if !ok {
        eprintln!("SKIPPED: this host cannot sandbox functions");
    }
    ok
}

struct Hostile {
    server: TestServer,
}

impl Hostile {
    async fn start(timeout: u64) -> Self {
        let server = TestServer::start().await;
        server.deployed_node("probe", PROBE).await;
        server
            .put(
                "/functions/probe",
                json!({"name": "probe", "timeout": timeout}),
            )
            .await;
        server
            .deployed_node(
                "healthy",
                "module.exports = async (req, res) => res.send('ok');",
            )
            .await;
        Self { server }
    }

    async fn execute(&self, case: Value) -> Value {
        let reply = self
            .server
            .post(
                "/functions/probe/executions",
                json!({"data": case.to_string()}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        self.still_healthy().await;
        reply.body
    }

    /// Runs a case whose handler answers; returns its `{ok, value, error}`.
    async fn attempt(&self, case: Value) -> Value {
        let execution = self.execute(case.clone()).await;
        assert_eq!(execution["status"], "completed", "{case}: {execution}");
        serde_json::from_str(execution["response"].as_str().unwrap_or_default())
            .unwrap_or_else(|_| panic!("{case}: {execution}"))
    }

    /// Asserts the attempt failed; returns its error.
    async fn refused(&self, case: Value) -> String {
        let result = self.attempt(case.clone()).await;
        assert_eq!(result["ok"], false, "{case} succeeded: {result}");
        result["error"].as_str().unwrap_or_default().to_owned()
    }

    async fn still_healthy(&self) {
        let reply = self
            .server
            .post("/functions/healthy/executions", json!({}))
            .await;
        assert_eq!(reply.body["status"], "completed", "{}", reply.text);
        assert_eq!(reply.body["response"], "ok");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_writing_and_reaching_outside_the_sandbox_fail() {
    if !sandboxed() {
        return;
    }
    let hostile = Hostile::start(15).await;
    let data = hostile.server.data_path();
    let port = hostile
        .server
        .base
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/v1")
        .parse::<u16>()
        .expect("the server's port");

    // Host secrets and the server's data.
    for path in [
        "/etc/shadow",
        "/proc/1/environ",
        "/proc/1/cmdline",
        "/root/.bashrc",
    ] {
        hostile.refused(json!({"what": "read", "arg": path})).await;
    }
    for file in ["bootstrap.json", "secret.key", "functiond.db"] {
        let path = data.join(file).display().to_string();
        hostile.refused(json!({"what": "read", "arg": path})).await;
    }
    hostile
        .refused(json!({"what": "list", "arg": data.display().to_string()}))
        .await;
    // Only its own processes.
    let procs = hostile.attempt(json!({"what": "procs"})).await;
    assert!(
        procs["value"].as_u64().is_some_and(|count| count <= 3),
        "{procs}"
    );

    // Writes outside /tmp, and filling /tmp.
    for path in ["/usr/x", "/x", "./x", "/etc/passwd"] {
        let error = hostile.refused(json!({"what": "write", "arg": path})).await;
        assert!(
            ["EROFS", "EACCES", "EPERM"].contains(&error.as_str()),
            "{path}: {error}"
        );
    }
    assert_eq!(hostile.refused(json!({"what": "fill"})).await, "ENOSPC");

    // The network: the server's own port, a database port, by name too.
    for (host, port) in [
        ("127.0.0.1", port),
        ("127.0.0.1", 5432),
        ("localhost", port),
    ] {
        hostile
            .refused(json!({"what": "connect", "arg": host, "port": port}))
            .await;
    }

    // Kernel surfaces: tracing, mounting, new namespaces.
    let libc = "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); ";
    for call in [
        "libc.ptrace(16, 1, 0, 0)",
        "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
        "libc.unshare(0x10000000)",
    ] {
        let script = format!("{libc}sys.exit(0 if {call} == 0 else 1)");
        hostile
            .refused(json!({"what": "python", "arg": script}))
            .await;
    }
    for command in ["unshare -U true", "unshare -rn true", "unshare -p -f true"] {
        hostile.refused(json!({"what": "sh", "arg": command})).await;
    }

    // Descriptors run out at the limit, and the instance goes on.
    let fds = hostile.attempt(json!({"what": "fds"})).await;
    assert_eq!(fds["error"], "EMFILE", "{fds}");
    hostile
        .refused(json!({"what": "read", "arg": "/etc/shadow"}))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runaway_functions_fail_alone() {
    if !sandboxed() {
        return;
    }
    let hostile = Hostile::start(4).await;

    let hog = hostile.execute(json!({"what": "hog"})).await;
    assert_eq!(hog["status"], "failed", "{hog}");
    assert!(
        hog["stderr"].as_str().unwrap().contains("out of memory"),
        "{hog}"
    );

    let started = Instant::now();
    let spin = hostile.execute(json!({"what": "spin"})).await;
    assert_eq!(spin["status"], "failed", "{spin}");
    assert!(
        spin["stderr"].as_str().unwrap().contains("timed out"),
        "{spin}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let bomb = hostile.execute(json!({"what": "bomb"})).await;
    assert_eq!(bomb["status"], "failed", "{bomb}");
    let stderr = bomb["stderr"].as_str().unwrap().to_lowercase();
    assert!(
        stderr.contains("fork") || stderr.contains("timed out"),
        "{bomb}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_detached_child_dies_with_its_instance() {
    if !sandboxed() {
        return;
    }
    let hostile = Hostile::start(2).await;
    let detached = hostile.attempt(json!({"what": "detach"})).await;
    assert_eq!(detached["ok"], true, "{detached}");
    assert_eq!(
        sleepers(),
        1,
        "the detached child runs on after its handler"
    );
    // A timeout kills the instance, and everything in it within a second.
    let spin = hostile.execute(json!({"what": "spin"})).await;
    assert_eq!(spin["status"], "failed", "{spin}");
    let deadline = Instant::now() + Duration::from_secs(1);
    while sleepers() > 0 {
        assert!(
            Instant::now() < deadline,
            "the detached child outlived its instance"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Host processes running the marker `sleep 1234.5` of the detach case.
fn sleepers() -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|line| line == b"/bin/sleep\x001234.5\x00")
        })
        .count()
}
