//! Writing COMTRADE strictly: the `.cfg` laid out for the chosen revision, the data in the
//! chosen format, and the 2013 `.cff` container with the DAT byte count.
//!
//! Integer formats (ASCII, BINARY, BINARY32) need each channel's `a`, `b` before the first
//! value is encoded. The writer therefore spills the samples as f64 to a temporary file next
//! to the output while it learns each channel's range, and encodes at [`finish`]: memory
//! stays bounded however long the recording. A channel that carries the scaling of an integer
//! source ([`ChannelSpec::scaling`]) keeps it when its values fit the format, so integer
//! files round-trip to the same integers. FLOAT32 is encoded as the blocks arrive.
//!
//! [`finish`]: crate::RecordingWriter::finish

use super::cfg::{AnalogChannel, ComtradeConfig, DigitalChannel, RateSegment};
use super::dat::{FLOAT32_MISSING, TIMESTAMP_MISSING};
use super::{ComtradeWriteOptions, DataFormat, Revision};
use crate::RecordingWriter;
use pqe_core::{Block, ChannelSpec, Error, RecordingInfo, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes a COMTRADE recording: `.cfg` + `.dat` for a path ending `.cfg`, one `.cff` for a
/// path ending `.cff` (2013 only).
pub struct ComtradeWriter {
    target: Target,
    options: ComtradeWriteOptions,
    info: RecordingInfo,
    /// Where the encoded data goes: the `.dat`, or a temporary file for a `.cff`.
    dat: BufWriter<File>,
    dat_temp: Option<TempFile>,
    /// Spilled f64 samples for the integer formats.
    spill: Option<(TempFile, BufWriter<File>)>,
    /// Channel encodings (FLOAT32 from the start; integer formats at finish).
    enc: Vec<Encoding>,
    /// Finite value range per channel (spill mode).
    ranges: Vec<(f64, f64)>,
    /// Stored-value range per channel, as encoded.
    raw_ranges: Vec<(f64, f64)>,
    segments: Vec<RateSegment>,
    timed: Option<bool>,
    rows: u64,
    clock: Clock,
    unit_ns: u32,
    dat_bytes: u64,
    line: Vec<u8>,
}

enum Target {
    Pair { cfg: PathBuf, dat: PathBuf },
    Cff { path: PathBuf },
}

/// How one channel's values become stored values: `x = (v - b) / a`, rounded for the
/// integer formats.
#[derive(Debug, Clone, Copy)]
struct Encoding {
    a: f64,
    b: f64,
    round: bool,
}

impl ComtradeWriter {
    /// Create the output. The format must exist in the revision (BINARY32 and FLOAT32 came
    /// with 2013) and a `.cff` needs revision 2013.
    pub fn create(
        path: impl AsRef<Path>,
        info: &RecordingInfo,
        options: ComtradeWriteOptions,
    ) -> Result<ComtradeWriter> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if options.format.first_revision() > options.revision {
            return Err(Error::Config(format!(
                "COMTRADE {} has no {} data (it came with 2013)",
                options.revision,
                options.format.cfg_name()
            )));
        }
        let (target, dat_path) = match ext.as_str() {
            "cfg" => {
                let upper = path.extension().and_then(|e| e.to_str()) == Some("CFG");
                let dat = path.with_extension(if upper { "DAT" } else { "dat" });
                (
                    Target::Pair {
                        cfg: path.to_path_buf(),
                        dat: dat.clone(),
                    },
                    dat,
                )
            }
            "cff" => {
                if options.revision != Revision::R2013 {
                    return Err(Error::Config(format!(
                        "the combined .cff file is defined by COMTRADE 2013, not {}",
                        options.revision
                    )));
                }
                (
                    Target::Cff {
                        path: path.to_path_buf(),
                    },
                    PathBuf::new(),
                )
            }
            _ => {
                return Err(Error::Config(format!(
                    "{}: a COMTRADE output ends in .cfg (with a .dat) or .cff",
                    path.display()
                )))
            }
        };
        let (dat_file, dat_temp) = match &target {
            Target::Pair { .. } => (
                File::create(&dat_path).map_err(|e| Error::io(&dat_path, e))?,
                None,
            ),
            Target::Cff { path } => {
                let (t, f) = TempFile::beside(path, "dat")?;
                (f, Some(t))
            }
        };
        let spill = if options.format == DataFormat::Float32 {
            None
        } else {
            let (t, f) = TempFile::beside(path, "spill")?;
            Some((t, BufWriter::with_capacity(1 << 16, f)))
        };
        let n = info.channels.len();
        let enc = if options.format == DataFormat::Float32 {
            info.channels.iter().map(float_encoding).collect()
        } else {
            Vec::new()
        };
        let nanos = |t: pqe_core::Timestamp| t.as_nanos().rem_euclid(1000) != 0;
        let unit_ns = if options.revision == Revision::R2013
            && (nanos(info.start) || info.trigger.is_some_and(nanos))
        {
            1
        } else {
            1000
        };
        Ok(ComtradeWriter {
            target,
            options,
            info: info.clone(),
            dat: BufWriter::with_capacity(1 << 16, dat_file),
            dat_temp,
            spill,
            enc,
            ranges: vec![(f64::INFINITY, f64::NEG_INFINITY); n],
            raw_ranges: vec![(f64::INFINITY, f64::NEG_INFINITY); n],
            segments: Vec::new(),
            timed: None,
            rows: 0,
            clock: Clock::default(),
            unit_ns,
            dat_bytes: 0,
            line: Vec::new(),
        })
    }

    /// Record the block's rate in the segment list; check it against the recording.
    fn track(&mut self, block: &Block) -> Result<()> {
        if block.n_channels() != self.info.channels.len()
            || block.n_digital() != self.info.digital_channels.len()
        {
            return Err(Error::Config(format!(
                "a block of {} analog and {} status channels for a recording of {} and {}",
                block.n_channels(),
                block.n_digital(),
                self.info.channels.len(),
                self.info.digital_channels.len()
            )));
        }
        let timed = block.sample_times().is_some();
        if *self.timed.get_or_insert(timed) != timed {
            return Err(Error::Unsupported(
                "a COMTRADE file times either every sample by its time stamp (rate 0) or none"
                    .into(),
            ));
        }
        let rate = if timed { 0.0 } else { block.sample_rate() };
        if !timed && (rate <= 0.0 || !rate.is_finite()) {
            return Err(Error::Config(format!(
                "a block at {rate} samples/s without sample times cannot be written to COMTRADE"
            )));
        }
        let end = self.rows + block.len() as u64;
        match self.segments.last_mut() {
            Some(s) if s.rate == rate => s.end_sample = end,
            _ => self.segments.push(RateSegment {
                rate,
                end_sample: end,
            }),
        }
        Ok(())
    }

    /// Spill a block's rows: f64 values, status bytes, time in ns.
    fn spill_block(&mut self, block: &Block) -> Result<()> {
        let Some((temp, out)) = self.spill.as_mut() else {
            return Ok(());
        };
        let n = block.len();
        let chans: Vec<&[f64]> = block.channels().collect();
        for (c, ch) in chans.iter().enumerate() {
            let r = &mut self.ranges[c];
            for &v in ch.iter().filter(|v| v.is_finite()) {
                r.0 = r.0.min(v);
                r.1 = r.1.max(v);
            }
        }
        let row_len = chans.len() * 8 + block.n_digital() + 8;
        let mut buf = Vec::with_capacity(row_len * n.min(4096));
        for i in 0..n {
            for ch in &chans {
                buf.extend_from_slice(&ch[i].to_le_bytes());
            }
            for d in 0..block.n_digital() {
                buf.push(block.digital(d)[i]);
            }
            let t = block.sample_times().map_or(0, |t| t[i]);
            buf.extend_from_slice(&t.to_le_bytes());
            if buf.len() >= 1 << 16 {
                out.write_all(&buf).map_err(|e| Error::io(&temp.0, e))?;
                buf.clear();
            }
        }
        out.write_all(&buf).map_err(|e| Error::io(&temp.0, e))
    }

    /// Encode one row into the data sink.
    fn encode_row(&mut self, values: &[f64], states: &[u8], time_ns: i64, rate: f64) -> Result<()> {
        let n = self.rows + 1;
        let sample = u32::try_from(n).map_err(|_| {
            Error::Unsupported("more than 4 294 967 295 samples in one COMTRADE file".into())
        })?;
        let stamp = self.stamp(n, rate, time_ns)?;
        self.line.clear();
        let fmt = self.options.format;
        if fmt == DataFormat::Ascii {
            let missing = if self.options.revision == Revision::R1991 {
                ""
            } else {
                "99999"
            };
            self.line.extend_from_slice(format!("{sample},").as_bytes());
            if let Some(s) = stamp {
                self.line.extend_from_slice(s.to_string().as_bytes());
            }
            for (c, &v) in values.iter().enumerate() {
                self.line.push(b',');
                match self.integer(c, v, 99_998.0)? {
                    Some(x) => self.line.extend_from_slice(format!("{x}").as_bytes()),
                    None => self.line.extend_from_slice(missing.as_bytes()),
                }
            }
            for s in states {
                self.line.push(b',');
                self.line.push(if *s != 0 { b'1' } else { b'0' });
            }
            self.line.extend_from_slice(b"\r\n");
        } else {
            self.line.extend_from_slice(&sample.to_le_bytes());
            self.line
                .extend_from_slice(&stamp.unwrap_or(TIMESTAMP_MISSING).to_le_bytes());
            for (c, &v) in values.iter().enumerate() {
                match fmt {
                    DataFormat::Binary => {
                        let x = self.integer(c, v, 32_767.0)?.map_or(i16::MIN, |x| x as i16);
                        self.line.extend_from_slice(&x.to_le_bytes());
                    }
                    DataFormat::Binary32 => {
                        let x = self
                            .integer(c, v, 2_147_483_647.0)?
                            .map_or(i32::MIN, |x| x as i32);
                        self.line.extend_from_slice(&x.to_le_bytes());
                    }
                    _ => {
                        let bits = self.float(c, v)?;
                        self.line.extend_from_slice(&bits.to_le_bytes());
                    }
                }
            }
            for word in states.chunks(16) {
                let w = word
                    .iter()
                    .enumerate()
                    .fold(0u16, |w, (k, &s)| w | (u16::from(s != 0) << k));
                self.line.extend_from_slice(&w.to_le_bytes());
            }
        }
        self.dat
            .write_all(&self.line)
            .map_err(|e| Error::io(self.dat_path(), e))?;
        self.dat_bytes += self.line.len() as u64;
        self.rows = n;
        Ok(())
    }

    /// The stored integer for value `v` of channel `c` (None for missing), within ±`limit`.
    fn integer(&mut self, c: usize, v: f64, limit: f64) -> Result<Option<i64>> {
        if v.is_nan() {
            return Ok(None);
        }
        let e = self.enc[c];
        let x = ((v - e.b) / e.a).round();
        if x.is_nan() || x.abs() > limit {
            return Err(Error::channel(
                self.info.channels[c].name.clone(),
                format!(
                    "value {v} is outside what {} can store with a = {}, b = {}",
                    self.options.format.cfg_name(),
                    e.a,
                    e.b
                ),
            ));
        }
        let r = &mut self.raw_ranges[c];
        r.0 = r.0.min(x);
        r.1 = r.1.max(x);
        Ok(Some(x as i64))
    }

    fn float(&mut self, c: usize, v: f64) -> Result<u32> {
        if v.is_nan() {
            return Ok(FLOAT32_MISSING);
        }
        let e = self.enc[c];
        let mut x = (v - e.b) / e.a;
        if e.round {
            x = x.round();
        }
        let f = x as f32;
        if !f.is_finite() {
            return Err(Error::channel(
                self.info.channels[c].name.clone(),
                format!("value {v} does not fit FLOAT32"),
            ));
        }
        let r = &mut self.raw_ranges[c];
        r.0 = r.0.min(f64::from(f));
        r.1 = r.1.max(f64::from(f));
        Ok(f.to_bits())
    }

    /// The time stamp of sample `n` (1-based) in file units; None when it does not fit and
    /// the rate times the samples anyway (the missing time stamp).
    fn stamp(&mut self, n: u64, rate: f64, time_ns: i64) -> Result<Option<u32>> {
        let unit = f64::from(self.unit_ns);
        if rate == 0.0 {
            let s = (time_ns as f64 / unit).round();
            if !(0.0..f64::from(TIMESTAMP_MISSING)).contains(&s) {
                return Err(Error::Unsupported(format!(
                    "sample {n} at {time_ns} ns from the start does not fit a COMTRADE time \
                     stamp"
                )));
            }
            return Ok(Some(s as u32));
        }
        let t = self.clock.time_of(n, rate);
        let s = (t * 1e9 / unit).round();
        Ok((0.0..f64::from(TIMESTAMP_MISSING))
            .contains(&s)
            .then_some(s as u32))
    }

    fn dat_path(&self) -> PathBuf {
        match (&self.target, &self.dat_temp) {
            (Target::Pair { dat, .. }, _) => dat.clone(),
            (_, Some(t)) => t.0.clone(),
            (Target::Cff { path }, None) => path.clone(),
        }
    }

    /// Integer formats: choose each channel's encoding from its source scaling or its range.
    fn choose_integer_encodings(&mut self) {
        let limit = match self.options.format {
            DataFormat::Binary => 32_767.0,
            DataFormat::Binary32 => 2_147_483_647.0,
            _ => 99_998.0,
        };
        self.enc = self
            .info
            .channels
            .iter()
            .zip(&self.ranges)
            .map(|(spec, &(lo, hi))| {
                if let Some(s) = spec.scaling.filter(|s| s.a.is_finite() && s.a != 0.0) {
                    let fits = |v: f64| ((v - s.b) / s.a).round().abs() <= limit;
                    if lo > hi || (fits(lo) && fits(hi)) {
                        return Encoding {
                            a: s.a,
                            b: s.b,
                            round: true,
                        };
                    }
                }
                range_encoding(lo, hi, limit)
            })
            .collect();
    }

    /// Encode the spilled rows into the data sink.
    fn encode_spill(&mut self) -> Result<()> {
        let Some((temp, out)) = self.spill.take() else {
            return Ok(());
        };
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&temp.0, e.into_error()))?;
        drop(file);
        self.choose_integer_encodings();
        let n_a = self.info.channels.len();
        let n_d = self.info.digital_channels.len();
        let row_len = n_a * 8 + n_d + 8;
        let mut src = BufReader::with_capacity(
            1 << 16,
            File::open(&temp.0).map_err(|e| Error::io(&temp.0, e))?,
        );
        let segments = self.segments.clone();
        let total = self.rows;
        self.rows = 0;
        let mut row = vec![0u8; row_len];
        let mut values = vec![0.0f64; n_a];
        let mut seg = 0usize;
        for k in 0..total {
            while seg + 1 < segments.len() && k >= segments[seg].end_sample {
                seg += 1;
            }
            src.read_exact(&mut row)
                .map_err(|e| Error::io(&temp.0, e))?;
            for (c, v) in values.iter_mut().enumerate() {
                let b = &row[c * 8..c * 8 + 8];
                *v = f64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
            }
            let states = row[n_a * 8..n_a * 8 + n_d].to_vec();
            let t = &row[n_a * 8 + n_d..];
            let t = i64::from_le_bytes(t.try_into().unwrap_or([0; 8]));
            let rate = segments.get(seg).map_or(0.0, |s| s.rate);
            self.encode_row(&values, &states, t, rate)?;
        }
        Ok(())
    }

    fn config(&self) -> ComtradeConfig {
        let rev = self.options.revision;
        let analog = self
            .info
            .channels
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let e = self.enc.get(i).copied().unwrap_or(Encoding {
                    a: 1.0,
                    b: 0.0,
                    round: false,
                });
                let (lo, hi) = self.stated_range(i, spec, e);
                AnalogChannel {
                    index: i as u32 + 1,
                    id: spec.name.clone(),
                    phase: spec
                        .phase
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    circuit: spec.circuit.clone(),
                    unit: spec.unit.clone(),
                    a: e.a,
                    b: e.b,
                    skew_us: spec.skew_us,
                    min: Some(lo),
                    max: Some(hi),
                    primary: spec.ratio_primary,
                    secondary: spec.ratio_secondary,
                    is_primary: spec.primary,
                }
            })
            .collect();
        let digital = self
            .info
            .digital_channels
            .iter()
            .enumerate()
            .map(|(i, d)| DigitalChannel {
                index: i as u32 + 1,
                id: d.name.clone(),
                phase: d.phase.clone(),
                circuit: d.circuit.clone(),
                normal_state: u8::from(d.normal_state != 0),
            })
            .collect();
        let timed = self.timed == Some(true);
        let rates = if self.segments.is_empty() {
            vec![RateSegment {
                rate: if timed { 0.0 } else { self.info.sample_rate },
                end_sample: 0,
            }]
        } else {
            self.segments.clone()
        };
        ComtradeConfig {
            station: self.info.station.clone(),
            device: self.info.device.clone(),
            revision: rev,
            analog,
            digital,
            line_frequency: self.info.line_frequency,
            nrates: if timed { 0 } else { rates.len() },
            rates,
            start: Some(self.info.start),
            trigger: self.info.trigger,
            format: self.options.format,
            time_multiplier: 1.0,
            timestamp_unit_ns: self.unit_ns,
            time_code: self.info.time_code.clone(),
            local_code: None,
            tmq_code: None,
            leap_second: None,
            rate_lines: Vec::new(),
        }
    }

    /// The `min`,`max` a channel line states: the source's range where its scaling was kept
    /// and the range fits, else the range of the stored values.
    fn stated_range(&self, c: usize, spec: &ChannelSpec, e: Encoding) -> (f64, f64) {
        let kept = spec.scaling.is_some_and(|s| {
            s.a == e.a && s.b == e.b && self.options.format != DataFormat::Float32
        });
        let limit = match self.options.format {
            DataFormat::Binary => 32_768.0,
            DataFormat::Binary32 => 2_147_483_648.0,
            DataFormat::Ascii => 99_999.0,
            DataFormat::Float32 => f64::INFINITY,
        };
        if let (true, Some((lo, hi))) = (kept, spec.raw_range) {
            if lo >= -limit && hi < limit {
                return (lo, hi);
            }
        }
        match self.raw_ranges.get(c) {
            Some(&(lo, hi)) if lo <= hi => (lo, hi),
            _ => (0.0, 0.0),
        }
    }
}

impl RecordingWriter for ComtradeWriter {
    fn write_block(&mut self, block: &Block) -> Result<()> {
        self.track(block)?;
        if self.spill.is_some() {
            self.spill_block(block)?;
            self.rows += block.len() as u64;
            return Ok(());
        }
        let rate = if block.sample_times().is_some() {
            0.0
        } else {
            block.sample_rate()
        };
        let chans: Vec<&[f64]> = block.channels().collect();
        let mut values = vec![0.0; chans.len()];
        let mut states = vec![0u8; block.n_digital()];
        for i in 0..block.len() {
            for (v, ch) in values.iter_mut().zip(&chans) {
                *v = ch[i];
            }
            for (d, s) in states.iter_mut().enumerate() {
                *s = block.digital(d)[i];
            }
            let t = block.sample_times().map_or(0, |t| t[i]);
            self.encode_row(&values, &states, t, rate)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.clock = Clock::default();
        self.encode_spill()?;
        let dat_path = self.dat_path();
        self.dat.flush().map_err(|e| Error::io(&dat_path, e))?;
        let cfg_text = self.config().to_text();
        match &self.target {
            Target::Pair { cfg, .. } => {
                std::fs::write(cfg, cfg_text.as_bytes()).map_err(|e| Error::io(cfg, e))?;
            }
            Target::Cff { path } => {
                let mut out = BufWriter::new(File::create(path).map_err(|e| Error::io(path, e))?);
                let head = format!(
                    "--- file type: CFG ---\r\n{cfg_text}--- file type: INF ---\r\n\
                     --- file type: HDR ---\r\n--- file type: DAT {}: {} ---\r\n",
                    self.options.format.cfg_name(),
                    self.dat_bytes
                );
                out.write_all(head.as_bytes())
                    .map_err(|e| Error::io(path, e))?;
                let mut data = File::open(&dat_path).map_err(|e| Error::io(&dat_path, e))?;
                std::io::copy(&mut data, &mut out).map_err(|e| Error::io(path, e))?;
                out.flush().map_err(|e| Error::io(path, e))?;
            }
        }
        Ok(())
    }
}

/// FLOAT32 keeps an integer source's scaling when its stored values are exact in single
/// precision (|x| ≤ 2²⁴), so they read back bit-exactly; otherwise values are stored as is.
fn float_encoding(spec: &ChannelSpec) -> Encoding {
    match (spec.scaling, spec.raw_range) {
        (Some(s), Some((lo, hi)))
            if s.a.is_finite()
                && s.a != 0.0
                && lo.abs() <= 16_777_216.0
                && hi.abs() <= 16_777_216.0 =>
        {
            Encoding {
                a: s.a,
                b: s.b,
                round: true,
            }
        }
        _ => Encoding {
            a: 1.0,
            b: 0.0,
            round: false,
        },
    }
}

/// `a`, `b` that map the finite range `lo..=hi` onto ±`limit` stored units.
fn range_encoding(lo: f64, hi: f64, limit: f64) -> Encoding {
    if lo > hi {
        return Encoding {
            a: 1.0,
            b: 0.0,
            round: true,
        };
    }
    let b = lo / 2.0 + hi / 2.0;
    let a = (hi / 2.0 - lo / 2.0) / limit;
    Encoding {
        a: if a.is_normal() { a } else { 1.0 },
        b,
        round: true,
    }
}

/// Times of samples at constant rates, segment by segment, by the same rule the reader uses:
/// the interval before a sample is the period of that sample's rate.
#[derive(Debug, Default)]
struct Clock {
    rate: f64,
    anchor_n: u64,
    anchor_time: f64,
}

impl Clock {
    fn time_of(&mut self, n: u64, rate: f64) -> f64 {
        if self.anchor_n == 0 {
            self.anchor_n = 1;
            self.rate = rate;
        } else if rate != self.rate {
            let prev_end = n - 1;
            if self.rate > 0.0 {
                self.anchor_time += (prev_end - self.anchor_n) as f64 / self.rate;
            }
            self.anchor_n = prev_end;
            self.rate = rate;
        }
        self.anchor_time + (n - self.anchor_n) as f64 / rate
    }
}

/// A file next to the output that is removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn beside(output: &Path, what: &str) -> Result<(TempFile, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match output.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!(
            ".{name}.{what}-{}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok((TempFile(path), file))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::cfg::real;
    use super::*;

    #[test]
    fn range_encoding_spans_the_range() {
        let e = range_encoding(-10.0, 30.0, 32_767.0);
        assert_eq!(((30.0 - e.b) / e.a).round(), 32_767.0);
        assert_eq!(((-10.0 - e.b) / e.a).round(), -32_767.0);
        let flat = range_encoding(5.0, 5.0, 32_767.0);
        assert_eq!(flat.b + flat.a * ((5.0 - flat.b) / flat.a).round(), 5.0);
        assert_eq!(real(flat.a), "1");
    }

    #[test]
    fn clock_changes_rate_after_the_last_sample_of_a_segment() {
        let mut c = Clock::default();
        assert_eq!(c.time_of(1, 10.0), 0.0);
        assert_eq!(c.time_of(2, 10.0), 0.1);
        // sample 3 is the first at 2 Hz: half a second after sample 2.
        assert!((c.time_of(3, 2.0) - 0.6).abs() < 1e-12);
    }
}
