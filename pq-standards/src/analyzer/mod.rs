//! The composed streaming analyzer: Blocks in, IEC 61000-4-30 Class A records out.
//!
//! ```text
//! Block ─► reference channel ─► FundamentalTracker ─► cycle boundaries
//!     │                                                 ├─► TenSecondFrequency  ─► FrequencyRecord ─┐
//!     │                                                 ├─► HalfCycleSeries     ─► HalfCycleRecord ─┤
//!     ├─► per-channel sample buffers ◄── windows ◄──────┴─► IntervalScheduler   ─► IntervalRecord ──┤
//!     └─► Flickermeter per voltage channel ─────────────────────────────────────► FlickerRecord ───┤
//!                                                                                                  │
//!   in key order: HalfCycle ─► EventDetector ─► EventRecord + CaptureTrigger                       │
//!                 Interval, Frequency, Flicker ─► held until the detector caught up ─► 4.7 flags ◄─┘
//!                 released Interval ─► Aggregator ─► AggregateRecord (3 s, 10 min, 2 h)
//! ```
//!
//! Each 10/12-cycle interval (IEC 61000-4-30 Ed.3 4.4) gets, per channel, the RMS of 5.2
//! (integrated over the fractional window, [`window_moments`]), peak, crest factor and DC;
//! with harmonics enabled, the window is resampled to an exact number of points per cycle
//! ([`SyncResampler`]) and transformed ([`HarmonicAnalyzer`]): harmonic and interharmonic
//! subgroups and groups to order 63, phase angles against the U_A fundamental, THD, THDS,
//! THDG, TDD and K-factor for currents (IEC 61000-4-7), mains signalling voltage (5.10),
//! powers (IEEE 1459), unbalance u2 and u0 (5.7), under- and over-deviation (5.12).
//! Without harmonics (the basic chain), the powers that need no phasor — P, S, PF per
//! phase and in total — are integrated in the time domain over the same fractional window
//! as the RMS ([`TimeDomainPowers`], IEEE 1459-2010 3.1.2, 3.2.3).
//!
//! Which channel plays which role (`U_A` … `I_N`, the reference channel, the event
//! channels, the declared voltages) is decided by [`crate::iec61000_4_30::roles`]; every
//! value of a record is addressed by a typed [`pqe_core::record::QuantityKey`], whose
//! column name `pqe_core::record` derives.
//!
//! # Events, flags, aggregation, flicker
//!
//! - Urms(1/2) (5.4.1): one cycle commencing at a fundamental zero crossing, every half
//!   cycle. The cycles are placed on the tracker's boundaries made robust against its
//!   ringing after abrupt envelope changes (`regular_boundary`: median projection over
//!   5 boundaries either side, so the series lags the tracker by 5 cycles) and are one
//!   median cycle long.
//! - Events ([`crate::events`], 5.4 and 5.5) are detected on the Urms(1/2) values of the
//!   voltage channels: phase-to-neutral for wye and single wiring, line-to-line for delta
//!   (5.4.1); each event is followed by a [`pqe_core::record::CaptureTrigger`] with the
//!   configured pre- and post-trigger cycles.
//! - Flagging (4.7): an interval, 10-s frequency value or flicker value is held back until
//!   the detector has taken every Urms(1/2) value that starts before its end; it is then
//!   flagged (`flags.event`, `flagged`) when a dip, swell or interruption overlaps it.
//!   RVCs do not flag.
//! - Aggregation ([`crate::iec61000_4_30::aggregation`], 4.5): the released intervals,
//!   flags included, into 150/180-cycle, 10-min and 2-h values on the clock.
//! - Flicker (IEC 61000-4-15): a [`Flickermeter`] per event voltage channel (lamp from the
//!   phase-to-neutral Udin unless set), when the sample rate is at least 2 kHz.
//!
//! # Streaming and chunk invariance
//!
//! Every stage takes its input sample by sample or cycle by cycle, windows are cut by
//! absolute sample index, and each record carries the index of the sample that made it
//! computable (flicker records: the sample one second after their period's end); records
//! go, in that order, through the event, flagging and aggregation stages, which only ever
//! see that sequence. The records therefore do not depend on how the recording was cut
//! into blocks (tested with blocks of 1 to 65 536 samples, events, aggregates and flicker
//! included). Memory is bounded: the sample buffers keep about one interval plus margins;
//! held records, event spans and aggregates hold at most a few seconds, resp. one period.
//!
//! # Bad input
//!
//! - NaN or infinite samples: the intervals and half cycles that read them are flagged
//!   (`missing_samples`) and that channel's values are NaN; on the reference channel the
//!   tracker restarts and bridges the hole at the nominal period (`unlocked`).
//! - A gap (a Block that does not continue the previous one in time): tracking restarts at
//!   the new time; intervals and half cycles that would span the gap are not reported, the
//!   next interval is flagged `after_gap`, the 10-s period around the gap is flagged, open
//!   events close `incomplete` where the recording stopped, aggregates holding the gap are
//!   `complete = false`. A Block starting *before* the end of the previous one is an error
//!   naming both times.
//! - A dead or too weak reference channel: boundaries at the nominal period, intervals
//!   flagged `unlocked`. A dead other channel simply measures zero (its ratios are NaN).
//! - A sample rate below 20 times the nominal frequency, a Block whose rate or channel
//!   count differs from the analyzer's, individually timed samples: errors.

use crate::events::{EventDetector, EventOptions, EventOutput, HalfCycleValue};
use crate::iec61000_4_15::{FlickerOptions, Flickermeter, Lamp};
use crate::iec61000_4_30::aggregation::Aggregator;
use crate::iec61000_4_30::roles::{declared_voltage, Roles};
use crate::iec61000_4_30::window::{
    window_mean_square, window_moments, WindowEnds, WindowMoments, WindowSamples, MARGIN,
};
use crate::iec61000_4_30::{
    CycleBoundary, FundamentalTracker, HalfCycleSeries, HalfCycleWindow, IntervalScheduler,
    IntervalWindow, TenSecondFrequency, TrackerSettings,
};
use crate::iec61000_4_7::DEFAULT_THD_ORDER;
use crate::ieee1459::TimeDomainPowers;
use pqe_core::record::{ChannelInterval, HalfCycleRecord, IntervalFlags, IntervalRecord, Record};
use pqe_core::{Block, ChannelKind, ChannelSpec, Error, Phase, Result, SystemConfig, Timestamp};
use pqe_dsp::resample::{recommended_points_per_cycle, SyncResampler};

mod helper;
mod spectral;
use spectral::{Spectral, SpectralSetup};
use std::collections::VecDeque;

/// What the analyzer computes besides RMS, peak, crest factor and DC.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzerOptions {
    /// Harmonics, interharmonics, THD, phase angles, powers and unbalance (IEC 61000-4-7,
    /// IEEE 1459, IEC 61000-4-30 5.7). Default on.
    ///
    /// Off (the basic chain), the powers that need no spectrum are still computed, in the
    /// time domain over the same fractional window as the RMS (IEEE 1459-2010 3.1.2 and
    /// 3.2.3; [`TimeDomainPowers`]): per phase `P_A` = mean(u·i), `S_A` = U·I,
    /// `PF_A` = P/S; for three phases the total `P`, the effective apparent power `S` (from
    /// Ve and Ie, which rest on RMS values only), `PF` = P/S, `S_arith` and `Ve`, `Ie`;
    /// for one phase `P`, `S`, `PF`. Whatever needs the fundamental phasors is absent:
    /// `Q1_A`, `DPF_A`, `Q`, `P1pos`, `Q1pos`, `S1pos`, and the unbalance `u2`, `u0`. So
    /// are the powers against the artificial neutral of delta wiring with line-to-line
    /// voltages only.
    pub harmonics: bool,
    /// Urms(1/2) records (IEC 61000-4-30 5.4.2). Default on.
    pub half_cycle: bool,
    /// 10-s frequency records (IEC 61000-4-30 5.1). Default on.
    pub frequency: bool,
    /// Restart the 10/12-cycle sequence at each 10-min tick of the clock (4.5). Default on.
    pub resync_on_ten_minutes: bool,
    /// Highest order in THD sums. Default 50.
    pub thd_max_order: usize,
    /// Mains signalling frequency to report (IEC 61000-4-30 5.10), Hz.
    pub signalling_frequency: Option<f64>,
    /// Points per cycle of the synchronised window; `None` picks one from the sample rate.
    pub points_per_cycle: Option<usize>,
    /// Tracking settings; `None` derives them from Udin.
    pub tracking: Option<TrackerSettings>,
    /// Dips, swells, interruptions and RVC (IEC 61000-4-30 5.4, 5.5): thresholds,
    /// hysteresis, sliding reference, capture lengths; `events.enabled` turns detection and
    /// the event flagging of 4.7 on or off. Default on, with the typical thresholds.
    pub events: EventOptions,
    /// 150/180-cycle, 10-min and 2-h aggregates (4.5). Default on.
    pub aggregation: bool,
    /// Flicker (IEC 61000-4-15): a flickermeter per event voltage channel, Pst every 10 min
    /// and Plt every 2 h of the clock. Default on; needs a sample rate of at least 2 kHz
    /// (below it no flicker records are made).
    pub flicker: bool,
    /// The flickermeter's lamp; `None` follows the phase-to-neutral Udin.
    pub flicker_lamp: Option<Lamp>,
    /// Share the spectral part of a push's intervals (resampling, spectra, harmonic
    /// values, powers) between the calling thread and a second one. The records are the
    /// same bits either way (the work of an interval does not depend on any other).
    /// Default on.
    pub parallel: bool,
}

impl Default for AnalyzerOptions {
    fn default() -> Self {
        AnalyzerOptions {
            harmonics: true,
            half_cycle: true,
            frequency: true,
            resync_on_ten_minutes: true,
            thd_max_order: DEFAULT_THD_ORDER,
            signalling_frequency: None,
            points_per_cycle: None,
            tracking: None,
            events: EventOptions::default(),
            aggregation: true,
            flicker: true,
            flicker_lamp: None,
            parallel: true,
        }
    }
}

/// The streaming analyzer; see the module documentation.
#[derive(Debug)]
pub struct Analyzer {
    channels: Vec<ChannelSpec>,
    columns: Vec<String>,
    reference: usize,
    sample_rate: f64,
    start: Timestamp,
    config: SystemConfig,
    options: AnalyzerOptions,
    tracker: FundamentalTracker,
    frequency: TenSecondFrequency,
    scheduler: IntervalScheduler,
    half_cycles: HalfCycleSeries,
    /// The last rising boundaries, around the one the Urms(1/2) cycles are placed on
    /// next (see [`regular_boundary`]), and the last placed.
    recent_boundaries: VecDeque<CycleBoundary>,
    last_regular: Option<f64>,
    /// `buffers[c][i]` is sample `base + i` of channel `c`.
    buffers: Vec<Vec<f64>>,
    base: u64,
    next_index: u64,
    interval_margin: usize,
    pending_windows: VecDeque<IntervalWindow>,
    pending_half: VecDeque<HalfCycleWindow>,
    output: VecDeque<Record>,
    spectral: Option<Spectral>,
    /// With [`AnalyzerOptions::parallel`]: the helper thread with a second spectral part,
    /// and the queue of this push's intervals waiting for their spectral part.
    spectral_helper: Option<helper::SpectralHelper>,
    /// Sample buffers of finished spectral jobs, for the next jobs' copies.
    spare_windows: Vec<Vec<Vec<f64>>>,
    /// The time-domain powers of the basic chain (harmonics off).
    time_powers: Option<TimeDomainPowers>,
    boundaries: Vec<CycleBoundary>,
    finished: bool,
    /// Event detection on the voltage channels `event_channels` (None when disabled or
    /// without voltage channels).
    detector: Option<EventDetector>,
    event_channels: Vec<usize>,
    /// Intervals and 10-s values waiting for the event detector, with their span.
    held: VecDeque<((f64, f64), Record)>,
    aggregator: Option<Aggregator>,
    /// One flickermeter per (channel, meter) and the flicker records waiting for their key.
    flicker: Vec<(usize, Flickermeter)>,
    flicker_pending: VecDeque<(u64, Record)>,
}

/// The stage that made a record, in the order the records made computable by the same
/// sample go through the event, flagging and aggregation stages: the Urms(1/2) value
/// first (the event detector must have it before it judges an interval), then the
/// interval, the 10-s frequency and the flicker value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    HalfCycle,
    Interval,
    Frequency,
    Flicker,
}

/// Where a record takes its place in the output: the index of the sample that made it
/// computable, then its [`Stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    ready_at: u64,
    stage: Stage,
}

/// A record waiting for its place. Its span in samples rides along (half cycles and
/// intervals: their window; flicker: its period; others: unused) so the event flagging
/// compares exact positions.
struct Keyed {
    key: OrderKey,
    record: Record,
    span: (f64, f64),
}

impl Keyed {
    fn new(ready_at: u64, stage: Stage, record: Record, span: (f64, f64)) -> Self {
        Keyed {
            key: OrderKey { ready_at, stage },
            record,
            span,
        }
    }
}

impl Analyzer {
    /// An analyzer for a recording of `channels` sampled at `sample_rate`, whose sample 0
    /// is at `start`.
    ///
    /// Channels map to roles by kind and phase (`U_A` … `U_CA`, `I_A` … `I_N`); the
    /// fundamental is tracked on U_A, else the first voltage channel, else the first
    /// current channel (the reference channel). Harmonic phase angles are relative to the
    /// reference channel's fundamental.
    pub fn new(
        channels: &[ChannelSpec],
        sample_rate: f64,
        start: Timestamp,
        config: SystemConfig,
        options: AnalyzerOptions,
    ) -> Result<Analyzer> {
        config.validate()?;
        let f0 = config.nominal_frequency.hz();
        if !(sample_rate.is_finite() && sample_rate >= 20.0 * f0) {
            return Err(Error::Config(format!(
                "sample rate {sample_rate} Hz is below 20 samples per cycle of {f0} Hz \
                 ({} Hz); the fundamental cannot be tracked",
                20.0 * f0
            )));
        }
        if channels.is_empty() {
            return Err(Error::Config("no channel to analyze".into()));
        }
        let (columns, roles) = Roles::assign(channels);
        let reference = roles.reference(channels).ok_or_else(|| {
            Error::Config(
                "no voltage or current channel to track the fundamental on (set the \
                     channels' kind or unit)"
                    .into(),
            )
        })?;
        let settings = options.tracking.unwrap_or_else(|| {
            let mut s = TrackerSettings::for_voltage(config.udin);
            if channels[reference].kind != ChannelKind::Voltage {
                // A current reference: judged against 1 % of the load current I_L where it
                // is known; without it any signal that is not exactly zero is tracked.
                s.floor = config
                    .load_current
                    .map_or(0.0, |il| 0.01 * std::f64::consts::SQRT_2 * il);
            }
            s
        });
        let tracker = FundamentalTracker::new(config.nominal_frequency, sample_rate, settings)?;
        let cycles = config.nominal_frequency.cycles_per_interval();
        let spectral = if options.harmonics {
            let ppc = options
                .points_per_cycle
                .unwrap_or_else(|| recommended_points_per_cycle(sample_rate / f0));
            let setup = SpectralSetup {
                kinds: channels.iter().map(|c| c.kind).collect(),
                roles: roles.clone(),
                reference,
                thd_max_order: options.thd_max_order,
                signalling_frequency: options.signalling_frequency,
            };
            Some((Spectral::new(&config, ppc, setup.clone())?, ppc, setup))
        } else {
            None
        };
        // The same setup twice gives the same results bit for bit (a spectral part holds
        // only plans and scratch space).
        let spectral_helper = match &spectral {
            Some((_, ppc, setup)) if options.parallel => Some(helper::SpectralHelper::start(
                Spectral::new(&config, *ppc, setup.clone())?,
            )?),
            _ => None,
        };
        let spectral = spectral.map(|(s, _, _)| s);
        let interval_margin = if spectral.is_some() {
            MARGIN.max(SyncResampler::margin()) + 2
        } else {
            MARGIN + 1
        };
        let time_powers =
            (!options.harmonics).then(|| TimeDomainPowers::new(&roles, config.wiring));
        let event_channels = roles.event_channels(channels, config.wiring);
        let declared_of = |c: usize| declared_voltage(&config, channels[c].phase);
        let detector = if options.events.enabled && !event_channels.is_empty() {
            Some(EventDetector::new(
                event_channels.iter().map(|&c| columns[c].clone()).collect(),
                event_channels.iter().map(|&c| declared_of(c)).collect(),
                config.nominal_frequency,
                sample_rate,
                start,
                options.events.clone(),
            )?)
        } else {
            None
        };
        let aggregator = options.aggregation.then(|| {
            let declared = channels
                .iter()
                .enumerate()
                .filter(|(_, s)| s.kind == ChannelKind::Voltage)
                .map(|(c, _)| (columns[c].clone(), declared_of(c)))
                .collect();
            Aggregator::new(start, declared)
        });
        let mut flicker = Vec::new();
        if options.flicker && sample_rate >= FLICKER_MIN_RATE {
            for &c in &event_channels {
                let line = channels[c].phase.is_some_and(Phase::is_line_to_line);
                let phase_udin = declared_of(c) / if line { 3f64.sqrt() } else { 1.0 };
                let meter_options = FlickerOptions {
                    lamp: options.flicker_lamp,
                    udin: Some(phase_udin),
                    column: columns[c].clone(),
                    ..FlickerOptions::default()
                };
                let meter = Flickermeter::new(
                    sample_rate,
                    config.nominal_frequency,
                    start,
                    start,
                    meter_options,
                )?;
                flicker.push((c, meter));
            }
        }
        Ok(Analyzer {
            flicker,
            flicker_pending: VecDeque::new(),
            detector,
            event_channels,
            held: VecDeque::new(),
            aggregator,
            columns,
            reference,
            sample_rate,
            start,
            tracker,
            frequency: TenSecondFrequency::new(start, sample_rate, f0),
            scheduler: IntervalScheduler::new(
                cycles,
                sample_rate,
                start,
                options.resync_on_ten_minutes,
            ),
            half_cycles: HalfCycleSeries::new(),
            recent_boundaries: VecDeque::with_capacity(2 * CYCLE_LAG + 2),
            last_regular: None,
            // Room for the samples a push keeps (see `trim_buffers`) plus one sub-chunk:
            // the buffers never grow after the first pushes.
            buffers: vec![
                Vec::with_capacity(
                    4 * (sample_rate / f0) as usize * cycles + TRIM_SLACK + SUB_CHUNK
                );
                channels.len()
            ],
            base: 0,
            next_index: 0,
            interval_margin,
            pending_windows: VecDeque::new(),
            pending_half: VecDeque::new(),
            output: VecDeque::new(),
            spectral,
            spectral_helper,
            spare_windows: Vec::new(),
            time_powers,
            boundaries: Vec::new(),
            finished: false,
            channels: channels.to_vec(),
            config,
            options,
        })
    }

    /// Column name of each channel (`U_A`, `I_N`, or the channel's own name), in channel
    /// order: the order of [`HalfCycleRecord::rms`] and of the interval's channels.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Index of the channel the fundamental is tracked on.
    pub fn reference_channel(&self) -> usize {
        self.reference
    }

    /// Samples per channel held in the analyzer's buffers (bounded by about one interval
    /// plus margins, a trimming slack of 4 096 samples and one sub-chunk of 4 096 samples,
    /// whatever the recording's length and block size).
    pub fn buffered_samples(&self) -> usize {
        self.buffers.first().map_or(0, Vec::len)
    }

    /// Feed the next run of samples.
    pub fn push(&mut self, block: &Block) -> Result<()> {
        if self.finished {
            return Err(Error::Config(
                "samples pushed after the analysis was finished".into(),
            ));
        }
        self.check_block(block)?;
        if block.is_empty() {
            return Ok(());
        }
        let mut fresh: Vec<Keyed> = Vec::new();
        let position = block.start().seconds_since(self.start) * self.sample_rate;
        let offset = position - self.next_index as f64;
        if offset < -0.5 {
            return Err(Error::Config(format!(
                "block starting at {} overlaps the previous one, which ended at {}; blocks \
                 must follow each other in time",
                block.start(),
                self.start
                    .add_seconds(self.next_index as f64 / self.sample_rate)
            )));
        }
        if offset > 0.5 {
            self.restart_after_gap(position.round() as u64, &mut fresh);
        }
        self.feed_flicker(block)?;
        // The block goes through in sub-chunks, as if it had been pushed in pieces of at
        // most SUB_CHUNK samples: the sample buffers stay small and in cache, and no record
        // changes (the chain is chunk-invariant, see the module documentation).
        let n = block.len();
        let mut from = 0;
        while from < n {
            let to = n.min(from + SUB_CHUNK);
            // Samples into the buffers, the reference channel through the tracker.
            for (c, buffer) in self.buffers.iter_mut().enumerate() {
                buffer.extend_from_slice(&block.channel(c)[from..to]);
            }
            self.boundaries.clear();
            self.tracker.push_slice(
                &block.channel(self.reference)[from..to],
                &mut self.boundaries,
            );
            self.next_index += (to - from) as u64;
            self.release_flicker(Some(self.next_index), &mut fresh);
            self.dispatch_boundaries(&mut fresh);
            self.compute_ready(&mut fresh);
            self.trim_buffers();
            from = to;
        }
        self.release(fresh);
        Ok(())
    }

    /// The recording has ended: report the last 10-s period (flagged as incomplete).
    /// Intervals and half cycles whose window or margin reaches past the last sample are
    /// not reported.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut fresh = Vec::new();
        self.flush_half_cycles(&mut fresh);
        for (_, meter) in &mut self.flicker {
            meter.finish();
            while let Some(r) = meter.next_record() {
                self.flicker_pending
                    .push_back((u64::MAX, Record::Flicker(r)));
            }
        }
        // Those made at the end are keyed after everything else.
        self.release_flicker(None, &mut fresh);
        if self.options.frequency {
            let mut records = Vec::new();
            self.frequency.finish(self.next_index as f64, &mut records);
            fresh.extend(
                records.into_iter().map(|r| {
                    Keyed::new(u64::MAX, Stage::Frequency, Record::Frequency(r), (0.0, 0.0))
                }),
            );
        }
        self.release(fresh);
        // Events still open end with the recording; every held record is now final.
        self.interrupt_events();
        if let Some(aggregator) = &mut self.aggregator {
            let mut records = Vec::new();
            let end = self
                .start
                .add_seconds(self.next_index as f64 / self.sample_rate);
            aggregator.finish(end, &mut records);
            self.output
                .extend(records.into_iter().map(Record::Aggregate));
        }
    }

    /// The next record, in the order the recording made them computable.
    pub fn next_record(&mut self) -> Option<Record> {
        self.output.pop_front()
    }

    /// All records available now.
    pub fn drain(&mut self) -> impl Iterator<Item = Record> + '_ {
        self.output.drain(..)
    }

    /// Feed the flickermeters the whole block and key their records: a Pst or Plt record
    /// is released (by [`Self::release_flicker`], as the samples arrive) with the key of
    /// the sample [`FLICKER_LATENCY`] after its period's end (the meters emit it before
    /// then), so its place among the other records does not depend on where the blocks
    /// were cut.
    fn feed_flicker(&mut self, block: &Block) -> Result<()> {
        let latency = (FLICKER_LATENCY * self.sample_rate).ceil() as u64;
        for (c, meter) in &mut self.flicker {
            meter.resume_at(block.start())?;
            meter.push(block.channel(*c));
            while let Some(r) = meter.next_record() {
                let end = ((r.t + r.duration) * self.sample_rate).ceil().max(0.0) as u64;
                self.flicker_pending
                    .push_back((end.saturating_add(latency), Record::Flicker(r)));
            }
        }
        Ok(())
    }

    /// Flicker records whose key lies before sample `before` (all: `None`) go to `fresh`.
    fn release_flicker(&mut self, before: Option<u64>, fresh: &mut Vec<Keyed>) {
        let mut keep = VecDeque::new();
        for (key, record) in self.flicker_pending.drain(..) {
            if before.is_none_or(|b| key < b) {
                let span = match &record {
                    Record::Flicker(r) => (
                        r.t * self.sample_rate,
                        (r.t + r.duration) * self.sample_rate,
                    ),
                    _ => (0.0, 0.0),
                };
                fresh.push(Keyed::new(key, Stage::Flicker, record, span));
            } else {
                keep.push_back((key, record));
            }
        }
        self.flicker_pending = keep;
    }

    fn check_block(&self, block: &Block) -> Result<()> {
        if block.n_channels() != self.channels.len() {
            return Err(Error::Config(format!(
                "block at {} has {} channels, the analyzer was set up for {}",
                block.start(),
                block.n_channels(),
                self.channels.len()
            )));
        }
        if block.sample_times().is_some() {
            return Err(Error::Unsupported(format!(
                "block at {}: individually timed samples (COMTRADE rate 0); resample to a \
                 constant rate first",
                block.start()
            )));
        }
        if (block.sample_rate() - self.sample_rate).abs() > 1e-9 * self.sample_rate {
            return Err(Error::Config(format!(
                "block at {} is sampled at {} Hz, the analyzer at {} Hz",
                block.start(),
                block.sample_rate(),
                self.sample_rate
            )));
        }
        Ok(())
    }

    fn restart_after_gap(&mut self, index: u64, fresh: &mut Vec<Keyed>) {
        if self.options.frequency {
            let mut records = Vec::new();
            self.frequency.restart(index as f64, &mut records);
            fresh.extend(
                records
                    .into_iter()
                    .map(|r| Keyed::new(index, Stage::Frequency, Record::Frequency(r), (0.0, 0.0))),
            );
        }
        // The cycles up to the gap are complete; events cannot continue across it: they
        // close where the recording stopped.
        let mut before = Vec::new();
        self.flush_half_cycles(&mut before);
        self.release(before);
        self.interrupt_events();
        self.tracker.restart(index, false);
        self.scheduler.restart(index as f64);
        self.half_cycles.restart();
        self.recent_boundaries.clear();
        self.last_regular = None;
        self.pending_windows.clear();
        self.pending_half.clear();
        for b in &mut self.buffers {
            b.clear();
        }
        self.base = index;
        self.next_index = index;
    }

    fn dispatch_boundaries(&mut self, fresh: &mut Vec<Keyed>) {
        let mut windows = Vec::new();
        let mut halves = Vec::new();
        let mut frequencies = Vec::new();
        let boundaries = std::mem::take(&mut self.boundaries);
        for &b in &boundaries {
            if self.options.frequency {
                frequencies.clear();
                self.frequency.push(b, &mut frequencies);
                fresh.extend(frequencies.drain(..).map(|r| {
                    Keyed::new(
                        b.ready_at,
                        Stage::Frequency,
                        Record::Frequency(r),
                        (0.0, 0.0),
                    )
                }));
            }
            self.scheduler.push(b, &mut windows);
            if self.options.half_cycle || self.detector.is_some() {
                let mut b = b;
                if !b.tracked {
                    // Nothing to track (an interruption): the tracker runs on at the nominal
                    // period from its last boundary, which the event itself may have moved;
                    // run on from the last placed boundary instead, at the cycle length.
                    let n = self.recent_boundaries.len();
                    if let (Some(p), Some((_, length))) = (
                        self.last_regular,
                        regular_boundary(&self.recent_boundaries, n.saturating_sub(1)),
                    ) {
                        let steps = n.min(CYCLE_LAG + 1) as f64;
                        let projected = p + steps * length;
                        if (projected - b.position).abs() < 0.5 * length {
                            b.position = projected;
                        }
                    }
                }
                self.recent_boundaries.push_back(b);
                if self.recent_boundaries.len() > 2 * CYCLE_LAG + 1 {
                    self.recent_boundaries.pop_front();
                }
                let n = self.recent_boundaries.len();
                if n > CYCLE_LAG {
                    self.place_half_cycles(n - 1 - CYCLE_LAG, &mut halves);
                }
            }
        }
        self.boundaries = boundaries;
        self.pending_windows.extend(windows);
        self.pending_half.extend(halves);
    }

    /// Place boundary `k` of `recent_boundaries` (see [`regular_boundary`]) and make the
    /// Urms(1/2) cycles it completes.
    fn place_half_cycles(&mut self, k: usize, halves: &mut Vec<HalfCycleWindow>) {
        let Some((regular, length)) = regular_boundary(&self.recent_boundaries, k) else {
            return;
        };
        if self
            .last_regular
            .is_some_and(|p| regular.position <= p + 0.5 * length)
        {
            return;
        }
        self.last_regular = Some(regular.position);
        let made = halves.len();
        self.half_cycles.push(regular, halves);
        for h in &mut halves[made..] {
            h.end = h.start + length;
        }
    }

    /// The recording ends or breaks: the last boundaries are placed with the ones before
    /// them only, and the cycles whose samples are there are computed.
    fn flush_half_cycles(&mut self, fresh: &mut Vec<Keyed>) {
        let n = self.recent_boundaries.len();
        let mut halves = Vec::new();
        for k in n - n.min(CYCLE_LAG)..n {
            self.place_half_cycles(k, &mut halves);
        }
        self.pending_half.extend(halves);
        self.compute_ready(fresh);
    }

    /// Compute every pending window whose samples (with margin) have arrived.
    fn compute_ready(&mut self, fresh: &mut Vec<Keyed>) {
        let available = self.base + self.buffers[0].len() as u64;
        while let Some(h) = self.pending_half.front() {
            let needed = h.end.ceil() as u64 + MARGIN as u64 + 1;
            if needed > available {
                break;
            }
            let h = *h;
            self.pending_half.pop_front();
            let record = self.half_cycle_record(&h);
            fresh.push(Keyed::new(
                h.ready_at.max(needed - 1),
                Stage::HalfCycle,
                Record::HalfCycle(record),
                (h.start, h.end),
            ));
        }
        while let Some(w) = self.pending_windows.front() {
            let needed = w.end.ceil() as u64 + self.interval_margin as u64 + 1;
            if needed > available {
                break;
            }
            let w = w.clone();
            self.pending_windows.pop_front();
            let record = self.interval_record(&w);
            fresh.push(Keyed::new(
                w.ready_at.max(needed - 1),
                Stage::Interval,
                Record::Interval(record),
                (w.start, w.end),
            ));
        }
    }

    /// Put the records of one push in the order of the sample that made them computable
    /// (stable: records of one kind keep the order in which they were made) and pass them,
    /// one by one in that order, through the event, flagging and aggregation stages. The
    /// order, and so every decision of those stages, is the same however the recording
    /// was cut into blocks: the records of one push are exactly those whose key falls
    /// inside the push's samples.
    fn release(&mut self, mut fresh: Vec<Keyed>) {
        self.run_spectral_jobs(&mut fresh);
        fresh.sort_by_key(|k| k.key);
        for k in fresh {
            self.post(k.record, k.span);
        }
    }

    /// The event, flagging and aggregation stages for one record.
    ///
    /// - A Urms(1/2) value goes to the event detector (IEC 61000-4-30 5.4, 5.5); the events
    ///   that end, and their capture triggers, are output.
    /// - Intervals and 10-s frequency values are held back until the detector has taken
    ///   every half cycle that starts before their end: only then is it known whether a
    ///   dip, swell or interruption touched them (4.7). They are released in the order they
    ///   were held; released intervals feed the aggregation (4.5).
    fn post(&mut self, record: Record, span: (f64, f64)) {
        match record {
            Record::HalfCycle(h) => {
                if let Some(detector) = &mut self.detector {
                    let rms: Vec<f64> = self.event_channels.iter().map(|&c| h.rms[c]).collect();
                    let mut out = Vec::new();
                    detector.push(
                        HalfCycleValue {
                            start: span.0,
                            end: span.1,
                            rms: &rms,
                        },
                        &mut out,
                    );
                    self.emit_events(out);
                }
                if self.options.half_cycle {
                    self.output.push_back(Record::HalfCycle(h));
                }
            }
            Record::Interval(i) => {
                if let Some(detector) = &mut self.detector {
                    let rms: Vec<f64> = self
                        .event_channels
                        .iter()
                        .map(|&c| i.channels[c].rms)
                        .collect();
                    detector.update_sliding_reference(&rms);
                }
                self.held.push_back((span, Record::Interval(i)));
            }
            Record::Flicker(r) => self.held.push_back((span, Record::Flicker(r))),
            Record::Frequency(f) => {
                let start = f.t * self.sample_rate;
                self.held.push_back((
                    (start, start + 10.0 * self.sample_rate),
                    Record::Frequency(f),
                ));
            }
            other => self.output.push_back(other),
        }
        self.release_held(false);
    }

    /// Output the held records the event detector has caught up with (all of them when
    /// `all`), flagged when an event touched them, and aggregate the intervals.
    fn release_held(&mut self, all: bool) {
        let progress = match &self.detector {
            Some(d) if !all => d.progress(),
            _ => f64::INFINITY,
        };
        while let Some(((start, end), _)) = self.held.front() {
            let (start, end) = (*start, *end);
            if end > progress {
                break;
            }
            let Some((_, mut record)) = self.held.pop_front() else {
                break;
            };
            let touched = self
                .detector
                .as_ref()
                .is_some_and(|d| d.touches(start, end));
            let mut aggregates = Vec::new();
            match &mut record {
                Record::Interval(i) => {
                    if touched {
                        i.flags.event = true;
                        i.flagged = true;
                    }
                    if let Some(aggregator) = &mut self.aggregator {
                        aggregator.push(i, &mut aggregates);
                    }
                }
                Record::Frequency(f) => f.flagged |= touched,
                Record::Flicker(r) => r.flagged |= touched,
                _ => {}
            }
            self.output.push_back(record);
            self.output
                .extend(aggregates.into_iter().map(Record::Aggregate));
            if let Some(d) = &mut self.detector {
                // Nothing held later starts more than one 10-min flicker period (plus the
                // flicker records' release latency) before this ends: a Pst must still see
                // every event of its period (IEC 61000-4-30 4.7).
                d.forget_before(end - (600.0 + 30.0) * self.sample_rate);
            }
        }
    }

    /// A gap or the end of the recording: open events close, held records are released.
    fn interrupt_events(&mut self) {
        if let Some(detector) = &mut self.detector {
            let mut out = Vec::new();
            detector.interrupt(&mut out);
            self.emit_events(out);
        }
        self.release_held(true);
    }

    fn emit_events(&mut self, out: Vec<EventOutput>) {
        for o in out {
            self.output.push_back(match o {
                EventOutput::Event(e) => Record::Event(e),
                EventOutput::Capture(c) => Record::CaptureTrigger(c),
            });
        }
    }

    /// Drop samples no pending or future window can read.
    fn trim_buffers(&mut self) {
        let lookback = 3.0 * self.tracker.nominal_period() + 0.2 * self.sample_rate;
        let mut keep = self.next_index as f64 - lookback;
        let candidates = [
            self.pending_windows.front().map(|w| w.start),
            self.pending_half.front().map(|h| h.start),
            self.scheduler.oldest_needed(),
            self.half_cycles.oldest_needed(),
        ];
        for c in candidates.into_iter().flatten() {
            keep = keep.min(c);
        }
        let keep = (keep.floor() - self.interval_margin as f64 - 2.0).max(0.0) as u64;
        // Samples are dropped in runs of at least TRIM_SLACK: each drop moves the kept
        // samples (about one interval) to the front, within the buffer's capacity.
        if keep > self.base + TRIM_SLACK as u64 {
            let n = (keep - self.base) as usize;
            for b in &mut self.buffers {
                b.drain(..n.min(b.len()));
            }
            self.base += n as u64;
        }
    }

    fn moments(&self, c: usize, start: f64, end: f64) -> WindowMoments {
        window_moments(&self.buffers[c], self.base, start, end)
            .unwrap_or_else(WindowMoments::missing)
    }

    fn half_cycle_record(&self, h: &HalfCycleWindow) -> HalfCycleRecord {
        let mut finite = true;
        let rms = (0..self.channels.len())
            .map(|c| {
                let (mean_square, all_finite) =
                    window_mean_square(&self.buffers[c], self.base, h.start, h.end)
                        .unwrap_or((f64::NAN, false));
                finite &= all_finite;
                if all_finite {
                    // As `WindowMoments::rms`.
                    mean_square.max(0.0).sqrt()
                } else {
                    f64::NAN
                }
            })
            .collect();
        HalfCycleRecord {
            index: h.index,
            t: h.start / self.sample_rate,
            duration: (h.end - h.start) / self.sample_rate,
            rising: h.rising,
            flagged: !finite || !h.tracked,
            rms,
        }
    }

    fn interval_record(&mut self, w: &IntervalWindow) -> IntervalRecord {
        let mut flags = IntervalFlags {
            missing_samples: false,
            unlocked: !w.tracked,
            after_gap: w.after_gap,
            event: false,
        };
        let mut ends = vec![WindowEnds::default(); self.channels.len()];
        let mut channels: Vec<ChannelInterval> = (0..self.channels.len())
            .map(|c| {
                let m = self.moments(c, w.start, w.end);
                ends[c] = m.ends;
                flags.missing_samples |= !m.finite;
                let rms = m.rms();
                let (under, over) = match self.channels[c].kind {
                    ChannelKind::Voltage => {
                        let u_ref = declared_voltage(&self.config, self.channels[c].phase);
                        (
                            Some(100.0 * (u_ref - rms.min(u_ref)) / u_ref),
                            Some(100.0 * (rms.max(u_ref) - u_ref) / u_ref),
                        )
                    }
                    _ => (None, None),
                };
                let nan_if_missing = |v: f64| if m.finite { v } else { f64::NAN };
                ChannelInterval {
                    column: self.columns[c].clone(),
                    channel: self.channels[c].name.clone(),
                    rms: nan_if_missing(rms),
                    peak: m.peak,
                    crest_factor: nan_if_missing(m.crest_factor()),
                    dc: m.mean,
                    under_deviation: under.map(nan_if_missing),
                    over_deviation: over.map(nan_if_missing),
                    signalling: None,
                    harmonics: None,
                }
            })
            .collect();
        let frequency = w.cycles as f64 * self.sample_rate / w.length();
        let mut quantities = Vec::with_capacity(32);
        if let Some(helper) = self.spectral_helper.as_mut() {
            // To the helper's queue now; finished when the push's records are released.
            let samples = WindowSamples {
                buffers: &self.buffers,
                base: self.base,
                start: w.start,
                end: w.end,
            };
            helper.submit(SpectralJob {
                index: w.index,
                window: OwnedWindow::copy(&samples, self.spare_windows.pop()),
                cycles: w.cycles,
                frequency,
                channels: channels.clone(),
            });
        } else if let Some(mut spectral) = self.spectral.take() {
            let samples = WindowSamples {
                buffers: &self.buffers,
                base: self.base,
                start: w.start,
                end: w.end,
            };
            spectral.analyze(
                &samples,
                w.cycles,
                frequency,
                &mut channels,
                &mut quantities,
            );
            self.spectral = Some(spectral);
        } else if let Some(powers) = &self.time_powers {
            let rms: Vec<f64> = channels.iter().map(|c| c.rms).collect();
            let samples = WindowSamples {
                buffers: &self.buffers,
                base: self.base,
                start: w.start,
                end: w.end,
            };
            powers.compute(&samples, &rms, &ends, &mut quantities);
        }
        IntervalRecord {
            index: w.index,
            t: w.start / self.sample_rate,
            start: self.start.add_seconds(w.start / self.sample_rate),
            duration: w.length() / self.sample_rate,
            start_sample: w.start,
            length_samples: w.length(),
            cycles: w.cycles,
            frequency,
            flagged: flags.any(),
            flags,
            channels,
            quantities,
        }
    }
}

impl Analyzer {
    /// The spectral part of the intervals made since the last release, shared between this
    /// thread and the helper's ([`helper`]), written into their records in `fresh`.
    fn run_spectral_jobs(&mut self, fresh: &mut [Keyed]) {
        let Some(helper) = self.spectral_helper.as_mut() else {
            return;
        };
        if !helper.has_jobs() {
            return;
        }
        let Some(spectral) = self.spectral.as_mut() else {
            unreachable!("spectral jobs are made only with both spectral parts");
        };
        let mut done = Vec::new();
        let results = helper.finish(spectral, &mut done);
        self.spare_windows
            .extend(done.into_iter().map(|job| job.window.buffers));
        for (index, channels, quantities) in results {
            let record = fresh.iter_mut().find_map(|k| match &mut k.record {
                Record::Interval(r) if r.index == index => Some(r),
                _ => None,
            });
            let record = record.expect("a spectral job's interval is among the records released");
            record.channels = channels;
            record.quantities = quantities;
        }
    }
}

/// The spectral part of one interval, waiting for [`Analyzer::run_spectral_jobs`].
#[derive(Debug)]
struct SpectralJob {
    /// The interval's running number.
    index: u64,
    window: OwnedWindow,
    cycles: usize,
    frequency: f64,
    /// The interval's channels without their spectral values.
    channels: Vec<ChannelInterval>,
}

/// An interval's number, its channels with their spectral values, and its quantities.
type SpectralResult = (
    u64,
    Vec<ChannelInterval>,
    Vec<(pqe_core::record::QuantityKey, f64)>,
);

impl SpectralJob {
    fn run(&self, spectral: &mut Spectral) -> SpectralResult {
        let mut channels = self.channels.clone();
        let mut quantities = Vec::with_capacity(32);
        spectral.analyze(
            &self.window.samples(),
            self.cycles,
            self.frequency,
            &mut channels,
            &mut quantities,
        );
        (self.index, channels, quantities)
    }
}

/// A copy of the samples the spectral part of an interval reads (its window and the
/// resampler's margins), so the analyzer's buffers can move on.
#[derive(Debug)]
struct OwnedWindow {
    buffers: Vec<Vec<f64>>,
    base: u64,
    start: f64,
    end: f64,
}

impl OwnedWindow {
    /// Copy what [`Spectral::analyze`] reads of `w`: the same slice of every channel, into
    /// `spare` (the buffers of an earlier window) when given.
    fn copy(w: &WindowSamples<'_>, spare: Option<Vec<Vec<f64>>>) -> Self {
        let (first, last) = Spectral::span_read(w);
        let (first, last) = (first as u64, last as u64);
        // `span` clamps to what the buffers hold: the copy starts where the slice starts.
        let base = first.max(w.base);
        let mut buffers = spare.unwrap_or_default();
        buffers.resize_with(w.buffers.len(), Vec::new);
        for (c, buffer) in buffers.iter_mut().enumerate() {
            buffer.clear();
            buffer.extend_from_slice(w.span(c, first, last));
        }
        OwnedWindow {
            buffers,
            base,
            start: w.start,
            end: w.end,
        }
    }

    fn samples(&self) -> WindowSamples<'_> {
        WindowSamples {
            buffers: &self.buffers,
            base: self.base,
            start: self.start,
            end: self.end,
        }
    }
}

/// Largest run of samples [`Analyzer::push`] takes in at once: a longer block goes in
/// sub-chunks of this size, so the buffers stay a few hundred kB (in cache).
const SUB_CHUNK: usize = 4096;

/// Fewest samples [`Analyzer::trim_buffers`] drops at once.
const TRIM_SLACK: usize = 4096;

/// Seconds after a flicker period's end at which its record takes its place in the output
/// (the flickermeter's decimation and filters emit it well before).
const FLICKER_LATENCY: f64 = 1.0;

/// Lowest sample rate the flickermeter takes, Hz.
const FLICKER_MIN_RATE: f64 = crate::iec61000_4_15::MIN_SAMPLE_RATE;

/// Cycles the Urms(1/2) cycles lag behind the tracker: the boundary they start on is
/// judged with this many boundaries on either side.
const CYCLE_LAG: usize = 5;

/// The Urms(1/2) cycles (IEC 61000-4-30 5.4.1: one cycle commencing at a fundamental zero
/// crossing) are placed on the tracker's boundaries made robust against the tracker's own
/// transients: an abrupt change of the envelope (the events these values exist for) makes
/// the band-pass filter ring, which moves the next one or two detected crossings by up to a
/// few milliseconds although the fundamental's phase did not move. So, with `b` holding up
/// to [`CYCLE_LAG`] boundaries before and after boundary `k = len − 1 − CYCLE_LAG` (fewer
/// before at the start):
///
/// - the cycle length `L` is the median spacing of the boundaries in `b`;
/// - boundary `k` is placed at the median of `b_j − (j − k)·L` over all `j`: every boundary
///   projected onto `k` along the period. Outliers (ringing) do not move the median; a real
///   phase jump does, from the first boundary after it (more than half the projections
///   then come from after the jump).
///
/// Returns the placed boundary (ready when the newest boundary was) and `L`, or `None`
/// with fewer than two boundaries. At the end of the recording or before a gap the last
/// [`CYCLE_LAG`] boundaries are placed with fewer (or no) boundaries after them.
fn regular_boundary(b: &VecDeque<CycleBoundary>, k: usize) -> Option<(CycleBoundary, f64)> {
    let n = b.len();
    if n < 2 || k >= n {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let m = v.len();
        if m % 2 == 1 {
            v[m / 2]
        } else {
            0.5 * (v[m / 2 - 1] + v[m / 2])
        }
    };
    let length = median(
        b.iter()
            .zip(b.iter().skip(1))
            .map(|(x, y)| y.position - x.position)
            .collect(),
    );
    let position = median(
        b.iter()
            .enumerate()
            .map(|(j, x)| x.position - (j as f64 - k as f64) * length)
            .collect(),
    );
    Some((
        CycleBoundary {
            position,
            tracked: b[k].tracked,
            ready_at: b[n - 1].ready_at,
        },
        length,
    ))
}
