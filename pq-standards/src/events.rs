//! Voltage events of IEC 61000-4-30 Ed.3: dips (5.4.2), swells (5.4.3), interruptions
//! (5.4.4) and rapid voltage changes (5.5), detected on the Urms(1/2) series of the
//! voltage channels (5.4.1: one-cycle RMS refreshed every half cycle).
//!
//! # Thresholds and the polyphase rules
//!
//! Thresholds and hysteresis are percentages of a reference voltage: the declared input
//! voltage Udin of each channel (phase-to-neutral for wye and single wiring,
//! line-to-line for delta, 5.4.1), or, optionally, each channel's sliding reference
//! voltage (5.4.4 note, 5.4.2.1): `Usr(n) = 0.9967·Usr(n−1) + 0.0033·U10/12`, updated with
//! every basic interval (4.4) that is not inside an event, starting from Udin.
//!
//! | event | starts when | ends when | characterised by |
//! |---|---|---|---|
//! | dip | Urms(1/2) of **any** channel < dip threshold (default 90 %) | **all** channels ≥ threshold + hysteresis (2 %) | residual voltage: lowest Urms(1/2) of any channel |
//! | swell | **any** channel > swell threshold (110 %) | **all** channels ≤ threshold − hysteresis (2 %) | highest Urms(1/2) of any channel |
//! | interruption | **all** channels < interruption threshold (10 %) | **any** channel ≥ threshold + hysteresis (2 %) | lowest Urms(1/2), duration |
//!
//! These are the "typical" values the standard gives (dip 90 %, swell 110 %, hysteresis
//! 2 %; the interruption threshold is 5 % or 10 %, PQE takes 10 %). An interruption is also
//! a dip (every channel is below 90 % Udin): both are reported, the interruption nested
//! inside its dip, so a dip table can count or leave out the dips that held an
//! interruption.
//!
//! # Time-stamps and duration
//!
//! The start of an event is the start of the first Urms(1/2) window that crossed the
//! threshold; its end is the start of the first window that satisfied the end condition;
//! the duration is their difference (5.4.2.1: "the time difference between the beginning
//! and the end"), so it is a whole number of half cycles. Because each value is a one-cycle
//! RMS, this measure differs from the duration of a rectangular change of the envelope by
//! up to about one cycle, depending on the depth (a window must lie partly inside the event
//! before its RMS crosses the threshold, and partly outside before it recovers): see
//! [`rectangular_duration_bias`]. Measured against generated rectangular events the
//! difference stays within ½ cycle when the change starts and ends on zero crossings of
//! the reference channel (where the cycles start), and within one cycle otherwise.
//!
//! For the same reason an interruption shorter than about one cycle never brings a whole
//! Urms(1/2) window below the interruption threshold: it is reported as the dip it is on
//! the Urms(1/2) series (a half-cycle interruption leaves a residual of about 71 %).
//!
//! # Rapid voltage changes (5.5)
//!
//! The voltage is in a steady state when the last 100 (50 Hz) or 120 (60 Hz) Urms(1/2)
//! values of every channel lie within ±RVC threshold of their own arithmetic mean. An RVC
//! starts when, from a steady state, the next value of any channel leaves that band around
//! the mean of the preceding 100/120 values. It ends when a new steady state holds: 100/120
//! values since the start, each channel within ±(threshold − hysteresis) of its mean; the
//! end is the start of the first of those values. ΔUmax is the largest absolute deviation
//! from the pre-event mean during the event, ΔUss the difference of the means after and
//! before (of the channel with the largest |ΔUss|). A dip, swell or interruption during
//! an RVC makes it that event, not an RVC: the RVC is discarded, and a new steady state
//! must build up after the event ends. The RVC threshold is a percentage of Udin (not of
//! the sliding reference): PQE's default is 3 % with a hysteresis of 1.5 % (the standard
//! suggests 1 %–6 %, hysteresis about half the threshold).
//!
//! Missing values (a window holding NaN samples) neither start nor end anything; a gap or
//! the end of the recording closes an open event as `incomplete`.

use pqe_core::record::{CaptureTrigger, EventKind, EventRecord};
use pqe_core::{Error, NominalFrequency, Result, Timestamp};
use std::collections::VecDeque;

/// Thresholds and switches of event detection. Percentages are of the reference voltage
/// (Udin or the sliding reference), except the RVC ones, which are of Udin.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOptions {
    /// Detect events at all (dips, swells, interruptions, RVC). Default on.
    pub enabled: bool,
    /// Dip threshold, %. Default 90.
    pub dip_threshold: f64,
    /// Dip hysteresis, %. Default 2.
    pub dip_hysteresis: f64,
    /// Swell threshold, %. Default 110.
    pub swell_threshold: f64,
    /// Swell hysteresis, %. Default 2.
    pub swell_hysteresis: f64,
    /// Interruption threshold, %. Default 10.
    pub interruption_threshold: f64,
    /// Interruption hysteresis, %. Default 2.
    pub interruption_hysteresis: f64,
    /// Use each channel's sliding reference voltage instead of Udin. Default off.
    pub sliding_reference: bool,
    /// Detect rapid voltage changes. Default on.
    pub rvc: bool,
    /// RVC threshold, % of Udin. Default 3.
    pub rvc_threshold: f64,
    /// RVC hysteresis, % of Udin. Default 1.5.
    pub rvc_hysteresis: f64,
    /// Cycles of the nominal frequency captured before an event's start. Default 10.
    pub capture_pre_cycles: f64,
    /// Cycles captured after an event's end. Default 10.
    pub capture_post_cycles: f64,
}

impl Default for EventOptions {
    fn default() -> Self {
        EventOptions {
            enabled: true,
            dip_threshold: 90.0,
            dip_hysteresis: 2.0,
            swell_threshold: 110.0,
            swell_hysteresis: 2.0,
            interruption_threshold: 10.0,
            interruption_hysteresis: 2.0,
            sliding_reference: false,
            rvc: true,
            rvc_threshold: 3.0,
            rvc_hysteresis: 1.5,
            capture_pre_cycles: 10.0,
            capture_post_cycles: 10.0,
        }
    }
}

impl EventOptions {
    /// Check that the thresholds are ordered: 0 < interruption < interruption +
    /// hysteresis ≤ dip < dip + hysteresis < 100 < swell − hysteresis < swell, the RVC
    /// hysteresis below its threshold, capture lengths not negative.
    pub fn validate(&self) -> Result<()> {
        let all = [
            ("dip_threshold", self.dip_threshold),
            ("dip_hysteresis", self.dip_hysteresis),
            ("swell_threshold", self.swell_threshold),
            ("swell_hysteresis", self.swell_hysteresis),
            ("interruption_threshold", self.interruption_threshold),
            ("interruption_hysteresis", self.interruption_hysteresis),
            ("rvc_threshold", self.rvc_threshold),
            ("rvc_hysteresis", self.rvc_hysteresis),
            ("capture_pre_cycles", self.capture_pre_cycles),
            ("capture_post_cycles", self.capture_post_cycles),
        ];
        for (name, v) in all {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Config(format!(
                    "event option {name} must be a finite number ≥ 0, not {v}"
                )));
            }
        }
        let ordered = self.interruption_threshold > 0.0
            && self.interruption_threshold + self.interruption_hysteresis <= self.dip_threshold
            && self.dip_threshold + self.dip_hysteresis < 100.0
            && self.swell_threshold > 100.0
            && self.swell_threshold - self.swell_hysteresis > 100.0;
        if !ordered {
            return Err(Error::Config(format!(
                "event thresholds must satisfy 0 < interruption ({} + {} hysteresis) ≤ dip \
                 ({} + {} hysteresis) < 100 % < swell ({} − {} hysteresis)",
                self.interruption_threshold,
                self.interruption_hysteresis,
                self.dip_threshold,
                self.dip_hysteresis,
                self.swell_threshold,
                self.swell_hysteresis
            )));
        }
        if self.rvc && !(self.rvc_threshold > 0.0 && self.rvc_hysteresis < self.rvc_threshold) {
            return Err(Error::Config(format!(
                "the RVC threshold ({} %) must be positive and above its hysteresis ({} %)",
                self.rvc_threshold, self.rvc_hysteresis
            )));
        }
        Ok(())
    }
}

/// How much longer the duration measured from one-cycle Urms(1/2) values is, on average
/// over the position of the half-cycle grid, than a rectangular change of the envelope to
/// `residual` (a fraction of the reference) lasting at least one cycle; in cycles. For a
/// dip: `1 − f_start − f_end` with `f_start = (1 − θ²)/(1 − r²)` the fraction of a window
/// that must lie inside the dip for its RMS to fall below the threshold θ and
/// `f_end = (1 − (θ + h)²)/(1 − r²)` the fraction that may still lie inside when it
/// recovers (swells alike with the signs turned). Quantisation to half cycles adds up to
/// ±½ cycle around this bias. `None` when the residual does not cross the threshold.
pub fn rectangular_duration_bias(
    residual: f64,
    threshold: f64,
    hysteresis: f64,
    swell: bool,
) -> Option<f64> {
    let r2 = residual * residual;
    let (t2, e2) = if swell {
        (threshold * threshold, (threshold - hysteresis).powi(2))
    } else {
        (threshold * threshold, (threshold + hysteresis).powi(2))
    };
    let crosses = if swell {
        residual > threshold
    } else {
        residual < threshold
    };
    if !crosses {
        return None;
    }
    let f_start = (1.0 - t2) / (1.0 - r2);
    let f_end = (1.0 - e2) / (1.0 - r2);
    Some(1.0 - f_start - f_end.min(1.0))
}

/// One Urms(1/2) value of the voltage channels, as the detector takes it.
#[derive(Debug, Clone, Copy)]
pub struct HalfCycleValue<'a> {
    /// Start of the one-cycle window, fractional sample index of the recording.
    pub start: f64,
    /// End of the window.
    pub end: f64,
    /// Urms(1/2) of each voltage channel, in the detector's channel order (NaN: missing).
    pub rms: &'a [f64],
}

/// An event in progress.
#[derive(Debug, Clone)]
struct Open {
    start: f64,
    /// Per channel: lowest (dips, interruptions) or highest (swells) value so far.
    extremes: Vec<f64>,
    crossed: Vec<bool>,
    references: Vec<f64>,
}

impl Open {
    fn new(v: &HalfCycleValue, crossed: Vec<bool>, references: &[f64]) -> Self {
        Open {
            start: v.start,
            extremes: v.rms.to_vec(),
            crossed,
            references: references.to_vec(),
        }
    }

    /// Take one more value: extremes (lowest, or highest for a swell) and the channels that
    /// crossed the threshold. Interruptions pass `crossed` of their start only (every
    /// channel), so their list stays the channels that started them.
    fn take(&mut self, rms: &[f64], crossed: &[bool], swell: bool) {
        for ((e, was), (&x, &now)) in self
            .extremes
            .iter_mut()
            .zip(self.crossed.iter_mut())
            .zip(rms.iter().zip(crossed))
        {
            *e = if swell { e.max(x) } else { e.min(x) };
            *was |= now;
        }
    }
}

/// The RVC state machine of 5.5.
#[derive(Debug, Clone, Default)]
struct Rvc {
    /// The last values, at most `n`.
    history: RvcWindow,
    /// An RVC in progress: pre-event means, start, largest deviation (|ΔU|, channel,
    /// value), values since the start.
    open: Option<OpenRvc>,
}

#[derive(Debug, Clone)]
struct OpenRvc {
    start: f64,
    before: Vec<f64>,
    largest: (f64, usize, f64),
    after: RvcWindow,
}

/// Streaming detector of dips, swells, interruptions and RVCs; see the module
/// documentation. Feed it the Urms(1/2) values in order with [`EventDetector::push`].
#[derive(Debug, Clone)]
pub struct EventDetector {
    columns: Vec<String>,
    declared: Vec<f64>,
    sliding: Vec<f64>,
    options: EventOptions,
    sample_rate: f64,
    recording_start: Timestamp,
    nominal_period: f64,
    rvc_count: usize,
    dip: Option<Open>,
    swell: Option<Open>,
    interruption: Option<Open>,
    rvc: Rvc,
    next_index: u64,
    /// Start and end of the last value taken.
    last: Option<(f64, f64)>,
    /// Spans (start, end) of the dips, swells and interruptions closed so far that may
    /// still touch an interval (see [`EventDetector::forget_before`]).
    spans: VecDeque<(f64, f64)>,
    /// A missing value came since the open events started.
    missing: bool,
    /// Decide the RVC steady state with the plain twin ([`steady`]) instead of the
    /// sliding sums and extremes of [`RvcWindow`] (for the tests that compare them).
    reference: bool,
}

impl EventDetector {
    /// A detector for the voltage channels named `columns` (`U_A`, …) whose declared
    /// voltages are `declared` (V), on a recording sampled at `sample_rate` whose sample 0
    /// is at `recording_start`.
    pub fn new(
        columns: Vec<String>,
        declared: Vec<f64>,
        nominal: NominalFrequency,
        sample_rate: f64,
        recording_start: Timestamp,
        options: EventOptions,
    ) -> Result<Self> {
        options.validate()?;
        if columns.is_empty() || columns.len() != declared.len() {
            return Err(Error::Config(
                "event detection needs at least one voltage channel with its declared voltage"
                    .into(),
            ));
        }
        if let Some(u) = declared.iter().find(|u| !(u.is_finite() && **u > 0.0)) {
            return Err(Error::Config(format!(
                "declared voltage {u} V cannot serve as an event reference"
            )));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(Error::Config(format!("sample rate {sample_rate} Hz")));
        }
        Ok(EventDetector {
            sliding: declared.clone(),
            columns,
            declared,
            options,
            sample_rate,
            recording_start,
            nominal_period: sample_rate / nominal.hz(),
            rvc_count: 10 * nominal.cycles_per_interval(),
            dip: None,
            swell: None,
            interruption: None,
            rvc: Rvc::default(),
            next_index: 0,
            last: None,
            spans: VecDeque::new(),
            missing: false,
            reference: false,
        })
    }

    /// Decide the RVC steady state (5.5) by summing and checking every value of the
    /// window for every Urms(1/2) value, the plain twin of the sliding window: for the
    /// tests that check the two agree.
    #[doc(hidden)]
    pub fn use_reference_kernels(&mut self) {
        self.reference = true;
    }

    /// The voltage channels, in the order of [`HalfCycleValue::rms`].
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The reference voltage of each channel now: Udin, or the sliding reference.
    pub fn references(&self) -> &[f64] {
        if self.options.sliding_reference {
            &self.sliding
        } else {
            &self.declared
        }
    }

    /// The sliding reference voltage of each channel (5.4.4), whether or not it is used.
    pub fn sliding_reference(&self) -> &[f64] {
        &self.sliding
    }

    /// Start of the last Urms(1/2) window taken (every window starting before it has been
    /// taken too), or −∞ before the first.
    pub fn progress(&self) -> f64 {
        self.last.map_or(f64::NEG_INFINITY, |(s, _)| s)
    }

    /// True while a dip, swell or interruption is open.
    pub fn in_event(&self) -> bool {
        self.dip.is_some() || self.swell.is_some() || self.interruption.is_some()
    }

    /// Update the sliding reference with the 10/12-cycle RMS of each voltage channel
    /// (4.4, 5.4.4): `Usr(n) = 0.9967·Usr(n−1) + 0.0033·U10/12`. Skipped while a dip,
    /// swell or interruption is open; missing values leave their channel unchanged.
    pub fn update_sliding_reference(&mut self, interval_rms: &[f64]) {
        if self.in_event() {
            return;
        }
        for (usr, &u) in self.sliding.iter_mut().zip(interval_rms) {
            if u.is_finite() {
                *usr = 0.9967 * *usr + 0.0033 * u;
            }
        }
    }

    /// True when a dip, swell or interruption (closed or open) overlaps the span
    /// `[start, end)` of sample positions (4.7 flagging). Spans forgotten with
    /// [`EventDetector::forget_before`] no longer count.
    pub fn touches(&self, start: f64, end: f64) -> bool {
        let open = [&self.dip, &self.swell, &self.interruption]
            .into_iter()
            .flatten()
            .any(|o| o.start < end);
        open || self.spans.iter().any(|&(s, e)| s < end && e > start)
    }

    /// Forget the closed events that ended before `position`.
    pub fn forget_before(&mut self, position: f64) {
        self.spans.retain(|&(_, e)| e >= position);
    }

    /// Take the next Urms(1/2) value; events that end go to `out` (each event followed by
    /// its capture trigger). Values must come in order of their start.
    pub fn push(&mut self, v: HalfCycleValue, out: &mut Vec<EventOutput>) {
        if v.rms.len() != self.columns.len() {
            return;
        }
        self.last = Some((v.start, v.end));
        if v.rms.iter().any(|x| !x.is_finite()) {
            // A missing value: no transition, and the RVC steady state starts afresh.
            self.missing |= self.in_event();
            self.rvc = Rvc::default();
            return;
        }
        let refs = self.references().to_vec();
        let o = &self.options;
        let n = v.rms.len();
        let below =
            |pct: f64| -> Vec<bool> { (0..n).map(|c| v.rms[c] < refs[c] * pct / 100.0).collect() };
        let above =
            |pct: f64| -> Vec<bool> { (0..n).map(|c| v.rms[c] > refs[c] * pct / 100.0).collect() };
        // Interruption (5.4.4): all below starts, any at or above threshold + hysteresis
        // ends.
        let int_end = o.interruption_threshold + o.interruption_hysteresis;
        let int_below = below(o.interruption_threshold);
        if let Some(open) = &mut self.interruption {
            if !below(int_end).iter().all(|b| *b) {
                let open = self
                    .interruption
                    .take()
                    .unwrap_or_else(|| unreachable_open(&v));
                self.close(EventKind::Interruption, open, v.start, false, out);
            } else {
                open.take(v.rms, &int_below, false);
            }
        } else if int_below.iter().all(|b| *b) {
            self.interruption = Some(Open::new(&v, int_below, &refs));
        }
        // Dip (5.4.2): any below starts, all at or above threshold + hysteresis ends.
        let o = &self.options;
        let dip_end = o.dip_threshold + o.dip_hysteresis;
        let dip_below = below(o.dip_threshold);
        if let Some(open) = &mut self.dip {
            if !below(dip_end).iter().any(|b| *b) {
                let open = self.dip.take().unwrap_or_else(|| unreachable_open(&v));
                self.close(EventKind::Dip, open, v.start, false, out);
            } else {
                open.take(v.rms, &dip_below, false);
            }
        } else if dip_below.iter().any(|b| *b) {
            self.dip = Some(Open::new(&v, dip_below, &refs));
        }
        // Swell (5.4.3): any above starts, all at or below threshold − hysteresis ends.
        let o = &self.options;
        let swell_end = o.swell_threshold - o.swell_hysteresis;
        let swell_above = above(o.swell_threshold);
        if let Some(open) = &mut self.swell {
            if !above(swell_end).iter().any(|b| *b) {
                let open = self.swell.take().unwrap_or_else(|| unreachable_open(&v));
                self.close(EventKind::Swell, open, v.start, false, out);
            } else {
                open.take(v.rms, &swell_above, true);
            }
        } else if swell_above.iter().any(|b| *b) {
            self.swell = Some(Open::new(&v, swell_above, &refs));
        }
        if !self.in_event() {
            self.missing = false;
        }
        if self.options.rvc {
            self.push_rvc(&v, out);
        }
    }

    /// A gap in the recording or its end: open events close at the end of the last value
    /// taken, marked incomplete; the RVC steady state starts afresh.
    pub fn interrupt(&mut self, out: &mut Vec<EventOutput>) {
        let end = self.last.map_or(0.0, |(_, e)| e);
        for kind in [EventKind::Interruption, EventKind::Dip, EventKind::Swell] {
            let slot = match kind {
                EventKind::Interruption => &mut self.interruption,
                EventKind::Dip => &mut self.dip,
                _ => &mut self.swell,
            };
            if let Some(open) = slot.take() {
                self.close(kind, open, end, true, out);
            }
        }
        self.rvc = Rvc::default();
        self.missing = false;
    }

    fn push_rvc(&mut self, v: &HalfCycleValue, out: &mut Vec<EventOutput>) {
        let n = self.rvc_count;
        if self.in_event() {
            // A dip, swell or interruption: an RVC in progress is that event instead, and
            // a new steady state must build up afterwards.
            self.rvc = Rvc::default();
            return;
        }
        let udin = &self.declared;
        let reference = self.reference;
        let band = self.options.rvc_threshold / 100.0;
        let end_band = (self.options.rvc_threshold - self.options.rvc_hysteresis) / 100.0;
        let values = v.rms;
        if let Some(open) = &mut self.rvc.open {
            for (c, &x) in values.iter().enumerate() {
                let d = (x - open.before[c]).abs();
                if d > open.largest.0 {
                    open.largest = (d, c, x);
                }
            }
            open.after.push(v.start, values, n);
            if open.after.len() == n && open.after.is_steady(udin, end_band, reference) {
                let means = open.after.means();
                let open = self.rvc.open.take().unwrap_or_else(unreachable_rvc);
                self.close_rvc(open, &means, out);
            }
            return;
        }
        let h = &mut self.rvc.history;
        if h.len() == n
            && h.is_steady(udin, band, reference)
            && h.leaves(values, udin, band, reference)
        {
            let means = h.means();
            let mut largest = (0.0, 0, values[0]);
            for (c, &x) in values.iter().enumerate() {
                let d = (x - means[c]).abs();
                if d > largest.0 {
                    largest = (d, c, x);
                }
            }
            let mut after = RvcWindow::default();
            after.push(v.start, values, n);
            self.rvc.open = Some(OpenRvc {
                start: v.start,
                before: means,
                largest,
                after,
            });
            h.clear();
            return;
        }
        h.push(v.start, values, n);
    }

    fn close_rvc(&mut self, open: OpenRvc, after_means: &[f64], out: &mut Vec<EventOutput>) {
        let end = open.after.first_start().unwrap_or(open.start);
        let mut delta_ss = 0.0;
        for (c, m) in after_means.iter().enumerate() {
            let d = m - open.before[c];
            if d.abs() > f64::abs(delta_ss) {
                delta_ss = d;
            }
        }
        let (delta_max, channel, value) = open.largest;
        let extremes = vec![f64::NAN; self.columns.len()];
        let mut crossed = vec![false; self.columns.len()];
        crossed[channel] = true;
        let mut record = self.record(
            EventKind::Rvc,
            open.start,
            end,
            value,
            extremes,
            crossed,
            self.declared[channel],
            false,
        );
        record.channel_extremes = self
            .columns
            .iter()
            .cloned()
            .zip(open.before.iter().map(|_| f64::NAN))
            .collect();
        record.delta_u_max = Some(delta_max);
        record.delta_u_ss = Some(delta_ss);
        // The new steady state is the history the next RVC is judged against.
        self.rvc.history = open.after;
        self.emit(record, out);
    }

    fn close(
        &mut self,
        kind: EventKind,
        open: Open,
        end: f64,
        incomplete: bool,
        out: &mut Vec<EventOutput>,
    ) {
        let swell = kind == EventKind::Swell;
        let mut at = 0;
        for (c, &x) in open.extremes.iter().enumerate() {
            let better = if swell {
                x > open.extremes[at]
            } else {
                x < open.extremes[at]
            };
            if better {
                at = c;
            }
        }
        let extreme = open.extremes[at];
        self.spans.push_back((open.start, end));
        let incomplete = incomplete || self.missing;
        let record = self.record(
            kind,
            open.start,
            end,
            extreme,
            open.extremes,
            open.crossed,
            open.references[at],
            incomplete,
        );
        self.emit(record, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        kind: EventKind,
        start: f64,
        end: f64,
        extreme: f64,
        extremes: Vec<f64>,
        crossed: Vec<bool>,
        reference: f64,
        incomplete: bool,
    ) -> EventRecord {
        let t = start / self.sample_rate;
        let index = self.next_index;
        self.next_index += 1;
        EventRecord {
            index,
            kind,
            t,
            start: self.recording_start.add_seconds(t),
            duration: (end - start) / self.sample_rate,
            start_sample: start,
            end_sample: end,
            extreme,
            channel_extremes: self.columns.iter().cloned().zip(extremes).collect(),
            channels: self
                .columns
                .iter()
                .zip(&crossed)
                .filter(|(_, c)| **c)
                .map(|(n, _)| n.clone())
                .collect(),
            reference,
            delta_u_max: None,
            delta_u_ss: None,
            incomplete,
            direction: None,
        }
    }

    fn emit(&self, record: EventRecord, out: &mut Vec<EventOutput>) {
        let pre = self.options.capture_pre_cycles * self.nominal_period;
        let post = self.options.capture_post_cycles * self.nominal_period;
        let first = record.start_sample.max(0.0).floor() as u64;
        let last = record.end_sample.max(0.0).ceil() as u64;
        let capture_start = (record.start_sample - pre).max(0.0).floor() as u64;
        let trigger = CaptureTrigger {
            event_index: record.index,
            kind: record.kind,
            event_start_sample: first,
            event_end_sample: last.max(first),
            capture_start_sample: capture_start,
            capture_end_sample: (record.end_sample + post).max(0.0).ceil() as u64,
            capture_start: self
                .recording_start
                .add_seconds(capture_start as f64 / self.sample_rate),
            trigger: record.start,
        };
        out.push(EventOutput::Event(record));
        out.push(EventOutput::Capture(trigger));
    }
}

/// What the detector produces.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutput {
    /// An event that ended.
    Event(EventRecord),
    /// Where to capture its waveform.
    Capture(CaptureTrigger),
}

/// The per-channel means of `values` when every value lies within ±`band`·Udin of its
/// channel's mean (a steady state of 5.5), else `None`: the plain twin of
/// [`RvcWindow::is_steady`] and [`RvcWindow::means`], over the window's values in order.
fn steady(values: &RvcWindow, udin: &[f64], band: f64) -> Option<Vec<f64>> {
    let means = values.means();
    let ok = (0..values.len()).all(|k| {
        values
            .entry(k)
            .iter()
            .zip(&means)
            .zip(udin)
            .all(|((x, m), u)| (x - m).abs() <= band * u)
    });
    ok.then_some(means)
}

/// The last Urms(1/2) values of every channel for the RVC steady state (IEC 61000-4-30
/// Ed.3 5.5), with what lets the steady-state test cost a few operations per value
/// instead of a pass over the window: per channel a running sum and the window's
/// smallest and largest value (monotonic queues).
///
/// The test of 5.5 — every value within ±band·Udin of its channel's arithmetic mean — is
/// decided exactly as the plain test ([`steady`]) decides it, bit for bit: rounding is
/// monotonic, so every `|x − m|` is at most `band·Udin` exactly when the largest and the
/// smallest value are; and the mean `m` (summed in order, as the plain test does) is
/// within a proven bound of the running-sum mean, so the running one decides unless the
/// margin is within that bound of the limit, and then the mean is summed in order.
#[derive(Debug, Clone, Default)]
struct RvcWindow {
    channels: usize,
    /// Start position of each value.
    starts: VecDeque<f64>,
    /// The values, `channels` per entry, oldest first.
    values: VecDeque<f64>,
    /// Per channel: running sum of the window's values, and the largest magnitude any
    /// value added or removed since the sums were last recomputed had.
    sums: Vec<f64>,
    scale: Vec<f64>,
    /// Additions and removals since the sums were recomputed in order.
    updates: usize,
    /// Per channel: (sequence number, value) of the candidates for the smallest and the
    /// largest value of the window.
    lows: Vec<VecDeque<(u64, f64)>>,
    highs: Vec<VecDeque<(u64, f64)>>,
    /// Values pushed since the window was created or cleared.
    pushed: u64,
}

impl RvcWindow {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn first_start(&self) -> Option<f64> {
        self.starts.front().copied()
    }

    /// The values of entry `k` (0 the oldest).
    fn entry(&self, k: usize) -> Vec<f64> {
        (0..self.channels)
            .map(|c| self.values[k * self.channels + c])
            .collect()
    }

    fn clear(&mut self) {
        *self = RvcWindow::default();
    }

    /// Append the values of every channel at `start`, dropping the oldest entry beyond
    /// `capacity`.
    fn push(&mut self, start: f64, values: &[f64], capacity: usize) {
        if self.starts.is_empty() {
            self.clear();
            self.channels = values.len();
            self.sums = vec![0.0; self.channels];
            self.scale = vec![0.0; self.channels];
            self.lows = vec![VecDeque::new(); self.channels];
            self.highs = vec![VecDeque::new(); self.channels];
        }
        let seq = self.pushed;
        self.pushed += 1;
        self.starts.push_back(start);
        for (c, &x) in values.iter().enumerate().take(self.channels) {
            self.values.push_back(x);
            self.sums[c] += x;
            self.scale[c] = self.scale[c].max(x.abs());
            let lows = &mut self.lows[c];
            while lows.back().is_some_and(|&(_, v)| v >= x) {
                lows.pop_back();
            }
            lows.push_back((seq, x));
            let highs = &mut self.highs[c];
            while highs.back().is_some_and(|&(_, v)| v <= x) {
                highs.pop_back();
            }
            highs.push_back((seq, x));
        }
        self.updates += 1;
        if self.starts.len() > capacity {
            self.starts.pop_front();
            for c in 0..self.channels {
                if let Some(x) = self.values.pop_front() {
                    self.sums[c] -= x;
                }
            }
            self.updates += 1;
            let oldest = self.pushed - self.starts.len() as u64;
            for q in self.lows.iter_mut().chain(&mut self.highs) {
                while q.front().is_some_and(|&(s, _)| s < oldest) {
                    q.pop_front();
                }
            }
        }
        // Recomputed in order every so often, so rounding in the running sums stays
        // within the bound `is_steady` allows for.
        if self.updates >= 2 * capacity.max(1) {
            self.recompute_sums();
        }
    }

    fn recompute_sums(&mut self) {
        self.sums = self.exact_sums();
        self.scale = (0..self.channels)
            .map(|c| {
                (0..self.len())
                    .map(|k| self.values[k * self.channels + c].abs())
                    .fold(0.0, f64::max)
            })
            .collect();
        self.updates = 0;
    }

    /// Per channel the sum of the window's values in order, oldest first.
    fn exact_sums(&self) -> Vec<f64> {
        let mut sums = vec![0.0; self.channels];
        for k in 0..self.len() {
            for (c, m) in sums.iter_mut().enumerate() {
                *m += self.values[k * self.channels + c];
            }
        }
        sums
    }

    /// Per channel the arithmetic mean of the window, summed in order (as 5.5's
    /// reference mean is computed by the plain test).
    fn means(&self) -> Vec<f64> {
        let count = self.len() as f64;
        let mut means = self.exact_sums();
        for m in &mut means {
            *m /= count;
        }
        means
    }

    /// A bound on the difference between the running-sum mean and the in-order mean of
    /// channel `c`, and the running-sum mean. Sequential summation of N values errs by
    /// at most (N − 1)·u·Σ|x|; the running sum, after at most 2N + N additions and
    /// removals since it was last recomputed, by at most 3N·u·(N + 1)·max|x|; each
    /// division by N adds u·|mean|. The bound taken, 8(N + 2)·u·max|x| per value of the
    /// mean, is above their sum.
    fn approximate_mean(&self, c: usize) -> (f64, f64) {
        let n = self.len() as f64;
        let mean = self.sums[c] / n;
        let bound = 8.0 * (n + 2.0) * f64::EPSILON * self.scale[c].max(mean.abs());
        (mean, bound)
    }

    /// True when every value lies within ±`band`·Udin of its channel's in-order mean:
    /// exactly `steady(..).is_some()` (see the type's documentation).
    fn is_steady(&self, udin: &[f64], band: f64, reference: bool) -> bool {
        if reference || self.len() == 0 {
            return steady(self, udin, band).is_some();
        }
        let mut unsure = false;
        for (c, u) in udin.iter().enumerate().take(self.channels) {
            let (mean, bound) = self.approximate_mean(c);
            let (Some(&(_, lo)), Some(&(_, hi))) = (self.lows[c].front(), self.highs[c].front())
            else {
                return steady(self, udin, band).is_some();
            };
            let limit = band * u;
            let deviation = (hi - mean).max(mean - lo);
            // The rounding of the two subtractions and of the limit, on top of the
            // bound on the mean.
            let margin = 2.0 * bound + 4.0 * f64::EPSILON * (hi.abs() + lo.abs() + limit);
            if deviation > limit + margin {
                return false;
            }
            unsure |= deviation >= limit - margin;
        }
        if unsure {
            steady(self, udin, band).is_some()
        } else {
            true
        }
    }

    /// True when some channel's `values` leave ±`band`·Udin around the window's in-order
    /// mean (the start of an RVC, 5.5), decided as [`RvcWindow::is_steady`].
    fn leaves(&self, values: &[f64], udin: &[f64], band: f64, reference: bool) -> bool {
        let exact = || {
            let means = self.means();
            values
                .iter()
                .enumerate()
                .any(|(c, &x)| (x - means[c]).abs() > band * udin[c])
        };
        if reference || self.len() == 0 {
            return exact();
        }
        let mut unsure = false;
        for (c, (&x, u)) in values.iter().zip(udin).enumerate().take(self.channels) {
            let (mean, bound) = self.approximate_mean(c);
            let limit = band * u;
            let deviation = (x - mean).abs();
            let margin = 2.0 * bound + 4.0 * f64::EPSILON * (x.abs() + mean.abs() + limit);
            if deviation > limit + margin {
                return true;
            }
            unsure |= deviation >= limit - margin;
        }
        unsure && exact()
    }
}

// The `take()`s above follow an `if let Some(..)` on the same slot, so they always hold a
// value; these fallbacks keep the code free of `unwrap` all the same.
fn unreachable_open(v: &HalfCycleValue) -> Open {
    Open::new(v, vec![false; v.rms.len()], &vec![f64::NAN; v.rms.len()])
}

fn unreachable_rvc() -> OpenRvc {
    OpenRvc {
        start: 0.0,
        before: Vec::new(),
        largest: (0.0, 0, f64::NAN),
        after: RvcWindow::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(n: usize) -> EventDetector {
        EventDetector::new(
            (0..n)
                .map(|c| format!("U_{}", ["A", "B", "C"][c]))
                .collect(),
            vec![230.0; n],
            NominalFrequency::Hz50,
            1000.0,
            Timestamp::from_nanos(0),
            EventOptions::default(),
        )
        .unwrap()
    }

    /// Feed a series of per-channel values, 10 samples apart (half cycles at 1 kHz).
    fn feed(d: &mut EventDetector, values: &[Vec<f64>]) -> Vec<EventRecord> {
        let mut out = Vec::new();
        for (k, v) in values.iter().enumerate() {
            let start = 10.0 * k as f64;
            d.push(
                HalfCycleValue {
                    start,
                    end: start + 20.0,
                    rms: v,
                },
                &mut out,
            );
        }
        d.interrupt(&mut out);
        out.into_iter()
            .filter_map(|o| match o {
                EventOutput::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// A small deterministic generator of uniform numbers in [0, 1).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn sliding_window_decides_as_its_plain_twin() {
        // Values on and around the edges of the ±3 % band around 230 V, so that the
        // deviations from the mean tie with the limit to the last bit.
        let udin = [230.0, 230.0, 230.0];
        let band = 0.03;
        let mut rng = Lcg(7);
        let mut window = RvcWindow::default();
        let (mut steady_states, mut unsteady, mut leaving) = (0, 0, 0);
        for i in 0..40_000 {
            let pick = |r: f64| {
                if r < 0.03 {
                    223.1
                } else if r < 0.06 {
                    236.9
                } else if r < 0.07 {
                    // Two steps of the last bit above the top edge.
                    236.9 + 230.0 * f64::EPSILON
                } else {
                    230.0 + (r - 0.5) * 1e-12
                }
            };
            let values: Vec<f64> = (0..3).map(|_| pick(rng.next())).collect();
            let capacity = if i % 5000 < 2500 { 100 } else { 7 };
            if window.len() == capacity {
                let plain = steady(&window, &udin, band);
                let fast = window.is_steady(&udin, band, false);
                assert_eq!(fast, plain.is_some(), "value {i}");
                if let Some(means) = plain {
                    steady_states += 1;
                    let expected = values
                        .iter()
                        .enumerate()
                        .any(|(c, &x)| (x - means[c]).abs() > band * udin[c]);
                    assert_eq!(window.leaves(&values, &udin, band, false), expected);
                    assert_eq!(window.means(), means);
                    leaving += usize::from(expected);
                } else {
                    unsteady += 1;
                }
            }
            if i % 997 == 0 {
                window.clear();
            }
            window.push(i as f64, &values, capacity);
        }
        assert!(
            steady_states > 100 && unsteady > 100 && leaving > 10,
            "{steady_states} {unsteady} {leaving}"
        );
    }

    #[test]
    fn polyphase_dip_starts_on_any_channel_and_ends_on_all() {
        let mut values = vec![vec![230.0, 230.0, 230.0]; 300];
        for v in values.iter_mut().take(120).skip(100) {
            v[0] = 150.0;
        }
        for v in values.iter_mut().take(130).skip(110) {
            v[2] = 100.0;
        }
        // Channel C recovers to 91 %: above the threshold, below threshold + hysteresis.
        for v in values.iter_mut().take(140).skip(130) {
            v[2] = 0.91 * 230.0;
        }
        let events = feed(&mut detector(3), &values);
        let dips: Vec<_> = events.iter().filter(|e| e.kind == EventKind::Dip).collect();
        assert_eq!(dips.len(), 1, "{events:?}");
        let d = dips[0];
        assert_eq!(d.start_sample, 1000.0);
        assert_eq!(d.end_sample, 1400.0);
        assert_eq!(d.extreme, 100.0);
        assert_eq!(d.channels, vec!["U_A".to_string(), "U_C".to_string()]);
        assert_eq!(d.phases_label(), "A+C");
        assert!(events.iter().all(|e| e.kind != EventKind::Rvc));
    }

    #[test]
    fn interruption_needs_all_channels_and_ends_on_any() {
        let mut values = vec![vec![230.0, 230.0]; 200];
        for v in values.iter_mut().take(100).skip(50) {
            *v = vec![5.0, 5.0];
        }
        // One channel at 11 % (≥ 10 + 2? no: 12 % is needed) then 13 %.
        values[60][1] = 0.11 * 230.0;
        values[70][1] = 0.13 * 230.0;
        let events = feed(&mut detector(2), &values);
        let ints: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::Interruption)
            .collect();
        assert_eq!(ints.len(), 2, "{events:?}");
        assert_eq!((ints[0].start_sample, ints[0].end_sample), (500.0, 700.0));
        assert_eq!((ints[1].start_sample, ints[1].end_sample), (710.0, 1000.0));
        // The dip around them is one event.
        assert_eq!(
            events.iter().filter(|e| e.kind == EventKind::Dip).count(),
            1
        );
    }

    #[test]
    fn a_small_step_is_an_rvc_a_large_one_a_dip() {
        let mut values: Vec<Vec<f64>> = (0..600).map(|_| vec![230.0]).collect();
        for v in values.iter_mut().skip(200) {
            v[0] = 0.95 * 230.0;
        }
        let events = feed(&mut detector(1), &values);
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Rvc);
        assert_eq!(e.start_sample, 2000.0);
        assert!((e.delta_u_ss.unwrap() + 0.05 * 230.0).abs() < 1e-9);
        assert!((e.delta_u_max.unwrap() - 0.05 * 230.0).abs() < 1e-9);
        // 85 %: a dip (and no RVC).
        let mut values: Vec<Vec<f64>> = (0..600).map(|_| vec![230.0]).collect();
        for v in values.iter_mut().skip(200) {
            v[0] = 0.85 * 230.0;
        }
        let events = feed(&mut detector(1), &values);
        assert!(
            events.iter().all(|e| e.kind == EventKind::Dip),
            "{events:?}"
        );
        assert!(events[0].incomplete);
    }

    #[test]
    fn missing_values_change_nothing_but_mark_the_event() {
        let mut values = vec![vec![230.0, 230.0]; 100];
        for v in values.iter_mut().take(60).skip(40) {
            v[0] = 100.0;
        }
        values[50] = vec![f64::NAN, 230.0];
        // A missing value where the dip would end does not end it.
        values[60] = vec![f64::NAN, f64::NAN];
        values[61] = vec![100.0, 230.0];
        let events = feed(&mut detector(2), &values);
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!((e.start_sample, e.end_sample), (400.0, 620.0));
        assert!(e.incomplete && e.extreme == 100.0);
        // Values of the wrong width are ignored.
        let mut d = detector(2);
        let mut out = Vec::new();
        d.push(
            HalfCycleValue {
                start: 0.0,
                end: 20.0,
                rms: &[1.0],
            },
            &mut out,
        );
        assert!(out.is_empty() && d.progress() == f64::NEG_INFINITY);
    }

    #[test]
    fn sliding_reference_follows_the_interval_rms() {
        let options = EventOptions {
            sliding_reference: true,
            rvc: false,
            ..EventOptions::default()
        };
        let mut d = EventDetector::new(
            vec!["U_A".into()],
            vec![230.0],
            NominalFrequency::Hz60,
            1000.0,
            Timestamp::from_nanos(0),
            options,
        )
        .unwrap();
        // 30 min of 200 V intervals (12 cycles at 60 Hz: 9000 intervals).
        for _ in 0..9000 {
            d.update_sliding_reference(&[200.0]);
        }
        let expected = 200.0 + 30.0 * 0.9967f64.powi(9000);
        assert!((d.sliding_reference()[0] - expected).abs() < 1e-9);
        assert_eq!(d.references(), d.sliding_reference());
        // 185 V is below 90 % of Udin but not of Usr ≈ 200 V: no dip.
        let events = feed(&mut d, &vec![vec![185.0]; 50]);
        assert!(events.is_empty(), "{events:?}");
        // A fixed reference calls it a dip.
        let events = feed(&mut detector(1), &vec![vec![185.0]; 50]);
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn swell_and_bad_options() {
        let mut values = vec![vec![230.0]; 100];
        for v in values.iter_mut().take(60).skip(40) {
            v[0] = 1.3 * 230.0;
        }
        let events = feed(&mut detector(1), &values);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Swell);
        assert!((events[0].extreme - 299.0).abs() < 1e-9);
        let bad = EventOptions {
            dip_threshold: 120.0,
            ..EventOptions::default()
        };
        assert!(bad.validate().is_err());
        let nan = EventOptions {
            swell_hysteresis: f64::NAN,
            ..EventOptions::default()
        };
        assert!(nan.validate().is_err());
        assert!(rectangular_duration_bias(0.0, 0.9, 0.02, false).unwrap() > 0.6);
    }
}
