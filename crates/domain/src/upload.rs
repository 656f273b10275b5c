//! The chunked upload protocol of the Appwrite SDKs: `Content-Range: bytes <start>-<end>/<size>`
//! on every chunk after the first 5 MiB, where the SDKs send `end == size` for the last chunk
//! (not `size - 1`, as RFC 7233 would). Both forms are accepted.

use functiond_types::ErrorCode;

use crate::error::Error;

/// One chunk's place in the whole upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub size: u64,
}

impl ContentRange {
    /// Parses `<unit> <start>-<end>/<size>`; digits only, `start <= end <= size`.
    pub fn parse(header: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::upload(
                ErrorCode::StorageInvalidContentRange,
                format!(
                    "Invalid Content-Range \"{header}\": expected \"bytes <start>-<end>/<size>\" with start <= end <= size."
                ),
            )
        };
        let (_unit, range) = header.trim().split_once(' ').ok_or_else(invalid)?;
        let (span, size) = range.split_once('/').ok_or_else(invalid)?;
        let (start, end) = span.split_once('-').ok_or_else(invalid)?;
        let number = |text: &str| -> Result<u64, Error> {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            text.parse().map_err(|_| invalid())
        };
        let range = Self {
            start: number(start)?,
            end: number(end)?,
            size: number(size)?,
        };
        if range.start > range.end || range.end > range.size || range.size == 0 {
            return Err(invalid());
        }
        Ok(range)
    }

    /// How many bytes this chunk must carry: `end` is inclusive, except for the SDKs' last
    /// chunk where `end == size`.
    pub fn chunk_len(&self) -> u64 {
        if self.end == self.size {
            self.size - self.start
        } else {
            self.end - self.start + 1
        }
    }
}

/// Whether chunks `(start, len)`, sorted by start, cover `0..size` exactly.
pub fn covers(chunks: &[(u64, u64)], size: u64) -> bool {
    let mut next = 0;
    for &(start, len) in chunks {
        if start != next {
            return false;
        }
        next = start + len;
    }
    next == size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sdk_and_rfc_forms() {
        let first = ContentRange::parse("bytes 0-5242879/12000000").unwrap();
        assert_eq!(first.chunk_len(), 5_242_880);
        let sdk_last = ContentRange::parse("bytes 10485760-12000000/12000000").unwrap();
        assert_eq!(sdk_last.chunk_len(), 1_514_240);
        let rfc_last = ContentRange::parse("bytes 10485760-11999999/12000000").unwrap();
        assert_eq!(rfc_last.chunk_len(), 1_514_240);
        let exact = ContentRange::parse("bytes 0-5242879/5242880").unwrap();
        assert_eq!(exact.chunk_len(), 5_242_880);
    }

    #[test]
    fn refuses_malformed_ranges() {
        for header in [
            "",
            "bytes",
            "bytes 0-10",
            "bytes 10-5/20",
            "bytes 0-30/20",
            "bytes -1-5/20",
            "bytes a-b/c",
            "bytes 0-0/0",
            "bytes 0-99999999999999999999999/1",
            "bytes 1 -2/3",
        ] {
            let error = ContentRange::parse(header).unwrap_err();
            assert_eq!(
                error.code(),
                ErrorCode::StorageInvalidContentRange,
                "{header:?}"
            );
        }
    }

    #[test]
    fn coverage_needs_every_byte_once() {
        assert!(covers(&[(0, 5), (5, 5)], 10));
        assert!(!covers(&[(0, 5)], 10));
        assert!(!covers(&[(0, 5), (6, 4)], 10));
        assert!(!covers(&[(0, 6), (5, 5)], 10));
        assert!(covers(&[(0, 10)], 10));
    }
}
