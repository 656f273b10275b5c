//! Property tests: whatever bytes arrive, the unpacker returns (no panic) and the fixture's
//! containment checks hold. Mutations are applied to the tar stream before compression, with
//! header checksums optionally repaired, so that they reach the tar parsing and the writer
//! instead of dying at the gzip CRC.

use proptest::prelude::*;
use tar::{Archive, EntryType, Header};

use super::super::paths;
use super::{Fixture, Limits, Tar, gz};

fn limits() -> Limits {
    Limits {
        max_total_bytes: 64 * 1024,
        max_entries: 40,
        max_path_len: 200,
    }
}

/// A valid archive using every feature the unpacker accepts, as the seed for mutations.
fn seed_tar() -> Vec<u8> {
    let tar = Tar::new()
        .dir("./")
        .file("./index.js", 0o755, b"module.exports = 1;\n")
        .dir("lib/")
        .file("lib/a.js", 0o644, &[b'a'; 700])
        .symlink("lib/b.js", "a.js")
        .symlink("up", "./index.js")
        .dir("sub/")
        .symlink("sub/up", "../index.js")
        .symlink("node_modules/.bin/x", "../../lib/a.js")
        .hardlink("copy.js", "lib/a.js")
        .pax(&[("path", b"pax/named.txt")])
        .file("placeholder", 0o644, b"pax")
        .long_name(b"long/.//name")
        .file("placeholder", 0o644, b"long");
    let mut builder = tar.builder;
    let mut header = Header::new_gnu();
    header.set_size(0);
    header.set_entry_type(EntryType::Fifo);
    header.set_path("pipe").unwrap();
    header.set_cksum();
    builder.append(&header, &[][..]).unwrap();
    builder.into_inner().unwrap()
}

/// Offsets of the header blocks in an unmutated tar.
fn header_offsets(tar: &[u8]) -> Vec<usize> {
    let mut archive = Archive::new(tar);
    archive
        .entries()
        .unwrap()
        .raw(true)
        .map(|entry| entry.unwrap().raw_header_position() as usize)
        .collect()
}

/// Recomputes the checksum of the 512-byte header at `offset`, the way tar defines it.
fn fix_checksum(tar: &mut [u8], offset: usize) {
    let Some(block) = tar.get_mut(offset..offset + 512) else {
        return;
    };
    block[148..156].fill(b' ');
    let sum: u32 = block.iter().map(|byte| u32::from(*byte)).sum();
    let text = format!("{sum:06o}\0 ");
    block[148..156].copy_from_slice(text.as_bytes());
}

/// Byte values that tend to matter in tar headers: separators, digits, type flags.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        Just(b'/'),
        Just(b'.'),
        Just(0u8),
        (b'0'..=b'7'),
        Just(b'x'),
        Just(b'L'),
        Just(b'S'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_bytes_never_escape(bytes in proptest::collection::vec(any::<u8>(), 0..2048), gzip_magic: bool) {
        let mut bytes = bytes;
        if gzip_magic && bytes.len() >= 2 {
            bytes[..2].copy_from_slice(&[0x1f, 0x8b]);
        }
        let fixture = Fixture::new();
        let _ = fixture.unpack_with(&bytes, &limits());
    }

    #[test]
    fn random_bytes_gzipped_never_escape(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let fixture = Fixture::new();
        let _ = fixture.unpack_with(&gz(&bytes), &limits());
    }

    #[test]
    fn mutated_tar_never_escapes(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), interesting_byte()), 1..12),
        repair_checksums in prop::bool::weighted(0.8),
        header_only in prop::bool::weighted(0.7),
    ) {
        let seed = seed_tar();
        let offsets = header_offsets(&seed);
        let mut tar = seed;
        for (index, byte) in mutations {
            let at = if header_only {
                // Aim inside a header block, where names, types and sizes live.
                let header = offsets[index.index(offsets.len())];
                header + index.index(512)
            } else {
                index.index(tar.len())
            };
            tar[at] = byte;
        }
        if repair_checksums {
            for offset in &offsets {
                fix_checksum(&mut tar, *offset);
            }
        }
        let fixture = Fixture::new();
        let _ = fixture.unpack_with(&gz(&tar), &limits());
    }

    #[test]
    fn mutated_gzip_never_escapes(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate: bool,
    ) {
        let mut bytes = gz(&seed_tar());
        for (index, byte) in mutations {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let fixture = Fixture::new();
        let _ = fixture.unpack_with(&bytes, &limits());
    }

    #[test]
    fn normalised_paths_are_plain_names(raw in proptest::collection::vec(
        prop_oneof![Just(b'/'), Just(b'.'), Just(b'a'), Just(0u8)], 0..24)
    ) {
        if let Ok(components) = paths::normalise(&raw, 4096) {
            for part in components {
                prop_assert!(!part.is_empty());
                prop_assert!(part != b"." && part != b"..");
                prop_assert!(!part.contains(&b'/') && !part.contains(&0));
            }
        }
    }

    #[test]
    fn accepted_link_targets_never_climb_past_the_root(
        parts in proptest::collection::vec(prop_oneof![Just(".."), Just("."), Just("a"), Just("")], 0..8),
        depth in 0usize..4,
    ) {
        let target = parts.join("/");
        if paths::check_symlink_target(target.as_bytes(), depth, 4096).is_ok() {
            let mut level = depth as i64;
            let mut named = false;
            for part in &parts {
                match *part {
                    ".." => {
                        prop_assert!(!named, "{target:?}: `..` after a name");
                        level -= 1;
                    }
                    "a" => { named = true; level += 1; }
                    _ => {}
                }
                prop_assert!(level >= 0, "{target:?} climbs out from depth {depth}");
            }
        }
    }
}

#[test]
fn seed_archive_is_valid_apart_from_its_fifo() {
    // The mutation seed must reach deep into the unpacker: everything but the last entry
    // unpacks, so mutations start from a state that exercises every writer path.
    let fixture = Fixture::new();
    let result = fixture.unpack_with(&gz(&seed_tar()), &limits());
    let error = result.unwrap_err();
    assert!(
        matches!(error, super::ArchiveError::UnsupportedType { .. }),
        "{error}"
    );
}
