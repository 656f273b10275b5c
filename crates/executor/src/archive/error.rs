//! What can go wrong while unpacking, phrased for the person who uploaded the archive: every
//! message ends up as the build's stderr, so it names the offending entry and says what is
//! allowed instead. Entry names are shown escaped (`{:?}`) so that a hostile name cannot put
//! control characters on someone's terminal, and they are cut short so a 4 KiB name does not
//! drown the message.

use std::io;

/// Why an archive could not be unpacked. Every variant's `Display` is a complete sentence meant
/// for the user; none of them mentions a path on the host.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The folder to unpack into is missing, not a folder, or not empty. A server-side fault.
    #[error("The deployment could not be unpacked: its destination folder {reason}.")]
    Destination { reason: String },

    /// The uploaded file itself could not be read. A server-side fault.
    #[error("The deployment archive could not be read: {source}.")]
    Open { source: io::Error },

    /// Not gzip, corrupt, truncated, or not a tar stream inside.
    #[error("The deployment is not a valid tar.gz archive: {reason}.")]
    NotTarGz { reason: String },

    #[error(
        "Archive entry {entry:?} has an absolute path; entries must be relative to the deployment root."
    )]
    AbsolutePath { entry: String },

    #[error("Archive entry {entry:?} points outside the deployment.")]
    OutsideRoot { entry: String },

    /// A `..` that stays inside is refused too: the rule "no `..` at all" is easy to state and
    /// leaves nothing to reason about.
    #[error("Archive entry {entry:?} uses \"..\" in its path, which is not allowed.")]
    ParentComponent { entry: String },

    #[error("Archive entry {entry:?} has a NUL byte in its name.")]
    NulInName { entry: String },

    #[error("Archive entry {entry:?} has a name of {len} bytes; the limit is {max} bytes.")]
    PathTooLong { entry: String, len: u64, max: usize },

    #[error("Archive entry {entry:?} has no name.")]
    EmptyName { entry: String },

    #[error(
        "Archive entry {entry:?} is {kind}; only regular files, folders and symbolic links can be deployed."
    )]
    UnsupportedType { entry: String, kind: String },

    #[error(
        "Archive entry {entry:?} is a symbolic link to {target:?}, which points outside the deployment; only relative links that stay inside it are allowed."
    )]
    SymlinkOutside { entry: String, target: String },

    #[error(
        "Archive entry {entry:?} is a symbolic link to {target:?}, which is not allowed: {reason}."
    )]
    SymlinkInvalid {
        entry: String,
        target: String,
        reason: &'static str,
    },

    #[error(
        "Archive entry {entry:?} is a hard link to {target:?}, which is not allowed: {reason}."
    )]
    HardLinkInvalid {
        entry: String,
        target: String,
        reason: &'static str,
    },

    #[error(
        "Archive entry {entry:?} would be written through the symbolic link {link:?}; nothing can be unpacked into a linked folder."
    )]
    ThroughSymlink { entry: String, link: String },

    #[error(
        "Archive entry {entry:?} needs {path:?} to be a folder, but an earlier entry made it a file."
    )]
    NotADirectory { entry: String, path: String },

    #[error("Archive entry {entry:?} is {new}, but an earlier entry already put {existing} there.")]
    Collision {
        entry: String,
        new: &'static str,
        existing: &'static str,
    },

    #[error(
        "Archive entry {entry:?} takes the deployment past its size limit: the unpacked files may total at most {}.",
        human(*limit)
    )]
    TooLarge { entry: String, limit: u64 },

    /// The decompressed stream outgrew what the files could possibly need (a bomb made of
    /// metadata or of data the unpacker skips), so it was not read to the end.
    #[error(
        "The deployment archive decompresses to more than {}, far more than its files need; it was refused.",
        human(*limit)
    )]
    DecompressedTooLarge { limit: u64 },

    #[error(
        "Archive entry {entry:?} goes past the limit of {limit} files and folders per deployment."
    )]
    TooManyEntries { entry: String, limit: u64 },

    #[error(
        "Archive entry {entry:?} carries {size} bytes of extended metadata; the limit is {max} bytes."
    )]
    MetadataTooLarge { entry: String, size: u64, max: u64 },

    /// Writing into the destination failed (disk full, quota, ...). The `io::Error` text never
    /// includes a host path: std does not put paths into its errors.
    #[error("Archive entry {entry:?} could not be unpacked: {source}.")]
    Write { entry: String, source: io::Error },
}

/// The longest entry name quoted in a message, in characters.
const SHOWN_CHARS: usize = 200;

/// An archive name as it is quoted in messages: lossily decoded, and cut short when long.
pub(super) fn shown(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    if text.chars().count() <= SHOWN_CHARS {
        return text.into_owned();
    }
    let mut cut: String = text.chars().take(SHOWN_CHARS).collect();
    cut.push('…');
    cut
}

/// A byte count the way a person reads a limit: `512 MiB` rather than `536870912 bytes`.
pub(super) fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}
