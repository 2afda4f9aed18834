//! `pqe devices list [--json]`: every acquisition driver, where it was loaded from, and
//! what each finds (docs/plugins.md).

use anyhow::Result;
use pqe_devices::Registry;
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
            Ok(v) if v.is_empty() => println!("    (nothing to discover: name the device in a URI)"),
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
