//! Streaming CSV reader.

use super::{infer, sidecar};
use crate::{OpenOptions, RecordingReader};
use pqe_core::{
    Block, BlockBuilder, Error, Gap, Location, RecordingInfo, Result, SourceEvent, Timestamp,
};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Rows the reader parses ahead when it opens a file, to infer the sample rate. Also the most
/// rows it holds beyond the block being built.
pub const LOOKAHEAD_ROWS: usize = 1024;

/// The largest `t` accepted, in seconds (about 126 years): every offset in nanoseconds then
/// fits an `i64` with room for the start time.
const MAX_T_SECONDS: f64 = 4e9;

/// How far a `t` value may lie from the uniform grid `t₀ + k / f_s`, in sample periods
/// (plus the precision the value was printed with).
const GRID_TOLERANCE: f64 = 0.5;
/// How far one interval `t_k − t_{k−1}` may differ from the period, in sample periods.
const INTERVAL_TOLERANCE: f64 = 0.1;

/// Reads a CSV recording (see [the module documentation](super)) as a stream of blocks.
///
/// ```no_run
/// use pqe_io::RecordingReader;
/// let mut reader = pqe_io::csv::CsvReader::open("rec.csv")?;
/// println!("{} channels at {} Hz", reader.info().channels.len(), reader.info().sample_rate);
/// while let Some(block) = reader.read_block(4096)? {
///     println!("{} samples from {}", block.len(), block.start());
/// }
/// # Ok::<(), pqe_core::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvReader {
    path: PathBuf,
    info: RecordingInfo,
    records: ::csv::Reader<BufReader<File>>,
    record: ::csv::ByteRecord,
    /// Header cells after `t`: analog names then digital names.
    columns: Vec<String>,
    decimal_comma: bool,
    /// Rows parsed but not yet delivered; an error ends the queue.
    pending: VecDeque<Result<Row>>,
    /// True once the file has no more rows to parse (or parsing failed).
    exhausted: bool,
    /// Rows parsed from the file so far.
    rows_parsed: u64,
    clock: Clock,
    next_sample: u64,
    finished: bool,
    bom_len: u64,
    file_len: u64,
    /// The time column: its name, its place and how its values read.
    time: TimeColumn,
    /// Refuse missing rows instead of reporting them as gaps.
    strict: bool,
    /// Gaps found, to hand out before the block that resumes the data.
    gaps: VecDeque<Gap>,
    /// A row placed after a gap, held for the next block.
    held: Option<(Row, Placed)>,
}

/// The column that times the rows: `t` (seconds from the recording's start), or an
/// absolute time column as spreadsheets and pandas write it.
#[derive(Debug, Clone, Default)]
struct TimeColumn {
    /// The column's name as the header writes it.
    name: String,
    /// Fields before it: 1 when an unnamed pandas index column comes first.
    index: usize,
    /// How its values read, settled by the first row.
    mode: TimeMode,
    /// Nanoseconds of the first row's absolute time (absolute modes).
    origin_ns: Option<i64>,
    /// Offset to UTC the first ISO 8601 value states, in seconds.
    utc_offset: Option<i32>,
}

/// How the values of the time column read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TimeMode {
    /// Seconds from the recording's start (`t`, or a time column of small numbers).
    #[default]
    Relative,
    /// Not settled yet: a time-named column before its first row.
    Unknown,
    /// ISO 8601 date and time.
    Iso,
    /// Unix time, in units of this many nanoseconds (s, ms, µs or ns).
    Epoch(i64),
}

impl CsvReader {
    /// Open `path`, read its header and sidecar (`<path>.json`, when present) and look ahead
    /// at most [`LOOKAHEAD_ROWS`] rows to settle the timing.
    ///
    /// Errors: the file cannot be read, has no header, its first column is not `t`, a column
    /// name is empty or repeated, or the sidecar does not match the header. Faults in the
    /// rows are reported by [`RecordingReader::read_block`] once the rows before them were
    /// delivered.
    ///
    /// Missing rows (a time that jumps by whole sample periods) are an error here;
    /// [`CsvReader::open_with`] without `strict` reports them as gaps.
    pub fn open(path: impl AsRef<Path>) -> Result<CsvReader> {
        Self::open_with(path, &OpenOptions::strict())
    }

    /// Open `path` as [`CsvReader::open`] does, with `options`: without `options.strict`,
    /// rows missing from a uniform time column (the time jumps by a whole number of sample
    /// periods) give a [`Gap`] event before the row that resumes the data, naming its line.
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<CsvReader> {
        let path = path.as_ref().to_path_buf();
        let loc = Location::file(&path);
        let mut file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        let (bom_len, delimiter) = sniff(&mut file).map_err(|e| Error::io(&path, e))?;
        file.seek(SeekFrom::Start(bom_len))
            .map_err(|e| Error::io(&path, e))?;
        let mut records = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 16, file));

        let mut record = ::csv::ByteRecord::new();
        let has_header = records
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(&path, e))?;
        if !has_header {
            return Err(Error::format(
                loc.at_line(1),
                "empty file: expected a header line starting with the column t",
            ));
        }
        let header_line = record.position().map_or(1, |p| p.line());
        let (time, columns) = header_columns(&record, &loc.at_line(header_line))?;

        let (info, sidecar_rate) = match sidecar::read(&path)? {
            Some(info) => {
                check_sidecar(&info, &columns, &path, header_line)?;
                let rate = info.sample_rate;
                (info, Some(rate))
            }
            None => {
                let channels = columns
                    .iter()
                    .map(|c| infer::channel_from_name(c))
                    .collect();
                (RecordingInfo::new(channels, 0.0, Timestamp::EPOCH), None)
            }
        };

        let mut reader = CsvReader {
            path,
            info,
            records,
            record,
            columns,
            decimal_comma: delimiter == b';',
            pending: VecDeque::new(),
            exhausted: false,
            rows_parsed: 0,
            clock: Clock::default(),
            next_sample: 0,
            finished: false,
            bom_len,
            file_len,
            time,
            strict: options.strict,
            gaps: VecDeque::new(),
            held: None,
        };
        reader.look_ahead(sidecar_rate)?;
        Ok(reader)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RecordingReader for CsvReader {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, max_samples: usize) -> Result<Option<Block>> {
        loop {
            match self.read_block_inner(max_samples)? {
                Some(b) => return Ok(Some(b)),
                // A gap before the next block: the block's start time shows it.
                None if !self.gaps.is_empty() => self.gaps.clear(),
                None => return Ok(None),
            }
        }
    }

    fn next_event(&mut self, max_samples: usize) -> Result<Option<SourceEvent>> {
        if let Some(g) = self.gaps.pop_front() {
            return Ok(Some(SourceEvent::Gap(g)));
        }
        match self.read_block_inner(max_samples)? {
            Some(b) => Ok(Some(SourceEvent::Block(b))),
            None => Ok(self.gaps.pop_front().map(SourceEvent::Gap)),
        }
    }

    fn progress(&self) -> (u64, Option<u64>) {
        (
            self.bom_len + self.records.position().byte(),
            Some(self.file_len),
        )
    }
}

// ----------------------------------------------------------------------------------------
// Rows

/// One parsed row.
#[derive(Debug, Clone, Default)]
struct Row {
    line: u64,
    t: f64,
    /// Decimal places `t` was written with.
    t_decimals: u32,
    analog: Vec<f64>,
    digital: Vec<u8>,
}

impl CsvReader {
    /// The next block; `Ok(None)` at the end, or when a gap was found before any row of the
    /// block (then the gap is queued and the row that resumes the data held).
    fn read_block_inner(&mut self, max_samples: usize) -> Result<Option<Block>> {
        if self.finished && self.held.is_none() {
            return Ok(None);
        }
        let mut limit = max_samples.max(1);
        let mut builder: Option<BlockBuilder> = None;
        let mut row = Row::default();
        while builder.as_ref().map_or(0, BlockBuilder::len) < limit {
            let step = if let Some((held, placed)) = self.held.take() {
                row = held;
                Ok(Some(placed))
            } else if self.finished {
                Ok(None)
            } else {
                self.next_row(&mut row).and_then(|more| match more {
                    true => self
                        .clock
                        .place(&row, self.next_sample, &self.path, self.strict)
                        .map(Some),
                    false => Ok(None),
                })
            };
            let mut placed = match step {
                Ok(Some(placed)) => placed,
                Ok(None) => {
                    self.finished = true;
                    break;
                }
                Err(e) => return self.fail(builder, e),
            };
            if placed.missing > 0 {
                let k = self.next_sample;
                let m = placed.missing;
                let at = |i: u64| self.info.start.add_seconds(i as f64 / self.clock.rate);
                self.gaps.push_back(Gap {
                    start: at(k),
                    end: at(k + m),
                    first_missing_sample: Some(k),
                    missing_samples: Some(m),
                    reason: format!(
                        "{}:{}: {m} rows are missing before this line (column {} jumps \
                         {:.9} s where a {} Hz rate steps {:.9} s)",
                        self.path.display(),
                        row.line,
                        self.time.name,
                        placed.jump,
                        self.clock.rate,
                        1.0 / self.clock.rate
                    ),
                });
                self.next_sample += m;
                placed.missing = 0;
                self.held = Some((row.clone(), placed));
                break;
            }
            if builder.is_none() {
                let k = self.next_sample;
                let (start, rate, room) = match self.clock.block_start(&self.info, &placed, k) {
                    Some(timing) => timing,
                    None => {
                        let at = Location::file(&self.path)
                            .at_line(row.line)
                            .field(format!("column {}", self.time.name));
                        let e = Error::format_after(at, "the time lies beyond the year 2262", k);
                        return self.fail(builder, e);
                    }
                };
                limit = limit.min(room);
                builder = Some(BlockBuilder::new(
                    start,
                    rate,
                    k,
                    row.analog.len(),
                    row.digital.len(),
                    self.clock.timing == Timing::Timed,
                ));
            }
            if let Some(b) = builder.as_mut() {
                b.push(&row.analog, &row.digital, placed.time_ns);
            }
            self.next_sample += 1;
        }
        builder.map(BlockBuilder::build).transpose()
    }

    /// Deliver `builder`'s samples before `error` when there are any; the error follows on
    /// the next call.
    fn fail(&mut self, builder: Option<BlockBuilder>, error: Error) -> Result<Option<Block>> {
        match builder {
            Some(b) if !b.is_empty() => {
                self.pending.push_front(Err(error));
                b.build().map(Some)
            }
            _ => {
                self.finished = true;
                Err(error)
            }
        }
    }

    /// The next row into `row`: from the look-ahead queue, else from the file. `Ok(false)`
    /// at the end of the file.
    fn next_row(&mut self, row: &mut Row) -> Result<bool> {
        match self.pending.pop_front() {
            Some(Ok(r)) => {
                *row = r;
                Ok(true)
            }
            Some(Err(e)) => Err(e),
            None if self.exhausted => Ok(false),
            None => match self.parse_next(row) {
                Ok(more) => {
                    self.exhausted = !more;
                    Ok(more)
                }
                Err(e) => {
                    self.exhausted = true;
                    Err(e)
                }
            },
        }
    }

    /// Parse the file's next record into `row`; `Ok(false)` at the end of the file.
    fn parse_next(&mut self, row: &mut Row) -> Result<bool> {
        if !self
            .records
            .read_byte_record(&mut self.record)
            .map_err(|e| csv_error(&self.path, e))?
        {
            return Ok(false);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        let valid = self.rows_parsed;
        let at = |column: &str| Location::file(&self.path).at_line(line).field(column);
        let first = self.time.index + 1;
        let expected = self.columns.len() + first;
        if self.record.len() != expected {
            let (column, what) = if self.record.len() < expected {
                let name = match self.record.len().checked_sub(first) {
                    Some(i) => &self.columns[i],
                    None => &self.time.name,
                };
                (format!("column {name}"), "missing")
            } else {
                (format!("field {}", expected + 1), "extra")
            };
            return Err(Error::format_after(
                at(&column),
                format!(
                    "{} fields where the header has {expected} ({what} field)",
                    self.record.len()
                ),
                valid,
            ));
        }
        let n_analog = self.info.channels.len();
        row.line = line;
        row.analog.clear();
        row.digital.clear();
        let time_field = format!("column {}", self.time.name);
        let t_text = cell_text(&self.record[self.time.index]);
        if t_text.is_empty() {
            return Err(Error::format_after(
                at(&time_field),
                format!("{} is empty", self.time.name),
                valid,
            ));
        }
        (row.t, row.t_decimals) = self
            .time
            .read(t_text, self.decimal_comma)
            .map_err(|why| Error::format_after(at(&time_field), why, valid))?;
        if row.t.is_nan() || row.t.abs() > MAX_T_SECONDS {
            return Err(Error::format_after(
                at(&time_field),
                format!(
                    "{} = {} s is not within ±{MAX_T_SECONDS} s of the first row",
                    self.time.name, row.t
                ),
                valid,
            ));
        }
        for (i, cell) in self.record.iter().skip(first).enumerate() {
            let text = cell_text(cell);
            if i < n_analog {
                let value = if text.is_empty() {
                    f64::NAN
                } else {
                    parse_number(text, self.decimal_comma).ok_or_else(|| {
                        not_a_number(at(&format!("column {}", self.columns[i])), cell, valid)
                    })?
                };
                row.analog.push(value);
            } else {
                let state = match text {
                    "0" | "0.0" | "false" | "False" => 0,
                    "1" | "1.0" | "true" | "True" => 1,
                    _ => {
                        return Err(Error::format_after(
                            at(&format!("column {}", self.columns[i])),
                            format!(
                                "'{}' is not a digital state (0 or 1)",
                                String::from_utf8_lossy(cell).trim()
                            ),
                            valid,
                        ))
                    }
                };
                row.digital.push(state);
            }
        }
        self.rows_parsed += 1;
        Ok(true)
    }

    /// Parse up to [`LOOKAHEAD_ROWS`] rows and settle the timing and start time from them.
    /// `sidecar_rate` is the rate a sidecar states.
    fn look_ahead(&mut self, sidecar_rate: Option<f64>) -> Result<()> {
        let mut row = Row::default();
        while self.pending.len() < LOOKAHEAD_ROWS && !self.exhausted {
            match self.parse_next(&mut row) {
                Ok(true) => self.pending.push_back(Ok(row.clone())),
                Ok(false) => self.exhausted = true,
                Err(e) => {
                    self.pending.push_back(Err(e));
                    self.exhausted = true;
                }
            }
        }
        let times: Vec<(f64, u32)> = self
            .pending
            .iter()
            .map_while(|r| r.as_ref().ok())
            .map(|r| (r.t, r.t_decimals))
            .collect();
        let segmented = self.info.rate_segments.len() > 1;
        let rate = match sidecar_rate {
            Some(rate) => rate,
            None => infer::estimate_rate(&times).unwrap_or(0.0),
        };
        self.info.sample_rate = rate;
        if let Some(origin) = self.time.origin_ns {
            // An absolute time column states the start (over a sidecar's).
            self.info.start = Timestamp(origin);
            if let Some(offset) = self.time.utc_offset {
                self.info.time_code = Some(time_code(offset));
            }
        }
        let t0 = times.first().map(|t| t.0);
        if let Some(t0) = t0 {
            let ns = (t0 * 1e9).round() as i64;
            self.info.start = match self.info.start.as_nanos().checked_add(ns) {
                Some(start) => Timestamp(start),
                None => {
                    return Err(Error::format(
                        Location::file(sidecar::sidecar_path(&self.path)).field("start_ns"),
                        format!("the start plus t = {t0} s lies beyond the year 2262"),
                    ))
                }
            };
        }
        self.clock = Clock {
            timing: if segmented {
                Timing::Segmented
            } else if rate > 0.0 {
                Timing::Uniform
            } else {
                Timing::Timed
            },
            rate,
            t0: t0.unwrap_or(0.0),
            decimals: times.iter().map(|t| t.1).max().unwrap_or(0),
            previous: None,
            name: self.time.name.clone(),
        };
        Ok(())
    }
}

// ----------------------------------------------------------------------------------------
// Timing

/// How the rows' times become block times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Timing {
    /// A constant rate: `t` must lie on the grid `t₀ + k / rate`.
    #[default]
    Uniform,
    /// Samples timed individually (sidecar rate 0, or too few rows to infer a rate).
    Timed,
    /// Several rates, as the sidecar's `rate_segments` list them; `t` must increase.
    Segmented,
}

/// Checks each row's `t` and places it in time.
#[derive(Debug, Clone, Default)]
struct Clock {
    timing: Timing,
    rate: f64,
    t0: f64,
    /// The most decimal places a `t` value was written with so far: the column's precision.
    decimals: u32,
    /// The previous row's `t`.
    previous: Option<f64>,
    /// The time column's name, for messages.
    name: String,
}

/// Where a row lies in time.
#[derive(Debug, Clone, Copy)]
struct Placed {
    /// Nanoseconds from the recording's start (for individually timed samples).
    time_ns: i64,
    /// Samples missing before this row (a uniform column that jumps whole periods).
    missing: u64,
    /// The jump from the previous row, in seconds (for the gap's message).
    jump: f64,
}

impl Clock {
    /// Check `row` (sample number `k`) against the rows before it and place it in time.
    ///
    /// In a uniform column, a row that lies on the grid whole periods later than due has
    /// rows missing before it: `missing` says how many (with `strict`, an error).
    fn place(&mut self, row: &Row, k: u64, path: &Path, strict: bool) -> Result<Placed> {
        let at = Location::file(path)
            .at_line(row.line)
            .field(format!("column {}", self.name));
        let name = &self.name;
        self.decimals = self.decimals.max(row.t_decimals);
        let mut missing = 0;
        let mut jump = 0.0;
        if let Some(previous) = self.previous {
            jump = row.t - previous;
            if row.t <= previous {
                return Err(Error::format_after(
                    at,
                    format!("{name} does not increase: {} after {previous}", row.t),
                    k,
                ));
            }
            if self.timing == Timing::Uniform {
                let period = 1.0 / self.rate;
                // The column's printing precision, but never so coarse that it hides a
                // missing sample.
                let slack = infer::resolution(self.decimals).min(0.05 * period);
                let interval = row.t - previous;
                let expected = self.t0 + k as f64 * period;
                let grid_slack = GRID_TOLERANCE * period + slack + 1e-12 * row.t.abs();
                // Rows missing: the row lies on the grid, whole periods after its due time.
                let on_grid = ((row.t - self.t0) / period).round();
                let skipped = on_grid - k as f64;
                let lands = (row.t - (self.t0 + on_grid * period)).abs()
                    <= INTERVAL_TOLERANCE * period + 2.0 * slack + 1e-12 * row.t.abs();
                if !strict && (1.0..1e15).contains(&skipped) && lands {
                    missing = skipped as u64;
                } else if (interval - period).abs() > INTERVAL_TOLERANCE * period + 2.0 * slack
                    || (row.t - expected).abs() > grid_slack
                {
                    return Err(Error::format_after(
                        at,
                        format!(
                            "{name} is not uniform: {} follows {previous} where a {} Hz rate \
                             puts sample {k} at {expected}{}",
                            row.t,
                            self.rate,
                            if skipped >= 1.0 && lands {
                                format!(
                                    " ({} rows missing; read leniently to go on past them)",
                                    skipped
                                )
                            } else {
                                " (irregular spacing)".to_string()
                            }
                        ),
                        k,
                    ));
                }
            }
        }
        self.previous = Some(row.t);
        Ok(Placed {
            time_ns: ((row.t - self.t0) * 1e9).round() as i64,
            missing,
            jump,
        })
    }

    /// Start time, rate and the most samples of a block whose first sample, number `k`, is
    /// `placed`; `None` when the start does not fit a [`Timestamp`].
    fn block_start(
        &self,
        info: &RecordingInfo,
        placed: &Placed,
        k: u64,
    ) -> Option<(Timestamp, f64, usize)> {
        let shifted = |ns: i64| info.start.as_nanos().checked_add(ns).map(Timestamp);
        Some(match self.timing {
            Timing::Uniform => {
                let ns = (k as f64 * 1e9 / self.rate).round();
                if ns.abs() >= i64::MAX as f64 {
                    return None;
                }
                (shifted(ns as i64)?, self.rate, usize::MAX)
            }
            Timing::Timed => (shifted(placed.time_ns)?, 0.0, usize::MAX),
            Timing::Segmented => {
                let segment = info
                    .rate_segments
                    .iter()
                    .find(|(_, end)| *end > k)
                    .or(info.rate_segments.last());
                let (rate, room) = match segment {
                    Some(&(rate, end)) if end > k => (rate, (end - k) as usize),
                    Some(&(rate, _)) => (rate, usize::MAX),
                    None => (0.0, usize::MAX),
                };
                (shifted(placed.time_ns)?, rate, room)
            }
        })
    }
}

// ----------------------------------------------------------------------------------------
// Header and cells

/// The BOM length (0 or 3) and the separator, from the file's first line.
fn sniff(file: &mut File) -> std::io::Result<(u64, u8)> {
    let mut head = Vec::with_capacity(1 << 16);
    file.by_ref().take(1 << 16).read_to_end(&mut head)?;
    let bom_len = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let first_line = head[bom_len..]
        .split(|b| *b == b'\n')
        .next()
        .unwrap_or_default();
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for b in first_line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    let delimiter = if semicolons > commas { b';' } else { b',' };
    Ok((bom_len as u64, delimiter))
}

/// Names of an absolute time column, compared without case, spaces, `_` or `-`: what
/// pandas, spreadsheets and loggers call it.
const TIME_COLUMN_NAMES: &[&str] = &[
    "time",
    "timestamp",
    "timestamps",
    "datetime",
    "date",
    "datetimeutc",
    "timeutc",
    "utc",
    "epoch",
    "unixtime",
    "timestamputc",
];

/// Whether `name` names a time column other than `t`.
fn is_time_name(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    TIME_COLUMN_NAMES.contains(&key.as_str())
}

/// The time column and the channel columns named by the header record. The time column is
/// `t` (seconds from the start), or a time-named column (`time`, `timestamp`, `datetime`,
/// `date_time`, …) holding ISO 8601 or Unix times or seconds; an unnamed first column
/// before a time-named one is a pandas index and is skipped.
fn header_columns(record: &::csv::ByteRecord, at: &Location) -> Result<(TimeColumn, Vec<String>)> {
    let mut names = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        let name = std::str::from_utf8(cell)
            .map_err(|_| {
                Error::format(
                    at.field(format!("column {}", i + 1)),
                    "the header is not UTF-8 text",
                )
            })?
            .trim()
            .to_string();
        names.push(name);
    }
    let mut time = TimeColumn::default();
    let index_first = names.len() > 1 && names[0].is_empty() && is_time_name(&names[1]);
    if index_first {
        // pandas wrote its index (unnamed) before the time column.
        time.index = 1;
        names.remove(0);
    }
    match names.first().map(String::as_str) {
        Some(t) if t.eq_ignore_ascii_case("t") => time.mode = TimeMode::Relative,
        Some(t) if is_time_name(t) => time.mode = TimeMode::Unknown,
        Some("") => {
            return Err(Error::format(
                at.field("column 1"),
                "the first column has no name where the time is expected (t, seconds from \
                 the recording's start, or a time, timestamp or datetime column); an unnamed \
                 first column is usually a pandas index, written without index=False",
            ))
        }
        other => {
            return Err(Error::format(
                at.field("column 1"),
                format!(
                    "the first column must be t (seconds from the recording's start) or an \
                     absolute time column named time, timestamp or datetime (ISO 8601 or Unix \
                     time), not '{}'",
                    other.unwrap_or_default()
                ),
            ))
        }
    }
    time.name = names[0].clone();
    let skipped = time.index + 1;
    names.remove(0);
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::format(
                at.field(format!("column {}", i + 1 + skipped)),
                "column without a name",
            ));
        }
        if name.contains(['\n', '\r']) {
            return Err(Error::format(
                at.field(format!("column {}", i + 1 + skipped)),
                "the column name spans lines (an unbalanced quote?)",
            ));
        }
        if names[..i].contains(name)
            || name.eq_ignore_ascii_case("t")
            || name.eq_ignore_ascii_case(&time.name)
        {
            return Err(Error::format(
                at.field(format!("column {name}")),
                "the column name appears twice",
            ));
        }
    }
    Ok((time, names))
}

impl TimeColumn {
    /// One value of the column as seconds from the first row (from the recording's start
    /// for `t`) and the decimal places of its printed precision. The first row settles how
    /// the column reads: ISO 8601, Unix time (seconds, ms, µs or ns by magnitude: from
    /// 1e8 s, i.e. 1973, on) or seconds from the start (smaller numbers).
    fn read(&mut self, text: &str, decimal_comma: bool) -> std::result::Result<(f64, u32), String> {
        if self.mode == TimeMode::Unknown {
            self.mode = if Timestamp::parse_iso8601(text).is_some() {
                TimeMode::Iso
            } else {
                let v = parse_number(text, decimal_comma).ok_or_else(|| {
                    format!("'{text}' is neither an ISO 8601 date and time nor a number of seconds")
                })?;
                match v.abs() {
                    a if a >= 1e17 => TimeMode::Epoch(1),
                    a if a >= 1e14 => TimeMode::Epoch(1_000),
                    a if a >= 1e11 => TimeMode::Epoch(1_000_000),
                    a if a >= 1e8 => TimeMode::Epoch(1_000_000_000),
                    _ => TimeMode::Relative,
                }
            };
        }
        let (ns, decimals) = match self.mode {
            TimeMode::Relative | TimeMode::Unknown => {
                let t = parse_number(text, decimal_comma)
                    .ok_or_else(|| format!("'{text}' is not a number"))?;
                return Ok((t, infer::decimals(text)));
            }
            TimeMode::Iso => {
                let (t, offset) = Timestamp::parse_iso8601(text).ok_or_else(|| {
                    format!("'{text}' is not an ISO 8601 date and time like the first row's")
                })?;
                if self.origin_ns.is_none() {
                    self.utc_offset = offset;
                } else if offset != self.utc_offset {
                    return Err(format!(
                        "'{text}' states another offset to UTC than the first row"
                    ));
                }
                let fraction = text
                    .split(['+', 'Z'])
                    .next()
                    .and_then(|t| t.get(19..))
                    .and_then(|f| f.strip_prefix('.'))
                    .map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
                (t.as_nanos(), fraction as u32)
            }
            TimeMode::Epoch(unit_ns) => {
                let ns = decimal_to_ns(text, unit_ns, decimal_comma)
                    .ok_or_else(|| format!("'{text}' is not a Unix time like the first row's"))?;
                // Decimal places in seconds: those of the number plus the unit's.
                let unit_places = match unit_ns {
                    1 => 9,
                    1_000 => 6,
                    1_000_000 => 3,
                    _ => 0,
                };
                (ns, infer::decimals(text) + unit_places)
            }
        };
        let origin = *self.origin_ns.get_or_insert(ns);
        Ok((ns.saturating_sub(origin) as f64 * 1e-9, decimals))
    }
}

/// A decimal number of units of `unit_ns` nanoseconds, exactly to the nanosecond where it
/// is written without exponent (`1709294400.000125` s); through `f64` otherwise.
fn decimal_to_ns(text: &str, unit_ns: i64, decimal_comma: bool) -> Option<i64> {
    let text = text.trim();
    let plain = text
        .trim_start_matches(['+', '-'])
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || (decimal_comma && b == b','));
    if !plain {
        let v = parse_number(text, decimal_comma)? * unit_ns as f64;
        return (v.is_finite() && v.abs() < 9.2e18).then(|| v.round() as i64);
    }
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches(['+', '-']);
    let (whole, fraction) = digits.split_once(['.', ',']).unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains(['.', ',']) {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut ns = whole.checked_mul(unit_ns)?;
    // The fraction in nanoseconds: its digits scaled to the unit, beyond 1 ns dropped.
    let mut scale = unit_ns;
    for d in fraction.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        ns = ns.checked_add(i64::from(d - b'0') * scale)?;
    }
    Some(if negative { -ns } else { ns })
}

/// An offset to UTC in seconds as COMTRADE 2013 writes `time_code`: `0`, `+1`, `-5h30`.
fn time_code(offset: i32) -> String {
    let (sign, a) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    match (a / 3600, a % 3600 / 60) {
        (0, 0) => "0".to_string(),
        (h, 0) => format!("{sign}{h}"),
        (h, m) => format!("{sign}{h}h{m:02}"),
    }
}

/// Check that the sidecar names the header's columns, analog then digital.
fn check_sidecar(
    info: &RecordingInfo,
    columns: &[String],
    path: &Path,
    header_line: u64,
) -> Result<()> {
    let described: Vec<&str> = info
        .channels
        .iter()
        .map(|c| c.name.as_str())
        .chain(info.digital_channels.iter().map(|d| d.name.as_str()))
        .collect();
    let sidecar = sidecar::sidecar_path(path);
    for (i, column) in columns.iter().enumerate() {
        match described.get(i) {
            Some(name) if name == column => {}
            Some(name) => {
                return Err(Error::format(
                    Location::file(path)
                        .at_line(header_line)
                        .field(format!("column {column}")),
                    format!(
                        "the sidecar {} names column {} '{name}'",
                        sidecar.display(),
                        i + 2
                    ),
                ))
            }
            None => {
                return Err(Error::format(
                    Location::file(path)
                        .at_line(header_line)
                        .field(format!("column {column}")),
                    format!(
                        "the sidecar {} does not describe this column",
                        sidecar.display()
                    ),
                ))
            }
        }
    }
    if let Some(missing) = described.get(columns.len()) {
        return Err(Error::format(
            Location::file(&sidecar).field(format!("channel {missing}")),
            format!("no column of {} is named '{missing}'", path.display()),
        ));
    }
    Ok(())
}

/// A cell as trimmed text (invalid UTF-8 gives text that parses as nothing).
fn cell_text(cell: &[u8]) -> &str {
    std::str::from_utf8(cell).map_or("\u{FFFD}", str::trim)
}

/// A number, with a decimal comma accepted when the separator is `;`.
fn parse_number(text: &str, decimal_comma: bool) -> Option<f64> {
    match text.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) if decimal_comma && text.contains(',') && !text.contains('.') => {
            text.replacen(',', ".", 1).parse().ok()
        }
        Err(_) => None,
    }
}

fn not_a_number(at: Location, cell: &[u8], valid: u64) -> Error {
    Error::format_after(
        at,
        format!("'{}' is not a number", String::from_utf8_lossy(cell).trim()),
        valid,
    )
}

/// A fault the CSV tokenizer reports: an I/O error (with quoting, the flexible byte reader
/// has no other kind, but any is reported with its line).
fn csv_error(path: &Path, e: ::csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    let message = e.to_string();
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::io(path, io),
        _ => {
            let loc = Location::file(path);
            Error::format(line.map_or(loc.clone(), |l| loc.at_line(l)), message)
        }
    }
}
