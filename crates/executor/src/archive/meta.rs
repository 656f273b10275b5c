//! Extended headers: GNU long names and long link names, and pax records. They arrive as
//! entries of their own ahead of the entry they describe. The tar crate would read them whole
//! into memory; here their size is checked first, so one hostile header cannot allocate more
//! than a path's worth (long names) or a megabyte (pax).

use std::borrow::Cow;
use std::io::{self, Read};

use tar::{Entry, EntryType, Header};

use super::error::shown;
use super::{ArchiveError, Limits};

/// The largest pax header read into memory. Real ones hold a path, a link target and a few
/// timestamps or xattrs; a megabyte is generous and bounds memory per entry.
pub(super) const MAX_PAX_BYTES: u64 = 1024 * 1024;

/// Long names and pax records waiting for the entry they describe.
#[derive(Default)]
pub(super) struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// The names and pax facts of one real entry, with the extended headers applied.
pub(super) struct Resolved {
    pub(super) path: Vec<u8>,
    /// Empty when the entry has no link name.
    pub(super) link: Vec<u8>,
    /// The size from a pax `size` record, which would override the header's.
    pub(super) pax_size: Option<u64>,
    /// pax records of the GNU sparse formats (`GNU.sparse.*`) were present.
    pub(super) sparse: bool,
}

impl Pending {
    /// Takes in `entry` if it is a long name, long link or pax header, and says whether it was.
    pub(super) fn absorb<R: Read>(
        &mut self,
        entry: &mut Entry<'_, R>,
        size: u64,
        limits: &Limits,
        fail: &dyn Fn(io::Error) -> ArchiveError,
    ) -> Result<bool, ArchiveError> {
        let kind = entry.header().entry_type();
        match kind {
            EntryType::GNULongName | EntryType::GNULongLink => {
                // GNU long names end with a NUL, hence the extra byte.
                let limit = u64::try_from(limits.max_path_len)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1);
                if size > limit {
                    let start = read_capped(entry, 256, fail)?;
                    return Err(ArchiveError::PathTooLong {
                        entry: shown(trim_nuls(&start)),
                        len: size,
                        max: limits.max_path_len,
                    });
                }
                let data = read_capped(entry, size, fail)?;
                let slot = if kind == EntryType::GNULongName {
                    &mut self.long_name
                } else {
                    &mut self.long_link
                };
                set_once(slot, trim_nuls(&data).to_vec())?;
                Ok(true)
            }
            EntryType::XHeader => {
                if size > MAX_PAX_BYTES {
                    return Err(ArchiveError::MetadataTooLarge {
                        entry: shown(&entry.header().path_bytes()),
                        size,
                        max: MAX_PAX_BYTES,
                    });
                }
                let data = read_capped(entry, size, fail)?;
                set_once(&mut self.pax, data)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// True when extended headers are waiting; at the end of the archive that is an error.
    pub(super) fn is_waiting(&self) -> bool {
        self.long_name.is_some() || self.long_link.is_some() || self.pax.is_some()
    }

    /// Applies the waiting extended headers to the real entry `header`, clearing them. A pax
    /// name wins over a GNU long name, which wins over the header's own name.
    pub(super) fn resolve(&mut self, header: &Header) -> Result<Resolved, ArchiveError> {
        let Self {
            long_name,
            long_link,
            pax,
        } = std::mem::take(self);
        let mut resolved = Resolved {
            path: Vec::new(),
            link: Vec::new(),
            pax_size: None,
            sparse: false,
        };
        let mut pax_path = None;
        let mut pax_link = None;
        let malformed = |detail: String| ArchiveError::NotTarGz {
            reason: format!("an extended (pax) header is malformed ({detail})"),
        };
        for record in tar::PaxExtensions::new(pax.as_deref().unwrap_or_default()) {
            let record = record.map_err(|error| malformed(error.to_string()))?;
            match record.key_bytes() {
                b"path" => pax_path = Some(record.value_bytes().to_vec()),
                b"linkpath" => pax_link = Some(record.value_bytes().to_vec()),
                b"size" => {
                    let size = record
                        .value()
                        .ok()
                        .and_then(|value| value.parse().ok())
                        .ok_or_else(|| malformed("its size is not a number".to_owned()))?;
                    resolved.pax_size = Some(size);
                }
                key if key.starts_with(b"GNU.sparse.") => resolved.sparse = true,
                _ => {}
            }
        }
        resolved.path = pax_path
            .or(long_name)
            .unwrap_or_else(|| header.path_bytes().into_owned());
        resolved.link = pax_link
            .or(long_link)
            .or_else(|| header.link_name_bytes().map(Cow::into_owned))
            .unwrap_or_default();
        Ok(resolved)
    }
}

fn read_capped<R: Read>(
    entry: &mut Entry<'_, R>,
    cap: u64,
    fail: &dyn Fn(io::Error) -> ArchiveError,
) -> Result<Vec<u8>, ArchiveError> {
    let mut data = Vec::new();
    entry.take(cap).read_to_end(&mut data).map_err(fail)?;
    Ok(data)
}

fn set_once(slot: &mut Option<Vec<u8>>, value: Vec<u8>) -> Result<(), ArchiveError> {
    if slot.is_some() {
        return Err(ArchiveError::NotTarGz {
            reason: "two extended headers of the same kind describe one entry".to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

/// GNU long names are stored with a terminating NUL; any NUL left after trimming is refused
/// later as part of the name.
fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|byte| *byte != 0)
        .map_or(0, |at| at + 1);
    &bytes[..end]
}
