//! Block 5 of the flickermeter (IEC 61000-4-15 Ed.2 4.7): statistics of Pinst over the
//! 10-min observation period, the short-term severity Pst (4.7.2) and the long-term
//! severity Plt (4.7.3).
//!
//! The standard asks for a classifier of at least 64 classes fed at 50 Hz or more. This
//! meter classifies every Pinst value at the decimated rate (about 1 kHz) into
//! [`PinstClassifier`]'s 40 962 logarithmic classes, 1024 per octave from 2⁻²⁴ to 2¹⁶
//! (each class 0.07 % wide): a value's class is read straight off the bits of its `f32`
//! form (exponent and the ten leading mantissa bits), one shift per value, 160 kB per
//! channel. `P_x`, the level exceeded during x % of the period, is found by counting down
//! from the top class and interpolating linearly inside the class it falls in; it agrees
//! with the exact order statistics ([`ShortTermStatistics::from_values`]) to better than
//! 0.01 %.

/// The percentiles and severity of one observation period (4.7.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortTermStatistics {
    /// P0.1, not smoothed.
    pub p0_1: f64,
    /// P1s = (P0.7 + P1 + P1.5) / 3.
    pub p1s: f64,
    /// P3s = (P2.2 + P3 + P4) / 3.
    pub p3s: f64,
    /// P10s = (P6 + P8 + P10 + P13 + P17) / 5.
    pub p10s: f64,
    /// P50s = (P30 + P50 + P80) / 3.
    pub p50s: f64,
    /// Pst = √(0.0314·P0.1 + 0.0525·P1s + 0.0657·P3s + 0.28·P10s + 0.08·P50s).
    pub pst: f64,
    /// Largest Pinst.
    pub pinst_max: f64,
}

/// The percentages x of the levels P_x that Pst uses, ascending.
const PERCENTS: [f64; 15] = [
    0.1, 0.7, 1.0, 1.5, 2.2, 3.0, 4.0, 6.0, 8.0, 10.0, 13.0, 17.0, 30.0, 50.0, 80.0,
];

impl ShortTermStatistics {
    /// The statistics from the levels P_x for [`PERCENTS`], in that order.
    fn from_levels(p: [f64; 15], pinst_max: f64) -> Self {
        let mean = |range: std::ops::Range<usize>| {
            let n = range.len() as f64;
            p[range].iter().sum::<f64>() / n
        };
        let p0_1 = p[0];
        let p1s = mean(1..4);
        let p3s = mean(4..7);
        let p10s = mean(7..12);
        let p50s = mean(12..15);
        let pst = (0.0314 * p0_1 + 0.0525 * p1s + 0.0657 * p3s + 0.28 * p10s + 0.08 * p50s)
            .max(0.0)
            .sqrt();
        ShortTermStatistics {
            p0_1,
            p1s,
            p3s,
            p10s,
            p50s,
            pst,
            pinst_max,
        }
    }

    /// The statistics of the Pinst values `pinst` by exact order statistics (the values are
    /// reordered in place; `P_x` is the (1 − x/100) quantile, interpolated linearly
    /// between neighbouring values). `None` when there is no value or a value is not
    /// finite. The reference for [`PinstClassifier`].
    pub fn from_values(pinst: &mut [f64]) -> Option<Self> {
        if pinst.is_empty() || pinst.iter().any(|v| !v.is_finite()) {
            return None;
        }
        pinst.sort_unstable_by(f64::total_cmp);
        let last = pinst.len() - 1;
        let level = |percent: f64| {
            let position = (1.0 - percent / 100.0) * last as f64;
            let below = (position.floor() as usize).min(last);
            let above = (below + 1).min(last);
            let fraction = position - below as f64;
            pinst[below] + (pinst[above] - pinst[below]) * fraction
        };
        Some(Self::from_levels(PERCENTS.map(level), pinst[last]))
    }
}

/// Lower edge of the first regular class: smaller values count as zero.
const LOWEST: f32 = 1.0 / 16_777_216.0; // 2⁻²⁴
/// Lower edge of the overflow class.
const HIGHEST: f32 = 65_536.0; // 2¹⁶
/// Mantissa bits that tell classes apart: 2¹⁰ classes per octave.
const CLASS_BITS: u32 = 10;
const SHIFT: u32 = 23 - CLASS_BITS;
/// Class 0 holds zero and values below [`LOWEST`]; classes 1 … REGULAR the octaves from
/// 2⁻²⁴ to 2¹⁶; the last class values from 2¹⁶ up.
const REGULAR: usize = ((HIGHEST.to_bits() - LOWEST.to_bits()) >> SHIFT) as usize;

/// The fine logarithmic classifier of block 5 (see the module documentation).
#[derive(Debug, Clone)]
pub struct PinstClassifier {
    counts: Vec<u32>,
    total: u64,
    max: f64,
}

impl Default for PinstClassifier {
    fn default() -> Self {
        PinstClassifier::new()
    }
}

impl PinstClassifier {
    /// An empty classifier.
    pub fn new() -> Self {
        PinstClassifier {
            counts: vec![0; REGULAR + 2],
            total: 0,
            max: f64::NEG_INFINITY,
        }
    }

    /// Classify one Pinst value (Pinst is never negative; a NaN counts as zero).
    #[inline]
    pub fn add(&mut self, pinst: f64) {
        let v = pinst as f32;
        let class = if v >= HIGHEST {
            REGULAR + 1
        } else if v >= LOWEST {
            ((v.to_bits() - LOWEST.to_bits()) >> SHIFT) as usize + 1
        } else {
            0
        };
        self.counts[class] += 1;
        self.total += 1;
        self.max = self.max.max(pinst);
    }

    /// Classify the values of `pinst` in order, as [`Self::add`] one by one (the count
    /// and the largest value kept in registers over the slice).
    pub fn add_slice(&mut self, pinst: &[f64]) {
        let counts = &mut self.counts[..REGULAR + 2];
        let mut max = self.max;
        for &p in pinst {
            let v = p as f32;
            let class = if v >= HIGHEST {
                REGULAR + 1
            } else if v >= LOWEST {
                ((v.to_bits() - LOWEST.to_bits()) >> SHIFT) as usize + 1
            } else {
                0
            };
            counts[class] += 1;
            max = max.max(p);
        }
        self.total += pinst.len() as u64;
        self.max = max;
    }

    /// Values classified.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when no value was classified.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Start a new period.
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.total = 0;
        self.max = f64::NEG_INFINITY;
    }

    /// Pst and its percentiles; `None` when no value was classified.
    pub fn statistics(&self) -> Option<ShortTermStatistics> {
        if self.total == 0 {
            return None;
        }
        let mut levels = [0.0; 15];
        let targets = PERCENTS.map(|p| p / 100.0 * self.total as f64);
        // A count n (exact in f64 below 2⁵³) is below target t exactly when n < ⌈t⌉: the
        // test of the plain twin on integers, off the floating-point path of every class.
        let reached = targets.map(|t| t.ceil() as u64);
        // Count down from the top class; PERCENTS ascend, so their targets are met in order.
        let mut k = 0;
        let mut above = 0u64;
        // Every class is visited without a test on its count (empty classes, most of the
        // 40 962, fall in no predictable pattern): the running count only crosses the next
        // target, rarely, where a class holds values.
        for class in (0..self.counts.len()).rev() {
            let count = u64::from(self.counts[class]);
            let through = above + count;
            if through >= reached[k] {
                while k < PERCENTS.len() && through >= reached[k] {
                    let (lower, upper) = self.edges(class);
                    let inside = (targets[k] - above as f64) / count as f64;
                    levels[k] = upper - (upper - lower) * inside;
                    k += 1;
                }
                if k == PERCENTS.len() {
                    break;
                }
            }
            above = through;
        }
        Some(ShortTermStatistics::from_levels(levels, self.max))
    }

    /// [`Self::statistics`] class by class without skipping empty runs: its plain twin.
    #[cfg(test)]
    fn statistics_plain(&self) -> Option<ShortTermStatistics> {
        if self.total == 0 {
            return None;
        }
        let mut levels = [0.0; 15];
        let mut k = 0;
        let mut above = 0u64;
        for class in (0..self.counts.len()).rev() {
            let count = u64::from(self.counts[class]);
            if count == 0 {
                continue;
            }
            while k < PERCENTS.len() {
                let target = PERCENTS[k] / 100.0 * self.total as f64;
                if ((above + count) as f64) < target {
                    break;
                }
                let (lower, upper) = self.edges(class);
                let inside = (target - above as f64) / count as f64;
                levels[k] = upper - (upper - lower) * inside;
                k += 1;
            }
            above += count;
            if k == PERCENTS.len() {
                break;
            }
        }
        Some(ShortTermStatistics::from_levels(levels, self.max))
    }

    /// The values a class spans.
    fn edges(&self, class: usize) -> (f64, f64) {
        let edge = |c: usize| f64::from(f32::from_bits(LOWEST.to_bits() + ((c as u32) << SHIFT)));
        match class {
            0 => (0.0, 0.0),
            c if c > REGULAR => (f64::from(HIGHEST), self.max.max(f64::from(HIGHEST))),
            c => (edge(c - 1), edge(c).min(self.max.max(edge(c - 1)))),
        }
    }
}

/// Plt (4.7.3): the cube root of the mean cube of the short-term severities of the 2-h
/// period (12 values when the period is complete). NaN values are left out; NaN when
/// none is left.
pub fn long_term_severity(pst: &[f64]) -> f64 {
    let (sum, n) = pst
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v * v * v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        (sum / n as f64).cbrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_pinst_gives_the_formula_value() {
        let mut v = vec![2.0; 1000];
        let s = ShortTermStatistics::from_values(&mut v).unwrap();
        let k = 0.0314 + 0.0525 + 0.0657 + 0.28 + 0.08;
        assert!((s.pst - (k * 2.0f64).sqrt()).abs() < 1e-12);
        assert_eq!(s.pinst_max, 2.0);
        let mut c = PinstClassifier::new();
        v.iter().for_each(|&x| c.add(x));
        let s = c.statistics().unwrap();
        assert!(
            (s.pst / (k * 2.0f64).sqrt() - 1.0).abs() < 1e-3,
            "{}",
            s.pst
        );
    }

    #[test]
    fn percentiles_are_exceedance_levels() {
        // A ramp 0 … 1000: the level exceeded 10 % of the time is 900.
        let mut v: Vec<f64> = (0..=1000).rev().map(f64::from).collect();
        let s = ShortTermStatistics::from_values(&mut v).unwrap();
        assert!((s.p0_1 - 999.0).abs() < 1e-9);
        assert!((s.p50s - (700.0 + 500.0 + 200.0) / 3.0).abs() < 1e-9);
        assert!((s.p10s - (940.0 + 920.0 + 900.0 + 870.0 + 830.0) / 5.0).abs() < 1e-9);
        assert!(ShortTermStatistics::from_values(&mut []).is_none());
        assert!(ShortTermStatistics::from_values(&mut [1.0, f64::NAN]).is_none());
    }

    #[test]
    fn classifier_agrees_with_exact_order_statistics() {
        // A periodic Pinst-like series over five decades plus a few outliers.
        let mut values: Vec<f64> = (0..600_000)
            .map(|i| {
                let t = i as f64 / 1000.0;
                1e-3 * 10f64.powf(2.5 + 2.5 * (0.37 * t).sin() * (0.011 * t).cos())
            })
            .collect();
        values.extend([0.0, 1e-9, 1e5, 3e5]);
        let mut c = PinstClassifier::new();
        values.iter().for_each(|&x| c.add(x));
        let a = c.statistics().unwrap();
        assert_eq!(Some(a), c.statistics_plain());
        let e = ShortTermStatistics::from_values(&mut values).unwrap();
        for (x, y) in [
            (a.p0_1, e.p0_1),
            (a.p1s, e.p1s),
            (a.p3s, e.p3s),
            (a.p10s, e.p10s),
            (a.p50s, e.p50s),
            (a.pst, e.pst),
        ] {
            assert!((x / y - 1.0).abs() < 1e-4, "{x} vs {y}");
        }
        assert_eq!(a.pinst_max, 3e5);
        assert_eq!(c.len(), 600_004);
        c.clear();
        assert!(c.statistics().is_none() && c.is_empty());
    }

    #[test]
    fn classifying_a_slice_is_classifying_its_values() {
        let values: Vec<f64> = (0..50_000)
            .map(|i| match i % 7 {
                0 => 0.0,
                1 => f64::NAN,
                2 => 1e6,
                _ => 1e-3 * (1.0 + (i as f64 * 0.37).sin()).powi(5),
            })
            .collect();
        let (mut one, mut all) = (PinstClassifier::new(), PinstClassifier::new());
        values.iter().for_each(|&x| one.add(x));
        for part in values.chunks(333) {
            all.add_slice(part);
        }
        assert_eq!(one.counts, all.counts);
        assert_eq!(one.statistics(), one.statistics_plain());
        // Totals whose percentile targets fall on and beside whole counts.
        let mut ramp = PinstClassifier::new();
        for n in 1..=3000 {
            ramp.add(1e-3 * f64::from(n % 97 + 1) * f64::from(n % 13 + 1));
            if n % 7 == 0 || n <= 200 || n % 1000 == 0 {
                assert_eq!(ramp.statistics(), ramp.statistics_plain(), "{n} values");
            }
        }
        let mut sparse = PinstClassifier::new();
        for x in [0.0, 1e-9, 3e-7, 0.5, 0.5, 2.0, 7e4] {
            sparse.add(x);
            assert_eq!(sparse.statistics(), sparse.statistics_plain());
        }
        assert_eq!(
            (one.total, one.max.to_bits()),
            (all.total, all.max.to_bits())
        );
    }

    #[test]
    fn zero_and_nan_count_as_zero() {
        let mut c = PinstClassifier::new();
        for _ in 0..100 {
            c.add(0.0);
        }
        c.add(f64::NAN);
        assert_eq!(c.statistics().unwrap().pst, 0.0);
    }

    #[test]
    fn plt_is_the_cube_mean() {
        assert!((long_term_severity(&[1.0; 12]) - 1.0).abs() < 1e-12);
        let v = [2.0, f64::NAN, 0.0];
        assert!((long_term_severity(&v) - 4f64.cbrt()).abs() < 1e-12);
        assert!(long_term_severity(&[]).is_nan());
    }
}
