//! Host uid/gid ranges for sandboxes: each live sandbox holds a range of [`RANGE`] ids that no
//! other sandbox on the host holds at the same time, not even one of another server. The
//! range is claimed by an exclusive `flock` on a file named after it in a host-wide directory,
//! so a crashed server's claims vanish with it. A tree the sandbox must write to (a build's
//! code folder) is lent to its range's workload uid for the sandbox's life.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::fcntl::{Flock, FlockArg};

use crate::SandboxError;

/// Ids per sandbox: the namespace's root (0), the workload (1000), and room for a runtime
/// that expects the usual ids to exist.
pub(crate) const RANGE: u32 = 65_536;

#[derive(Debug)]
pub(crate) struct Ranges {
    dir: PathBuf,
    first: u32,
    count: u32,
    /// Where the next search starts, so consecutive claims do not retry the same files.
    cursor: AtomicU32,
}

/// One claimed range; dropping it gives the range back.
#[derive(Debug)]
pub(crate) struct Range {
    pub(crate) first: u32,
    _lock: Flock<File>,
}

impl Ranges {
    pub(crate) fn new(dir: &Path, first: u32, count: u32) -> Result<Self, SandboxError> {
        let last = u64::from(first) + u64::from(count) * u64::from(RANGE);
        if count == 0 || last > u64::from(u32::MAX) {
            return Err(SandboxError::Setup {
                message: format!("{count} uid ranges from {first} do not fit in 32 bits"),
            });
        }
        std::fs::create_dir_all(dir).map_err(|error| SandboxError::Setup {
            message: format!("cannot create {}: {error}", dir.display()),
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            first,
            count,
            cursor: AtomicU32::new(std::process::id() % count),
        })
    }

    /// Claims a free range, or fails when every range is taken.
    pub(crate) fn claim(&self) -> Result<Range, SandboxError> {
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        for step in 0..self.count {
            let index = start.wrapping_add(step) % self.count;
            let path = self.dir.join(index.to_string());
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|error| SandboxError::Setup {
                    message: format!("cannot open {}: {error}", path.display()),
                })?;
            if let Ok(lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                self.cursor.store(index.wrapping_add(1), Ordering::Relaxed);
                return Ok(Range {
                    first: self.first + index * RANGE,
                    _lock: lock,
                });
            }
        }
        Err(SandboxError::Setup {
            message: format!("all {} sandbox uid ranges are in use", self.count),
        })
    }
}

/// Gives a lent bind's whole tree to `uid` (the workload's host uid, also its gid), or
/// back to the server's own user with `None`. Links are changed, never followed, so a link the
/// workload planted cannot hand it anything outside the tree.
pub(crate) fn hand_over(path: &std::path::Path, uid: Option<u32>) {
    let (uid, gid) = uid.map_or_else(
        || {
            (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            )
        },
        |uid| (uid, uid),
    );
    let mut pending = vec![path.to_owned()];
    while let Some(next) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&next) else {
            continue;
        };
        let _ = std::os::unix::fs::lchown(&next, Some(uid), Some(gid));
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&next)
        {
            pending.extend(entries.flatten().map(|entry| entry.path()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let ranges = Ranges::new(dir.path(), 100_000, 2).unwrap();
        let a = ranges.claim().unwrap();
        let b = ranges.claim().unwrap();
        assert_ne!(a.first, b.first);
        assert!(ranges.claim().is_err());
        let freed = a.first;
        drop(a);
        assert_eq!(ranges.claim().unwrap().first, freed);
        assert!(Ranges::new(dir.path(), u32::MAX - 10, 1).is_err());
    }
}
