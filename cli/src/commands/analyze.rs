//! `pqe analyze`: measure a recording and write the results into a folder.
//!
//! Writes `summary.json` (schema `pqe.summary/1`) and `statistics.csv` (per-channel RMS,
//! mean, extremes, crest factor and missing samples over the whole recording). The
//! IEC 61000-4-30 interval tables plug in here as the measurement chain lands.

use crate::mapping::{self, ChannelMapping};
use anyhow::{Context, Result};
use pqe_core::record::{ChannelStatistics, ChannelStatisticsAccumulator};
use pqe_core::{NominalFrequency, SystemConfig, Wiring};
use std::io::Write;
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
    /// symbol such as U_A, U_AB, I_N. Repeat for several channels.
    #[arg(long = "map")]
    pub map: Vec<ChannelMapping>,
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

    let mut acc = vec![ChannelStatisticsAccumulator::new(); info.channels.len()];
    let mut samples = 0u64;
    super::for_each_block(reader.as_mut(), "analysing", |b| {
        for (a, ch) in acc.iter_mut().zip(b.channels()) {
            a.push(ch);
        }
        samples += b.len() as u64;
        Ok(())
    })
    .with_context(|| format!("analysing {}", args.input.display()))?;
    let stats: Vec<ChannelStatistics> = acc
        .iter()
        .zip(&info.channels)
        .map(|(a, c)| a.finish(&mapping::symbol(c), c.unit.trim()))
        .collect();

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    write_statistics_csv(&args.out.join("statistics.csv"), &stats)?;
    let channels: Vec<serde_json::Value> = info
        .channels
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name.trim(), "symbol": mapping::symbol(c), "kind": c.kind,
                "phase": c.phase, "unit": c.unit.trim(),
            })
        })
        .collect();
    let duration = if info.sample_rate > 0.0 {
        samples as f64 / info.sample_rate
    } else {
        f64::NAN
    };
    let summary = serde_json::json!({
        "schema": SUMMARY_SCHEMA,
        "input": args.input,
        "pqe_version": env!("CARGO_PKG_VERSION"),
        "system": config,
        "recording": {
            "start": info.start.to_string(),
            "sample_rate": info.sample_rate,
            "samples": samples,
            "duration_s": finite_or_null(duration),
            "station": info.station,
            "device": info.device,
            "channels": channels,
        },
        "statistics": stats.iter().map(|s| serde_json::json!({
            "channel": s.name, "unit": s.unit, "samples": s.samples, "missing": s.missing,
            "rms": finite_or_null(s.rms), "mean": finite_or_null(s.mean),
            "min": finite_or_null(s.min), "max": finite_or_null(s.max),
            "peak": finite_or_null(s.peak), "crest_factor": finite_or_null(s.crest_factor),
        })).collect::<Vec<_>>(),
    });
    let path = args.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "pqe: {} samples of {} channels analysed into {}",
        samples,
        stats.len(),
        args.out.display()
    );
    Ok(())
}

fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

fn write_statistics_csv(path: &Path, stats: &[ChannelStatistics]) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    writeln!(
        f,
        "channel,unit,samples,missing,rms,mean,min,max,peak,crest_factor"
    )?;
    for s in stats {
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            s.name,
            s.unit,
            s.samples,
            s.missing,
            num(s.rms),
            num(s.mean),
            num(s.min),
            num(s.max),
            num(s.peak),
            num(s.crest_factor)
        )?;
    }
    f.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Shortest round-trip decimal; empty for a missing value.
fn num(x: f64) -> String {
    if x.is_finite() {
        ryu::Buffer::new().format_finite(x).to_string()
    } else {
        String::new()
    }
}
