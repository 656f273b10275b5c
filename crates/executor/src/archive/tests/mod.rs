//! Tests for the unpacker. Hostile archives are built here, byte by byte where the `tar`
//! crate's builder would refuse them, and every unpack runs in a fixture that checks nothing
//! appeared or changed next to the destination and that every link left inside it resolves
//! inside it.

mod hostile;
mod limits;
mod prop;

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, EntryType, Header};
use tempfile::TempDir;

use super::{ArchiveError, Limits, Summary, unpack};

const VICTIM: &[u8] = b"precious, must never change\n";

/// A temporary folder holding the destination, the uploaded archive and a victim file that
/// an escaping archive would be likely to hit.
struct Fixture {
    tmp: TempDir,
    dest: PathBuf,
    archive: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        fs::create_dir(&dest).unwrap();
        fs::write(tmp.path().join("victim"), VICTIM).unwrap();
        let archive = tmp.path().join("upload.tar.gz");
        Self { tmp, dest, archive }
    }

    fn outside(&self) -> &Path {
        self.tmp.path()
    }

    fn unpack(&self, bytes: &[u8]) -> Result<Summary, ArchiveError> {
        self.unpack_with(bytes, &Limits::default())
    }

    fn unpack_with(&self, bytes: &[u8], limits: &Limits) -> Result<Summary, ArchiveError> {
        fs::write(&self.archive, bytes).unwrap();
        let result = unpack(&self.archive, &self.dest, limits);
        self.assert_contained();
        result
    }

    /// Nothing but our three names next to the destination, the victim intact, and inside the
    /// destination only files, folders and links that resolve inside, with sanitised modes.
    fn assert_contained(&self) {
        let mut names: Vec<String> = fs::read_dir(self.outside())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["dest", "upload.tar.gz", "victim"]);
        let victim = self.outside().join("victim");
        assert!(fs::symlink_metadata(&victim).unwrap().is_file());
        assert_eq!(fs::read(&victim).unwrap(), VICTIM);

        let root = fs::canonicalize(&self.dest).unwrap();
        assert!(fs::symlink_metadata(&self.dest).unwrap().is_dir());
        let mut stack = vec![self.dest.clone()];
        while let Some(folder) = stack.pop() {
            for entry in fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                let meta = fs::symlink_metadata(&path).unwrap();
                let mode = meta.permissions().mode() & 0o7777;
                if meta.file_type().is_symlink() {
                    if let Ok(real) = fs::canonicalize(&path) {
                        assert!(real.starts_with(&root), "{path:?} resolves to {real:?}");
                    }
                } else if meta.is_dir() {
                    assert_eq!(mode, 0o755, "{path:?}");
                    stack.push(path);
                } else {
                    assert!(meta.is_file(), "{path:?} is neither file, folder nor link");
                    assert!(mode == 0o644 || mode == 0o755, "{path:?} has mode {mode:o}");
                    assert_eq!(meta.nlink(), 1, "{path:?} shares its inode");
                }
            }
        }
    }

    fn read(&self, relative: &str) -> Vec<u8> {
        fs::read(self.dest.join(relative)).unwrap()
    }

    fn mode(&self, relative: &str) -> u32 {
        fs::symlink_metadata(self.dest.join(relative))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }
}

/// Builds tar streams, including ones no well-behaved tool would write.
struct Tar {
    builder: Builder<Vec<u8>>,
}

impl Tar {
    fn new() -> Self {
        Self {
            builder: Builder::new(Vec::new()),
        }
    }

    /// Appends an entry whose name and link name are copied verbatim into the header, which
    /// is how `..`, absolute paths and the like get past the builder's own checks.
    fn raw(mut self, name: &[u8], kind: EntryType, mode: u32, link: &[u8], data: &[u8]) -> Self {
        let mut header = Header::new_gnu();
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(0);
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    fn file(self, name: &str, mode: u32, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), EntryType::Regular, mode, b"", data)
    }

    fn dir(self, name: &str) -> Self {
        self.raw(name.as_bytes(), EntryType::Directory, 0o755, b"", b"")
    }

    fn symlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Symlink,
            0o777,
            target.as_bytes(),
            b"",
        )
    }

    fn hardlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Link,
            0o644,
            target.as_bytes(),
            b"",
        )
    }

    /// A GNU long-name entry: the next entry's name, NUL-terminated as GNU tar writes it.
    fn long_name(self, name: &[u8]) -> Self {
        let mut data = name.to_vec();
        data.push(0);
        self.raw(b"././@LongLink", EntryType::GNULongName, 0o644, b"", &data)
    }

    fn pax(mut self, records: &[(&str, &[u8])]) -> Self {
        self.builder
            .append_pax_extensions(records.iter().copied())
            .unwrap();
        self
    }

    fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }

    fn targz(self) -> Vec<u8> {
        gz(&self.tar())
    }
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Asserts the error's variant with a pattern and returns its user-facing text.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {{
        match $result {
            Err(error @ $pattern) => error.to_string(),
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    }};
}
use assert_err;

#[test]
fn happy_path_normalises_names_and_sanitises_modes() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .dir("./")
        .file("./index.js", 0o644, b"console.log('hi')\n")
        .raw(b"./lib/", EntryType::Directory, 0o1777, b"", b"")
        .file("./lib/util/deep.js", 0o664, b"deep")
        .file("bin/run.sh", 0o4755, b"#!/bin/sh\n")
        .file("data.txt", 0o2666, b"data")
        .file("others-may-run", 0o601, b"x")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(
        summary,
        Summary {
            files: 5,
            directories: 3,
            bytes: 18 + 4 + 10 + 4 + 1,
        }
    );
    assert_eq!(fixture.read("index.js"), b"console.log('hi')\n");
    assert_eq!(fixture.read("lib/util/deep.js"), b"deep");
    assert_eq!(fixture.mode("index.js"), 0o644);
    assert_eq!(fixture.mode("lib"), 0o755, "sticky bit dropped");
    assert_eq!(fixture.mode("lib/util"), 0o755, "implied folder");
    assert_eq!(fixture.mode("lib/util/deep.js"), 0o644);
    assert_eq!(
        fixture.mode("bin/run.sh"),
        0o755,
        "setuid dropped, exec kept"
    );
    assert_eq!(fixture.mode("data.txt"), 0o644, "setgid dropped");
    assert_eq!(fixture.mode("others-may-run"), 0o755);
}

#[test]
fn long_names_pax_paths_and_global_headers_are_understood() {
    let fixture = Fixture::new();
    let long = format!("deep/{}/file.txt", "n".repeat(150));
    let mut builder = Builder::new(Vec::new());
    // `git archive` opens with a pax global header carrying the commit id.
    let comment = b"52 comment=0123456789abcdef0123456789abcdef01234567\n";
    let mut global = Header::new_ustar();
    global.set_path("pax_global_header").unwrap();
    global.set_entry_type(EntryType::XGlobalHeader);
    global.set_size(comment.len() as u64);
    global.set_cksum();
    builder.append(&global, &comment[..]).unwrap();
    let mut header = Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, &long, &b"long"[..])
        .unwrap();
    let archive = Tar { builder }
        .pax(&[("path", b"from-pax.txt"), ("mtime", b"1.5")])
        .file("ignored-name", 0o644, b"pax")
        .raw(b"old-style-dir/", EntryType::Regular, 0o644, b"", b"")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(summary.files, 2);
    assert_eq!(fixture.read(&long), b"long");
    assert_eq!(fixture.read("from-pax.txt"), b"pax");
    assert!(!fixture.dest.join("ignored-name").exists());
    assert!(fixture.dest.join("old-style-dir").is_dir());
    assert!(!fixture.dest.join("pax_global_header").exists());
}

#[test]
fn later_file_replaces_earlier_one() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("a.txt", 0o755, b"one")
        .file("./a.txt", 0o644, b"two")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(
        summary,
        Summary {
            files: 1,
            directories: 0,
            bytes: 6,
        }
    );
    assert_eq!(fixture.read("a.txt"), b"two");
    assert_eq!(fixture.mode("a.txt"), 0o644);
}

#[test]
fn folder_listed_after_its_contents_is_fine() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("src/main.py", 0o644, b"print(1)")
        .dir("src/")
        .dir("src")
        .targz();
    let summary = fixture.unpack(&archive).unwrap();
    assert_eq!(summary.directories, 1);
}

#[test]
fn empty_archives_unpack_to_nothing() {
    for archive in [Tar::new().targz(), gz(b"")] {
        let fixture = Fixture::new();
        let summary = fixture.unpack(&archive).unwrap();
        assert_eq!(
            summary,
            Summary {
                files: 0,
                directories: 0,
                bytes: 0,
            }
        );
        assert_eq!(fs::read_dir(&fixture.dest).unwrap().count(), 0);
    }
}

#[test]
fn only_gzip_is_accepted() {
    let valid = Tar::new().file("index.js", 0o644, &[b'x'; 4000]).targz();
    let mut corrupt = valid.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty file", Vec::new()),
        (
            "random bytes",
            (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        ("zip", b"PK\x03\x04\x14\x00\x00\x00rest of a zip".to_vec()),
        ("plain tar", Tar::new().file("index.js", 0o644, b"x").tar()),
        ("truncated half", valid[..valid.len() / 2].to_vec()),
        ("truncated trailer", valid[..valid.len() - 4].to_vec()),
        ("corrupt byte", corrupt),
        ("magic only", vec![0x1f, 0x8b]),
        ("gzip of not-a-tar", gz(b"hello, this is not a tar")),
    ];
    for (label, bytes) in cases {
        let fixture = Fixture::new();
        let message = assert_err!(fixture.unpack(&bytes), ArchiveError::NotTarGz { .. });
        assert!(
            message.starts_with("The deployment is not a valid tar.gz archive: "),
            "{label}: {message}"
        );
        if label == "plain tar" {
            assert!(message.contains("uncompressed tar"), "{message}");
        }
    }
}

#[test]
fn destination_must_be_an_existing_empty_folder() {
    let fixture = Fixture::new();
    let archive = Tar::new().file("a", 0o644, b"a").targz();
    fs::write(&fixture.archive, &archive).unwrap();
    let limits = Limits::default();

    let missing = fixture.outside().join("missing");
    let message = assert_err!(
        unpack(&fixture.archive, &missing, &limits),
        ArchiveError::Destination { .. }
    );
    assert!(message.contains("does not exist"), "{message}");

    let victim = fixture.outside().join("victim");
    assert_err!(
        unpack(&fixture.archive, &victim, &limits),
        ArchiveError::Destination { .. }
    );

    fs::write(fixture.dest.join("leftover"), b"").unwrap();
    let message = assert_err!(
        unpack(&fixture.archive, &fixture.dest, &limits),
        ArchiveError::Destination { .. }
    );
    assert!(message.contains("not empty"), "{message}");
}

#[test]
fn missing_archive_is_an_open_error() {
    let fixture = Fixture::new();
    let result = unpack(
        &fixture.outside().join("nope.tar.gz"),
        &fixture.dest,
        &Limits::default(),
    );
    assert_err!(result, ArchiveError::Open { .. });
}

#[test]
fn limits_default_to_the_documented_values() {
    let limits = Limits::default();
    assert_eq!(limits.max_total_bytes, 512 * 1024 * 1024);
    assert_eq!(limits.max_entries, 100_000);
    assert_eq!(limits.max_path_len, 4096);
}

/// Streams `len` zero bytes through a reader, so big archives never sit in memory raw.
fn zeros(len: u64) -> impl Read {
    io::repeat(0).take(len)
}
