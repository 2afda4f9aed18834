//! `pqe devices list [--json]`: every acquisition driver, where it was loaded from, and
//! what each finds (docs/plugins.md); and the live-source options `--source URI
//! [--duration D]` of `pqe analyze` and `pqe capture`, with Ctrl-C and SIGTERM ending the
//! source cleanly.

use anyhow::{Context, Result};
use pqe_devices::{DeviceSource, Ending, Outcome, Registry, StopSignal};
use std::time::Duration;

/// Arguments of `pqe devices`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: DevicesCommand,
}

/// `pqe devices` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DevicesCommand {
    /// List every driver (built in, C plugins, adapters), where it was loaded from, and the
    /// devices each finds; drivers are asked in parallel, each under the deadline.
    List {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Seconds each driver may take to enumerate.
        #[arg(long, default_value_t = 3.0)]
        deadline: f64,
    },
}

/// Run `pqe devices`.
pub fn run(args: Args) -> Result<()> {
    match args.command {
        DevicesCommand::List { json, deadline } => list(json, deadline),
    }
}

fn list(json: bool, deadline: f64) -> Result<()> {
    if !(deadline.is_finite() && deadline > 0.0 && deadline <= 600.0) {
        anyhow::bail!("--deadline {deadline}: give 0 < seconds ≤ 600");
    }
    let registry = Registry::standard();
    let found = registry.enumerate_all(Duration::from_secs_f64(deadline));
    let refused: Vec<String> = registry.refused.iter().map(|e| e.to_string()).collect();
    let dirs: Vec<String> = pqe_devices::plugin::plugin_dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    if json {
        let v = serde_json::json!({
            "plugin_dirs": dirs,
            "drivers": found,
            "refused": refused,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for e in &found {
        let d = &e.driver;
        let schemes: Vec<String> = d.schemes.iter().map(|s| format!("{s}:")).collect();
        println!(
            "{} {} [{}] ({}) — {}",
            d.name,
            d.version,
            schemes.join(" "),
            d.origin,
            d.description
        );
        match &e.found {
            Ok(v) if v.is_empty() => {
                println!("    (nothing to discover: name the device in a URI)")
            }
            Ok(v) => {
                for f in v {
                    println!("    {}  {}", f.uri, f.description);
                }
            }
            Err(err) => println!("    error: {err}"),
        }
    }
    for r in &refused {
        println!("refused: {r}");
    }
    println!("plugin folders: {}", dirs.join(", "));
    Ok(())
}

/// The live-source options of `pqe analyze` and `pqe capture`.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// A device URI instead of a recording: `replay:PATH?speed=1|max`, `synth:SCENARIO.toml`,
    /// `tcp://HOST:PORT`, `udp://HOST:PORT` or a plugin's scheme (`pqe devices list`).
    #[arg(long, value_name = "URI")]
    pub source: Option<String>,
    /// How much recording time to take from the source: seconds, or with a unit (`90s`,
    /// `15m`, `2h`); without it the source runs until it ends, Ctrl-C or SIGTERM.
    #[arg(long, value_name = "D", requires = "source", value_parser = parse_duration)]
    pub duration: Option<f64>,
}

/// Seconds from `10`, `2.5s`, `15m`, `2h`.
pub fn parse_duration(text: &str) -> std::result::Result<f64, String> {
    let t = text.trim();
    let (number, unit) = match t
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_digit() || *c == '.')
    {
        Some((i, _)) => t.split_at(i + 1),
        None => (t, ""),
    };
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        u => return Err(format!("'{text}': unknown unit '{u}' (give s, m or h)")),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "'{text}': give a positive duration such as 30, 90s, 15m or 2h"
        )),
    }
}

/// A stop signal tripped by the first SIGINT (Ctrl-C) or SIGTERM; a second one exits at
/// once (status 130).
pub fn stop_on_signals() -> Result<StopSignal> {
    let stop = StopSignal::new();
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.is_stopped() {
            std::process::exit(130);
        }
        eprintln!("pqe: stopping: finishing with what has been read (again to abort)");
        flag.stop();
    })?;
    Ok(stop)
}

/// Open `args.source` through the standard registry, ending on the duration or a signal.
pub fn open_live(args: &LiveArgs) -> Result<DeviceSource> {
    open_live_with_stop(args).map(|(source, _)| source)
}

/// As [`open_live`], with the stop signal (tripped by Ctrl-C or SIGTERM).
pub fn open_live_with_stop(args: &LiveArgs) -> Result<(DeviceSource, StopSignal)> {
    let uri = args
        .source
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("give a recording or --source URI"))?;
    let registry = Registry::standard();
    for r in &registry.refused {
        eprintln!("pqe: warning: {r}");
    }
    let stop = stop_on_signals()?;
    let source = DeviceSource::open(&registry, uri, args.duration, stop.clone())
        .with_context(|| format!("cannot open {}", pqe_devices::uri::redact(uri)))?;
    Ok((source, stop))
}

/// How the source ended, in words, and the driver's fault as an error.
pub fn ending(outcome: &Outcome, out: &std::path::Path) -> Result<&'static str> {
    if let Some(fault) = &outcome.fault {
        anyhow::bail!(
            "the source failed: {fault}; the results up to the fault are in {}",
            out.display()
        );
    }
    Ok(match outcome.ending {
        Some(Ending::Duration) => "duration reached",
        Some(Ending::Stopped) => "stopped by signal",
        Some(Ending::Fault) => "driver fault",
        Some(Ending::EndOfStream) | None => "end of stream",
    })
}

/// `pqe analyze --source URI --out DIR [--duration D]`: the pipeline over a live source.
pub fn analyze_live(
    args: &LiveArgs,
    out: &std::path::Path,
    settings: &pqe_pipeline::AnalysisSettings,
) -> Result<()> {
    let valid = settings.validate()?;
    let source = open_live(args)?;
    let name = pqe_devices::uri::redact(args.source.as_deref().unwrap_or_default());
    let outcome = source.outcome();
    let mut bar = crate::commands::analyze::Bar::new(true);
    let result = pqe_pipeline::analyze_source(
        Box::new(source),
        std::path::Path::new(&name),
        out,
        &valid,
        &mut bar,
    );
    bar.finish();
    let summary = result?;
    let outcome = outcome.lock().unwrap_or_else(|e| e.into_inner());
    let how = ending(&outcome, out)?;
    eprintln!(
        "pqe: {} ({how}) → {}",
        pqe_pipeline::one_line(&summary),
        out.display()
    );
    Ok(())
}
