//! [`Source`]: the one abstraction every input of the engine implements.
//!
//! A recording file, a numpy array, the pushes of a C caller, a device streaming over TCP,
//! a scenario synthesised on the fly: to the run loop each is a `Source` that hands out
//! [`SourceEvent`]s one at a time until it ends. The contract, which every implementation
//! keeps and every consumer may rely on:
//!
//! 1. **Blocks carry absolute time.** Every [`SourceEvent::Block`] holds a [`Block`] whose
//!    [`Block::start`] is the absolute time of its first sample. Consecutive blocks follow
//!    each other without overlap: a block starts where the previous one ended (one sample
//!    period after its last sample), or later, and then a [`SourceEvent::Gap`] comes between
//!    them. A source never moves back in time; an input that does (a pushed block that
//!    overlaps the previous one) is a [`StreamErrorKind::Overlap`] error, never reordered.
//! 2. **Gaps are events.** Samples that are missing (a recorder that lost power, a network
//!    that dropped packets, an irregular time column) are announced by a [`Gap`] naming the
//!    missing span. They are neither zero-filled nor joined silently to the data around
//!    them; the consumer decides (the analysis flags the intervals that touch a gap, as
//!    IEC 61000-4-30 §4.7 flags intervals with unreliable data). A gap may also come last,
//!    when the input promised data it does not hold (a truncated file).
//! 3. **Metadata up front for files, possibly late for live inputs.** [`Source::info`]
//!    returns `Some` from the moment the source exists for a file, and at the latest when the
//!    first block is returned for a live input (a device may learn its channels from its
//!    first frame). It does not change once known; a device that changes its channels ends
//!    the stream (an error) and a new source starts.
//! 4. **Warnings are events.** Something the user must hear but that does not stop the
//!    reading ("the .dat ends at record 150000, the .cfg says 307200") is a
//!    [`SourceEvent::Warning`] at the point of the stream where it applies, with the place
//!    at fault where one can be named.
//! 5. **Progress in recording time**, and in bytes where the source knows them:
//!    [`Source::progress`], cheap to call after every event.
//! 6. **Cancellation.** The run loop owns a [`CancelToken`] and passes it to every
//!    [`Source::next_event`]; a source that waits (a socket, a device, a paced replay) checks
//!    it at least once per read deadline and then returns [`Error::Cancelled`]. A source
//!    that never waits may ignore it: the run loop checks the token between events.
//! 7. **The end** is `Ok(None)`. After `Ok(None)` or an error the source is not resumed;
//!    further calls return `Ok(None)` or an error again, never more data.
//!
//! Reading a source to its end, in the shape the run loop has:
//!
//! ```
//! use pqe_core::{Block, CancelToken, Source, SourceEvent, Timestamp, VecSource};
//! # fn main() -> pqe_core::Result<()> {
//! let block = Block::from_channels(Timestamp(0), 1000.0, 0, vec![vec![0.0; 100]])?;
//! let mut source = VecSource::new(None, vec![SourceEvent::Block(block)]);
//! let cancel = CancelToken::new();
//! let mut samples = 0;
//! while let Some(event) = source.next_event(4096, &cancel)? {
//!     match event {
//!         SourceEvent::Block(b) => samples += b.len(),
//!         SourceEvent::Gap(g) => eprintln!("gap: {g}"),
//!         SourceEvent::Warning(w) => eprintln!("warning: {w}"),
//!     }
//! }
//! assert_eq!(samples, 100);
//! # Ok(()) }
//! ```

use crate::{Block, Error, Location, RecordingInfo, Result, StreamErrorKind, Timestamp};
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One thing a [`Source`] hands out.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// Samples, with the absolute time of the first.
    Block(Block),
    /// A span of time whose samples are missing.
    Gap(Gap),
    /// Something the user must be told; the stream goes on.
    Warning(SourceWarning),
}

/// A span of recording time with no samples: from `start` (the time the next sample was due)
/// to `end` (the time of the first sample after the gap, or the time the input promised to
/// reach when the gap ends the stream). Both are absolute times; `end > start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// When the first missing sample was due.
    pub start: Timestamp,
    /// When the data resumes (exclusive), or where the input said it would end.
    pub end: Timestamp,
    /// The index the first missing sample would have had in the recording, where the
    /// source counts samples.
    pub first_missing_sample: Option<u64>,
    /// How many samples are missing, where the source can tell (a constant rate).
    pub missing_samples: Option<u64>,
    /// Why, in the user's words, naming the place at fault (file and line or byte).
    pub reason: String,
}

impl Gap {
    /// Duration of the missing span in seconds.
    pub fn seconds(&self) -> f64 {
        self.end.seconds_since(self.start)
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.6} s missing from {} to {}",
            self.seconds(),
            self.start,
            self.end
        )?;
        if let Some(n) = self.missing_samples {
            write!(f, " ({n} samples)")?;
        }
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

/// A warning from a source: what is wrong and, where one can be named, where.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceWarning {
    /// The file, line, byte, field or channel concerned.
    pub location: Option<Location>,
    /// What the user should know, in the format's own words.
    pub message: String,
}

impl SourceWarning {
    /// A warning at `location`.
    pub fn at(location: Location, message: impl Into<String>) -> Self {
        SourceWarning {
            location: Some(location),
            message: message.into(),
        }
    }
    /// A warning with no place to name (a live input).
    pub fn new(message: impl Into<String>) -> Self {
        SourceWarning {
            location: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for SourceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// How far a source has come.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Seconds of recording time handed out so far (blocks and gaps), from the start.
    pub seconds: f64,
    /// Seconds the whole input spans, where known (a file's header).
    pub total_seconds: Option<f64>,
    /// Bytes of input consumed so far, where the source reads bytes.
    pub bytes: Option<u64>,
    /// Bytes of input in all, where known (a file's size).
    pub total_bytes: Option<u64>,
}

impl Progress {
    /// The fraction done in `0..=1`, by bytes where both are known, else by time; `None`
    /// for an input of unknown length (a live source).
    pub fn fraction(&self) -> Option<f64> {
        let f = match (self.bytes, self.total_bytes, self.total_seconds) {
            (Some(b), Some(t), _) if t > 0 => b as f64 / t as f64,
            (_, _, Some(t)) if t > 0.0 => self.seconds / t,
            _ => return None,
        };
        Some(f.clamp(0.0, 1.0))
    }
}

/// A flag the run loop trips to stop a [`Source`] (and the loop) early: a Ctrl-C, a Python
/// `KeyboardInterrupt`, a C caller's cancel call, a `--duration` that ran out. Cheap to clone;
/// every clone trips and sees the same flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet tripped.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask everything holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }
    /// True once [`CancelToken::cancel`] was called on any clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
    /// `Err(Error::Cancelled)` once tripped: for sources to call at their read deadlines.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// An input of samples: a file reader, a numpy array, a C caller's pushes, a device. See the
/// [module documentation](self) for the contract every implementation keeps.
pub trait Source: Send {
    /// What the input holds: `Some` from the start for files, and at the latest when the
    /// first block is handed out for live inputs. It does not change once known.
    fn info(&self) -> Option<&RecordingInfo>;

    /// The next event, with blocks of at most `max_samples` samples per channel (a source
    /// may hand out fewer); `Ok(None)` at the end. A source that waits for data checks
    /// `cancel` at least once per read deadline and returns [`Error::Cancelled`] when it is
    /// tripped. After `Ok(None)` or an error, no further data.
    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> Result<Option<SourceEvent>>;

    /// How far the source has come (recording time; bytes where known).
    fn progress(&self) -> Progress;
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn info(&self) -> Option<&RecordingInfo> {
        (**self).info()
    }
    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> Result<Option<SourceEvent>> {
        (**self).next_event(max_samples, cancel)
    }
    fn progress(&self) -> Progress {
        (**self).progress()
    }
}

/// Checks that blocks follow each other in time, as [`Source`] promises: for sources built
/// from blocks someone else cut (a C caller's timestamped pushes, a device's frames) and for
/// consumers that want to verify a source. A block that starts later than the previous one
/// ended gives a [`Gap`]; one that starts earlier is a [`StreamErrorKind::Overlap`] error.
///
/// Two times closer than half a sample period are the same time (clocks round to the
/// nanosecond, rates are not whole nanoseconds).
#[derive(Debug, Clone, Default)]
pub struct ContinuityCheck {
    /// Time the next sample is due, and the index it would have, after the last block.
    next: Option<(Timestamp, u64, f64)>,
}

impl ContinuityCheck {
    /// A check that has seen no block yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Check `block` against the blocks before it: `Ok(None)` when it follows on,
    /// `Ok(Some(gap))` when samples are missing before it, an overlap error when it starts
    /// before the previous block ended. `what` names the input in messages (a file, "push
    /// 12"). Blocks timed sample by sample (rate 0) are checked by their first time only.
    pub fn check(&mut self, block: &Block, what: &str) -> Result<Option<Gap>> {
        let start = block.start();
        let rate = block.sample_rate();
        let mut gap = None;
        if let Some((due, due_index, prev_rate)) = self.next {
            let half_period_ns = if prev_rate > 0.0 {
                (0.5e9 / prev_rate) as i64
            } else {
                0
            };
            let early_ns = due.as_nanos() - start.as_nanos();
            if early_ns > half_period_ns {
                return Err(Error::stream(
                    StreamErrorKind::Overlap,
                    format!(
                        "{what}: the block starting at {start} overlaps the previous one, \
                         which ends at {due} ({:.6} s earlier than due)",
                        early_ns as f64 * 1e-9
                    ),
                ));
            }
            let late_ns = -early_ns;
            // Individually timed samples (rate 0) have no spacing to hold them to.
            if prev_rate > 0.0 && late_ns > half_period_ns {
                let missing = Some((late_ns as f64 * 1e-9 * prev_rate).round() as u64);
                gap = Some(Gap {
                    start: due,
                    end: start,
                    first_missing_sample: Some(due_index),
                    missing_samples: missing,
                    reason: format!(
                        "{what}: the block starts {:.6} s late",
                        late_ns as f64 * 1e-9
                    ),
                });
            }
        }
        let end = match (block.sample_times(), rate) {
            (Some(t), _) if !t.is_empty() => start.add_nanos(t[t.len() - 1] - t[0]),
            (_, r) if r > 0.0 => start.add_seconds(block.len() as f64 / r),
            _ => start,
        };
        if !block.is_empty() {
            self.next = Some((end, block.first_sample() + block.len() as u64, rate));
        }
        Ok(gap)
    }
}

/// A [`Source`] over events already in memory: for tests, examples and inputs that arrive
/// whole (a numpy array cut into blocks). Blocks are handed out as given (`max_samples` is
/// not applied).
#[derive(Debug, Clone)]
pub struct VecSource {
    info: Option<RecordingInfo>,
    events: VecDeque<SourceEvent>,
    seconds: f64,
    origin: Option<Timestamp>,
}

impl VecSource {
    /// A source handing out `events` in order, described by `info`.
    pub fn new(info: Option<RecordingInfo>, events: Vec<SourceEvent>) -> Self {
        VecSource {
            origin: info.as_ref().map(|i| i.start),
            info,
            events: events.into(),
            seconds: 0.0,
        }
    }
}

impl Source for VecSource {
    fn info(&self) -> Option<&RecordingInfo> {
        self.info.as_ref()
    }
    fn next_event(
        &mut self,
        _max_samples: usize,
        cancel: &CancelToken,
    ) -> Result<Option<SourceEvent>> {
        cancel.check()?;
        let event = self.events.pop_front();
        let end = match &event {
            Some(SourceEvent::Block(b)) => {
                Some((b.start(), b.start().add_seconds(block_seconds(b))))
            }
            Some(SourceEvent::Gap(g)) => Some((g.start, g.end)),
            _ => None,
        };
        if let Some((start, end)) = end {
            let origin = *self.origin.get_or_insert(start);
            self.seconds = self.seconds.max(end.seconds_since(origin));
        }
        Ok(event)
    }
    fn progress(&self) -> Progress {
        Progress {
            seconds: self.seconds,
            total_seconds: self.info.as_ref().and_then(RecordingInfo::duration_seconds),
            bytes: None,
            total_bytes: None,
        }
    }
}

/// Seconds a block spans (its length over its rate; for individually timed samples, first
/// to last).
pub fn block_seconds(b: &Block) -> f64 {
    match b.sample_times() {
        Some(t) if !t.is_empty() => (t[t.len() - 1] - t[0]) as f64 * 1e-9,
        _ if b.sample_rate() > 0.0 => b.len() as f64 / b.sample_rate(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(start_ns: i64, first: u64, n: usize) -> Block {
        Block::from_channels(Timestamp(start_ns), 1000.0, first, vec![vec![1.0; n]]).unwrap()
    }

    #[test]
    fn contiguous_blocks_pass_and_late_ones_give_a_gap() {
        let mut c = ContinuityCheck::new();
        assert_eq!(c.check(&block(0, 0, 100), "push 1").unwrap(), None);
        // 100 samples at 1 kHz end at 100 ms; a start 0.2 ms off is the same time.
        assert_eq!(
            c.check(&block(100_000_200, 100, 100), "push 2").unwrap(),
            None
        );
        let gap = c
            .check(&block(250_000_000, 250, 10), "push 3")
            .unwrap()
            .expect("a gap");
        assert_eq!(gap.missing_samples, Some(50));
        assert_eq!(gap.first_missing_sample, Some(200));
        assert!((gap.seconds() - 0.05).abs() < 1e-6, "{gap}");
        assert!(gap.to_string().contains("push 3"), "{gap}");
    }

    #[test]
    fn an_overlapping_block_is_a_stream_error() {
        let mut c = ContinuityCheck::new();
        c.check(&block(0, 0, 100), "push 1").unwrap();
        let e = c.check(&block(50_000_000, 50, 10), "push 2").unwrap_err();
        assert!(
            matches!(
                e,
                Error::Stream {
                    kind: StreamErrorKind::Overlap,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("push 2"), "{e}");
        assert!(e.to_string().contains("overlaps"), "{e}");
    }

    #[test]
    fn cancel_token_is_shared_by_clones() {
        let t = CancelToken::new();
        let seen_by_source = t.clone();
        assert!(seen_by_source.check().is_ok());
        t.cancel();
        assert!(matches!(seen_by_source.check(), Err(Error::Cancelled)));
        let mut s = VecSource::new(None, vec![SourceEvent::Block(block(0, 0, 1))]);
        assert!(matches!(s.next_event(10, &t), Err(Error::Cancelled)));
    }

    #[test]
    fn vec_source_reports_progress_in_recording_time() {
        let g = Gap {
            start: Timestamp(100_000_000),
            end: Timestamp(300_000_000),
            first_missing_sample: Some(100),
            missing_samples: Some(200),
            reason: "test".into(),
        };
        let mut s = VecSource::new(
            None,
            vec![
                SourceEvent::Block(block(0, 0, 100)),
                SourceEvent::Gap(g),
                SourceEvent::Block(block(300_000_000, 300, 100)),
            ],
        );
        let cancel = CancelToken::new();
        let mut kinds = Vec::new();
        while let Some(e) = s.next_event(10, &cancel).unwrap() {
            kinds.push(matches!(e, SourceEvent::Gap(_)));
        }
        assert_eq!(kinds, [false, true, false]);
        assert!((s.progress().seconds - 0.4).abs() < 1e-9);
        assert_eq!(s.progress().fraction(), None);
    }
}
