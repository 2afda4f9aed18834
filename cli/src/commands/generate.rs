//! `pqe generate`: synthesise a recording from a TOML scenario.

use anyhow::{bail, Context, Result};
use pqe_dsp::synth::Scenario;
use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
use std::path::PathBuf;

/// Arguments of `pqe generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario (TOML; see docs/scenarios.md and datasets/scenarios/).
    pub scenario: PathBuf,
    /// The recording to write; its extension chooses the format (.cfg, .cff, .csv, .h5).
    pub output: PathBuf,
    /// COMTRADE data format.
    #[arg(long, default_value = "float32", value_parser = super::convert::parse_format)]
    pub comtrade_format: DataFormat,
    /// COMTRADE revision.
    #[arg(long, default_value = "2013", value_parser = super::convert::parse_revision)]
    pub revision: Revision,
    /// Replace the output if it exists.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// Run `pqe generate`.
pub fn run(args: Args) -> Result<()> {
    if args.output.exists() && !args.force {
        bail!(
            "{} exists (use --force to replace it)",
            args.output.display()
        );
    }
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let scenario = Scenario::from_toml_str(&text)
        .with_context(|| format!("scenario {}", args.scenario.display()))?;
    let info = scenario.recording_info();
    let options = pqe_io::WriteOptions {
        comtrade: ComtradeWriteOptions {
            format: args.comtrade_format,
            revision: args.revision,
        },
    };
    let mut writer = pqe_io::create(&args.output, &info, options)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let pb = crate::progress::bar(Some(scenario.total_samples()), "generating");
    let mut generator = scenario.generator();
    while let Some(block) = generator.next_block(super::BLOCK_SAMPLES) {
        writer.write_block(&block)?;
        pb.inc(block.len() as u64);
    }
    pb.finish_and_clear();
    writer
        .finish()
        .with_context(|| format!("finishing {}", args.output.display()))?;
    Ok(())
}
