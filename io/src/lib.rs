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
