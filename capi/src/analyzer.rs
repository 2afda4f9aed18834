//! The streaming analyzer behind `pqe_analyzer*`: configuration, pushing samples, draining
//! records.

use crate::error::{run, Failure};
use crate::handles;
use crate::{pqe_status, Opaque};
use pqe_core::record::{AggregatePeriod, EventKind, FlickerSeverity, Record};
use pqe_core::{
    Block, ChannelKind, ChannelSpec, NominalFrequency, Phase, SystemConfig, Timestamp, Wiring,
};
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::mem::size_of;

/// An opaque streaming analyzer (a token, see the header's introduction). Made by
/// [`pqe_analyzer_new`], released by [`pqe_analyzer_free`].
pub struct pqe_analyzer {
    _opaque: Opaque,
}

/// [`pqe_channel::kind`]: guess the kind from the unit (`V`, `kV` → voltage; `A`, `kA` →
/// current; anything else → other).
pub const PQE_CHANNEL_AUTO: c_int = 0;
/// [`pqe_channel::kind`]: a voltage.
pub const PQE_CHANNEL_VOLTAGE: c_int = 1;
/// [`pqe_channel::kind`]: a current.
pub const PQE_CHANNEL_CURRENT: c_int = 2;
/// [`pqe_channel::kind`]: anything else (analysed for RMS, not given a role).
pub const PQE_CHANNEL_OTHER: c_int = 3;

/// [`pqe_channel::phase`]: no phase (the channel gets no role such as `U_A`).
pub const PQE_PHASE_NONE: c_int = 0;
/// [`pqe_channel::phase`]: phase A (L1).
pub const PQE_PHASE_A: c_int = 1;
/// [`pqe_channel::phase`]: phase B (L2).
pub const PQE_PHASE_B: c_int = 2;
/// [`pqe_channel::phase`]: phase C (L3).
pub const PQE_PHASE_C: c_int = 3;
/// [`pqe_channel::phase`]: neutral.
pub const PQE_PHASE_N: c_int = 4;
/// [`pqe_channel::phase`]: line-to-line A–B.
pub const PQE_PHASE_AB: c_int = 5;
/// [`pqe_channel::phase`]: line-to-line B–C.
pub const PQE_PHASE_BC: c_int = 6;
/// [`pqe_channel::phase`]: line-to-line C–A.
pub const PQE_PHASE_CA: c_int = 7;

/// [`pqe_config::wiring`]: three-phase four-wire (star); Udin is phase-to-neutral.
pub const PQE_WIRING_WYE: c_int = 0;
/// [`pqe_config::wiring`]: three-phase three-wire (delta); Udin is line-to-line.
pub const PQE_WIRING_DELTA: c_int = 1;
/// [`pqe_config::wiring`]: single phase.
pub const PQE_WIRING_SINGLE: c_int = 2;

/// [`pqe_config::flags`]: harmonics, interharmonics, THD, phase angles, powers, unbalance
/// (IEC 61000-4-7, IEEE 1459).
pub const PQE_FLAG_HARMONICS: u32 = 1;
/// [`pqe_config::flags`]: dips, swells, interruptions, RVC (IEC 61000-4-30 5.4, 5.5) and
/// the event flagging of intervals (4.7).
pub const PQE_FLAG_EVENTS: u32 = 1 << 1;
/// [`pqe_config::flags`]: flicker Pst and Plt (IEC 61000-4-15; needs a sample rate of at
/// least 2 kHz, below it no flicker records are made).
pub const PQE_FLAG_FLICKER: u32 = 1 << 2;
/// [`pqe_config::flags`]: 150/180-cycle, 10-min and 2-h aggregates (IEC 61000-4-30 4.5).
pub const PQE_FLAG_AGGREGATES: u32 = 1 << 3;
/// [`pqe_config::flags`]: 10-s frequency records (IEC 61000-4-30 5.1).
pub const PQE_FLAG_FREQUENCY: u32 = 1 << 4;
/// [`pqe_config::flags`]: Urms(1/2) records, one per half cycle (many: off by default).
pub const PQE_FLAG_HALF_CYCLE: u32 = 1 << 5;
/// [`pqe_config::flags`]: what `pqe analyze` computes: everything but Urms(1/2) records.
pub const PQE_FLAG_DEFAULT: u32 = PQE_FLAG_HARMONICS
    | PQE_FLAG_EVENTS
    | PQE_FLAG_FLICKER
    | PQE_FLAG_AGGREGATES
    | PQE_FLAG_FREQUENCY;
const KNOWN_FLAGS: u32 = PQE_FLAG_DEFAULT | PQE_FLAG_HALF_CYCLE;

/// [`pqe_record::kind`]: a record of a kind this version of the header does not know.
pub const PQE_RECORD_OTHER: i32 = 0;
/// [`pqe_record::kind`]: a 10/12-cycle interval (IEC 61000-4-30 4.4, 5.2).
pub const PQE_RECORD_INTERVAL: i32 = 1;
/// [`pqe_record::kind`]: a 10-s frequency value (5.1).
pub const PQE_RECORD_FREQUENCY: i32 = 2;
/// [`pqe_record::kind`]: a 150/180-cycle, 10-min or 2-h aggregate (4.5).
pub const PQE_RECORD_AGGREGATE: i32 = 3;
/// [`pqe_record::kind`]: a flicker severity Pst or Plt of one voltage channel
/// (IEC 61000-4-15).
pub const PQE_RECORD_FLICKER: i32 = 4;
/// [`pqe_record::kind`]: a dip, swell, interruption or rapid voltage change (5.4, 5.5).
pub const PQE_RECORD_EVENT: i32 = 5;
/// [`pqe_record::kind`]: one Urms(1/2) value per channel (5.4.2; only with
/// `PQE_FLAG_HALF_CYCLE`).
pub const PQE_RECORD_HALF_CYCLE: i32 = 6;
/// [`pqe_record::kind`]: where to capture an event's waveform (follows its event).
pub const PQE_RECORD_CAPTURE: i32 = 7;

/// [`pqe_record::subkind`] of an interval: bit set when a sample was missing (NaN).
pub const PQE_INTERVAL_MISSING_SAMPLES: i32 = 1;
/// [`pqe_record::subkind`] of an interval: bit set when cycle boundaries were not tracked.
pub const PQE_INTERVAL_UNLOCKED: i32 = 1 << 1;
/// [`pqe_record::subkind`] of an interval: bit set when it follows a gap.
pub const PQE_INTERVAL_AFTER_GAP: i32 = 1 << 2;
/// [`pqe_record::subkind`] of an interval: bit set when a dip, swell or interruption
/// touched it (4.7).
pub const PQE_INTERVAL_EVENT: i32 = 1 << 3;

/// [`pqe_record::subkind`] of an event or capture: a dip.
pub const PQE_EVENT_DIP: i32 = 1;
/// [`pqe_record::subkind`] of an event or capture: a swell.
pub const PQE_EVENT_SWELL: i32 = 2;
/// [`pqe_record::subkind`] of an event or capture: an interruption.
pub const PQE_EVENT_INTERRUPTION: i32 = 3;
/// [`pqe_record::subkind`] of an event or capture: a rapid voltage change.
pub const PQE_EVENT_RVC: i32 = 4;

/// [`pqe_record::subkind`] of a flicker record: short-term severity Pst (10 min).
pub const PQE_FLICKER_PST: i32 = 1;
/// [`pqe_record::subkind`] of a flicker record: long-term severity Plt (2 h).
pub const PQE_FLICKER_PLT: i32 = 2;

/// [`pqe_record::subkind`] of an aggregate: 150/180 cycles (about 3 s).
pub const PQE_AGGREGATE_3S: i32 = 1;
/// [`pqe_record::subkind`] of an aggregate: 10 min of the clock.
pub const PQE_AGGREGATE_10MIN: i32 = 2;
/// [`pqe_record::subkind`] of an aggregate: 2 h of the clock.
pub const PQE_AGGREGATE_2H: i32 = 3;

/// One channel of the recording, in the order of the samples pushed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pqe_channel {
    /// The channel's name (NUL-terminated UTF-8; required).
    pub name: *const c_char,
    /// `PQE_CHANNEL_AUTO`, `PQE_CHANNEL_VOLTAGE`, `PQE_CHANNEL_CURRENT` or
    /// `PQE_CHANNEL_OTHER`.
    pub kind: c_int,
    /// `PQE_PHASE_NONE`, `PQE_PHASE_A` … `PQE_PHASE_CA`: with the kind, the channel's role
    /// (`U_A`, `I_N`, `U_AB`, …) and column name.
    pub phase: c_int,
    /// The unit (`V`, `kV`, `A`, …; NUL-terminated UTF-8; NULL means none).
    pub unit: *const c_char,
}

/// The analyzer's configuration. Set `struct_size = sizeof(pqe_config)` (forward
/// compatibility: a later library accepts this layout; a smaller size is refused).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pqe_config {
    /// `sizeof(pqe_config)` as the caller compiled it.
    pub struct_size: usize,
    /// Samples per second and channel (at least 20 per nominal cycle).
    pub sample_rate: f64,
    /// 50 or 60 (Hz): 10-cycle or 12-cycle intervals.
    pub nominal_frequency: f64,
    /// Declared input voltage Udin in volts: phase-to-neutral for wye and single wiring,
    /// line-to-line for delta.
    pub udin: f64,
    /// `PQE_WIRING_WYE`, `PQE_WIRING_DELTA` or `PQE_WIRING_SINGLE`.
    pub wiring: c_int,
    /// Maximum demand load current I_L in amperes (IEEE 519, for TDD); 0 or NaN when
    /// unknown.
    pub load_current: f64,
    /// Number of channels (entries of `channels`).
    pub n_channels: usize,
    /// The channels, `n_channels` of them; the library copies them (the caller's strings
    /// need to live only during [`pqe_analyzer_new`]).
    pub channels: *const pqe_channel,
    /// Absolute time of sample 0, nanoseconds since 1970-01-01T00:00:00 (the clock of the
    /// 10-min and 2-h aggregation and flicker periods).
    pub start_unix_ns: i64,
    /// What to compute besides RMS, peak, crest factor and DC: `PQE_FLAG_*` bits
    /// (`PQE_FLAG_DEFAULT` for what `pqe analyze` computes). Unknown bits are refused.
    pub flags: u32,
}

/// One record of the analysis, filled by [`pqe_analyzer_next_record`]. Set
/// `struct_size = sizeof(pqe_record)` before the call. Which fields mean what depends on
/// `kind`; unused numeric fields are 0 (or NaN where 0 is a value), unused pointers NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pqe_record {
    /// `sizeof(pqe_record)` as the caller compiled it (input).
    pub struct_size: usize,
    /// `PQE_RECORD_*`.
    pub kind: i32,
    /// Interval: `PQE_INTERVAL_*` flag bits (why it is flagged). Event and capture:
    /// `PQE_EVENT_*`. Flicker: `PQE_FLICKER_PST` or `PQE_FLICKER_PLT`. Aggregate:
    /// `PQE_AGGREGATE_*`. Half cycle: 1 when the cycle starts at a rising crossing (an
    /// Urms(1) value). 0 otherwise.
    pub subkind: i32,
    /// IEC 61000-4-30 4.7 flag (interval, frequency, aggregate, flicker, half cycle); for
    /// an event: true when it was cut by a gap or by the end of the recording.
    pub flagged: bool,
    /// Running number: of the interval, of the event, of the half cycle; for a capture the
    /// number of its event. 0 otherwise.
    pub index: u64,
    /// A count: whole cycles (interval, frequency), members aggregated (aggregate), flicker
    /// channels' observed seconds of Pinst (Pst) or Pst values (Plt). 0 otherwise.
    pub count: u64,
    /// Start, in seconds from the recording's start (sample 0).
    pub t: f64,
    /// Absolute start, nanoseconds since 1970-01-01T00:00:00 (for a capture: the first
    /// sample to capture).
    pub start_unix_ns: i64,
    /// Length in seconds.
    pub duration: f64,
    /// The record's main value: interval: mean frequency (Hz); frequency: the 10-s
    /// frequency (Hz, NaN when no whole cycle was found); flicker: Pst or Plt; event: the
    /// residual (dip, interruption), maximum (swell) or farthest (RVC) Urms(1/2) in volts.
    /// NaN otherwise.
    pub value: f64,
    /// Start as a fractional sample index of the recording (interval, event, capture: the
    /// first sample to capture); NaN otherwise.
    pub start_sample: f64,
    /// End (exclusive) as a fractional sample index (interval, event, capture); NaN
    /// otherwise.
    pub end_sample: f64,
    /// Event and capture: the phases involved (`A`, `A+B+C`, `AB+CA`); flicker: the
    /// channel's column (`U_A`); aggregate: the period (`3s`, `10min`, `2h`). NULL
    /// otherwise. Owned by the handle, valid until the next call on it.
    pub label: *const c_char,
    /// Interval and aggregate: one value per column, `values[i]` under the name
    /// [`pqe_analyzer_column_name`]`(h, i)` (`t`, `flagged`, `f`, `U_A`, `PK_U_A`, …, as
    /// `intervals.csv` names them), NaN where the record has no such column. Half cycle:
    /// the Urms(1/2) of each channel in channel order. NULL otherwise. Owned by the handle,
    /// valid until the next call on it.
    pub values: *const f64,
    /// Entries of `values`.
    pub n_values: usize,
}

/// Everything behind a `pqe_analyzer*`.
pub(crate) struct AnalyzerState {
    analyzer: Analyzer,
    n_channels: usize,
    sample_rate: f64,
    start: Timestamp,
    /// Index of the next sample to push.
    next_sample: u64,
    finished: bool,
    /// Planar copy of the samples being pushed.
    planar: Vec<f64>,
    /// Column names of interval and aggregate values; only ever appended to, so the
    /// pointers handed out stay valid until the handle is freed.
    columns: Vec<CString>,
    column_index: HashMap<String, usize>,
    /// Column name of each channel.
    channel_columns: Vec<CString>,
    /// The current record's values and label.
    values: Vec<f64>,
    label: Option<CString>,
}

fn token(h: *const pqe_analyzer) -> usize {
    h as usize
}

/// Read a `struct_size`-prefixed input struct: check the pointer and the size, then copy.
///
/// # Safety
/// `p` is NULL or points to readable memory holding at least a `usize`, and, if that
/// `usize` is at least `size_of::<T>()`, a whole `T` of plain data.
pub(crate) unsafe fn read_sized<T: Copy>(p: *const T, argument: &str) -> Result<T, Failure> {
    if p.is_null() {
        return Err(Failure::null(argument));
    }
    // SAFETY: every sized struct of this ABI starts with its `size_t struct_size`; the
    // caller guarantees the memory is readable and aligned for the struct.
    let size = unsafe { p.cast::<usize>().read() };
    let expected = size_of::<T>();
    if size < expected || size > MAX_STRUCT_SIZE {
        return Err(Failure::invalid(format!(
            "{argument}->struct_size is {size}, expected {expected} (set it to sizeof of the \
             struct as this header declares it)"
        )));
    }
    // SAFETY: the caller states the struct is `size >= size_of::<T>()` bytes long; all
    // fields are plain numbers and pointers, valid for any bit pattern.
    Ok(unsafe { p.read() })
}

/// A `struct_size` beyond this is taken for garbage (an uninitialised field).
const MAX_STRUCT_SIZE: usize = 1 << 16;

/// A C string argument as UTF-8 (`None` for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

fn channel_spec(c: &pqe_channel, i: usize) -> Result<ChannelSpec, Failure> {
    // SAFETY: the caller of pqe_analyzer_new guarantees NUL-terminated strings or NULL.
    let name = unsafe { c_str(c.name, &format!("channels[{i}].name"))? }
        .ok_or_else(|| Failure::null(&format!("channels[{i}].name")))?;
    // SAFETY: as above.
    let unit = unsafe { c_str(c.unit, &format!("channels[{i}].unit"))? }.unwrap_or("");
    let mut spec = ChannelSpec::new(name, unit);
    spec = match c.kind {
        PQE_CHANNEL_AUTO => spec,
        PQE_CHANNEL_VOLTAGE => spec.with_kind(ChannelKind::Voltage),
        PQE_CHANNEL_CURRENT => spec.with_kind(ChannelKind::Current),
        PQE_CHANNEL_OTHER => spec.with_kind(ChannelKind::Other),
        k => {
            return Err(Failure::invalid(format!(
                "channels[{i}] ('{name}'): kind {k} is not a PQE_CHANNEL_* value (0 to 3)"
            )))
        }
    };
    let phase = match c.phase {
        PQE_PHASE_NONE => None,
        PQE_PHASE_A => Some(Phase::A),
        PQE_PHASE_B => Some(Phase::B),
        PQE_PHASE_C => Some(Phase::C),
        PQE_PHASE_N => Some(Phase::N),
        PQE_PHASE_AB => Some(Phase::AB),
        PQE_PHASE_BC => Some(Phase::BC),
        PQE_PHASE_CA => Some(Phase::CA),
        p => {
            return Err(Failure::invalid(format!(
                "channels[{i}] ('{name}'): phase {p} is not a PQE_PHASE_* value (0 to 7)"
            )))
        }
    };
    if let Some(p) = phase {
        spec = spec.with_phase(p);
    }
    Ok(spec)
}

/// The most channels a configuration may have (a guard against garbage counts).
const MAX_CHANNELS: usize = 4096;

/// The parts of a configuration every consumer checks the same way: the channels, the
/// wiring, the load current, the flags.
pub(crate) struct ConfigParts {
    pub(crate) channels: Vec<ChannelSpec>,
    pub(crate) wiring: Wiring,
    pub(crate) load_current: Option<f64>,
}

/// Check `config`'s channels, wiring, load current and flags.
pub(crate) fn config_parts(config: &pqe_config) -> Result<ConfigParts, Failure> {
    if config.n_channels == 0 {
        return Err(Failure::invalid(
            "config->n_channels is 0: no channel to analyze",
        ));
    }
    if config.n_channels > MAX_CHANNELS {
        return Err(Failure::invalid(format!(
            "config->n_channels is {}, more than the {MAX_CHANNELS} supported",
            config.n_channels
        )));
    }
    if config.channels.is_null() {
        return Err(Failure::null("config->channels"));
    }
    // SAFETY: the caller guarantees `channels` points to `n_channels` entries; the count is
    // bounded above and the pointer checked for NULL.
    let raw = unsafe { std::slice::from_raw_parts(config.channels, config.n_channels) };
    let channels = raw
        .iter()
        .enumerate()
        .map(|(i, c)| channel_spec(c, i))
        .collect::<Result<Vec<_>, _>>()?;
    let wiring = match config.wiring {
        PQE_WIRING_WYE => Wiring::Wye,
        PQE_WIRING_DELTA => Wiring::Delta,
        PQE_WIRING_SINGLE => Wiring::Single,
        w => {
            return Err(Failure::invalid(format!(
                "config->wiring {w} is not a PQE_WIRING_* value (0 to 2)"
            )))
        }
    };
    let load_current = if config.load_current.is_nan() || config.load_current == 0.0 {
        None
    } else if config.load_current.is_finite() && config.load_current > 0.0 {
        Some(config.load_current)
    } else {
        return Err(Failure::invalid(format!(
            "config->load_current {} A must be positive (or 0 when unknown)",
            config.load_current
        )));
    };
    if config.flags & !KNOWN_FLAGS != 0 {
        return Err(Failure::invalid(format!(
            "config->flags has unknown bits {:#x} (known: {KNOWN_FLAGS:#x})",
            config.flags & !KNOWN_FLAGS
        )));
    }
    Ok(ConfigParts {
        channels,
        wiring,
        load_current,
    })
}

/// Build the analyzer state from a checked configuration.
fn new_state(config: &pqe_config) -> Result<AnalyzerState, Failure> {
    let ConfigParts {
        channels,
        wiring,
        load_current,
    } = config_parts(config)?;
    let system = SystemConfig {
        nominal_frequency: NominalFrequency::from_hz(config.nominal_frequency)?,
        udin: config.udin,
        wiring,
        load_current,
    };
    let options = analyzer_options(config.flags);
    let start = Timestamp::from_nanos(config.start_unix_ns);
    let analyzer = Analyzer::new(&channels, config.sample_rate, start, system, options)?;
    let channel_columns = analyzer.columns().iter().map(|c| to_cstring(c)).collect();
    Ok(AnalyzerState {
        analyzer,
        n_channels: channels.len(),
        sample_rate: config.sample_rate,
        start,
        next_sample: 0,
        finished: false,
        planar: Vec::new(),
        columns: Vec::new(),
        column_index: HashMap::new(),
        channel_columns,
        values: Vec::new(),
        label: None,
    })
}

/// The analyzer options the `PQE_FLAG_*` bits `flags` select (public for tests that
/// compare with the Rust analyzer).
pub fn analyzer_options(flags: u32) -> AnalyzerOptions {
    let mut options = AnalyzerOptions {
        harmonics: flags & PQE_FLAG_HARMONICS != 0,
        half_cycle: flags & PQE_FLAG_HALF_CYCLE != 0,
        frequency: flags & PQE_FLAG_FREQUENCY != 0,
        aggregation: flags & PQE_FLAG_AGGREGATES != 0,
        flicker: flags & PQE_FLAG_FLICKER != 0,
        // The C library starts no thread of its own (firmware callers own their threads).
        parallel: false,
        ..AnalyzerOptions::default()
    };
    options.events.enabled = flags & PQE_FLAG_EVENTS != 0;
    options
}

/// The start time of sample `index` of a recording starting at `start` (how the C API
/// times the blocks it makes; public for tests that compare with the Rust analyzer).
pub fn sample_time(start: Timestamp, sample_rate: f64, index: u64) -> Timestamp {
    start.add_seconds(index as f64 / sample_rate)
}

fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl AnalyzerState {
    /// Push `n` samples per channel already copied into `self.planar`, the first of them at
    /// `at` (`None`: right after the previous push, on the configured sample grid).
    ///
    /// A block starting later than the previous one ended (by more than half a sample) is
    /// a gap, which the analyzer flags exactly as a gap between the blocks of a file
    /// (IEC 61000-4-30 4.7, 5.9: intervals spanning it are not reported, the next one is
    /// flagged `after_gap`); one starting earlier is refused with `PQE_ERR_STREAM`.
    fn push_planar(&mut self, n: usize, at: Option<Timestamp>) -> Result<(), Failure> {
        if self.finished {
            return Err(Failure::new(
                pqe_status::PQE_ERR_STATE,
                "samples pushed after pqe_analyzer_finish",
            ));
        }
        let (start, first_sample) = match at {
            None => (
                sample_time(self.start, self.sample_rate, self.next_sample),
                self.next_sample,
            ),
            Some(at) => (at, self.place(at)?),
        };
        if n == 0 {
            return Ok(());
        }
        let data = std::mem::take(&mut self.planar);
        let block =
            Block::from_planar(start, self.sample_rate, first_sample, self.n_channels, data)?;
        self.analyzer.push(&block)?;
        self.next_sample = first_sample + n as u64;
        Ok(())
    }

    /// The index of the recording's sample at `at` (rounded to the sample grid of the
    /// configured start), checked to lie at or after the end of what was pushed so far.
    fn place(&self, at: Timestamp) -> Result<u64, Failure> {
        let position = at.seconds_since(self.start) * self.sample_rate;
        // The analyzer's own tolerance: within half a sample a block continues the stream.
        if position - (self.next_sample as f64) < -0.5 {
            let message = if self.next_sample == 0 {
                format!(
                    "block starting at {at} ({} ns since 1970) lies {:.6} s before the \
                     recording's start {} (config->start_unix_ns {}); blocks must follow \
                     each other in time",
                    at.as_nanos(),
                    -position / self.sample_rate,
                    self.start,
                    self.start.as_nanos()
                )
            } else {
                let end = sample_time(self.start, self.sample_rate, self.next_sample);
                format!(
                    "block starting at {at} ({} ns since 1970, sample {position:.1}) overlaps \
                     the previous samples, which end at {end} (sample {}) by {:.1} samples; \
                     blocks must follow each other in time",
                    at.as_nanos(),
                    self.next_sample,
                    self.next_sample as f64 - position
                )
            };
            return Err(Failure::new(pqe_status::PQE_ERR_STREAM, message));
        }
        if !(position.is_finite() && position < u64::MAX as f64 / 2.0) {
            return Err(Failure::invalid(format!(
                "start_unix_ns {} is out of range for this recording",
                at.as_nanos()
            )));
        }
        Ok(position.round() as u64)
    }

    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.column_index.get(name) {
            return i;
        }
        let i = self.columns.len();
        self.columns.push(to_cstring(name));
        self.column_index.insert(name.to_string(), i);
        i
    }

    /// Lay `pairs` out by column index, NaN where a column is missing.
    fn set_column_values(&mut self, pairs: &[(String, f64)]) {
        let idx: Vec<usize> = pairs.iter().map(|(n, _)| self.column(n)).collect();
        self.values.clear();
        self.values.resize(self.columns.len(), f64::NAN);
        for (i, (_, v)) in idx.into_iter().zip(pairs) {
            self.values[i] = *v;
        }
    }

    /// Turn a record into its C form; pointers into `self`.
    fn record_to_c(&mut self, record: Record) -> pqe_record {
        let mut out = pqe_record {
            struct_size: size_of::<pqe_record>(),
            kind: PQE_RECORD_OTHER,
            subkind: 0,
            flagged: false,
            index: 0,
            count: 0,
            t: f64::NAN,
            start_unix_ns: 0,
            duration: f64::NAN,
            value: f64::NAN,
            start_sample: f64::NAN,
            end_sample: f64::NAN,
            label: std::ptr::null(),
            values: std::ptr::null(),
            n_values: 0,
        };
        self.values.clear();
        self.label = None;
        let mut with_values = false;
        match record {
            Record::Interval(r) => {
                out.kind = PQE_RECORD_INTERVAL;
                let f = &r.flags;
                out.subkind = [
                    (f.missing_samples, PQE_INTERVAL_MISSING_SAMPLES),
                    (f.unlocked, PQE_INTERVAL_UNLOCKED),
                    (f.after_gap, PQE_INTERVAL_AFTER_GAP),
                    (f.event, PQE_INTERVAL_EVENT),
                ]
                .iter()
                .filter(|(set, _)| *set)
                .fold(0, |bits, (_, bit)| bits | bit);
                out.flagged = r.flagged;
                out.index = r.index;
                out.count = r.cycles as u64;
                out.t = r.t;
                out.start_unix_ns = r.start.as_nanos();
                out.duration = r.duration;
                out.value = r.frequency;
                out.start_sample = r.start_sample;
                out.end_sample = r.start_sample + r.length_samples;
                self.set_column_values(&r.columns());
                with_values = true;
            }
            Record::Frequency(r) => {
                out.kind = PQE_RECORD_FREQUENCY;
                out.flagged = r.flagged;
                out.count = r.cycles;
                out.t = r.t;
                out.start_unix_ns = r.start.as_nanos();
                out.duration = 10.0;
                out.value = r.frequency;
            }
            Record::HalfCycle(r) => {
                out.kind = PQE_RECORD_HALF_CYCLE;
                out.subkind = i32::from(r.rising);
                out.flagged = r.flagged;
                out.index = r.index;
                out.t = r.t;
                out.start_unix_ns = self.start.add_seconds(r.t).as_nanos();
                out.duration = r.duration;
                self.values = r.rms;
                with_values = true;
            }
            Record::Flicker(r) => {
                out.kind = PQE_RECORD_FLICKER;
                out.subkind = match r.severity {
                    FlickerSeverity::Pst => PQE_FLICKER_PST,
                    FlickerSeverity::Plt => PQE_FLICKER_PLT,
                };
                out.flagged = r.flagged;
                out.count = if r.observed.is_finite() && r.observed > 0.0 {
                    r.observed as u64
                } else {
                    0
                };
                out.t = r.t;
                out.start_unix_ns = r.start.as_nanos();
                out.duration = r.duration;
                out.value = r.value;
                self.label = Some(to_cstring(&r.column));
            }
            Record::Event(r) => {
                out.kind = PQE_RECORD_EVENT;
                out.subkind = event_kind(r.kind);
                out.flagged = r.incomplete;
                out.index = r.index;
                out.t = r.t;
                out.start_unix_ns = r.start.as_nanos();
                out.duration = r.duration;
                out.value = r.extreme;
                out.start_sample = r.start_sample;
                out.end_sample = r.end_sample;
                self.label = Some(to_cstring(&r.phases_label()));
            }
            Record::Aggregate(r) => {
                out.kind = PQE_RECORD_AGGREGATE;
                out.subkind = match r.period {
                    AggregatePeriod::ThreeSeconds => PQE_AGGREGATE_3S,
                    AggregatePeriod::TenMinutes => PQE_AGGREGATE_10MIN,
                    AggregatePeriod::TwoHours => PQE_AGGREGATE_2H,
                };
                out.flagged = r.flagged;
                out.count = r.count as u64;
                out.t = r.t;
                out.start_unix_ns = r.start.as_nanos();
                out.duration = r.end.seconds_since(r.start);
                self.label = Some(to_cstring(r.period.as_str()));
                self.set_column_values(&r.table_columns());
                with_values = true;
            }
            Record::CaptureTrigger(r) => {
                out.kind = PQE_RECORD_CAPTURE;
                out.subkind = event_kind(r.kind);
                out.index = r.event_index;
                out.t = r.capture_start.seconds_since(self.start);
                out.start_unix_ns = r.capture_start.as_nanos();
                let samples = r.capture_end_sample.saturating_sub(r.capture_start_sample);
                out.duration = samples as f64 / self.sample_rate;
                out.start_sample = r.capture_start_sample as f64;
                out.end_sample = r.capture_end_sample as f64;
            }
            // A record kind added to the engine after this ABI: reported as "other".
            _ => {}
        }
        if with_values {
            out.values = self.values.as_ptr();
            out.n_values = self.values.len();
        }
        if let Some(label) = &self.label {
            out.label = label.as_ptr();
        }
        out
    }
}

fn event_kind(kind: EventKind) -> i32 {
    match kind {
        EventKind::Dip => PQE_EVENT_DIP,
        EventKind::Swell => PQE_EVENT_SWELL,
        EventKind::Interruption => PQE_EVENT_INTERRUPTION,
        EventKind::Rvc => PQE_EVENT_RVC,
    }
}

/// Create an analyzer from `config` and store its handle in `*out` (set to NULL on
/// failure). Channels map to roles by kind and phase; the fundamental is tracked on U_A,
/// else the first voltage, else the first current channel.
///
/// Errors: `PQE_ERR_NULL` (config, out, config->channels, a channel's name),
/// `PQE_ERR_INVALID_ARGUMENT` (struct_size, counts, enum values, unknown flags, a sample
/// rate below 20 per cycle, a nominal frequency other than 50 or 60, Udin).
///
/// # Safety
/// `config` is NULL or points to a `pqe_config` of `config->struct_size` bytes whose
/// `channels` points to `n_channels` entries with NUL-terminated strings; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_new(
    config: *const pqe_config,
    out: *mut *mut pqe_analyzer,
) -> pqe_status {
    run("pqe_analyzer_new", || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: per the contract (NULL is checked inside).
        let config = unsafe { read_sized(config, "config")? };
        let state = new_state(&config)?;
        let token = handles::register(state);
        // SAFETY: as above.
        unsafe { out.write(token as *mut pqe_analyzer) };
        Ok(pqe_status::PQE_OK)
    })
}

/// Push `n_frames` samples of every channel, interleaved frame by frame:
/// `samples[i * n_channels + c]` is sample `i` of channel `c` (`n_frames * n_channels`
/// values in all). The samples continue the previous push without a gap (sample `k` of
/// the recording lies at `start_unix_ns + k / sample_rate`). Missing samples are NaN.
/// `samples` may be NULL when `n_frames` is 0. Records become available through
/// [`pqe_analyzer_next_record`]. A stream with gaps uses [`pqe_analyzer_push_at`].
///
/// Errors: `PQE_ERR_NULL`, `PQE_ERR_INVALID_HANDLE`, `PQE_ERR_INVALID_ARGUMENT`
/// (`n_frames * n_channels` overflows), `PQE_ERR_STATE` (after [`pqe_analyzer_finish`]).
///
/// # Safety
/// `samples` is NULL or points to `n_frames * n_channels` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_push(
    h: *mut pqe_analyzer,
    samples: *const f64,
    n_frames: usize,
) -> pqe_status {
    run("pqe_analyzer_push", || {
        // SAFETY: passed on under the same contract.
        unsafe { push_interleaved(h, samples, n_frames, None) }
    })
}

/// Push `n_frames` samples of every channel, interleaved as for [`pqe_analyzer_push`],
/// the first of them taken at `start_unix_ns` (nanoseconds since 1970-01-01T00:00:00, the
/// clock of `pqe_config::start_unix_ns`). The samples of one push are contiguous at the
/// configured sample rate; between pushes the time says where the block lies:
///
/// - within half a sample of the end of the previous push: the stream continues;
/// - later: the samples in between are missing, a gap. The analyzer treats it exactly as a
///   gap between the blocks of a recording file (IEC 61000-4-30 4.7): tracking restarts,
///   no interval or half cycle spanning the gap is reported, the next interval is flagged
///   (`PQE_INTERVAL_AFTER_GAP`), open events close incomplete, the 10-s frequency value
///   and aggregates holding the gap are flagged;
/// - earlier (overlapping samples already pushed, or before the configuration's
///   `start_unix_ns`): refused with `PQE_ERR_STREAM`; nothing is taken and the analyzer
///   stays usable.
///
/// [`pqe_analyzer_push`] after a timed push continues right after it.
///
/// Errors: as [`pqe_analyzer_push`], and `PQE_ERR_STREAM`.
///
/// # Safety
/// `samples` is NULL or points to `n_frames * n_channels` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_push_at(
    h: *mut pqe_analyzer,
    samples: *const f64,
    n_frames: usize,
    start_unix_ns: i64,
) -> pqe_status {
    run("pqe_analyzer_push_at", || {
        let at = Timestamp::from_nanos(start_unix_ns);
        // SAFETY: passed on under the same contract.
        unsafe { push_interleaved(h, samples, n_frames, Some(at)) }
    })
}

/// The body of the interleaved pushes.
///
/// # Safety
/// As [`pqe_analyzer_push`].
unsafe fn push_interleaved(
    h: *mut pqe_analyzer,
    samples: *const f64,
    n_frames: usize,
    at: Option<Timestamp>,
) -> Result<pqe_status, Failure> {
    handles::with(token(h), "h", |s: &mut AnalyzerState| {
        let mut planar = std::mem::take(&mut s.planar);
        // SAFETY: passed on under the same contract.
        let taken = unsafe { deinterleave(samples, n_frames, s.n_channels, &mut planar) };
        s.planar = planar;
        taken?;
        s.push_planar(n_frames, at)?;
        Ok(pqe_status::PQE_OK)
    })
}

/// Lay `n_frames` interleaved frames of `n_ch` channels at `samples` out planar in `planar`
/// (channel after channel). `samples` may be NULL when there is nothing to take.
///
/// # Safety
/// `samples` is NULL or points to `n_frames * n_ch` readable doubles.
pub(crate) unsafe fn deinterleave(
    samples: *const f64,
    n_frames: usize,
    n_ch: usize,
    planar: &mut Vec<f64>,
) -> Result<(), Failure> {
    let total = n_frames.checked_mul(n_ch).ok_or_else(|| {
        Failure::invalid(format!(
            "n_frames {n_frames} × {n_ch} channels overflows size_t"
        ))
    })?;
    planar.clear();
    if total == 0 {
        return Ok(());
    }
    if samples.is_null() {
        return Err(Failure::null("samples"));
    }
    // SAFETY: non-NULL, and the caller guarantees `total` readable doubles.
    let src = unsafe { std::slice::from_raw_parts(samples, total) };
    planar.resize(total, 0.0);
    for (c, dst) in planar.chunks_exact_mut(n_frames).enumerate() {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = src[i * n_ch + c];
        }
    }
    Ok(())
}

/// Push `n_samples` samples of every channel, planar: `channels[c]` points to the
/// `n_samples` samples of channel `c`, for each of the `n_channels` channels of the
/// configuration. Otherwise as [`pqe_analyzer_push`].
///
/// # Safety
/// `channels` is NULL or points to `n_channels` pointers, each NULL or pointing to
/// `n_samples` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_push_planar(
    h: *mut pqe_analyzer,
    channels: *const *const f64,
    n_samples: usize,
) -> pqe_status {
    run("pqe_analyzer_push_planar", || {
        // SAFETY: passed on under the same contract.
        unsafe { push_planes(h, channels, n_samples, None) }
    })
}

/// Push `n_samples` samples of every channel, planar as for [`pqe_analyzer_push_planar`],
/// the first of them taken at `start_unix_ns`: gaps and overlaps as
/// [`pqe_analyzer_push_at`] treats them.
///
/// # Safety
/// As [`pqe_analyzer_push_planar`].
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_push_planar_at(
    h: *mut pqe_analyzer,
    channels: *const *const f64,
    n_samples: usize,
    start_unix_ns: i64,
) -> pqe_status {
    run("pqe_analyzer_push_planar_at", || {
        let at = Timestamp::from_nanos(start_unix_ns);
        // SAFETY: passed on under the same contract.
        unsafe { push_planes(h, channels, n_samples, Some(at)) }
    })
}

/// The body of the planar pushes.
///
/// # Safety
/// As [`pqe_analyzer_push_planar`].
unsafe fn push_planes(
    h: *mut pqe_analyzer,
    channels: *const *const f64,
    n_samples: usize,
    at: Option<Timestamp>,
) -> Result<pqe_status, Failure> {
    handles::with(token(h), "h", |s: &mut AnalyzerState| {
        if n_samples == 0 {
            return s.push_planar(0, at).map(|_| pqe_status::PQE_OK);
        }
        if channels.is_null() {
            return Err(Failure::null("channels"));
        }
        let n_ch = s.n_channels;
        let total = n_samples.checked_mul(n_ch).ok_or_else(|| {
            Failure::invalid(format!(
                "n_samples {n_samples} × {n_ch} channels overflows size_t"
            ))
        })?;
        // SAFETY: non-NULL, and the caller guarantees `n_channels` pointers.
        let pointers = unsafe { std::slice::from_raw_parts(channels, n_ch) };
        let mut planar = std::mem::take(&mut s.planar);
        planar.clear();
        planar.reserve(total);
        for (c, &p) in pointers.iter().enumerate() {
            if p.is_null() {
                s.planar = planar;
                return Err(Failure::null(&format!("channels[{c}]")));
            }
            // SAFETY: non-NULL, and the caller guarantees `n_samples` readable doubles.
            planar.extend_from_slice(unsafe { std::slice::from_raw_parts(p, n_samples) });
        }
        s.planar = planar;
        s.push_planar(n_samples, at)?;
        Ok(pqe_status::PQE_OK)
    })
}

/// The recording has ended: make the last records (the last 10-s frequency value, open
/// events, partial aggregates, flicker). Calling it again does nothing; pushing after it
/// returns `PQE_ERR_STATE`.
#[no_mangle]
pub extern "C" fn pqe_analyzer_finish(h: *mut pqe_analyzer) -> pqe_status {
    run("pqe_analyzer_finish", || {
        handles::with(token(h), "h", |s: &mut AnalyzerState| {
            s.analyzer.finish();
            s.finished = true;
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// Take the next record into `*out` (`out->struct_size` must be set to
/// `sizeof(pqe_record)`). Returns `PQE_OK` with a record, or `PQE_END` when none is
/// available now (push more samples; after [`pqe_analyzer_finish`]: the analysis is
/// complete). `label` and `values` in the record point into the handle and stay valid
/// until the next call on it.
///
/// # Safety
/// `out` is NULL or points to a writable `pqe_record` of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_next_record(
    h: *mut pqe_analyzer,
    out: *mut pqe_record,
) -> pqe_status {
    run("pqe_analyzer_next_record", || {
        // SAFETY: per the contract (NULL and struct_size checked inside); the copy is
        // only used for the check.
        unsafe { read_sized(out.cast_const(), "out")? };
        handles::with(token(h), "h", |s: &mut AnalyzerState| {
            // Urms(1/2) records come only with PQE_FLAG_HALF_CYCLE (the analyzer's option).
            let Some(record) = s.analyzer.next_record() else {
                return Ok(pqe_status::PQE_END);
            };
            let c = s.record_to_c(record);
            // SAFETY: `out` is non-NULL and writable for at least
            // `size_of::<pqe_record>()` bytes (struct_size was checked).
            unsafe { out.write(c) };
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// The number of interval/aggregate columns known so far into `*n` (the `n_values` of the
/// latest interval or aggregate record; the set grows when a record brings a new column).
///
/// # Safety
/// `n` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_column_count(
    h: *mut pqe_analyzer,
    n: *mut usize,
) -> pqe_status {
    run("pqe_analyzer_column_count", || {
        if n.is_null() {
            return Err(Failure::null("n"));
        }
        handles::with(token(h), "h", |s: &mut AnalyzerState| {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { n.write(s.columns.len()) };
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// The name of interval/aggregate column `i` (`t`, `flagged`, `f`, `U_A`, `PK_U_A`, …)
/// into `*name`: a NUL-terminated string owned by the handle, valid until it is freed.
///
/// Errors: `PQE_ERR_INVALID_ARGUMENT` when `i` is not below the column count.
///
/// # Safety
/// `name` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_column_name(
    h: *mut pqe_analyzer,
    i: usize,
    name: *mut *const c_char,
) -> pqe_status {
    run("pqe_analyzer_column_name", || {
        if name.is_null() {
            return Err(Failure::null("name"));
        }
        handles::with(token(h), "h", |s: &mut AnalyzerState| {
            let column = s.columns.get(i).ok_or_else(|| {
                Failure::invalid(format!(
                    "column {i} does not exist ({} columns so far)",
                    s.columns.len()
                ))
            })?;
            // SAFETY: non-NULL and writable per the contract.
            unsafe { name.write(column.as_ptr()) };
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// The column name of channel `c` (its role, `U_A`, `I_N`, …, or its own name) into
/// `*name`: a NUL-terminated string owned by the handle, valid until it is freed. Names
/// the `values` of half-cycle records.
///
/// Errors: `PQE_ERR_INVALID_ARGUMENT` when `c` is not below the channel count.
///
/// # Safety
/// `name` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_analyzer_channel_column(
    h: *mut pqe_analyzer,
    c: usize,
    name: *mut *const c_char,
) -> pqe_status {
    run("pqe_analyzer_channel_column", || {
        if name.is_null() {
            return Err(Failure::null("name"));
        }
        handles::with(token(h), "h", |s: &mut AnalyzerState| {
            let column = s.channel_columns.get(c).ok_or_else(|| {
                Failure::invalid(format!(
                    "channel {c} does not exist (the analyzer has {})",
                    s.channel_columns.len()
                ))
            })?;
            // SAFETY: non-NULL and writable per the contract.
            unsafe { name.write(column.as_ptr()) };
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// Release an analyzer. The handle is invalid afterwards: any further use, a second
/// free included, returns `PQE_ERR_INVALID_HANDLE`. NULL returns `PQE_ERR_NULL`.
#[no_mangle]
pub extern "C" fn pqe_analyzer_free(h: *mut pqe_analyzer) -> pqe_status {
    run("pqe_analyzer_free", || {
        handles::remove::<AnalyzerState>(token(h), "h")?;
        Ok(pqe_status::PQE_OK)
    })
}
