//! summary.json (schema [`SUMMARY_SCHEMA`]): what was analysed and the headline figures,
//! built from the run's [`TableSummary`].

use crate::outputs::TableSummary;
use crate::settings::{Part, Switches};
use pqe_core::record::ChannelStatistics;
use pqe_core::{RecordingInfo, SystemConfig};
use std::path::Path;

/// The version of summary.json's layout; bumped when a field changes meaning.
pub const SUMMARY_SCHEMA: &str = "pqe.summary/1";

/// Everything summary.json is made of.
pub struct SummaryInputs<'a> {
    /// The recording's path as given.
    pub input: &'a Path,
    /// The supply analysed against.
    pub config: &'a SystemConfig,
    /// The recording's description (after role mapping).
    pub info: &'a RecordingInfo,
    /// Samples per channel analysed.
    pub samples: u64,
    /// The analyzer's channel columns.
    pub columns: &'a [String],
    /// Per-channel statistics.
    pub stats: &'a [ChannelStatistics],
    /// What the tables hold.
    pub tables: &'a TableSummary,
    /// What was computed.
    pub switches: Switches,
    /// The spans the source reported missing, in stream order.
    pub gaps: &'a [pqe_core::Gap],
}

/// The summary document.
pub fn summary_json(s: &SummaryInputs<'_>) -> serde_json::Value {
    let (info, tables) = (s.info, s.tables);
    let channels: Vec<serde_json::Value> = info
        .channels
        .iter()
        .zip(s.columns)
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
        .map(|(k, (sum, n))| (k.clone(), finite_or_null(sum / *n as f64)))
        .collect();
    // Where the events came from (`pqe_standards::direction`); events of a recording
    // without currents are not counted.
    let events_by_direction: serde_json::Map<String, serde_json::Value> =
        ["upstream", "downstream", "undetermined"]
            .iter()
            .map(|k| {
                let n = tables
                    .events
                    .iter()
                    .filter(|e| e.direction.as_ref().is_some_and(|d| d.side.as_str() == *k))
                    .count();
                ((*k).to_string(), serde_json::json!(n))
            })
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
    let mut summary = serde_json::json!({
        "schema": SUMMARY_SCHEMA,
        "input": s.input,
        "pqe_version": env!("CARGO_PKG_VERSION"),
        "system": s.config,
        "recording": {
            "start": info.start.to_string(),
            "sample_rate": info.sample_rate,
            "samples": s.samples,
            "duration_s": finite_or_null(s.samples as f64 / info.sample_rate),
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
            "by_direction": events_by_direction,
        },
        "captures": { "files": tables.captures, "not_written": tables.captures_skipped },
        "statistics": s.stats.iter().map(|c| serde_json::json!({
            "channel": c.name, "unit": c.unit, "samples": c.samples, "missing": c.missing,
            "rms": finite_or_null(c.rms), "mean": finite_or_null(c.mean),
            "min": finite_or_null(c.min), "max": finite_or_null(c.max),
            "peak": finite_or_null(c.peak), "crest_factor": finite_or_null(c.crest_factor),
        })).collect::<Vec<_>>(),
        "files": tables.files,
        "gaps": s.gaps.iter().map(|g| serde_json::json!({
            "start": g.start.to_string(), "end": g.end.to_string(),
            "seconds": finite_or_null(g.seconds()),
            "first_missing_sample": g.first_missing_sample,
            "missing_samples": g.missing_samples, "reason": g.reason,
        })).collect::<Vec<_>>(),
    });
    // What was computed, so a reader knows an empty table from a part switched off. The
    // supraharmonics have their own object (`supraharmonics`: measured, or why not).
    summary["analysis"] = Part::ALL
        .iter()
        .filter(|&&p| p != Part::Supraharmonics)
        .map(|&p| (p.key().to_string(), serde_json::json!(s.switches.on(p))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    summary
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

/// A number, or null when it is not finite (JSON has no NaN).
pub fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}
