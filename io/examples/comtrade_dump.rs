//! Print a COMTRADE recording as CSV, the way `pqe convert IN.cfg OUT.csv` does: a header
//! `t,<analog names>,<status names>`, then one row per sample with `t` in seconds from the
//! first sample, values as shortest round-trip decimals and an empty cell for a missing value.
//!
//! `cargo run --release -p pqe-io --example comtrade_dump -- IN.cfg|IN.cff [CHUNK]`
//!
//! With `--count` instead of a chunk size it only reads the recording (blocks of 65 536) and
//! prints `rows <n> seconds <s>`, for benches/compare_comtrade_read.py.

use pqe_io::comtrade::ComtradeReader;
use pqe_io::RecordingReader;
use std::io::{BufWriter, Write};

fn main() {
    if let Err(e) = run() {
        eprintln!("comtrade_dump: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: comtrade_dump IN.cfg|IN.cff [CHUNK]")?;
    let arg = args.next();
    if arg.as_deref() == Some("--count") {
        let clock = std::time::Instant::now();
        let mut reader = ComtradeReader::open(&path)?;
        let mut rows = 0u64;
        while let Some(block) = reader.read_block(65_536)? {
            rows += block.len() as u64;
        }
        println!("rows {rows} seconds {}", clock.elapsed().as_secs_f64());
        return Ok(());
    }
    let chunk: usize = match arg {
        Some(c) => c.parse()?,
        None => 65_536,
    };
    let mut reader = ComtradeReader::open(&path)?;
    let info = reader.info().clone();
    let out = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, out.lock());
    let names: Vec<&str> = info
        .channels
        .iter()
        .map(|c| c.name.as_str())
        .chain(info.digital_channels.iter().map(|d| d.name.as_str()))
        .collect();
    writeln!(out, "t,{}", names.join(","))?;
    let mut line = String::new();
    while let Some(block) = reader.read_block(chunk)? {
        for i in 0..block.len() {
            line.clear();
            line.push_str(&format!("{}", block.time_of(i, info.start)));
            for c in 0..block.n_channels() {
                line.push(',');
                let v = block.channel(c)[i];
                if !v.is_nan() {
                    line.push_str(&format!("{v}"));
                }
            }
            for d in 0..block.n_digital() {
                line.push(',');
                line.push(if block.digital(d)[i] != 0 { '1' } else { '0' });
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}
