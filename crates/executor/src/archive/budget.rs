//! A byte budget on the decompressed stream. The unpacker also counts the bytes it writes, but
//! some bytes are never written (headers, long names, data of entries that are skipped), and a
//! gzip bomb can hide in those. Wrapping the decompressor makes the amount of work per upload
//! bounded whatever the headers claim.
//!
//! The tar reader wraps and rewrites I/O errors on their way up, so the budget does not rely on
//! its error surviving the trip: it raises a shared flag that the unpacker checks instead.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Passes reads through until `left` bytes have gone by; one byte more is an error.
pub(super) struct Budget<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R> Budget<R> {
    pub(super) fn new(inner: R, limit: u64, exceeded: Rc<Cell<bool>>) -> Self {
        Self {
            inner,
            left: limit,
            exceeded,
        }
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // A stream that ends exactly at the limit is fine; only a further byte is over it,
            // so probe for one instead of failing on the boundary.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded.set(true);
                    Err(io::Error::other("decompressed size limit reached"))
                }
            };
        }
        let room = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = self.inner.read(&mut buf[..room])?;
        // `read <= room <= left`, so this never underflows.
        self.left -= read as u64;
        Ok(read)
    }
}
