//! One module per subcommand.

pub mod analyze;
pub mod batch;
pub mod capture;
pub mod convert;
pub mod devices;
pub mod generate;
pub mod inspect;
pub mod meter;
pub mod metertest;
pub mod monitor;

use anyhow::Result;
use pqe_io::RecordingReader;

/// Samples per channel read at a time (the pipeline's).
pub use pqe_pipeline::BLOCK_SAMPLES;

/// Read every block of `reader`, passing each to `sink`, with a progress bar over the data.
pub fn for_each_block(
    reader: &mut dyn RecordingReader,
    what: &str,
    progress: bool,
    mut sink: impl FnMut(&pqe_core::Block) -> Result<()>,
) -> Result<()> {
    let (_, total) = reader.progress();
    let pb = if progress {
        crate::progress::bar(total.or(reader.info().total_samples), what)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let by_bytes = total.is_some();
    while let Some(block) = reader.read_block(BLOCK_SAMPLES)? {
        sink(&block)?;
        if by_bytes {
            pb.set_position(reader.progress().0);
        } else {
            pb.inc(block.len() as u64);
        }
    }
    pb.finish_and_clear();
    Ok(())
}
