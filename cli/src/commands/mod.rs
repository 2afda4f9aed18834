//! One module per subcommand.

pub mod analyze;
pub mod batch;
pub mod convert;
pub mod devices;
pub mod generate;
pub mod inspect;

use anyhow::Result;
use pqe_io::RecordingReader;

/// Samples per channel read at a time: large enough to amortise per-block work, small enough
/// to keep memory bounded on any recording.
pub const BLOCK_SAMPLES: usize = 65_536;

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
