//! Harmonics and interharmonics per IEC 61000-4-7 Ed.2 (Class I), as used by
//! IEC 61000-4-30 Class A: the spectrum of one synchronised 10-cycle (50 Hz) or 12-cycle
//! (60 Hz) window, and the groupings of its 5 Hz lines.
//!
//! The caller resamples each window to an exact number of cycles with
//! [`pqe_dsp::resample::SyncResampler`], so harmonic `n` sits exactly on line `k = c·n`
//! (`c` = cycles per window). [`HarmonicAnalyzer`] transforms such a window with a real FFT
//! (rectangular window of exactly 10/12 cycles, IEC 61000-4-7 Ed.2 4.4) into a [`Spectrum`]
//! of lines `C(k)`, each the complex RMS value of the component at `k·f1/c` hertz (`|C(k)|`
//! is its RMS, `arg C(k)` its phase as a cosine at the window start). The groupings of 5.5 (harmonics) and 5.6
//! (interharmonics) follow; the distortion ratios are those defined in clause 3:
//!
//! | quantity | lines (`k = c·n`, `h = c/2`) | clause |
//! |---|---|---|
//! | harmonic component `Y_C,n` | `C(k)` | 3.2 |
//! | harmonic subgroup `Y_sg,n` | `k−1 ..= k+1` | 5.5 |
//! | harmonic group `Y_g,n` | `k−h+1 ..= k+h−1`, plus ½ of `k±h` | 5.5 |
//! | interharmonic group `Y_ig,n` | `k+1 ..= k+c−1` (strictly between `n` and `n+1`) | 5.6 |
//! | interharmonic centred subgroup `Y_isg,n` | `k+2 ..= k+c−2` | 5.6 |
//!
//! Order 0 (DC) uses the one-sided versions: subgroup `C(0), C(1)`; group `C(0) ..= C(h−1)`
//! plus ½ of `C(h)`; its interharmonic group and centred subgroup are the lines from 5 Hz to
//! just below the fundamental as above.
//!
//! # Bad input
//!
//! A window holding NaN or infinite samples gives a spectrum of non-finite lines; every
//! quantity computed from it is then NaN (or infinite), never a plausible number, and
//! [`Spectrum::is_finite`] tells the caller to flag the interval. An order the spectrum does
//! not reach (too few points per cycle) gives NaN as well, and so does a window of the
//! wrong length given to [`HarmonicAnalyzer::analyze`] ([`HarmonicAnalyzer::analyze_into`]
//! returns that as an error).

use num_complex::Complex64;
use pqe_core::{Error, NominalFrequency, Result};
use pqe_dsp::fft::RealFft;

/// Highest harmonic order PQE reports (IEC 61000-4-30 Class A requires at least 50).
pub const MAX_ORDER: usize = 63;

/// Default highest order in THD sums (IEC 61000-4-7 uses 40 or 50 by convention).
pub const DEFAULT_THD_ORDER: usize = 50;

/// The transform of synchronised windows into spectra. Owns the FFT plan and buffers, so
/// [`analyze_into`](Self::analyze_into) allocates nothing.
#[derive(Debug)]
pub struct HarmonicAnalyzer {
    cycles: usize,
    points_per_cycle: usize,
    fft: RealFft,
    bins: Vec<Complex64>,
}

impl HarmonicAnalyzer {
    /// An analyzer for windows of `nominal.cycles_per_interval()` cycles of
    /// `points_per_cycle` points each (the output of the resampler). At least 128 points per
    /// cycle are needed for the interharmonic groups of order 63; at least 2.
    pub fn new(nominal: NominalFrequency, points_per_cycle: usize) -> Result<Self> {
        if points_per_cycle < 2 {
            return Err(Error::Config(format!(
                "harmonic analysis needs at least 2 points per cycle, not {points_per_cycle}"
            )));
        }
        let cycles = nominal.cycles_per_interval();
        let fft = RealFft::new(cycles * points_per_cycle)?;
        let bins = vec![Complex64::new(0.0, 0.0); fft.output_len()];
        Ok(Self {
            cycles,
            points_per_cycle,
            fft,
            bins,
        })
    }

    /// Points per window the analyzer expects.
    pub fn window_len(&self) -> usize {
        self.cycles * self.points_per_cycle
    }

    /// An empty spectrum of the right size, for [`analyze_into`](Self::analyze_into).
    pub fn new_spectrum(&self) -> Spectrum {
        Spectrum {
            lines: vec![Complex64::new(0.0, 0.0); self.bins.len()],
            cycles: self.cycles,
        }
    }

    /// The spectrum of one synchronised window (allocates the returned spectrum). A window
    /// of the wrong length gives a spectrum of NaN lines (so [`Spectrum::is_finite`] is
    /// false and every quantity is NaN); use [`analyze_into`](Self::analyze_into) to get the
    /// error instead.
    pub fn analyze(&mut self, synced_window: &[f64]) -> Spectrum {
        let mut spectrum = self.new_spectrum();
        if self.analyze_into(synced_window, &mut spectrum).is_err() {
            spectrum.lines.fill(Complex64::new(f64::NAN, f64::NAN));
        }
        spectrum
    }

    /// The spectrum of one synchronised window, written into `spectrum` (made by
    /// [`new_spectrum`](Self::new_spectrum) of an analyzer of the same size; it is resized
    /// otherwise). Errors only when the window length is not
    /// [`window_len`](Self::window_len).
    pub fn analyze_into(&mut self, synced_window: &[f64], spectrum: &mut Spectrum) -> Result<()> {
        self.fft.forward(synced_window, &mut self.bins)?;
        let n = self.window_len();
        let scale_dc = 1.0 / n as f64;
        let scale = std::f64::consts::SQRT_2 / n as f64;
        spectrum.cycles = self.cycles;
        spectrum
            .lines
            .resize(self.bins.len(), Complex64::new(0.0, 0.0));
        for (line, bin) in spectrum.lines.iter_mut().zip(&self.bins) {
            *line = bin * scale;
        }
        spectrum.lines[0] = self.bins[0] * scale_dc;
        if n % 2 == 0 {
            // The Nyquist line, like DC, has no mirror image.
            let last = self.bins.len() - 1;
            spectrum.lines[last] = self.bins[last] * scale_dc;
        }
        Ok(())
    }
}

/// The lines of one 10/12-cycle window: `C(k)` is the complex RMS value at `k·f1/c` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    lines: Vec<Complex64>,
    cycles: usize,
}

impl Spectrum {
    /// A spectrum from its lines (complex RMS values, line `k` at `k/cycles` times the
    /// fundamental), for callers with their own transform and for tests.
    pub fn from_lines(lines: Vec<Complex64>, cycles: usize) -> Self {
        Self { lines, cycles }
    }

    /// The lines `C(0) ..= C(N/2)`.
    pub fn lines(&self) -> &[Complex64] {
        &self.lines
    }

    /// Cycles per window `c` (harmonic `n` is line `c·n`).
    pub fn cycles(&self) -> usize {
        self.cycles
    }

    /// Whether every line is finite (false when the window held NaN or infinite samples).
    pub fn is_finite(&self) -> bool {
        self.lines
            .iter()
            .all(|c| c.re.is_finite() && c.im.is_finite())
    }

    /// The highest order whose interharmonic group the spectrum holds.
    pub fn max_order(&self) -> usize {
        if self.cycles == 0 || self.lines.is_empty() {
            return 0;
        }
        ((self.lines.len() - 1) / self.cycles)
            .saturating_sub(1)
            .min(MAX_ORDER)
    }

    /// `|C(k)|²`, NaN beyond the last line.
    fn power(&self, k: usize) -> f64 {
        self.lines.get(k).map_or(f64::NAN, |c| c.norm_sqr())
    }

    /// `Σ |C(k)|²` for `k` in `lo ..= hi` (empty when `hi < lo`), NaN when a line is missing.
    fn band_power(&self, lo: usize, hi: usize) -> f64 {
        if hi < lo {
            return 0.0;
        }
        match self.lines.get(lo..=hi) {
            Some(band) => sum_norm_sqr(band),
            None => f64::NAN,
        }
    }

    /// The fundamental's line `C(c)`: complex RMS value.
    pub fn fundamental(&self) -> Complex64 {
        self.harmonic(1)
    }

    /// The harmonic component `C(c·n)` of order `n` as a complex RMS value (NaN when the
    /// spectrum does not reach it). Order 0 is the DC value.
    pub fn harmonic(&self, n: usize) -> Complex64 {
        self.lines
            .get(n * self.cycles)
            .copied()
            .unwrap_or(Complex64::new(f64::NAN, f64::NAN))
    }

    /// The DC component `C(0)` with its sign.
    pub fn dc(&self) -> f64 {
        self.lines.first().map_or(f64::NAN, |c| c.re)
    }

    /// RMS of the whole window from its lines (Parseval): equals the time-domain RMS of the
    /// synchronised window, DC included.
    pub fn rms(&self) -> f64 {
        sum_norm_sqr(&self.lines).sqrt()
    }

    /// Harmonic subgroup `Y_sg,n` (IEC 61000-4-7 5.5): RMS of lines `c·n − 1 ..= c·n + 1`.
    pub fn harmonic_subgroup(&self, n: usize) -> f64 {
        let k = n * self.cycles;
        self.band_power(k.saturating_sub(1), k + 1).sqrt()
    }

    /// Harmonic group `Y_g,n` (IEC 61000-4-7 5.5): lines within ±(h−1) of `c·n`,
    /// plus half the power of the lines at ±h, `h = c/2` (5 for 50 Hz, 6 for 60 Hz).
    pub fn harmonic_group(&self, n: usize) -> f64 {
        let h = self.cycles / 2;
        let k = n * self.cycles;
        let mut p = self.band_power((k + 1).saturating_sub(h), k + h - 1) + 0.5 * self.power(k + h);
        if k >= h {
            p += 0.5 * self.power(k - h);
        }
        p.sqrt()
    }

    /// Interharmonic group `Y_ig,n` (IEC 61000-4-7 5.6): all lines strictly between
    /// harmonics `n` and `n + 1`.
    pub fn interharmonic_group(&self, n: usize) -> f64 {
        let k = n * self.cycles;
        self.band_power(k + 1, k + self.cycles - 1).sqrt()
    }

    /// Interharmonic centred subgroup `Y_isg,n` (IEC 61000-4-7 5.6): the interharmonic
    /// group without the lines adjacent to harmonics `n` and `n + 1`.
    pub fn interharmonic_centred_subgroup(&self, n: usize) -> f64 {
        let k = n * self.cycles;
        self.band_power(k + 2, k + self.cycles - 2).sqrt()
    }

    /// Phase angle of harmonic `n` in degrees, in (−180, 180], relative to the reference
    /// fundamental: `arg C(c·n) − n·reference_angle`, where `reference_angle` is
    /// `arg` of the U_A fundamental in radians. Scaling the reference by `n` makes the
    /// result independent of where the window starts: for `U_A` itself order 1 gives 0 and
    /// order `n` gives the phase of its harmonic `n` on a time axis whose zero is a positive
    /// peak of the fundamental (cosine convention). NaN for a zero or missing line.
    pub fn harmonic_phase_deg(&self, n: usize, reference_angle: f64) -> f64 {
        let c = self.harmonic(n);
        if c.norm_sqr() == 0.0 {
            return f64::NAN;
        }
        wrap_deg((c.arg() - n as f64 * reference_angle).to_degrees())
    }

    /// THD from harmonic components (IEC 61000-4-7 clause 3), in percent of the fundamental:
    /// `100·√(Σ_{n=2..=H} |C(c·n)|²) / |C(c)|`, `H = max_order`.
    pub fn thd(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |s, n| s.harmonic(n).norm_sqr()),
            self.fundamental().norm(),
        )
    }

    /// THDS, subgroup total harmonic distortion (IEC 61000-4-7 clause 3), in percent:
    /// `100·√(Σ_{n=2..=H} Y_sg,n²) / Y_sg,1`.
    pub fn thds(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |s, n| s.harmonic_subgroup(n).powi(2)),
            self.harmonic_subgroup(1),
        )
    }

    /// THDG, group total harmonic distortion (IEC 61000-4-7 clause 3), in percent:
    /// `100·√(Σ_{n=2..=H} Y_g,n²) / Y_g,1`.
    pub fn thdg(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |s, n| s.harmonic_group(n).powi(2)),
            self.harmonic_group(1),
        )
    }

    /// The THD that some meters show ("THD-R"), in percent: the harmonic components of
    /// [`thd`](Self::thd) divided by the total RMS of the window ([`rms`](Self::rms)) instead
    /// of the fundamental.
    pub fn thd_rms_based(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |s, n| s.harmonic(n).norm_sqr()),
            self.rms(),
        )
    }

    /// Total demand distortion (IEEE 519-2014 3.1), in percent of the maximum demand load
    /// current `i_l`: `100·√(Σ_{n=2..=H} Y_sg,n²) / I_L`, from harmonic subgroups (the Class A
    /// harmonic quantity). NaN when `i_l` is not a positive finite current.
    pub fn tdd(&self, max_order: usize, i_l: f64) -> f64 {
        if !(i_l.is_finite() && i_l > 0.0) {
            return f64::NAN;
        }
        ratio_pct(
            self.sum_over(2, max_order, |s, n| s.harmonic_subgroup(n).powi(2)),
            i_l,
        )
    }

    /// Transformer K-factor (UL 1561 / IEEE C57.110): `Σ (n·I_n)² / Σ I_n²` over orders
    /// `1 ..= H` of the harmonic subgroups. 1 for a pure sine; NaN for a zero current.
    pub fn k_factor(&self, max_order: usize) -> f64 {
        let weighted = self.sum_over(1, max_order, |s, n| {
            (n as f64 * s.harmonic_subgroup(n)).powi(2)
        });
        let plain = self.sum_over(1, max_order, |s, n| s.harmonic_subgroup(n).powi(2));
        if plain == 0.0 {
            f64::NAN
        } else {
            weighted / plain
        }
    }

    /// Distortion by the even orders `2, 4, … ≤ H`, in percent of the fundamental, from
    /// harmonic subgroups: `100·√(Σ_even Y_sg,n²) / Y_sg,1`.
    pub fn even_distortion(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |s, n| {
                if n % 2 == 0 {
                    s.harmonic_subgroup(n).powi(2)
                } else {
                    0.0
                }
            }),
            self.harmonic_subgroup(1),
        )
    }

    /// Distortion by the odd orders `3, 5, … ≤ H`, in percent of the fundamental, from
    /// harmonic subgroups: `100·√(Σ_odd Y_sg,n²) / Y_sg,1`.
    pub fn odd_distortion(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(3, max_order, |s, n| {
                if n % 2 == 1 {
                    s.harmonic_subgroup(n).powi(2)
                } else {
                    0.0
                }
            }),
            self.harmonic_subgroup(1),
        )
    }

    /// Mains signalling voltage (IEC 61000-4-30 5.10) at `freq_hz`, with the window's
    /// fundamental at `f1` Hz: the RMS of the line at that frequency when it falls on a line
    /// (within 0.1 % of the line spacing), else the RMS of the four nearest lines. NaN for a
    /// frequency outside the spectrum or non-positive inputs.
    pub fn signalling_voltage(&self, freq_hz: f64, f1: f64) -> f64 {
        if !(freq_hz.is_finite() && f1.is_finite() && freq_hz > 0.0 && f1 > 0.0) {
            return f64::NAN;
        }
        let pos = freq_hz * self.cycles as f64 / f1;
        let nearest = pos.round();
        if (pos - nearest).abs() < 1e-3 {
            return self.power(nearest as usize).sqrt();
        }
        let k0 = pos.floor() as usize;
        if k0 == 0 {
            return self.band_power(0, 2).sqrt();
        }
        self.band_power(k0 - 1, k0 + 2).sqrt()
    }

    /// Every order's groupings and phase angle at once ([`OrderValues`]), orders
    /// `0 ..= MAX_ORDER`: the same values as [`harmonic_subgroup`](Self::harmonic_subgroup),
    /// [`harmonic_group`](Self::harmonic_group), [`interharmonic_group`](Self::interharmonic_group)
    /// and [`interharmonic_centred_subgroup`](Self::interharmonic_centred_subgroup) order by
    /// order, bit for bit (each line's `|C(k)|²` formed once and summed in the same order),
    /// and the phase angles of [`harmonic_phase_deg`](Self::harmonic_phase_deg) to within
    /// about 10⁻¹¹ degree ([`phase_deg_fast`]).
    pub fn order_values(&self, reference_angle: f64) -> OrderValues {
        let c = self.cycles;
        let orders = MAX_ORDER + 1;
        // Lines up to the last one any grouping of order MAX_ORDER reads (k + c − 1, k + h).
        let needed = (orders * c + c).min(self.lines.len());
        // On the stack for windows of up to 12 cycles (every window of IEC 61000-4-7).
        let mut on_stack = [0.0f64; (MAX_ORDER + 2) * 12];
        let mut on_heap = Vec::new();
        let power: &mut [f64] = if needed <= on_stack.len() {
            &mut on_stack[..needed]
        } else {
            on_heap.resize(needed, 0.0);
            &mut on_heap
        };
        for (p, z) in power.iter_mut().zip(&self.lines[..needed]) {
            *p = z.re * z.re + z.im * z.im;
        }
        let power: &[f64] = power;
        #[inline(always)]
        fn band_of(s: &Spectrum, power: &[f64], lo: usize, hi: usize) -> f64 {
            match power.get(lo..=hi) {
                Some(band) => sum4(band),
                None => s.band_power(lo, hi),
            }
        }
        let band = |lo: usize, hi: usize| band_of(self, power, lo, hi);
        let line = |k: usize| -> f64 {
            match power.get(k) {
                Some(&v) => v,
                None => self.power(k),
            }
        };
        let h = c / 2;
        let mut v = OrderValues {
            subgroups: vec![0.0; orders],
            groups: vec![0.0; orders],
            interharmonic_groups: vec![0.0; orders],
            interharmonic_centred_subgroups: vec![0.0; orders],
            phases_deg: Vec::with_capacity(orders),
        };
        // e^{−j·n·reference}, advanced by one complex product per order.
        let step = Complex64::new(reference_angle.cos(), -reference_angle.sin());
        let mut turn = Complex64::new(1.0, 0.0);
        let per_order = v
            .subgroups
            .iter_mut()
            .zip(v.groups.iter_mut())
            .zip(v.interharmonic_groups.iter_mut())
            .zip(v.interharmonic_centred_subgroups.iter_mut());
        for (n, (((subgroup, group), interharmonic), centred)) in per_order.enumerate() {
            let k = n * c;
            // Powers here, square roots below in one vectorisable pass.
            *subgroup = band(k.saturating_sub(1), k + 1);
            let mut g = band((k + 1).saturating_sub(h), k + h - 1) + 0.5 * line(k + h);
            if k >= h {
                g += 0.5 * line(k - h);
            }
            *group = g;
            *interharmonic = band(k + 1, k + c - 1);
            *centred = band(k + 2, k + c - 2);
        }
        for values in [
            &mut v.subgroups,
            &mut v.groups,
            &mut v.interharmonic_groups,
            &mut v.interharmonic_centred_subgroups,
        ] {
            for x in values.iter_mut() {
                *x = x.sqrt();
            }
        }
        // The phases in a loop of their own: the orders are independent, so their
        // divisions and polynomials overlap.
        let mut rotated = [Complex64::new(0.0, 0.0); MAX_ORDER + 1];
        for z in rotated.iter_mut() {
            *z = turn;
            turn = Complex64::new(
                turn.re * step.re - turn.im * step.im,
                turn.re * step.im + turn.im * step.re,
            );
        }
        for (n, r) in rotated.iter().enumerate() {
            let z = self.harmonic(n);
            v.phases_deg
                .push(if !reference_angle.is_finite() || z.norm_sqr() == 0.0 {
                    // As `harmonic_phase_deg`: NaN for a zero line or a NaN reference.
                    self.harmonic_phase_deg(n, reference_angle)
                } else {
                    phase_deg_fast(z * r)
                });
        }
        v
    }

    /// `Σ f(self, n)` for `n` in `from ..= to`.
    fn sum_over(&self, from: usize, to: usize, f: impl Fn(&Self, usize) -> f64) -> f64 {
        (from..=to).map(|n| f(self, n)).sum()
    }
}

/// The groupings (IEC 61000-4-7 5.5, 5.6) and phase angles of every order `0 ..= MAX_ORDER`
/// of one spectrum (index = order), from [`Spectrum::order_values`], with the distortion
/// ratios of clause 3 computed from them.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderValues {
    /// Harmonic subgroups `Y_sg,n`.
    pub subgroups: Vec<f64>,
    /// Harmonic groups `Y_g,n`.
    pub groups: Vec<f64>,
    /// Interharmonic groups `Y_ig,n`.
    pub interharmonic_groups: Vec<f64>,
    /// Interharmonic centred subgroups `Y_isg,n`.
    pub interharmonic_centred_subgroups: Vec<f64>,
    /// Phase angles in degrees relative to the reference, as
    /// [`Spectrum::harmonic_phase_deg`].
    pub phases_deg: Vec<f64>,
}

impl OrderValues {
    /// `Σ f(n)` for `n` in `from ..= to` (NaN past the last order held).
    fn sum_over(&self, from: usize, to: usize, f: impl Fn(usize) -> f64) -> f64 {
        (from..=to)
            .map(|n| if n <= MAX_ORDER { f(n) } else { f64::NAN })
            .sum()
    }

    /// [`Spectrum::thds`] from the subgroups held (bit for bit, `max_order ≤ MAX_ORDER`).
    pub fn thds(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |n| self.subgroups[n].powi(2)),
            self.subgroups[1],
        )
    }

    /// [`Spectrum::thdg`] from the groups held.
    pub fn thdg(&self, max_order: usize) -> f64 {
        ratio_pct(
            self.sum_over(2, max_order, |n| self.groups[n].powi(2)),
            self.groups[1],
        )
    }

    /// [`Spectrum::tdd`] from the subgroups held.
    pub fn tdd(&self, max_order: usize, i_l: f64) -> f64 {
        if !(i_l.is_finite() && i_l > 0.0) {
            return f64::NAN;
        }
        ratio_pct(
            self.sum_over(2, max_order, |n| self.subgroups[n].powi(2)),
            i_l,
        )
    }

    /// [`Spectrum::k_factor`] from the subgroups held.
    pub fn k_factor(&self, max_order: usize) -> f64 {
        let weighted = self.sum_over(1, max_order, |n| (n as f64 * self.subgroups[n]).powi(2));
        let plain = self.sum_over(1, max_order, |n| self.subgroups[n].powi(2));
        if plain == 0.0 {
            f64::NAN
        } else {
            weighted / plain
        }
    }
}

/// `arg z` in degrees, in (−180, 180]: the fast twin of `wrap_deg(z.arg().to_degrees())`
/// used for the harmonic phase angles (IEC 61000-4-30 reports them to 0.5°/10; this is
/// exact to about 10⁻¹³ rad). The angle is reduced to the first octant by the signs and the
/// order of |re|, |im|, then by `atan t = kπ/8 + atan((t − tan kπ/8)/(1 + t·tan kπ/8))` to
/// `|u| ≤ tan π/16`, where nine terms of the Taylor series of `atan u` leave an error below
/// `u¹⁹/19 < 10⁻¹⁴`.
#[inline]
pub fn phase_deg_fast(z: Complex64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_8, PI};
    let (x, y) = (z.re, z.im);
    if !(x.is_finite() && y.is_finite()) || (x == 0.0 && y == 0.0) {
        return wrap_deg(z.arg().to_degrees());
    }
    let (ax, ay) = (x.abs(), y.abs());
    let swap = ay > ax;
    let t = if swap { ax / ay } else { ay / ax };
    // tan(π/16), tan(3π/16); tan(π/8), tan(π/4).
    const T16: f64 = 0.198_912_367_379_658;
    const T316: f64 = 0.668_178_637_919_298_9;
    const TAN8: f64 = 0.414_213_562_373_095_03;
    let (base, u) = if t <= T16 {
        (0.0, t)
    } else if t <= T316 {
        (FRAC_PI_8, (t - TAN8) / (1.0 + t * TAN8))
    } else {
        (2.0 * FRAC_PI_8, (t - 1.0) / (1.0 + t))
    };
    // atan u = u·(1 − u²/3 + u⁴/5 − … + u¹⁶/17), evaluated as a tree of products
    // (Estrin) rather than one long chain, so successive calls overlap.
    const C: [f64; 9] = [
        1.0,
        -1.0 / 3.0,
        1.0 / 5.0,
        -1.0 / 7.0,
        1.0 / 9.0,
        -1.0 / 11.0,
        1.0 / 13.0,
        -1.0 / 15.0,
        1.0 / 17.0,
    ];
    let s = u * u;
    let s2 = s * s;
    let s4 = s2 * s2;
    let q0 = (C[0] + C[1] * s) + (C[2] + C[3] * s) * s2;
    let q1 = (C[4] + C[5] * s) + (C[6] + C[7] * s) * s2;
    let poly = q0 + (q1 + C[8] * s4) * s4;
    let mut a = base + u * poly;
    if swap {
        a = FRAC_PI_2 - a;
    }
    if x < 0.0 {
        a = PI - a;
    }
    let deg = a.to_degrees();
    if y < 0.0 || (y == 0.0 && y.is_sign_negative() && x > 0.0) {
        // (−180, 0): the lower half plane; −180 itself is reported as 180.
        if deg >= 180.0 {
            180.0
        } else {
            -deg
        }
    } else {
        deg
    }
}

/// `Σ v` on four accumulators, in the order of [`sum_norm_sqr`] (same result for the same
/// squared magnitudes).
#[inline(always)]
fn sum4(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().copied().sum();
    for ch in chunks {
        for k in 0..4 {
            acc[k] += ch[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `100·√(power)/reference`; NaN for a zero reference.
fn ratio_pct(power: f64, reference: f64) -> f64 {
    if reference == 0.0 {
        f64::NAN
    } else {
        100.0 * power.sqrt() / reference
    }
}

/// Angle in degrees wrapped to (−180, 180].
fn wrap_deg(deg: f64) -> f64 {
    let w = deg.rem_euclid(360.0);
    if w > 180.0 {
        w - 360.0
    } else {
        w
    }
}

/// `Σ |z|²` on four accumulators.
fn sum_norm_sqr(lines: &[Complex64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = lines.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().map(|c| c.norm_sqr()).sum();
    for ch in chunks {
        for k in 0..4 {
            acc[k] += ch[k].re * ch[k].re + ch[k].im * ch[k].im;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spectrum with unit power on the given lines.
    fn lines_at(cycles: usize, len: usize, at: &[usize]) -> Spectrum {
        let mut lines = vec![Complex64::new(0.0, 0.0); len];
        for &k in at {
            lines[k] = Complex64::new(1.0, 0.0);
        }
        Spectrum::from_lines(lines, cycles)
    }

    fn assert_power(value: f64, power: f64) {
        assert!((value * value - power).abs() < 1e-12, "{value}² vs {power}");
    }

    #[test]
    fn groupings_take_the_lines_of_the_standard() {
        // 50 Hz: harmonic 3 is line 30.
        let s = lines_at(10, 1281, &[25, 26, 29, 30, 31, 34, 35, 36]);
        assert_power(s.harmonic_subgroup(3), 3.0); // 29, 30, 31
        assert_power(s.harmonic_group(3), 0.5 + 5.0 + 0.5); // ½·25, 26..=34, ½·35
        assert_power(s.interharmonic_group(2), 3.0); // 21..=29 holds 25, 26, 29
        assert_power(s.interharmonic_centred_subgroup(2), 2.0); // 22..=28 holds 25, 26
        assert_power(s.interharmonic_centred_subgroup(3), 3.0); // 32..=38 holds 34, 35, 36
                                                                // 60 Hz: harmonic 3 is line 36, halves at ±6.
        let s = lines_at(12, 1537, &[30, 31, 36, 41, 42]);
        assert_power(s.harmonic_group(3), 0.5 + 3.0 + 0.5);
        assert_power(s.interharmonic_centred_subgroup(2), 2.0); // 26..=34 holds 30, 31
        assert!(s.harmonic_subgroup(200).is_nan());
        assert_eq!(s.max_order(), 63);
    }

    #[test]
    fn order_zero_is_one_sided() {
        let s = lines_at(10, 1281, &[0, 1, 2, 5]);
        assert_power(s.harmonic_subgroup(0), 2.0);
        assert_power(s.harmonic_group(0), 3.5);
        assert_power(s.interharmonic_centred_subgroup(0), 2.0);
    }

    #[test]
    fn phase_wraps_and_zero_lines_are_nan() {
        assert_eq!(wrap_deg(190.0), -170.0);
        assert_eq!(wrap_deg(-180.0), 180.0);
        let s = lines_at(10, 1281, &[10]);
        assert!(s.harmonic_phase_deg(2, 0.0).is_nan());
        assert_eq!(s.harmonic_phase_deg(1, 0.0), 0.0);
        assert!(s.thd(50).abs() < 1e-15 && s.k_factor(50) == 1.0);
    }

    #[test]
    fn fast_phase_matches_atan2_everywhere() {
        let mut worst = 0.0f64;
        for i in 0..20_000 {
            let a = -3.2 + i as f64 * 6.4 / 20_000.0;
            for r in [1e-300, 1e-3, 1.0, 325.0, 1e300] {
                let z = Complex64::from_polar(r, a);
                let d = phase_deg_fast(z) - wrap_deg(z.arg().to_degrees());
                // Near ±180 the two may land on either side of the cut.
                worst = worst.max(d.abs().min((d.abs() - 360.0).abs()));
            }
        }
        assert!(worst < 1e-11, "{worst}");
        for z in [
            Complex64::new(1.0, 0.0),
            Complex64::new(-1.0, 0.0),
            Complex64::new(-1.0, -0.0),
            Complex64::new(1.0, -0.0),
            Complex64::new(0.0, 2.0),
            Complex64::new(0.0, -2.0),
            Complex64::new(3.0, 3.0),
            Complex64::new(-3.0, -3.0),
            Complex64::new(0.0, 0.0),
            Complex64::new(f64::NAN, 1.0),
            Complex64::new(f64::INFINITY, 1.0),
        ] {
            let (fast, plain) = (phase_deg_fast(z), wrap_deg(z.arg().to_degrees()));
            assert!(
                fast.to_bits() == plain.to_bits() || (fast - plain).abs() < 1e-12,
                "{z}: {fast} vs {plain}"
            );
        }
    }

    #[test]
    fn order_values_equal_the_single_order_methods() {
        for (cycles, len) in [(10usize, 1281usize), (12, 1537), (10, 300), (16, 2049)] {
            let lines: Vec<Complex64> = (0..len)
                .map(|k| {
                    let k = k as f64;
                    Complex64::new((0.37 * k).sin() * 3.0, (1.3 * k).cos() + 0.01 * k)
                })
                .collect();
            let s = Spectrum::from_lines(lines, cycles);
            for reference in [0.0, 1.234, -2.9, f64::NAN] {
                let v = s.order_values(reference);
                for n in 0..=MAX_ORDER {
                    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
                    assert!(same(v.subgroups[n], s.harmonic_subgroup(n)), "{n}");
                    assert!(same(v.groups[n], s.harmonic_group(n)), "{n}");
                    assert!(same(v.interharmonic_groups[n], s.interharmonic_group(n)));
                    assert!(same(
                        v.interharmonic_centred_subgroups[n],
                        s.interharmonic_centred_subgroup(n)
                    ));
                    let (fast, plain) = (v.phases_deg[n], s.harmonic_phase_deg(n, reference));
                    let d = (fast - plain).abs();
                    assert!(
                        same(fast, plain) || d.min((d - 360.0).abs()) < 1e-9,
                        "order {n}: {fast} vs {plain}"
                    );
                }
                if len > 700 {
                    for h in [40, 50, 63] {
                        assert_eq!(v.thds(h).to_bits(), s.thds(h).to_bits());
                        assert_eq!(v.thdg(h).to_bits(), s.thdg(h).to_bits());
                        assert_eq!(v.k_factor(h).to_bits(), s.k_factor(h).to_bits());
                        assert_eq!(v.tdd(h, 7.0).to_bits(), s.tdd(h, 7.0).to_bits());
                    }
                }
            }
        }
    }

    #[test]
    fn analyzer_rejects_bad_sizes_and_flags_nan() {
        assert!(HarmonicAnalyzer::new(NominalFrequency::Hz50, 1).is_err());
        let mut a = HarmonicAnalyzer::new(NominalFrequency::Hz50, 256).unwrap();
        assert!(!a.analyze(&[0.0; 100]).is_finite());
        let mut spectrum = a.new_spectrum();
        assert!(a.analyze_into(&[0.0; 100], &mut spectrum).is_err());
        let mut w = vec![1.0; 2560];
        w[7] = f64::NAN;
        let s = a.analyze(&w);
        assert!(!s.is_finite() && s.thd(50).is_nan() && s.rms().is_nan());
    }
}
