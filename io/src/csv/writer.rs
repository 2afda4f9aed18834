//! CSV writer.

use super::sidecar;
use crate::RecordingWriter;
use pqe_core::{Block, Error, RecordingInfo, Result};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes a CSV recording (see [the module documentation](super)) and its sidecar
/// `<path>.json`.
///
/// The sidecar is written when the writer is created (so a crashed run still leaves a
/// readable pair) and again by [`RecordingWriter::finish`] with the sample count. Blocks must
/// arrive in time order; `t` is computed from each block's start and rate (or its sample
/// times), so for a constant rate it is exactly `k / f_s` printed as the shortest decimal.
///
/// ```no_run
/// use pqe_core::{Block, ChannelSpec, RecordingInfo, Timestamp};
/// use pqe_io::RecordingWriter;
/// let info = RecordingInfo::new(vec![ChannelSpec::new("U_A", "V")], 1000.0, Timestamp::EPOCH);
/// let mut writer = pqe_io::csv::CsvWriter::create("out.csv", &info)?;
/// let block = Block::from_channels(Timestamp::EPOCH, 1000.0, 0, vec![vec![1.0, f64::NAN]])?;
/// writer.write_block(&block)?;
/// Box::new(writer).finish()?;
/// # Ok::<(), pqe_core::Error>(())
/// ```
pub struct CsvWriter {
    path: PathBuf,
    info: RecordingInfo,
    out: ::csv::Writer<BufWriter<File>>,
    numbers: crate::decimal::DecimalBuffer,
    samples: u64,
    /// `t` of the last row written, to refuse blocks that go back in time.
    last_t: Option<f64>,
}

impl CsvWriter {
    /// Create `path` (and its sidecar) and write the header row for the channels of `info`.
    ///
    /// Errors: a channel name is empty, repeated or `t`; the files cannot be written.
    pub fn create(path: impl AsRef<Path>, info: &RecordingInfo) -> Result<CsvWriter> {
        let path = path.as_ref().to_path_buf();
        let names: Vec<&str> = info
            .channels
            .iter()
            .map(|c| c.name.as_str())
            .chain(info.digital_channels.iter().map(|d| d.name.as_str()))
            .collect();
        for (i, name) in names.iter().enumerate() {
            if name.trim().is_empty() || *name != name.trim() {
                return Err(Error::channel(
                    format!("'{name}'"),
                    "a CSV column needs a name without surrounding blanks",
                ));
            }
            if names[..i].contains(name) || name.eq_ignore_ascii_case("t") {
                return Err(Error::channel(
                    *name,
                    "the name is used twice (the time column is t)",
                ));
            }
        }
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(BufWriter::with_capacity(1 << 16, file));
        out.write_record(std::iter::once("t").chain(names.iter().copied()))
            .map_err(|e| write_error(&path, e))?;
        sidecar::write(&path, info, None)?;
        Ok(CsvWriter {
            path,
            info: info.clone(),
            out,
            numbers: crate::decimal::DecimalBuffer::new(),
            samples: 0,
            last_t: None,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RecordingWriter for CsvWriter {
    fn write_block(&mut self, block: &Block) -> Result<()> {
        let (analog, digital) = (self.info.channels.len(), self.info.digital_channels.len());
        if block.n_channels() != analog || block.n_digital() != digital {
            return Err(Error::Config(format!(
                "{}: a block of {} analog and {} digital channels for a recording of {analog} \
                 and {digital}",
                self.path.display(),
                block.n_channels(),
                block.n_digital()
            )));
        }
        for i in 0..block.len() {
            let t = self.time_of(block, i);
            if self.last_t.is_some_and(|last| t <= last) {
                return Err(Error::Config(format!(
                    "{}: blocks out of time order (t = {t} after {})",
                    self.path.display(),
                    self.last_t.unwrap_or_default()
                )));
            }
            self.last_t = Some(t);
            let field = self.numbers.format(t).as_bytes();
            self.out
                .write_field(field)
                .map_err(|e| write_error(&self.path, e))?;
            for c in 0..analog {
                let v = block.channel(c)[i];
                let field: &[u8] = if v.is_nan() {
                    b""
                } else {
                    self.numbers.format(v).as_bytes()
                };
                self.out
                    .write_field(field)
                    .map_err(|e| write_error(&self.path, e))?;
            }
            for d in 0..digital {
                let field: &[u8] = if block.digital(d)[i] == 0 { b"0" } else { b"1" };
                self.out
                    .write_field(field)
                    .map_err(|e| write_error(&self.path, e))?;
            }
            self.out
                .write_record(None::<&[u8]>)
                .map_err(|e| write_error(&self.path, e))?;
            self.samples += 1;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let this = *self;
        let buffered = this
            .out
            .into_inner()
            .map_err(|e| Error::io(&this.path, std::io::Error::other(e.to_string())))?;
        let file = buffered
            .into_inner()
            .map_err(|e| Error::io(&this.path, std::io::Error::other(e.to_string())))?;
        file.sync_all().map_err(|e| Error::io(&this.path, e))?;
        sidecar::write(&this.path, &this.info, Some(this.samples))
    }
}

impl CsvWriter {
    /// Seconds from the recording's start of sample `i` of `block`.
    fn time_of(&self, block: &Block, i: usize) -> f64 {
        let from_start_ns = block
            .start()
            .as_nanos()
            .saturating_sub(self.info.start.as_nanos());
        if let Some(times) = block.sample_times() {
            return times[i] as f64 / 1e9;
        }
        let rate = block.sample_rate();
        if rate <= 0.0 {
            return from_start_ns as f64 / 1e9;
        }
        let uniform = self.info.rate_segments.len() <= 1 && rate == self.info.sample_rate;
        if uniform {
            let first = (from_start_ns as f64 * rate / 1e9).round();
            (first + i as f64) / rate
        } else {
            from_start_ns as f64 / 1e9 + i as f64 / rate
        }
    }
}

impl std::fmt::Debug for CsvWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter")
            .field("path", &self.path)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}

/// A failed write of the CSV data.
fn write_error(path: &Path, e: ::csv::Error) -> Error {
    let message = e.to_string();
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::io(path, io),
        _ => Error::io(path, std::io::Error::other(message)),
    }
}
