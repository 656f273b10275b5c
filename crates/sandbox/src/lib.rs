//! Runs one process under limits: a [`Spec`] in, an [`Outcome`] out. This crate knows nothing
//! of functions, deployments or HTTP; the executor decides what to run.
//!
//! Two ways to run: [`run`] to completion (a build step, a probe) and [`spawn`] for a
//! long-lived process (a warm runtime instance) that its owner kills when done with it.
//! Either way the process gets a clean environment (only what the spec names), its output
//! drained and bounded, no core dumps, and is killed with everything it started when the
//! deadline passes or its owner lets go.
//!
//! A spec with a [`Jail`] runs in a sandbox built by the recipe of DESIGN.md (namespaces, a
//! fresh root, cgroups, seccomp: see [`jail`]); one without runs as a plain child in its
//! own process group, which is only fit for trusted programs and development.

mod capture;
pub mod jail;
mod process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use jail::{Bind, Cidr, Egress, Jail, LimitHit, Limits, Network, Sandbox, SandboxConfig};
pub use process::{Exit, Instance, spawn};

use crate::capture::Keep;

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The complete environment of the process; nothing of the caller's leaks in.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// When [`run`] kills the process; [`spawn`] ignores it (its owner decides).
    pub timeout: Duration,
    /// Output kept per stream; the rest is read and dropped so the process never blocks.
    /// [`run`] keeps the first bytes, [`spawn`] the last ones.
    pub output_limit: usize,
    /// The sandbox to run in; `None` runs a plain child (trusted programs only).
    pub jail: Option<Jail>,
}

impl Spec {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            timeout: Duration::from_secs(10),
            output_limit: 1024 * 1024,
            jail: None,
        }
    }

    pub fn jail(mut self, jail: Jail) -> Self {
        self.jail = Some(jail);
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn output_limit(mut self, limit: usize) -> Self {
        self.output_limit = limit;
        self
    }
}

/// How the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; `None` when a signal ended it.
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    pub duration: Duration,
    /// A sandbox limit the process ran into, if one did.
    pub limit: Option<LimitHit>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("lost track of the process: {source}")]
    Wait { source: std::io::Error },
    /// The host cannot sandbox at all (a missing kernel feature or privilege).
    #[error("sandboxing is not available on this host: {message}")]
    Unavailable { message: String },
    #[error("cannot set up the sandbox: {message}")]
    Setup { message: String },
    #[error("cgroups: {message}")]
    Cgroup { message: String },
}

/// Runs the spec to completion (or to its deadline) and reports what happened. Whatever the
/// process left running in its group is killed when it ends. Blocking: call it from a
/// blocking thread.
pub fn run(spec: &Spec) -> Result<Outcome, SandboxError> {
    let started = Instant::now();
    let deadline = started + spec.timeout;
    let mut process = process::start(spec, Keep::Head)?;
    let timed_out = loop {
        if process.exited()?.is_some() {
            break false;
        }
        let now = Instant::now();
        if now >= deadline {
            break true;
        }
        // Woken as soon as it exits (or at the deadline, or after a while to look again).
        process.wait_exit((deadline - now).min(Duration::from_millis(100)));
    };
    let exit = process.kill()?;
    // A descendant that left the group may hold the pipes open; don't wait for it forever.
    process.settle(Duration::from_secs(2));
    let (stdout, stderr) = process.take_output();
    Ok(Outcome {
        exit_code: exit.code,
        stdout,
        stderr,
        timed_out,
        duration: started.elapsed(),
        limit: process.limit_hit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn captures_output_and_exit_code() {
        let spec = Spec::new("/bin/sh")
            .arg("-c")
            .arg("echo out; echo err >&2; exit 3");
        let outcome = run(&spec).unwrap();
        assert_eq!(outcome.exit_code, Some(3));
        assert_eq!(outcome.stdout, b"out\n");
        assert_eq!(outcome.stderr, b"err\n");
        assert!(!outcome.timed_out);
    }

    #[test]
    fn environment_is_only_what_the_spec_names() {
        let mut spec = Spec::new("/usr/bin/env");
        spec.env.push(("ONLY".into(), "this".into()));
        let outcome = run(&spec).unwrap();
        assert_eq!(String::from_utf8_lossy(&outcome.stdout), "ONLY=this\n");
    }

    #[test]
    fn deadline_kills_the_process_group() {
        let spec = Spec::new("/bin/sh")
            .arg("-c")
            .arg("sleep 30 & sleep 30")
            .timeout(Duration::from_millis(200));
        let outcome = run(&spec).unwrap();
        assert!(outcome.timed_out);
        assert!(outcome.duration < Duration::from_secs(5));
    }

    #[test]
    fn what_a_finished_process_left_behind_is_killed() {
        let started = Instant::now();
        let outcome = run(&Spec::new("/bin/sh").arg("-c").arg("sleep 300 & echo $!")).unwrap();
        assert!(outcome.success());
        // The sleeper held the output pipe: returning promptly means it was killed.
        assert!(started.elapsed() < Duration::from_secs(2));
        let pid = String::from_utf8(outcome.stdout).unwrap().trim().to_owned();
        // Its pipes closed during its exit; the rest of the exit may take a moment more.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z") {
                break;
            }
            assert!(Instant::now() < deadline, "still running: {stat}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn output_is_bounded() {
        let mut spec = Spec::new("/bin/sh")
            .arg("-c")
            .arg("head -c 100000 /dev/zero");
        spec.output_limit = 10;
        let outcome = run(&spec).unwrap();
        assert_eq!(outcome.stdout.len(), 10);
        assert!(outcome.success());
    }

    #[test]
    fn missing_program_is_an_error() {
        assert!(run(&Spec::new("/nonexistent/program")).is_err());
    }
}
