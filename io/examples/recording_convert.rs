//! Convert a recording between the formats pqe-io knows, the way `pqe convert IN OUT` does,
//! streaming blocks of a fixed size: the extension of each path chooses the format
//! (`.csv`, `.h5`/`.hdf5`, `.cfg`/`.cff` with the default COMTRADE options).
//!
//! `cargo run -p pqe-io --example recording_convert -- IN OUT [BLOCK]`
//!
//! tests/python/test_hdf5_csv_layout.py uses it when no `pqe` binary is built.

use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("recording_convert: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: recording_convert IN OUT [BLOCK]";
    let mut args = std::env::args().skip(1);
    let input = args.next().ok_or(usage)?;
    let output = args.next().ok_or(usage)?;
    let block: usize = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("BLOCK '{n}' is not a count"))?,
        None => 65_536,
    };
    let mut reader = pqe_io::open(&input)?;
    let mut writer = pqe_io::create(&output, reader.info(), pqe_io::WriteOptions::default())?;
    while let Some(b) = reader.read_block(block)? {
        writer.write_block(&b)?;
    }
    writer.finish()?;
    Ok(())
}
