//! Runs one process under limits: a [`Spec`] in, an [`Outcome`] out. This crate knows nothing
//! of functions, deployments or HTTP; the executor decides what to run.
//!
//! Today a process runs as a plain child: with a clean environment (only what the spec
//! names), in its own process group, with its output captured and bounded, and killed with its
//! whole group when the deadline passes. The namespaces, cgroups and seccomp recipe of
//! DESIGN.md will replace the inside of [`run`] without changing its interface.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The complete environment of the process; nothing of the caller's leaks in.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
    /// Output kept per stream; the rest is read and dropped so the process never blocks.
    pub output_limit: usize,
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
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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
}

/// Runs the spec to completion (or to its deadline) and reports what happened. Blocking:
/// call it from a blocking thread.
pub fn run(spec: &Spec) -> Result<Outcome, SandboxError> {
    let started = Instant::now();
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout can kill everything it started.
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
        program: spec.program.display().to_string(),
        source,
    })?;
    let stdout = drain(child.stdout.take(), spec.output_limit);
    let stderr = drain(child.stderr.take(), spec.output_limit);
    let (exit_code, timed_out) = wait_until(&mut child, started + spec.timeout)?;
    Ok(Outcome {
        exit_code,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        timed_out,
        duration: started.elapsed(),
    })
}

/// Reads a stream to its end on its own thread, keeping at most `limit` bytes.
fn drain(stream: Option<impl Read + Send + 'static>, limit: usize) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let Some(mut stream) = stream else {
            return kept;
        };
        let mut buffer = [0u8; 8192];
        while let Ok(read) = stream.read(&mut buffer) {
            if read == 0 {
                break;
            }
            let room = limit.saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..read.min(room)]);
        }
        kept
    })
}

fn wait_until(child: &mut Child, deadline: Instant) -> Result<(Option<i32>, bool), SandboxError> {
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|source| SandboxError::Wait { source })?
        {
            return Ok((status.code(), false));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            let status = child
                .wait()
                .map_err(|source| SandboxError::Wait { source })?;
            return Ok((status.code(), true));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Kills the child's whole process group (the child leads its group, so its pid is the
/// group id), which takes every descendant that did not start a group of its own.
fn kill_group(child: &mut Child) {
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    if killpg(group, Signal::SIGKILL).is_err() {
        let _ = child.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
