//! Draining a child's output pipes. Each pipe is read to its end on its own thread, so the
//! child never blocks on a full pipe however much it writes, and what is read is kept in a
//! bounded buffer: the first bytes (a run to completion, where the start explains the rest)
//! or the last ones (a long-lived instance, where only the recent past matters).

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Which bytes a capture keeps once it holds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    Head,
    Tail,
}

#[derive(Debug)]
struct Buffer {
    bytes: VecDeque<u8>,
    keep: Keep,
    limit: usize,
    /// Bytes read from the pipe so far, kept or not: positions for [`Capture::since`].
    total: u64,
    /// The pipe reached its end (every writer closed it).
    closed: bool,
}

impl Buffer {
    /// The position of the first kept byte.
    fn first(&self) -> u64 {
        match self.keep {
            Keep::Head => 0,
            Keep::Tail => self.total - self.bytes.len() as u64,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        match self.keep {
            Keep::Head => {
                let room = self.limit.saturating_sub(self.bytes.len());
                self.bytes.extend(&chunk[..chunk.len().min(room)]);
            }
            Keep::Tail => {
                let chunk = &chunk[chunk.len().saturating_sub(self.limit)..];
                let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.limit);
                self.bytes.drain(..overflow);
                self.bytes.extend(chunk);
            }
        }
    }
}

/// One output pipe being drained.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    shared: Arc<(Mutex<Buffer>, Condvar)>,
}

impl Capture {
    /// Starts draining `stream` (a missing stream counts as already closed).
    pub(crate) fn start(
        stream: Option<impl Read + Send + 'static>,
        limit: usize,
        keep: Keep,
    ) -> Self {
        let capture = Self {
            shared: Arc::new((
                Mutex::new(Buffer {
                    bytes: VecDeque::new(),
                    keep,
                    limit,
                    total: 0,
                    closed: false,
                }),
                Condvar::new(),
            )),
        };
        let Some(mut stream) = stream else {
            capture.lock().closed = true;
            return capture;
        };
        let writer = capture.clone();
        // The thread is detached: if a descendant that left the process group keeps the pipe
        // open, the thread waits for it rather than anyone waiting for the thread.
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(read) = stream.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                writer.lock().push(&chunk[..read]);
            }
            writer.lock().closed = true;
            writer.shared.1.notify_all();
        });
        capture
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // The buffer stays consistent even if a holder panicked: every update is one push.
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many bytes the pipe has delivered so far; a mark for [`Capture::since`].
    pub(crate) fn total(&self) -> u64 {
        self.lock().total
    }

    /// The kept bytes delivered after position `mark`.
    pub(crate) fn since(&self, mark: u64) -> Vec<u8> {
        let buffer = self.lock();
        let skip = mark.saturating_sub(buffer.first());
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        buffer.bytes.iter().skip(skip).copied().collect()
    }

    /// Everything kept.
    pub(crate) fn contents(&self) -> Vec<u8> {
        self.since(0)
    }

    /// Waits until the pipe is closed or `timeout` passes; tells which happened.
    pub(crate) fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut buffer = self.lock();
        while !buffer.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            buffer = self
                .shared
                .1
                .wait_timeout(buffer, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(keep: Keep, limit: usize) -> Buffer {
        Buffer {
            bytes: VecDeque::new(),
            keep,
            limit,
            total: 0,
            closed: false,
        }
    }

    #[test]
    fn head_keeps_the_first_bytes() {
        let mut head = buffer(Keep::Head, 4);
        head.push(b"abc");
        head.push(b"defg");
        assert_eq!(head.bytes.iter().copied().collect::<Vec<_>>(), b"abcd");
        assert_eq!(head.total, 7);
        assert_eq!(head.first(), 0);
    }

    #[test]
    fn tail_keeps_the_last_bytes_and_knows_their_positions() {
        let mut tail = buffer(Keep::Tail, 4);
        tail.push(b"abc");
        tail.push(b"defg");
        assert_eq!(tail.bytes.iter().copied().collect::<Vec<_>>(), b"defg");
        assert_eq!(tail.first(), 3);
        tail.push(b"0123456789");
        assert_eq!(tail.bytes.iter().copied().collect::<Vec<_>>(), b"6789");
        assert_eq!(tail.total, 17);
    }

    #[test]
    fn since_returns_what_came_after_a_mark() {
        let capture = Capture::start(Some(&b"hello world"[..]), 100, Keep::Tail);
        assert!(capture.wait_closed(Duration::from_secs(5)));
        assert_eq!(capture.since(6), b"world");
        assert_eq!(capture.contents(), b"hello world");
        assert_eq!(capture.total(), 11);
        assert_eq!(capture.since(50), b"");
    }

    #[test]
    fn a_missing_stream_is_closed() {
        let capture = Capture::start(None::<&[u8]>, 10, Keep::Head);
        assert!(capture.wait_closed(Duration::ZERO));
        assert!(capture.contents().is_empty());
    }
}
