//! COMTRADE: IEEE C37.111 (1991, 1999, 2013) / IEC 60255-24, the common format for transient
//! data exchange. Read leniently, written strictly.
//!
//! - [`ComtradeReader`] opens a `.cfg` (its `.dat` beside it, any case) or a `.cff` and
//!   streams [`Block`]s out of the data in bounded chunks, so a multi-gigabyte `.dat` never
//!   has to fit in memory. It reads revisions 1991, 1999 and 2013; ASCII, BINARY, BINARY32
//!   and FLOAT32 data; several sampling rates (a block never spans two) and rate 0 (the time
//!   stamps time the samples); missing-value sentinels (→ NaN); UTF-8 or latin-1 text; CR LF
//!   or LF; trailing commas, missing optional fields and SUB (0x1A) padding.
//! - [`ComtradeWriter`] writes a `.cfg` + `.dat` pair or one `.cff` for a chosen
//!   [`DataFormat`] and [`Revision`] (see [`ComtradeWriteOptions`]).
//! - [`ComtradeConfig`] is the parsed header, for tools that show it.
//!
//! ## Choices where the standard or practice leaves room
//!
//! Reading (checked against python-comtrade 0.2.0 by `tests/python`):
//! - Missing values become NaN: an empty ASCII field (any revision), `99999` in ASCII files of
//!   1999 and 2013 (as python-comtrade reads them), 0x8000 in BINARY, 0x80000000 in BINARY32,
//!   the bit pattern 0xFFFFFFFF (and any NaN) in FLOAT32. python-comtrade takes 0xFFFF as
//!   missing in 1991 BINARY files; PQE does not, since -1 is an ordinary value.
//! - With a sampling rate, times come from the rate and the data file's time stamps are not
//!   used (some devices write zeros); with rate 0 the time stamps × `timemult` time the
//!   samples, in µs, or ns when the `.cfg` dates have more than six fraction digits. Across
//!   rates, the interval before a sample is the period of that sample's rate.
//! - Sample numbers must be numbers but are not checked for sequence.
//! - Dates are `dd/mm/yyyy` (1991: `mm/dd/yy`); day and month are swapped where only the
//!   other order is a valid date. A date of zeros or an empty date means "unknown" (the
//!   recording then starts at the Unix epoch).
//! - The counts must add up: a binary data file holds exactly the last `endsamp` records, an
//!   ASCII one exactly that many non-blank lines; otherwise the error names the file and the
//!   line or byte, and for short data how many samples were good.
//!
//! Writing: BINARY32, FLOAT32 and `.cff` exist from 2013 on and are refused for older
//! revisions; ASCII data are integers (±99998) with `a`, `b` like the binary formats;
//! 2013 files state `tmq_code,leapsec` as `0,0` and `time_code,local_code` from
//! [`RecordingInfo::time_code`] (else `0,0`); text fields lose commas (→ `;`).
//!
//! References name the standard's files and fields (`nrates`, `timemult`, `ft`, …) rather
//! than clause numbers, so they hold in every edition (C37.111-1991, -1999, -2013 and
//! IEC 60255-24:2013, whose clause numbering differs).

mod cff;
mod cfg;
mod dat;
mod text;
mod writer;

pub use cfg::{AnalogChannel, ComtradeConfig, DigitalChannel, RateSegment};
pub use writer::ComtradeWriter;

use crate::{OpenOptions, RecordingReader};
use dat::{DatStream, Rows};
use pqe_core::{
    Block, BlockBuilder, Error, Gap, Location, RecordingInfo, Result, SourceEvent, SourceWarning,
    Timestamp,
};
use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The data file type (`ft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataFormat {
    /// Comma-separated text, one record per line.
    Ascii,
    /// 16-bit two's complement integers (missing: 0x8000).
    #[default]
    Binary,
    /// 32-bit two's complement integers (missing: 0x80000000; 2013 only).
    Binary32,
    /// IEEE 754 single precision (missing: 0xFFFFFFFF; 2013 only).
    Float32,
}

impl DataFormat {
    /// The word the `.cfg` uses.
    pub fn cfg_name(self) -> &'static str {
        match self {
            DataFormat::Ascii => "ASCII",
            DataFormat::Binary => "BINARY",
            DataFormat::Binary32 => "BINARY32",
            DataFormat::Float32 => "FLOAT32",
        }
    }
    /// Bytes per analog value in a binary record; `None` for ASCII.
    pub fn analog_width(self) -> Option<usize> {
        match self {
            DataFormat::Ascii => None,
            DataFormat::Binary => Some(2),
            DataFormat::Binary32 | DataFormat::Float32 => Some(4),
        }
    }
    /// The first revision that defines this format (BINARY32 and FLOAT32 came with 2013).
    pub fn first_revision(self) -> Revision {
        match self {
            DataFormat::Ascii | DataFormat::Binary => Revision::R1991,
            DataFormat::Binary32 | DataFormat::Float32 => Revision::R2013,
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cfg_name().to_ascii_lowercase())
    }
}

impl FromStr for DataFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ascii" => Ok(DataFormat::Ascii),
            "binary" => Ok(DataFormat::Binary),
            "binary32" => Ok(DataFormat::Binary32),
            "float32" => Ok(DataFormat::Float32),
            other => Err(format!(
                "unknown COMTRADE data format '{other}' (ascii, binary, binary32 or float32)"
            )),
        }
    }
}

/// The revision of the standard a file follows (`rev_year` on the first line of the `.cfg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Revision {
    /// IEEE C37.111-1991 (no year on the first line).
    R1991,
    /// IEEE C37.111-1999.
    R1999,
    /// IEEE C37.111-2013 / IEC 60255-24:2013.
    #[default]
    R2013,
}

impl Revision {
    /// The year as the `.cfg` writes it.
    pub fn year(self) -> u16 {
        match self {
            Revision::R1991 => 1991,
            Revision::R1999 => 1999,
            Revision::R2013 => 2013,
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.year())
    }
}

impl FromStr for Revision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "1991" => Ok(Revision::R1991),
            "1999" => Ok(Revision::R1999),
            "2013" => Ok(Revision::R2013),
            other => Err(format!(
                "unknown COMTRADE revision '{other}' (1991, 1999 or 2013)"
            )),
        }
    }
}

/// How [`ComtradeWriter`] writes: data format and revision (default BINARY, 2013).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ComtradeWriteOptions {
    /// The data file type.
    pub format: DataFormat,
    /// The revision of the standard to follow.
    pub revision: Revision,
}

/// Offsets from the recording's start beyond this many seconds (about 30 years) are refused.
const MAX_SECONDS: f64 = 1e9;

/// Streams the samples of a COMTRADE recording as [`Block`]s.
///
/// Values are `a·x + b` in the channel's unit, on the side of the instrument
/// transformer the `PS` field states; missing values are NaN. With several sampling rates
/// each block lies within one rate; with rate 0 the blocks carry per-sample
/// times from the time stamps (× `timemult`, in µs or ns as the dates' resolution says).
pub struct ComtradeReader {
    cfg: ComtradeConfig,
    info: RecordingInfo,
    cfg_location: Location,
    data: DatStream,
    segments: Vec<Segment>,
    /// Index (0-based) of the next sample.
    next: u64,
    failed: bool,
    /// Time stamp unit × timemult, in nanoseconds.
    stamp_ns: f64,
    inf: Option<String>,
    hdr: Option<String>,
    /// Refuse a data file that ends before the rates do (else read up to its end).
    strict: bool,
    /// Samples the data file holds, when fewer than the rates announce (found at open for
    /// binary data, at the end of the lines for ASCII).
    available: Option<u64>,
    /// Bytes of a record cut short after the last whole one (binary data).
    partial_bytes: u64,
    /// Events after the last block: the warning and gap of a data file that ends early.
    tail: VecDeque<SourceEvent>,
    tail_done: bool,
}

/// One sampling-rate segment: samples up to `end` (exclusive, 0-based) at `rate`, timed as
/// python-comtrade and common practice do: the interval before a sample is the period of that
/// sample's rate, so sample `n` (1-based) of a segment lies at
/// `anchor_time + (n - anchor_n) / rate`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    rate: f64,
    end: u64,
    anchor_n: u64,
    anchor_time: f64,
}

impl ComtradeReader {
    /// Open a recording: a `.cfg` (the `.dat` of the same name beside it, extension in any
    /// case) or a `.cff`.
    ///
    /// A data file that ends before the last sample the rates announce is an error here;
    /// [`ComtradeReader::open_with`] without `strict` reads it up to its last whole record.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &OpenOptions::strict())
    }

    /// Open a recording as [`ComtradeReader::open`] does, with `options`. Without
    /// `options.strict`, a data file that ends before the rates do (a recorder that lost
    /// power) is read up to its last whole record; then [`RecordingReader::next_event`] ends
    /// with a warning saying what is missing and a [`Gap`] over the missing span (for
    /// constant rates), and [`RecordingReader::read_block`] just ends early.
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "cff" => Self::open_cff(path, options),
            "cfg" => {
                let dat = find_dat(path)?;
                Self::open_pair_with(path, dat, options)
            }
            _ => Err(Error::format(
                Location::file(path),
                "unknown file type: a COMTRADE recording is a .cfg (with its .dat) or a .cff",
            )),
        }
    }

    /// Open a `.cfg` with a data file of another name.
    pub fn open_pair(cfg_path: impl AsRef<Path>, dat_path: impl AsRef<Path>) -> Result<Self> {
        Self::open_pair_with(cfg_path, dat_path, &OpenOptions::strict())
    }

    /// Open a `.cfg` with a data file of another name, with `options`.
    pub fn open_pair_with(
        cfg_path: impl AsRef<Path>,
        dat_path: impl AsRef<Path>,
        options: &OpenOptions,
    ) -> Result<Self> {
        let cfg_path = cfg_path.as_ref();
        let dat_path = dat_path.as_ref();
        let bytes = std::fs::read(cfg_path).map_err(|e| Error::io(cfg_path, e))?;
        let cfg_location = Location::file(cfg_path);
        let cfg = ComtradeConfig::parse(&text::decode(&bytes), &cfg_location, 1)?;
        let file = File::open(dat_path).map_err(|e| Error::io(dat_path, e))?;
        let len = file.metadata().map_err(|e| Error::io(dat_path, e))?.len();
        let src = BufReader::with_capacity(1 << 16, file);
        let stream = DatStream::new(src, Location::file(dat_path), 0, len, 0, &cfg);
        let sibling = |ext: &str| {
            let p = cfg_path.with_extension(ext);
            std::fs::read(&p).ok().map(|b| text::decode(&b))
        };
        let (inf, hdr) = (sibling("inf"), sibling("hdr"));
        Self::build(cfg, cfg_location, stream, len, (inf, hdr), options)
    }

    /// Open a combined `.cff` file (2013).
    fn open_cff(path: &Path, options: &OpenOptions) -> Result<Self> {
        let loc = Location::file(path);
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut src = BufReader::with_capacity(1 << 16, file);
        let head = cff::read_head(&mut src, &loc)?;
        let cfg = ComtradeConfig::parse(&text::decode(&head.cfg), &loc, head.cfg_first_line)?;
        if head.dat_format != Some(cfg.format) {
            return Err(Error::format(
                loc.at_line(head.dat_header_line),
                format!(
                    "the DAT section holds {} data but the CFG section says {}",
                    head.dat_format.map_or("unknown", |f| f.cfg_name()),
                    cfg.format.cfg_name()
                ),
            ));
        }
        // The reader stands at the first data byte; make the file position agree with it.
        src.seek(SeekFrom::Start(head.dat_offset))
            .map_err(|e| Error::io(path, e))?;
        let rest = file_len.saturating_sub(head.dat_offset);
        let len = head.dat_bytes.map_or(rest, |n| n.min(rest));
        let stream = DatStream::new(
            src,
            loc.clone(),
            head.dat_offset,
            len,
            head.dat_header_line,
            &cfg,
        );
        let non_empty = |b: &[u8]| {
            let t = text::decode(b);
            (!t.trim().is_empty()).then_some(t)
        };
        let (inf, hdr) = (non_empty(&head.inf), non_empty(&head.hdr));
        // A stated count larger than what the file holds is a truncation: let the stream
        // report it where the data ends (with `len` as the available bytes) unless whole
        // records are missing.
        let declared = head.dat_bytes.unwrap_or(rest);
        let data_bytes = if options.strict { declared } else { len };
        Self::build(cfg, loc, stream, data_bytes, (inf, hdr), options)
    }

    fn build(
        cfg: ComtradeConfig,
        cfg_location: Location,
        data: DatStream,
        data_bytes: u64,
        (inf, hdr): (Option<String>, Option<String>),
        options: &OpenOptions,
    ) -> Result<Self> {
        // The rates against the data: a binary file holds exactly endsamp records (or, read
        // leniently, fewer: then up to its last whole record).
        let (mut available, mut partial_bytes) = (None, 0);
        if let Some(rec) = cfg.record_size() {
            let total = cfg.total_samples();
            let whole = data_bytes / rec as u64;
            let partial = data_bytes % rec as u64;
            if !options.strict && whole < total {
                available = Some(whole);
                partial_bytes = partial;
            } else if (partial == 0 && whole != total) || (partial != 0 && whole >= total) {
                let line = cfg.rate_lines.last().copied().unwrap_or(1);
                return Err(Error::format(
                    cfg_location.at_line(line).field("endsamp"),
                    format!(
                        "the rates end at sample {total} but the data holds {whole} records of \
                         {rec} bytes{}",
                        if partial > 0 {
                            format!(" and {partial} bytes more")
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
        }
        if !cfg.analog.is_empty() && cfg.analog.iter().any(|c| !c.a.is_finite()) {
            return Err(Error::format(
                cfg_location,
                "a channel multiplier is not finite",
            ));
        }
        let mut segments = Vec::with_capacity(cfg.rates.len());
        let (mut anchor_n, mut anchor_time) = (1u64, 0.0f64);
        for r in &cfg.rates {
            segments.push(Segment {
                rate: r.rate,
                end: r.end_sample,
                anchor_n,
                anchor_time,
            });
            if r.rate > 0.0 {
                anchor_time += r.end_sample.saturating_sub(anchor_n) as f64 / r.rate;
            }
            // Times beyond ±30 years from the start cannot be a recording (and would not fit
            // a nanosecond timestamp).
            if anchor_time.is_nan() || anchor_time.abs() >= MAX_SECONDS {
                let line = cfg.rate_lines.get(segments.len() - 1).copied().unwrap_or(1);
                return Err(Error::format(
                    cfg_location.at_line(line).field("samp"),
                    format!(
                        "sampling rate {} Hz is too low for {} samples",
                        r.rate, r.end_sample
                    ),
                ));
            }
            anchor_n = r.end_sample;
        }
        let stamp_ns = f64::from(cfg.timestamp_unit_ns) * cfg.time_multiplier;
        let info = cfg.recording_info();
        Ok(ComtradeReader {
            cfg,
            info,
            cfg_location,
            data,
            segments,
            next: 0,
            failed: false,
            stamp_ns,
            inf,
            hdr,
            strict: options.strict,
            available,
            partial_bytes,
            tail: VecDeque::new(),
            tail_done: false,
        })
    }

    /// The parsed configuration.
    pub fn config(&self) -> &ComtradeConfig {
        &self.cfg
    }

    /// The information file's text (`.inf` beside the `.cfg`, or the INF section of a
    /// `.cff`), where there is one.
    pub fn inf(&self) -> Option<&str> {
        self.inf.as_deref()
    }

    /// The header file's text (`.hdr`, or the HDR section of a `.cff`), where there is one.
    pub fn hdr(&self) -> Option<&str> {
        self.hdr.as_deref()
    }

    fn read_block_inner(&mut self, max_samples: usize) -> Result<Option<Block>> {
        let total = self.cfg.total_samples();
        let end = self.available.map_or(total, |a| a.min(total));
        if self.next >= end {
            if end == total {
                self.data.check_end(total)?;
            }
            return Ok(None);
        }
        let seg = *self
            .segments
            .iter()
            .find(|s| self.next < s.end)
            .ok_or_else(|| Error::format(self.cfg_location.clone(), "no sampling rate"))?;
        let n_a = self.cfg.analog.len();
        let n_d = self.cfg.digital.len();
        // However many samples the caller asks for, a block stays below 16 Mi values.
        let cap = ((1usize << 24) / (n_a + n_d).max(1)).max(1);
        let n = (max_samples.clamp(1, cap) as u64)
            .min(seg.end - self.next)
            .min(end - self.next) as usize;
        let timed = seg.rate == 0.0;
        let ascii = self.cfg.format == DataFormat::Ascii;
        let mut rows = Rows::new(n_a, n_d, n, timed, ascii);
        let got = self
            .data
            .read_rows_upto(n, &mut rows, self.next, !self.strict)?;
        if got < n {
            // The lines end early (read leniently): the data ends after `got` more records.
            self.available = Some(self.next + got as u64);
            if got == 0 {
                return Ok(None);
            }
        }
        let n = got;

        let first = self.next;
        let (start, times) = if timed {
            let mut times = Vec::with_capacity(n);
            for (i, s) in rows.stamps.iter().enumerate() {
                let stamp = s.ok_or_else(|| {
                    Error::format_after(
                        self.data_location(),
                        format!(
                            "sample {} has no time stamp, and with rate 0 the time stamps time \
                             the samples",
                            first + i as u64 + 1
                        ),
                        first + i as u64,
                    )
                })?;
                let ns = (stamp * self.stamp_ns).round();
                if ns.is_nan() || ns.abs() >= MAX_SECONDS * 1e9 {
                    return Err(Error::format_after(
                        self.data_location(),
                        format!(
                            "the time stamp of sample {} (× timemult) is more than 30 years \
                             from the start",
                            first + i as u64 + 1
                        ),
                        first + i as u64,
                    ));
                }
                times.push(ns as i64);
            }
            (self.info.start.add_nanos(times[0]), Some(times))
        } else {
            let n1 = first + 1;
            let t = seg.anchor_time + (n1 as f64 - seg.anchor_n as f64) / seg.rate;
            (self.info.start.add_seconds(t), None)
        };
        let block = make_block(start, seg.rate, first, n, (n_a, n_d), rows, times)?;
        self.next += n as u64;
        Ok(Some(block))
    }

    fn data_location(&self) -> Location {
        self.data.location()
    }

    /// Seconds from the recording's start to sample `index` (0-based), where the rates time
    /// it (`None` within a rate-0 segment).
    fn time_of_sample(&self, index: u64) -> Option<f64> {
        let seg = self
            .segments
            .iter()
            .find(|s| index < s.end)
            .or(self.segments.last())?;
        (seg.rate > 0.0)
            .then(|| seg.anchor_time + ((index + 1) as f64 - seg.anchor_n as f64) / seg.rate)
    }

    /// The warning and gap of a data file that ends before the rates do (nothing when the
    /// file is whole).
    fn truncation_events(&self) -> VecDeque<SourceEvent> {
        let total = self.cfg.total_samples();
        let mut events = VecDeque::new();
        let Some(have) = self.available.filter(|&a| a < total) else {
            return events;
        };
        let missing = total - have;
        let start = self.time_of_sample(have);
        let end = self.time_of_sample(total - 1).and_then(|t| {
            let last_rate = self.segments.last().map_or(0.0, |s| s.rate);
            (last_rate > 0.0).then(|| t + 1.0 / last_rate)
        });
        let span = match (start, end) {
            (Some(s), Some(e)) if e > s => Some((s, e)),
            _ => None,
        };
        let cut = if self.partial_bytes > 0 {
            format!(" and {} bytes of a record cut short", self.partial_bytes)
        } else {
            String::new()
        };
        let seconds = span.map_or(String::new(), |(s, e)| format!(", {:.6} s", e - s));
        let line = self.cfg.rate_lines.last().copied().unwrap_or(1);
        events.push_back(SourceEvent::Warning(SourceWarning::at(
            self.data_location(),
            format!(
                "the data ends after record {have}{cut}, but the rates of the .cfg ({} line {line}, \
                 endsamp) end at sample {total}: the last {missing} samples{seconds} are missing \
                 (a recorder that stopped writing?); read up to the last whole record, the rest \
                 flagged as a gap (open strictly to refuse such a file)",
                self.cfg_location.file.display()
            ),
        )));
        if let Some((s, e)) = span {
            events.push_back(SourceEvent::Gap(Gap {
                start: self.info.start.add_seconds(s),
                end: self.info.start.add_seconds(e),
                first_missing_sample: Some(have),
                missing_samples: Some(missing),
                reason: format!(
                    "{}: the data ends after record {have} of {total}",
                    self.data.location().file.display()
                ),
            }));
        }
        events
    }
}

impl RecordingReader for ComtradeReader {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, max_samples: usize) -> Result<Option<Block>> {
        if self.failed {
            return Err(Error::format(
                self.cfg_location.clone(),
                "reading stopped at an earlier error",
            ));
        }
        let r = self.read_block_inner(max_samples);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn progress(&self) -> (u64, Option<u64>) {
        let (done, all) = self.data.progress();
        (done, Some(all))
    }

    fn next_event(&mut self, max_samples: usize) -> Result<Option<SourceEvent>> {
        if self.tail_done {
            return Ok(self.tail.pop_front());
        }
        match self.read_block(max_samples)? {
            Some(b) => Ok(Some(SourceEvent::Block(b))),
            None => {
                self.tail_done = true;
                self.tail = self.truncation_events();
                Ok(self.tail.pop_front())
            }
        }
    }
}

/// A block from decoded rows (through [`BlockBuilder`] when there are no analog channels,
/// since a planar block without channels has no length).
fn make_block(
    start: Timestamp,
    rate: f64,
    first: u64,
    n: usize,
    (n_a, n_d): (usize, usize),
    rows: Rows,
    times: Option<Vec<i64>>,
) -> Result<Block> {
    if n_a == 0 {
        let mut b = BlockBuilder::new(start, rate, first, 0, n_d, times.is_some());
        let mut states = vec![0u8; n_d];
        for i in 0..n {
            for (d, s) in states.iter_mut().enumerate() {
                *s = rows.digital[d * n + i];
            }
            b.push(&[], &states, times.as_ref().map_or(0, |t| t[i]));
        }
        return b.build();
    }
    let mut block = Block::from_planar(start, rate, first, n_a, rows.analog)?;
    if n_d > 0 {
        block = block.with_digital(n_d, rows.digital)?;
    }
    if let Some(t) = times {
        block = block.with_sample_times(t)?;
    }
    Ok(block)
}

/// The `.dat` beside a `.cfg`: same stem, extension `dat` in the `.cfg`'s case, then any case.
fn find_dat(cfg: &Path) -> Result<PathBuf> {
    let ext = cfg.extension().and_then(|e| e.to_str()).unwrap_or("cfg");
    let same_case: String = "dat"
        .chars()
        .zip(ext.chars())
        .map(|(d, c)| {
            if c.is_ascii_uppercase() {
                d.to_ascii_uppercase()
            } else {
                d
            }
        })
        .collect();
    for candidate in [same_case.as_str(), "dat", "DAT"] {
        let p = cfg.with_extension(candidate);
        if p.is_file() {
            return Ok(p);
        }
    }
    let stem = cfg.file_stem().unwrap_or_default();
    let dir = match cfg.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            let ext_ok = p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case("dat"));
            if ext_ok && p.file_stem() == Some(stem) {
                return Ok(p);
            }
        }
    }
    Err(Error::io(
        cfg.with_extension("dat"),
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the .dat file of this .cfg is missing",
        ),
    ))
}
