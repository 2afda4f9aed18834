//! The records the analysis produces, and the names of what they hold.
//!
//! Every value of an interval is addressed by a typed [`QuantityKey`] — a [`Quantity`] and
//! whose it is ([`Scope`]: the system, a phase, or a channel by its column) — and this
//! module is the one place that turns keys into the column names of the tables
//! (`intervals.csv`, the Python tables, the C records): [`QuantityKey::column`],
//! [`channel_column`], [`flicker_column`]. The names follow IEC symbols and are a contract
//! (ARCHITECTURE.md, "Interfaces").

use crate::{ChannelKind, Phase};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a value of an interval measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Quantity {
    /// Fundamental frequency over the interval (`f`, IEC 61000-4-30 5.1).
    Frequency,
    /// RMS over the interval (5.2); its column is the channel's column itself (`U_A`).
    Rms,
    /// Largest magnitude of a sample (`PK_`).
    Peak,
    /// Peak / RMS (`CF_`).
    CrestFactor,
    /// Mean over the interval (`DC_`).
    Dc,
    /// Under-deviation, % (`UNDER_`, 5.12).
    UnderDeviation,
    /// Over-deviation, % (`OVER_`, 5.12).
    OverDeviation,
    /// Mains signalling voltage (`MSV_`, 5.10).
    SignallingVoltage,
    /// Phase angle of the fundamental against the reference channel's, degrees (`PHI_`).
    FundamentalAngle,
    /// Total harmonic distortion from single lines, % (`THD_`, IEC 61000-4-7).
    Thd,
    /// THD from subgroups, % (`THDS_`).
    Thds,
    /// THD from groups, % (`THDG_`).
    Thdg,
    /// Total demand distortion, % (`TDD_`, IEEE 519).
    Tdd,
    /// K-factor (`K_`).
    KFactor,
    /// Active power P (`P_A`, total `P`; IEEE 1459-2010 3.1.2.6, 3.2.3).
    ActivePower,
    /// Fundamental reactive power Q1 (`Q1_A`; total `Q`).
    FundamentalReactivePower,
    /// Apparent power S (`S_A`; total: the effective apparent power Se, `S`).
    ApparentPower,
    /// Power factor P/S (`PF_A`; total P/Se, `PF`).
    PowerFactor,
    /// Displacement power factor P1/S1 (`DPF_A`).
    DisplacementPowerFactor,
    /// Arithmetic apparent power, the sum of the phases' S (`S_arith`).
    ArithmeticApparentPower,
    /// Positive-sequence fundamental active power (`P1pos`).
    PositiveSequenceActivePower,
    /// Positive-sequence fundamental reactive power (`Q1pos`).
    PositiveSequenceReactivePower,
    /// Positive-sequence fundamental apparent power (`S1pos`).
    PositiveSequenceApparentPower,
    /// Effective voltage Ve (`Ve`, IEEE 1459-2010 3.2.3).
    EffectiveVoltage,
    /// Effective current Ie (`Ie`).
    EffectiveCurrent,
    /// Negative-sequence unbalance u2, % (`u2`, IEC 61000-4-30 5.7).
    NegativeSequenceUnbalance,
    /// Zero-sequence unbalance u0, % (`u0`).
    ZeroSequenceUnbalance,
}

impl Quantity {
    /// Every quantity, in column order within its scope.
    pub const ALL: [Quantity; 27] = [
        Quantity::Frequency,
        Quantity::Rms,
        Quantity::Peak,
        Quantity::CrestFactor,
        Quantity::Dc,
        Quantity::UnderDeviation,
        Quantity::OverDeviation,
        Quantity::SignallingVoltage,
        Quantity::FundamentalAngle,
        Quantity::Thd,
        Quantity::Thds,
        Quantity::Thdg,
        Quantity::Tdd,
        Quantity::KFactor,
        Quantity::ActivePower,
        Quantity::FundamentalReactivePower,
        Quantity::ApparentPower,
        Quantity::PowerFactor,
        Quantity::DisplacementPowerFactor,
        Quantity::ArithmeticApparentPower,
        Quantity::PositiveSequenceActivePower,
        Quantity::PositiveSequenceReactivePower,
        Quantity::PositiveSequenceApparentPower,
        Quantity::EffectiveVoltage,
        Quantity::EffectiveCurrent,
        Quantity::NegativeSequenceUnbalance,
        Quantity::ZeroSequenceUnbalance,
    ];

    /// The symbol of the quantity for a channel, prefixed to its column with `_` (`PK`
    /// for `PK_U_A`); `None` for the RMS (the bare column) and system quantities.
    fn channel_prefix(self) -> Option<&'static str> {
        Some(match self {
            Quantity::Peak => "PK",
            Quantity::CrestFactor => "CF",
            Quantity::Dc => "DC",
            Quantity::UnderDeviation => "UNDER",
            Quantity::OverDeviation => "OVER",
            Quantity::SignallingVoltage => "MSV",
            Quantity::FundamentalAngle => "PHI",
            Quantity::Thd => "THD",
            Quantity::Thds => "THDS",
            Quantity::Thdg => "THDG",
            Quantity::Tdd => "TDD",
            Quantity::KFactor => "K",
            _ => return None,
        })
    }

    /// The symbol of a phase's power quantity (`P` for `P_A`), `None` for others.
    fn phase_symbol(self) -> Option<&'static str> {
        Some(match self {
            Quantity::ActivePower => "P",
            Quantity::FundamentalReactivePower => "Q1",
            Quantity::ApparentPower => "S",
            Quantity::PowerFactor => "PF",
            Quantity::DisplacementPowerFactor => "DPF",
            _ => return None,
        })
    }

    /// The column of a system-wide quantity (`P`, `Q`, `u2`, `f`), `None` for others.
    fn system_symbol(self) -> Option<&'static str> {
        Some(match self {
            Quantity::Frequency => "f",
            Quantity::ActivePower => "P",
            Quantity::FundamentalReactivePower => "Q",
            Quantity::ApparentPower => "S",
            Quantity::PowerFactor => "PF",
            Quantity::ArithmeticApparentPower => "S_arith",
            Quantity::PositiveSequenceActivePower => "P1pos",
            Quantity::PositiveSequenceReactivePower => "Q1pos",
            Quantity::PositiveSequenceApparentPower => "S1pos",
            Quantity::EffectiveVoltage => "Ve",
            Quantity::EffectiveCurrent => "Ie",
            Quantity::NegativeSequenceUnbalance => "u2",
            Quantity::ZeroSequenceUnbalance => "u0",
            _ => return None,
        })
    }
}

/// Whose value a [`QuantityKey`] names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// The whole system (totals, unbalance, frequency).
    System,
    /// One phase (its powers: `P_A`).
    Phase(Phase),
    /// One channel, by its column ([`channel_column`]: `U_A`, `I_N`, or its own name).
    Channel(String),
}

/// A typed key of one value of an interval: the quantity and whose it is. Its column name
/// ([`QuantityKey::column`], also its `Display`) is the table header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantityKey {
    /// What is measured.
    pub quantity: Quantity,
    /// Whose it is.
    pub scope: Scope,
}

impl QuantityKey {
    /// A system-wide quantity.
    pub fn system(quantity: Quantity) -> Self {
        QuantityKey {
            quantity,
            scope: Scope::System,
        }
    }

    /// A quantity of one phase.
    pub fn phase(quantity: Quantity, phase: Phase) -> Self {
        QuantityKey {
            quantity,
            scope: Scope::Phase(phase),
        }
    }

    /// A quantity of the channel with column name `column`.
    pub fn channel(quantity: Quantity, column: &str) -> Self {
        QuantityKey {
            quantity,
            scope: Scope::Channel(column.to_string()),
        }
    }

    /// The column name: `f`, `P`, `u2` (system); `P_A`, `Q1_B`, `DPF_C` (phase); `U_A`,
    /// `PK_U_A`, `THD_I_B`, `MSV_U_A` (channel). A combination the tables never hold (an
    /// RMS of the system) gets the generic `<symbol>_<scope>` form.
    pub fn column(&self) -> String {
        let q = self.quantity;
        match &self.scope {
            Scope::System => q
                .system_symbol()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{q:?}")),
            Scope::Phase(p) => match q.phase_symbol() {
                Some(symbol) => format!("{symbol}_{}", p.as_str()),
                None => format!("{q:?}_{}", p.as_str()),
            },
            Scope::Channel(column) => match (q, q.channel_prefix()) {
                (Quantity::Rms, _) => column.clone(),
                (_, Some(prefix)) => format!("{prefix}_{column}"),
                (_, None) => format!("{q:?}_{column}"),
            },
        }
    }

    /// The key of a column name, given the channel columns of the recording (a channel's
    /// own name may look like anything, so channel keys are recognised only for those).
    /// `None` for `t`, `flagged` and unknown names.
    pub fn parse(name: &str, channel_columns: &[String]) -> Option<QuantityKey> {
        if channel_columns.iter().any(|c| c == name) {
            return Some(QuantityKey::channel(Quantity::Rms, name));
        }
        for q in Quantity::ALL {
            if q.system_symbol() == Some(name) {
                return Some(QuantityKey::system(q));
            }
        }
        if let Some((head, tail)) = name.split_once('_') {
            for q in Quantity::ALL {
                if q.channel_prefix() == Some(head) && channel_columns.iter().any(|c| c == tail) {
                    return Some(QuantityKey::channel(q, tail));
                }
            }
            for q in Quantity::ALL {
                if q.phase_symbol() == Some(head) {
                    if let Some(p) = [Phase::A, Phase::B, Phase::C, Phase::N]
                        .into_iter()
                        .find(|p| p.as_str() == tail)
                    {
                        return Some(QuantityKey::phase(q, p));
                    }
                }
            }
        }
        None
    }
}

impl fmt::Display for QuantityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.column())
    }
}

/// The column of a channel that plays a role: `U_` for voltages, `I_` for currents, then
/// the phase (`U_A`, `U_AB`, `I_N`); `None` for other kinds (they keep their own name).
pub fn channel_column(kind: ChannelKind, phase: Phase) -> Option<String> {
    let prefix = match kind {
        ChannelKind::Voltage => "U",
        ChannelKind::Current => "I",
        ChannelKind::Other => return None,
    };
    Some(format!("{prefix}_{}", phase.as_str()))
}

/// The phase part of a voltage channel's column, as the flicker and event tables write
/// it: `U_A` → `A`, `U_AB` → `AB`; other names as they are.
pub fn phase_label(column: &str) -> &str {
    column.strip_prefix("U_").unwrap_or(column)
}

/// The flicker column of a voltage channel: `Pst_A`, `Plt_AB`.
pub fn flicker_column(severity: FlickerSeverity, column: &str) -> String {
    let symbol = match severity {
        FlickerSeverity::Pst => "Pst",
        FlickerSeverity::Plt => "Plt",
    };
    format!("{symbol}_{}", phase_label(column))
}

/// Basic statistics of one channel over a whole recording or a stretch of it: what a first
/// look at a recording wants to know. Missing samples (NaN) are counted, not averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStatistics {
    /// The channel's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Samples that held a value.
    pub samples: u64,
    /// Samples that were missing (NaN in the block).
    pub missing: u64,
    /// Root mean square of the present samples.
    pub rms: f64,
    /// Arithmetic mean (the DC component).
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Largest magnitude.
    pub peak: f64,
    /// Peak divided by RMS (√2 for a sine).
    pub crest_factor: f64,
}

/// Running accumulator for [`ChannelStatistics`]; feed it any cut of a channel and the result
/// is the same bits.
///
/// The sums run on four lanes: sample `i` of the channel (counted from the first one pushed,
/// missing ones included) goes to lane `i mod 4`, and the lanes are added in one fixed order
/// at the end. The summation order therefore depends only on the positions of the samples,
/// never on where blocks begin, and four independent additions per step keep the loop from
/// waiting on one chain of dependent sums.
#[derive(Debug, Clone)]
pub struct ChannelStatisticsAccumulator {
    samples: u64,
    missing: u64,
    /// Samples pushed so far, missing ones included: the position of the next one.
    position: u64,
    sum: [f64; 4],
    sum_sq: [f64; 4],
    min: [f64; 4],
    max: [f64; 4],
}

impl Default for ChannelStatisticsAccumulator {
    fn default() -> Self {
        Self::new()
    }
}

impl ChannelStatisticsAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        ChannelStatisticsAccumulator {
            samples: 0,
            missing: 0,
            position: 0,
            sum: [0.0; 4],
            sum_sq: [0.0; 4],
            min: [f64::INFINITY; 4],
            max: [f64::NEG_INFINITY; 4],
        }
    }

    /// Add one sample at the current position.
    #[inline]
    fn push_one(&mut self, x: f64) {
        let lane = (self.position % 4) as usize;
        self.position += 1;
        if x.is_nan() {
            self.missing += 1;
            return;
        }
        self.samples += 1;
        self.sum[lane] += x;
        self.sum_sq[lane] += x * x;
        self.min[lane] = self.min[lane].min(x);
        self.max[lane] = self.max[lane].max(x);
    }

    /// Add samples.
    pub fn push(&mut self, samples: &[f64]) {
        // One by one up to the next position that starts a group of four.
        let lead = ((4 - self.position % 4) % 4) as usize;
        let (head, rest) = samples.split_at(lead.min(samples.len()));
        head.iter().for_each(|&x| self.push_one(x));
        let mut quads = rest.chunks_exact(4);
        let (mut sum, mut sum_sq, mut min, mut max) = (self.sum, self.sum_sq, self.min, self.max);
        let mut whole = 0u64;
        for q in &mut quads {
            if q.iter().any(|x| x.is_nan()) {
                // Rare: the lanes go back into `self` for the one-by-one path.
                (self.sum, self.sum_sq, self.min, self.max) = (sum, sum_sq, min, max);
                self.samples += whole;
                self.position += whole;
                whole = 0;
                q.iter().for_each(|&x| self.push_one(x));
                (sum, sum_sq, min, max) = (self.sum, self.sum_sq, self.min, self.max);
                continue;
            }
            for k in 0..4 {
                sum[k] += q[k];
                sum_sq[k] += q[k] * q[k];
                // No NaN here (checked above): plain comparisons, one instruction each.
                min[k] = if q[k] < min[k] { q[k] } else { min[k] };
                max[k] = if q[k] > max[k] { q[k] } else { max[k] };
            }
            whole += 4;
        }
        (self.sum, self.sum_sq, self.min, self.max) = (sum, sum_sq, min, max);
        self.samples += whole;
        self.position += whole;
        quads.remainder().iter().for_each(|&x| self.push_one(x));
    }

    /// The statistics so far.
    pub fn finish(&self, name: &str, unit: &str) -> ChannelStatistics {
        let n = self.samples as f64;
        let lanes = |v: [f64; 4]| (v[0] + v[1]) + (v[2] + v[3]);
        let (sum, sum_sq) = (lanes(self.sum), lanes(self.sum_sq));
        let min = self.min.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.max.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (rms, mean) = if self.samples > 0 {
            ((sum_sq / n).sqrt(), sum / n)
        } else {
            (f64::NAN, f64::NAN)
        };
        let peak = if self.samples > 0 {
            min.abs().max(max.abs())
        } else {
            f64::NAN
        };
        ChannelStatistics {
            name: name.to_string(),
            unit: unit.to_string(),
            samples: self.samples,
            missing: self.missing,
            rms,
            mean,
            min: if self.samples > 0 { min } else { f64::NAN },
            max: if self.samples > 0 { max } else { f64::NAN },
            peak,
            crest_factor: if rms > 0.0 { peak / rms } else { f64::NAN },
        }
    }
}

/// One record of the streaming analysis, in the order the analyzer produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Record {
    /// A 10/12-cycle basic interval (IEC 61000-4-30 4.4, 5.2).
    Interval(IntervalRecord),
    /// A 10-s frequency value (IEC 61000-4-30 5.1).
    Frequency(FrequencyRecord),
    /// One Urms(1/2) value per channel (IEC 61000-4-30 5.4.2; every second one, starting at
    /// a rising crossing, is also the Urms(1) value).
    HalfCycle(HalfCycleRecord),
    /// A short-term (Pst, 10 min) or long-term (Plt, 2 h) flicker severity of one voltage
    /// channel (IEC 61000-4-15).
    Flicker(FlickerRecord),
    /// A dip, swell, interruption or rapid voltage change (IEC 61000-4-30 5.4, 5.5).
    Event(EventRecord),
    /// A 150/180-cycle, 10-min or 2-h aggregate of the interval values (IEC 61000-4-30 4.5).
    Aggregate(AggregateRecord),
    /// Where a waveform capture of an event lies (for COMTRADE captures of events).
    CaptureTrigger(CaptureTrigger),
}

/// Why an interval is flagged. Any reason set makes [`IntervalRecord::flagged`] true.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalFlags {
    /// A sample inside the interval was missing (NaN) or not finite.
    pub missing_samples: bool,
    /// Some cycle boundaries were not found on the fundamental (no signal, or too weak to
    /// track) and were placed at the nominal period instead.
    pub unlocked: bool,
    /// The interval starts right after a gap in the recording (tracking was restarted).
    pub after_gap: bool,
    /// A dip, swell or interruption touched the interval (IEC 61000-4-30 4.7).
    pub event: bool,
}

impl IntervalFlags {
    /// True when any reason is set.
    pub fn any(&self) -> bool {
        self.missing_samples || self.unlocked || self.after_gap || self.event
    }
}

/// Harmonic content of one channel over one interval (IEC 61000-4-7), in the channel's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarmonicValues {
    /// Harmonic subgroups, orders 0 to 63 (index = order).
    pub subgroups: Vec<f64>,
    /// Interharmonic centred subgroups, IH0 to IH63 (IHn lies between orders n and n+1).
    pub interharmonic_subgroups: Vec<f64>,
    /// Harmonic groups, orders 0 to 63.
    pub groups: Vec<f64>,
    /// Interharmonic groups, 0 to 63.
    pub interharmonic_groups: Vec<f64>,
    /// Phase angle of each harmonic in degrees, relative to the U_A fundamental.
    pub phases: Vec<f64>,
    /// Total harmonic distortion from single lines, %.
    pub thd: f64,
    /// THD from subgroups, %.
    pub thds: f64,
    /// THD from groups, %.
    pub thdg: f64,
    /// Total demand distortion (currents, when I_L is known), %.
    pub tdd: Option<f64>,
    /// K-factor (currents).
    pub k_factor: Option<f64>,
}

/// One channel's values over one 10/12-cycle interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelInterval {
    /// Column name of the channel's role (`U_A`, `I_N`, …), or its own name when it has
    /// no role.
    pub column: String,
    /// The channel's name in the recording.
    pub channel: String,
    /// RMS over the synchronised interval (IEC 61000-4-30 5.2).
    pub rms: f64,
    /// Largest magnitude of a sample inside the interval.
    pub peak: f64,
    /// Peak / RMS.
    pub crest_factor: f64,
    /// Mean over the interval (the DC component).
    pub dc: f64,
    /// Under-deviation (Udin − min(Urms, Udin)) / Udin · 100 %, voltages only
    /// (IEC 61000-4-30 5.12).
    pub under_deviation: Option<f64>,
    /// Over-deviation (max(Urms, Udin) − Udin) / Udin · 100 %, voltages only.
    pub over_deviation: Option<f64>,
    /// Mains signalling voltage at the configured frequency (IEC 61000-4-30 5.10).
    pub signalling: Option<f64>,
    /// Harmonics, when the analysis computed them.
    pub harmonics: Option<HarmonicValues>,
}

impl ChannelInterval {
    /// The channel's values by typed key, in column order: RMS, peak, crest factor, DC,
    /// under- and over-deviation and signalling voltage where computed, then with
    /// harmonics the fundamental's angle, THD, THDS, THDG, and TDD and K-factor where
    /// computed.
    pub fn values(&self) -> Vec<(QuantityKey, f64)> {
        let key = |q: Quantity| QuantityKey::channel(q, &self.column);
        let mut out = vec![
            (key(Quantity::Rms), self.rms),
            (key(Quantity::Peak), self.peak),
            (key(Quantity::CrestFactor), self.crest_factor),
            (key(Quantity::Dc), self.dc),
        ];
        let optional = [
            (Quantity::UnderDeviation, self.under_deviation),
            (Quantity::OverDeviation, self.over_deviation),
            (Quantity::SignallingVoltage, self.signalling),
        ];
        out.extend(optional.into_iter().filter_map(|(q, v)| Some((key(q), v?))));
        if let Some(h) = &self.harmonics {
            if let Some(angle) = h.phases.get(1) {
                out.push((key(Quantity::FundamentalAngle), *angle));
            }
            out.push((key(Quantity::Thd), h.thd));
            out.push((key(Quantity::Thds), h.thds));
            out.push((key(Quantity::Thdg), h.thdg));
            let optional = [(Quantity::Tdd, h.tdd), (Quantity::KFactor, h.k_factor)];
            out.extend(optional.into_iter().filter_map(|(q, v)| Some((key(q), v?))));
        }
        out
    }
}

impl ChannelInterval {
    /// The numbers of [`ChannelInterval::values`] in the same order, without their keys,
    /// appended to `out` (for a table that wrote its header once). Returns which optional
    /// values are present, a bit each: two channels with the same bits give the same
    /// columns.
    pub fn push_numbers(&self, out: &mut Vec<f64>) -> u8 {
        out.extend([self.rms, self.peak, self.crest_factor, self.dc]);
        let mut present = 0u8;
        let optional = [self.under_deviation, self.over_deviation, self.signalling];
        for (bit, v) in optional.into_iter().enumerate() {
            if let Some(v) = v {
                out.push(v);
                present |= 1 << bit;
            }
        }
        if let Some(h) = &self.harmonics {
            present |= 1 << 3;
            if let Some(angle) = h.phases.get(1) {
                out.push(*angle);
                present |= 1 << 4;
            }
            out.extend([h.thd, h.thds, h.thdg]);
            for (bit, v) in [(5, h.tdd), (6, h.k_factor)] {
                if let Some(v) = v {
                    out.push(v);
                    present |= 1 << bit;
                }
            }
        }
        present
    }
}

/// One 10/12-cycle basic interval (IEC 61000-4-30 4.4): exactly 10 (50 Hz) or 12 (60 Hz)
/// cycles of the measured fundamental, gapless and non-overlapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalRecord {
    /// Running number of the interval in the recording.
    pub index: u64,
    /// Start, in seconds from the recording's start.
    pub t: f64,
    /// Absolute start time.
    pub start: crate::Timestamp,
    /// Length in seconds.
    pub duration: f64,
    /// Start as a fractional sample index of the recording.
    pub start_sample: f64,
    /// Length in samples (fractional).
    pub length_samples: f64,
    /// Cycles of the fundamental in the interval.
    pub cycles: usize,
    /// Mean fundamental frequency over the interval (cycles / duration), Hz.
    pub frequency: f64,
    /// True when any of `flags` is set (IEC 61000-4-30 4.7).
    pub flagged: bool,
    /// Why the interval is flagged.
    pub flags: IntervalFlags,
    /// Per-channel values, in the analyzer's channel order.
    pub channels: Vec<ChannelInterval>,
    /// System-wide and per-phase quantities in column order (`u2`, `u0`, `P_A`, …, `P`,
    /// `Q`, `S`, `PF`, …), by typed key.
    pub quantities: Vec<(QuantityKey, f64)>,
}

impl IntervalRecord {
    /// The record as ordered (column, value) pairs for a table such as `intervals.csv`:
    /// `t`, `flagged` (1 or 0), `f`, then per channel its RMS under the channel's column
    /// name with `PK_`, `CF_`, `DC_` values, for voltages `UNDER_`/`OVER_` deviation and
    /// `MSV_` signalling voltage where computed, and `THD_`, `THDS_`, `THDG_` (plus `TDD_`
    /// and `K_` for currents) where harmonics were computed, with `PHI_` the fundamental's
    /// phase angle in degrees relative to U_A; then the system quantities.
    /// Harmonic spectra go to their own per-channel tables (see [`HarmonicValues`]).
    pub fn columns(&self) -> Vec<(String, f64)> {
        let mut out = vec![
            ("t".to_string(), self.t),
            ("flagged".to_string(), if self.flagged { 1.0 } else { 0.0 }),
        ];
        out.extend(self.values().into_iter().map(|(k, v)| (k.column(), v)));
        out
    }

    /// The numbers of [`IntervalRecord::columns`] in the same order, without their names,
    /// appended to `out`: for a table that wrote its header once. Returns the row's layout:
    /// two records with the same layout have the same columns (the same channels with the
    /// same optional values, and the same system quantities).
    pub fn push_numbers(&self, out: &mut Vec<f64>) -> u64 {
        out.extend([self.t, if self.flagged { 1.0 } else { 0.0 }, self.frequency]);
        let mut layout = self.channels.len() as u64;
        for c in &self.channels {
            layout = layout
                .wrapping_mul(131)
                .wrapping_add(u64::from(c.push_numbers(out)));
        }
        out.extend(self.quantities.iter().map(|(_, v)| *v));
        layout
            .wrapping_mul(131)
            .wrapping_add(self.quantities.len() as u64)
    }

    /// Every value of the interval by typed key, in column order (the columns of
    /// [`IntervalRecord::columns`] after `t` and `flagged`).
    pub fn values(&self) -> Vec<(QuantityKey, f64)> {
        let mut out = vec![(QuantityKey::system(Quantity::Frequency), self.frequency)];
        for c in &self.channels {
            out.extend(c.values());
        }
        out.extend(self.quantities.iter().cloned());
        out
    }

    /// One value by typed key.
    pub fn value(&self, key: &QuantityKey) -> Option<f64> {
        match &key.scope {
            Scope::Channel(column) => self
                .channel(column)?
                .values()
                .into_iter()
                .find(|(k, _)| k.quantity == key.quantity)
                .map(|(_, v)| v),
            _ if key.quantity == Quantity::Frequency => Some(self.frequency),
            _ => self
                .quantities
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| *v),
        }
    }

    /// One row of `harmonics_<channel>.csv` for the channel with column name `column`:
    /// `t`, `H0` … `H63` (harmonic subgroups), `IH0` … `IH63` (interharmonic centred
    /// subgroups), in the channel's unit. `None` when the channel is unknown or its
    /// harmonics were not computed.
    pub fn harmonic_columns(&self, column: &str) -> Option<Vec<(String, f64)>> {
        let h = self.channel(column)?.harmonics.as_ref()?;
        let mut out = Vec::with_capacity(1 + h.subgroups.len() + h.interharmonic_subgroups.len());
        out.push(("t".to_string(), self.t));
        out.extend(
            h.subgroups
                .iter()
                .enumerate()
                .map(|(n, v)| (format!("H{n}"), *v)),
        );
        out.extend(
            h.interharmonic_subgroups
                .iter()
                .enumerate()
                .map(|(n, v)| (format!("IH{n}"), *v)),
        );
        Some(out)
    }

    /// The values of one channel (by column name, e.g. `U_A`).
    pub fn channel(&self, column: &str) -> Option<&ChannelInterval> {
        self.channels.iter().find(|c| c.column == column)
    }

    /// A system or phase quantity by column name (e.g. `u2`, `P_A`).
    pub fn quantity(&self, column: &str) -> Option<f64> {
        self.quantities
            .iter()
            .find(|(key, _)| key.column() == column)
            .map(|(_, v)| *v)
    }
}

/// A 10-s frequency value (IEC 61000-4-30 5.1): the whole cycles of the fundamental inside
/// a 10-s period of the clock, divided by their summed duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyRecord {
    /// Start of the 10-s period, in seconds from the recording's start.
    pub t: f64,
    /// Absolute start of the period (a multiple of 10 s).
    pub start: crate::Timestamp,
    /// Frequency in hertz (NaN when no whole cycle was found).
    pub frequency: f64,
    /// Whole cycles counted.
    pub cycles: u64,
    /// True when the period was not fully recorded, or cycles in it were not tracked on
    /// the fundamental.
    pub flagged: bool,
}

/// One Urms(1/2) value per channel (IEC 61000-4-30 5.4.2): the RMS over one cycle starting
/// at a zero crossing of the reference channel's fundamental, refreshed every half cycle.
/// The values starting at a rising crossing (`rising`) form the Urms(1) series: one cycle,
/// refreshed every cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalfCycleRecord {
    /// Running number of the value.
    pub index: u64,
    /// Start of the cycle, in seconds from the recording's start.
    pub t: f64,
    /// Length of the cycle, in seconds.
    pub duration: f64,
    /// True when the cycle starts at a rising zero crossing (an Urms(1) value).
    pub rising: bool,
    /// True when the cycle holds missing samples or was not tracked on the fundamental.
    pub flagged: bool,
    /// RMS per channel, in the analyzer's channel order.
    pub rms: Vec<f64>,
}

/// Which flicker severity a [`FlickerRecord`] holds (IEC 61000-4-15 Ed.2 4.7.2, 4.7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlickerSeverity {
    /// Short-term severity Pst over 10 min of the clock.
    Pst,
    /// Long-term severity Plt: cube mean of the 12 Pst values of 2 h of the clock.
    Plt,
}

/// Why a flicker value is flagged. Any reason set makes [`FlickerRecord::flagged`] true.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlickerFlags {
    /// The flickermeter's filters were still settling during the period (after the start,
    /// a gap or missing samples).
    pub settling: bool,
    /// The period was not fully observed (the recording started or ended inside it, or a
    /// gap or missing samples cut it); the value covers only what was observed.
    pub incomplete: bool,
    /// Samples inside the period were missing (NaN or infinite).
    pub missing_samples: bool,
    /// For Plt: a member Pst was flagged or missing.
    pub member_flagged: bool,
}

impl FlickerFlags {
    /// True when any reason is set.
    pub fn any(&self) -> bool {
        self.settling || self.incomplete || self.missing_samples || self.member_flagged
    }
}

/// One flicker severity value of one voltage channel (IEC 61000-4-15 Ed.2): Pst every
/// 10 min of the clock, Plt every 2 h of the clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlickerRecord {
    /// Pst or Plt.
    pub severity: FlickerSeverity,
    /// Column name of the channel (`U_A`, …); empty when the flickermeter was not told.
    pub column: String,
    /// Start of the period, in seconds from the recording's start.
    pub t: f64,
    /// Absolute start of the period (a multiple of 600 s or 7200 s).
    pub start: crate::Timestamp,
    /// Nominal length of the period in seconds (600 or 7200).
    pub duration: f64,
    /// The severity (dimensionless; NaN when nothing valid was observed).
    pub value: f64,
    /// Largest instantaneous flicker sensation Pinst in the period (NaN when none).
    pub pinst_max: f64,
    /// Pst: seconds of valid Pinst behind the value; Plt: Pst values behind it.
    pub observed: f64,
    /// True when any of `flags` is set.
    pub flagged: bool,
    /// Why the value is flagged.
    pub flags: FlickerFlags,
}

/// The flicker table (`flicker.csv`, Python `Analysis.flicker`): one row per 10-min period of
/// the clock that has a Pst of any channel: `t`, `flagged` (1 or 0), `Pst_<phase>` per
/// channel (`U_A` → `Pst_A`), then `Plt_<phase>` on the row of the last 10-min period of each
/// 2-h period that has a row (NaN elsewhere). Channels in `columns` order, then any other
/// channel the records name. Returns the header and the rows; both empty without records.
pub fn flicker_table(
    columns: &[String],
    records: &[FlickerRecord],
) -> (Vec<String>, Vec<Vec<f64>>) {
    if records.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut channels: Vec<&str> = columns
        .iter()
        .filter(|c| records.iter().any(|r| &r.column == *c))
        .map(String::as_str)
        .collect();
    for r in records {
        if !channels.contains(&r.column.as_str()) {
            channels.push(&r.column);
        }
    }
    let width = 2 * channels.len();
    // Rows keyed by the absolute start of their 10-min period, in ns.
    let mut rows: std::collections::BTreeMap<i64, (f64, bool, Vec<f64>)> =
        std::collections::BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.severity == FlickerSeverity::Pst)
    {
        let Some(ch) = channels.iter().position(|c| *c == r.column) else {
            continue;
        };
        let row = rows
            .entry(r.start.as_nanos())
            .or_insert_with(|| (r.t, false, vec![f64::NAN; width]));
        row.1 |= r.flagged;
        row.2[ch] = r.value;
    }
    for r in records
        .iter()
        .filter(|r| r.severity == FlickerSeverity::Plt)
    {
        let Some(ch) = channels.iter().position(|c| *c == r.column) else {
            continue;
        };
        let (from, to) = (
            r.start.as_nanos(),
            r.start.add_seconds(r.duration).as_nanos(),
        );
        let key = rows.range(from..to).next_back().map_or(from, |(k, _)| *k);
        let row = rows
            .entry(key)
            .or_insert_with(|| (r.t, false, vec![f64::NAN; width]));
        row.1 |= r.flagged;
        row.2[channels.len() + ch] = r.value;
    }
    let mut header = vec!["t".to_string(), "flagged".to_string()];
    header.extend(
        channels
            .iter()
            .map(|c| flicker_column(FlickerSeverity::Pst, c)),
    );
    header.extend(
        channels
            .iter()
            .map(|c| flicker_column(FlickerSeverity::Plt, c)),
    );
    let rows = rows
        .into_values()
        .map(|(t, flagged, values)| {
            let mut row = vec![t, if flagged { 1.0 } else { 0.0 }];
            row.extend(values);
            row
        })
        .collect();
    (header, rows)
}

/// What kind of voltage event an [`EventRecord`] describes (IEC 61000-4-30 Ed.3 5.4, 5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Voltage dip: Urms(1/2) below the dip threshold (5.4.2).
    Dip,
    /// Voltage swell: Urms(1/2) above the swell threshold (5.4.3).
    Swell,
    /// Voltage interruption: Urms(1/2) of every channel below the interruption threshold
    /// (5.4.4).
    Interruption,
    /// Rapid voltage change: a step between two steady states that crosses neither the
    /// dip nor the swell threshold (5.5).
    Rvc,
}

impl EventKind {
    /// The name as `events.csv` writes it: `dip`, `swell`, `interruption`, `rvc`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Dip => "dip",
            EventKind::Swell => "swell",
            EventKind::Interruption => "interruption",
            EventKind::Rvc => "rvc",
        }
    }
}

/// One voltage event (IEC 61000-4-30 Ed.3 5.4 dips, swells, interruptions; 5.5 RVC),
/// characterised from the Urms(1/2) values of the voltage channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Running number of the event in the recording.
    pub index: u64,
    /// Dip, swell, interruption or RVC.
    pub kind: EventKind,
    /// Start, in seconds from the recording's start.
    pub t: f64,
    /// Absolute start time.
    pub start: crate::Timestamp,
    /// Duration in seconds.
    pub duration: f64,
    /// Start as a fractional sample index of the recording.
    pub start_sample: f64,
    /// End (exclusive) as a fractional sample index.
    pub end_sample: f64,
    /// Residual voltage (dips, interruptions: the lowest Urms(1/2) of any channel), the
    /// maximum (swells: the highest), or for an RVC the Urms(1/2) farthest from the
    /// pre-event mean; V.
    pub extreme: f64,
    /// The same extreme per voltage channel: (column, value), in channel order.
    pub channel_extremes: Vec<(String, f64)>,
    /// The channels that crossed the threshold (column names, `U_A`, `U_AB`, …).
    pub channels: Vec<String>,
    /// The reference voltage the thresholds were taken from at the start (Udin or the
    /// sliding reference), V.
    pub reference: f64,
    /// RVC: the largest absolute deviation of Urms(1/2) from the pre-event mean, V.
    pub delta_u_max: Option<f64>,
    /// RVC: the difference of the steady-state means after and before (after − before), V.
    pub delta_u_ss: Option<f64>,
    /// True when the event was cut by a gap or by the end of the recording (its duration
    /// and extreme cover only what was observed), or rests on missing samples.
    pub incomplete: bool,
    /// Where the disturbance came from, seen from the measuring point; `None` when it was
    /// not assessed (no current channels, or a front that does not hold the waveforms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionEstimate>,
}

/// Which side of the measuring point a disturbance came from, with the current counted
/// positive towards the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DisturbanceSide {
    /// On the supply side (a fault on the network feeding the point).
    Upstream,
    /// On the load side (a fault, a load or a capacitor switched beyond the point).
    Downstream,
    /// The method's checks did not allow a decision; [`DirectionEstimate::note`] says why.
    Undetermined,
}

impl DisturbanceSide {
    /// The name as `events.csv` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisturbanceSide::Upstream => "upstream",
            DisturbanceSide::Downstream => "downstream",
            DisturbanceSide::Undetermined => "undetermined",
        }
    }
}

/// How far a direction can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectionConfidence {
    /// No decision (the side is undetermined).
    None,
    /// The primary criterion holds but one check disagrees or the fit is loose.
    Medium,
    /// The primary criterion and every check agree.
    High,
}

impl DirectionConfidence {
    /// The name as `events.csv` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectionConfidence::None => "none",
            DirectionConfidence::Medium => "medium",
            DirectionConfidence::High => "high",
        }
    }
}

/// The direction of one event and the figures it was decided on (the method is in
/// `pqe_standards::direction`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectionEstimate {
    /// Upstream, downstream or undetermined.
    pub side: DisturbanceSide,
    /// High, medium, or none when undetermined.
    pub confidence: DirectionConfidence,
    /// Real part of the impedance the change saw, Z = −ΔU1/ΔI1 (positive sequence), Ω:
    /// positive when the disturbance is downstream (the change sees the supply), negative
    /// when upstream (it sees the load). NaN when not computed.
    pub resistance: f64,
    /// Imaginary part of that impedance, Ω.
    pub reactance: f64,
    /// How well ΔU1 = −Z·ΔI1 fits the event's cycles (1 = exactly).
    pub fit: f64,
    /// The current change relative to the pre-event spread of the current.
    pub current_step: f64,
    /// Why the side is undetermined or the confidence only medium; empty otherwise.
    pub note: String,
}

impl EventRecord {
    /// The phases the event involved, as `events.csv` writes them: the phase suffixes of
    /// the channels joined by `+` (`A`, `A+B+C`, `AB+CA`).
    pub fn phases_label(&self) -> String {
        self.channels
            .iter()
            .map(|c| phase_label(c))
            .collect::<Vec<_>>()
            .join("+")
    }

    /// Absolute end time.
    pub fn end(&self) -> crate::Timestamp {
        self.start.add_seconds(self.duration)
    }
}

/// Where to capture the waveform of an event: the event's span and the span with the
/// configured pre- and post-trigger cycles, as sample indices of the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureTrigger {
    /// The [`EventRecord::index`] of the event.
    pub event_index: u64,
    /// Its kind.
    pub kind: EventKind,
    /// First sample of the event.
    pub event_start_sample: u64,
    /// Sample after the event's end.
    pub event_end_sample: u64,
    /// First sample to capture (the event's start minus the pre-trigger cycles, not before
    /// sample 0).
    pub capture_start_sample: u64,
    /// Sample after the last to capture (the event's end plus the post-trigger cycles).
    pub capture_end_sample: u64,
    /// Absolute time of `capture_start_sample`.
    pub capture_start: crate::Timestamp,
    /// Absolute time of the event's start (the trigger).
    pub trigger: crate::Timestamp,
}

/// The aggregation period of an [`AggregateRecord`] (IEC 61000-4-30 Ed.3 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggregatePeriod {
    /// 150 cycles (50 Hz) or 180 cycles (60 Hz): 15 basic intervals, about 3 s.
    #[serde(rename = "3s")]
    ThreeSeconds,
    /// 10 min of the clock.
    #[serde(rename = "10min")]
    TenMinutes,
    /// 2 h of the clock (12 10-min values).
    #[serde(rename = "2h")]
    TwoHours,
}

impl AggregatePeriod {
    /// `3s`, `10min` or `2h`, as in `aggregates_<period>.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregatePeriod::ThreeSeconds => "3s",
            AggregatePeriod::TenMinutes => "10min",
            AggregatePeriod::TwoHours => "2h",
        }
    }
}

/// One aggregated value set (IEC 61000-4-30 Ed.3 4.5): the members' values combined per
/// column, flagged when a member was flagged (4.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRecord {
    /// 3 s, 10 min or 2 h.
    pub period: AggregatePeriod,
    /// Start, in seconds from the recording's start (for the clock-aligned periods the
    /// tick that opens the period, which may lie before the recording's start).
    pub t: f64,
    /// Absolute start.
    pub start: crate::Timestamp,
    /// Absolute end (for 10 min and 2 h the closing tick of the clock).
    pub end: crate::Timestamp,
    /// True when a member was flagged or the period was not fully observed.
    pub flagged: bool,
    /// A member was flagged (an event, missing samples, lost tracking, a gap).
    pub member_flagged: bool,
    /// False when the period was not fully observed (the recording started or ended inside
    /// it, or a gap cut it). A 3-s block shortened by the 10-min resynchronisation is
    /// complete; its `count` is below 15.
    pub complete: bool,
    /// Members aggregated (intervals for 3 s and 10 min, 10-min values for 2 h).
    pub count: usize,
    /// Aggregated values under the interval column names (without `t` and `flagged`).
    pub columns: Vec<(String, f64)>,
}

impl AggregateRecord {
    /// The record as a table row: `t`, `flagged` (1 or 0), then [`AggregateRecord::columns`].
    pub fn table_columns(&self) -> Vec<(String, f64)> {
        let mut out = Vec::with_capacity(self.columns.len() + 2);
        out.push(("t".to_string(), self.t));
        out.push(("flagged".to_string(), if self.flagged { 1.0 } else { 0.0 }));
        out.extend(self.columns.iter().cloned());
        out
    }

    /// A value by typed key (its column, [`QuantityKey::column`]).
    pub fn get(&self, key: &QuantityKey) -> Option<f64> {
        self.value(&key.column())
    }

    /// A value by column name.
    pub fn value(&self, column: &str) -> Option<f64> {
        self.columns
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statistics of one channel with missing samples, cut into blocks in many ways:
    /// the same bits every time, and the values of a plain one-pass reference.
    #[test]
    fn channel_statistics_do_not_depend_on_the_cut() {
        let x: Vec<f64> = (0..1003)
            .map(|i| {
                if i % 97 == 5 || i == 6 {
                    f64::NAN
                } else {
                    325.0 * (i as f64 * 0.0314).sin() + 0.5
                }
            })
            .collect();
        let whole = {
            let mut a = ChannelStatisticsAccumulator::new();
            a.push(&x);
            a.finish("U", "V")
        };
        for cut in [1usize, 2, 3, 5, 7, 64, 333, 1002] {
            let mut a = ChannelStatisticsAccumulator::new();
            x.chunks(cut).for_each(|c| a.push(c));
            let s = a.finish("U", "V");
            for (p, q) in [
                (s.rms, whole.rms),
                (s.mean, whole.mean),
                (s.min, whole.min),
                (s.max, whole.max),
            ] {
                assert_eq!(p.to_bits(), q.to_bits(), "cut {cut}");
            }
            assert_eq!((s.samples, s.missing), (whole.samples, whole.missing));
        }
        let present: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        let n = present.len() as f64;
        let mean = present.iter().sum::<f64>() / n;
        let rms = (present.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
        assert_eq!(whole.samples as usize, present.len());
        assert_eq!(whole.missing as usize, x.len() - present.len());
        assert!((whole.mean - mean).abs() < 1e-12 * 325.0);
        assert!((whole.rms - rms).abs() < 1e-12 * 325.0);
        let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((whole.min, whole.max), (lo, hi));
        assert_eq!(whole.peak, lo.abs().max(hi.abs()));
    }

    fn channel(column: &str, voltage: bool, harmonics: bool) -> ChannelInterval {
        ChannelInterval {
            column: column.into(),
            channel: format!("ch {column}"),
            rms: 1.0,
            peak: 2.0,
            crest_factor: 3.0,
            dc: 4.0,
            under_deviation: voltage.then_some(5.0),
            over_deviation: voltage.then_some(6.0),
            signalling: voltage.then_some(7.0),
            harmonics: harmonics.then(|| HarmonicValues {
                subgroups: vec![0.0; 64],
                interharmonic_subgroups: vec![0.0; 64],
                groups: vec![0.0; 64],
                interharmonic_groups: vec![0.0; 64],
                phases: vec![0.0; 64],
                thd: 8.0,
                thds: 9.0,
                thdg: 10.0,
                tdd: (!voltage).then_some(11.0),
                k_factor: (!voltage).then_some(12.0),
            }),
        }
    }

    /// The column names are a contract (ARCHITECTURE.md "Interfaces"): written out here
    /// as `intervals.csv` has always named them.
    #[test]
    fn interval_column_names_are_the_contract() {
        let system = [
            Quantity::NegativeSequenceUnbalance,
            Quantity::ZeroSequenceUnbalance,
        ];
        let phase = [
            Quantity::ActivePower,
            Quantity::FundamentalReactivePower,
            Quantity::ApparentPower,
            Quantity::PowerFactor,
            Quantity::DisplacementPowerFactor,
        ];
        let totals = [
            Quantity::ActivePower,
            Quantity::FundamentalReactivePower,
            Quantity::ApparentPower,
            Quantity::PowerFactor,
            Quantity::ArithmeticApparentPower,
            Quantity::PositiveSequenceActivePower,
            Quantity::PositiveSequenceReactivePower,
            Quantity::PositiveSequenceApparentPower,
            Quantity::EffectiveVoltage,
            Quantity::EffectiveCurrent,
        ];
        let mut quantities: Vec<(QuantityKey, f64)> = system
            .iter()
            .map(|&q| (QuantityKey::system(q), 0.0))
            .collect();
        quantities.extend(
            phase
                .iter()
                .map(|&q| (QuantityKey::phase(q, Phase::B), 0.0)),
        );
        quantities.extend(totals.iter().map(|&q| (QuantityKey::system(q), 0.0)));
        let record = IntervalRecord {
            index: 0,
            t: 0.0,
            start: crate::Timestamp::from_nanos(0),
            duration: 0.2,
            start_sample: 0.0,
            length_samples: 2048.0,
            cycles: 10,
            frequency: 50.0,
            flagged: false,
            flags: IntervalFlags::default(),
            channels: vec![
                channel("U_A", true, true),
                channel("I_N", false, true),
                channel("Temp 1", false, false),
            ],
            quantities,
        };
        let names: Vec<String> = record.columns().into_iter().map(|(n, _)| n).collect();
        let contract: Vec<&str> = vec![
            "t",
            "flagged",
            "f",
            "U_A",
            "PK_U_A",
            "CF_U_A",
            "DC_U_A",
            "UNDER_U_A",
            "OVER_U_A",
            "MSV_U_A",
            "PHI_U_A",
            "THD_U_A",
            "THDS_U_A",
            "THDG_U_A",
            "I_N",
            "PK_I_N",
            "CF_I_N",
            "DC_I_N",
            "PHI_I_N",
            "THD_I_N",
            "THDS_I_N",
            "THDG_I_N",
            "TDD_I_N",
            "K_I_N",
            "Temp 1",
            "PK_Temp 1",
            "CF_Temp 1",
            "DC_Temp 1",
            "u2",
            "u0",
            "P_B",
            "Q1_B",
            "S_B",
            "PF_B",
            "DPF_B",
            "P",
            "Q",
            "S",
            "PF",
            "S_arith",
            "P1pos",
            "Q1pos",
            "S1pos",
            "Ve",
            "Ie",
        ];
        assert_eq!(names, contract);
        // Every name parses back to its key, and each key addresses its value.
        let columns: Vec<String> = record.channels.iter().map(|c| c.column.clone()).collect();
        for (key, value) in record.values() {
            assert_eq!(
                QuantityKey::parse(&key.column(), &columns),
                Some(key.clone())
            );
            assert_eq!(record.value(&key), Some(value), "{key}");
        }
        assert_eq!(record.quantity("P_B"), Some(0.0));
        assert_eq!(
            channel_column(ChannelKind::Current, Phase::N).as_deref(),
            Some("I_N")
        );
        assert_eq!(flicker_column(FlickerSeverity::Plt, "U_AB"), "Plt_AB");
    }

    #[test]
    fn sine_statistics_are_analytic() {
        let n = 1000;
        let x: Vec<f64> = (0..n)
            .map(|i| 325.0 * (2.0 * std::f64::consts::PI * 5.0 * i as f64 / n as f64).sin())
            .collect();
        let mut acc = ChannelStatisticsAccumulator::new();
        acc.push(&x[..333]);
        acc.push(&[f64::NAN]);
        acc.push(&x[333..]);
        let s = acc.finish("U_A", "V");
        approx::assert_relative_eq!(s.rms, 325.0 / 2f64.sqrt(), max_relative = 1e-12);
        approx::assert_abs_diff_eq!(s.mean, 0.0, epsilon = 1e-9);
        approx::assert_relative_eq!(s.crest_factor, 2f64.sqrt(), max_relative = 1e-5);
        assert_eq!((s.samples, s.missing), (1000, 1));
    }
}
