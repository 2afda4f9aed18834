//! `pqe convert`: between COMTRADE, CSV and HDF5.

use anyhow::{bail, Context, Result};
use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
use std::path::PathBuf;

/// Arguments of `pqe convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording to read (.cfg, .dat, .cff, .csv, .h5).
    pub input: PathBuf,
    /// The recording to write; its extension chooses the format (.cfg writes .cfg + .dat,
    /// .cff one COMTRADE file, .csv, .h5).
    pub output: PathBuf,
    /// COMTRADE data format.
    #[arg(long, default_value = "binary", value_parser = parse_format)]
    pub comtrade_format: DataFormat,
    /// COMTRADE revision.
    #[arg(long, default_value = "2013", value_parser = parse_revision)]
    pub revision: Revision,
    /// Replace the output if it exists.
    #[arg(long, short = 'f')]
    pub force: bool,
}

pub(crate) fn parse_format(s: &str) -> Result<DataFormat, String> {
    s.parse::<DataFormat>().map_err(|e| e.to_string())
}

pub(crate) fn parse_revision(s: &str) -> Result<Revision, String> {
    s.parse::<Revision>().map_err(|e| e.to_string())
}

/// Run `pqe convert`.
pub fn run(args: Args) -> Result<()> {
    if args.output.exists() && !args.force {
        bail!(
            "{} exists (use --force to replace it)",
            args.output.display()
        );
    }
    if same_file(&args.input, &args.output) {
        bail!(
            "input and output are the same file: {}",
            args.input.display()
        );
    }
    let mut reader = pqe_io::open(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let info = reader.info().clone();
    let options = pqe_io::WriteOptions {
        comtrade: ComtradeWriteOptions {
            format: args.comtrade_format,
            revision: args.revision,
        },
    };
    let mut writer = pqe_io::create(&args.output, &info, options)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    super::for_each_block(reader.as_mut(), "converting", true, |b| {
        Ok(writer.write_block(b)?)
    })
    .with_context(|| format!("converting {}", args.input.display()))?;
    writer
        .finish()
        .with_context(|| format!("finishing {}", args.output.display()))?;
    Ok(())
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
