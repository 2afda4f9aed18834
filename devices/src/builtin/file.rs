//! `replay:PATH?speed=1|max&block=N` and `synth:SCENARIO.toml?speed=1|max&block=N`:
//! a recording played back, or the scenario generator rendering, as a live source.
//!
//! `speed=1` (the default) paces blocks in real time (`speed=4` four times as fast),
//! `speed=max` delivers them as fast as they are read. Blocks keep the recording's times,
//! so a replay analyses exactly as the file does.

use crate::error::DeviceError;
use crate::source::{Delivery, LiveSource};
use crate::uri::DeviceUri;
use pqe_core::{Block, RecordingInfo, Timestamp};
use std::time::{Duration, Instant};

/// How fast a recorded or generated stream is delivered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// Paced: this many seconds of recording per second of wall-clock time.
    Factor(f64),
}

impl std::str::FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "max" {
            return Ok(Speed::Max);
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
            _ => Err(format!("'{s}' is neither 'max' nor a positive factor")),
        }
    }
}

/// Holds blocks back until their last sample is due in wall-clock time.
#[derive(Debug)]
pub struct Pacer {
    speed: Speed,
    wall_start: Option<Instant>,
    stream_start: Timestamp,
}

impl Pacer {
    /// A pacer for a stream starting at `stream_start`.
    pub fn new(speed: Speed, stream_start: Timestamp) -> Self {
        Pacer {
            speed,
            wall_start: None,
            stream_start,
        }
    }
    /// Wait until the stream time `end` is due.
    pub fn wait_until(&mut self, end: Timestamp) {
        let Speed::Factor(f) = self.speed else {
            return;
        };
        let start = *self.wall_start.get_or_insert_with(Instant::now);
        let due =
            start + Duration::from_secs_f64((end.seconds_since(self.stream_start) / f).max(0.0));
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

pub(crate) fn block_end(b: &Block) -> Timestamp {
    if b.sample_rate() > 0.0 {
        b.start().add_seconds(b.len() as f64 / b.sample_rate())
    } else {
        b.start()
    }
}

/// `synth:SCENARIO.toml`: the scenario generator (pqe_dsp::synth) as a live source.
pub struct SynthSource {
    generator: pqe_dsp::synth::Generator,
    info: RecordingInfo,
    block: usize,
    pacer: Pacer,
    done: bool,
}

impl SynthSource {
    /// Open `synth:SCENARIO.toml?speed=...&block=...`.
    pub fn open(uri: &DeviceUri) -> Result<SynthSource, DeviceError> {
        uri.check_params(&["speed", "block"])?;
        let path = uri.path();
        if path.is_empty() {
            return Err(uri.error("synth: needs a scenario file, e.g. synth:scenario.toml"));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| DeviceError::Core(pqe_core::Error::io(path, e)))?;
        let scenario = pqe_dsp::synth::Scenario::from_toml_str_named(&text, path)?;
        let info = scenario.recording_info();
        let default_block = (info.sample_rate / 10.0).ceil().max(1.0) as usize;
        let block: usize = uri.param_or("block", default_block)?;
        if block == 0 {
            return Err(uri.error("block must be at least 1 sample"));
        }
        let speed: Speed = uri.param_or("speed", Speed::Factor(1.0))?;
        Ok(SynthSource {
            generator: scenario.generator(),
            pacer: Pacer::new(speed, info.start),
            info,
            block,
            done: false,
        })
    }
}

impl LiveSource for SynthSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }
    fn driver(&self) -> &str {
        "synth"
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        if self.done {
            return Ok(Delivery::End);
        }
        match self.generator.next_block(self.block) {
            Some(b) => {
                self.pacer.wait_until(block_end(&b));
                Ok(Delivery::Block(b))
            }
            None => {
                self.done = true;
                Ok(Delivery::End)
            }
        }
    }
    fn stop(&mut self) {
        self.done = true;
    }
}
