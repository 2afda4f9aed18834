//! A run of samples for every channel of one recording.

use crate::{Error, Result, Timestamp};

/// A run of samples for every channel of one recording: planar (one contiguous slice per
/// channel), with the sample rate, the absolute time of its first sample and that sample's
/// index in the recording.
///
/// Blocks may have any length; every consumer must give the same result however a stream is
/// cut into blocks. Missing samples (a COMTRADE missing-value sentinel, an empty CSV cell)
/// are NaN, never zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    start: Timestamp,
    sample_rate: f64,
    first_sample: u64,
    len: usize,
    n_analog: usize,
    /// Planar: channel `c` is `analog[c * len .. (c + 1) * len]`.
    analog: Vec<f64>,
    n_digital: usize,
    /// Planar 0/1 states: digital channel `d` is `digital[d * len .. (d + 1) * len]`.
    digital: Vec<u8>,
    /// Nanoseconds from the recording's start for each sample, where the source times its
    /// samples individually (COMTRADE rate 0) instead of by a constant rate.
    sample_times: Option<Vec<i64>>,
}

impl Block {
    /// A block from one vector per analog channel; all must have the same length.
    pub fn from_channels(
        start: Timestamp,
        sample_rate: f64,
        first_sample: u64,
        channels: Vec<Vec<f64>>,
    ) -> Result<Self> {
        let len = channels.first().map_or(0, Vec::len);
        if let Some((i, c)) = channels.iter().enumerate().find(|(_, c)| c.len() != len) {
            return Err(Error::channel(
                format!("#{}", i + 1),
                format!("has {} samples where channel #1 has {len}", c.len()),
            ));
        }
        let n_analog = channels.len();
        let analog = channels.concat();
        Self::from_planar(start, sample_rate, first_sample, n_analog, analog)
    }

    /// A block from planar data: `data.len()` must be a multiple of `n_channels`.
    pub fn from_planar(
        start: Timestamp,
        sample_rate: f64,
        first_sample: u64,
        n_channels: usize,
        data: Vec<f64>,
    ) -> Result<Self> {
        if !(sample_rate.is_finite() && sample_rate >= 0.0) {
            return Err(Error::Config(format!(
                "sample rate must be ≥ 0 Hz, not {sample_rate}"
            )));
        }
        let len = match n_channels {
            0 if data.is_empty() => 0,
            0 => return Err(Error::Config("samples given for zero channels".into())),
            n if data.len() % n != 0 => {
                return Err(Error::Config(format!(
                    "{} values do not divide into {n} channels",
                    data.len()
                )))
            }
            n => data.len() / n,
        };
        Ok(Block {
            start,
            sample_rate,
            first_sample,
            len,
            n_analog: n_channels,
            analog: data,
            n_digital: 0,
            digital: Vec::new(),
            sample_times: None,
        })
    }

    /// The same block with digital channels (planar 0/1 states, `n_digital × len` values).
    pub fn with_digital(mut self, n_digital: usize, states: Vec<u8>) -> Result<Self> {
        if states.len() != n_digital * self.len {
            return Err(Error::Config(format!(
                "{} digital states for {n_digital} channels of {} samples",
                states.len(),
                self.len
            )));
        }
        self.n_digital = n_digital;
        self.digital = states;
        Ok(self)
    }

    /// The same block with per-sample times (nanoseconds from the recording's start).
    pub fn with_sample_times(mut self, times_ns: Vec<i64>) -> Result<Self> {
        if times_ns.len() != self.len {
            return Err(Error::Config(format!(
                "{} sample times for {} samples",
                times_ns.len(),
                self.len
            )));
        }
        self.sample_times = Some(times_ns);
        Ok(self)
    }

    /// Absolute time of the first sample.
    pub fn start(&self) -> Timestamp {
        self.start
    }
    /// Samples per second (0 when the samples are timed individually).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }
    /// Index of the first sample in the recording (0-based).
    pub fn first_sample(&self) -> u64 {
        self.first_sample
    }
    /// Samples per channel.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when the block holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Number of analog channels.
    pub fn n_channels(&self) -> usize {
        self.n_analog
    }
    /// Number of digital channels.
    pub fn n_digital(&self) -> usize {
        self.n_digital
    }
    /// The samples of analog channel `c`.
    ///
    /// # Panics
    /// If `c` is not a channel of the block.
    pub fn channel(&self, c: usize) -> &[f64] {
        assert!(
            c < self.n_analog,
            "channel {c} of a block with {} channels",
            self.n_analog
        );
        &self.analog[c * self.len..(c + 1) * self.len]
    }
    /// The samples of analog channel `c`, mutable.
    ///
    /// # Panics
    /// If `c` is not a channel of the block.
    pub fn channel_mut(&mut self, c: usize) -> &mut [f64] {
        assert!(
            c < self.n_analog,
            "channel {c} of a block with {} channels",
            self.n_analog
        );
        &mut self.analog[c * self.len..(c + 1) * self.len]
    }
    /// Every analog channel in order.
    pub fn channels(&self) -> impl ExactSizeIterator<Item = &[f64]> + '_ {
        (0..self.n_analog).map(move |c| self.channel(c))
    }
    /// All analog samples, planar.
    pub fn planar(&self) -> &[f64] {
        &self.analog
    }
    /// The 0/1 states of digital channel `d`.
    ///
    /// # Panics
    /// If `d` is not a digital channel of the block.
    pub fn digital(&self, d: usize) -> &[u8] {
        assert!(
            d < self.n_digital,
            "digital channel {d} of a block with {}",
            self.n_digital
        );
        &self.digital[d * self.len..(d + 1) * self.len]
    }
    /// Per-sample times in nanoseconds from the recording's start, where the source has them.
    pub fn sample_times(&self) -> Option<&[i64]> {
        self.sample_times.as_deref()
    }
    /// Seconds from the recording's start of sample `i` of this block (`recording_start` is
    /// the time of sample 0 of the recording).
    pub fn time_of(&self, i: usize, recording_start: Timestamp) -> f64 {
        match &self.sample_times {
            Some(t) => t[i] as f64 * 1e-9,
            None if self.sample_rate > 0.0 => {
                self.start.seconds_since(recording_start) + i as f64 / self.sample_rate
            }
            None => self.start.seconds_since(recording_start),
        }
    }
    /// Samples `from..to` of this block as a new block.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn slice(&self, from: usize, to: usize) -> Block {
        assert!(
            from <= to && to <= self.len,
            "slice {from}..{to} of a block of {}",
            self.len
        );
        let n = to - from;
        let pick = |data: &[u8], k: usize| -> Vec<u8> {
            (0..k)
                .flat_map(|c| data[c * self.len + from..c * self.len + to].iter().copied())
                .collect()
        };
        let analog: Vec<f64> = (0..self.n_analog)
            .flat_map(|c| {
                self.analog[c * self.len + from..c * self.len + to]
                    .iter()
                    .copied()
            })
            .collect();
        let start = match &self.sample_times {
            Some(t) if n > 0 && from < self.len => {
                let offset = t[from] - t.first().copied().unwrap_or(0);
                self.start.add_nanos(offset)
            }
            _ if self.sample_rate > 0.0 => self.start.add_seconds(from as f64 / self.sample_rate),
            _ => self.start,
        };
        Block {
            start,
            sample_rate: self.sample_rate,
            first_sample: self.first_sample + from as u64,
            len: n,
            n_analog: self.n_analog,
            analog,
            n_digital: self.n_digital,
            digital: pick(&self.digital, self.n_digital),
            sample_times: self.sample_times.as_ref().map(|t| t[from..to].to_vec()),
        }
    }
}

/// Builds a [`Block`] sample by sample (row by row), as text and record-oriented readers
/// produce them.
#[derive(Debug, Clone)]
pub struct BlockBuilder {
    start: Timestamp,
    sample_rate: f64,
    first_sample: u64,
    n_analog: usize,
    n_digital: usize,
    rows: usize,
    analog: Vec<Vec<f64>>,
    digital: Vec<Vec<u8>>,
    times: Option<Vec<i64>>,
}

impl BlockBuilder {
    /// An empty builder for `n_analog` analog and `n_digital` digital channels. Pass
    /// `timed = true` to record a time for every sample.
    pub fn new(
        start: Timestamp,
        sample_rate: f64,
        first_sample: u64,
        n_analog: usize,
        n_digital: usize,
        timed: bool,
    ) -> Self {
        BlockBuilder {
            start,
            sample_rate,
            first_sample,
            n_analog,
            n_digital,
            rows: 0,
            analog: vec![Vec::new(); n_analog],
            digital: vec![Vec::new(); n_digital],
            times: timed.then(Vec::new),
        }
    }
    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows
    }
    /// True when no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    /// Append one sample of every channel. `time_ns` is used when the builder is timed.
    ///
    /// # Panics
    /// If the slices do not match the channel counts.
    pub fn push(&mut self, analog: &[f64], digital: &[u8], time_ns: i64) {
        assert_eq!(analog.len(), self.n_analog, "analog values in a row");
        assert_eq!(digital.len(), self.n_digital, "digital values in a row");
        for (col, v) in self.analog.iter_mut().zip(analog) {
            col.push(*v);
        }
        for (col, v) in self.digital.iter_mut().zip(digital) {
            col.push(*v);
        }
        if let Some(t) = &mut self.times {
            t.push(time_ns);
        }
        self.rows += 1;
    }
    /// The block.
    pub fn build(self) -> Result<Block> {
        let rows = self.rows;
        let mut block = if self.n_analog == 0 {
            Block {
                start: self.start,
                sample_rate: self.sample_rate,
                first_sample: self.first_sample,
                len: rows,
                n_analog: 0,
                analog: Vec::new(),
                n_digital: 0,
                digital: Vec::new(),
                sample_times: None,
            }
        } else {
            Block::from_channels(self.start, self.sample_rate, self.first_sample, self.analog)?
        };
        block = block.with_digital(self.n_digital, self.digital.concat())?;
        if let Some(t) = self.times {
            block = block.with_sample_times(t)?;
        }
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planar_layout_and_slicing() {
        let b = Block::from_channels(
            Timestamp(0),
            1000.0,
            10,
            vec![vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0, 7.0, 8.0]],
        )
        .unwrap();
        assert_eq!(b.len(), 4);
        assert_eq!(b.channel(1), &[5.0, 6.0, 7.0, 8.0]);
        let s = b.slice(1, 3);
        assert_eq!(s.channel(0), &[2.0, 3.0]);
        assert_eq!(s.channel(1), &[6.0, 7.0]);
        assert_eq!(s.first_sample(), 11);
        assert_eq!(s.start(), Timestamp(1_000_000));
    }

    #[test]
    fn unequal_channels_are_an_error() {
        let e = Block::from_channels(Timestamp(0), 1.0, 0, vec![vec![1.0], vec![]]).unwrap_err();
        assert!(e.to_string().contains("channel #2"), "{e}");
    }

    #[test]
    fn builder_collects_rows_with_digital_and_times() {
        let mut bb = BlockBuilder::new(Timestamp(5), 0.0, 0, 2, 1, true);
        bb.push(&[1.0, 2.0], &[1], 0);
        bb.push(&[3.0, f64::NAN], &[0], 250);
        let b = bb.build().unwrap();
        assert_eq!(b.channel(0), &[1.0, 3.0]);
        assert!(b.channel(1)[1].is_nan());
        assert_eq!(b.digital(0), &[1, 0]);
        assert_eq!(b.sample_times(), Some(&[0, 250][..]));
    }
}
