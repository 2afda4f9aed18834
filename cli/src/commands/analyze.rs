//! `pqe analyze`: measure a recording as an IEC 61000-4-30 Class A instrument does and write
//! the results into a folder:
//!
//! - `intervals.csv`: one row per 10/12-cycle interval (`t`, `flagged`, `f`, then per
//!   channel RMS, peak, crest factor, DC, deviations, THD…, then unbalance and powers);
//! - `frequency.csv`: the 10-s frequency (`t`, `f`, `flagged`);
//! - `harmonics_<channel>.csv`: harmonic subgroups `H0`…`H63` and interharmonic centred
//!   subgroups `IH0`…`IH63` per interval, in the channel's unit;
//! - `urms_half_cycle.csv` with `--half-cycle`: the Urms(1/2) series;
//! - `statistics.csv`: per-channel RMS, mean, extremes and missing samples over the whole
//!   recording;
//! - `summary.json` (schema `pqe.summary/1`).
//!
//! `t` is seconds from the recording's start.

use super::for_each_block;
use crate::mapping::{self, ChannelMapping};
use crate::table::{file_safe, CsvTable};
use anyhow::{bail, Context, Result};
use pqe_core::record::{
    ChannelStatistics, ChannelStatisticsAccumulator, FrequencyRecord, IntervalRecord, Record,
};
use pqe_core::{NominalFrequency, RecordingInfo, SystemConfig, Wiring};
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
    /// Skip harmonics, interharmonics, powers and unbalance (RMS and frequency only).
    #[arg(long)]
    pub no_harmonics: bool,
    /// Also write the Urms(1/2) series (urms_half_cycle.csv).
    #[arg(long)]
    pub half_cycle: bool,
}

/// Run `pqe analyze`.
pub fn run(args: Args) -> Result<()> {
    let config = SystemConfig {
        nominal_frequency: NominalFrequency::from_hz(args.nominal_frequency)?,
        udin: args.nominal_voltage,
        wiring: args.wiring,
        load_current: args.load_current,
    };
    config.validate()?;
    let mut reader = pqe_io::open(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let mut info = reader.info().clone();
    mapping::apply(&mut info.channels, &args.map)?;
    if info.sample_rate <= 0.0 || info.rate_segments.len() > 1 {
        bail!(
            "{}: the analysis needs one constant sampling rate; this recording is {}",
            args.input.display(),
            if info.sample_rate <= 0.0 {
                "timed sample by sample (rate 0)".to_string()
            } else {
                format!("sampled at {} rates", info.rate_segments.len())
            }
        );
    }
    let options = AnalyzerOptions {
        harmonics: !args.no_harmonics,
        half_cycle: args.half_cycle,
        thd_max_order: args.thd_order,
        signalling_frequency: args.signalling_frequency,
        ..AnalyzerOptions::default()
    };
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        config.clone(),
        options,
    )
    .with_context(|| format!("cannot analyze {}", args.input.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;

    let mut outputs = Outputs::new(&args.out, analyzer.columns().to_vec(), args.half_cycle);
    let mut acc = vec![ChannelStatisticsAccumulator::new(); info.channels.len()];
    let mut samples = 0u64;
    for_each_block(reader.as_mut(), "analysing", |b| {
        for (a, ch) in acc.iter_mut().zip(b.channels()) {
            a.push(ch);
        }
        samples += b.len() as u64;
        analyzer.push(b)?;
        for r in analyzer.drain() {
            outputs.write(r)?;
        }
        Ok(())
    })
    .with_context(|| format!("analysing {}", args.input.display()))?;
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
    write_statistics_csv(&args.out.join("statistics.csv"), &stats)?;
    let tables = outputs.finish()?;
    let summary = summary_json(
        &args,
        &config,
        &info,
        samples,
        analyzer.columns(),
        &stats,
        &tables,
    );
    let path = args.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "pqe: {} samples of {} channels: {} intervals ({} flagged), {} 10-s frequency values → {}",
        samples,
        stats.len(),
        tables.intervals,
        tables.flagged_intervals,
        tables.frequency.len(),
        args.out.display()
    );
    Ok(())
}

/// What the tables hold once written, for the summary.
#[derive(Debug, Default)]
struct TableSummary {
    intervals: u64,
    flagged_intervals: u64,
    /// Sum and count of each interval column over unflagged intervals.
    interval_means: BTreeMap<String, (f64, u64)>,
    frequency: Vec<FrequencyRecord>,
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
    summary: TableSummary,
}

impl Outputs {
    fn new(dir: &Path, columns: Vec<String>, write_half_cycle: bool) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            columns,
            write_half_cycle,
            intervals: None,
            frequency: None,
            half_cycle: None,
            harmonics: BTreeMap::new(),
            summary: TableSummary::default(),
        }
    }

    fn write(&mut self, record: Record) -> Result<()> {
        match record {
            Record::Interval(r) => self.write_interval(&r),
            Record::Frequency(r) => {
                if self.frequency.is_none() {
                    let cols = ["t", "f", "flagged"].map(String::from).to_vec();
                    self.frequency = Some(CsvTable::create(&self.dir.join("frequency.csv"), cols)?);
                }
                let table = self.frequency.as_mut().expect("opened above");
                table.write_numbers([r.t, r.frequency, flag(r.flagged)])?;
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
            _ => Ok(()),
        }
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

    fn finish(self) -> Result<TableSummary> {
        let mut summary = self.summary;
        for (name, t) in [
            ("intervals.csv", self.intervals),
            ("frequency.csv", self.frequency),
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
        Ok(summary)
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
    args: &Args,
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
    serde_json::json!({
        "schema": SUMMARY_SCHEMA,
        "input": args.input,
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
