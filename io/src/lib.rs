//! # pqe-io
//!
//! Recordings in and out. Every format is read as a stream of [`pqe_core::Block`]s through
//! [`RecordingReader`], so a multi-gigabyte file never has to fit in memory, and written
//! through [`RecordingWriter`]:
//!
//! - [`comtrade`]: IEEE C37.111 / IEC 60255-24, revisions 1991, 1999 and 2013; ASCII,
//!   BINARY, BINARY32 and FLOAT32 data; `.cfg` + `.dat` pairs and single `.cff` files.
//!   Read leniently, written strictly.
//! - [`csv`]: a `t` column then one column per channel, in the channel's unit.
//! - [`hdf5`]: HDF5 with the layout documented in that module.
//!
//! [`open`] and [`create`] choose the format from the file name.

pub mod comtrade;
pub mod csv;
pub mod hdf5;
pub mod table;

use pqe_core::{Block, RecordingInfo, Result};

/// A source of blocks read from a recording.
pub trait RecordingReader: Send {
    /// What the recording holds.
    fn info(&self) -> &RecordingInfo;
    /// The next block of at most `max_samples` samples per channel; `Ok(None)` at the end.
    /// A block never mixes two sampling rates. After an error the reader is not resumed.
    fn read_block(&mut self, max_samples: usize) -> Result<Option<Block>>;
    /// Bytes of sample data consumed so far and in all (for progress bars), where known.
    fn progress(&self) -> (u64, Option<u64>) {
        (0, None)
    }
}

/// A sink that writes blocks to a recording.
pub trait RecordingWriter {
    /// Append a block; its channels must match the [`RecordingInfo`] the writer was made with.
    fn write_block(&mut self, block: &Block) -> Result<()>;
    /// Flush and close, writing whatever depends on the whole stream (headers, counts).
    fn finish(self: Box<Self>) -> Result<()>;
}

use pqe_core::{Error, Location};
use std::path::Path;

/// The recording formats PQE reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// COMTRADE `.cfg` + `.dat` pair (the `.cfg` names the recording).
    ComtradePair,
    /// COMTRADE 2013 single file `.cff`.
    ComtradeCff,
    /// CSV, `t` then one column per channel.
    Csv,
    /// HDF5 (`.h5`, `.hdf5`), layout in [`hdf5`].
    Hdf5,
}

impl FileFormat {
    /// The format a file name says (its extension, case-insensitive). A `.dat` names its
    /// `.cfg`. Anything else is an error that names the file.
    pub fn from_path(path: &Path) -> Result<FileFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "cfg" | "dat" => Ok(FileFormat::ComtradePair),
            "cff" => Ok(FileFormat::ComtradeCff),
            "csv" => Ok(FileFormat::Csv),
            "h5" | "hdf5" | "he5" => Ok(FileFormat::Hdf5),
            _ => Err(Error::format(
                Location::file(path),
                format!(
                    "unknown file type '{}': PQE reads and writes COMTRADE (.cfg/.dat, .cff), \
                     CSV (.csv) and HDF5 (.h5, .hdf5)",
                    if ext.is_empty() {
                        "(no extension)"
                    } else {
                        &ext
                    }
                ),
            )),
        }
    }
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::ComtradePair => "COMTRADE (.cfg/.dat)",
            FileFormat::ComtradeCff => "COMTRADE (.cff)",
            FileFormat::Csv => "CSV",
            FileFormat::Hdf5 => "HDF5",
        }
    }
}

/// How [`create`] writes: the COMTRADE options (ignored by the other formats).
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// COMTRADE data format and revision.
    pub comtrade: comtrade::ComtradeWriteOptions,
}

/// Open a recording for streaming, choosing the reader from the file name.
pub fn open(path: impl AsRef<Path>) -> Result<Box<dyn RecordingReader>> {
    let path = path.as_ref();
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let reader: Box<dyn RecordingReader> = match FileFormat::from_path(path)? {
        FileFormat::ComtradePair => {
            // A .dat names the recording as well as its .cfg does.
            let cfg = if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("dat"))
            {
                let lower = path.with_extension("cfg");
                let upper = path.with_extension("CFG");
                if !lower.exists() && upper.exists() {
                    upper
                } else {
                    lower
                }
            } else {
                path.to_path_buf()
            };
            Box::new(comtrade::ComtradeReader::open(cfg)?)
        }
        FileFormat::ComtradeCff => Box::new(comtrade::ComtradeReader::open(path)?),
        FileFormat::Csv => Box::new(csv::CsvReader::open(path)?),
        FileFormat::Hdf5 => Box::new(hdf5::Hdf5Reader::open(path)?),
    };
    Ok(reader)
}

/// Create a recording for writing, choosing the writer from the file name.
pub fn create(
    path: impl AsRef<Path>,
    info: &RecordingInfo,
    options: WriteOptions,
) -> Result<Box<dyn RecordingWriter>> {
    let path = path.as_ref();
    let writer: Box<dyn RecordingWriter> = match FileFormat::from_path(path)? {
        FileFormat::ComtradePair | FileFormat::ComtradeCff => {
            let path = if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("dat"))
            {
                path.with_extension("cfg")
            } else {
                path.to_path_buf()
            };
            Box::new(comtrade::ComtradeWriter::create(
                path,
                info,
                options.comtrade,
            )?)
        }
        FileFormat::Csv => Box::new(csv::CsvWriter::create(path, info)?),
        FileFormat::Hdf5 => Box::new(hdf5::Hdf5Writer::create(path, info)?),
    };
    Ok(writer)
}
