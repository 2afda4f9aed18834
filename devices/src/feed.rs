//! [`DeviceSource`]: a live device seen as a [`pqe_core::Source`], so the pipeline analyses
//! it exactly as it analyses a file.
//!
//! The device's [`Delivery`]s become [`SourceEvent`]s: blocks pass through (cut to the
//! run loop's block size and to the requested duration), a [`crate::Gap`] becomes the
//! core's [`pqe_core::Gap`] (flagged by the analysis in the intervals it touches, listed in
//! summary.json), and a driver fault ends the source cleanly: the samples before it are
//! analysed, the fault is announced with the driver's name (as a gap up to the requested
//! end where a duration was asked for, else as a warning), and [`Outcome::fault`] keeps it
//! for the front to report. A [`StopSignal`] (Ctrl-C, SIGTERM, a Python caller) ends the
//! source at its next delivery, so the analysis finishes with everything so far.

use crate::error::DeviceError;
use crate::source::{Delivery, LiveSource};
use pqe_core::{
    Block, CancelToken, Gap, Progress, RecordingInfo, Source, SourceEvent, SourceWarning, Timestamp,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A flag that ends a [`DeviceSource`] cleanly at its next delivery (Ctrl-C, SIGTERM, a
/// caller's stop). Cheap to clone; every clone trips the same flag.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the source to end.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Release);
    }
    /// True once [`StopSignal::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Why a [`DeviceSource`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The device's stream ended (a replay at its end, a stream's last packet).
    EndOfStream,
    /// The requested duration was reached.
    Duration,
    /// The [`StopSignal`] was given.
    Stopped,
    /// The driver failed; see [`Outcome::fault`].
    Fault,
}

/// What a [`DeviceSource`] did, readable by the front after the run (the source itself is
/// moved into the run loop).
#[derive(Debug, Default)]
pub struct Outcome {
    /// How it ended, once it has.
    pub ending: Option<Ending>,
    /// The driver's fault that ended it, naming the driver.
    pub fault: Option<String>,
    /// Samples per channel delivered.
    pub samples: u64,
    /// Gaps announced.
    pub gaps: u64,
}

/// A live device as a [`Source`] for the pipeline (see the [module documentation](self)).
pub struct DeviceSource {
    live: Box<dyn LiveSource>,
    info: RecordingInfo,
    stop: StopSignal,
    /// Seconds of recording time to deliver, from the first sample.
    duration: Option<f64>,
    /// Time of the first delivered sample (or gap), the origin of `duration`.
    origin: Option<Timestamp>,
    /// The end of what was delivered (the time the next sample is due).
    reached: Option<Timestamp>,
    /// Index the next delivered sample would have, counting missing ones.
    next_index: u64,
    /// A gap whose end is known only when data resumes.
    open_gap: Option<crate::Gap>,
    /// Events ready to hand out (a block's remainder after cutting, a gap then its block).
    ready: VecDeque<SourceEvent>,
    outcome: Arc<Mutex<Outcome>>,
    ended: bool,
}

impl DeviceSource {
    /// Wrap the opened device `live`; it ends after `duration` seconds of recording time
    /// when given, or when `stop` is tripped.
    pub fn new(live: Box<dyn LiveSource>, duration: Option<f64>, stop: StopSignal) -> Self {
        let info = live.info().clone();
        DeviceSource {
            live,
            info,
            stop,
            duration,
            origin: None,
            reached: None,
            next_index: 0,
            open_gap: None,
            ready: VecDeque::new(),
            outcome: Arc::new(Mutex::new(Outcome::default())),
            ended: false,
        }
    }

    /// Open `uri` through `registry` and wrap it.
    pub fn open(
        registry: &crate::Registry,
        uri: &str,
        duration: Option<f64>,
        stop: StopSignal,
    ) -> Result<Self, DeviceError> {
        if let Some(d) = duration {
            if !(d.is_finite() && d > 0.0) {
                return Err(DeviceError::Uri {
                    uri: crate::uri::redact(uri),
                    message: format!("duration {d} s: give a positive number of seconds"),
                });
            }
        }
        Ok(DeviceSource::new(registry.open(uri)?, duration, stop))
    }

    /// The driver's name.
    pub fn driver(&self) -> &str {
        self.live.driver()
    }

    /// A handle on what the source did, to read after the run.
    pub fn outcome(&self) -> Arc<Mutex<Outcome>> {
        Arc::clone(&self.outcome)
    }

    fn end(&mut self, how: Ending) {
        if !self.ended {
            self.ended = true;
            self.live.stop();
            let mut o = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
            o.ending = Some(how);
        }
    }

    /// The time the requested duration ends, once the origin is known.
    fn end_time(&self) -> Option<Timestamp> {
        Some(self.origin?.add_seconds(self.duration?))
    }

    fn rate(&self) -> f64 {
        self.info.sample_rate
    }

    fn gap_event(&mut self, start: Timestamp, end: Timestamp, reason: String) -> SourceEvent {
        if end.0 <= start.0 {
            return SourceEvent::Warning(SourceWarning::new(reason));
        }
        let missing = (end.seconds_since(start) * self.rate()).round().max(0.0) as u64;
        let gap = Gap {
            start,
            end,
            first_missing_sample: Some(self.next_index),
            missing_samples: Some(missing),
            reason,
        };
        self.next_index += missing;
        self.reached = Some(end);
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).gaps += 1;
        SourceEvent::Gap(gap)
    }

    /// Queue `block` (and the gap before it, if one is open), cut at the requested end.
    fn take_block(&mut self, block: Block) {
        if block.is_empty() {
            return;
        }
        let start = block.start();
        self.origin.get_or_insert(start);
        if let Some(g) = self.open_gap.take() {
            let end = g.to.unwrap_or(start);
            let end = self.end_time().map_or(end, |t| Timestamp(end.0.min(t.0)));
            let e = self.gap_event(g.from, end, g.reason);
            self.ready.push_back(e);
        }
        let mut block = block;
        if let Some(t) = self.end_time() {
            if start.0 >= t.0 {
                self.end(Ending::Duration);
                return;
            }
            let keep = (t.seconds_since(start) * self.rate()).round() as usize;
            if keep < block.len() {
                block = block.slice(0, keep.max(1));
            }
        }
        let n = block.len() as u64;
        self.next_index += n;
        self.reached = Some(start.add_seconds(n as f64 / self.rate()));
        self.outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .samples += n;
        self.ready.push_back(SourceEvent::Block(block));
        if self
            .end_time()
            .zip(self.reached)
            .is_some_and(|(t, r)| r.0 >= t.0 - (0.5e9 / self.rate()) as i64)
        {
            self.end(Ending::Duration);
        }
    }

    /// Close the stream after a driver fault: the fault as a gap up to the requested end
    /// (a duration was asked for) or as a warning.
    fn take_fault(&mut self, e: DeviceError) {
        let text = e.to_string();
        let reason = format!("{text}; the source ended here, the results before it are kept");
        let from = self
            .open_gap
            .take()
            .map(|g| g.from)
            .or(self.reached)
            .unwrap_or(self.info.start);
        let event = match self.end_time() {
            Some(t) if t.0 > from.0 => self.gap_event(from, t, reason),
            _ => SourceEvent::Warning(SourceWarning::new(reason)),
        };
        self.ready.push_back(event);
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).fault = Some(text);
        self.end(Ending::Fault);
    }

    /// The stream ended with a gap still open (the device never resumed).
    fn close_open_gap(&mut self) {
        if let Some(g) = self.open_gap.take() {
            let reason = format!("{}; the data did not resume before the end", g.reason);
            let event = match g.to.or(self.end_time()) {
                Some(t) => self.gap_event(g.from, t, reason),
                None => SourceEvent::Warning(SourceWarning::new(reason)),
            };
            self.ready.push_back(event);
        }
    }
}

impl Source for DeviceSource {
    fn info(&self) -> Option<&RecordingInfo> {
        Some(&self.info)
    }

    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> pqe_core::Result<Option<SourceEvent>> {
        let max_samples = max_samples.max(1);
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Some(match event {
                    SourceEvent::Block(b) if b.len() > max_samples => {
                        self.ready
                            .push_front(SourceEvent::Block(b.slice(max_samples, b.len())));
                        SourceEvent::Block(b.slice(0, max_samples))
                    }
                    e => e,
                }));
            }
            if self.ended {
                return Ok(None);
            }
            cancel.check()?;
            if self.stop.is_stopped() {
                self.close_open_gap();
                self.end(Ending::Stopped);
                continue;
            }
            match self.live.next() {
                Ok(Delivery::Block(b)) => self.take_block(b),
                Ok(Delivery::Gap(g)) => {
                    self.origin.get_or_insert(g.from);
                    // Two gaps in a row (a restart that failed again): one span, both reasons.
                    let g = match self.open_gap.take() {
                        Some(prev) => crate::Gap {
                            from: prev.from,
                            to: g.to,
                            reason: format!("{}; {}", prev.reason, g.reason),
                        },
                        None => g,
                    };
                    self.open_gap = Some(g);
                }
                Ok(Delivery::End) => {
                    self.close_open_gap();
                    self.end(Ending::EndOfStream);
                }
                Err(e) => self.take_fault(e),
            }
        }
    }

    fn progress(&self) -> Progress {
        let seconds = match (self.origin, self.reached) {
            (Some(o), Some(r)) => r.seconds_since(o),
            _ => 0.0,
        };
        Progress {
            seconds,
            total_seconds: self.duration,
            bytes: None,
            total_bytes: None,
        }
    }
}
