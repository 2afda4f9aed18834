//! Print what a recording gives as a `Source`: one JSON object per line for every block,
//! gap and warning, then one with the recording's description.
//!
//! ```sh
//! cargo run --release -p pqe-io --example source_events -- REC [--strict] [--chunk N]
//! ```
//!
//! Exit status 1 with the error on stderr when the recording cannot be read. The Python
//! tests (tests/python/test_io_sources.py) read files made by pandas and numpy through it.

use pqe_core::{CancelToken, Source, SourceEvent};
use pqe_io::{open_source, OpenOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: source_events REC [--strict] [--chunk N]");
        std::process::exit(2);
    };
    let options = OpenOptions {
        strict: args.iter().any(|a| a == "--strict"),
    };
    let chunk = args
        .iter()
        .position(|a| a == "--chunk")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(65_536);
    if let Err(e) = run(path, &options, chunk) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run(path: &str, options: &OpenOptions, chunk: usize) -> pqe_core::Result<()> {
    let mut source = open_source(path, options)?;
    let cancel = CancelToken::new();
    while let Some(event) = source.next_event(chunk, &cancel)? {
        let line = match event {
            SourceEvent::Block(b) => serde_json::json!({
                "block": {
                    "start_ns": b.start().as_nanos(),
                    "first_sample": b.first_sample(),
                    "len": b.len(),
                    "sample_rate": b.sample_rate(),
                    "first": b.channels().map(|c| c.first().copied()).collect::<Vec<_>>(),
                    "last": b.channels().map(|c| c.last().copied()).collect::<Vec<_>>(),
                }
            }),
            SourceEvent::Gap(g) => serde_json::json!({
                "gap": {
                    "start_ns": g.start.as_nanos(),
                    "end_ns": g.end.as_nanos(),
                    "first_missing_sample": g.first_missing_sample,
                    "missing_samples": g.missing_samples,
                    "reason": g.reason,
                }
            }),
            SourceEvent::Warning(w) => serde_json::json!({ "warning": w.to_string() }),
        };
        println!("{line}");
    }
    let info = source.recording_info();
    println!(
        "{}",
        serde_json::json!({
            "info": {
                "start_ns": info.start.as_nanos(),
                "start": info.start.to_string(),
                "sample_rate": info.sample_rate,
                "channels": info.channels.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "time_code": info.time_code,
                "total_samples": info.total_samples,
            }
        })
    );
    Ok(())
}
