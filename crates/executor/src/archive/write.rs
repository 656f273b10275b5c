//! Puts validated entries on disk. The filesystem under `dest` is the source of truth: the
//! folder started empty and nothing else writes into it while we unpack, so before each write
//! every parent component is `lstat`ed and must be a real folder. A symlink is never followed
//! while writing: parents are checked, and the last component is created with `create_new`
//! (`O_CREAT|O_EXCL`, which refuses an existing name even when it is a dangling link) or
//! `mkdir`/`symlink`, which never follow either.

use std::ffi::OsStr;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::shown;
use super::{ArchiveError, Limits, Summary};

const DIR_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;
const EXEC_MODE: u32 = 0o755;

/// What already sits at a path inside the destination.
enum Existing {
    Nothing,
    File,
    Dir,
    Symlink,
    Other,
}

impl Existing {
    fn at(path: &Path, entry: &str) -> Result<Self, ArchiveError> {
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                let kind = meta.file_type();
                Ok(if kind.is_symlink() {
                    Self::Symlink
                } else if kind.is_dir() {
                    Self::Dir
                } else if kind.is_file() {
                    Self::File
                } else {
                    Self::Other
                })
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Self::Nothing),
            Err(source) => Err(write_error(entry, source)),
        }
    }

    fn described(&self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::File => "a file",
            Self::Dir => "a folder",
            Self::Symlink => "a symbolic link",
            Self::Other => "something else",
        }
    }
}

/// Where a file's bytes come from, and how a failure to read them is reported.
pub(super) enum Source<'a> {
    /// The archive stream: a read failure means a broken or oversized archive.
    Archive(&'a mut dyn Read, &'a dyn Fn(io::Error) -> ArchiveError),
    /// A file unpacked earlier (a hard link being materialised as a copy).
    Local(File),
}

/// Writes entries under one destination, keeping the running totals.
pub(super) struct Writer<'a> {
    dest: &'a Path,
    limits: &'a Limits,
    /// Archive entries seen plus folders created implicitly: both cost an inode, and an archive
    /// of deep paths must not turn `max_entries` entries into millions of folders.
    objects: u64,
    pub(super) summary: Summary,
}

impl<'a> Writer<'a> {
    pub(super) fn new(dest: &'a Path, limits: &'a Limits) -> Self {
        Self {
            dest,
            limits,
            objects: 0,
            summary: Summary {
                files: 0,
                directories: 0,
                bytes: 0,
            },
        }
    }

    /// Counts one more archive entry or created folder against `max_entries`.
    pub(super) fn count(&mut self, entry: &str) -> Result<(), ArchiveError> {
        self.objects += 1;
        if self.objects > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                entry: entry.to_owned(),
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Makes sure every parent of `components` is a real folder (creating missing ones) and
    /// returns the full path of the last component, which is not checked here.
    fn prepare(&mut self, entry: &str, components: &[&[u8]]) -> Result<PathBuf, ArchiveError> {
        let mut path = self.dest.to_path_buf();
        let Some((last, parents)) = components.split_last() else {
            return Err(ArchiveError::EmptyName {
                entry: entry.to_owned(),
            });
        };
        for (index, part) in parents.iter().enumerate() {
            path.push(OsStr::from_bytes(part));
            match Existing::at(&path, entry)? {
                Existing::Dir => {}
                Existing::Nothing => {
                    self.count(entry)?;
                    make_dir(&path).map_err(|source| write_error(entry, source))?;
                    self.summary.directories += 1;
                }
                Existing::Symlink => {
                    return Err(ArchiveError::ThroughSymlink {
                        entry: entry.to_owned(),
                        link: joined(&components[..=index]),
                    });
                }
                Existing::File | Existing::Other => {
                    return Err(ArchiveError::NotADirectory {
                        entry: entry.to_owned(),
                        path: joined(&components[..=index]),
                    });
                }
            }
        }
        path.push(OsStr::from_bytes(last));
        Ok(path)
    }

    pub(super) fn directory(
        &mut self,
        entry: &str,
        components: &[&[u8]],
    ) -> Result<(), ArchiveError> {
        let path = self.prepare(entry, components)?;
        match Existing::at(&path, entry)? {
            Existing::Nothing => {
                make_dir(&path).map_err(|source| write_error(entry, source))?;
                self.summary.directories += 1;
                Ok(())
            }
            // Tar archives often list a folder after files inside it were already written.
            Existing::Dir => Ok(()),
            other => Err(collision(entry, "a folder", &other)),
        }
    }

    /// Writes a regular file; a later file replaces an earlier one, as tar does. `declared` is
    /// the size from the header, used only to fail before reading; the bytes actually copied
    /// are what is counted.
    pub(super) fn file(
        &mut self,
        entry: &str,
        components: &[&[u8]],
        executable: bool,
        declared: u64,
        source: Source<'_>,
    ) -> Result<(), ArchiveError> {
        if self.summary.bytes.saturating_add(declared) > self.limits.max_total_bytes {
            return Err(self.too_large(entry));
        }
        let path = self.prepare(entry, components)?;
        match Existing::at(&path, entry)? {
            Existing::Nothing => self.summary.files += 1,
            Existing::File => {
                fs::remove_file(&path).map_err(|source| write_error(entry, source))?;
            }
            other => return Err(collision(entry, "a file", &other)),
        }
        let mode = if executable { EXEC_MODE } else { FILE_MODE };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(|source| write_error(entry, source))?;
        // `open` applies the process umask; set the mode explicitly on the open handle.
        out.set_permissions(Permissions::from_mode(mode))
            .map_err(|source| write_error(entry, source))?;
        match source {
            Source::Archive(reader, on_error) => self.copy(entry, reader, on_error, &mut out)?,
            Source::Local(mut file) => {
                let on_error = |source| write_error(entry, source);
                self.copy(entry, &mut file, &on_error, &mut out)?;
            }
        }
        Ok(())
    }

    fn copy(
        &mut self,
        entry: &str,
        reader: &mut dyn Read,
        on_read_error: &dyn Fn(io::Error) -> ArchiveError,
        out: &mut File,
    ) -> Result<(), ArchiveError> {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(on_read_error(error)),
            };
            let total = self.summary.bytes.saturating_add(read as u64);
            if total > self.limits.max_total_bytes {
                return Err(self.too_large(entry));
            }
            out.write_all(&buffer[..read])
                .map_err(|source| write_error(entry, source))?;
            self.summary.bytes = total;
        }
    }

    pub(super) fn symlink(
        &mut self,
        entry: &str,
        components: &[&[u8]],
        target: &[u8],
    ) -> Result<(), ArchiveError> {
        let path = self.prepare(entry, components)?;
        match Existing::at(&path, entry)? {
            Existing::Nothing => std::os::unix::fs::symlink(OsStr::from_bytes(target), &path)
                .map_err(|source| write_error(entry, source)),
            other => Err(collision(entry, "a symbolic link", &other)),
        }
    }

    /// Opens the already-unpacked regular file a hard link names, refusing anything reached
    /// through a symlink or that is not a plain file. Returns it with its executable bit.
    pub(super) fn link_source(
        &self,
        entry: &str,
        target: &[&[u8]],
    ) -> Result<(File, bool), &'static str> {
        let mut path = self.dest.to_path_buf();
        for (index, part) in target.iter().enumerate() {
            path.push(OsStr::from_bytes(part));
            let last = index + 1 == target.len();
            match Existing::at(&path, entry) {
                Ok(Existing::Dir) if !last => {}
                Ok(Existing::File) if last => {}
                Ok(Existing::Symlink) => return Err("it goes through a symbolic link"),
                Ok(Existing::Nothing) => {
                    return Err("its target was not unpacked earlier in the archive");
                }
                Ok(_) | Err(_) => return Err("its target is not a regular file"),
            }
        }
        let file = File::open(&path).map_err(|_| "its target could not be read")?;
        let mode = file
            .metadata()
            .map_err(|_| "its target could not be read")?
            .permissions()
            .mode();
        Ok((file, mode & 0o111 != 0))
    }

    fn too_large(&self, entry: &str) -> ArchiveError {
        ArchiveError::TooLarge {
            entry: entry.to_owned(),
            limit: self.limits.max_total_bytes,
        }
    }
}

fn make_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).create(path)?;
    // `mkdir` applies the umask; set the mode explicitly. The path was just created as a real
    // folder by us, so following it cannot lead anywhere else.
    fs::set_permissions(path, Permissions::from_mode(DIR_MODE))
}

fn collision(entry: &str, new: &'static str, existing: &Existing) -> ArchiveError {
    ArchiveError::Collision {
        entry: entry.to_owned(),
        new,
        existing: existing.described(),
    }
}

fn write_error(entry: &str, source: io::Error) -> ArchiveError {
    ArchiveError::Write {
        entry: entry.to_owned(),
        source,
    }
}

fn joined(components: &[&[u8]]) -> String {
    shown(&components.join(&b'/'))
}
