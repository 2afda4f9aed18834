//! Streaming HDF5 reader.

use super::attrs::AttrReader;
use super::{ANALOG, CHUNK_SAMPLES, DIGITAL, FORMAT, GROUP, TIME_NS};
use crate::RecordingReader;
use ::hdf5::{Dataset, File, Group};
use pqe_core::{
    Block, BlockBuilder, ChannelKind, ChannelSpec, DigitalChannelSpec, Error, LinearScaling,
    Location, Phase, RecordingInfo, Result, Timestamp,
};
use std::path::{Path, PathBuf};

/// Reads a recording in the layout of [the module documentation](super) block by block.
///
/// Metadata is read when the file opens; samples are read as hyperslabs of at most
/// [`CHUNK_SAMPLES`] samples (or the block size asked for, when larger), so memory is
/// bounded by the block size and the channel count, never by the file.
///
/// ```no_run
/// use pqe_io::RecordingReader;
/// let mut reader = pqe_io::hdf5::Hdf5Reader::open("rec.h5")?;
/// while let Some(block) = reader.read_block(4096)? {
///     println!("{} samples from {}", block.len(), block.start());
/// }
/// # Ok::<(), pqe_core::Error>(())
/// ```
pub struct Hdf5Reader {
    path: PathBuf,
    info: RecordingInfo,
    analog: Dataset,
    digital: Option<Dataset>,
    time_ns: Option<Dataset>,
    total: u64,
    next: u64,
    /// Samples read ahead: `buffer_len` samples per channel from sample `buffer_start`.
    buffer_start: u64,
    buffer_len: usize,
    buffer_analog: Vec<f64>,
    buffer_digital: Vec<u8>,
    buffer_times: Vec<i64>,
    finished: bool,
    /// Keeps the file open while the datasets are read.
    _file: File,
}

impl Hdf5Reader {
    /// Open `path` and read its metadata.
    ///
    /// Errors name the file and the group, dataset or attribute at fault: a missing
    /// `/recording` group or `/recording/analog` dataset, a missing required attribute
    /// (`pqe_format`, `sample_rate`, `start_ns`, `names`), per-channel attributes whose length
    /// is not the channel count, datasets whose shapes disagree.
    pub fn open(path: impl AsRef<Path>) -> Result<Hdf5Reader> {
        let path = path.as_ref().to_path_buf();
        let loc = Location::file(&path);
        // The operating system's refusal (missing file, no permission) comes first.
        std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let file = File::open(&path)
            .map_err(|e| Error::format(loc.clone(), format!("not an HDF5 file: {e}")))?;
        let group = file.group(GROUP).map_err(|_| {
            Error::format(
                loc.field("/recording"),
                "group missing (not a PQE recording: see docs/formats.md)",
            )
        })?;
        let analog = open_dataset(&path, &group, ANALOG)?
            .ok_or_else(|| Error::format(loc.field("/recording/analog"), "dataset missing"))?;
        let digital = open_dataset(&path, &group, DIGITAL)?;
        let time_ns = open_dataset(&path, &group, TIME_NS)?;

        let (n_analog, total) = shape_2d(&path, &analog, "/recording/analog")?;
        let mut info = read_group_attrs(&path, &group)?;
        info.channels = read_analog_attrs(&path, &analog, n_analog)?;
        if let Some(ds) = &digital {
            let (n_digital, samples) = shape_2d(&path, ds, "/recording/digital")?;
            check_samples(&path, "/recording/digital", samples, total)?;
            info.digital_channels = read_digital_attrs(&path, ds, n_digital)?;
        }
        if let Some(ds) = &time_ns {
            let shape = ds.shape();
            if shape.len() != 1 {
                return Err(Error::format(
                    loc.field("/recording/time_ns"),
                    format!("{}-D where 1-D (samples) is expected", shape.len()),
                ));
            }
            check_samples(&path, "/recording/time_ns", shape[0], total)?;
        } else if info.sample_rate <= 0.0 {
            return Err(Error::format(
                loc.field("/recording/time_ns"),
                "dataset missing: sample_rate is 0, so each sample needs its time",
            ));
        }
        info.total_samples = Some(total as u64);

        Ok(Hdf5Reader {
            path,
            info,
            analog,
            digital,
            time_ns,
            total: total as u64,
            next: 0,
            buffer_start: 0,
            buffer_len: 0,
            buffer_analog: Vec::new(),
            buffer_digital: Vec::new(),
            buffer_times: Vec::new(),
            finished: false,
            _file: file,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RecordingReader for Hdf5Reader {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, max_samples: usize) -> Result<Option<Block>> {
        if self.finished || self.next >= self.total {
            return Ok(None);
        }
        let (rate, room) = self.segment_at(self.next);
        let n = (max_samples.max(1) as u64)
            .min(self.total - self.next)
            .min(room) as usize;
        if let Err(e) = self.fill(n) {
            self.finished = true;
            return Err(e);
        }
        let off = (self.next - self.buffer_start) as usize;
        let len = self.buffer_len;
        let analog: Vec<f64> = (0..self.info.channels.len())
            .flat_map(|c| {
                self.buffer_analog[c * len + off..c * len + off + n]
                    .iter()
                    .copied()
            })
            .collect();
        let digital: Vec<u8> = (0..self.info.digital_channels.len())
            .flat_map(|d| {
                self.buffer_digital[d * len + off..d * len + off + n]
                    .iter()
                    .copied()
            })
            .collect();
        let times =
            (!self.buffer_times.is_empty()).then(|| self.buffer_times[off..off + n].to_vec());
        let offset = match &times {
            Some(t) => Some(t[0]),
            None => self.uniform_offset_ns(self.next),
        };
        // The block's end must be a time too (a start just before the year 2262 and a
        // block past it would overflow every consumer's time arithmetic).
        let end_offset = match &times {
            Some(t) => t.last().copied(),
            None => self.uniform_offset_ns(self.next + n as u64),
        };
        let end_fits = end_offset
            .and_then(|ns| self.info.start.as_nanos().checked_add(ns))
            .is_some();
        let Some(start) = offset
            .and_then(|ns| self.info.start.as_nanos().checked_add(ns))
            .filter(|_| end_fits)
            .map(Timestamp)
        else {
            self.finished = true;
            return Err(Error::format_after(
                Location::file(&self.path).field("/recording attribute start_ns"),
                format!(
                    "the time of sample {} (or of the {n} read with it) lies beyond the \
                     year 2262",
                    self.next
                ),
                self.next,
            ));
        };
        let mut block = planar_block(
            start,
            rate,
            self.next,
            (self.info.channels.len(), analog),
            (self.info.digital_channels.len(), digital),
            n,
        )?;
        if rate <= 0.0 {
            if let Some(t) = times {
                block = block.with_sample_times(t)?;
            }
        }
        self.next += n as u64;
        Ok(Some(block))
    }

    fn progress(&self) -> (u64, Option<u64>) {
        let per_sample =
            8 * self.info.channels.len() as u64 + self.info.digital_channels.len() as u64;
        (self.next * per_sample, Some(self.total * per_sample))
    }
}

impl Hdf5Reader {
    /// The rate at sample `k` and the samples left in its rate segment.
    fn segment_at(&self, k: u64) -> (f64, u64) {
        let segments = &self.info.rate_segments;
        if segments.len() <= 1 {
            return (self.info.sample_rate, u64::MAX);
        }
        match segments.iter().find(|(_, end)| *end > k) {
            Some(&(rate, end)) => (rate, end - k),
            None => (segments.last().map_or(0.0, |s| s.0), u64::MAX),
        }
    }

    /// Nanoseconds from the recording's start of sample `k`, from the rate (segments);
    /// `None` when they do not fit an `i64`.
    fn uniform_offset_ns(&self, k: u64) -> Option<i64> {
        let segments = &self.info.rate_segments;
        let in_range = |ns: f64| (ns.abs() < i64::MAX as f64).then_some(ns as i64);
        if segments.len() <= 1 {
            let rate = self.info.sample_rate;
            return if rate > 0.0 {
                in_range((k as f64 * 1e9 / rate).round())
            } else {
                Some(0)
            };
        }
        let (mut seconds, mut first) = (0.0, 0u64);
        for &(rate, end) in segments {
            let upto = end.min(k);
            if rate > 0.0 && upto > first {
                seconds += (upto - first) as f64 / rate;
            }
            first = first.max(end);
            if end >= k {
                break;
            }
        }
        in_range((seconds * 1e9).round())
    }

    /// Make the buffer hold samples `next .. next + n`, reading ahead up to a chunk.
    fn fill(&mut self, n: usize) -> Result<()> {
        let covered = self.next >= self.buffer_start
            && self.next + n as u64 <= self.buffer_start + self.buffer_len as u64;
        if covered {
            return Ok(());
        }
        let from = self.next as usize;
        let len = n.max(CHUNK_SAMPLES).min((self.total - self.next) as usize);
        let to = from + len;
        let at = |what: &str| Location::file(&self.path).field(what);
        self.buffer_analog = if self.info.channels.is_empty() {
            Vec::new()
        } else {
            self.analog
                .read_slice_2d::<f64, _>((.., from..to))
                .map(|a| a.iter().copied().collect())
                .map_err(|e| {
                    Error::format_after(at("/recording/analog"), e.to_string(), self.next)
                })?
        };
        self.buffer_digital = match &self.digital {
            Some(ds) => ds
                .read_slice_2d::<u8, _>((.., from..to))
                .map(|a| a.iter().map(|s| u8::from(*s != 0)).collect())
                .map_err(|e| {
                    Error::format_after(at("/recording/digital"), e.to_string(), self.next)
                })?,
            None => Vec::new(),
        };
        self.buffer_times = match &self.time_ns {
            Some(ds) => ds
                .read_slice_1d::<i64, _>(from..to)
                .map(|a| a.to_vec())
                .map_err(|e| {
                    Error::format_after(at("/recording/time_ns"), e.to_string(), self.next)
                })?,
            None => Vec::new(),
        };
        self.buffer_start = self.next;
        self.buffer_len = len;
        Ok(())
    }
}

impl std::fmt::Debug for Hdf5Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Reader")
            .field("path", &self.path)
            .field("next", &self.next)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

/// A block of `len` samples from planar analog and digital data. A block without analog
/// channels is built row by row, since only then does it know its length.
fn planar_block(
    start: Timestamp,
    rate: f64,
    first_sample: u64,
    (n_analog, analog): (usize, Vec<f64>),
    (n_digital, digital): (usize, Vec<u8>),
    len: usize,
) -> Result<Block> {
    if n_analog > 0 {
        return Block::from_planar(start, rate, first_sample, n_analog, analog)?
            .with_digital(n_digital, digital);
    }
    let mut builder = BlockBuilder::new(start, rate, first_sample, 0, n_digital, false);
    let mut row = vec![0u8; n_digital];
    for i in 0..len {
        for (d, state) in row.iter_mut().enumerate() {
            *state = digital[d * len + i];
        }
        builder.push(&[], &row, 0);
    }
    builder.build()
}

/// The dataset `name` of the group, `None` when absent.
fn open_dataset(path: &Path, group: &Group, name: &str) -> Result<Option<Dataset>> {
    let present = group.link_exists(name);
    if !present {
        return Ok(None);
    }
    group.dataset(name).map(Some).map_err(|e| {
        Error::format(
            Location::file(path).field(format!("/recording/{name}")),
            format!("not a dataset: {e}"),
        )
    })
}

/// Channels and samples of a (channels, samples) dataset.
fn shape_2d(path: &Path, ds: &Dataset, name: &str) -> Result<(usize, usize)> {
    match ds.shape().as_slice() {
        &[channels, samples] => Ok((channels, samples)),
        other => Err(Error::format(
            Location::file(path).field(name),
            format!(
                "{}-D where 2-D (channels, samples) is expected",
                other.len()
            ),
        )),
    }
}

fn check_samples(path: &Path, name: &str, samples: usize, total: usize) -> Result<()> {
    if samples == total {
        Ok(())
    } else {
        Err(Error::format(
            Location::file(path).field(name),
            format!("{samples} samples where /recording/analog has {total}"),
        ))
    }
}

/// The recording-wide attributes of `/recording`.
fn read_group_attrs(path: &Path, group: &Group) -> Result<RecordingInfo> {
    let a = AttrReader::new(path, "/recording", group)?;
    let format = a
        .string("pqe_format")?
        .ok_or_else(|| a.missing("pqe_format"))?;
    if !format.starts_with("pqe-recording/") {
        return Err(Error::format(
            a.at("pqe_format"),
            format!("'{format}' is not {FORMAT}"),
        ));
    }
    if format != FORMAT {
        return Err(Error::Unsupported(format!(
            "{}: layout '{format}' (this PQE reads {FORMAT})",
            path.display()
        )));
    }
    let sample_rate = a
        .scalar::<f64>("sample_rate")?
        .ok_or_else(|| a.missing("sample_rate"))?;
    if !(sample_rate.is_finite() && sample_rate >= 0.0) {
        return Err(Error::format(
            a.at("sample_rate"),
            format!("{sample_rate} is not a sample rate (≥ 0 Hz)"),
        ));
    }
    let start = match (a.scalar::<i64>("start_ns")?, a.string("start")?) {
        (Some(ns), _) => Timestamp(ns),
        (None, Some(text)) => parse_iso_time(&text).ok_or_else(|| {
            Error::format(
                a.at("start"),
                format!("'{text}' is not an ISO 8601 date and time"),
            )
        })?,
        (None, None) => return Err(a.missing("start_ns")),
    };
    let mut info = RecordingInfo::new(Vec::new(), sample_rate, start);
    info.station = a.string("station")?.unwrap_or_default();
    info.device = a.string("device")?.unwrap_or_default();
    info.line_frequency = a.scalar::<f64>("line_frequency")?.unwrap_or(0.0);
    info.trigger = a.scalar::<i64>("trigger_ns")?.map(Timestamp);
    info.time_code = a.string("time_code")?;
    if a.has("rate_segment_rates") || a.has("rate_segment_ends") {
        let rates = a
            .vector::<f64>("rate_segment_rates")?
            .ok_or_else(|| a.missing("rate_segment_rates"))?;
        let ends = a
            .array::<u64>("rate_segment_ends", rates.len())?
            .ok_or_else(|| a.missing("rate_segment_ends"))?;
        info.rate_segments = rates.into_iter().zip(ends).collect();
    }
    Ok(info)
}

/// The analog channels described by the attributes of `/recording/analog`.
fn read_analog_attrs(path: &Path, ds: &Dataset, n: usize) -> Result<Vec<ChannelSpec>> {
    let a = AttrReader::new(path, "/recording/analog", ds)?;
    let names = match a.strings("names", n)? {
        Some(names) => names,
        None if n == 0 => Vec::new(),
        None => return Err(a.missing("names")),
    };
    let text = |name: &str| -> Result<Vec<String>> {
        Ok(a.strings(name, n)?
            .unwrap_or_else(|| vec![String::new(); n]))
    };
    let numbers = |name: &str, default: f64| -> Result<Vec<f64>> {
        Ok(a.array::<f64>(name, n)?.unwrap_or_else(|| vec![default; n]))
    };
    let (units, kinds, phases, circuits) = (
        text("units")?,
        text("kinds")?,
        text("phases")?,
        text("circuits")?,
    );
    let (ratio_primary, ratio_secondary, skew) = (
        numbers("ratio_primary", 1.0)?,
        numbers("ratio_secondary", 1.0)?,
        numbers("skew_us", 0.0)?,
    );
    let (scale_a, scale_b, raw_min, raw_max) = (
        numbers("scale_a", f64::NAN)?,
        numbers("scale_b", f64::NAN)?,
        numbers("raw_min", f64::NAN)?,
        numbers("raw_max", f64::NAN)?,
    );
    let primary = a.array::<u8>("primary", n)?.unwrap_or_else(|| vec![1; n]);
    let mut channels = Vec::with_capacity(n);
    for i in 0..n {
        let kind = match kinds[i].trim() {
            "" => ChannelKind::from_unit(&units[i]),
            k => k
                .parse::<ChannelKind>()
                .map_err(|m| Error::format(a.at("kinds"), format!("channel {}: {m}", names[i])))?,
        };
        let phase = match phases[i].trim() {
            "" => None,
            p => Some(Phase::parse_lenient(p).ok_or_else(|| {
                Error::format(
                    a.at("phases"),
                    format!("channel {}: unknown phase '{p}'", names[i]),
                )
            })?),
        };
        let pair = |x: f64, y: f64| (!x.is_nan() || !y.is_nan()).then_some((x, y));
        channels.push(ChannelSpec {
            name: names[i].clone(),
            kind,
            phase,
            unit: units[i].clone(),
            circuit: circuits[i].clone(),
            ratio_primary: ratio_primary[i],
            ratio_secondary: ratio_secondary[i],
            primary: primary[i] != 0,
            skew_us: skew[i],
            scaling: pair(scale_a[i], scale_b[i]).map(|(a, b)| LinearScaling { a, b }),
            raw_range: pair(raw_min[i], raw_max[i]),
        });
    }
    Ok(channels)
}

/// The digital channels described by the attributes of `/recording/digital`.
fn read_digital_attrs(path: &Path, ds: &Dataset, n: usize) -> Result<Vec<DigitalChannelSpec>> {
    let a = AttrReader::new(path, "/recording/digital", ds)?;
    let names = a.strings("names", n)?.ok_or_else(|| a.missing("names"))?;
    let phases = a
        .strings("phases", n)?
        .unwrap_or_else(|| vec![String::new(); n]);
    let circuits = a
        .strings("circuits", n)?
        .unwrap_or_else(|| vec![String::new(); n]);
    let normal = a
        .array::<u8>("normal_state", n)?
        .unwrap_or_else(|| vec![0; n]);
    Ok((0..n)
        .map(|i| DigitalChannelSpec {
            name: names[i].clone(),
            phase: phases[i].clone(),
            circuit: circuits[i].clone(),
            normal_state: normal[i],
        })
        .collect())
}

/// An ISO 8601 start time as the clock states it.
fn parse_iso_time(text: &str) -> Option<Timestamp> {
    Timestamp::parse_iso8601(text).map(|(t, _)| t)
}
