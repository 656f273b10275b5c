//! Size, count and length limits, including archives that are tiny compressed and huge
//! decompressed.

use std::fs;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, EntryType, Header};

use super::{ArchiveError, Fixture, Limits, Tar, assert_err, zeros};

const MIB: u64 = 1024 * 1024;

fn small_limits() -> Limits {
    Limits {
        max_total_bytes: MIB,
        max_entries: 10,
        max_path_len: 4096,
    }
}

/// A `tar.gz` with one entry of `len` zero bytes, built streaming so the test never holds
/// the uncompressed bytes.
fn zero_bomb(name: &str, kind: EntryType, len: u64) -> Vec<u8> {
    let mut builder = Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut header = Header::new_gnu();
    header.set_path(name).unwrap();
    header.set_entry_type(kind);
    header.set_size(len);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, zeros(len)).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn gzip_bomb_stops_at_the_byte_budget() {
    let archive = zero_bomb("bomb.bin", EntryType::Regular, 50 * MIB);
    assert!(
        archive.len() < MIB as usize / 4,
        "bomb is {} bytes",
        archive.len()
    );
    let fixture = Fixture::new();
    let started = Instant::now();
    let message = assert_err!(
        fixture.unpack_with(&archive, &small_limits()),
        ArchiveError::TooLarge { .. }
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(message.contains("\"bomb.bin\""), "{message}");
    assert!(message.contains("1 MiB"), "{message}");
    // The header's size would fail up front; what was written must stay within the budget.
    let written = fs::metadata(fixture.dest.join("bomb.bin")).map_or(0, |meta| meta.len());
    assert!(written <= MIB, "{written} bytes written");
}

#[test]
fn bytes_are_counted_as_written_not_as_declared() {
    // Each file fits; together they do not. The header sizes are honest, the count is real.
    let mut tar = Tar::new();
    for index in 0..4 {
        tar = tar.file(&format!("part{index}"), 0o644, &vec![7u8; 300 * 1024]);
    }
    let fixture = Fixture::new();
    let message = assert_err!(
        fixture.unpack_with(&tar.targz(), &small_limits()),
        ArchiveError::TooLarge { .. }
    );
    assert!(message.contains("\"part3\""), "{message}");
    let written: u64 = (0..3)
        .map(|index| {
            fs::metadata(fixture.dest.join(format!("part{index}")))
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(written, 3 * 300 * 1024);
}

#[test]
fn hard_link_copies_count_against_the_budget() {
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("big", 0o644, &vec![1u8; 600 * 1024])
        .hardlink("copy", "big")
        .targz();
    assert_err!(
        fixture.unpack_with(&archive, &small_limits()),
        ArchiveError::TooLarge { .. }
    );
}

#[test]
fn skipped_data_is_bounded_by_the_stream_budget() {
    // A pax global header is skipped without being written, so only the stream budget sees
    // its bytes.
    let archive = zero_bomb("pax_global_header", EntryType::XGlobalHeader, 20 * MIB);
    let fixture = Fixture::new();
    let message = assert_err!(
        fixture.unpack_with(&archive, &small_limits()),
        ArchiveError::DecompressedTooLarge { .. }
    );
    assert!(message.contains("3 MiB"), "{message}");
}

#[test]
fn huge_pax_header_is_refused_before_it_is_read() {
    let archive = zero_bomb("PaxHeaders/x", EntryType::XHeader, 2 * MIB);
    let fixture = Fixture::new();
    assert_err!(
        fixture.unpack(&archive),
        ArchiveError::MetadataTooLarge { .. }
    );
}

#[test]
fn too_many_entries_are_refused() {
    let mut tar = Tar::new();
    for index in 0..10 {
        tar = tar.file(&format!("f{index}"), 0o644, b"x");
    }
    let fixture = Fixture::new();
    let summary = fixture.unpack_with(&tar.targz(), &small_limits()).unwrap();
    assert_eq!(summary.files, 10);

    let mut tar = Tar::new();
    for index in 0..11 {
        tar = tar.file(&format!("f{index}"), 0o644, b"x");
    }
    let fixture = Fixture::new();
    let message = assert_err!(
        fixture.unpack_with(&tar.targz(), &small_limits()),
        ArchiveError::TooManyEntries { .. }
    );
    assert_eq!(
        message,
        "Archive entry \"f10\" goes past the limit of 10 files and folders per deployment."
    );
}

#[test]
fn implied_folders_count_as_entries() {
    // One entry, ten folders: a deep path must not multiply the entry budget.
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("a/b/c/d/e/f/g/h/i/j/k", 0o644, b"x")
        .targz();
    assert_err!(
        fixture.unpack_with(&archive, &small_limits()),
        ArchiveError::TooManyEntries { .. }
    );
}

#[test]
fn too_long_paths_are_refused() {
    let limits = Limits {
        max_path_len: 20,
        ..Limits::default()
    };
    let fixture = Fixture::new();
    let archive = Tar::new()
        .file("exactly-twenty-bytes", 0o644, b"x")
        .file("twenty-one-bytes-long", 0o644, b"x")
        .targz();
    let message = assert_err!(
        fixture.unpack_with(&archive, &limits),
        ArchiveError::PathTooLong { .. }
    );
    assert!(message.contains("21 bytes"), "{message}");

    let fixture = Fixture::new();
    let archive = Tar::new()
        .long_name("x".repeat(5000).as_bytes())
        .file("placeholder", 0o644, b"x")
        .targz();
    assert_err!(fixture.unpack(&archive), ArchiveError::PathTooLong { .. });

    let fixture = Fixture::new();
    let archive = Tar::new().symlink("link", &"a/".repeat(11)).targz();
    assert_err!(
        fixture.unpack_with(&archive, &limits),
        ArchiveError::SymlinkInvalid { .. }
    );
}
