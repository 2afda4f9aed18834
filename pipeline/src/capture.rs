//! Waveform captures of events as COMTRADE files (IEC 60255-24), like a Class A meter's
//! disturbance recorder: the event's samples plus configured pre- and post-trigger cycles,
//! one `.cfg`/`.dat` pair per event under `captures/`.
//!
//! The analysis streams, so the recorder keeps a bounded window of recent samples
//! ([`CaptureRecorder::RETAIN_SECONDS`] plus the pre/post cycles, shortened so that it
//! holds at most [`CaptureRecorder::RETAIN_BYTES`] of samples: at 500 kHz, 75 s of six
//! channels would be 1.8 GB). An event longer than the window is captured from the part
//! still held, and the capture is reported as truncated.

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

    /// Most bytes of samples the window holds (8 per analog and 1 per digital channel and
    /// sample; the pre/post cycles are held whatever this says): 64 MiB keeps the full
    /// [`Self::RETAIN_SECONDS`] up to 8 channels at 12.8 kHz and shortens it at higher
    /// rates (2.8 s of 6 channels at 500 kHz). While a capture waits for its samples the
    /// recorder may hold up to twice the window.
    pub const RETAIN_BYTES: u64 = 64 << 20;

    /// Samples per channel the window of a recorder for `info` holds, with `extra_seconds`
    /// of pre/post cycles.
    pub fn window_samples(info: &RecordingInfo, extra_seconds: f64) -> u64 {
        let wanted = ((Self::RETAIN_SECONDS + extra_seconds) * info.sample_rate).ceil() as u64;
        let frame = (8 * info.channels.len() + info.digital_channels.len()).max(1) as u64;
        let cycles = (extra_seconds * info.sample_rate).ceil() as u64;
        wanted.min((Self::RETAIN_BYTES / frame).max(cycles))
    }

    /// A recorder writing into `out/captures`, at most `max` files.
    pub fn new(out: &Path, info: &RecordingInfo, extra_seconds: f64, max: usize) -> Self {
        let retain = Self::window_samples(info, extra_seconds);
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

    /// The samples `from..to` of the analog channels `channels` (recording sample indices),
    /// when the window still holds all of them without a break; `Err` says what is
    /// missing.
    pub fn samples(
        &self,
        from: u64,
        to: u64,
        channels: &[usize],
    ) -> std::result::Result<Vec<Vec<f64>>, String> {
        let held_start = self.blocks.front().map_or(0, |b| b.first_sample());
        if from < held_start {
            return Err(format!(
                "the samples before the event had left the window of {:.1} s",
                self.retain as f64 / self.info.sample_rate
            ));
        }
        if to > self.end_sample() {
            return Err("the samples after the event's start are not all there".into());
        }
        let mut out = vec![Vec::with_capacity((to - from) as usize); channels.len()];
        let mut next = from;
        for b in &self.blocks {
            let b0 = b.first_sample();
            let b1 = b0 + b.len() as u64;
            if b1 <= next || b0 >= to {
                continue;
            }
            if b0 > next {
                return Err(format!(
                    "a gap of {} samples lies around the event",
                    b0 - next
                ));
            }
            let (i0, i1) = ((next - b0) as usize, (to.min(b1) - b0) as usize);
            for (col, &c) in out.iter_mut().zip(channels) {
                col.extend_from_slice(&b.channel(c)[i0..i1]);
            }
            next = to.min(b1);
        }
        if next < to {
            return Err("the samples after the event's start are not all there".into());
        }
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use pqe_core::{ChannelSpec, Timestamp};

    fn info(channels: usize, sample_rate: f64) -> RecordingInfo {
        let specs = (0..channels)
            .map(|c| ChannelSpec::new(format!("V{c}"), "V"))
            .collect();
        RecordingInfo::new(specs, sample_rate, Timestamp::from_nanos(0))
    }

    #[test]
    fn the_window_is_75_s_at_mains_recorder_rates() {
        // 6 channels at 10.24 kHz (the demo), 8 at 12.8 kHz: the whole 75 s and 20 cycles.
        for (channels, rate) in [(6, 10_240.0), (8, 12_800.0)] {
            let want = ((CaptureRecorder::RETAIN_SECONDS + 0.4) * rate).ceil() as u64;
            assert_eq!(
                CaptureRecorder::window_samples(&info(channels, rate), 0.4),
                want
            );
        }
    }

    #[test]
    fn the_window_holds_at_most_its_bytes_at_high_rates() {
        // 6 channels at 500 kHz: 64 MiB / 48 bytes = 1 398 101 samples (2.8 s), not 75 s.
        let n = CaptureRecorder::window_samples(&info(6, 500_000.0), 0.4);
        assert_eq!(n, CaptureRecorder::RETAIN_BYTES / 48);
        // The pre/post cycles are held whatever the budget says.
        assert_eq!(
            CaptureRecorder::window_samples(&info(6, 500_000.0), 10.0),
            5_000_000
        );
        // Pushed 6 s of one channel at 2 MHz (12 M samples, 96 MB), nothing pending, it
        // holds no more than the window and one block (64 MiB + 0.5 MiB).
        let dir = tempfile::tempdir().unwrap();
        let rec_info = info(1, 2_000_000.0);
        let mut r = CaptureRecorder::new(dir.path(), &rec_info, 0.4, 10);
        let window = CaptureRecorder::window_samples(&rec_info, 0.4);
        assert_eq!(window, CaptureRecorder::RETAIN_BYTES / 8);
        let len = 65_536;
        let mut first = 0u64;
        let mut most = 0u64;
        while first < 12_000_000 {
            let start = Timestamp::from_nanos((first as f64 / 2e6 * 1e9) as i64);
            let b = Block::from_planar(start, 2e6, first, 1, vec![0.0; len]).unwrap();
            r.push(Arc::new(b)).unwrap();
            first += len as u64;
            most = most.max(r.blocks.iter().map(|b| b.len() as u64).sum());
        }
        assert!(most <= window + len as u64, "{most} > {window} + {len}");
        assert!(most >= window, "{most} < {window}");
    }
}
