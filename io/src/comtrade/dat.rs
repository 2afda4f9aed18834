//! The data (`.dat`) file of C37.111, decoded in bounded chunks: ASCII records (text lines)
//! and binary records (BINARY, BINARY32, FLOAT32).
//!
//! Every record is `n,timestamp,A1..Ak,D1..Dm`. Binary records store `n` and `timestamp` as
//! 4-byte unsigned little-endian integers, the analog values as int16 (BINARY), int32
//! (BINARY32) or IEEE 754 single (FLOAT32), and the status channels packed 16 to a 2-byte
//! word, channel 1 in the least significant bit.

use super::{ComtradeConfig, DataFormat, Revision};
use pqe_core::{Error, Location, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};

/// A missing time stamp (all bits set).
pub(crate) const TIMESTAMP_MISSING: u32 = 0xFFFF_FFFF;
/// A missing FLOAT32 value's bit pattern as writers use it.
pub(crate) const FLOAT32_MISSING: u32 = 0xFFFF_FFFF;

/// Decoded rows of one block: planar analog values (channel `c` at `c * n .. (c + 1) * n`),
/// planar digital states, and time stamps in file units (`None` for a missing one).
pub(crate) struct Rows {
    pub analog: Vec<f64>,
    pub digital: Vec<u8>,
    pub stamps: Vec<Option<f64>>,
    /// Whether the time stamps are wanted (rate 0); otherwise `stamps` stays empty.
    pub timed: bool,
}

impl Rows {
    /// Keep the first `k` of the `n` rows the planar buffers were laid out for.
    pub(crate) fn keep_first(&mut self, n: usize, k: usize) {
        fn cut<T: Copy>(v: &mut Vec<T>, n: usize, k: usize) {
            if n == 0 {
                return;
            }
            let channels = v.len() / n;
            let kept: Vec<T> = (0..channels)
                .flat_map(|c| v[c * n..c * n + k].iter().copied())
                .collect();
            *v = kept;
        }
        cut(&mut self.analog, n, k);
        cut(&mut self.digital, n, k);
        self.stamps.truncate(k);
    }

    /// Room for `n` rows; `zeroed` fills the planar buffers for writing by index (ASCII),
    /// otherwise they are appended to (binary).
    pub(crate) fn new(
        n_analog: usize,
        n_digital: usize,
        n: usize,
        timed: bool,
        zeroed: bool,
    ) -> Self {
        let (analog, digital) = if zeroed {
            (vec![0.0; n_analog * n], vec![0; n_digital * n])
        } else {
            (
                Vec::with_capacity(n_analog * n),
                Vec::with_capacity(n_digital * n),
            )
        };
        Rows {
            analog,
            digital,
            stamps: Vec::with_capacity(if timed { n } else { 0 }),
            timed,
        }
    }
}

/// Streams records out of a data file (or the DAT section of a `.cff`).
pub(crate) struct DatStream {
    src: BufReader<File>,
    loc: Location,
    /// File offset of the first data byte (0 for a `.dat`).
    base_offset: u64,
    /// Data bytes there are to read.
    len: u64,
    /// Data bytes consumed.
    pos: u64,
    /// File line number of the last line read (ASCII).
    line: u64,
    format: DataFormat,
    /// ASCII only: whether the last line read ended with a line end (a last line without one
    /// may be a record cut short).
    last_line_ended: bool,
    /// ASCII only: `99999` marks a missing value (1999 and later, as python-comtrade reads).
    ascii_99999_missing: bool,
    record: usize,
    scale: Vec<(f64, f64)>,
    n_digital: usize,
    buf: Vec<u8>,
}

impl DatStream {
    /// A stream over `len` data bytes starting at the reader's position, which is file
    /// offset `base_offset`; `first_line` is the file line number before the first data line.
    pub(crate) fn new(
        src: BufReader<File>,
        loc: Location,
        base_offset: u64,
        len: u64,
        first_line: u64,
        cfg: &ComtradeConfig,
    ) -> Self {
        DatStream {
            src,
            loc,
            base_offset,
            len,
            pos: 0,
            line: first_line,
            format: cfg.format,
            last_line_ended: true,
            ascii_99999_missing: cfg.revision != Revision::R1991,
            record: cfg.record_size().unwrap_or(0),
            scale: cfg.analog.iter().map(|c| (c.a, c.b)).collect(),
            n_digital: cfg.digital.len(),
            buf: Vec::new(),
        }
    }

    /// Where the data is (the `.dat`, or the `.cff`), at the current line or byte.
    pub(crate) fn location(&self) -> Location {
        if self.format == DataFormat::Ascii {
            self.loc.at_line(self.line)
        } else {
            self.loc.at_byte(self.base_offset + self.pos)
        }
    }

    /// Data bytes consumed and in all.
    pub(crate) fn progress(&self) -> (u64, u64) {
        (self.pos, self.len)
    }

    /// Decode the next `n` records into `rows`; `done` samples were read before them (for the
    /// error's count of good samples). With `lenient`, an ASCII file that ends early (no
    /// more lines, or a last line cut short without its line end) gives the whole records
    /// before its end instead of an error: the count of rows read, `rows` cut to it.
    pub(crate) fn read_rows_upto(
        &mut self,
        n: usize,
        rows: &mut Rows,
        done: u64,
        lenient: bool,
    ) -> Result<usize> {
        if self.format != DataFormat::Ascii {
            self.binary_rows(n, rows, done)?;
            return Ok(n);
        }
        for i in 0..n {
            match self.ascii_row(i, n, rows, done + i as u64) {
                Ok(()) => {}
                Err(_) if lenient && self.pos >= self.len && !self.last_line_ended => {
                    // No line left, or the last line is cut short: the data ends here.
                    rows.keep_first(n, i);
                    return Ok(i);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    /// After the last announced sample: anything but blank lines or SUB padding is an error.
    pub(crate) fn check_end(&mut self, total: u64) -> Result<()> {
        if self.format != DataFormat::Ascii {
            let rest = self.len - self.pos;
            if rest > 0 {
                return Err(Error::format_after(
                    self.loc.at_byte(self.base_offset + self.pos),
                    format!(
                        "{rest} bytes follow the last of the {total} samples the .cfg's rates \
                         announce"
                    ),
                    total,
                ));
            }
            return Ok(());
        }
        let mut line = Vec::new();
        while self.next_line(&mut line)? {
            if !is_blank(&line) {
                return Err(Error::format_after(
                    self.loc.at_line(self.line),
                    format!(
                        "a record follows the last of the {total} samples the .cfg's rates \
                         announce (check the last endsamp)"
                    ),
                    total,
                ));
            }
        }
        Ok(())
    }

    /// Read one line (without its end) into `line`; false at the end of the data.
    fn next_line(&mut self, line: &mut Vec<u8>) -> Result<bool> {
        line.clear();
        if self.pos >= self.len {
            self.last_line_ended = false;
            return Ok(false);
        }
        let limit = self.len - self.pos;
        let n = (&mut self.src)
            .take(limit)
            .read_until(b'\n', line)
            .map_err(|e| Error::io(&self.loc.file, e))?;
        if n == 0 {
            self.last_line_ended = false;
            return Ok(false);
        }
        self.pos += n as u64;
        self.line += 1;
        self.last_line_ended = line.last() == Some(&b'\n');
        while matches!(line.last(), Some(b'\n' | b'\r' | 0x1A)) {
            line.pop();
        }
        Ok(true)
    }

    fn ascii_row(&mut self, i: usize, n: usize, rows: &mut Rows, done: u64) -> Result<()> {
        let mut line = std::mem::take(&mut self.buf);
        let result = self.ascii_row_in(&mut line, i, n, rows, done);
        self.buf = line;
        result
    }

    fn ascii_row_in(
        &mut self,
        line: &mut Vec<u8>,
        i: usize,
        n: usize,
        rows: &mut Rows,
        done: u64,
    ) -> Result<()> {
        // Blank lines (and SUB padding) between records are skipped.
        loop {
            if !self.next_line(line)? {
                return Err(Error::format_after(
                    self.loc.at_line(self.line + 1),
                    "the data ends before the last sample the .cfg's rates announce \
                     (truncated file, or check the last endsamp)",
                    done,
                ));
            }
            if !is_blank(line) {
                break;
            }
        }
        let at = self.loc.at_line(self.line);
        let text = std::str::from_utf8(line)
            .map_err(|_| Error::format_after(at.clone(), "the record is not text", done))?;
        let n_analog = self.scale.len();
        let expected = 2 + n_analog + self.n_digital;
        let mut fields = text.split(',').map(str::trim);
        let bad_count = || {
            let found = text.split(',').count();
            let used = text
                .split(',')
                .map(str::trim)
                .collect::<Vec<_>>()
                .iter()
                .rposition(|s| !s.is_empty())
                .map_or(0, |p| p + 1);
            Error::format_after(
                at.clone(),
                format!(
                    "{} fields where the .cfg describes {expected} (n, timestamp, {n_analog} \
                     analog, {} status)",
                    if found > expected { used } else { found },
                    self.n_digital
                ),
                done,
            )
        };
        // Sample number: numeric, not otherwise used (readers must not rely on it).
        let sample = fields.next().unwrap_or("");
        if sample.parse::<u64>().is_err() {
            return Err(Error::format_after(
                at.clone().field("sample number n"),
                format!("'{sample}' is not a sample number"),
                done,
            ));
        }
        let Some(stamp) = fields.next() else {
            return Err(bad_count());
        };
        let stamp = if stamp.is_empty() {
            None
        } else {
            Some(
                stamp
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite())
                    .ok_or_else(|| {
                        Error::format_after(
                            at.clone().field("timestamp"),
                            format!("'{stamp}' is not a time stamp"),
                            done,
                        )
                    })?,
            )
        };
        if rows.timed {
            rows.stamps.push(stamp);
        }
        for c in 0..n_analog {
            let Some(f) = fields.next() else {
                return Err(bad_count());
            };
            let (a, b) = self.scale[c];
            let v = if f.is_empty() || (self.ascii_99999_missing && f == "99999") {
                f64::NAN
            } else {
                let x: f64 = f
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite())
                    .ok_or_else(|| {
                        Error::format_after(
                            at.clone().field(format!("analog channel {}", c + 1)),
                            format!("'{f}' is not a number"),
                            done,
                        )
                    })?;
                a * x + b
            };
            rows.analog[c * n + i] = v;
        }
        for d in 0..self.n_digital {
            let Some(f) = fields.next() else {
                return Err(bad_count());
            };
            rows.digital[d * n + i] = match f {
                "0" => 0,
                "1" => 1,
                _ => {
                    return Err(Error::format_after(
                        at.clone().field(format!("status channel {}", d + 1)),
                        format!("status '{f}' should be 0 or 1"),
                        done,
                    ))
                }
            };
        }
        // Trailing commas leave empty fields; anything else is a field too many.
        if fields.any(|f| !f.is_empty()) {
            return Err(bad_count());
        }
        Ok(())
    }

    fn binary_rows(&mut self, n: usize, rows: &mut Rows, done: u64) -> Result<()> {
        let rec = self.record;
        let avail = self.len - self.pos;
        let whole = (avail / rec as u64).min(n as u64) as usize;
        let bytes = whole * rec;
        self.buf.resize(bytes, 0);
        self.src
            .read_exact(&mut self.buf)
            .map_err(|e| Error::io(&self.loc.file, e))?;
        let start_pos = self.pos;
        self.pos += bytes as u64;
        let buf = &self.buf[..bytes];

        if rows.timed {
            for r in buf.chunks_exact(rec) {
                let ts = u32::from_le_bytes([r[4], r[5], r[6], r[7]]);
                rows.stamps
                    .push((ts != TIMESTAMP_MISSING).then_some(f64::from(ts)));
            }
        }
        // Channel by channel, appending: the planar output is written once, sequentially,
        // and never zero-filled first.
        let width = self.format.analog_width().unwrap_or(2);
        let word0 = 8 + self.scale.len() * width;
        rows.analog.clear();
        rows.digital.clear();
        for (c, &(a, b)) in self.scale.iter().enumerate() {
            let start = rows.analog.len();
            decode_column(self.format, buf, rec, 8 + c * width, a, b, &mut rows.analog);
            // A short read leaves the column short; pad so the layout stays planar.
            rows.analog.resize(start + n, f64::NAN);
        }
        for d in 0..self.n_digital {
            let off = word0 + (d / 16) * 2;
            let bit = d % 16;
            let start = rows.digital.len();
            rows.digital.extend(
                buf.chunks_exact(rec)
                    .map(|r| ((u16::from_le_bytes([r[off], r[off + 1]]) >> bit) & 1) as u8),
            );
            rows.digital.resize(start + n, 0);
        }

        if whole < n {
            let partial = avail - bytes as u64;
            let at = self
                .loc
                .at_byte(self.base_offset + start_pos + bytes as u64);
            let good = done + whole as u64;
            return Err(if partial > 0 {
                Error::format_after(
                    at,
                    format!(
                        "the data ends inside a record: {partial} of its {rec} bytes are there \
                         (truncated file)"
                    ),
                    good,
                )
            } else {
                Error::format_after(
                    at,
                    "the data ends before the last sample the .cfg's rates announce \
                     (truncated file, or check the last endsamp)",
                    good,
                )
            });
        }
        Ok(())
    }
}

/// Append one analog channel (its value at byte `off` of every record) decoded from whole
/// records: `a·x + b`, NaN for the format's missing-value sentinel.
fn decode_column(
    format: DataFormat,
    records: &[u8],
    rec: usize,
    off: usize,
    a: f64,
    b: f64,
    out: &mut Vec<f64>,
) {
    let recs = records.chunks_exact(rec);
    match format {
        DataFormat::Binary => out.extend(recs.map(move |r| {
            let x = i16::from_le_bytes([r[off], r[off + 1]]);
            let v = a * f64::from(x) + b;
            if x == i16::MIN {
                f64::NAN
            } else {
                v
            }
        })),
        DataFormat::Binary32 => out.extend(recs.map(move |r| {
            let x = i32::from_le_bytes([r[off], r[off + 1], r[off + 2], r[off + 3]]);
            let v = a * f64::from(x) + b;
            if x == i32::MIN {
                f64::NAN
            } else {
                v
            }
        })),
        DataFormat::Float32 | DataFormat::Ascii => out.extend(recs.map(move |r| {
            let bits = u32::from_le_bytes([r[off], r[off + 1], r[off + 2], r[off + 3]]);
            let v = a * f64::from(f32::from_bits(bits)) + b;
            if bits == FLOAT32_MISSING {
                f64::NAN
            } else {
                v
            }
        })),
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b.is_ascii_whitespace() || b == 0x1A)
}
