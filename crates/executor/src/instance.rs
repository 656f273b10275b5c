//! One warm instance: a runtime shim started through the sandbox, plus the socket connection
//! it made back to the executor. Starting one is a cold start; calling it is one invocation.
//!
//! The executor listens on a fresh socket path per instance and the shim connects once it
//! has loaded the user's code, so an accepted connection means "ready". Only a process of
//! the instance may be the peer: in a sandbox, one running as the sandbox's own host uid;
//! without one, one of its process group.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use functiond_sandbox::{Exit, Spec};
use tokio::net::{UnixListener, UnixStream};

use crate::protocol::{self, FrameError, Reply, Request};

/// How long a dying instance gets for its last words to reach the stderr capture.
const SETTLE: Duration = Duration::from_millis(200);

/// How often a cold start checks whether the process died before connecting.
const POLL: Duration = Duration::from_millis(10);

/// How much of a dead instance's stderr is quoted back to the caller.
const STDERR_QUOTE: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct Instance {
    process: functiond_sandbox::Instance,
    stream: UnixStream,
    /// Invocations answered so far.
    served: u64,
}

/// Why a cold start failed, in words for the execution's stderr.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("The runtime could not be started: {message}")]
    Spawn { message: String },
    #[error("{}", exited_message(.exit, .stderr))]
    Exited { exit: Exit, stderr: String },
    #[error("The runtime did not become ready within {} seconds.{}", .after.as_secs(), quote(.stderr))]
    TimedOut { after: Duration, stderr: String },
}

fn exited_message(exit: &Exit, stderr: &str) -> String {
    if stderr.trim().is_empty() {
        format!("The runtime exited before it was ready ({exit}).")
    } else {
        stderr.trim_end().to_owned()
    }
}

fn quote(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("\n{}", stderr.trim_end())
    }
}

/// Why an invocation got no answer.
#[derive(Debug)]
pub(crate) enum CallError {
    TimedOut,
    /// The connection broke or carried garbage; `mark` is where this call's stderr begins.
    Broken {
        error: FrameError,
        mark: u64,
    },
}

/// Removes the socket path when the cold start is over, whichever way it ended.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Instance {
    /// Starts `spec` (which tells the shim to connect to `socket`) and waits until it is
    /// ready, it dies, or `timeout` passes.
    pub(crate) async fn start(
        spec: Spec,
        socket: &Path,
        timeout: Duration,
    ) -> Result<Self, StartError> {
        let spawn_error = |message: String| StartError::Spawn { message };
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket)
            .map_err(|e| spawn_error(format!("cannot listen on {}: {e}", socket.display())))?;
        let _socket_file = SocketFile(socket.to_owned());
        // A sandboxed shim runs as a user of its own; the directory (0700) keeps everyone
        // else away from the socket, and the peer check below keeps other processes out.
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666));
        }
        let deadline = Instant::now() + timeout;
        let mut process = tokio::task::spawn_blocking(move || functiond_sandbox::spawn(&spec))
            .await
            .map_err(|e| spawn_error(e.to_string()))?
            .map_err(|e| spawn_error(e.to_string()))?;
        let pid = process.id();
        let mut poll = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    if belongs_to(&stream, &process) {
                        return Ok(Self { process, stream, served: 0 });
                    }
                    tracing::warn!(pid, "refused a connection from outside the instance");
                }
                _ = poll.tick() => {
                    if let Ok(Some(_)) = process.exited() {
                        let (exit, stderr) = finish(process, 0).await;
                        return Err(StartError::Exited { exit, stderr });
                    }
                    if Instant::now() >= deadline {
                        let (_, stderr) = finish(process, 0).await;
                        return Err(StartError::TimedOut { after: timeout, stderr });
                    }
                }
            }
        }
    }

    /// Sends one invocation and waits up to `timeout` for its answer. On any error the
    /// instance is in an unknown state and must be killed.
    pub(crate) async fn call(
        &mut self,
        request: &Request<'_>,
        timeout: Duration,
    ) -> Result<Reply, CallError> {
        let mark = self.process.stderr_mark();
        let stream = &mut self.stream;
        let exchange = async {
            protocol::write(stream, request).await?;
            protocol::read(stream).await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Err(CallError::TimedOut),
            Ok(Err(error)) => Err(CallError::Broken { error, mark }),
            Ok(Ok(reply)) => {
                self.served += 1;
                Ok(reply)
            }
        }
    }

    /// Whether the process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.process.exited(), Ok(None))
    }

    /// The process id (and process group id) of the shim.
    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    pub(crate) fn served(&self) -> u64 {
        self.served
    }

    /// Kills the instance with its whole process group; returns once it is gone.
    pub(crate) async fn kill(self) {
        let mut process = self.process;
        drop(self.stream);
        let _ = tokio::task::spawn_blocking(move || process.kill()).await;
    }

    /// Ends a broken instance and tells what became of it: how it exited (if it did on its
    /// own) and what it wrote to stderr since `mark`.
    pub(crate) async fn post_mortem(self, mark: u64) -> (Option<Exit>, String) {
        let mut process = self.process;
        drop(self.stream);
        // A broken connection usually means the process is exiting; give it a moment, so the
        // report says how it ended rather than that we killed it.
        let waited = Instant::now();
        let mut own_exit = None;
        while waited.elapsed() < SETTLE {
            if let Ok(Some(exit)) = process.exited() {
                own_exit = Some(exit);
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        let (_, stderr) = finish(process, mark).await;
        (own_exit, stderr)
    }
}

/// Kills the process (and its group), lets its pipes drain, and returns how it ended with
/// the end of its stderr after `mark`.
async fn finish(mut process: functiond_sandbox::Instance, mark: u64) -> (Exit, String) {
    let ended = tokio::task::spawn_blocking(move || {
        let exit = process.kill();
        process.settle(SETTLE);
        let mut stderr = process.stderr_since(mark);
        // Say plainly when a limit is why it died (a memory kill leaves no words of its own).
        if let Some(hit) = process.limit_hit() {
            if !stderr.is_empty() && !stderr.ends_with(b"\n") {
                stderr.push(b'\n');
            }
            stderr.extend_from_slice(hit.to_string().as_bytes());
        }
        (exit, stderr)
    })
    .await;
    match ended {
        Ok((Ok(exit), stderr)) => (exit, tail(&stderr, STDERR_QUOTE)),
        Ok((Err(_), stderr)) => (unknown_exit(), tail(&stderr, STDERR_QUOTE)),
        Err(_) => (unknown_exit(), String::new()),
    }
}

fn unknown_exit() -> Exit {
    Exit {
        code: None,
        signal: None,
    }
}

/// The last `limit` bytes of `bytes` as text, starting on a character boundary.
fn tail(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// Whether the peer of `stream` is the instance (a process of its sandbox, or of its
/// process group when unsandboxed).
fn belongs_to(stream: &UnixStream, process: &functiond_sandbox::Instance) -> bool {
    stream
        .peer_cred()
        .is_ok_and(|cred| process.owns_peer(cred.pid(), cred.uid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_start_on_a_character_boundary() {
        assert_eq!(tail("abcdef".as_bytes(), 3), "def");
        assert_eq!(tail("aé".as_bytes(), 1), "");
        assert_eq!(tail("aéb".as_bytes(), 3), "éb");
        assert_eq!(tail(b"ab", 10), "ab");
    }

    #[test]
    fn start_errors_read_well() {
        let exit = Exit {
            code: Some(1),
            signal: None,
        };
        let quiet = StartError::Exited {
            exit,
            stderr: " \n".into(),
        };
        assert_eq!(
            quiet.to_string(),
            "The runtime exited before it was ready (exit code 1)."
        );
        let loud = StartError::Exited {
            exit,
            stderr: "SyntaxError: nope\n".into(),
        };
        assert_eq!(loud.to_string(), "SyntaxError: nope");
        let slow = StartError::TimedOut {
            after: Duration::from_secs(30),
            stderr: "loading\n".into(),
        };
        assert_eq!(
            slow.to_string(),
            "The runtime did not become ready within 30 seconds.\nloading"
        );
    }
}
