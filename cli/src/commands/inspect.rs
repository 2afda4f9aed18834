//! `pqe inspect`: what a recording holds.

use anyhow::{Context, Result};
use pqe_core::record::ChannelStatisticsAccumulator;
use std::path::PathBuf;

/// Arguments of `pqe inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording (.cfg, .dat, .cff, .csv, .h5).
    pub input: PathBuf,
    /// Also read all samples and show per-channel statistics (RMS, min, max, missing).
    #[arg(long)]
    pub stats: bool,
    /// Print the description as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run `pqe inspect`.
pub fn run(args: Args) -> Result<()> {
    let format = pqe_io::FileFormat::from_path(&args.input)?;
    let mut reader = pqe_io::open(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let info = reader.info().clone();
    let stats = if args.stats {
        let mut acc = vec![ChannelStatisticsAccumulator::new(); info.channels.len()];
        let mut rows = 0u64;
        super::for_each_block(reader.as_mut(), "reading", true, |b| {
            for (a, ch) in acc.iter_mut().zip(b.channels()) {
                a.push(ch);
            }
            rows += b.len() as u64;
            Ok(())
        })?;
        let s: Vec<_> = acc
            .iter()
            .zip(&info.channels)
            .map(|(a, c)| a.finish(c.name.trim(), &c.unit))
            .collect();
        Some((rows, s))
    } else {
        None
    };

    if args.json {
        let mut v =
            serde_json::json!({ "file": args.input, "format": format.name(), "recording": info });
        if let Some((rows, s)) = &stats {
            v["samples_read"] = serde_json::json!(rows);
            v["statistics"] = serde_json::to_value(s)?;
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }

    println!("{}: {}", args.input.display(), format.name());
    if !info.station.is_empty() || !info.device.is_empty() {
        println!("  station {:?}, device {:?}", info.station, info.device);
    }
    println!("  start    {}", info.start);
    if let Some(t) = info.trigger {
        println!("  trigger  {t}");
    }
    if let Some(tc) = &info.time_code {
        println!("  time code {tc}");
    }
    if info.sample_rate > 0.0 {
        println!("  sampling {} Hz", info.sample_rate);
    } else {
        println!("  sampling by per-sample timestamps");
    }
    if info.rate_segments.len() > 1 {
        for (rate, last) in &info.rate_segments {
            println!("           {rate} Hz up to sample {last}");
        }
    }
    if info.line_frequency > 0.0 {
        println!("  line frequency {} Hz", info.line_frequency);
    }
    match (info.total_samples, info.duration_seconds()) {
        (Some(n), Some(d)) => println!("  {n} samples per channel, {d:.6} s"),
        (Some(n), None) => println!("  {n} samples per channel"),
        _ => {}
    }
    println!("  {} analog channels:", info.channels.len());
    println!(
        "    {:>3}  {:<28} {:<8} {:<5} {:<6} {:>14}",
        "#", "name", "kind", "phase", "unit", "ratio"
    );
    for (i, c) in info.channels.iter().enumerate() {
        let ratio = if c.ratio_primary == 1.0 && c.ratio_secondary == 1.0 {
            String::from("-")
        } else {
            format!(
                "{}/{} {}",
                c.ratio_primary,
                c.ratio_secondary,
                if c.primary { "P" } else { "S" }
            )
        };
        println!(
            "    {:>3}  {:<28} {:<8} {:<5} {:<6} {:>14}",
            i + 1,
            c.name.trim(),
            c.kind.to_string(),
            c.phase.map_or("-".to_string(), |p| p.to_string()),
            c.unit.trim(),
            ratio
        );
    }
    if !info.digital_channels.is_empty() {
        let names: Vec<&str> = info
            .digital_channels
            .iter()
            .map(|d| d.name.trim())
            .collect();
        println!("  {} digital channels: {}", names.len(), names.join(", "));
    }
    if let Some((rows, s)) = stats {
        println!("  {rows} samples read");
        println!(
            "    {:<28} {:>14} {:>14} {:>14} {:>14} {:>8}",
            "channel", "rms", "mean", "min", "max", "missing"
        );
        for c in s {
            println!(
                "    {:<28} {:>14.6} {:>14.6} {:>14.6} {:>14.6} {:>8}",
                c.name, c.rms, c.mean, c.min, c.max, c.missing
            );
        }
    }
    Ok(())
}
