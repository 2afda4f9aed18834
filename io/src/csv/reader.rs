//! Streaming CSV reader.

use super::{infer, sidecar};
use crate::RecordingReader;
use pqe_core::{Block, BlockBuilder, Error, Location, RecordingInfo, Result, Timestamp};
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
}

impl CsvReader {
    /// Open `path`, read its header and sidecar (`<path>.json`, when present) and look ahead
    /// at most [`LOOKAHEAD_ROWS`] rows to settle the timing.
    ///
    /// Errors: the file cannot be read, has no header, its first column is not `t`, a column
    /// name is empty or repeated, or the sidecar does not match the header. Faults in the
    /// rows are reported by [`RecordingReader::read_block`] once the rows before them were
    /// delivered.
    pub fn open(path: impl AsRef<Path>) -> Result<CsvReader> {
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
        let columns = header_columns(&record, &loc.at_line(header_line))?;

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
        if self.finished {
            return Ok(None);
        }
        let mut limit = max_samples.max(1);
        let mut builder: Option<BlockBuilder> = None;
        let mut row = Row::default();
        while builder.as_ref().map_or(0, BlockBuilder::len) < limit {
            let step = self.next_row(&mut row).and_then(|more| match more {
                true => self
                    .clock
                    .place(&row, self.next_sample, &self.path)
                    .map(Some),
                false => Ok(None),
            });
            let placed = match step {
                Ok(Some(placed)) => placed,
                Ok(None) => {
                    self.finished = true;
                    break;
                }
                Err(e) => return self.fail(builder, e),
            };
            if builder.is_none() {
                let k = self.next_sample;
                let (start, rate, room) = match self.clock.block_start(&self.info, &placed, k) {
                    Some(timing) => timing,
                    None => {
                        let at = Location::file(&self.path)
                            .at_line(row.line)
                            .field("column t");
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
        let expected = self.columns.len() + 1;
        if self.record.len() != expected {
            let (column, what) = if self.record.len() < expected {
                (
                    format!("column {}", self.columns[self.record.len().max(1) - 1]),
                    "missing",
                )
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
        let t_text = cell_text(&self.record[0]);
        if t_text.is_empty() {
            return Err(Error::format_after(at("column t"), "t is empty", valid));
        }
        row.t = parse_number(t_text, self.decimal_comma)
            .ok_or_else(|| not_a_number(at("column t"), &self.record[0], valid))?;
        row.t_decimals = infer::decimals(t_text);
        if row.t.is_nan() || row.t.abs() > MAX_T_SECONDS {
            return Err(Error::format_after(
                at("column t"),
                format!("t = {} s is not within ±{MAX_T_SECONDS} s", row.t),
                valid,
            ));
        }
        for (i, cell) in self.record.iter().skip(1).enumerate() {
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
}

/// Where a row lies in time.
#[derive(Debug, Clone, Copy)]
struct Placed {
    /// Nanoseconds from the recording's start (for individually timed samples).
    time_ns: i64,
}

impl Clock {
    /// Check `row` (sample number `k`) against the rows before it and place it in time.
    fn place(&mut self, row: &Row, k: u64, path: &Path) -> Result<Placed> {
        let at = Location::file(path).at_line(row.line).field("column t");
        self.decimals = self.decimals.max(row.t_decimals);
        if let Some(previous) = self.previous {
            if row.t <= previous {
                return Err(Error::format_after(
                    at,
                    format!("t does not increase: {} after {previous}", row.t),
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
                if (interval - period).abs() > INTERVAL_TOLERANCE * period + 2.0 * slack
                    || (row.t - expected).abs() > grid_slack
                {
                    return Err(Error::format_after(
                        at,
                        format!(
                            "t is not uniform: {} follows {previous} where a {} Hz rate puts \
                             sample {k} at {expected}",
                            row.t, self.rate
                        ),
                        k,
                    ));
                }
            }
        }
        self.previous = Some(row.t);
        Ok(Placed {
            time_ns: ((row.t - self.t0) * 1e9).round() as i64,
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

/// The channel columns named by the header record, after checking the first is `t`.
fn header_columns(record: &::csv::ByteRecord, at: &Location) -> Result<Vec<String>> {
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
    match names.first().map(String::as_str) {
        Some(t) if t.eq_ignore_ascii_case("t") => {}
        Some("") => {
            return Err(Error::format(
                at.field("column 1"),
                "the first column has no name where t (seconds from the recording's start) \
                 is expected; an unnamed first column is usually a pandas index, written \
                 without index=False",
            ))
        }
        other => {
            return Err(Error::format(
                at.field("column 1"),
                format!(
                    "the first column must be t (seconds from the recording's start), not '{}'",
                    other.unwrap_or_default()
                ),
            ))
        }
    }
    names.remove(0);
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::format(
                at.field(format!("column {}", i + 2)),
                "column without a name",
            ));
        }
        if name.contains(['\n', '\r']) {
            return Err(Error::format(
                at.field(format!("column {}", i + 2)),
                "the column name spans lines (an unbalanced quote?)",
            ));
        }
        if names[..i].contains(name) || name.eq_ignore_ascii_case("t") {
            return Err(Error::format(
                at.field(format!("column {name}")),
                "the column name appears twice",
            ));
        }
    }
    Ok(names)
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
