//! Purely lexical checks on the names inside an archive: entry paths, hard-link targets and
//! symbolic-link targets. Nothing here touches the filesystem; the writer re-checks what is
//! actually on disk before every write.

/// Why an entry path (or a hard-link target, which is an entry path too) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathProblem {
    Nul,
    TooLong,
    Absolute,
    /// `..` climbs above the root.
    Escapes,
    /// `..` is present but stays inside. Still refused: see `ArchiveError::ParentComponent`.
    ParentComponent,
}

impl PathProblem {
    /// The same problem worded as the tail of a hard-link message.
    pub(super) fn as_link_reason(self) -> &'static str {
        match self {
            Self::Nul => "its target contains a NUL byte",
            Self::TooLong => "its target is longer than the path limit",
            Self::Absolute | Self::Escapes => "it points outside the deployment",
            Self::ParentComponent => "its target uses \"..\"",
        }
    }
}

/// Splits an archive path into its components, dropping empty ones and `.` so that the
/// `./index.js` many tar tools write becomes `index.js`. The root entry (`./`, `.`) yields no
/// components at all; the caller decides what that means for the entry's type.
pub(super) fn normalise(raw: &[u8], max_len: usize) -> Result<Vec<&[u8]>, PathProblem> {
    if raw.contains(&0) {
        return Err(PathProblem::Nul);
    }
    if raw.len() > max_len {
        return Err(PathProblem::TooLong);
    }
    if raw.first() == Some(&b'/') {
        return Err(PathProblem::Absolute);
    }
    let mut components = Vec::new();
    let mut climbed = false;
    let mut escapes = false;
    for part in raw.split(|byte| *byte == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                climbed = true;
                if components.pop().is_none() {
                    escapes = true;
                }
            }
            name => components.push(name),
        }
    }
    if escapes {
        Err(PathProblem::Escapes)
    } else if climbed {
        Err(PathProblem::ParentComponent)
    } else {
        Ok(components)
    }
}

/// Why a symbolic link's target was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TargetProblem {
    Outside,
    Invalid(&'static str),
}

/// Accepts a symlink target only in the shape `../../some/where`: any number of `..` first,
/// then plain names, and no more `..` than the link has folders above it.
///
/// Resolving `..` lexically is only sound where the kernel would climb the same real folders.
/// The leading `..`s climb out of the link's own folder, which the writer guarantees is made of
/// real folders (nothing is ever unpacked through a link). A `..` after a name could instead
/// climb out of whatever that name is a link to: with `s -> .` in the root, `s/../etc` looks
/// like `etc` but the kernel reads it as `<root>/../etc`. Names after the leading `..`s only
/// descend, and any link they pass through is itself held to this rule, so the whole chain
/// stays inside.
pub(super) fn check_symlink_target(
    target: &[u8],
    parent_depth: usize,
    max_len: usize,
) -> Result<(), TargetProblem> {
    if target.is_empty() {
        return Err(TargetProblem::Invalid("it has no target"));
    }
    if target.contains(&0) {
        return Err(TargetProblem::Invalid("its target contains a NUL byte"));
    }
    if target.len() > max_len {
        return Err(TargetProblem::Invalid(
            "its target is longer than the path limit",
        ));
    }
    if target.first() == Some(&b'/') {
        return Err(TargetProblem::Outside);
    }
    // Track the lexical depth as well, so that a target that climbs out of the root is
    // reported as such even when it also has a `..` in the wrong place.
    let mut depth = parent_depth;
    let mut named = false;
    let mut misplaced_parent = false;
    for part in target.split(|byte| *byte == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                misplaced_parent |= named;
                match depth.checked_sub(1) {
                    Some(up) => depth = up,
                    None => return Err(TargetProblem::Outside),
                }
            }
            _ => {
                named = true;
                depth += 1;
            }
        }
    }
    if misplaced_parent {
        return Err(TargetProblem::Invalid(
            "\"..\" may only appear at the start of a link target",
        ));
    }
    Ok(())
}
