//! Streaming HDF5 writer.

use super::attrs::AttrWriter;
use super::{ANALOG, CHUNK_SAMPLES, DIGITAL, FORMAT, GROUP, TIME_NS};
use crate::RecordingWriter;
use ::hdf5::{Dataset, Extent, File, Group, SimpleExtents};
use pqe_core::{Block, Error, RecordingInfo, Result};
use std::path::{Path, PathBuf};

/// Writes a recording in the layout of [the module documentation](super).
///
/// Blocks are buffered up to [`CHUNK_SAMPLES`] samples per channel and appended a chunk at a
/// time, so memory stays bounded however long the recording. `/recording/time_ns` is
/// written when the recording's rate is 0 or it lists several rate segments.
///
/// ```no_run
/// use pqe_core::{Block, ChannelSpec, RecordingInfo, Timestamp};
/// use pqe_io::RecordingWriter;
/// let info = RecordingInfo::new(vec![ChannelSpec::new("U_A", "V")], 1000.0, Timestamp::EPOCH);
/// let mut writer = pqe_io::hdf5::Hdf5Writer::create("out.h5", &info)?;
/// let block = Block::from_channels(Timestamp::EPOCH, 1000.0, 0, vec![vec![1.0, f64::NAN]])?;
/// writer.write_block(&block)?;
/// Box::new(writer).finish()?;
/// # Ok::<(), pqe_core::Error>(())
/// ```
pub struct Hdf5Writer {
    path: PathBuf,
    info: RecordingInfo,
    file: File,
    analog: Dataset,
    digital: Option<Dataset>,
    time_ns: Option<Dataset>,
    /// Buffered samples, one vector per channel.
    pending_analog: Vec<Vec<f64>>,
    pending_digital: Vec<Vec<u8>>,
    pending_times: Vec<i64>,
    /// Samples buffered per channel.
    pending: usize,
    /// Samples already in the file.
    written: usize,
}

impl Hdf5Writer {
    /// Create (or truncate) `path` and write the group, its attributes and empty datasets for
    /// the channels of `info`.
    pub fn create(path: impl AsRef<Path>, info: &RecordingInfo) -> Result<Hdf5Writer> {
        let path = path.as_ref().to_path_buf();
        let h5 = |what: &str, e: ::hdf5::Error| write_error(&path, what, e);
        let file = File::create(&path).map_err(|e| h5("file", e))?;
        let group = file.create_group(GROUP).map_err(|e| h5("/recording", e))?;
        write_group_attrs(&path, &group, info)?;

        let n_analog = info.channels.len();
        let analog = group
            .new_dataset::<f64>()
            .chunk((1, CHUNK_SAMPLES))
            .shape(SimpleExtents::from_vec(vec![
                Extent::new(n_analog, None),
                Extent::new(0, None),
            ]))
            .create(ANALOG)
            .map_err(|e| h5("/recording/analog", e))?;
        write_analog_attrs(&path, &analog, info)?;

        let n_digital = info.digital_channels.len();
        let digital = if n_digital > 0 {
            let ds = group
                .new_dataset::<u8>()
                .chunk((1, CHUNK_SAMPLES))
                .shape(SimpleExtents::from_vec(vec![
                    Extent::new(n_digital, None),
                    Extent::new(0, None),
                ]))
                .create(DIGITAL)
                .map_err(|e| h5("/recording/digital", e))?;
            write_digital_attrs(&path, &ds, info)?;
            Some(ds)
        } else {
            None
        };

        let timed = info.sample_rate <= 0.0 || info.rate_segments.len() > 1;
        let time_ns = if timed {
            let ds = group
                .new_dataset::<i64>()
                .chunk(CHUNK_SAMPLES)
                .shape(SimpleExtents::from_vec(vec![Extent::new(0, None)]))
                .create(TIME_NS)
                .map_err(|e| h5("/recording/time_ns", e))?;
            Some(ds)
        } else {
            None
        };

        Ok(Hdf5Writer {
            path,
            info: info.clone(),
            file,
            analog,
            digital,
            time_ns,
            pending_analog: vec![Vec::with_capacity(CHUNK_SAMPLES); n_analog],
            pending_digital: vec![Vec::with_capacity(CHUNK_SAMPLES); n_digital],
            pending_times: Vec::new(),
            pending: 0,
            written: 0,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RecordingWriter for Hdf5Writer {
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
        let mut from = 0;
        while from < block.len() {
            let room = CHUNK_SAMPLES - self.pending;
            let to = block.len().min(from + room);
            for (c, pending) in self.pending_analog.iter_mut().enumerate() {
                pending.extend_from_slice(&block.channel(c)[from..to]);
            }
            for (d, pending) in self.pending_digital.iter_mut().enumerate() {
                pending.extend(block.digital(d)[from..to].iter().map(|s| u8::from(*s != 0)));
            }
            if self.time_ns.is_some() {
                let offset = block
                    .start()
                    .as_nanos()
                    .saturating_sub(self.info.start.as_nanos());
                for i in from..to {
                    let t = match block.sample_times() {
                        Some(times) => times[i],
                        None if block.sample_rate() > 0.0 => offset
                            .saturating_add((i as f64 * 1e9 / block.sample_rate()).round() as i64),
                        None => offset,
                    };
                    self.pending_times.push(t);
                }
            }
            self.pending += to - from;
            from = to;
            if self.pending == CHUNK_SAMPLES {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let mut this = *self;
        this.flush()?;
        this.file
            .flush()
            .map_err(|e| write_error(&this.path, "file", e))
    }
}

impl Hdf5Writer {
    /// Append the buffered samples to the datasets.
    fn flush(&mut self) -> Result<()> {
        let n = self.pending;
        if n == 0 {
            return Ok(());
        }
        let (from, to) = (self.written, self.written + n);
        let path = &self.path;
        let h5 = |what: &str, e: ::hdf5::Error| write_error(path, what, e);
        self.analog
            .resize((self.pending_analog.len(), to))
            .map_err(|e| h5("/recording/analog", e))?;
        for (c, pending) in self.pending_analog.iter_mut().enumerate() {
            self.analog
                .write_slice(pending.as_slice(), (c, from..to))
                .map_err(|e| h5("/recording/analog", e))?;
            pending.clear();
        }
        if let Some(ds) = &self.digital {
            ds.resize((self.pending_digital.len(), to))
                .map_err(|e| h5("/recording/digital", e))?;
            for (d, pending) in self.pending_digital.iter_mut().enumerate() {
                ds.write_slice(pending.as_slice(), (d, from..to))
                    .map_err(|e| h5("/recording/digital", e))?;
                pending.clear();
            }
        }
        if let Some(ds) = &self.time_ns {
            ds.resize(to).map_err(|e| h5("/recording/time_ns", e))?;
            ds.write_slice(self.pending_times.as_slice(), from..to)
                .map_err(|e| h5("/recording/time_ns", e))?;
            self.pending_times.clear();
        }
        self.written = to;
        self.pending = 0;
        Ok(())
    }
}

impl Drop for Hdf5Writer {
    /// A writer dropped without [`RecordingWriter::finish`] (after an error elsewhere) still
    /// leaves the samples given to it readable; errors here have nobody to go to.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl std::fmt::Debug for Hdf5Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Writer")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// The attributes of `/recording`.
fn write_group_attrs(path: &Path, group: &Group, info: &RecordingInfo) -> Result<()> {
    let w = AttrWriter {
        path,
        object: "/recording",
        target: group,
    };
    w.string("pqe_format", FORMAT)?;
    w.scalar("sample_rate", info.sample_rate)?;
    w.scalar("start_ns", info.start.as_nanos())?;
    w.string("start", &info.start.to_string())?;
    w.string("station", &info.station)?;
    w.string("device", &info.device)?;
    w.scalar("line_frequency", info.line_frequency)?;
    if let Some(trigger) = info.trigger {
        w.scalar("trigger_ns", trigger.as_nanos())?;
        w.string("trigger", &trigger.to_string())?;
    }
    if let Some(code) = &info.time_code {
        w.string("time_code", code)?;
    }
    if !info.rate_segments.is_empty() {
        let rates: Vec<f64> = info.rate_segments.iter().map(|s| s.0).collect();
        let ends: Vec<u64> = info.rate_segments.iter().map(|s| s.1).collect();
        w.array("rate_segment_rates", &rates)?;
        w.array("rate_segment_ends", &ends)?;
    }
    Ok(())
}

/// The per-channel attributes of `/recording/analog`.
fn write_analog_attrs(path: &Path, ds: &Dataset, info: &RecordingInfo) -> Result<()> {
    let w = AttrWriter {
        path,
        object: "/recording/analog",
        target: ds,
    };
    let ch = &info.channels;
    let floats = |f: fn(&pqe_core::ChannelSpec) -> f64| ch.iter().map(f).collect::<Vec<f64>>();
    w.strings("names", ch.iter().map(|c| c.name.as_str()))?;
    w.strings("units", ch.iter().map(|c| c.unit.as_str()))?;
    let kinds: Vec<String> = ch.iter().map(|c| c.kind.to_string()).collect();
    w.strings("kinds", kinds.iter().map(String::as_str))?;
    w.strings(
        "phases",
        ch.iter().map(|c| c.phase.map_or("", |p| p.as_str())),
    )?;
    w.strings("circuits", ch.iter().map(|c| c.circuit.as_str()))?;
    w.array("ratio_primary", &floats(|c| c.ratio_primary))?;
    w.array("ratio_secondary", &floats(|c| c.ratio_secondary))?;
    w.array(
        "primary",
        &ch.iter().map(|c| u8::from(c.primary)).collect::<Vec<_>>(),
    )?;
    w.array("skew_us", &floats(|c| c.skew_us))?;
    w.array("scale_a", &floats(|c| c.scaling.map_or(f64::NAN, |s| s.a)))?;
    w.array("scale_b", &floats(|c| c.scaling.map_or(f64::NAN, |s| s.b)))?;
    w.array(
        "raw_min",
        &floats(|c| c.raw_range.map_or(f64::NAN, |r| r.0)),
    )?;
    w.array(
        "raw_max",
        &floats(|c| c.raw_range.map_or(f64::NAN, |r| r.1)),
    )
}

/// The per-channel attributes of `/recording/digital`.
fn write_digital_attrs(path: &Path, ds: &Dataset, info: &RecordingInfo) -> Result<()> {
    let w = AttrWriter {
        path,
        object: "/recording/digital",
        target: ds,
    };
    let ch = &info.digital_channels;
    w.strings("names", ch.iter().map(|c| c.name.as_str()))?;
    w.strings("phases", ch.iter().map(|c| c.phase.as_str()))?;
    w.strings("circuits", ch.iter().map(|c| c.circuit.as_str()))?;
    w.array(
        "normal_state",
        &ch.iter().map(|c| c.normal_state).collect::<Vec<_>>(),
    )
}

/// A failed HDF5 write, naming the object.
fn write_error(path: &Path, what: &str, e: ::hdf5::Error) -> Error {
    Error::io(path, std::io::Error::other(format!("{what}: {e}")))
}
