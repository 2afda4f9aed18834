//! # pqe-io
//!
//! Recordings in and out. Every format is read as a stream of [`pqe_core::Block`]s through
//! [`RecordingReader`], so a multi-gigabyte file never has to fit in memory, and written
//! through [`RecordingWriter`]:
//!
//! Each format is a cargo feature (`comtrade`, `csv`, `hdf5`; all on by default), so a build
//! can leave out HDF5 (and libhdf5); result tables ([`table`]) are CSV, and Parquet with
//! the feature `parquet`. The formats are listed in one place, [`formats::FORMATS`]: a new
//! format is one entry there.
//!
//! - [`comtrade`]: IEEE C37.111 / IEC 60255-24, revisions 1991, 1999 and 2013; ASCII,
//!   BINARY, BINARY32 and FLOAT32 data; `.cfg` + `.dat` pairs and single `.cff` files.
//!   Read leniently, written strictly.
//! - [`csv`]: a `t` column then one column per channel, in the channel's unit.
//! - [`hdf5`]: HDF5 with the layout documented in that module.
//!
//! [`open`] and [`create`] choose the format from the file name. [`open_source`] opens a
//! recording as a [`pqe_core::Source`] (the run loop's input: blocks, gaps and warnings as
//! events, progress, cancellation) through [`FileSource`].

#[cfg(feature = "comtrade")]
pub mod comtrade;
#[cfg(feature = "csv")]
pub mod csv;
pub mod decimal;
pub mod formats;
#[cfg(feature = "hdf5")]
pub mod hdf5;
pub mod table;

pub use formats::{FileFormat, FormatEntry};

use pqe_core::{
    block_seconds, Block, CancelToken, Progress, RecordingInfo, Result, Source, SourceEvent,
};

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
    /// The next event of the recording as a [`Source`] hands it out: a block, or a gap or
    /// warning the reader found, in stream order; `Ok(None)` at the end. The default is the
    /// next block of [`RecordingReader::read_block`]; readers that find gaps (an absolute
    /// time column with missing rows) or warnings (a truncated COMTRADE data file) override
    /// it. [`RecordingReader::read_block`] keeps giving only the blocks, whose start times
    /// still show any gap.
    fn next_event(&mut self, max_samples: usize) -> Result<Option<SourceEvent>> {
        Ok(self.read_block(max_samples)?.map(SourceEvent::Block))
    }
}

/// A recording file as a [`Source`]: the blocks of a [`RecordingReader`] with the gaps and
/// warnings the reader found between them, progress in recording time and bytes, and the
/// cancel token checked before every read.
pub struct FileSource {
    reader: Box<dyn RecordingReader>,
    ended: bool,
    seconds: f64,
}

impl FileSource {
    /// The source of an open reader.
    pub fn new(reader: Box<dyn RecordingReader>) -> Self {
        FileSource {
            reader,
            ended: false,
            seconds: 0.0,
        }
    }
    /// What the recording holds (always known for a file).
    pub fn recording_info(&self) -> &RecordingInfo {
        self.reader.info()
    }
    /// The reader underneath.
    pub fn into_reader(self) -> Box<dyn RecordingReader> {
        self.reader
    }
    fn note_time(&mut self, event: &SourceEvent) {
        let start = self.reader.info().start;
        let end = match event {
            SourceEvent::Block(b) => b.start().add_seconds(block_seconds(b)),
            SourceEvent::Gap(g) => g.end,
            SourceEvent::Warning(_) => return,
        };
        self.seconds = self.seconds.max(end.seconds_since(start));
    }
}

impl Source for FileSource {
    fn info(&self) -> Option<&RecordingInfo> {
        Some(self.reader.info())
    }

    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> Result<Option<SourceEvent>> {
        cancel.check()?;
        if self.ended {
            return Ok(None);
        }
        let event = match self.reader.next_event(max_samples) {
            Ok(Some(e)) => Some(e),
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(e) => {
                self.ended = true;
                return Err(e);
            }
        };
        if let Some(e) = &event {
            self.note_time(e);
        }
        Ok(event)
    }

    fn progress(&self) -> Progress {
        let (bytes, total_bytes) = self.reader.progress();
        Progress {
            seconds: self.seconds,
            total_seconds: self.reader.info().duration_seconds(),
            bytes: total_bytes.map(|_| bytes),
            total_bytes,
        }
    }
}

/// Open a recording as a [`Source`], choosing the reader from the file name. Without
/// `options.strict`, incomplete input is read as far as it goes, with a warning and a gap
/// for what is missing (see [`OpenOptions`]).
pub fn open_source(path: impl AsRef<Path>, options: &OpenOptions) -> Result<FileSource> {
    Ok(FileSource::new(open_with(path, options)?))
}

/// A sink that writes blocks to a recording.
pub trait RecordingWriter {
    /// Append a block; its channels must match the [`RecordingInfo`] the writer was made with.
    fn write_block(&mut self, block: &Block) -> Result<()>;
    /// Flush and close, writing whatever depends on the whole stream (headers, counts).
    fn finish(self: Box<Self>) -> Result<()>;
}

use std::path::Path;

/// How a recording is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Refuse input that is not whole (a COMTRADE data file that ends before the last
    /// sample its rates announce; rows missing from an absolute time column) instead of
    /// reading what there is and reporting the rest as a warning and a gap. `pqe --strict`.
    pub strict: bool,
}

impl OpenOptions {
    /// Strict options: incomplete input is an error.
    pub fn strict() -> Self {
        OpenOptions { strict: true }
    }
}

/// How [`create`] writes: the COMTRADE options (ignored by the other formats).
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// COMTRADE data format and revision.
    #[cfg(feature = "comtrade")]
    pub comtrade: comtrade::ComtradeWriteOptions,
}

/// Open a recording for streaming, choosing the reader from the file name. Incomplete
/// input is an error (as with [`OpenOptions::strict`]); [`open_source`] reads it leniently.
pub fn open(path: impl AsRef<Path>) -> Result<Box<dyn RecordingReader>> {
    open_with(path, &OpenOptions::strict())
}

/// Open a recording for streaming with `options`, choosing the reader from the file name
/// through the [`formats`] registry. A missing file is an error saying it does not exist.
pub fn open_with(
    path: impl AsRef<Path>,
    options: &OpenOptions,
) -> Result<Box<dyn RecordingReader>> {
    let path = path.as_ref();
    let open = formats::entry_for(path)?
        .open
        .expect("entry_for returns built formats");
    if !path.exists() {
        return Err(pqe_core::Error::io(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    open(path, options)
}

/// Create a recording for writing, choosing the writer from the file name through the
/// [`formats`] registry.
pub fn create(
    path: impl AsRef<Path>,
    info: &RecordingInfo,
    options: WriteOptions,
) -> Result<Box<dyn RecordingWriter>> {
    let path = path.as_ref();
    let create = formats::entry_for(path)?
        .create
        .expect("entry_for returns built formats");
    create(path, info, &options)
}
