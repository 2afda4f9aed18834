//! Waveform captures of events as COMTRADE files (IEC 60255-24), like a Class A meter's
//! disturbance recorder: the event's samples plus configured pre- and post-trigger cycles,
//! one `.cfg`/`.dat` pair per event under `captures/`.
//!
//! The analysis streams, so the recorder keeps a bounded window of recent samples
//! ([`CaptureRecorder::RETAIN_SECONDS`] plus the pre/post cycles). An event longer than
//! that is captured from the part still held, and the capture is reported as truncated.

use anyhow::{Context, Result};
use pqe_core::record::{CaptureTrigger, EventRecord};
use pqe_core::{Block, RecordingInfo};
use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One capture written (or refused) by the recorder, for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaptureFile {
    /// The event's running number.
    pub event: u64,
    /// The `.cfg` written, relative to the output folder.
    pub file: String,
    /// Samples per channel in the capture.
    pub samples: u64,
    /// True when the start of the wanted span had already left the recorder's window.
    pub truncated: bool,
}

/// Keeps recent samples and writes a COMTRADE capture for each trigger.
pub struct CaptureRecorder {
    dir: PathBuf,
    info: RecordingInfo,
    retain: u64,
    blocks: VecDeque<Arc<Block>>,
    pending: Vec<(CaptureTrigger, String)>,
    max: usize,
    written: Vec<CaptureFile>,
    skipped: usize,
}

impl CaptureRecorder {
    /// Seconds of samples held besides the pre/post cycles: events up to this long are
    /// captured whole.
    pub const RETAIN_SECONDS: f64 = 75.0;

    /// A recorder writing into `out/captures`, at most `max` files.
    pub fn new(out: &Path, info: &RecordingInfo, extra_seconds: f64, max: usize) -> Self {
        let retain = ((Self::RETAIN_SECONDS + extra_seconds) * info.sample_rate).ceil() as u64;
        CaptureRecorder {
            dir: out.join("captures"),
            info: info.clone(),
            retain,
            blocks: VecDeque::new(),
            pending: Vec::new(),
            max,
            written: Vec::new(),
            skipped: 0,
        }
    }

    /// Feed the samples the analyzer was fed (shared, not copied).
    pub fn push(&mut self, block: Arc<Block>) -> Result<()> {
        self.blocks.push_back(block);
        let end = self.end_sample();
        while let Some(front) = self.blocks.front() {
            let front_end = front.first_sample() + front.len() as u64;
            let still_needed = self
                .pending
                .iter()
                .any(|(t, _)| t.capture_start_sample < front_end);
            if end.saturating_sub(front_end) >= self.retain && !still_needed {
                self.blocks.pop_front();
            } else if end.saturating_sub(front_end) >= 2 * self.retain {
                // Never hold more than twice the window, whatever is pending.
                self.blocks.pop_front();
            } else {
                break;
            }
        }
        self.flush_ready(false)
    }

    /// Remember a trigger; its capture is written once its last sample has arrived.
    pub fn trigger(&mut self, trigger: CaptureTrigger, event: Option<&EventRecord>) -> Result<()> {
        if self.written.len() + self.pending.len() >= self.max {
            self.skipped += 1;
            return Ok(());
        }
        let label = event.map_or_else(String::new, |e| {
            let phases = e.phases_label();
            if phases.is_empty() {
                String::new()
            } else {
                format!("_{}", phases.replace('+', ""))
            }
        });
        self.pending.push((trigger, label));
        self.flush_ready(false)
    }

    /// Write what is still pending with the samples there are, and report.
    pub fn finish(mut self) -> Result<(Vec<CaptureFile>, usize)> {
        self.flush_ready(true)?;
        Ok((self.written, self.skipped))
    }

    fn end_sample(&self) -> u64 {
        self.blocks
            .back()
            .map_or(0, |b| b.first_sample() + b.len() as u64)
    }

    fn flush_ready(&mut self, all: bool) -> Result<()> {
        let end = self.end_sample();
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(t, _)| all || t.capture_end_sample <= end);
        self.pending = waiting;
        for (t, label) in ready {
            self.write(&t, &label)?;
        }
        Ok(())
    }

    fn write(&mut self, t: &CaptureTrigger, label: &str) -> Result<()> {
        let held_start = self.blocks.front().map_or(0, |b| b.first_sample());
        let from = t.capture_start_sample.max(held_start);
        let to = t.capture_end_sample.min(self.end_sample());
        if to <= from {
            self.skipped += 1;
            return Ok(());
        }
        let n_analog = self.info.channels.len();
        let n_digital = self.info.digital_channels.len();
        let mut analog = vec![Vec::with_capacity((to - from) as usize); n_analog];
        let mut digital = vec![Vec::with_capacity((to - from) as usize); n_digital];
        let mut start = None;
        for b in &self.blocks {
            let b0 = b.first_sample();
            let b1 = b0 + b.len() as u64;
            if b1 <= from || b0 >= to {
                continue;
            }
            let part = b.slice((from.max(b0) - b0) as usize, (to.min(b1) - b0) as usize);
            start.get_or_insert(part.start());
            for (c, col) in analog.iter_mut().enumerate() {
                col.extend_from_slice(part.channel(c));
            }
            for (d, col) in digital.iter_mut().enumerate() {
                col.extend_from_slice(part.digital(d));
            }
        }
        let start = start.expect("the span overlaps a held block");
        let block = Block::from_channels(start, self.info.sample_rate, 0, analog)?
            .with_digital(n_digital, digital.concat())?;

        let mut info = self.info.clone();
        info.start = start;
        info.trigger = Some(t.trigger);
        info.total_samples = Some(to - from);
        info.rate_segments = vec![(info.sample_rate, to - from)];
        if info.station.is_empty() {
            info.station = "pqe".into();
        }
        info.device = format!(
            "pqe capture of event {} ({})",
            t.event_index,
            t.kind.as_str()
        );
        // Integer sources keep their integers (BINARY with the source's scaling); others
        // keep float precision.
        let format = if info.channels.iter().all(|c| c.scaling.is_some()) {
            DataFormat::Binary
        } else {
            DataFormat::Float32
        };
        let options = pqe_io::WriteOptions {
            comtrade: ComtradeWriteOptions {
                format,
                revision: Revision::R2013,
            },
        };
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let stamp = t.trigger.to_naive().format("%Y%m%dT%H%M%S%.3f");
        let name = format!(
            "event{:04}_{}{}_{}.cfg",
            t.event_index,
            t.kind.as_str(),
            label,
            stamp
        );
        let path = self.dir.join(&name);
        let mut writer = pqe_io::create(&path, &info, options)
            .with_context(|| format!("cannot write {}", path.display()))?;
        writer.write_block(&block)?;
        writer
            .finish()
            .with_context(|| format!("finishing {}", path.display()))?;
        self.written.push(CaptureFile {
            event: t.event_index,
            file: format!("captures/{name}"),
            samples: to - from,
            truncated: from > t.capture_start_sample || to < t.capture_end_sample,
        });
        Ok(())
    }
}
