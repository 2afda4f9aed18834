//! # Supraharmonics, 2–150 kHz, and power-line-communication band levels
//!
//! Three measurements of the range above the harmonics, each on a fixed 0.2-s interval
//! grid (10/12 cycles at exactly nominal frequency; the 2–9 kHz method of IEC 61000-4-7
//! Annex B uses a fixed window that is not resynchronised to the fundamental):
//!
//! - **2–9 kHz groups** (IEC 61000-4-7 Ed.2 Annex B, informative): a rectangular DFT of the
//!   0.2-s window gives 5 Hz lines; the group centred on `b` = 2100, 2300, …, 8900 Hz is the
//!   root of the summed squared line RMS values from `b − 95` to `b + 100` Hz inclusive
//!   (40 lines; the line on `b − 100`, a harmonic of 50 Hz, belongs to the group below or
//!   the harmonic range). Needs at least 20 kHz sampling.
//! - **9–150 kHz bins** (IEC 61000-4-30 Ed.3 Annex C, informative): 32 rectangular windows
//!   of 0.5 ms spread evenly over the interval (one every 6.25 ms) give 2 kHz bins centred on
//!   10, 12, …, 148 kHz; each bin's interval value is the **maximum** of its 32 window values,
//!   and its RMS over the 32 windows is reported beside it. Needs at least 300 kHz sampling
//!   and a rate that makes 0.5 ms a whole number of samples (a multiple of 2 kHz).
//! - **PLC bands** (EN 50065-1): the CENELEC bands A–D on gapless 5-ms Hann windows (see
//!   [`plc`]): the level while a transmitter is active, the peak window, the band RMS, the
//!   active share, the strongest carriers, whether a G1 S-FSK or G3-PLC OFDM signal is
//!   present, and the check against the transmit limits of EN 50065-1 (as data, with their
//!   source and a verified mark).
//!
//! ## Pre-filter
//!
//! A 230 V fundamental is 167 dBµV; a 1 mV supraharmonic is 60 dBµV. A rectangular window
//! leaks the fundamental and low harmonics far into these bands (a 49.5 Hz fundamental puts
//! about 50 mV on every 5 Hz line near 2 kHz), so both methods assume a high-pass ahead of
//! the DFT. PQE filters each channel with an 8th-order Butterworth high-pass: at 1.2 kHz for
//! the 2–9 kHz groups and the PLC bands (a 50 Hz fundamental is divided by 24⁸ ≈ 10¹¹:
//! 230 V leaves 2 nV) and at 6 kHz for the 9–150 kHz bins, and divides every line or bin
//! by the filter's exact gain at its centre frequency, so the pre-filter is transparent at
//! the line and bin centres (within 0.06 % anywhere in a 2 kHz bin above 9 kHz). The
//! filters settle within 20 ms; the grid therefore starts 20 ms after the first sample and
//! after every restart (a gap, or a non-finite sample), and those 20 ms are not measured.
//!
//! ## Scalloping
//!
//! The windows are rectangular. A steady tone on a line or bin centre is read exactly. A
//! tone between two centres is split: in a 0.5-ms window a tone halfway between two bins
//! reads `2/π` of its RMS (−3.92 dB) in each, plus the small interference of its negative-
//! frequency image; e.g. G1's 63.3 kHz space tone reads −1.83 dB in the 64 kHz bin. Band
//! sums (the 200 Hz groups, the PLC bands) collect the power of every line or bin of the
//! band, so a tone inside a band is read at its full RMS whatever its position; a tone on
//! a band edge leaks into both neighbours. The tests check each of these against the
//! closed-form DFT of the tone.
//!
//! Tones closer together than a window resolves (a converter's ±100 Hz sidebands in the
//! 5-ms PLC windows, whose lines are 200 Hz apart) are not read as the sum of their powers:
//! a band sum is then, by Parseval, the window-weighted mean square of the band's signal
//! over each window, which depends on the tones' phases at the window. For a carrier at
//! 0.05 V with ±100 Hz sidebands of 0.4 × 0.05 V, all starting at zero phase, and windows
//! starting on the 100 Hz envelope's extremes, that is 0.05² · (1 + 0.8²/6) V² rather than
//! 0.05² · 1.32 V² (0.76 dB less); `tests/python/test_supraharmonics_plc.py` checks it.
//!
//! ## Confidence
//!
//! The standards' texts were not available; the grids and rules follow
//! `shared/reference/SUPRAHARMONICS.md`, whose marks carry over: the Annex B groups and the
//! 2 kHz grid are well attested; Annex C's window shape (taken as rectangular) and the
//! combination of the 32 values (taken as the maximum, RMS given beside it) are not
//! verified; of the EN 50065-1 limits only the 122 dBµV of bands B–D is verified.
//!
//! The part is off below the sample rates it needs ([`availability`] says why) and costs
//! nothing when not constructed.

pub mod aggregate;
pub mod bands;
pub mod plc;

pub use aggregate::{
    PlcBandAggregate, SupraharmonicAggregate, SupraharmonicAggregator, SupraharmonicPeriod,
};
pub use bands::CenelecBand;
pub use plc::{Carrier, PlcBandReading, PlcLimit, PlcSignalKind, EN50065_1_LIMITS};

use bands::{BIN_COUNT, GROUP_COUNT};
use num_complex::Complex64;
use pqe_core::{Block, Error, Result, Timestamp};
use pqe_dsp::fft::RealFft;
use pqe_dsp::iir::{Cascade, Response};
use std::collections::VecDeque;

/// Length of one interval, s (10 cycles at 50 Hz, 12 at 60 Hz).
pub const INTERVAL_SECONDS: f64 = 0.2;
/// Length of one Annex C window, s.
pub const WINDOW_SECONDS: f64 = 0.5e-3;
/// Annex C windows per interval.
pub const WINDOWS_PER_INTERVAL: usize = 32;
/// Time the pre-filters need to settle after a (re)start, s.
pub const SETTLING_SECONDS: f64 = 0.02;
/// Lowest sample rate for the 2–9 kHz groups, Hz.
pub const MIN_RATE_2_9KHZ: f64 = 20_000.0;
/// Length of one PLC window, s (200 Hz lines).
pub const PLC_WINDOW_SECONDS: f64 = 5e-3;
/// Spacing of the PLC windows' lines, Hz.
pub const PLC_LINE_SPACING_HZ: f64 = 200.0;
/// Lowest sample rate for the 9–150 kHz bins and the PLC bands, Hz.
pub const MIN_RATE_9_150KHZ: f64 = 300_000.0;
/// Cutoff of the pre-filter of the 2–9 kHz groups, Hz.
pub const PREFILTER_2_9KHZ_HZ: f64 = 1_200.0;
/// Cutoff of the pre-filter of the 9–150 kHz bins and PLC bands, Hz.
pub const PREFILTER_9_150KHZ_HZ: f64 = 6_000.0;
const PREFILTER_ORDER: usize = 8;

/// Which parts to measure, and the PLC activity floor.
#[derive(Debug, Clone, PartialEq)]
pub struct SupraharmonicOptions {
    /// The 2–9 kHz groups (IEC 61000-4-7 Annex B).
    pub groups_2_9khz: bool,
    /// The 9–150 kHz bins (IEC 61000-4-30 Annex C).
    pub bins_9_150khz: bool,
    /// The CENELEC PLC bands.
    pub plc: bool,
    /// A 0.5-ms window counts as active only when its band RMS reaches this value (in the
    /// channel's unit; default 1 mV = 60 dBµV).
    pub activity_floor: f64,
}

impl Default for SupraharmonicOptions {
    fn default() -> Self {
        SupraharmonicOptions {
            groups_2_9khz: true,
            bins_9_150khz: true,
            plc: true,
            activity_floor: 1e-3,
        }
    }
}

/// Which parts a sample rate allows, each with the reason when it does not.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    /// The 2–9 kHz groups.
    pub groups_2_9khz: std::result::Result<(), String>,
    /// The 9–150 kHz bins and PLC bands.
    pub bins_9_150khz: std::result::Result<(), String>,
}

/// What a recording sampled at `sample_rate` Hz allows, and why not where it does not.
pub fn availability(sample_rate: f64) -> Availability {
    let whole = |seconds: f64| {
        let n = sample_rate * seconds;
        (n - n.round()).abs() < 1e-6 * n.max(1.0)
    };
    let groups_2_9khz = if sample_rate.is_nan() || sample_rate < MIN_RATE_2_9KHZ {
        Err(format!(
            "the 2–9 kHz groups need at least {} kHz sampling; this recording has {} Hz",
            MIN_RATE_2_9KHZ / 1000.0,
            sample_rate
        ))
    } else if !whole(INTERVAL_SECONDS) {
        Err(format!(
            "the 2–9 kHz groups need 0.2 s to be a whole number of samples; {sample_rate} Hz \
             gives {}",
            sample_rate * INTERVAL_SECONDS
        ))
    } else {
        Ok(())
    };
    let bins_9_150khz = if sample_rate.is_nan() || sample_rate < MIN_RATE_9_150KHZ {
        Err(format!(
            "the 9–150 kHz bins and PLC bands need at least {} kHz sampling; this recording \
             has {} Hz",
            MIN_RATE_9_150KHZ / 1000.0,
            sample_rate
        ))
    } else if !whole(WINDOW_SECONDS) {
        Err(format!(
            "the 9–150 kHz bins need 0.5 ms to be a whole number of samples (a rate that is a \
             multiple of 2 kHz); {sample_rate} Hz gives {}",
            sample_rate * WINDOW_SECONDS
        ))
    } else {
        Ok(())
    };
    Availability {
        groups_2_9khz,
        bins_9_150khz,
    }
}

/// One channel's supraharmonic values over one 0.2-s interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SupraharmonicRecord {
    /// Index of the channel in the blocks pushed.
    pub channel: usize,
    /// Absolute time of the interval's first sample.
    pub start: Timestamp,
    /// Seconds from the first sample ever pushed to the interval's start.
    pub t: f64,
    /// The 2–9 kHz groups, RMS in the channel's unit, one per [`bands::group_centres`];
    /// empty when that part is off.
    pub groups: Vec<f64>,
    /// The 9–150 kHz bins: the maximum over the interval's 32 windows, one per
    /// [`bands::bin_centres`]; empty when off.
    pub bins_max: Vec<f64>,
    /// The 9–150 kHz bins: RMS over the interval's 32 windows; empty when off.
    pub bins_rms: Vec<f64>,
    /// The CENELEC bands A–D; empty when off.
    pub plc: Vec<PlcBandReading>,
}

/// Something the analyzer wants its caller to know: a stretch not measured and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SupraharmonicNotice {
    /// Seconds from the first sample ever pushed.
    pub t: f64,
    /// What happened.
    pub message: String,
}

/// The per-channel part that does not depend on the data: FFT plans, bin tables, gains.
#[derive(Debug)]
struct Plan {
    fs: f64,
    /// Samples per interval.
    n: usize,
    /// Samples per 0.5-ms window (0 when the 9–150 kHz part is off).
    m: usize,
    settle: usize,
    groups: bool,
    bins: bool,
    plc: bool,
    floor: f64,
    /// `(√2/N / |H_b(f_k)|)²` for every line `k` up to 9 kHz (or the PLC range).
    line_scale: Vec<f64>,
    /// `(√2/M / |H_c(f_k)|)²` for every bin `k` of the 0.5-ms window up to 148 kHz.
    bin_scale: Vec<f64>,
    /// Start of each Annex C window in the interval.
    window_offsets: [usize; WINDOWS_PER_INTERVAL],
    /// Samples per PLC window (0 when the PLC part is off).
    plc_len: usize,
    /// The Hann window of the PLC part.
    plc_window: Vec<f64>,
    /// `2 / (L² · mean(w²)) / |H_b(f_k)|²` for every 200 Hz line up to 148.5 kHz: turns a
    /// windowed line's squared magnitude into its share of the mean square.
    plc_scale: Vec<f64>,
}

#[derive(Debug)]
struct ChannelState {
    hp_groups: Cascade,
    hp_bins: Cascade,
    buf_groups: Vec<f64>,
    buf_bins: Vec<f64>,
}

/// The streaming supraharmonic analyzer: push blocks of any length, drain records.
///
/// Results do not depend on how the stream is cut into blocks. Blocks must follow each
/// other in time; a block that starts later than the previous one ended is a gap: the
/// interval in progress is dropped (with a notice), the pre-filters restart and the grid
/// resumes after the settling time. A non-finite sample does the same from that sample on.
pub struct SupraharmonicAnalyzer {
    plan: Plan,
    channels: Vec<ChannelState>,
    fft_long: Option<RealFft>,
    fft_short: Option<RealFft>,
    fft_plc: Option<RealFft>,
    spectrum_plc: Vec<Complex64>,
    windowed: Vec<f64>,
    spectrum_long: Vec<Complex64>,
    spectrum_short: Vec<Complex64>,
    line_rms: Vec<f64>,
    window_bin_power: Vec<f64>,
    window_band_power: Vec<f64>,
    origin: Option<Timestamp>,
    /// Samples since the origin of the next sample expected.
    next_sample: u64,
    /// Samples still to be filtered before the grid starts.
    settle_left: usize,
    /// Samples since the origin of the interval being filled.
    interval_first: u64,
    fill: usize,
    records: VecDeque<SupraharmonicRecord>,
    notices: Vec<SupraharmonicNotice>,
}

impl std::fmt::Debug for SupraharmonicAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupraharmonicAnalyzer")
            .field("sample_rate", &self.plan.fs)
            .field("channels", &self.channels.len())
            .finish()
    }
}

impl SupraharmonicAnalyzer {
    /// An analyzer for `n_channels` channels sampled at `sample_rate` Hz. The parts the rate
    /// does not allow are switched off; asking for none that it allows is an error that says
    /// why.
    pub fn new(
        sample_rate: f64,
        n_channels: usize,
        options: &SupraharmonicOptions,
    ) -> Result<Self> {
        let avail = availability(sample_rate);
        let groups = options.groups_2_9khz && avail.groups_2_9khz.is_ok();
        let bins_ok = avail.bins_9_150khz.is_ok() && avail.groups_2_9khz.is_ok();
        let bins = options.bins_9_150khz && bins_ok;
        let plc = options.plc && bins_ok;
        if !(groups || bins || plc) {
            let reasons: Vec<String> = [avail.groups_2_9khz, avail.bins_9_150khz]
                .into_iter()
                .filter_map(|r| r.err())
                .collect();
            return Err(Error::Config(if reasons.is_empty() {
                "no supraharmonic part was asked for".into()
            } else {
                format!("supraharmonics are off: {}", reasons.join("; "))
            }));
        }
        if !(options.activity_floor >= 0.0 && options.activity_floor.is_finite()) {
            return Err(Error::Config(format!(
                "the PLC activity floor must be ≥ 0, not {}",
                options.activity_floor
            )));
        }
        let n = (sample_rate * INTERVAL_SECONDS).round() as usize;
        let m = if bins {
            (sample_rate * WINDOW_SECONDS).round() as usize
        } else {
            0
        };
        let hp_groups = Cascade::butterworth(
            Response::HighPass,
            PREFILTER_ORDER,
            PREFILTER_2_9KHZ_HZ,
            sample_rate,
        )?;
        let hp_bins = if m > 0 {
            Cascade::butterworth(
                Response::HighPass,
                PREFILTER_ORDER,
                PREFILTER_9_150KHZ_HZ,
                sample_rate,
            )?
        } else {
            Cascade::new(sample_rate)
        };
        // Lines of the 0.2-s window: up to 9 kHz for the groups, up to 148.5 kHz for the
        // PLC carriers.
        let top_line = if plc {
            (CenelecBand::D.edges_hz().1 / bands::LINE_SPACING_HZ) as usize
        } else {
            1800
        }
        .min(n / 2);
        let line_scale = (0..=top_line)
            .map(|k| {
                let g = hp_groups.response(k as f64 * bands::LINE_SPACING_HZ).norm();
                let s = std::f64::consts::SQRT_2 / n as f64 / g;
                if k == 0 {
                    0.0
                } else {
                    s * s
                }
            })
            .collect();
        let bin_scale = if m > 0 {
            (0..=bands::bin_index(BIN_COUNT - 1))
                .map(|k| {
                    let g = hp_bins.response(k as f64 * bands::BIN_SPACING_HZ).norm();
                    let s = std::f64::consts::SQRT_2 / m as f64 / g;
                    if k == 0 {
                        0.0
                    } else {
                        s * s
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut window_offsets = [0; WINDOWS_PER_INTERVAL];
        for (j, o) in window_offsets.iter_mut().enumerate() {
            *o = j * n / WINDOWS_PER_INTERVAL;
        }
        let settle = (SETTLING_SECONDS * sample_rate).ceil() as usize;
        let plc_len = if plc {
            (sample_rate * PLC_WINDOW_SECONDS).round() as usize
        } else {
            0
        };
        let plc_window: Vec<f64> = (0..plc_len)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / plc_len as f64).cos())
            .collect();
        let plc_energy = plc_window.iter().map(|w| w * w).sum::<f64>();
        let plc_scale = if plc {
            (0..CenelecBand::D.lines(PLC_LINE_SPACING_HZ).end)
                .map(|k| {
                    let g = hp_groups.response(k as f64 * PLC_LINE_SPACING_HZ).norm();
                    if k == 0 {
                        0.0
                    } else {
                        2.0 / (plc_len as f64 * plc_energy) / (g * g)
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let plan = Plan {
            fs: sample_rate,
            n,
            m,
            settle,
            groups,
            bins,
            plc,
            floor: options.activity_floor,
            line_scale,
            bin_scale,
            window_offsets,
            plc_len,
            plc_window,
            plc_scale,
        };
        let channels = (0..n_channels)
            .map(|_| ChannelState {
                hp_groups: hp_groups.clone(),
                hp_bins: hp_bins.clone(),
                buf_groups: vec![0.0; if groups || plc { n } else { 0 }],
                buf_bins: vec![0.0; if m > 0 { n } else { 0 }],
            })
            .collect();
        let fft_long = if groups || plc {
            Some(RealFft::new(n)?)
        } else {
            None
        };
        let fft_short = if bins { Some(RealFft::new(m)?) } else { None };
        let plc_len = plan.plc_len;
        let fft_plc = if plc {
            Some(RealFft::new(plc_len)?)
        } else {
            None
        };
        Ok(SupraharmonicAnalyzer {
            fft_plc,
            spectrum_plc: vec![Complex64::default(); if plc { plc_len / 2 + 1 } else { 0 }],
            windowed: vec![0.0; plc_len],
            spectrum_long: vec![Complex64::default(); if groups || plc { n / 2 + 1 } else { 0 }],
            spectrum_short: vec![Complex64::default(); if bins { m / 2 + 1 } else { 0 }],
            line_rms: Vec::new(),
            window_bin_power: Vec::new(),
            window_band_power: Vec::new(),
            plan,
            channels,
            fft_long,
            fft_short,
            origin: None,
            next_sample: 0,
            settle_left: settle,
            interval_first: 0,
            fill: 0,
            records: VecDeque::new(),
            notices: Vec::new(),
        })
    }

    /// Whether the 2–9 kHz groups are measured.
    pub fn measures_groups(&self) -> bool {
        self.plan.groups
    }

    /// Whether the 9–150 kHz bins are measured.
    pub fn measures_bins(&self) -> bool {
        self.plan.bins
    }

    /// Whether the PLC bands are measured.
    pub fn measures_plc(&self) -> bool {
        self.plan.plc
    }

    /// Feed a block (all channels, planar).
    pub fn push(&mut self, block: &Block) -> Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        if block.sample_times().is_some() {
            return Err(Error::Unsupported(
                "supraharmonics of samples with their own times (COMTRADE rate 0)".into(),
            ));
        }
        if block.sample_rate() != self.plan.fs {
            return Err(Error::Config(format!(
                "a block at {} Hz was pushed into a supraharmonic analyzer made for {} Hz",
                block.sample_rate(),
                self.plan.fs
            )));
        }
        if block.n_channels() != self.channels.len() {
            return Err(Error::Config(format!(
                "a block of {} channels was pushed into a supraharmonic analyzer made for {}",
                block.n_channels(),
                self.channels.len()
            )));
        }
        let fs = self.plan.fs;
        let origin = *self.origin.get_or_insert(block.start());
        // Where this block starts, in samples since the origin.
        let at = block.start().seconds_since(origin) * fs;
        let first = at.round();
        if first < self.next_sample as f64 - 0.5 {
            return Err(Error::Config(format!(
                "a block starting at t = {:.6} s overlaps the previous one, which ended at \
                 t = {:.6} s",
                at / fs,
                self.next_sample as f64 / fs
            )));
        }
        let first = first as u64;
        if first > self.next_sample {
            let gap = (first - self.next_sample) as f64 / fs;
            self.restart(
                first,
                format!(
                    "a gap of {gap:.6} s: the interval in progress is dropped and the \
                     measurement resumes {} ms after the gap",
                    SETTLING_SECONDS * 1e3
                ),
            );
        }
        let len = block.len();
        let mut i = 0;
        while i < len {
            // Up to the first non-finite sample of any channel in this stretch.
            let end = (i..len)
                .find(|&k| (0..self.channels.len()).any(|c| !block.channel(c)[k].is_finite()))
                .unwrap_or(len);
            self.consume(block, i, end);
            if end < len {
                let bad = (0..self.channels.len())
                    .find(|&c| !block.channel(c)[end].is_finite())
                    .unwrap_or(0);
                let where_ = first + end as u64;
                self.restart(
                    where_ + 1,
                    format!(
                        "channel {bad} has a non-finite sample at t = {:.6} s: the interval in \
                         progress is dropped and the measurement resumes {} ms later",
                        where_ as f64 / fs,
                        SETTLING_SECONDS * 1e3
                    ),
                );
                i = end + 1;
            } else {
                i = end;
            }
        }
        self.next_sample = first + len as u64;
        Ok(())
    }

    /// The next finished record, in time order, channel by channel within an interval.
    pub fn next_record(&mut self) -> Option<SupraharmonicRecord> {
        self.records.pop_front()
    }

    /// The notices gathered since the last call.
    pub fn take_notices(&mut self) -> Vec<SupraharmonicNotice> {
        std::mem::take(&mut self.notices)
    }

    /// End of the stream: an unfinished interval is dropped (a notice says so).
    pub fn finish(&mut self) {
        if self.fill > 0 {
            self.notices.push(SupraharmonicNotice {
                t: self.interval_first as f64 / self.plan.fs,
                message: format!(
                    "the recording ends {:.6} s into an interval: that interval is not measured",
                    self.fill as f64 / self.plan.fs
                ),
            });
            self.fill = 0;
        }
    }

    fn restart(&mut self, next: u64, why: String) {
        let t = if self.fill > 0 {
            self.interval_first as f64 / self.plan.fs
        } else {
            self.next_sample as f64 / self.plan.fs
        };
        self.notices.push(SupraharmonicNotice { t, message: why });
        for ch in &mut self.channels {
            ch.hp_groups.reset();
            ch.hp_bins.reset();
        }
        self.fill = 0;
        self.settle_left = self.plan.settle;
        self.next_sample = next;
    }

    /// Filter samples `from..to` of `block` (all finite) into the interval buffers.
    fn consume(&mut self, block: &Block, from: usize, to: usize) {
        let origin = self.origin.expect("set by push");
        let first = (block.start().seconds_since(origin) * self.plan.fs).round() as u64;
        let mut i = from;
        while i < to {
            if self.settle_left > 0 {
                let k = self.settle_left.min(to - i);
                for (c, ch) in self.channels.iter_mut().enumerate() {
                    let x = &block.channel(c)[i..i + k];
                    for &v in x {
                        ch.hp_groups.process(v);
                    }
                    if self.plan.m > 0 {
                        for &v in x {
                            ch.hp_bins.process(v);
                        }
                    }
                }
                self.settle_left -= k;
                i += k;
                continue;
            }
            if self.fill == 0 {
                self.interval_first = first + i as u64;
            }
            let k = (self.plan.n - self.fill).min(to - i);
            for (c, ch) in self.channels.iter_mut().enumerate() {
                let x = &block.channel(c)[i..i + k];
                if !ch.buf_groups.is_empty() {
                    for (o, &v) in ch.buf_groups[self.fill..self.fill + k].iter_mut().zip(x) {
                        *o = ch.hp_groups.process(v);
                    }
                } else {
                    for &v in x {
                        ch.hp_groups.process(v);
                    }
                }
                if !ch.buf_bins.is_empty() {
                    for (o, &v) in ch.buf_bins[self.fill..self.fill + k].iter_mut().zip(x) {
                        *o = ch.hp_bins.process(v);
                    }
                }
            }
            self.fill += k;
            i += k;
            if self.fill == self.plan.n {
                self.close_interval(origin);
                self.fill = 0;
            }
        }
    }

    fn close_interval(&mut self, origin: Timestamp) {
        let t = self.interval_first as f64 / self.plan.fs;
        let start = origin.add_seconds(t);
        for c in 0..self.channels.len() {
            let record = self.measure(c, start, t);
            self.records.push_back(record);
        }
    }

    fn measure(&mut self, c: usize, start: Timestamp, t: f64) -> SupraharmonicRecord {
        let plan = &self.plan;
        let ch = &self.channels[c];
        let mut groups = Vec::new();
        if let Some(fft) = self.fft_long.as_mut() {
            fft.forward(&ch.buf_groups, &mut self.spectrum_long)
                .expect("buffer lengths match the plan");
            // Squared RMS of each line, the pre-filter's gain divided out.
            self.line_rms.clear();
            self.line_rms.extend(
                self.spectrum_long
                    .iter()
                    .zip(&plan.line_scale)
                    .map(|(x, s)| x.norm_sqr() * s),
            );
            if plan.groups {
                groups = bands::group_centres()
                    .map(|b| {
                        bands::group_lines(b)
                            .map(|k| self.line_rms[k])
                            .sum::<f64>()
                            .sqrt()
                    })
                    .collect();
                debug_assert_eq!(groups.len(), GROUP_COUNT);
            }
        }
        let mut bins_max = Vec::new();
        let mut bins_rms = Vec::new();
        let mut plc = Vec::new();
        if let Some(fft) = self.fft_short.as_mut() {
            let m = plan.m;
            let scale = &plan.bin_scale;
            if plan.bins {
                let mut max = vec![0.0f64; BIN_COUNT];
                let mut sum = vec![0.0f64; BIN_COUNT];
                for &o in &plan.window_offsets {
                    fft.forward(&ch.buf_bins[o..o + m], &mut self.spectrum_short)
                        .expect("window length matches the plan");
                    for j in 0..BIN_COUNT {
                        let k = bands::bin_index(j);
                        let p = self.spectrum_short[k].norm_sqr() * scale[k];
                        max[j] = max[j].max(p);
                        sum[j] += p;
                    }
                }
                bins_max = max.into_iter().map(f64::sqrt).collect();
                bins_rms = sum
                    .into_iter()
                    .map(|s| (s / WINDOWS_PER_INTERVAL as f64).sqrt())
                    .collect();
            }
        }
        if let Some(fft) = self.fft_plc.as_mut() {
            plc = measure_plc(
                plan,
                &ch.buf_groups,
                fft,
                &mut self.windowed,
                &mut self.spectrum_plc,
                &mut self.window_bin_power,
                &mut self.window_band_power,
                &self.line_rms,
            );
        }
        SupraharmonicRecord {
            channel: c,
            start,
            t,
            groups,
            bins_max,
            bins_rms,
            plc,
        }
    }
}

/// The four CENELEC bands of one channel's interval, from gapless Hann windows of the
/// interval (see [`plc`]); `line_rms` holds the squared line RMS values of the 0.2-s window
/// (for the carriers).
#[allow(clippy::too_many_arguments)]
fn measure_plc(
    plan: &Plan,
    samples: &[f64],
    fft: &mut RealFft,
    windowed: &mut [f64],
    spectrum: &mut [Complex64],
    window_line_power: &mut Vec<f64>,
    window_band_power: &mut Vec<f64>,
    line_rms: &[f64],
) -> Vec<PlcBandReading> {
    let len = plan.plc_len;
    let windows = plan.n / len;
    let width = plan.plc_scale.len();
    window_line_power.clear();
    window_line_power.resize(windows * width, 0.0);
    window_band_power.clear();
    window_band_power.resize(windows * 4, 0.0);
    for w in 0..windows {
        for ((o, &x), &h) in windowed
            .iter_mut()
            .zip(&samples[w * len..(w + 1) * len])
            .zip(&plan.plc_window)
        {
            *o = x * h;
        }
        fft.forward(windowed, spectrum)
            .expect("window length matches the plan");
        let row = &mut window_line_power[w * width..(w + 1) * width];
        for ((p, x), s) in row.iter_mut().zip(spectrum.iter()).zip(&plan.plc_scale) {
            *p = x.norm_sqr() * s;
        }
        for (b, band) in CenelecBand::ALL.iter().enumerate() {
            window_band_power[w * 4 + b] = row[band.lines(PLC_LINE_SPACING_HZ)].iter().sum();
        }
    }
    let lines: Vec<f64> = line_rms.iter().map(|p| p.sqrt()).collect();
    CenelecBand::ALL
        .iter()
        .enumerate()
        .map(|(b, &band)| {
            let power = |w: usize| window_band_power[w * 4 + b];
            let p_max = (0..windows).map(power).fold(0.0, f64::max);
            let p_all = (0..windows).map(power).sum::<f64>() / windows as f64;
            let threshold = (0.1 * p_max).max(plan.floor * plan.floor);
            let mut active = 0usize;
            let mut p_active = 0.0;
            let mut line_power = vec![0.0; width];
            for w in (0..windows).filter(|&w| power(w) >= threshold && power(w) > 0.0) {
                active += 1;
                p_active += power(w);
                let row = &window_line_power[w * width..(w + 1) * width];
                for k in band.lines(PLC_LINE_SPACING_HZ) {
                    line_power[k] += row[k];
                }
            }
            let (level, signal) = if active > 0 {
                (
                    (p_active / active as f64).sqrt(),
                    plc::classify(band, &line_power, PLC_LINE_SPACING_HZ),
                )
            } else {
                (f64::NAN, None)
            };
            let (lo, hi) = band.edges_hz();
            let carriers = plc::carriers(
                &lines,
                (lo / bands::LINE_SPACING_HZ) as usize + 1,
                (hi / bands::LINE_SPACING_HZ) as usize,
                plan.floor,
            );
            PlcBandReading {
                band,
                level,
                peak: p_max.sqrt(),
                rms: p_all.sqrt(),
                active_fraction: active as f64 / windows as f64,
                carriers,
                signal,
            }
        })
        .collect()
}

/// The EN 50065-1 check of one band reading: its level while active against the band's
/// limit.
#[derive(Debug, Clone, PartialEq)]
pub struct PlcLimitCheck {
    /// The band.
    pub band: CenelecBand,
    /// The reading's level while active, dBµV (NaN when the band was never active).
    pub level_dbuv: f64,
    /// The limit row.
    pub limit: &'static PlcLimit,
    /// `true` when the level is within the limit (or the band was quiet).
    pub within: bool,
}

/// Check a band reading against EN 50065-1 (see [`plc::EN50065_1_LIMITS`] for the caveats).
pub fn check_plc_limit(reading: &PlcBandReading) -> PlcLimitCheck {
    let limit = plc::limit(reading.band);
    let level_dbuv = bands::dbuv(reading.level);
    PlcLimitCheck {
        band: reading.band,
        level_dbuv,
        limit,
        within: level_dbuv.is_nan() || level_dbuv <= limit.max_dbuv,
    }
}

impl SupraharmonicRecord {
    /// The record as ordered (column, value) pairs for its channel's table
    /// (`supraharmonics_<channel>`): `t` (seconds from the first sample), then the 2–9 kHz
    /// groups `G2100` … `G8900`, the 9–150 kHz bins `B10k` … `B148k` (maximum of the 32
    /// windows) and `B10k_rms` … `B148k_rms`, then per CENELEC band `PLC_A` (level while
    /// active, V), `PLC_A_dBuV`, `PLC_A_peak`, `PLC_A_rms` and `PLC_A_active` (share of the
    /// interval); a part that is off has no columns. Values are in the channel's unit.
    pub fn columns(&self) -> Vec<(String, f64)> {
        let mut out = vec![("t".to_string(), self.t)];
        for (c, v) in bands::group_centres().zip(&self.groups) {
            out.push((format!("G{c}"), *v));
        }
        for (c, v) in bands::bin_centres().zip(&self.bins_max) {
            out.push((format!("B{}k", c / 1000.0), *v));
        }
        for (c, v) in bands::bin_centres().zip(&self.bins_rms) {
            out.push((format!("B{}k_rms", c / 1000.0), *v));
        }
        for b in &self.plc {
            let l = b.band.letter();
            out.push((format!("PLC_{l}"), b.level));
            out.push((format!("PLC_{l}_dBuV"), bands::dbuv(b.level)));
            out.push((format!("PLC_{l}_peak"), b.peak));
            out.push((format!("PLC_{l}_rms"), b.rms));
            out.push((format!("PLC_{l}_active"), b.active_fraction));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_follow_the_documented_layout() {
        let mut a =
            SupraharmonicAnalyzer::new(500_000.0, 1, &SupraharmonicOptions::default()).unwrap();
        let n = 300_000;
        let x: Vec<f64> = (0..n)
            .map(|i| (std::f64::consts::TAU * 50.0 * i as f64 / 500_000.0).sin())
            .collect();
        a.push(&Block::from_planar(Timestamp::from_nanos(0), 500_000.0, 0, 1, x).unwrap())
            .unwrap();
        let r = a.next_record().unwrap();
        let cols: Vec<String> = r.columns().into_iter().map(|(n, _)| n).collect();
        assert_eq!(cols[0], "t");
        assert_eq!(cols[1], "G2100");
        assert_eq!(cols[35], "G8900");
        assert_eq!(cols[36], "B10k");
        assert_eq!(cols[105], "B148k");
        assert_eq!(cols[106], "B10k_rms");
        assert_eq!(cols[176], "PLC_A");
        assert_eq!(cols.last().unwrap(), "PLC_D_active");
        assert_eq!(cols.len(), 1 + 35 + 70 + 70 + 4 * 5);
    }
}
