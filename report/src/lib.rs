//! # pqe-report
//!
//! The analysis report: one self-contained HTML file.
//!
//! [`Report::render_html`] turns a [`ReportData`] — plain values the caller fills from the
//! analysis tables (column name → values) — into a single HTML document with inline CSS and
//! inline SVG charts drawn here: no JavaScript, no fonts or images fetched, nothing that
//! needs a network. It opens offline in any browser and prints.
//!
//! Sections, top-down:
//! 1. header: title, recording facts, the supply (Udin, f, wiring, I_L);
//! 2. trends of RMS voltage (and current), frequency, THD and flicker (Pst/Plt) against
//!    time, with flagged stretches (IEC 61000-4-30 4.7) shaded and the EN 50160 limits
//!    drawn as dashed lines; long series are reduced to min/max envelopes per pixel
//!    column, so a week of 10/12-cycle values stays a few hundred kilobytes;
//! 3. harmonic spectra per channel: mean and 95th-percentile bars per order against the
//!    limit of each order (EN 50160 Table 1 for voltages);
//! 4. events: an ITIC (CBEMA) and SEMI F47 scatter (duration on a log axis against the
//!    residual or peak voltage in % of Udin, with both curves drawn) and the event table;
//!    EN 50160 dip/swell count tables where given;
//! 5. a phasor diagram of the fundamentals with their values;
//! 6. compliance tables (EN 50160, IEEE 519) with coloured verdicts;
//! 7. supraharmonics, 2–150 kHz, when measured: a spectrogram per channel and the CENELEC
//!    band table with the EN 50065-1 limits and verdicts;
//! 8. notes.
//!
//! Every piece of text is escaped (channel names from files may hold `<` or `&`), and a
//! section without data says so instead of drawing an empty chart.

mod charts;
mod html;
mod metering;
mod supraharmonics;
mod svg;

pub use html::escape;
pub use svg::number;

use serde::{Deserialize, Serialize};

/// Facts about the recording for the header. Empty strings and `None` are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordingFacts {
    /// The source file or device.
    pub source: String,
    /// Absolute start time, as text (e.g. ISO 8601 UTC).
    pub start: String,
    /// Length in seconds.
    pub duration_seconds: Option<f64>,
    /// Sample rate in hertz.
    pub sample_rate: Option<f64>,
    /// Channel names and units, e.g. `U_A (V)`.
    pub channels: Vec<String>,
    /// Free (label, value) facts: analyzer version, options, …
    pub extra: Vec<(String, String)>,
}

/// The supply the recording was taken on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemFacts {
    /// Declared supply voltage Udin, volts.
    pub udin: f64,
    /// Nominal frequency, hertz.
    pub nominal_frequency: f64,
    /// Wiring (`wye`, `delta`, `single`).
    pub wiring: String,
    /// Maximum demand load current I_L, amperes.
    pub load_current: Option<f64>,
}

impl Default for SystemFacts {
    fn default() -> Self {
        SystemFacts {
            udin: 230.0,
            nominal_frequency: 50.0,
            wiring: "wye".to_string(),
            load_current: None,
        }
    }
}

/// A named time series: values at times `t` (seconds from the recording's start), each
/// possibly flagged. `values` and `flagged` are as long as `t`; a shorter `flagged` leaves
/// the rest unflagged. NaN values are gaps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend name (a column name such as `U_A`).
    pub name: String,
    /// Unit of the values (`V`, `Hz`, `%`, or empty).
    pub unit: String,
    /// Times, seconds from the recording's start, ascending.
    pub t: Vec<f64>,
    /// Values.
    pub values: Vec<f64>,
    /// Flags (IEC 61000-4-30 4.7).
    pub flagged: Vec<bool>,
}

impl Series {
    /// A series from table columns: `t`, the values, and optionally the `flagged` column as
    /// numbers (non-zero = flagged), as in `intervals.csv`.
    pub fn from_columns(
        name: impl Into<String>,
        unit: impl Into<String>,
        t: &[f64],
        values: &[f64],
        flagged: Option<&[f64]>,
    ) -> Series {
        let n = t.len().min(values.len());
        Series {
            name: name.into(),
            unit: unit.into(),
            t: t[..n].to_vec(),
            values: values[..n].to_vec(),
            flagged: flagged
                .map(|f| f.iter().take(n).map(|&x| x != 0.0 && !x.is_nan()).collect())
                .unwrap_or_default(),
        }
    }
    /// True when no value is finite.
    pub fn is_empty(&self) -> bool {
        !self.values.iter().any(|v| v.is_finite())
    }
    fn is_flagged(&self, i: usize) -> bool {
        self.flagged.get(i).copied().unwrap_or(false)
    }
}

/// The harmonic spectrum of one channel: per order, % of the fundamental (or of I_L).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Channel name.
    pub channel: String,
    /// What the percentages refer to, e.g. `% of U1` or `% of I_L`.
    pub reference: String,
    /// (order, mean %).
    pub mean: Vec<(usize, f64)>,
    /// (order, 95th percentile %).
    pub p95: Vec<(usize, f64)>,
    /// (order, limit %), drawn as a marker over each bar.
    pub limits: Vec<(usize, f64)>,
    /// Where the limits come from, e.g. `EN 50160 Table 1`.
    pub limit_source: String,
}

impl Spectrum {
    /// A spectrum from per-order columns, one value per interval in % (for a voltage, e.g.
    /// `H5 / H1 · 100` from `harmonics_<channel>.csv`): the mean and the 95th percentile
    /// (nearest rank: the value of rank ⌈0.95·N⌉ in ascending order) of each order over the
    /// intervals, leaving out flagged intervals (non-zero in `flagged`, as the `flagged`
    /// column of `intervals.csv`) and non-finite values. Orders without a usable value are
    /// left out. `limits` are drawn as marks, `limit_source` names them in the legend.
    pub fn from_columns(
        channel: impl Into<String>,
        reference: impl Into<String>,
        orders: &[(usize, &[f64])],
        flagged: Option<&[f64]>,
        limits: Vec<(usize, f64)>,
        limit_source: impl Into<String>,
    ) -> Spectrum {
        let mut mean = Vec::new();
        let mut p95 = Vec::new();
        for (order, values) in orders {
            let mut used: Vec<f64> = values
                .iter()
                .enumerate()
                .filter(|(i, v)| {
                    v.is_finite()
                        && !flagged
                            .and_then(|f| f.get(*i))
                            .is_some_and(|x| *x != 0.0 && !x.is_nan())
                })
                .map(|(_, v)| *v)
                .collect();
            if used.is_empty() {
                continue;
            }
            used.sort_by(f64::total_cmp);
            let n = used.len();
            mean.push((*order, used.iter().sum::<f64>() / n as f64));
            // ⌈0.95·N⌉ in integers: (95·N + 99) / 100.
            let rank = ((95 * n).div_ceil(100)).clamp(1, n);
            p95.push((*order, used[rank - 1]));
        }
        Spectrum {
            channel: channel.into(),
            reference: reference.into(),
            mean,
            p95,
            limits,
            limit_source: limit_source.into(),
        }
    }
}

/// One voltage event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// `dip`, `swell`, `interruption`, `rvc`.
    pub kind: String,
    /// Start, seconds from the recording's start.
    pub start: f64,
    /// Absolute start as text, when known.
    pub start_text: String,
    /// Duration, seconds.
    pub duration: f64,
    /// Residual (dips, interruptions) or peak (swells) voltage, % of Udin.
    pub extreme_percent: f64,
    /// Phases involved, e.g. `A B`.
    pub phases: String,
    /// Where the disturbance came from and how sure that is (`downstream (high)`);
    /// empty when not assessed.
    #[serde(default)]
    pub direction: String,
}

/// The fundamental phasor of one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phasor {
    /// Channel name (`U_A`, `I_A`, …).
    pub channel: String,
    /// Unit (`V` or `A`): voltages and currents are scaled separately.
    pub unit: String,
    /// RMS magnitude.
    pub magnitude: f64,
    /// Angle in degrees relative to U_A, counter-clockwise positive.
    pub angle_degrees: f64,
}

/// The verdict shown in a compliance row: the standards' own
/// ([`pqe_standards::limits::Verdict`]), so a report never translates one verdict into
/// another.
pub use pqe_standards::limits::Verdict;

/// One row of a compliance table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceRow {
    /// What is judged.
    pub criterion: String,
    /// The limit in words.
    pub limit: String,
    /// What was measured.
    pub measured: String,
    /// What the standard requires (share of values, statistic).
    pub required: String,
    /// The verdict.
    pub verdict: Verdict,
    /// A note (short observation, flagged values, …).
    pub note: String,
}

impl ComplianceRow {
    /// From five strings: criterion, limit, measured, required, verdict word.
    pub fn from_strings(cells: [String; 5]) -> ComplianceRow {
        let [criterion, limit, measured, required, verdict] = cells;
        ComplianceRow {
            criterion,
            limit,
            measured,
            required,
            verdict: Verdict::parse(&verdict),
            note: String::new(),
        }
    }
}

/// A compliance table (one standard).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceTable {
    /// Title, e.g. `EN 50160:2010 (LV)`.
    pub title: String,
    /// Lines under the title (edition, classes used, observation length).
    pub notes: Vec<String>,
    /// The overall verdict.
    pub overall: Verdict,
    /// The rows.
    pub rows: Vec<ComplianceRow>,
}

/// A table of counts, e.g. the EN 50160 dip table (residual voltage × duration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountTable {
    /// Title.
    pub title: String,
    /// Header of the row labels' column, e.g. `u (% of Udin)`.
    pub corner: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub columns: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
    /// A line under the table (e.g. events outside the table).
    pub note: String,
}

/// Everything the report shows. Fill what the analysis produced; empty parts render as
/// a sentence saying what is missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// Title of the page.
    pub title: String,
    /// Recording facts.
    pub recording: RecordingFacts,
    /// The supply.
    pub system: SystemFacts,
    /// RMS voltages per channel (10/12-cycle or aggregated values), volts.
    pub rms_voltage: Vec<Series>,
    /// RMS currents per channel, amperes.
    pub rms_current: Vec<Series>,
    /// Frequency (10-s values), hertz.
    pub frequency: Vec<Series>,
    /// THD per channel, %.
    pub thd: Vec<Series>,
    /// Pst per phase.
    pub pst: Vec<Series>,
    /// Plt per phase.
    pub plt: Vec<Series>,
    /// Harmonic spectra.
    pub spectra: Vec<Spectrum>,
    /// Events.
    pub events: Vec<EventRow>,
    /// Event count tables (EN 50160 dips, swells).
    pub event_tables: Vec<CountTable>,
    /// Fundamental phasors.
    pub phasors: Vec<Phasor>,
    /// Compliance tables.
    pub compliance: Vec<ComplianceTable>,
    /// Free notes at the end.
    pub notes: Vec<String>,
    /// Parts of the analysis that were switched off (`"harmonics"`, `"flicker"`,
    /// `"events"`, `"half_cycle"`, `"aggregation"`): their sections say so instead of
    /// reading as "nothing found".
    #[serde(default)]
    pub switched_off: Vec<String>,
    /// The supraharmonics section (2–150 kHz), when the analysis measured them.
    #[serde(default)]
    pub supraharmonics: Option<SupraharmonicSection>,
    /// The meter quantities: energy, demand, min/max, alarms, motor derating.
    #[serde(default)]
    pub metering: Option<MeteringSection>,
}

/// What a meter keeps beside the power-quality values: energy registers, maximum demand,
/// min/max, alarms, and the NEMA MG 1 motor derating of the supply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeteringSection {
    /// Energy over the whole recording per phase and in total.
    pub energy: Vec<EnergyRow>,
    /// The energy table's logging period, s.
    pub energy_period_s: f64,
    /// Maximum demand per quantity.
    pub demand: Vec<DemandRow>,
    /// How demand was computed ("Block demand over 15 min").
    pub demand_description: String,
    /// Overall min/max of the main quantities.
    pub minmax: Vec<MinMaxRow>,
    /// The min/max table's logging period, s.
    pub minmax_period_s: f64,
    /// Alarms that happened.
    pub alarms: Vec<AlarmRow>,
    /// Setpoints configured.
    pub alarm_setpoints: usize,
    /// Motor derating inputs, when three voltages with harmonics were measured.
    pub motor: Option<MotorDerating>,
    /// Sentences under the section.
    pub notes: Vec<String>,
}

/// Energy of one phase or of the system over the recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyRow {
    /// `A`, `B`, `C` or `total`.
    pub channel: String,
    /// Active energy imported, kWh.
    pub active_delivered_kwh: f64,
    /// Active energy exported, kWh.
    pub active_received_kwh: f64,
    /// Fundamental reactive energy, quadrants I + II, kvarh (NaN: not measured).
    pub reactive_positive_kvarh: f64,
    /// Fundamental reactive energy, quadrants III + IV, kvarh (NaN: not measured).
    pub reactive_negative_kvarh: f64,
    /// Apparent energy, kVAh.
    pub apparent_kvah: f64,
    /// Hours integrated.
    pub hours: f64,
}

/// The maximum demand of one quantity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DemandRow {
    /// The quantity (`P`, `I_A`, …).
    pub quantity: String,
    /// Its largest complete demand.
    pub value: f64,
    /// End of that demand interval.
    pub end: String,
    /// The other quantities' demand in that interval.
    pub coincident: String,
}

/// Overall extremes of one quantity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinMaxRow {
    /// The quantity.
    pub quantity: String,
    /// Smallest 10/12-cycle value.
    pub min: f64,
    /// When (the interval's start).
    pub min_at: String,
    /// Largest value.
    pub max: f64,
    /// When.
    pub max_at: String,
}

/// One alarm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmRow {
    /// The setpoint's name.
    pub name: String,
    /// Its quantity.
    pub quantity: String,
    /// `info`, `low`, `medium`, `high`.
    pub priority: String,
    /// Start.
    pub start: String,
    /// End (`None`: still active when the recording ended).
    pub end: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    /// The most extreme value while active.
    pub extreme: f64,
}

/// The motor derating of NEMA MG 1 for the supply measured: the curves and one operating
/// point per logging period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MotorDerating {
    /// Per logging period: the mean percent voltage unbalance and HVF.
    pub points: Vec<DeratingPoint>,
    /// (percent unbalance, derating factor), MG 1 Part 14 (read from the figure).
    pub unbalance_curve: Vec<(f64, f64)>,
    /// (HVF, derating factor), MG 1 Part 30: unverified.
    pub hvf_curve_unverified: Vec<(f64, f64)>,
    /// The largest period value of the unbalance, %.
    pub worst_unbalance_percent: Option<f64>,
    /// Its derating factor (`None` above 5 %: operation not recommended).
    pub unbalance_derating: Option<f64>,
    /// The largest period value of the HVF.
    pub worst_hvf: Option<f64>,
    /// Its derating factor from the unverified curve.
    pub hvf_derating_unverified: Option<f64>,
    /// Whether the line-to-line voltages were measured (delta) rather than computed from
    /// the phase voltages' fundamental phasors.
    pub from_delta: bool,
}

/// One logging period's motor-derating inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeratingPoint {
    /// Start of the period.
    pub start: String,
    /// Mean percent voltage unbalance (NEMA MG 1 definition).
    pub unbalance_percent: f64,
    /// Mean harmonic voltage factor of the worst phase.
    pub hvf: f64,
}

/// The supraharmonics of a recording, 2–150 kHz: a spectrogram per channel and the
/// CENELEC band table (EN 50065-1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupraharmonicSection {
    /// One spectrogram per channel.
    pub spectrograms: Vec<Spectrogram>,
    /// One row per voltage channel and CENELEC band.
    pub bands: Vec<PlcBandRow>,
    /// Sentences under the section (parts off and why, gaps).
    pub notes: Vec<String>,
}

/// Band levels over time: rows are frequency bands (ascending), columns stretches of time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spectrogram {
    /// The channel.
    pub channel: String,
    /// The unit of `levels` (`dBµV`, `dBµA`).
    pub unit: String,
    /// Centre of each row, Hz, ascending.
    pub frequencies: Vec<f64>,
    /// Start of each column, seconds from the recording's start.
    pub t: Vec<f64>,
    /// Length of every column, s.
    pub column_seconds: f64,
    /// `levels[column][row]` in `unit`; NaN where nothing was measured.
    pub levels: Vec<Vec<f64>>,
    /// How a column combines the intervals it covers (e.g. "maximum of the 0.2-s values").
    pub combine: String,
}

/// One CENELEC band of one channel over the whole recording, against its EN 50065-1 limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlcBandRow {
    /// The channel.
    pub channel: String,
    /// Band letter (`A` … `D`).
    pub band: String,
    /// Band edges as text (`3–95 kHz`).
    pub range: String,
    /// Highest 0.2-s level while a transmitter was active, dBµV (NaN: never active).
    pub level_dbuv: f64,
    /// Largest 5-ms window, dBµV.
    pub peak_dbuv: f64,
    /// Share of the recording's windows that were active, %.
    pub active_percent: f64,
    /// PLC systems recognised (`G3-OFDM`, `G1-SFSK`), comma-separated; empty if none.
    pub signal: String,
    /// The strongest carriers, as text.
    pub carriers: String,
    /// The EN 50065-1 limit, dBµV.
    pub limit_dbuv: f64,
    /// The limit's equipment class and source.
    pub limit_source: String,
    /// Whether the limit was checked against a primary source.
    pub limit_verified: bool,
    /// The level against the limit.
    pub verdict: Verdict,
}

impl ReportData {
    /// True when the part with this key was switched off.
    pub fn is_off(&self, part: &str) -> bool {
        self.switched_off.iter().any(|p| p == part)
    }
}

/// The HTML report renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Report;

impl Report {
    /// Render the whole report as one self-contained HTML document.
    pub fn render_html(data: &ReportData) -> String {
        html::render(data)
    }
}
