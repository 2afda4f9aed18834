//! IEC 61000-4-15 Ed.2 (2010) flickermeter for one voltage channel: instantaneous flicker
//! sensation Pinst, short-term severity Pst every 10 min of the clock and long-term
//! severity Plt every 2 h of the clock, with the 230 V and the 120 V lamp on 50 Hz and
//! 60 Hz supplies.
//!
//! ```text
//! u ─► u² ─► CIC³ ↓M ─► droop FIR ─► ÷ mean square (60 s) ─► HP 0.05 Hz ─► BW6 35/42 Hz
//!      block 2 (4.3), ~1 kHz         block 1 (4.2)            block 3 (4.4)
//!   ─► lamp–eye ─► ( )² ─► LP 300 ms ─► × gain = Pinst ─► classifier ─► Pst ─► Plt
//!      block 3     block 4 (4.5)                          block 5 (4.7.2)     (4.7.3)
//! ```
//!
//! - The demodulator squares every input sample and decimates to about 1 kHz
//!   ([`FlickerOptions::decimated_rate`]) with an alias-free low-pass, so the filters of
//!   blocks 3 and 4 run at a fixed low rate whatever the input rate (≥ 2 kHz). The
//!   decimator costs three multiply–adds per input sample.
//! - Block 1, the input adaptor, is applied after squaring: dividing `u²` by its mean
//!   square is dividing `u` by its RMS. The level is tracked with the 1-min first-order
//!   low-pass of 4.2 (started as a running mean, see [`weighting`]).
//! - The weighting filters are those of 4.4, bilinear-transformed at the decimated rate;
//!   the Butterworth low-pass follows the supply (35 Hz for 50 Hz, 42 Hz for 60 Hz), the
//!   lamp–eye filter follows the [`Lamp`].
//! - Block 4 is calibrated at the 8.8 Hz row of table 1 for each lamp ([`Calibration`]).
//! - Block 5 classifies every Pinst value of the 10-min period into 1024 logarithmic
//!   classes per octave ([`PinstClassifier`]) and takes the percentiles of the Pst
//!   formula from them ([`ShortTermStatistics`]); Plt is the cube mean of the Pst values
//!   of 2 h ([`long_term_severity`]).
//!
//! # Clock, settling and bad input
//!
//! Pst periods are the 10-min periods of the absolute clock (their starts are multiples of
//! 600 s since the epoch), Plt periods the 2-h ones (multiples of 7200 s); a Pinst value
//! belongs to the period that holds the time of the newest input sample behind it.
//!
//! - Settling: after the start, a gap or missing samples the meter restarts with its
//!   filters in the steady state of a steady voltage and fades the signal in over 0.5 s
//!   (see [`weighting`]); it then reads within 1 % after about 3 s.
//!   Pinst values of the first [`FlickerOptions::settling_time`] (10 s by default: three
//!   time constants of the 0.05 Hz high-pass, and the level tracker's mean has become
//!   exact to 0.2 %) are left out of the statistics and the period that held them is
//!   flagged `settling`.
//! - A period observed only in part (the recording starts or ends inside it, or a gap
//!   or missing samples cut it) is reported with the Pinst values it has, flagged
//!   `incomplete`; a period with no value at all has a NaN Pst. A period lying wholly in
//!   a gap ([`Flickermeter::resume_at`]) is not reported.
//! - A NaN or infinite sample flags its period (`missing_samples`), stops the meter until
//!   finite samples return (the values whose decimation window holds it are dropped) and
//!   the meter then settles again. Nothing panics on bad input.
//! - Plt is flagged when a member Pst is flagged (`member_flagged`) or missing
//!   (`incomplete`).
//!
//! # Streaming
//!
//! [`Flickermeter::push`] takes any cut of the channel; every stage computes each value
//! from the values before it in a fixed order, so records and Pinst values are
//! bit-identical whatever the cut. The stages run over the pushed block one after the
//! other (squaring and decimation over the block, then the weighting chain over the run
//! of decimated values with its state held in registers, then the classifier), which
//! does not change a bit of any value. Memory is fixed: about 200 kB per channel, most of
//! it the classifier.

pub mod demodulator;
mod statistics;
pub mod weighting;

pub use statistics::{long_term_severity, PinstClassifier, ShortTermStatistics};
pub use weighting::{butterworth_cutoff, Calibration, LampEyeParameters};

use demodulator::{DroopCompensator, ReferenceDecimator, SquaringDecimator};
use pqe_core::record::{FlickerFlags, FlickerRecord, FlickerSeverity};
use pqe_core::{Error, NominalFrequency, Result, Timestamp};
use std::collections::VecDeque;
use weighting::{ReferenceChain, WeightingChain};

/// Length of the Pst observation period (4.7.2), nanoseconds.
pub const SHORT_TERM_PERIOD_NS: i64 = 600_000_000_000;
/// Pst periods in one Plt period (4.7.3: 2 h).
pub const PERIODS_PER_LONG_TERM: i64 = 12;
/// Lowest input sample rate the meter accepts, Hz.
pub const MIN_SAMPLE_RATE: f64 = 2000.0;
/// Lowest decimated rate the meter accepts, Hz (ten times the 42 Hz Butterworth cutoff).
pub const MIN_DECIMATED_RATE: f64 = 420.0;
/// Phase-to-neutral Udin below which the 120 V lamp is chosen, volts.
pub const LAMP_UDIN_THRESHOLD: f64 = 170.0;
/// Input samples decimated before their values go through the weighting chain.
const PUSH_PART: usize = 65536;

/// The reference lamp whose flicker the meter models (IEC 61000-4-15 Ed.2 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lamp {
    /// 230 V, 60 W coiled-coil incandescent lamp (the 230/400 V networks).
    V230,
    /// 120 V, 60 W incandescent lamp (the 120/208 V and 100 V networks).
    V120,
}

impl Lamp {
    /// The lamp of a supply with phase-to-neutral declared voltage `udin` (volts): the
    /// 120 V lamp below [`LAMP_UDIN_THRESHOLD`] (170 V, between the 100–127 V and the
    /// 220–240 V families), the 230 V lamp otherwise. For a delta connection pass the
    /// line-to-line Udin divided by √3.
    pub fn for_udin(udin: f64) -> Result<Lamp> {
        if !(udin.is_finite() && udin > 0.0) {
            return Err(Error::Config(format!(
                "flicker lamp: Udin must be a positive voltage, not {udin}"
            )));
        }
        Ok(if udin < LAMP_UDIN_THRESHOLD {
            Lamp::V120
        } else {
            Lamp::V230
        })
    }

    /// "230V" or "120V".
    pub fn name(self) -> &'static str {
        match self {
            Lamp::V230 => "230V",
            Lamp::V120 => "120V",
        }
    }
}

/// Settings of a [`Flickermeter`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlickerOptions {
    /// The lamp; `None` follows `udin` ([`Lamp::for_udin`]).
    pub lamp: Option<Lamp>,
    /// Phase-to-neutral declared input voltage, volts, used when `lamp` is `None`.
    pub udin: Option<f64>,
    /// Lowest rate the demodulated signal is decimated to, Hz (default 1000): the input
    /// rate is divided by the largest integer that keeps the rate at or above this.
    /// Blocks 3 to 5 cost in proportion to it; the bilinear warping of the weighting
    /// filters (−1.5 % of Pinst at 40 Hz with 1 kHz) shrinks with its square.
    pub decimated_rate: f64,
    /// Seconds after a (re)start whose Pinst values are left out of the statistics
    /// (default 10).
    pub settling_time: f64,
    /// When set, the meter keeps a Pinst series of the largest and mean Pinst over steps
    /// of this many seconds ([`Flickermeter::next_pinst`]).
    pub pinst_step: Option<f64>,
    /// Column name written into the records (e.g. `U_A`).
    pub column: String,
}

impl Default for FlickerOptions {
    fn default() -> Self {
        FlickerOptions {
            lamp: None,
            udin: None,
            decimated_rate: 1000.0,
            settling_time: 10.0,
            pinst_step: None,
            column: String::new(),
        }
    }
}

impl FlickerOptions {
    /// Defaults with the lamp set.
    pub fn for_lamp(lamp: Lamp) -> Self {
        FlickerOptions {
            lamp: Some(lamp),
            ..FlickerOptions::default()
        }
    }

    /// Defaults with the lamp following a phase-to-neutral Udin.
    pub fn for_udin(udin: f64) -> Self {
        FlickerOptions {
            udin: Some(udin),
            ..FlickerOptions::default()
        }
    }

    /// The lamp these options select.
    pub fn resolve_lamp(&self) -> Result<Lamp> {
        match (self.lamp, self.udin) {
            (Some(lamp), _) => Ok(lamp),
            (None, Some(udin)) => Lamp::for_udin(udin),
            (None, None) => Err(Error::Config(
                "flickermeter: set the lamp or the phase-to-neutral Udin it follows".into(),
            )),
        }
    }
}

/// One step of the Pinst series ([`FlickerOptions::pinst_step`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinstValue {
    /// Time of the first Pinst value of the step, seconds from the recording's start.
    pub t: f64,
    /// The same, absolute.
    pub start: Timestamp,
    /// Length of the step, seconds.
    pub duration: f64,
    /// Largest Pinst of the step.
    pub max: f64,
    /// Mean Pinst of the step.
    pub mean: f64,
    /// True when the step lies (partly) in the settling time.
    pub settling: bool,
}

/// The flickermeter of one voltage channel; see the module documentation.
#[derive(Debug, Clone)]
pub struct Flickermeter {
    sample_rate: f64,
    nominal: NominalFrequency,
    lamp: Lamp,
    column: String,
    recording_start_ns: i64,
    kernels: Kernels,
    factor: u64,
    /// Input samples between a window's first sample and the one it is timed by.
    lag: u64,
    rate: f64,
    settling_values: u64,
    // The current segment: a run of samples without a gap.
    origin_ns: i64,
    inputs: u64,
    outputs: u64,
    running: bool,
    settle_until: u64,
    last_pinst: f64,
    decimated: Vec<f64>,
    period: ShortTermPeriod,
    next_boundary: u64,
    long_term: Option<LongTermPeriod>,
    series: Option<PinstSeries>,
    pinst_queue: VecDeque<PinstValue>,
    records: VecDeque<FlickerRecord>,
    finished: bool,
}

impl Flickermeter {
    /// A flickermeter for one voltage channel sampled at `sample_rate` (≥ 2 kHz) on a
    /// `nominal` supply (it sets the Butterworth cutoff, 4.4), whose first sample is at
    /// `start`; record times `t` count from `recording_start`.
    ///
    /// Errors: a sample rate below 2 kHz or not finite, no lamp and no Udin, a
    /// non-positive Udin, a decimated rate below 420 Hz or above the sample rate, a
    /// negative or infinite settling time, a Pinst step that is not a positive time.
    pub fn new(
        sample_rate: f64,
        nominal: NominalFrequency,
        start: Timestamp,
        recording_start: Timestamp,
        options: FlickerOptions,
    ) -> Result<Flickermeter> {
        if !(sample_rate.is_finite() && sample_rate >= MIN_SAMPLE_RATE) {
            return Err(Error::Config(format!(
                "flickermeter: sample rate must be at least {MIN_SAMPLE_RATE} Hz, not \
                 {sample_rate} Hz"
            )));
        }
        let lamp = options.resolve_lamp()?;
        let target = options.decimated_rate;
        if !(target.is_finite() && target >= MIN_DECIMATED_RATE && target <= sample_rate) {
            return Err(Error::Config(format!(
                "flickermeter: decimated rate must lie between {MIN_DECIMATED_RATE} Hz and \
                 the sample rate ({sample_rate} Hz), not {target} Hz"
            )));
        }
        let settling = options.settling_time;
        if !(settling.is_finite() && settling >= 0.0) {
            return Err(Error::Config(format!(
                "flickermeter: settling time must be zero or more seconds, not {settling}"
            )));
        }
        let factor = ((sample_rate / target) * (1.0 + 1e-12)).floor().max(1.0) as usize;
        let rate = sample_rate / factor as f64;
        let series = match options.pinst_step {
            None => None,
            Some(step) if step.is_finite() && step > 0.0 => Some(PinstSeries {
                step: (step * rate).round().max(1.0) as u64,
                ..PinstSeries::default()
            }),
            Some(step) => {
                return Err(Error::Config(format!(
                    "flickermeter: Pinst step must be a positive number of seconds, not {step}"
                )))
            }
        };
        let decimator = SquaringDecimator::new(factor);
        let reference =
            ReferenceChain::new(lamp, nominal, rate, DroopCompensator::new(factor), |f| {
                decimator.response(f, sample_rate)
            })?;
        let chain = WeightingChain::from_reference(&reference)?;
        let lag = (decimator.kernel_len() - 1) as u64;
        let mut meter = Flickermeter {
            sample_rate,
            nominal,
            lamp,
            column: options.column,
            recording_start_ns: recording_start.as_nanos(),
            kernels: Kernels::Fast { decimator, chain },
            factor: factor as u64,
            lag,
            rate,
            settling_values: (settling * rate).ceil() as u64,
            origin_ns: start.as_nanos(),
            inputs: 0,
            outputs: 0,
            running: false,
            settle_until: 0,
            last_pinst: f64::NAN,
            decimated: Vec::new(),
            period: ShortTermPeriod {
                index: 0,
                classifier: PinstClassifier::new(),
                from_start: false,
                cut: false,
                settling: false,
                missing: false,
                observed: false,
            },
            next_boundary: 0,
            long_term: None,
            series,
            pinst_queue: VecDeque::new(),
            records: VecDeque::new(),
            finished: false,
        };
        let index = start.as_nanos().div_euclid(SHORT_TERM_PERIOD_NS);
        meter.open_period(index, start.as_nanos() == index * SHORT_TERM_PERIOD_NS);
        Ok(meter)
    }

    /// Feed the next samples of the channel (volts, or any unit: the meter normalises).
    /// Samples pushed after [`finish`](Self::finish) are ignored.
    pub fn push(&mut self, samples: &[f64]) {
        if self.finished {
            return;
        }
        self.inputs += samples.len() as u64;
        let mut decimated = std::mem::take(&mut self.decimated);
        // Part by part, so the buffer stays small whatever the length of `samples`.
        for part in samples.chunks(PUSH_PART) {
            self.kernels.decimate(part, &mut decimated);
            self.process_values(&mut decimated);
            decimated.clear();
        }
        self.decimated = decimated;
    }

    /// Switch to the plain twins of the fast kernels (a decimator summing each window in
    /// one running sum, the weighting chain value by value through `pqe_dsp::iir`): for
    /// the tests that check the fast path against them. Only before the first push.
    #[doc(hidden)]
    pub fn use_reference_kernels(&mut self) {
        if let Kernels::Fast { decimator, .. } = &self.kernels {
            if self.inputs == 0 {
                let factor = self.factor as usize;
                let sample_rate = self.sample_rate;
                let response = |f| decimator.response(f, sample_rate);
                if let Ok(chain) = ReferenceChain::new(
                    self.lamp,
                    self.nominal,
                    self.rate,
                    DroopCompensator::new(factor),
                    response,
                ) {
                    self.kernels =
                        Kernels::Reference(Box::new((ReferenceDecimator::new(factor), chain)));
                }
            }
        }
    }

    /// The next Pst or Plt record, in the order they were completed.
    pub fn next_record(&mut self) -> Option<FlickerRecord> {
        self.records.pop_front()
    }

    /// The next value of the Pinst series (only with [`FlickerOptions::pinst_step`]).
    pub fn next_pinst(&mut self) -> Option<PinstValue> {
        self.pinst_queue.pop_front()
    }

    /// The recording continues at `resume` after a gap: the current Pst period is flagged
    /// incomplete (and closed when `resume` lies in a later one) and the meter settles
    /// again. A `resume` within half a sample of the end of the samples pushed so far is
    /// no gap. An error when `resume` lies before that end.
    pub fn resume_at(&mut self, resume: Timestamp) -> Result<()> {
        let end = self.segment_end_ns();
        let half_sample = (0.5e9 / self.sample_rate) as i64;
        let t = resume.as_nanos();
        if t < end - half_sample {
            return Err(Error::Config(format!(
                "flickermeter: the recording cannot resume at {resume}, before the end of \
                 the samples so far ({})",
                Timestamp::from_nanos(end)
            )));
        }
        if self.finished || t <= end + half_sample {
            return Ok(());
        }
        self.period.cut = true;
        let index = t.div_euclid(SHORT_TERM_PERIOD_NS);
        if index != self.period.index {
            self.close_period();
            self.open_period(index, t == index * SHORT_TERM_PERIOD_NS);
        }
        self.kernels.reset_decimator();
        self.running = false;
        self.last_pinst = f64::NAN;
        self.origin_ns = t;
        self.inputs = 0;
        self.outputs = 0;
        self.next_boundary = self.first_output_at(self.period.end_ns());
        if let Some(s) = &mut self.series {
            s.clear();
        }
        Ok(())
    }

    /// End of the recording: the current Pst period (flagged incomplete unless the samples
    /// reached its end) and the current Plt period are reported. Idempotent.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // Samples up to the period's end, but for the few that did not make a whole
        // decimated value, complete it.
        let slack = (self.factor as f64 + 0.5) * 1e9 / self.sample_rate;
        if (self.segment_end_ns() as f64) + slack < self.period.end_ns() as f64 {
            self.period.cut = true;
        }
        self.close_period();
        self.flush_long_term();
    }

    /// The lamp the meter models.
    pub fn lamp(&self) -> Lamp {
        self.lamp
    }

    /// The rate blocks 3 to 5 run at, Hz.
    pub fn decimated_rate(&self) -> f64 {
        self.rate
    }

    /// The calibration gain of block 4 ([`Calibration`]).
    pub fn gain(&self) -> f64 {
        match &self.kernels {
            Kernels::Fast { chain, .. } => chain.gain(),
            Kernels::Reference(r) => r.1.gain(),
        }
    }

    /// The latest Pinst (NaN while the meter is stopped by missing samples or a gap).
    pub fn pinst(&self) -> f64 {
        self.last_pinst
    }

    // ---- the chain over the decimated values ----

    /// Run the decimated values through blocks 1 to 5 (`values` is overwritten): the runs
    /// of finite values met while running go through the weighting chain in one piece,
    /// the values that stop or (re)start the meter one at a time.
    fn process_values(&mut self, values: &mut [f64]) {
        let mut i = 0;
        while i < values.len() {
            if !self.running || !values[i].is_finite() {
                self.process(values[i]);
                i += 1;
                continue;
            }
            let run = values[i..]
                .iter()
                .position(|v| !v.is_finite())
                .unwrap_or(values.len() - i);
            let run = &mut values[i..i + run];
            self.kernels.weight(run);
            self.take_run(run);
            i += run.len();
        }
    }

    /// Count one more decimated value and close the periods it lies beyond; returns its
    /// index in the segment.
    #[inline]
    fn begin_value(&mut self) -> u64 {
        let j = self.outputs;
        self.outputs += 1;
        while j >= self.next_boundary {
            self.close_period();
            self.open_period(self.period.index + 1, true);
        }
        self.period.observed = true;
        j
    }

    /// The Pinst values of a run of finite values met while running: value by value
    /// where a period ends or the Pinst series is kept, otherwise the stretch up to the
    /// next period boundary at once (the same bookkeeping as [`Self::take_pinst`] for each
    /// value, the classifier fed in order).
    fn take_run(&mut self, run: &[f64]) {
        let mut k = 0;
        while k < run.len() {
            let j = self.outputs;
            if j >= self.next_boundary || self.series.is_some() {
                let j = self.begin_value();
                self.take_pinst(j, run[k]);
                k += 1;
                continue;
            }
            let room = (self.next_boundary - j).min((run.len() - k) as u64) as usize;
            let stretch = &run[k..k + room];
            self.outputs += room as u64;
            self.period.observed = true;
            let settling = (self.settle_until.saturating_sub(j) as usize).min(room);
            if settling > 0 {
                self.period.settling = true;
            }
            self.period.classifier.add_slice(&stretch[settling..]);
            self.last_pinst = stretch[room - 1];
            k += room;
        }
    }

    /// One decimated value that is not finite or that (re)starts the meter.
    fn process(&mut self, x: f64) {
        let j = self.begin_value();
        if !x.is_finite() {
            self.period.missing = true;
            self.period.cut = true;
            self.running = false;
            self.last_pinst = f64::NAN;
            if let Some(s) = &mut self.series {
                s.clear();
            }
            return;
        }
        if !self.running {
            self.kernels.restart(x);
            self.running = true;
            self.settle_until = j + self.settling_values;
        }
        let mut one = [x];
        self.kernels.weight(&mut one);
        self.take_pinst(j, one[0]);
    }

    /// Blocks 5 and the Pinst series for the Pinst value of decimated value `j`.
    #[inline]
    fn take_pinst(&mut self, j: u64, pinst: f64) {
        self.last_pinst = pinst;
        let settling = j < self.settle_until;
        if settling {
            self.period.settling = true;
        } else {
            self.period.classifier.add(pinst);
        }
        let step = self
            .series
            .as_mut()
            .and_then(|series| Some((series.add(j, pinst, settling)?, series.step)));
        if let Some(((first, max, mean, settling), step)) = step {
            let start = self.output_time_ns(first);
            self.pinst_queue.push_back(PinstValue {
                t: (start - self.recording_start_ns) as f64 * 1e-9,
                start: Timestamp::from_nanos(start),
                duration: step as f64 / self.rate,
                max,
                mean,
                settling,
            });
        }
    }

    // ---- periods ----

    fn open_period(&mut self, index: i64, from_start: bool) {
        let p = &mut self.period;
        p.index = index;
        p.classifier.clear();
        p.from_start = from_start;
        p.cut = false;
        p.settling = false;
        p.missing = false;
        p.observed = false;
        self.next_boundary = self.first_output_at(self.period.end_ns());
    }

    /// Report the current period (when it saw anything) as a Pst record.
    fn close_period(&mut self) {
        if !self.period.observed {
            return;
        }
        let p = &mut self.period;
        let observed = p.classifier.len() as f64 / self.rate;
        let statistics = p.classifier.statistics();
        let flags = FlickerFlags {
            settling: p.settling,
            incomplete: !p.from_start || p.cut,
            missing_samples: p.missing,
            member_flagged: false,
        };
        let start = p.index * SHORT_TERM_PERIOD_NS;
        let record = FlickerRecord {
            severity: FlickerSeverity::Pst,
            column: self.column.clone(),
            t: (start - self.recording_start_ns) as f64 * 1e-9,
            start: Timestamp::from_nanos(start),
            duration: SHORT_TERM_PERIOD_NS as f64 * 1e-9,
            value: statistics.map_or(f64::NAN, |s| s.pst),
            pinst_max: statistics.map_or(f64::NAN, |s| s.pinst_max),
            observed,
            flagged: flags.any(),
            flags,
        };
        let index = p.index;
        p.observed = false;
        self.add_to_long_term(index, &record);
        self.records.push_back(record);
        if index.rem_euclid(PERIODS_PER_LONG_TERM) == PERIODS_PER_LONG_TERM - 1 {
            self.flush_long_term();
        }
    }

    fn add_to_long_term(&mut self, index: i64, pst: &FlickerRecord) {
        let long_index = index.div_euclid(PERIODS_PER_LONG_TERM);
        if self
            .long_term
            .as_ref()
            .is_some_and(|l| l.index != long_index)
        {
            self.flush_long_term();
        }
        let long = self.long_term.get_or_insert_with(|| LongTermPeriod {
            index: long_index,
            ..LongTermPeriod::default()
        });
        long.pst.push(pst.value);
        long.flagged |= pst.flagged;
        if pst.pinst_max.is_finite() {
            long.pinst_max = long.pinst_max.max(pst.pinst_max);
        }
    }

    /// Report the current Plt period, if any.
    fn flush_long_term(&mut self) {
        let Some(long) = self.long_term.take() else {
            return;
        };
        let members = long.pst.iter().filter(|v| v.is_finite()).count();
        let flags = FlickerFlags {
            settling: false,
            incomplete: members < PERIODS_PER_LONG_TERM as usize,
            missing_samples: false,
            member_flagged: long.flagged,
        };
        let start = long.index * PERIODS_PER_LONG_TERM * SHORT_TERM_PERIOD_NS;
        self.records.push_back(FlickerRecord {
            severity: FlickerSeverity::Plt,
            column: self.column.clone(),
            t: (start - self.recording_start_ns) as f64 * 1e-9,
            start: Timestamp::from_nanos(start),
            duration: (PERIODS_PER_LONG_TERM * SHORT_TERM_PERIOD_NS) as f64 * 1e-9,
            value: long_term_severity(&long.pst),
            pinst_max: if members > 0 {
                long.pinst_max
            } else {
                f64::NAN
            },
            observed: members as f64,
            flagged: flags.any(),
            flags,
        });
    }

    // ---- time of the decimated values ----

    /// Absolute time of decimated value `j` of the segment: its newest input sample.
    fn output_time_ns(&self, j: u64) -> i64 {
        let sample = (j * self.factor + self.lag) as f64;
        self.origin_ns + (sample * 1e9 / self.sample_rate).round() as i64
    }

    /// The first decimated value of the segment timed at or after `t_ns`.
    fn first_output_at(&self, t_ns: i64) -> u64 {
        let samples = (t_ns - self.origin_ns) as f64 * 1e-9 * self.sample_rate;
        let j = (samples - self.lag as f64) / self.factor as f64;
        if j <= 0.0 {
            0
        } else {
            (j - 1e-6).ceil() as u64
        }
    }

    /// Absolute time just after the last sample pushed in this segment.
    fn segment_end_ns(&self) -> i64 {
        self.origin_ns + (self.inputs as f64 * 1e9 / self.sample_rate).round() as i64
    }
}

/// The Pst period being observed.
#[derive(Debug, Clone)]
struct ShortTermPeriod {
    /// Period number: start = index · 600 s since the epoch.
    index: i64,
    /// Pinst values outside the settling time.
    classifier: PinstClassifier,
    /// The meter was observing at the period's start.
    from_start: bool,
    /// A gap, missing samples or the end of the recording cut the period.
    cut: bool,
    /// Some values fell in a settling time.
    settling: bool,
    /// Some samples were missing.
    missing: bool,
    /// At least one decimated value (finite or not) fell in the period.
    observed: bool,
}

impl ShortTermPeriod {
    fn end_ns(&self) -> i64 {
        (self.index + 1) * SHORT_TERM_PERIOD_NS
    }
}

/// The Plt period being accumulated.
#[derive(Debug, Clone)]
struct LongTermPeriod {
    index: i64,
    pst: Vec<f64>,
    flagged: bool,
    pinst_max: f64,
}

impl Default for LongTermPeriod {
    fn default() -> Self {
        LongTermPeriod {
            index: 0,
            pst: Vec::with_capacity(PERIODS_PER_LONG_TERM as usize),
            flagged: false,
            pinst_max: f64::NEG_INFINITY,
        }
    }
}

/// Largest and mean Pinst over steps of a fixed number of decimated values.
#[derive(Debug, Clone, Default)]
struct PinstSeries {
    step: u64,
    count: u64,
    first: u64,
    max: f64,
    sum: f64,
    settling: bool,
}

impl PinstSeries {
    /// Add value `j`; returns (first value's index, max, mean, settling) when a step is
    /// complete.
    fn add(&mut self, j: u64, pinst: f64, settling: bool) -> Option<(u64, f64, f64, bool)> {
        if self.count == 0 {
            self.first = j;
            self.max = pinst;
            self.sum = 0.0;
            self.settling = false;
        }
        self.count += 1;
        self.max = self.max.max(pinst);
        self.sum += pinst;
        self.settling |= settling;
        if self.count == self.step {
            self.count = 0;
            Some((
                self.first,
                self.max,
                self.sum / self.step as f64,
                self.settling,
            ))
        } else {
            None
        }
    }

    fn clear(&mut self) {
        self.count = 0;
    }
}

/// The decimator and weighting chain of a meter: the fast kernels, or their plain twins
/// ([`Flickermeter::use_reference_kernels`]).
// The fast variant is the one every meter but a test's runs: kept inline, the plain
// twins boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Kernels {
    Fast {
        decimator: SquaringDecimator,
        chain: WeightingChain,
    },
    Reference(Box<(ReferenceDecimator, ReferenceChain)>),
}

impl Kernels {
    /// Blocks 2 (4.3): square and decimate `samples`, appending to `out`.
    fn decimate(&mut self, samples: &[f64], out: &mut Vec<f64>) {
        match self {
            Kernels::Fast { decimator, .. } => decimator.push(samples, out),
            Kernels::Reference(r) => r.0.push(samples, out),
        }
    }

    fn reset_decimator(&mut self) {
        match self {
            Kernels::Fast { decimator, .. } => decimator.reset(),
            Kernels::Reference(r) => r.0.reset(),
        }
    }

    fn restart(&mut self, x: f64) {
        match self {
            Kernels::Fast { chain, .. } => chain.restart(x),
            Kernels::Reference(r) => r.1.restart(x),
        }
    }

    /// Blocks 1, 3 and 4 (4.2, 4.4, 4.5): decimated values in, Pinst out, in place.
    #[inline]
    fn weight(&mut self, values: &mut [f64]) {
        match self {
            Kernels::Fast { chain, .. } => chain.process_block(values),
            Kernels::Reference(r) => {
                for v in values {
                    *v = r.1.process(*v);
                }
            }
        }
    }
}
