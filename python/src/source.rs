//! A numpy `Recording` as a [`pqe_core::Source`]: its `(channels, samples)` array cut into
//! blocks timed from the recording's start, exactly as the file readers time theirs (block
//! `k` starts at `start + first_sample / rate`), so the pipeline analyses an array and the
//! file it was read from alike.

use pqe_core::{block_seconds, Block, CancelToken, Progress, RecordingInfo, Source, SourceEvent};

/// The samples of a C-contiguous `(channels, samples)` float64 array, handed out block by
/// block. It reads the array in place: no copy of the recording is made.
pub struct ArraySource {
    info: RecordingInfo,
    data: *const f64,
    n_channels: usize,
    n: usize,
    next: usize,
    seconds: f64,
}

// SAFETY: the array is only read, and `ArraySource::new`'s caller keeps it alive and
// unchanged (a read-only numpy borrow held for the whole analysis) until the source is
// dropped; reading plain f64 memory from another thread is then sound.
unsafe impl Send for ArraySource {}

impl ArraySource {
    /// A source over `samples` (`n_channels * n` values, channel after channel).
    ///
    /// # Safety
    /// `samples` must stay alive and unmodified until the source is dropped.
    pub unsafe fn new(info: RecordingInfo, samples: &[f64], n_channels: usize) -> Self {
        let n = samples.len().checked_div(n_channels).unwrap_or(0);
        ArraySource {
            info,
            data: samples.as_ptr(),
            n_channels,
            n,
            next: 0,
            seconds: 0.0,
        }
    }
}

impl Source for ArraySource {
    fn info(&self) -> Option<&RecordingInfo> {
        Some(&self.info)
    }

    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> pqe_core::Result<Option<SourceEvent>> {
        cancel.check()?;
        if self.next >= self.n {
            return Ok(None);
        }
        let first = self.next;
        let len = max_samples.max(1).min(self.n - first);
        // SAFETY: see `ArraySource::new`; `data` holds `n_channels * n` values.
        let all = unsafe { std::slice::from_raw_parts(self.data, self.n_channels * self.n) };
        let mut planar = Vec::with_capacity(self.n_channels * len);
        for c in 0..self.n_channels {
            planar.extend_from_slice(&all[c * self.n + first..c * self.n + first + len]);
        }
        let rate = self.info.sample_rate;
        let t = self.info.start.add_seconds(first as f64 / rate);
        let block = Block::from_planar(t, rate, first as u64, self.n_channels, planar)?;
        self.next += len;
        self.seconds = (first as f64 / rate) + block_seconds(&block);
        Ok(Some(SourceEvent::Block(block)))
    }

    fn progress(&self) -> Progress {
        Progress {
            seconds: self.seconds,
            total_seconds: self.info.duration_seconds(),
            bytes: None,
            total_bytes: None,
        }
    }
}
