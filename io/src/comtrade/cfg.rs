//! The configuration (`.cfg`) file of C37.111 (1991, 1999, 2013), read leniently and
//! written strictly. Fields carry the standard's names (`station_name`, `nrates`, …).

use super::text;
use super::{DataFormat, Revision};
use chrono::NaiveDate;
use pqe_core::{
    ChannelKind, ChannelSpec, DigitalChannelSpec, Error, LinearScaling, Location, Phase,
    RecordingInfo, Result, Timestamp,
};

/// A parsed COMTRADE configuration: everything the `.cfg` file (or the CFG section of a
/// `.cff`) states, in the standard's own terms. [`ComtradeConfig::recording_info`] turns it
/// into PQE's [`RecordingInfo`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComtradeConfig {
    /// `station_name`.
    pub station: String,
    /// `rec_dev_id`.
    pub device: String,
    /// `rev_year`; a first line without it is a 1991 file.
    pub revision: Revision,
    /// Analog channel lines, in file order.
    pub analog: Vec<AnalogChannel>,
    /// Status (digital) channel lines, in file order.
    pub digital: Vec<DigitalChannel>,
    /// `lf`, nominal line frequency in hertz; 0 when left empty.
    pub line_frequency: f64,
    /// `nrates` as written; 0 means the time stamps carry the timing.
    pub nrates: usize,
    /// The `samp,endsamp` lines; for `nrates` 0 the single `0,endsamp` line.
    pub rates: Vec<RateSegment>,
    /// Time of the first data point; `None` when the file leaves it empty or
    /// zero.
    pub start: Option<Timestamp>,
    /// Time of the trigger point, where stated.
    pub trigger: Option<Timestamp>,
    /// `ft`, the data file type.
    pub format: DataFormat,
    /// `timemult`, the time stamp multiplication factor; 1 when absent.
    pub time_multiplier: f64,
    /// Unit of the data file's time stamps in nanoseconds: 1000 (µs) or 1 (ns) when the dates
    /// carry nanoseconds (2013).
    pub timestamp_unit_ns: u32,
    /// `time_code` (2013): offset of the time stamps from UTC, e.g. `-5h30`.
    pub time_code: Option<String>,
    /// `local_code` (2013): offset of local time from UTC.
    pub local_code: Option<String>,
    /// `tmq_code` (2013): time quality of the recorder's clock.
    pub tmq_code: Option<String>,
    /// `leapsec` (2013): leap second indicator.
    pub leap_second: Option<String>,
    /// Line numbers of the `samp,endsamp` lines, for messages.
    pub(crate) rate_lines: Vec<u64>,
}

/// One analog channel line: `An,ch_id,ph,ccbm,uu,a,b,skew,min,max,primary,secondary,PS`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogChannel {
    /// `An`, the channel index.
    pub index: u32,
    /// `ch_id`.
    pub id: String,
    /// `ph`.
    pub phase: String,
    /// `ccbm`, the circuit component being monitored.
    pub circuit: String,
    /// `uu`, the unit.
    pub unit: String,
    /// `a`, the multiplier: value = a·x + b.
    pub a: f64,
    /// `b`, the offset.
    pub b: f64,
    /// `skew` in microseconds.
    pub skew_us: f64,
    /// `min`, the smallest stored value.
    pub min: Option<f64>,
    /// `max`, the largest stored value.
    pub max: Option<f64>,
    /// `primary` transformer rating (1999+; 1 when absent).
    pub primary: f64,
    /// `secondary` transformer rating (1999+; 1 when absent).
    pub secondary: f64,
    /// `PS`: true when the values are primary values (1999+; `P` when absent).
    pub is_primary: bool,
}

/// One status channel line: `Dn,ch_id,ph,ccbm,y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalChannel {
    /// `Dn`, the channel index.
    pub index: u32,
    /// `ch_id`.
    pub id: String,
    /// `ph`.
    pub phase: String,
    /// `ccbm`.
    pub circuit: String,
    /// `y`, the normal state (0 or 1).
    pub normal_state: u8,
}

/// One `samp,endsamp` pair: a sampling rate and the (1-based) number of the last sample taken
/// at it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSegment {
    /// Samples per second; 0 when the time stamps carry the timing.
    pub rate: f64,
    /// Number of the last sample at this rate.
    pub end_sample: u64,
}

impl ComtradeConfig {
    /// Parse configuration text. `location` names the file; `first_line` is the file line
    /// number of the text's first line (1 for a `.cfg`, later for the CFG section of a
    /// `.cff`).
    pub fn parse(text: &str, location: &Location, first_line: u64) -> Result<Self> {
        let lines = text::lines(text);
        let mut p = LineCursor {
            lines: &lines,
            next: 0,
            first_line,
            loc: location,
        };
        p.parse()
    }

    /// Samples per channel the rates announce (the last `endsamp`).
    pub fn total_samples(&self) -> u64 {
        self.rates.last().map_or(0, |r| r.end_sample)
    }

    /// True when samples are timed by the data file's time stamps (`nrates` 0 or a rate of 0).
    pub fn is_timed(&self) -> bool {
        self.nrates == 0 || self.rates.iter().any(|r| r.rate == 0.0)
    }

    /// Bytes per record of a binary data file: sample number and time stamp
    /// (4 bytes each), one value per analog channel, the status bits packed into 16-bit words.
    /// `None` for ASCII.
    pub fn record_size(&self) -> Option<usize> {
        let width = self.format.analog_width()?;
        Some(8 + self.analog.len() * width + 2 * self.digital.len().div_ceil(16))
    }

    /// The recording as PQE describes it: channels with their scaling, rates, times.
    pub fn recording_info(&self) -> RecordingInfo {
        let integer = self.format != DataFormat::Float32;
        let channels = self
            .analog
            .iter()
            .map(|ch| {
                let mut spec = ChannelSpec::new(ch.id.clone(), ch.unit.clone());
                spec.kind = ChannelKind::from_unit(&ch.unit);
                spec.phase = Phase::parse_lenient(&ch.phase);
                spec.circuit = ch.circuit.clone();
                spec.ratio_primary = ch.primary;
                spec.ratio_secondary = ch.secondary;
                spec.primary = ch.is_primary;
                spec.skew_us = ch.skew_us;
                let raw_range = ch.min.zip(ch.max);
                // ASCII data may hold reals; its scaling is only reproducible when the stated
                // range is one of integers (C37.111-1999: -99999..99998).
                let reproducible = match self.format {
                    DataFormat::Ascii => raw_range.is_some_and(|(lo, hi)| {
                        lo.fract() == 0.0 && hi.fract() == 0.0 && lo >= -99999.0 && hi <= 99999.0
                    }),
                    _ => integer,
                };
                if reproducible {
                    spec.scaling = Some(LinearScaling { a: ch.a, b: ch.b });
                    spec.raw_range = raw_range;
                }
                spec
            })
            .collect();
        let digital_channels = self
            .digital
            .iter()
            .map(|d| DigitalChannelSpec {
                name: d.id.clone(),
                phase: d.phase.clone(),
                circuit: d.circuit.clone(),
                normal_state: d.normal_state,
            })
            .collect();
        let sample_rate = if self.is_timed() {
            0.0
        } else {
            self.rates.first().map_or(0.0, |r| r.rate)
        };
        RecordingInfo {
            station: self.station.clone(),
            device: self.device.clone(),
            channels,
            digital_channels,
            sample_rate,
            rate_segments: self.rates.iter().map(|r| (r.rate, r.end_sample)).collect(),
            start: self.start.unwrap_or(Timestamp::EPOCH),
            trigger: self.trigger,
            line_frequency: self.line_frequency,
            total_samples: Some(self.total_samples()),
            time_code: self.time_code.clone(),
        }
    }

    /// The configuration as the standard lays it out for `self.revision`, lines ended by
    /// CR LF: 1991 has no revision year, no transformer fields, no `timemult`
    /// and writes dates month first; 2013 adds the time code and time quality lines.
    pub fn to_text(&self) -> String {
        let rev = self.revision;
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push_str("\r\n");
        };
        match rev {
            Revision::R1991 => line(format!("{},{}", clean(&self.station), clean(&self.device))),
            _ => line(format!(
                "{},{},{}",
                clean(&self.station),
                clean(&self.device),
                rev.year()
            )),
        }
        line(format!(
            "{},{}A,{}D",
            self.analog.len() + self.digital.len(),
            self.analog.len(),
            self.digital.len()
        ));
        for ch in &self.analog {
            let mut s = format!(
                "{},{},{},{},{},{},{},{},{},{}",
                ch.index,
                clean(&ch.id),
                clean(&ch.phase),
                clean(&ch.circuit),
                clean(&ch.unit),
                real(ch.a),
                real(ch.b),
                real(ch.skew_us),
                real(ch.min.unwrap_or(0.0)),
                real(ch.max.unwrap_or(0.0)),
            );
            if rev != Revision::R1991 {
                s.push_str(&format!(
                    ",{},{},{}",
                    real(ch.primary),
                    real(ch.secondary),
                    if ch.is_primary { "P" } else { "S" }
                ));
            }
            line(s);
        }
        for d in &self.digital {
            line(format!(
                "{},{},{},{},{}",
                d.index,
                clean(&d.id),
                clean(&d.phase),
                clean(&d.circuit),
                d.normal_state
            ));
        }
        line(real(self.line_frequency));
        line(self.nrates.to_string());
        for r in &self.rates {
            line(format!("{},{}", real(r.rate), r.end_sample));
        }
        let nanos = self.timestamp_unit_ns == 1;
        for t in [self.start, self.trigger.or(self.start)] {
            line(format_date(t.unwrap_or(Timestamp::EPOCH), rev, nanos));
        }
        line(self.format.cfg_name().to_owned());
        if rev != Revision::R1991 {
            line(real(self.time_multiplier));
        }
        if rev == Revision::R2013 {
            let tc = self.time_code.clone().unwrap_or_else(|| "0".into());
            let lc = self.local_code.clone().unwrap_or_else(|| tc.clone());
            line(format!("{},{}", clean(&tc), clean(&lc)));
            line(format!(
                "{},{}",
                clean(self.tmq_code.as_deref().unwrap_or("0")),
                clean(self.leap_second.as_deref().unwrap_or("0"))
            ));
        }
        out
    }
}

/// A text field as the standard allows it: no commas or line ends.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ',' => ';',
            '\r' | '\n' | text::SUB => ' ',
            c => c,
        })
        .collect()
}

/// A real number, exactly (shortest text that reads back to the same f64), within the
/// standard's 32-character field width.
pub(crate) fn real(x: f64) -> String {
    let plain = format!("{x}");
    if plain.len() <= 32 {
        plain
    } else {
        format!("{x:E}")
    }
}

/// `dd/mm/yyyy,hh:mm:ss.ssssss` (1991: `mm/dd/yyyy`), nanoseconds when asked (2013).
fn format_date(t: Timestamp, rev: Revision, nanos: bool) -> String {
    let dt = t.to_naive();
    let date = match rev {
        Revision::R1991 => dt.format("%m/%d/%Y"),
        _ => dt.format("%d/%m/%Y"),
    };
    let frac = if nanos {
        dt.format("%H:%M:%S%.9f")
    } else {
        dt.format("%H:%M:%S%.6f")
    };
    format!("{date},{frac}")
}

/// Walks the lines of a configuration, remembering where it is for messages.
struct LineCursor<'a> {
    lines: &'a [String],
    next: usize,
    first_line: u64,
    loc: &'a Location,
}

impl<'a> LineCursor<'a> {
    fn line_no(&self, index: usize) -> u64 {
        self.first_line + index as u64
    }

    fn here(&self) -> Location {
        self.loc.at_line(self.line_no(self.next.saturating_sub(1)))
    }

    /// The next line, or an error naming what was expected.
    fn take(&mut self, what: &str) -> Result<&'a str> {
        let lines = self.lines;
        match lines.get(self.next) {
            Some(l) => {
                self.next += 1;
                Ok(l.as_str())
            }
            None => Err(Error::format(
                self.loc.at_line(self.line_no(self.next)),
                format!("the configuration ends where the {what} line was expected"),
            )),
        }
    }

    /// The next line if there is one with content.
    fn take_optional(&mut self) -> Option<&'a str> {
        let lines = self.lines;
        let l = lines.get(self.next)?;
        self.next += 1;
        Some(l.as_str())
    }

    fn err(&self, field: &str, msg: impl Into<String>) -> Error {
        Error::format(self.here().field(field), msg)
    }

    fn number(&self, text: &str, field: &str) -> Result<f64> {
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.err(field, format!("'{text}' is not a number")))
    }

    fn integer(&self, text: &str, field: &str) -> Result<u64> {
        text.parse::<u64>()
            .map_err(|_| self.err(field, format!("'{text}' is not a whole number")))
    }

    fn parse(&mut self) -> Result<ComtradeConfig> {
        // station_name,rec_dev_id,rev_year
        let first = self.take("station")?;
        let f = text::fields(first);
        let (station, device, revision) = match f.as_slice() {
            [s] => (s.to_string(), String::new(), Revision::R1991),
            [s, d] => (s.to_string(), d.to_string(), Revision::R1991),
            [s, d, y] => {
                let rev = match *y {
                    "" | "1991" => Revision::R1991,
                    "1999" | "2001" => Revision::R1999,
                    "2013" => Revision::R2013,
                    other => {
                        return Err(self.err(
                            "rev_year",
                            format!("unknown revision year '{other}' (1991, 1999 or 2013)"),
                        ))
                    }
                };
                (s.to_string(), d.to_string(), rev)
            }
            _ => {
                return Err(self.err(
                    "station line",
                    format!(
                        "{} fields where station_name,rec_dev_id,rev_year are expected \
                         (commas are not allowed inside names)",
                        f.len()
                    ),
                ))
            }
        };

        // TT,##A,##D
        let counts = self.take("channel count")?;
        let f: Vec<&str> = text::fields(counts)
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if f.len() != 3 {
            return Err(self.err(
                "TT,##A,##D",
                format!("'{counts}' is not a channel count line TT,##A,##D"),
            ));
        }
        let total = self.integer(f[0], "TT")?;
        let n_analog = self.suffixed(f[1], 'A', "##A")?;
        let n_digital = self.suffixed(f[2], 'D', "##D")?;
        if total != n_analog + n_digital {
            return Err(self.err(
                "TT",
                format!(
                    "{total} channels in all but {n_analog} analog + {n_digital} status = {}",
                    n_analog + n_digital
                ),
            ));
        }

        let mut analog = Vec::with_capacity(n_analog as usize);
        for k in 0..n_analog {
            let line = self.take(&format!("analog channel {} (of {n_analog})", k + 1))?;
            let f = text::fields(line);
            analog.push(self.analog_line(&f, k + 1, n_analog, revision)?);
        }
        let mut digital = Vec::with_capacity(n_digital as usize);
        for k in 0..n_digital {
            let line = self.take(&format!("status channel {} (of {n_digital})", k + 1))?;
            let f = text::fields(line);
            digital.push(self.digital_line(&f, k + 1, n_digital)?);
        }

        // lf
        let lf = self.take("line frequency")?.trim().to_owned();
        let line_frequency = if lf.is_empty() {
            0.0
        } else if lf.contains(',') {
            return Err(self.err(
                "lf",
                format!(
                    "'{lf}' where the line frequency is expected: are there more channel \
                     lines than line 2 counts ({n_analog} analog, {n_digital} status)?"
                ),
            ));
        } else {
            self.number(&lf, "lf")?
        };

        // nrates, then samp,endsamp per rate (one 0,endsamp line for nrates 0).
        let nrates_text = self.take("nrates")?.trim().to_owned();
        let nrates = self.integer(&nrates_text, "nrates")? as usize;
        let mut rates = Vec::new();
        let mut rate_lines = Vec::new();
        for k in 0..nrates.max(1) {
            let line = self.take(&format!("sampling rate {}", k + 1))?;
            let f: Vec<&str> = text::fields(line);
            let f: Vec<&str> = f.into_iter().filter(|s| !s.is_empty()).collect();
            if f.len() != 2 {
                return Err(self.err(
                    "samp,endsamp",
                    format!("'{line}' is not a samp,endsamp pair"),
                ));
            }
            let rate = self.number(f[0], "samp")?;
            if rate < 0.0 {
                return Err(self.err("samp", format!("negative sampling rate {rate}")));
            }
            let end_sample = self.integer(f[1], "endsamp")?;
            if let Some(prev) = rates.last().map(|r: &RateSegment| r.end_sample) {
                if end_sample <= prev {
                    return Err(self.err(
                        "endsamp",
                        format!(
                            "the last sample numbers must increase from rate to rate: \
                             {end_sample} follows {prev}"
                        ),
                    ));
                }
            }
            if nrates == 0 && rate != 0.0 {
                return Err(self.err(
                    "samp",
                    format!("nrates is 0 (time stamps carry the timing) but samp is {rate}"),
                ));
            }
            rates.push(RateSegment { rate, end_sample });
            rate_lines.push(self.line_no(self.next - 1));
        }

        // first data point and trigger point.
        let start_line = self.take("start time")?.to_owned();
        let (start, start_nanos) = self.date(&start_line, revision, "start time")?;
        let trigger_line = self.take("trigger time")?.to_owned();
        let (trigger, trigger_nanos) = self.date(&trigger_line, revision, "trigger time")?;

        // ft
        let ft = self.take("file type")?.trim().to_owned();
        let format = match ft.to_ascii_uppercase().as_str() {
            "ASCII" => DataFormat::Ascii,
            "BINARY" => DataFormat::Binary,
            "BINARY32" => DataFormat::Binary32,
            "FLOAT32" => DataFormat::Float32,
            _ => {
                return Err(self.err(
                    "ft",
                    format!("unknown file type '{ft}' (ASCII, BINARY, BINARY32 or FLOAT32)"),
                ))
            }
        };

        // timemult (1999 and later; lenient: optional).
        let mut time_multiplier = 1.0;
        let mut time_code = None;
        let mut local_code = None;
        let mut tmq_code = None;
        let mut leap_second = None;
        if revision != Revision::R1991 {
            if let Some(l) = self.take_optional() {
                let l = l.trim().to_owned();
                if !l.is_empty() {
                    time_multiplier = self.number(&l, "timemult")?;
                    if time_multiplier <= 0.0 {
                        return Err(self.err(
                            "timemult",
                            format!("the time multiplier must be positive, not {l}"),
                        ));
                    }
                }
            }
        }
        // 2013: time_code,local_code and tmq_code,leapsec.
        if revision == Revision::R2013 {
            if let Some(l) = self.take_optional() {
                let f = text::fields(l);
                time_code = f.first().filter(|s| !s.is_empty()).map(|s| s.to_string());
                local_code = f.get(1).filter(|s| !s.is_empty()).map(|s| s.to_string());
            }
            if let Some(l) = self.take_optional() {
                let f = text::fields(l);
                tmq_code = f.first().filter(|s| !s.is_empty()).map(|s| s.to_string());
                leap_second = f.get(1).filter(|s| !s.is_empty()).map(|s| s.to_string());
            }
        }
        let timestamp_unit_ns = if start_nanos || trigger_nanos {
            1
        } else {
            1000
        };

        Ok(ComtradeConfig {
            station,
            device,
            revision,
            analog,
            digital,
            line_frequency,
            nrates,
            rates,
            start,
            trigger,
            format,
            time_multiplier,
            timestamp_unit_ns,
            time_code,
            local_code,
            tmq_code,
            leap_second,
            rate_lines,
        })
    }

    /// `12A` → 12 (case-insensitive suffix).
    fn suffixed(&self, text: &str, suffix: char, field: &str) -> Result<u64> {
        let digits = text
            .strip_suffix(suffix)
            .or_else(|| text.strip_suffix(suffix.to_ascii_lowercase()))
            .ok_or_else(|| {
                self.err(
                    field,
                    format!("'{text}' should be a count followed by '{suffix}'"),
                )
            })?;
        self.integer(digits.trim(), field)
    }

    fn analog_line(
        &self,
        f: &[&str],
        k: u64,
        n_analog: u64,
        rev: Revision,
    ) -> Result<AnalogChannel> {
        let label = format!("analog channel {k}");
        let expected = if rev == Revision::R1991 { 10 } else { 13 };
        // Trailing empty fields (trailing commas) are harmless; other extra fields mean a
        // comma inside a name, which shifts every field after it.
        let used = f.iter().rposition(|s| !s.is_empty()).map_or(0, |i| i + 1);
        if !(6..=13).contains(&used) {
            return Err(self.err(
                &label,
                format!(
                    "{used} fields where An,ch_id,ph,ccbm,uu,a,b,skew,min,max{} ({expected} \
                     fields) are expected; line 2 announces {n_analog} analog channels",
                    if rev == Revision::R1991 {
                        ""
                    } else {
                        ",primary,secondary,PS"
                    }
                ),
            ));
        }
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let index = self.integer(get(0), &format!("{label} An"))? as u32;
        let num_or = |i: usize, name: &str, default: f64| -> Result<f64> {
            match get(i) {
                "" => Ok(default),
                s => self.number(s, &format!("{label} {name}")),
            }
        };
        let opt = |i: usize, name: &str| -> Result<Option<f64>> {
            match get(i) {
                "" => Ok(None),
                s => self.number(s, &format!("{label} {name}")).map(Some),
            }
        };
        let a = self.number(get(5), &format!("{label} multiplier a"))?;
        let ps = get(12);
        let is_primary = match ps.to_ascii_uppercase().as_str() {
            "" | "P" => true,
            "S" => false,
            _ => {
                return Err(self.err(
                    &format!("{label} PS"),
                    format!("'{ps}' should be P (primary) or S (secondary)"),
                ))
            }
        };
        Ok(AnalogChannel {
            index,
            id: get(1).to_owned(),
            phase: get(2).to_owned(),
            circuit: get(3).to_owned(),
            unit: get(4).to_owned(),
            a,
            b: num_or(6, "offset b", 0.0)?,
            skew_us: num_or(7, "skew", 0.0)?,
            min: opt(8, "min")?,
            max: opt(9, "max")?,
            primary: num_or(10, "primary", 1.0)?,
            secondary: num_or(11, "secondary", 1.0)?,
            is_primary,
        })
    }

    fn digital_line(&self, f: &[&str], k: u64, n_digital: u64) -> Result<DigitalChannel> {
        let label = format!("status channel {k}");
        let used = f.iter().rposition(|s| !s.is_empty()).map_or(0, |i| i + 1);
        // Dn,ch_id,ph,ccbm,y (1999, 2013); Dn,ch_id,y also met in 1991 files.
        let (id, phase, circuit, y) = match f.len() {
            _ if used > 5 => {
                return Err(self.err(
                    &label,
                    format!(
                        "{used} fields where Dn,ch_id,ph,ccbm,y are expected; line 2 announces \
                         {n_digital} status channels"
                    ),
                ))
            }
            0..=1 => return Err(self.err(&label, "a status channel line needs Dn,ch_id,ph,ccbm,y")),
            2 => (f[1], "", "", ""),
            3 => (f[1], "", "", f[2]),
            4 => (f[1], f[2], "", f[3]),
            _ => (f[1], f[2], f[3], f[4]),
        };
        let index = self.integer(f[0], &format!("{label} Dn"))? as u32;
        let normal_state = match y {
            "" | "0" => 0,
            "1" => 1,
            other => {
                return Err(self.err(
                    &format!("{label} y"),
                    format!("normal state '{other}' should be 0 or 1"),
                ))
            }
        };
        Ok(DigitalChannel {
            index,
            id: id.to_owned(),
            phase: phase.to_owned(),
            circuit: circuit.to_owned(),
            normal_state,
        })
    }

    /// A `date,time` line. Returns the instant (None when empty or all zeros) and whether the
    /// fraction has more than six digits (nanosecond time stamps, 2013).
    fn date(&self, line: &str, rev: Revision, what: &str) -> Result<(Option<Timestamp>, bool)> {
        let f = text::fields(line);
        if f.iter().all(|s| s.is_empty()) {
            return Ok((None, false));
        }
        if f.len() != 2 {
            return Err(self.err(
                what,
                format!("'{line}' is not a date,time pair dd/mm/yyyy,hh:mm:ss.ssssss"),
            ));
        }
        parse_date_time(f[0], f[1], rev).map_err(|m| self.err(what, m))
    }
}

/// Parse `dd/mm/yyyy` (1991: `mm/dd/yy`) and `hh:mm:ss.fffffffff`. Day and
/// month are swapped where the revision's order is impossible and the other is not, so
/// devices that wrote the other order still read. Two-digit years are 1970–2069.
pub(crate) fn parse_date_time(
    date: &str,
    time: &str,
    rev: Revision,
) -> std::result::Result<(Option<Timestamp>, bool), String> {
    let bad_date = || format!("'{date}' is not a date dd/mm/yyyy");
    let d: Vec<&str> = date.split('/').map(str::trim).collect();
    if d.len() != 3
        || d.iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad_date());
    }
    let n = |s: &str| s.parse::<u32>().map_err(|_| bad_date());
    let (p1, p2, mut year) = (n(d[0])?, n(d[1])?, n(d[2])? as i32);
    if p1 == 0 && p2 == 0 && year == 0 {
        return Ok((None, false));
    }
    if d[2].len() <= 2 {
        year += if year >= 70 { 1900 } else { 2000 };
    }
    let (day, month) = match rev {
        Revision::R1991 if p1 > 12 && p2 <= 12 => (p1, p2),
        Revision::R1991 => (p2, p1),
        _ if p2 > 12 && p1 <= 12 => (p2, p1),
        _ => (p1, p2),
    };
    let day0 = NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("'{date}' is not a valid date (day {day}, month {month})"))?;

    let bad_time = || format!("'{time}' is not a time hh:mm:ss.ssssss");
    let (hms, frac) = match time.split_once('.') {
        Some((h, f)) => (h, f),
        None => (time, ""),
    };
    let t: Vec<&str> = hms.split(':').collect();
    if t.len() != 3
        || t.iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad_time());
    }
    let tn = |s: &str| s.parse::<i64>().map_err(|_| bad_time());
    let (h, m, s) = (tn(t[0])?, tn(t[1])?, tn(t[2])?);
    // Seconds 60 is a leap second.
    if h > 23 || m > 59 || s > 60 {
        return Err(format!("'{time}' is not a valid time of day"));
    }
    let mut frac_ns: i64 = 0;
    for (i, c) in frac.bytes().take(9).enumerate() {
        frac_ns += i64::from(c - b'0') * 10i64.pow(8 - i as u32);
    }
    let midnight = Timestamp::from_naive(day0.and_hms_opt(0, 0, 0).ok_or_else(bad_date)?)
        .ok_or_else(|| format!("'{date}' is out of range"))?;
    let t = midnight.add_nanos(((h * 60 + m) * 60 + s) * 1_000_000_000 + frac_ns);
    Ok((Some(t), frac.len() > 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_revision_and_swap_only_when_unambiguous() {
        let ts = |d: &str, r| parse_date_time(d, "01:02:03.5", r).unwrap().0.unwrap();
        assert_eq!(
            ts("12/01/2011", Revision::R2013).to_string(),
            "2011-01-12T01:02:03.500000000"
        );
        assert_eq!(
            ts("12/01/2011", Revision::R1991).to_string(),
            "2011-12-01T01:02:03.500000000"
        );
        assert_eq!(
            ts("01/13/2011", Revision::R1999).to_string()[..10],
            *"2011-01-13"
        );
        assert_eq!(
            ts("13/01/91", Revision::R1991).to_string()[..10],
            *"1991-01-13"
        );
        let (t, nanos) =
            parse_date_time("17/02/2021", "17:37:12.422969065", Revision::R2013).unwrap();
        assert!(nanos);
        assert_eq!(t.unwrap().to_string(), "2021-02-17T17:37:12.422969065");
        assert!(parse_date_time("31/02/2021", "00:00:00", Revision::R2013).is_err());
        assert!(parse_date_time("1/2", "00:00:00", Revision::R2013).is_err());
        assert!(parse_date_time("01/02/2021", "25:00:00", Revision::R2013).is_err());
        assert_eq!(
            parse_date_time("00/00/0000", "00:00:00", Revision::R2013).unwrap(),
            (None, false)
        );
    }

    #[test]
    fn reals_are_exact_and_short() {
        for x in [0.1138916015625, 1e-300, 3.402823466e38, -5.0, 1.0 / 3.0] {
            let s = real(x);
            assert!(s.len() <= 32, "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), x);
        }
    }
}
