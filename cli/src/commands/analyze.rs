//! `pqe analyze`: measure a recording as an IEC 61000-4-30 Class A instrument does and write
//! the results into a folder:
//!
//! - `intervals.csv`: one row per 10/12-cycle interval (`t`, `flagged`, `f`, then per
//!   channel RMS, peak, crest factor, DC, deviations, THD…, then unbalance and powers);
//! - `frequency.csv`: the 10-s frequency (`t`, `f`, `flagged`);
//! - `harmonics_<channel>.csv`: harmonic subgroups `H0`…`H63` and interharmonic centred
//!   subgroups `IH0`…`IH63` per interval, in the channel's unit;
//! - `aggregates_3s.csv`, `aggregates_10min.csv`, `aggregates_2h.csv`: 150/180-cycle,
//!   10-min and 2-h aggregates (`t`, `flagged`, then the interval columns);
//! - `flicker.csv`: Pst per voltage channel every 10 min of the clock (`t`, `flagged`,
//!   `Pst_A`, …) and Plt where a 2-h period closes (`Plt_A`, …);
//! - `events.csv`: dips, swells, interruptions and RVCs (`kind`, `start`, `duration`,
//!   `extreme`, `phases`, then details), and a COMTRADE capture of each under `captures/`;
//! - `report.html`: a self-contained report (trends, spectra, events on ITIC/SEMI F47,
//!   phasors, compliance) and `compliance.json`: the EN 50160 and IEEE 519 assessments;
//! - `urms_half_cycle.csv` with `--half-cycle`: the Urms(1/2) series;
//! - `statistics.csv`: per-channel RMS, mean, extremes and missing samples over the whole
//!   recording;
//! - `summary.json` (schema `pqe.summary/1`).
//!
//! `t` is seconds from the recording's start.
//!
//! Parts of the analysis can be switched off ([`Switches`]): `--no-harmonics` (no
//! `harmonics_*.csv`, no spectral columns; P, S and PF come from the time domain),
//! `--no-flicker` (no `flicker.csv`), `--no-events` (no `events.csv`, no captures, no
//! flagging), `--no-half-cycle` (no Urms(1/2); needs `--no-events`), `--no-aggregation` (no
//! `aggregates_*.csv`) and `--basic` (RMS, power, frequency and aggregates: the first four
//! at once). summary.json lists them under `analysis`; the assessments whose inputs are
//! off say `not assessed (… switched off)`.

use super::for_each_block;
use crate::capture::{CaptureFile, CaptureRecorder};
use crate::mapping::{self, ChannelMapping};
use crate::report::{ComplianceSettings, ReportCollector};
use crate::table::{cell, file_safe, CsvTable};
use anyhow::{bail, Context, Result};
use pqe_core::record::{
    flicker_table, ChannelStatistics, ChannelStatisticsAccumulator, EventRecord, FlickerRecord,
    FrequencyRecord, IntervalRecord, Record,
};
use pqe_core::{NominalFrequency, RecordingInfo, SystemConfig, Wiring};
use pqe_standards::events::EventOptions;
use pqe_standards::ieee519::Edition;
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of summary.json's layout; bumped when a field changes meaning.
pub const SUMMARY_SCHEMA: &str = "pqe.summary/1";

/// Arguments of `pqe analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording (.cfg, .dat, .cff, .csv, .h5).
    pub input: PathBuf,
    /// Folder for the results (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub settings: Settings,
}

/// How to analyse: the supply, the channels, the thresholds (shared with `pqe batch`).
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Declared input voltage Udin in volts (phase-to-neutral for wye/single, line-to-line
    /// for delta).
    #[arg(long, default_value_t = 230.0)]
    pub nominal_voltage: f64,
    /// Nominal frequency: 50 or 60 Hz.
    #[arg(long, default_value_t = 50.0)]
    pub nominal_frequency: f64,
    /// Wiring: wye, delta or single.
    #[arg(long, default_value = "wye")]
    pub wiring: Wiring,
    /// Maximum demand load current I_L in amperes (IEEE 519 TDD).
    #[arg(long)]
    pub load_current: Option<f64>,
    /// What a channel measures, when the file does not say: FILE_CHANNEL=ROLE, ROLE an IEC
    /// symbol such as U_A, U_AB, I_N (or `ignore`). Repeat for several channels.
    #[arg(long = "map")]
    pub map: Vec<ChannelMapping>,
    /// Highest harmonic order in THD sums (IEC 61000-4-7 uses 40 or 50).
    #[arg(long, default_value_t = 50)]
    pub thd_order: usize,
    /// Mains signalling frequency to measure (IEC 61000-4-30 5.10), in hertz.
    #[arg(long)]
    pub signalling_frequency: Option<f64>,
    /// Skip harmonics, interharmonics, THD, phase angles, the phasor powers (Q1, DPF,
    /// positive sequence) and unbalance; P, S and PF are then integrated in the time
    /// domain (the basic chain).
    #[arg(long)]
    pub no_harmonics: bool,
    /// Skip flicker (IEC 61000-4-15): no Pst, no Plt, no flicker.csv.
    #[arg(long)]
    pub no_flicker: bool,
    /// Skip dips, swells, interruptions and RVCs (IEC 61000-4-30 5.4, 5.5): no events.csv,
    /// no captures, and no value is flagged for them (4.7).
    #[arg(long)]
    pub no_events: bool,
    /// Skip the Urms(1/2) values (5.4.2). Events are detected on them, so this needs
    /// --no-events as well.
    #[arg(long)]
    pub no_half_cycle: bool,
    /// Skip the 150/180-cycle, 10-min and 2-h aggregates (4.5): no aggregates_*.csv.
    #[arg(long)]
    pub no_aggregation: bool,
    /// The basic chain, RMS, power, frequency and aggregates only: the same as
    /// --no-harmonics --no-flicker --no-events --no-half-cycle.
    #[arg(long)]
    pub basic: bool,
    /// Also write the Urms(1/2) series (urms_half_cycle.csv).
    #[arg(long, conflicts_with_all = ["no_half_cycle", "basic"])]
    pub half_cycle: bool,
    /// Dip threshold in % of Udin (IEC 61000-4-30 5.4.2).
    #[arg(long, default_value_t = 90.0)]
    pub dip_threshold: f64,
    /// Swell threshold in % of Udin (5.4.3).
    #[arg(long, default_value_t = 110.0)]
    pub swell_threshold: f64,
    /// Interruption threshold in % of Udin (5.4.4).
    #[arg(long, default_value_t = 10.0)]
    pub interruption_threshold: f64,
    /// Hysteresis of the dip, swell and interruption thresholds, in % of Udin.
    #[arg(long, default_value_t = 2.0)]
    pub hysteresis: f64,
    /// Judge dips and swells against the sliding reference voltage instead of Udin (5.4.4
    /// option for MV/HV).
    #[arg(long)]
    pub sliding_reference: bool,
    /// RVC threshold in % of Udin (5.5).
    #[arg(long, default_value_t = 3.0)]
    pub rvc_threshold: f64,
    /// Cycles captured before each event's start.
    #[arg(long, default_value_t = 10.0)]
    pub capture_pre_cycles: f64,
    /// Cycles captured after each event's end.
    #[arg(long, default_value_t = 10.0)]
    pub capture_post_cycles: f64,
    /// Most event captures written (the rest are counted in summary.json).
    #[arg(long, default_value_t = 200)]
    pub max_captures: usize,
    /// IEEE 519 edition: 2014 or 2022.
    #[arg(long, default_value_t = 2022)]
    pub ieee519_edition: u16,
    /// Short-circuit current at the point of common coupling, in amperes (IEEE 519 Isc/I_L
    /// with --load-current).
    #[arg(long)]
    pub short_circuit_current: Option<f64>,
    /// Give EN 50160 and IEEE 519 verdicts for observations shorter than their week (day).
    #[arg(long)]
    pub allow_short_observation: bool,
}

/// The parts of the analysis switched on (all by default); see [`Settings::switches`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    /// Harmonics, interharmonics, THD, phasor powers, unbalance.
    pub harmonics: bool,
    /// Flicker (Pst, Plt).
    pub flicker: bool,
    /// Dips, swells, interruptions, RVCs, event flagging, captures.
    pub events: bool,
    /// Urms(1/2) values.
    pub half_cycle: bool,
    /// 150/180-cycle, 10-min and 2-h aggregates.
    pub aggregation: bool,
}

/// A part of the analysis that a switch turns off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `--no-harmonics`.
    Harmonics,
    /// `--no-flicker`.
    Flicker,
    /// `--no-events`.
    Events,
    /// `--no-half-cycle`.
    HalfCycle,
    /// `--no-aggregation`.
    Aggregation,
}

impl Part {
    /// Every part, in the order of the options.
    pub const ALL: [Part; 5] = [
        Part::Harmonics,
        Part::Flicker,
        Part::Events,
        Part::HalfCycle,
        Part::Aggregation,
    ];

    /// Its name in summary.json and compliance.json (`harmonics`, `half_cycle`, …).
    pub fn key(self) -> &'static str {
        match self {
            Part::Harmonics => "harmonics",
            Part::Flicker => "flicker",
            Part::Events => "events",
            Part::HalfCycle => "half_cycle",
            Part::Aggregation => "aggregation",
        }
    }

    /// Its name in sentences.
    pub fn words(self) -> &'static str {
        match self {
            Part::Harmonics => "harmonics",
            Part::Flicker => "flicker",
            Part::Events => "events",
            Part::HalfCycle => "Urms(1/2)",
            Part::Aggregation => "aggregation",
        }
    }

    /// The option that switches it off.
    pub fn flag(self) -> &'static str {
        match self {
            Part::Harmonics => "--no-harmonics",
            Part::Flicker => "--no-flicker",
            Part::Events => "--no-events",
            Part::HalfCycle => "--no-half-cycle",
            Part::Aggregation => "--no-aggregation",
        }
    }
}

impl Switches {
    /// Whether `part` is computed.
    pub fn on(&self, part: Part) -> bool {
        match part {
            Part::Harmonics => self.harmonics,
            Part::Flicker => self.flicker,
            Part::Events => self.events,
            Part::HalfCycle => self.half_cycle,
            Part::Aggregation => self.aggregation,
        }
    }

    /// The parts switched off, in option order.
    pub fn off(&self) -> Vec<Part> {
        Part::ALL.into_iter().filter(|&p| !self.on(p)).collect()
    }

    /// `not assessed (harmonics and aggregation switched off)` when any of `needs` is off.
    pub fn not_assessed(&self, needs: &[Part]) -> Option<String> {
        let off: Vec<&str> = needs
            .iter()
            .filter(|&&p| !self.on(p))
            .map(|p| p.words())
            .collect();
        if off.is_empty() {
            return None;
        }
        Some(format!("not assessed ({} switched off)", off.join(" and ")))
    }
}

impl Settings {
    /// What to compute, from `--basic` and the `--no-…` options. `--no-half-cycle` without
    /// `--no-events` is an error (events are detected on the Urms(1/2) values); `--basic`
    /// implies both.
    pub fn switches(&self) -> Result<Switches> {
        let switches = Switches {
            harmonics: !(self.no_harmonics || self.basic),
            flicker: !(self.no_flicker || self.basic),
            events: !(self.no_events || self.basic),
            half_cycle: !(self.no_half_cycle || self.basic),
            aggregation: !self.no_aggregation,
        };
        if switches.events && !switches.half_cycle {
            bail!(
                "--no-half-cycle needs --no-events as well: dips, swells, interruptions and \
                 RVCs are detected on the Urms(1/2) values (or use --basic, which turns both \
                 off)"
            );
        }
        Ok(switches)
    }
}

/// Run `pqe analyze`.
pub fn run(args: Args) -> Result<()> {
    let summary = analyze_file(&args.input, &args.out, &args.settings, true)?;
    eprintln!("pqe: {} → {}", one_line(&summary), args.out.display());
    Ok(())
}

/// A one-line account of an analysis, from its summary.
pub fn one_line(summary: &serde_json::Value) -> String {
    let on = |key: &str| summary["analysis"][key].as_bool() != Some(false);
    let flicker = if on("flicker") {
        format!(
            "{} flicker values",
            summary["flicker"].as_array().map_or(0, Vec::len)
        )
    } else {
        "flicker off".to_string()
    };
    let events = if on("events") {
        format!("{} events", summary["events"]["count"])
    } else {
        "events off".to_string()
    };
    format!(
        "{} samples of {} channels: {} intervals ({} flagged), {} 10-s frequency values, \
         {flicker}, {events}",
        summary["recording"]["samples"],
        summary["recording"]["channels"]
            .as_array()
            .map_or(0, Vec::len),
        summary["intervals"]["count"],
        summary["intervals"]["flagged"],
        summary["frequency_10s"]["values"],
    )
}

/// Analyse `input` into the folder `out` and return the summary (also written as
/// summary.json). `progress` shows a progress bar on a terminal.
pub fn analyze_file(
    input: &Path,
    out: &Path,
    args: &Settings,
    progress: bool,
) -> Result<serde_json::Value> {
    let switches = args.switches()?;
    let config = SystemConfig {
        nominal_frequency: NominalFrequency::from_hz(args.nominal_frequency)?,
        udin: args.nominal_voltage,
        wiring: args.wiring,
        load_current: args.load_current,
    };
    config.validate()?;
    let mut reader =
        pqe_io::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let mut info = reader.info().clone();
    mapping::apply(&mut info.channels, &args.map)?;
    if info.sample_rate <= 0.0 || info.rate_segments.len() > 1 {
        bail!(
            "{}: the analysis needs one constant sampling rate; this recording is {}",
            input.display(),
            if info.sample_rate <= 0.0 {
                "timed sample by sample (rate 0)".to_string()
            } else {
                format!("sampled at {} rates", info.rate_segments.len())
            }
        );
    }
    let defaults = EventOptions::default();
    let events = EventOptions {
        dip_threshold: args.dip_threshold,
        dip_hysteresis: args.hysteresis,
        swell_threshold: args.swell_threshold,
        swell_hysteresis: args.hysteresis,
        interruption_threshold: args.interruption_threshold,
        interruption_hysteresis: args.hysteresis,
        sliding_reference: args.sliding_reference,
        rvc_threshold: args.rvc_threshold,
        rvc_hysteresis: (args.rvc_threshold / 2.0).min(defaults.rvc_hysteresis),
        capture_pre_cycles: args.capture_pre_cycles,
        capture_post_cycles: args.capture_post_cycles,
        enabled: switches.events,
        ..defaults
    };
    events.validate()?;
    let options = AnalyzerOptions {
        harmonics: switches.harmonics,
        // Urms(1/2) feeds the event detector; it is written only on request.
        half_cycle: switches.half_cycle,
        thd_max_order: args.thd_order,
        signalling_frequency: args.signalling_frequency,
        events,
        aggregation: switches.aggregation,
        flicker: switches.flicker,
        ..AnalyzerOptions::default()
    };
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        config.clone(),
        options,
    )
    .with_context(|| format!("cannot analyze {}", input.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;

    let capture_cycles = args.capture_pre_cycles + args.capture_post_cycles;
    let captures = CaptureRecorder::new(
        out,
        &info,
        capture_cycles / config.nominal_frequency.hz(),
        args.max_captures,
    );
    let edition = match args.ieee519_edition {
        2014 => Edition::E2014,
        2022 => Edition::E2022,
        other => bail!("--ieee519-edition must be 2014 or 2022, not {other}"),
    };
    let report = ReportCollector::new(
        analyzer.columns(),
        &info.channels,
        &config,
        info.start,
        switches,
    );
    let mut outputs = Outputs::new(
        out,
        analyzer.columns().to_vec(),
        args.half_cycle,
        captures,
        report,
    );
    let mut acc = vec![ChannelStatisticsAccumulator::new(); info.channels.len()];
    let mut samples = 0u64;
    for_each_block(reader.as_mut(), "analysing", progress, |b| {
        for (a, ch) in acc.iter_mut().zip(b.channels()) {
            a.push(ch);
        }
        samples += b.len() as u64;
        if switches.events {
            outputs.captures.push(b)?;
        }
        analyzer.push(b)?;
        for r in analyzer.drain() {
            outputs.write(r)?;
        }
        Ok(())
    })
    .with_context(|| format!("analysing {}", input.display()))?;
    analyzer.finish();
    for r in analyzer.drain() {
        outputs.write(r)?;
    }
    let stats: Vec<ChannelStatistics> = acc
        .iter()
        .zip(analyzer.columns())
        .zip(&info.channels)
        .map(|((a, col), c)| a.finish(col, c.unit.trim()))
        .collect();
    write_statistics_csv(&out.join("statistics.csv"), &stats)?;
    let (tables, report) = outputs.finish()?;
    let duration = samples as f64 / info.sample_rate;
    let settings = ComplianceSettings {
        ieee519_edition: edition,
        short_circuit_current: args.short_circuit_current,
        allow_short_observation: args.allow_short_observation,
    };
    let source = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (report_data, compliance) =
        report.finish(&source, duration, info.sample_rate, &settings)?;
    let path = out.join("report.html");
    std::fs::write(&path, crate::report::render(&report_data))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let path = out.join("compliance.json");
    std::fs::write(&path, serde_json::to_string_pretty(&compliance)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut summary = summary_json(
        input,
        &config,
        &info,
        samples,
        analyzer.columns(),
        &stats,
        &tables,
    );
    // What was computed, so a reader knows an empty table from a part switched off.
    summary["analysis"] = Part::ALL
        .iter()
        .map(|&p| (p.key().to_string(), serde_json::json!(switches.on(p))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let path = out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(summary)
}

/// What the tables hold once written, for the summary.
#[derive(Debug, Default)]
struct TableSummary {
    intervals: u64,
    flagged_intervals: u64,
    /// Sum and count of each interval column over unflagged intervals.
    interval_means: BTreeMap<String, (f64, u64)>,
    frequency: Vec<FrequencyRecord>,
    flicker: Vec<FlickerRecord>,
    events: Vec<EventRecord>,
    aggregates: BTreeMap<&'static str, (u64, u64)>,
    captures: Vec<CaptureFile>,
    captures_skipped: usize,
    files: Vec<String>,
}

/// The result tables of one analysis, opened as their first record arrives.
struct Outputs {
    dir: PathBuf,
    columns: Vec<String>,
    write_half_cycle: bool,
    intervals: Option<CsvTable>,
    frequency: Option<CsvTable>,
    half_cycle: Option<CsvTable>,
    harmonics: BTreeMap<String, CsvTable>,
    aggregates: BTreeMap<&'static str, CsvTable>,
    events: Option<CsvTable>,
    captures: CaptureRecorder,
    report: ReportCollector,
    summary: TableSummary,
}

impl Outputs {
    fn new(
        dir: &Path,
        columns: Vec<String>,
        write_half_cycle: bool,
        captures: CaptureRecorder,
        report: ReportCollector,
    ) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            columns,
            write_half_cycle,
            intervals: None,
            frequency: None,
            half_cycle: None,
            harmonics: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            events: None,
            captures,
            report,
            summary: TableSummary::default(),
        }
    }

    fn write(&mut self, record: Record) -> Result<()> {
        match record {
            Record::Interval(r) => {
                self.report.interval(&r);
                self.write_interval(&r)
            }
            Record::Frequency(r) => {
                if self.frequency.is_none() {
                    let cols = ["t", "f", "flagged"].map(String::from).to_vec();
                    self.frequency = Some(CsvTable::create(&self.dir.join("frequency.csv"), cols)?);
                }
                let table = self.frequency.as_mut().expect("opened above");
                table.write_numbers([r.t, r.frequency, flag(r.flagged)])?;
                self.report.frequency(&r);
                self.summary.frequency.push(r);
                Ok(())
            }
            Record::HalfCycle(r) if self.write_half_cycle => {
                if self.half_cycle.is_none() {
                    let mut cols = ["t", "duration", "rising", "flagged"]
                        .map(String::from)
                        .to_vec();
                    cols.extend(self.columns.iter().cloned());
                    let path = self.dir.join("urms_half_cycle.csv");
                    self.half_cycle = Some(CsvTable::create(&path, cols)?);
                }
                let row = [r.t, r.duration, flag(r.rising), flag(r.flagged)];
                let table = self.half_cycle.as_mut().expect("opened above");
                table.write_numbers(row.into_iter().chain(r.rms.iter().copied()))
            }
            Record::Aggregate(r) => {
                self.report.aggregate(&r);
                let name = r.period.as_str();
                let row = r.table_columns();
                if !self.aggregates.contains_key(name) {
                    let path = self.dir.join(format!("aggregates_{name}.csv"));
                    let cols = row.iter().map(|(c, _)| c.clone()).collect();
                    self.aggregates.insert(name, CsvTable::create(&path, cols)?);
                }
                self.aggregates
                    .get_mut(name)
                    .expect("inserted above")
                    .write_named(&row)?;
                let e = self.summary.aggregates.entry(name).or_insert((0, 0));
                e.0 += 1;
                e.1 += u64::from(r.flagged);
                Ok(())
            }
            Record::Flicker(r) => {
                self.report.flicker(&r);
                self.summary.flicker.push(r);
                Ok(())
            }
            Record::Event(e) => self.write_event(e),
            Record::CaptureTrigger(t) => {
                let event = self
                    .summary
                    .events
                    .iter()
                    .find(|e| e.index == t.event_index);
                self.captures.trigger(t, event)
            }
            _ => Ok(()),
        }
    }

    fn write_event(&mut self, e: EventRecord) -> Result<()> {
        if self.events.is_none() {
            let cols = [
                "kind",
                "start",
                "duration",
                "extreme",
                "phases",
                "start_time",
                "extreme_percent",
                "reference",
                "delta_u_max",
                "delta_u_ss",
                "incomplete",
                "channel_extremes",
            ];
            let table = CsvTable::create(
                &self.dir.join("events.csv"),
                cols.map(String::from).to_vec(),
            )?;
            self.events = Some(table);
        }
        let extremes: Vec<String> = e
            .channel_extremes
            .iter()
            .map(|(c, v)| format!("{c}={}", cell(*v)))
            .collect();
        let cells = vec![
            e.kind.as_str().to_string(),
            cell(e.t),
            cell(e.duration),
            cell(e.extreme),
            e.phases_label(),
            e.start.to_string(),
            cell(100.0 * e.extreme / e.reference),
            cell(e.reference),
            e.delta_u_max.map_or_else(String::new, cell),
            e.delta_u_ss.map_or_else(String::new, cell),
            u8::from(e.incomplete).to_string(),
            extremes.join(" "),
        ];
        self.events
            .as_mut()
            .expect("opened above")
            .write_text(&cells)?;
        self.report.event(&e);
        self.summary.events.push(e);
        Ok(())
    }

    fn write_interval(&mut self, r: &IntervalRecord) -> Result<()> {
        let row = r.columns();
        if self.intervals.is_none() {
            let cols = row.iter().map(|(c, _)| c.clone()).collect();
            self.intervals = Some(CsvTable::create(&self.dir.join("intervals.csv"), cols)?);
        }
        self.intervals
            .as_mut()
            .expect("opened above")
            .write_named(&row)?;
        self.summary.intervals += 1;
        if r.flagged {
            self.summary.flagged_intervals += 1;
        } else {
            for (name, v) in row.iter().skip(3) {
                if v.is_finite() {
                    let e = self
                        .summary
                        .interval_means
                        .entry(name.clone())
                        .or_insert((0.0, 0));
                    e.0 += v;
                    e.1 += 1;
                }
            }
        }
        for column in &self.columns {
            let Some(h) = r.harmonic_columns(column) else {
                continue;
            };
            if !self.harmonics.contains_key(column) {
                let path = self
                    .dir
                    .join(format!("harmonics_{}.csv", file_safe(column)));
                let cols = h.iter().map(|(c, _)| c.clone()).collect();
                self.harmonics
                    .insert(column.clone(), CsvTable::create(&path, cols)?);
            }
            self.harmonics
                .get_mut(column)
                .expect("inserted above")
                .write_named(&h)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(TableSummary, ReportCollector)> {
        let mut summary = self.summary;
        let (captures, skipped) = self.captures.finish()?;
        summary.captures = captures;
        summary.captures_skipped = skipped;
        if write_flicker_csv(
            &self.dir.join("flicker.csv"),
            &self.columns,
            &summary.flicker,
        )? {
            summary.files.push("flicker.csv".into());
        }
        for (name, t) in self.aggregates {
            t.finish()?;
            summary.files.push(format!("aggregates_{name}.csv"));
        }
        for (name, t) in [
            ("intervals.csv", self.intervals),
            ("frequency.csv", self.frequency),
            ("events.csv", self.events),
        ] {
            if let Some(t) = t {
                t.finish()?;
                summary.files.push(name.into());
            }
        }
        if let Some(t) = self.half_cycle {
            t.finish()?;
            summary.files.push("urms_half_cycle.csv".into());
        }
        for (column, t) in self.harmonics {
            t.finish()?;
            summary
                .files
                .push(format!("harmonics_{}.csv", file_safe(&column)));
        }
        summary.files.push("report.html".into());
        summary.files.push("compliance.json".into());
        Ok((summary, self.report))
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn summary_json(
    input: &Path,
    config: &SystemConfig,
    info: &RecordingInfo,
    samples: u64,
    columns: &[String],
    stats: &[ChannelStatistics],
    tables: &TableSummary,
) -> serde_json::Value {
    let channels: Vec<serde_json::Value> = info
        .channels
        .iter()
        .zip(columns)
        .map(|(c, col)| {
            serde_json::json!({
                "name": c.name.trim(), "column": col, "kind": c.kind,
                "phase": c.phase, "unit": c.unit.trim(),
            })
        })
        .collect();
    let f: Vec<f64> = tables
        .frequency
        .iter()
        .filter(|r| !r.flagged && r.frequency.is_finite())
        .map(|r| r.frequency)
        .collect();
    let frequency = if f.is_empty() {
        serde_json::json!({ "values": tables.frequency.len(), "unflagged": 0 })
    } else {
        serde_json::json!({
            "values": tables.frequency.len(),
            "unflagged": f.len(),
            "min": f.iter().copied().fold(f64::INFINITY, f64::min),
            "max": f.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            "mean": f.iter().sum::<f64>() / f.len() as f64,
        })
    };
    let means: serde_json::Map<String, serde_json::Value> = tables
        .interval_means
        .iter()
        .map(|(k, (s, n))| (k.clone(), finite_or_null(s / *n as f64)))
        .collect();
    let events_by_kind: serde_json::Map<String, serde_json::Value> =
        ["dip", "swell", "interruption", "rvc"]
            .iter()
            .map(|k| {
                let n = tables
                    .events
                    .iter()
                    .filter(|e| e.kind.as_str() == *k)
                    .count();
                ((*k).to_string(), serde_json::json!(n))
            })
            .collect();
    serde_json::json!({
        "schema": SUMMARY_SCHEMA,
        "input": input,
        "pqe_version": env!("CARGO_PKG_VERSION"),
        "system": config,
        "recording": {
            "start": info.start.to_string(),
            "sample_rate": info.sample_rate,
            "samples": samples,
            "duration_s": finite_or_null(samples as f64 / info.sample_rate),
            "station": info.station,
            "device": info.device,
            "channels": channels,
        },
        "intervals": {
            "count": tables.intervals,
            "flagged": tables.flagged_intervals,
            "mean_of_unflagged": means,
        },
        "frequency_10s": frequency,
        "aggregates": tables.aggregates.iter().map(|(k, (n, flagged))| {
            ((*k).to_string(), serde_json::json!({ "count": n, "flagged": flagged }))
        }).collect::<serde_json::Map<_, _>>(),
        "flicker": tables.flicker.iter().map(|r| serde_json::json!({
            "severity": r.severity, "channel": r.column, "t": r.t, "start": r.start.to_string(),
            "value": finite_or_null(r.value), "pinst_max": finite_or_null(r.pinst_max),
            "flagged": r.flagged,
        })).collect::<Vec<_>>(),
        "events": {
            "count": tables.events.len(),
            "by_kind": events_by_kind,
        },
        "captures": { "files": tables.captures, "not_written": tables.captures_skipped },
        "statistics": stats.iter().map(|s| serde_json::json!({
            "channel": s.name, "unit": s.unit, "samples": s.samples, "missing": s.missing,
            "rms": finite_or_null(s.rms), "mean": finite_or_null(s.mean),
            "min": finite_or_null(s.min), "max": finite_or_null(s.max),
            "peak": finite_or_null(s.peak), "crest_factor": finite_or_null(s.crest_factor),
        })).collect::<Vec<_>>(),
        "files": tables.files,
    })
}

fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

fn write_statistics_csv(path: &Path, stats: &[ChannelStatistics]) -> Result<()> {
    let cols = [
        "channel",
        "unit",
        "samples",
        "missing",
        "rms",
        "mean",
        "min",
        "max",
        "peak",
        "crest_factor",
    ];
    let mut t = CsvTable::create(path, cols.map(String::from).to_vec())?;
    for s in stats {
        let mut cells = vec![
            s.name.clone(),
            s.unit.clone(),
            s.samples.to_string(),
            s.missing.to_string(),
        ];
        cells.extend([s.rms, s.mean, s.min, s.max, s.peak, s.crest_factor].map(crate::table::cell));
        t.write_text(&cells)?;
    }
    t.finish()?;
    Ok(())
}

/// `flicker.csv` (layout: [`flicker_table`]). Returns false (and writes nothing) when there
/// is no value.
fn write_flicker_csv(path: &Path, columns: &[String], records: &[FlickerRecord]) -> Result<bool> {
    let (header, rows) = flicker_table(columns, records);
    if header.is_empty() {
        return Ok(false);
    }
    let mut table = CsvTable::create(path, header)?;
    for row in rows {
        table.write_numbers(row)?;
    }
    table.finish()?;
    Ok(true)
}
