//! Archives that try to escape the destination or smuggle in something other than plain files,
//! folders and contained links.

use std::fs;
use std::os::unix::fs::MetadataExt;

use tar::EntryType;

use super::{ArchiveError, Fixture, Tar, assert_err};

#[test]
fn dot_dot_escape_is_refused_with_a_readable_message() {
    let fixture = Fixture::new();
    let archive = Tar::new().file("../evil", 0o644, b"owned").targz();
    let message = assert_err!(fixture.unpack(&archive), ArchiveError::OutsideRoot { .. });
    assert_eq!(
        message,
        "Archive entry \"../evil\" points outside the deployment."
    );
}

#[test]
fn nested_dot_dot_escapes_are_refused() {
    for name in [
        "a/../../victim",
        "./a/b/../../../x",
        "a/../../../../../tmp/x",
    ] {
        let fixture = Fixture::new();
        let archive = Tar::new().file(name, 0o644, b"owned").targz();
        assert_err!(fixture.unpack(&archive), ArchiveError::OutsideRoot { .. });
    }
}

#[test]
fn dot_dot_that_stays_inside_is_refused_too() {
    let fixture = Fixture::new();
    let archive = Tar::new().file("a/../b", 0o644, b"x").targz();
    let message = assert_err!(
        fixture.unpack(&archive),
        ArchiveError::ParentComponent { .. }
    );
    assert!(message.contains("\"a/../b\""), "{message}");
}

#[test]
fn absolute_paths_are_refused() {
    let fixture = Fixture::new();
    let target = fixture.outside().join("escaped");
    let archive = Tar::new()
        .file(target.to_str().unwrap(), 0o644, b"owned")
        .targz();
    let message = assert_err!(fixture.unpack(&archive), ArchiveError::AbsolutePath { .. });
    assert!(message.contains("escaped"), "{message}");
    let archive = Tar::new().dir("/").file("/etc/passwd", 0o644, b"x").targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::AbsolutePath { .. });
}

#[test]
fn nul_in_a_name_is_refused() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .pax(&[("path", b"index.js\0../../victim")])
        .file("placeholder", 0o644, b"x")
        .targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::NulInName { .. });

    let fixture = Fixture::new();
    let archive = Tar::new()
        .long_name(b"good\0/../../victim")
        .file("placeholder", 0o644, b"x")
        .targz();
    let message = assert_err!(fixture.unpack(&archive), ArchiveError::NulInName { .. });
    assert!(message.contains("\\0"), "NUL shown escaped: {message}");
}

#[test]
fn symlink_to_an_absolute_path_is_refused() {
    let fixture = Fixture::new();
    let archive = Tar::new().symlink("passwd", "/etc/passwd").targz();
    let message = assert_err!(
        fixture.unpack(&archive),
        ArchiveError::SymlinkOutside { .. }
    );
    assert_eq!(
        message,
        "Archive entry \"passwd\" is a symbolic link to \"/etc/passwd\", which points outside \
         the deployment; only relative links that stay inside it are allowed."
    );
    assert!(fs::symlink_metadata(fixture.dest.join("passwd")).is_err());
}

#[test]
fn symlinks_climbing_out_are_refused() {
    for (name, target) in [
        ("outside", "../outside"),
        ("victim", "../victim"),
        ("sub/link", "../../victim"),
        ("sub/dot", "./../.."),
        ("sub/sneaky", "x/../../../victim"),
        ("up", ".."),
    ] {
        let fixture = Fixture::new();
        let archive = Tar::new().symlink(name, target).targz();
        assert_err!(
            fixture.unpack(&archive),
            ArchiveError::SymlinkOutside { .. }
        );
    }
}

#[test]
fn relative_symlinks_inside_are_kept() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("lib/real.js", 0o644, b"real")
        .symlink("link", "lib")
        .symlink("lib/alias.js", "real.js")
        .symlink("node_modules/.bin/tool", "../../lib/real.js")
        .symlink("root", ".")
        .symlink("dangling", "not/there/yet")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(summary.files, 1);
    assert_eq!(fixture.read("link/real.js"), b"real");
    assert_eq!(fixture.read("node_modules/.bin/tool"), b"real");
    assert_eq!(fixture.read("lib/alias.js"), b"real");
    let link = fs::read_link(fixture.dest.join("node_modules/.bin/tool")).unwrap();
    assert_eq!(link.to_str(), Some("../../lib/real.js"));
}

#[test]
fn dot_dot_after_a_name_in_a_link_target_is_refused() {
    // With `s -> .`, the target `s/../victim` looks like `victim` but the kernel reads it as
    // `<dest>/../victim`.
    let fixture = Fixture::new();
    let archive = Tar::new()
        .symlink("s", ".")
        .symlink("t", "s/../victim")
        .targz();
    let message = assert_err!(
        fixture.unpack(&archive),
        ArchiveError::SymlinkInvalid { .. }
    );
    assert!(message.contains("\"t\""), "{message}");
}

#[test]
fn nothing_is_written_through_a_symlink() {
    let cases = [
        // An inside link to a folder, then a file through it.
        Tar::new()
            .dir("lib/")
            .symlink("link", "lib")
            .file("link/x.js", 0o644, b"x"),
        // The same with a folder entry.
        Tar::new()
            .dir("lib/")
            .symlink("link", "lib")
            .dir("link/sub/"),
        // A link to the root, then a path through it.
        Tar::new()
            .symlink("root", ".")
            .file("root/victim", 0o644, b"owned"),
        // A refused link never exists, but a dangling inside one might be abused later.
        Tar::new()
            .symlink("later", "sub")
            .file("later/x", 0o644, b"x"),
    ];
    for tar in cases {
        let fixture = Fixture::new();
        let message = assert_err!(
            fixture.unpack(&tar.targz()),
            ArchiveError::ThroughSymlink { .. }
        );
        assert!(message.contains("symbolic link"), "{message}");
    }
}

#[test]
fn a_file_never_replaces_a_symlink() {
    // `l -> victim-inside` is dangling; opening `l` for writing would create its target.
    let fixture = Fixture::new();
    let archive = Tar::new()
        .symlink("l", "victim-inside")
        .file("l", 0o644, b"through")
        .targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::Collision { .. });
    assert!(!fixture.dest.join("victim-inside").exists());
}

#[test]
fn hard_link_outside_is_refused() {
    for target in ["/etc/passwd", "../victim", "a/../../victim"] {
        let fixture = Fixture::new();
        let archive = Tar::new().hardlink("passwd", target).targz();
        let message = assert_err!(
            fixture.unpack(&archive),
            ArchiveError::HardLinkInvalid { .. }
        );
        assert!(message.contains("outside the deployment"), "{message}");
    }
}

#[test]
fn hard_link_inside_becomes_a_copy() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("bin/tool", 0o755, b"#!/bin/sh\necho hi\n")
        .hardlink("bin/tool-alias", "./bin/tool")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(summary.files, 2);
    assert_eq!(summary.bytes, 2 * 18);
    assert_eq!(fixture.read("bin/tool-alias"), b"#!/bin/sh\necho hi\n");
    assert_eq!(fixture.mode("bin/tool-alias"), 0o755);
    let original = fs::metadata(fixture.dest.join("bin/tool")).unwrap();
    let copy = fs::metadata(fixture.dest.join("bin/tool-alias")).unwrap();
    assert_ne!(original.ino(), copy.ino());
}

#[test]
fn hard_links_to_anything_but_an_earlier_file_are_refused() {
    let cases = [
        (Tar::new().hardlink("a", "later"), "not unpacked earlier"),
        (
            Tar::new().dir("d/").hardlink("a", "d"),
            "not a regular file",
        ),
        (Tar::new().hardlink("a", "."), "not a regular file"),
        (
            Tar::new()
                .file("x", 0o644, b"x")
                .symlink("s", "x")
                .hardlink("a", "s"),
            "symbolic link",
        ),
        (
            Tar::new()
                .file("d/x", 0o644, b"x")
                .symlink("s", "d")
                .hardlink("a", "s/x"),
            "symbolic link",
        ),
    ];
    for (tar, reason) in cases {
        let fixture = Fixture::new();
        let message = assert_err!(
            fixture.unpack(&tar.targz()),
            ArchiveError::HardLinkInvalid { .. }
        );
        assert!(message.contains(reason), "{message}");
    }
}

#[test]
fn special_files_are_refused_by_name() {
    let cases = [
        (EntryType::Char, "a character device"),
        (EntryType::Block, "a block device"),
        (EntryType::Fifo, "a named pipe"),
        (EntryType::GNUSparse, "a GNU sparse file"),
        (EntryType::Continuous, "a contiguous file"),
        (EntryType::new(b'Z'), "unknown type"),
    ];
    for (kind, described) in cases {
        let fixture = Fixture::new();
        let archive = Tar::new()
            .file("ok.txt", 0o644, b"fine")
            .raw(b"dev/thing", kind, 0o666, b"", b"")
            .targz();
        let message = assert_err!(
            fixture.unpack(&archive),
            ArchiveError::UnsupportedType { .. }
        );
        assert!(
            message.starts_with("Archive entry \"dev/thing\" is "),
            "{message}"
        );
        assert!(message.contains(described), "{message}");
    }
}

#[test]
fn pax_sparse_files_are_refused() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .pax(&[("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")])
        .file("GNUSparseFile.0/data", 0o644, b"map")
        .targz();
    assert_err!(
        fixture.unpack(&archive),
        ArchiveError::UnsupportedType { .. }
    );
}

#[test]
fn file_and_folder_collisions_are_refused() {
    let cases = [
        Tar::new().file("a", 0o644, b"a").dir("a/"),
        Tar::new().dir("a/").file("a", 0o644, b"a"),
        Tar::new().file("d/x", 0o644, b"x").file("d", 0o644, b"d"),
        Tar::new().dir("a/").symlink("a", "b"),
        Tar::new().symlink("a", "b").dir("a"),
        Tar::new().file("a", 0o644, b"a").symlink("a", "b"),
    ];
    for tar in cases {
        let fixture = Fixture::new();
        let message = assert_err!(fixture.unpack(&tar.targz()), ArchiveError::Collision { .. });
        assert!(message.contains("earlier entry"), "{message}");
    }
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("f", 0o644, b"f")
        .file("f/x", 0o644, b"x")
        .targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::NotADirectory { .. });
}

#[test]
fn entries_without_a_name_are_refused() {
    for (name, kind) in [(&b"."[..], EntryType::Regular), (b"./", EntryType::Symlink)] {
        let fixture = Fixture::new();
        let archive = Tar::new().raw(name, kind, 0o644, b"x", b"").targz();
        assert_err!(fixture.unpack(&archive), ArchiveError::EmptyName { .. });
    }
}

#[test]
fn conflicting_pax_size_is_refused() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .pax(&[("size", b"3")])
        .file("a", 0o644, b"abcdef")
        .targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::NotTarGz { .. });
}

#[test]
fn dangling_extended_header_is_refused() {
    let fixture = Fixture::new();
    let archive = Tar::new().long_name(b"nobody").targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::NotTarGz { .. });
}
