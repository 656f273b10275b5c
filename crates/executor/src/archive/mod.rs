//! The safe unpacker for deployment archives. A deployment's code arrives as a user-supplied
//! `tar.gz`; it is unpacked once into a fresh, empty folder that later becomes the read-only
//! code of every sandboxed instance. The archive is hostile until proven otherwise, so the one
//! promise this module keeps is that nothing is ever written outside the destination.
//!
//! What is accepted:
//! - gzip-compressed tar only (a plain tar is refused); an archive with no entries is fine.
//! - Regular files (mode 0644, or 0755 when any execute bit was set), folders (0755), and
//!   symbolic links whose target is relative, starts with any `..` it needs and then only
//!   descends, and stays inside the deployment (the `paths` module explains why that shape).
//! - Hard links to a regular file unpacked earlier in the same archive, by a path that does not
//!   pass through a symbolic link. They are materialised as copies, so no two names share an
//!   inode and the copy counts against the size limit like any other file.
//! - pax and GNU long names; the pax global header (`git archive` writes one) is skipped.
//!
//! Everything else is refused, naming the entry: absolute paths, `..` anywhere in a path, NUL
//! bytes, devices, FIFOs, GNU sparse files, unknown types, writes through a symbolic link, a
//! file where a folder is (or the reverse). Ownership, timestamps, xattrs and setuid, setgid
//! and sticky bits are never restored.
//!
//! On error the destination is left half-written; the caller deletes it.

mod budget;
mod error;
mod meta;
mod paths;
mod write;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;
use std::rc::Rc;

use flate2::read::GzDecoder;
use tar::EntryType;

use budget::Budget;
pub use error::ArchiveError;
use error::shown;
use meta::Pending;
use paths::{PathProblem, TargetProblem};
use write::{Source, Writer};

/// How much an archive may unpack to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes written into files, counted as they are written (not taken from the headers).
    pub max_total_bytes: u64,
    /// Archive entries plus folders created implicitly for them.
    pub max_entries: u64,
    /// Bytes in an entry path or link target, as stored in the archive.
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_bytes: 512 * 1024 * 1024,
            max_entries: 100_000,
            max_path_len: 4096,
        }
    }
}

/// What an archive unpacked to.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Regular files created, hard links included (they become copies). A file that replaces
    /// an earlier one of the same name is counted once; symbolic links are not counted.
    pub files: u64,
    /// Folders created, explicitly listed or implied by a path; the root is not counted.
    pub directories: u64,
    /// File bytes written, overwritten files and hard-link copies included.
    pub bytes: u64,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Decompressed bytes allowed per entry beyond file data: a header, padding, long names and
/// pax records. Together with the file data limit this bounds the whole stream.
const STREAM_BYTES_PER_ENTRY: u64 = 8 * 1024;
const MIB: u64 = 1024 * 1024;

/// Unpacks the `tar.gz` at `archive` into `dest`, which must be an existing, empty folder.
/// Blocking: run it on a blocking thread.
pub fn unpack(archive: &Path, dest: &Path, limits: &Limits) -> Result<Summary, ArchiveError> {
    check_destination(dest)?;
    let file = open_gzip(archive)?;

    let exceeded = Rc::new(Cell::new(false));
    let cap = stream_cap(limits);
    let fail = |error: io::Error| stream_error(error, &exceeded, cap);
    let stream = Budget::new(
        GzDecoder::new(BufReader::new(file)),
        cap,
        Rc::clone(&exceeded),
    );
    let mut archive = tar::Archive::new(stream);
    let mut writer = Writer::new(dest, limits);
    {
        // Raw mode: long names and pax headers come to us as entries, so we can cap how much
        // of them is read into memory before reading it (the tar crate reads them whole).
        let entries = archive.entries().map_err(fail)?.raw(true);
        let mut pending = Pending::default();
        for entry in entries {
            let mut entry = entry.map_err(fail)?;
            unpack_entry(&mut entry, &mut pending, &mut writer, limits, &fail)?;
        }
        if pending.is_waiting() {
            return Err(ArchiveError::NotTarGz {
                reason: "it ends with an extended header that describes no entry".to_owned(),
            });
        }
    }
    // Read what is left (tar padding, the gzip trailer with its checksum) so that damage past
    // the last entry is reported too. The budget still applies.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(fail)?;
    Ok(writer.summary)
}

fn unpack_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    pending: &mut Pending,
    writer: &mut Writer<'_>,
    limits: &Limits,
    fail: &dyn Fn(io::Error) -> ArchiveError,
) -> Result<(), ArchiveError> {
    let header = entry.header();
    let kind = header.entry_type();
    let size = header.entry_size().map_err(fail)?;
    if kind == EntryType::XGlobalHeader {
        // Archive-wide comments and defaults (git archive stores the commit id here); nothing
        // in them is applied, but they count as entries all the same.
        return writer.count(&shown(&header.path_bytes()));
    }
    if pending.absorb(entry, size, limits, fail)? {
        return Ok(());
    }
    let header = entry.header();
    let resolved = pending.resolve(header)?;
    let (raw_path, link) = (resolved.path, resolved.link);
    // Only the execute bits are used. Some writers leave the field blank, which GNU tar reads
    // as 0, so an unreadable mode means "not executable" rather than a broken archive.
    let mode = header.mode().unwrap_or(0);
    let name = shown(&raw_path);
    writer.count(&name)?;

    if resolved.pax_size.is_some_and(|declared| declared != size) {
        // The tar crate would read the header's size; other tools honour pax. Refuse rather
        // than unpack something different from what `tar -x` would show the user.
        return Err(ArchiveError::NotTarGz {
            reason: format!("entry {name:?} declares two different sizes"),
        });
    }
    if resolved.sparse {
        return Err(unsupported(&name, "a GNU sparse file"));
    }
    let components = paths::normalise(&raw_path, limits.max_path_len)
        .map_err(|problem| path_error(problem, &name, raw_path.len(), limits.max_path_len))?;

    match kind {
        // Old tar tools mark folders only by a trailing slash on a regular entry.
        EntryType::Directory | EntryType::Regular
            if kind == EntryType::Directory || raw_path.ends_with(b"/") =>
        {
            if components.is_empty() {
                return Ok(()); // the root itself (`./`): it exists already
            }
            writer.directory(&name, &components)
        }
        EntryType::Regular => writer.file(
            &name,
            &components,
            mode & 0o111 != 0,
            size,
            Source::Archive(entry, fail),
        ),
        EntryType::Symlink => {
            let parent_depth = components.len().saturating_sub(1);
            paths::check_symlink_target(&link, parent_depth, limits.max_path_len).map_err(
                |problem| match problem {
                    TargetProblem::Outside => ArchiveError::SymlinkOutside {
                        entry: name.clone(),
                        target: shown(&link),
                    },
                    TargetProblem::Invalid(reason) => ArchiveError::SymlinkInvalid {
                        entry: name.clone(),
                        target: shown(&link),
                        reason,
                    },
                },
            )?;
            writer.symlink(&name, &components, &link)
        }
        EntryType::Link => {
            let refuse = |reason| ArchiveError::HardLinkInvalid {
                entry: name.clone(),
                target: shown(&link),
                reason,
            };
            let target = paths::normalise(&link, limits.max_path_len)
                .map_err(|problem| refuse(problem.as_link_reason()))?;
            if target.is_empty() {
                return Err(refuse("its target is not a regular file"));
            }
            let (source, executable) = writer.link_source(&name, &target).map_err(refuse)?;
            writer.file(&name, &components, executable, 0, Source::Local(source))
        }
        EntryType::Char => Err(unsupported(&name, "a character device")),
        EntryType::Block => Err(unsupported(&name, "a block device")),
        EntryType::Fifo => Err(unsupported(&name, "a named pipe (FIFO)")),
        EntryType::GNUSparse => Err(unsupported(&name, "a GNU sparse file")),
        EntryType::Continuous => Err(unsupported(&name, "a contiguous file")),
        other => Err(unsupported(
            &name,
            &format!("of an unknown type ({:?})", char::from(other.as_byte())),
        )),
    }
}

fn check_destination(dest: &Path) -> Result<(), ArchiveError> {
    let refuse = |reason: String| ArchiveError::Destination { reason };
    let meta = fs::symlink_metadata(dest).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => refuse("does not exist".to_owned()),
        _ => refuse(format!("cannot be inspected ({error})")),
    })?;
    if !meta.is_dir() {
        return Err(refuse("is not a folder".to_owned()));
    }
    let mut listing =
        fs::read_dir(dest).map_err(|error| refuse(format!("cannot be listed ({error})")))?;
    if listing.next().is_some() {
        return Err(refuse("is not empty".to_owned()));
    }
    Ok(())
}

/// Opens the upload and checks the gzip magic up front, so that a plain tar or a zip gets a
/// message saying what it is instead of a decompressor's complaint.
fn open_gzip(archive: &Path) -> Result<File, ArchiveError> {
    let mut file = File::open(archive).map_err(|source| ArchiveError::Open { source })?;
    let mut head = [0u8; 512];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(ArchiveError::Open { source }),
        }
    }
    if filled >= 2 && head[..2] == GZIP_MAGIC {
        file.rewind()
            .map_err(|source| ArchiveError::Open { source })?;
        return Ok(file);
    }
    let reason = if filled == 0 {
        "the file is empty"
    } else if filled >= 262 && &head[257..262] == b"ustar" {
        "it is an uncompressed tar, and it must be compressed with gzip"
    } else {
        "it is not gzip-compressed"
    };
    Err(ArchiveError::NotTarGz {
        reason: reason.to_owned(),
    })
}

/// The most decompressed bytes an archive within `limits` can need, rounded up to a MiB.
fn stream_cap(limits: &Limits) -> u64 {
    let bytes = limits
        .max_total_bytes
        .saturating_add(limits.max_entries.saturating_mul(STREAM_BYTES_PER_ENTRY))
        .saturating_add(MIB);
    bytes.div_ceil(MIB).saturating_mul(MIB)
}

fn stream_error(error: io::Error, exceeded: &Cell<bool>, cap: u64) -> ArchiveError {
    if exceeded.get() {
        return ArchiveError::DecompressedTooLarge { limit: cap };
    }
    let reason = match error.kind() {
        io::ErrorKind::UnexpectedEof => {
            "it ends too early (the upload may be truncated)".to_owned()
        }
        _ => format!("its contents could not be read ({error})"),
    };
    ArchiveError::NotTarGz { reason }
}

fn path_error(problem: PathProblem, entry: &str, len: usize, max: usize) -> ArchiveError {
    let entry = entry.to_owned();
    match problem {
        PathProblem::Nul => ArchiveError::NulInName { entry },
        PathProblem::TooLong => ArchiveError::PathTooLong {
            entry,
            len: len as u64,
            max,
        },
        PathProblem::Absolute => ArchiveError::AbsolutePath { entry },
        PathProblem::Escapes => ArchiveError::OutsideRoot { entry },
        PathProblem::ParentComponent => ArchiveError::ParentComponent { entry },
    }
}

fn unsupported(entry: &str, kind: &str) -> ArchiveError {
    ArchiveError::UnsupportedType {
        entry: entry.to_owned(),
        kind: kind.to_owned(),
    }
}
