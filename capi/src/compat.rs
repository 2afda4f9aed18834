//! TEMPORARY until `pqe_pipeline::analyze_source` lands on main: a Source read through
//! `analyze_reader` (gaps still show in the block times; warnings are dropped).

use pqe_core::{Block, CancelToken, RecordingInfo, Source, SourceEvent};
use pqe_pipeline::{Observer, ValidSettings};
use std::path::Path;

struct SourceReader {
    source: Box<dyn Source>,
    info: RecordingInfo,
    cancel: CancelToken,
}

impl pqe_io::RecordingReader for SourceReader {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }
    fn read_block(&mut self, max_samples: usize) -> pqe_core::Result<Option<Block>> {
        loop {
            match self.source.next_event(max_samples, &self.cancel)? {
                Some(SourceEvent::Block(b)) => return Ok(Some(b)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }
}

pub fn analyze_source(
    source: Box<dyn Source>,
    input: &Path,
    out: &Path,
    valid: &ValidSettings,
    observer: &mut dyn Observer,
) -> pqe_pipeline::Result<serde_json::Value> {
    let info = source.info().cloned().expect("info known up front");
    let reader = SourceReader {
        source,
        info,
        cancel: CancelToken::new(),
    };
    pqe_pipeline::analyze_reader(Box::new(reader), input, out, valid, observer)
}
