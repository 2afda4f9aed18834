//! What a recording holds, as its header describes it.

use crate::{ChannelSpec, DigitalChannelSpec, Timestamp};
use serde::{Deserialize, Serialize};

/// The description of a recording: its channels, timing and provenance. Readers fill it from
/// a file's header; writers take it to write one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// Station name (COMTRADE `station_name`).
    pub station: String,
    /// Recording device (COMTRADE `rec_dev_id`).
    pub device: String,
    /// Analog channels, in file order.
    pub channels: Vec<ChannelSpec>,
    /// Digital channels, in file order.
    pub digital_channels: Vec<DigitalChannelSpec>,
    /// Samples per second; 0 when samples carry their own times (COMTRADE rate 0).
    pub sample_rate: f64,
    /// The sampling rates and the last sample number (1-based) at which each ends, as a
    /// COMTRADE file lists them; one entry for a file with one rate.
    pub rate_segments: Vec<(f64, u64)>,
    /// Time of the first sample.
    pub start: Timestamp,
    /// Trigger time, where the recording has one.
    pub trigger: Option<Timestamp>,
    /// Nominal line frequency stated by the file, in hertz (0 when not stated).
    pub line_frequency: f64,
    /// Samples per channel, when the header or file size tells it.
    pub total_samples: Option<u64>,
    /// Offset of the recording's clock to UTC, as stated (COMTRADE 2013 `time_code`).
    pub time_code: Option<String>,
}

impl RecordingInfo {
    /// A recording of `channels` at `sample_rate` starting at `start`, with nothing else known.
    pub fn new(channels: Vec<ChannelSpec>, sample_rate: f64, start: Timestamp) -> Self {
        RecordingInfo {
            station: String::new(),
            device: String::new(),
            channels,
            digital_channels: Vec::new(),
            sample_rate,
            rate_segments: Vec::new(),
            start,
            trigger: None,
            line_frequency: 0.0,
            total_samples: None,
            time_code: None,
        }
    }
    /// Index of the analog channel called `name`.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels.iter().position(|c| c.name == name)
    }
    /// Duration in seconds, when the sample count and a constant rate are known.
    pub fn duration_seconds(&self) -> Option<f64> {
        match (self.total_samples, self.sample_rate) {
            (Some(n), r) if r > 0.0 => Some(n as f64 / r),
            _ => None,
        }
    }
}
