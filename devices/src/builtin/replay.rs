//! `replay:PATH?speed=1|max&block=N`: a recording (any format pqe-io reads) played back
//! as a live source, paced in real time or as fast as possible, with the recording's times.

use super::file::{block_end, Pacer, Speed};
use crate::error::{DeviceError, Fault};
use crate::source::{fault, Delivery, LiveSource};
use crate::uri::DeviceUri;
use pqe_core::RecordingInfo;

/// `replay:PATH`: a recording (any format pqe-io reads) as a live source.
pub struct ReplaySource {
    reader: Box<dyn pqe_io::RecordingReader>,
    path: String,
    block: usize,
    pacer: Pacer,
    done: bool,
}

impl ReplaySource {
    /// Open `replay:PATH?speed=...&block=...`.
    pub fn open(uri: &DeviceUri) -> Result<ReplaySource, DeviceError> {
        uri.check_params(&["speed", "block"])?;
        if uri.path().is_empty() {
            return Err(uri.error("replay: needs a file, e.g. replay:rec.cfg?speed=max"));
        }
        let speed: Speed = uri.param_or("speed", Speed::Factor(1.0))?;
        let reader = pqe_io::open(std::path::Path::new(uri.path()))?;
        let rate = reader.info().sample_rate;
        let default_block = if rate > 0.0 {
            (rate / 10.0).ceil() as usize
        } else {
            1024
        };
        let block: usize = uri.param_or("block", default_block.max(1))?;
        if block == 0 {
            return Err(uri.error("block must be at least 1 sample"));
        }
        let start = reader.info().start;
        Ok(ReplaySource {
            reader,
            path: uri.path().to_string(),
            block,
            pacer: Pacer::new(speed, start),
            done: false,
        })
    }
}

impl LiveSource for ReplaySource {
    fn info(&self) -> &RecordingInfo {
        self.reader.info()
    }
    fn driver(&self) -> &str {
        "replay"
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        if self.done {
            return Ok(Delivery::End);
        }
        match self.reader.read_block(self.block) {
            Ok(Some(b)) => {
                self.pacer.wait_until(block_end(&b));
                Ok(Delivery::Block(b))
            }
            Ok(None) => {
                self.done = true;
                Ok(Delivery::End)
            }
            Err(e) => {
                self.done = true;
                Err(fault("replay", &self.path, Fault::Io, e.to_string()))
            }
        }
    }
    fn stop(&mut self) {
        self.done = true;
    }
}
