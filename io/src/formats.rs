//! The recording formats PQE reads and writes, in one place: [`FORMATS`] lists each with its
//! name, the file extensions that name it, and how to open and create it. [`crate::open`],
//! [`crate::create`], `pqe inspect` and `pqe batch` all look formats up here, so a new format
//! is one entry in [`FORMATS`] (and a variant of [`FileFormat`]), nothing else.
//!
//! A format left out of the build (its cargo feature off) is still recognised by its
//! extensions, and opening it is an error that names the feature.

use crate::{OpenOptions, RecordingReader, RecordingWriter, WriteOptions};
use pqe_core::{Error, Location, RecordingInfo, Result};
use std::path::Path;

/// The recording formats PQE knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileFormat {
    /// COMTRADE `.cfg` + `.dat` pair (the `.cfg` names the recording).
    ComtradePair,
    /// COMTRADE 2013 single file `.cff`.
    ComtradeCff,
    /// CSV, a time column then one column per channel.
    Csv,
    /// HDF5 (`.h5`, `.hdf5`), layout in the `hdf5` module.
    Hdf5,
}

/// Opens a recording file with options.
pub type OpenFn = fn(&Path, &OpenOptions) -> Result<Box<dyn RecordingReader>>;
/// Creates a recording file for writing.
pub type CreateFn = fn(&Path, &RecordingInfo, &WriteOptions) -> Result<Box<dyn RecordingWriter>>;

/// One recording format: what it is called, which extensions name it, and how it is read
/// and written.
#[derive(Clone, Copy)]
pub struct FormatEntry {
    /// Which format.
    pub format: FileFormat,
    /// A short name for messages and `pqe inspect`.
    pub name: &'static str,
    /// Extensions (lower case, without the dot) that name a recording of this format.
    pub extensions: &'static [&'static str],
    /// Extensions that name a file of a recording, not the recording itself (`.dat` beside
    /// its `.cfg`): opened through the recording's name, skipped when listing a folder.
    pub companion_extensions: &'static [&'static str],
    /// The cargo feature of pqe-io that builds it.
    pub feature: &'static str,
    /// Open for reading; `None` when the feature is off.
    pub open: Option<OpenFn>,
    /// Create for writing; `None` when the feature is off.
    pub create: Option<CreateFn>,
}

impl std::fmt::Debug for FormatEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatEntry")
            .field("format", &self.format)
            .field("name", &self.name)
            .field("extensions", &self.extensions)
            .field("built", &self.open.is_some())
            .finish()
    }
}

/// Every recording format, in the order messages list them.
pub static FORMATS: &[FormatEntry] = &[
    FormatEntry {
        format: FileFormat::ComtradePair,
        name: "COMTRADE (.cfg/.dat)",
        extensions: &["cfg"],
        companion_extensions: &["dat"],
        feature: "comtrade",
        #[cfg(feature = "comtrade")]
        open: Some(comtrade_entry::open_pair),
        #[cfg(not(feature = "comtrade"))]
        open: None,
        #[cfg(feature = "comtrade")]
        create: Some(comtrade_entry::create_pair),
        #[cfg(not(feature = "comtrade"))]
        create: None,
    },
    FormatEntry {
        format: FileFormat::ComtradeCff,
        name: "COMTRADE (.cff)",
        extensions: &["cff"],
        companion_extensions: &[],
        feature: "comtrade",
        #[cfg(feature = "comtrade")]
        open: Some(comtrade_entry::open_cff),
        #[cfg(not(feature = "comtrade"))]
        open: None,
        #[cfg(feature = "comtrade")]
        create: Some(comtrade_entry::create_cff),
        #[cfg(not(feature = "comtrade"))]
        create: None,
    },
    FormatEntry {
        format: FileFormat::Csv,
        name: "CSV",
        extensions: &["csv"],
        companion_extensions: &[],
        feature: "csv",
        #[cfg(feature = "csv")]
        open: Some(|path, options| Ok(Box::new(crate::csv::CsvReader::open_with(path, options)?))),
        #[cfg(not(feature = "csv"))]
        open: None,
        #[cfg(feature = "csv")]
        create: Some(|path, info, _| Ok(Box::new(crate::csv::CsvWriter::create(path, info)?))),
        #[cfg(not(feature = "csv"))]
        create: None,
    },
    FormatEntry {
        format: FileFormat::Hdf5,
        name: "HDF5",
        extensions: &["h5", "hdf5", "he5"],
        companion_extensions: &[],
        feature: "hdf5",
        #[cfg(feature = "hdf5")]
        open: Some(|path, _| Ok(Box::new(crate::hdf5::Hdf5Reader::open(path)?))),
        #[cfg(not(feature = "hdf5"))]
        open: None,
        #[cfg(feature = "hdf5")]
        create: Some(|path, info, _| Ok(Box::new(crate::hdf5::Hdf5Writer::create(path, info)?))),
        #[cfg(not(feature = "hdf5"))]
        create: None,
    },
];

#[cfg(feature = "comtrade")]
mod comtrade_entry {
    use super::*;
    use crate::comtrade::{ComtradeReader, ComtradeWriter};
    use std::path::PathBuf;

    /// A `.dat` names the recording as its `.cfg` does (`.cfg` or `.CFG` beside it).
    fn cfg_of(path: &Path) -> PathBuf {
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("dat"))
        {
            return path.to_path_buf();
        }
        let lower = path.with_extension("cfg");
        let upper = path.with_extension("CFG");
        if !lower.exists() && upper.exists() {
            upper
        } else {
            lower
        }
    }
    pub(super) fn open_pair(
        path: &Path,
        options: &OpenOptions,
    ) -> Result<Box<dyn RecordingReader>> {
        Ok(Box::new(ComtradeReader::open_with(cfg_of(path), options)?))
    }
    pub(super) fn open_cff(path: &Path, options: &OpenOptions) -> Result<Box<dyn RecordingReader>> {
        Ok(Box::new(ComtradeReader::open_with(path, options)?))
    }
    pub(super) fn create_pair(
        path: &Path,
        info: &RecordingInfo,
        options: &WriteOptions,
    ) -> Result<Box<dyn RecordingWriter>> {
        let path = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("dat"))
        {
            path.with_extension("cfg")
        } else {
            path.to_path_buf()
        };
        Ok(Box::new(ComtradeWriter::create(
            path,
            info,
            options.comtrade,
        )?))
    }
    pub(super) fn create_cff(
        path: &Path,
        info: &RecordingInfo,
        options: &WriteOptions,
    ) -> Result<Box<dyn RecordingWriter>> {
        Ok(Box::new(ComtradeWriter::create(
            path,
            info,
            options.comtrade,
        )?))
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// The entry of the format a file name says (its extension, case-insensitive; a companion
/// such as `.dat` names its recording's format). An unknown extension is an error naming the
/// file and listing the formats; a format left out of this build is an error naming its
/// feature.
pub fn entry_for(path: &Path) -> Result<&'static FormatEntry> {
    let entry = lookup(path)?;
    if entry.open.is_none() {
        return Err(Error::Unsupported(format!(
            "{}: this build of PQE reads no {} (cargo feature `{}` of pqe-io)",
            path.display(),
            entry.name,
            entry.feature
        )));
    }
    Ok(entry)
}

fn lookup(path: &Path) -> Result<&'static FormatEntry> {
    let ext = extension(path);
    FORMATS
        .iter()
        .find(|f| {
            f.extensions.contains(&ext.as_str()) || f.companion_extensions.contains(&ext.as_str())
        })
        .ok_or_else(|| {
            let known: Vec<String> = FORMATS
                .iter()
                .map(|f| {
                    let exts: Vec<String> = f
                        .extensions
                        .iter()
                        .chain(f.companion_extensions)
                        .map(|e| format!(".{e}"))
                        .collect();
                    format!("{} ({})", f.name, exts.join(", "))
                })
                .collect();
            Error::format(
                Location::file(path),
                format!(
                    "unknown file type '{}': PQE reads and writes {}",
                    if ext.is_empty() {
                        "(no extension)"
                    } else {
                        &ext
                    },
                    known.join(", ")
                ),
            )
        })
}

/// True when `path` names a recording by itself (a `.cfg`, `.cff`, `.csv`, `.h5`, … but not
/// a `.dat`, which its `.cfg` names): what a folder listing (`pqe batch`) picks.
pub fn names_a_recording(path: &Path) -> bool {
    let ext = extension(path);
    FORMATS
        .iter()
        .any(|f| f.open.is_some() && f.extensions.contains(&ext.as_str()))
}

impl FileFormat {
    /// The format a file name says (see [`entry_for`]); known even when left out of this
    /// build.
    pub fn from_path(path: &Path) -> Result<FileFormat> {
        lookup(path).map(|e| e.format)
    }
    /// The format's registry entry.
    pub fn entry(self) -> &'static FormatEntry {
        FORMATS
            .iter()
            .find(|e| e.format == self)
            .expect("every FileFormat has an entry in FORMATS")
    }
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        self.entry().name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_entry_and_extensions_are_unique() {
        for f in [
            FileFormat::ComtradePair,
            FileFormat::ComtradeCff,
            FileFormat::Csv,
            FileFormat::Hdf5,
        ] {
            assert_eq!(FORMATS.iter().filter(|e| e.format == f).count(), 1, "{f:?}");
        }
        let mut all: Vec<&str> = FORMATS
            .iter()
            .flat_map(|e| e.extensions.iter().chain(e.companion_extensions))
            .copied()
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "an extension names two formats");
    }

    #[test]
    fn names_and_errors() {
        assert_eq!(
            FileFormat::from_path(Path::new("a/REC.DAT")).unwrap(),
            FileFormat::ComtradePair
        );
        assert_eq!(FileFormat::Hdf5.name(), "HDF5");
        let e = FileFormat::from_path(Path::new("x.xlsx"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.xlsx") && e.contains("unknown file type 'xlsx'"),
            "{e}"
        );
        assert!(e.contains("COMTRADE (.cfg/.dat) (.cfg, .dat)"), "{e}");
        assert!(names_a_recording(Path::new("r.cfg")) || cfg!(not(feature = "comtrade")));
        assert!(!names_a_recording(Path::new("r.dat")));
        assert!(!names_a_recording(Path::new("r.txt")));
    }
}
