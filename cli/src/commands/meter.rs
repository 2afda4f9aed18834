//! `pqe meter`: talk to a meter named by a URI (the architecture's "Meter links").
//!
//! - `pqe meter read URI [--obis CODE ...] [--register TABLE:ADDR:TYPE ...] [--map NAME|FILE] [--json]`
//! - `pqe meter trace URI --out TRACE.jsonl [same selectors]`: the same read, every frame recorded
//! - `pqe meter analyse TRACE.jsonl [--json]`: the communication analysis (exit status 1 on "fail")
//! - `pqe meter scan URI [--json]`: meters on an M-Bus
//!
//! The protocols come from their crates' `register` functions; a scheme without one
//! in this build is an error that says so.

use anyhow::{bail, Context, Result};
use pqe_link::{MeterUri, OpenRequest, Registry, Selector, TraceSink, Value, Verdict};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: MeterCommand,
}

#[derive(Debug, clap::Subcommand)]
enum MeterCommand {
    /// Read values (everything the meter gives in one exchange when no selector is given).
    Read(ReadArgs),
    /// Read as `read` does and record every frame into a JSON Lines trace.
    Trace(TraceArgs),
    /// Analyse a trace: a finding per deviation from the protocol, a verdict per exchange.
    Analyse(AnalyseArgs),
    /// Scan a bus for meters (M-Bus primary and secondary addresses).
    Scan(ScanArgs),
}

#[derive(Debug, clap::Args)]
struct Selectors {
    /// Meter URI, e.g. modbus-tcp://HOST:PORT?unit=1 or iec62056-21:///dev/ttyUSB0?mode=C.
    uri: String,
    /// OBIS code, A-B:C.D.E*F or short C.D.E (repeatable).
    #[arg(long = "obis", value_name = "CODE")]
    obis: Vec<String>,
    /// Modbus register TABLE:ADDR:TYPE: hr|ir, 0-based PDU address (decimal or 0x hex),
    /// u16|i16|u32|i32|u64|f32|f64 (repeatable).
    #[arg(long = "register", value_name = "TABLE:ADDR:TYPE")]
    register: Vec<String>,
    /// Register map: a built-in name (sdm630) or a TOML file.
    #[arg(long)]
    map: Option<String>,
    /// Print one JSON array of {id, value, unit}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ReadArgs {
    #[command(flatten)]
    sel: Selectors,
}

#[derive(Debug, clap::Args)]
struct TraceArgs {
    #[command(flatten)]
    sel: Selectors,
    /// The trace file (JSON Lines).
    #[arg(long, value_name = "TRACE.jsonl")]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct AnalyseArgs {
    /// A trace written by `pqe meter trace`.
    trace: PathBuf,
    /// Print the analysis as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Bus URI, e.g. mbus:///dev/ttyUSB0?serial=2400/8E1.
    uri: String,
    /// Print one JSON array of {id, value, unit}.
    #[arg(long)]
    json: bool,
}

/// Every meter protocol in this build.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    pqe_modbus::register(&mut r);
    pqe_iec62056_21::register(&mut r);
    pqe_mbus::link::register(&mut r);
    pqe_sml::link::register(&mut r);
    pqe_dlms::link::register(&mut r);
    r
}

/// The selectors in the order they were given on the command line (clap keeps
/// `--obis` and `--register` apart; the order across them is taken from argv).
fn selectors_in_order(sel: &Selectors) -> Result<Vec<Selector>> {
    let mut order: Vec<(bool, String)> = Vec::new();
    let argv: Vec<String> = std::env::args().collect();
    let mut it = argv.iter().peekable();
    while let Some(a) = it.next() {
        for (flag, is_obis) in [("--obis", true), ("--register", false)] {
            if a == flag {
                if let Some(v) = it.peek() {
                    order.push((is_obis, (*v).clone()));
                }
            } else if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                order.push((is_obis, v.to_string()));
            }
        }
    }
    // Fall back to clap's lists when argv does not show them (called from a test).
    let same = order
        .iter()
        .filter(|o| o.0)
        .map(|o| &o.1)
        .eq(sel.obis.iter())
        && order
            .iter()
            .filter(|o| !o.0)
            .map(|o| &o.1)
            .eq(sel.register.iter());
    if !same {
        order = sel
            .obis
            .iter()
            .map(|o| (true, o.clone()))
            .chain(sel.register.iter().map(|r| (false, r.clone())))
            .collect();
    }
    order
        .into_iter()
        .map(|(is_obis, v)| {
            Ok(if is_obis {
                Selector::Obis(v.parse()?)
            } else {
                Selector::Register(v.parse()?)
            })
        })
        .collect()
}

fn print_values(values: &[Value], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(values)?);
    } else {
        let w = values.iter().map(|v| v.id.len()).max().unwrap_or(0);
        for v in values {
            let line = format!("{:<w$}  {} {}", v.id, v.value, v.unit);
            println!("{}", line.trim_end());
        }
    }
    Ok(())
}

fn read(sel: &Selectors, trace: Option<&PathBuf>) -> Result<()> {
    let uri: MeterUri = sel.uri.parse()?;
    let selectors = selectors_in_order(sel)?;
    let sink = match trace {
        Some(path) => {
            let line = match &uri.endpoint {
                pqe_link::Endpoint::Serial { .. } => {
                    uri.param("serial").and_then(|s| s.parse().ok())
                }
                pqe_link::Endpoint::Tcp { .. } => None,
            };
            Some(TraceSink::create(
                path,
                &uri.scheme,
                &uri.to_string(),
                line,
            )?)
        }
        None => None,
    };
    let reg = registry();
    let result = (|| -> Result<Vec<Value>> {
        let mut link = reg.open(&OpenRequest {
            uri: &uri,
            map: sel.map.as_deref(),
            trace: sink.clone(),
        })?;
        let values = if selectors.is_empty() {
            link.read_all()?
        } else {
            link.read(&selectors)?
        };
        link.close()?;
        Ok(values)
    })();
    if let Some(s) = &sink {
        s.finish()
            .with_context(|| format!("writing the trace {}", trace.unwrap().display()))?;
    }
    let values =
        result.with_context(|| format!("meter {}", pqe_link::uri::redact_uri(&sel.uri)))?;
    print_values(&values, sel.json)
}

fn analyse(a: &AnalyseArgs) -> Result<bool> {
    let trace = pqe_link::Trace::read(&a.trace)?;
    let analysis = registry().analyser(&trace.header.scheme)?.analyse(&trace);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        for e in &analysis.exchanges {
            println!(
                "exchange {} (lines {}): {:?} — {}",
                e.exchange,
                e.lines
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                e.verdict,
                e.summary
            );
            for f in &e.findings {
                println!(
                    "  line {}: {:?} [{}] {}",
                    f.line, f.severity, f.clause, f.message
                );
            }
        }
        for f in &analysis.findings {
            println!(
                "line {}: {:?} [{}] {}",
                f.line, f.severity, f.clause, f.message
            );
        }
        println!(
            "verdict: {:?} ({} exchanges, protocol {})",
            analysis.verdict,
            analysis.exchanges.len(),
            analysis.protocol
        );
    }
    Ok(analysis.verdict == Verdict::Pass)
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        MeterCommand::Read(r) => read(&r.sel, None),
        MeterCommand::Trace(t) => read(&t.sel, Some(&t.out)),
        MeterCommand::Analyse(a) => {
            if !analyse(&a)? {
                bail!("the communication analysis of {} fails", a.trace.display());
            }
            Ok(())
        }
        MeterCommand::Scan(s) => {
            let uri: MeterUri = s.uri.parse()?;
            let mut link = registry().open(&OpenRequest {
                uri: &uri,
                map: None,
                trace: None,
            })?;
            let found = link.scan()?;
            print_values(&found, s.json)
        }
    }
}
