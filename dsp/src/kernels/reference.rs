//! Plain, obviously correct twins of the kernels: one accumulator, one element at a time.
//! Tests compare the dispatched kernels against these.

/// `Σ x[i]`.
pub fn sum(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v;
    }
    s
}

/// `Σ x[i]²`.
pub fn sum_of_squares(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    s
}

/// `Σ x[i]·y[i]` over the common length.
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(y) {
        s += a * b;
    }
    s
}

/// Smallest and largest non-NaN value; `(+∞, −∞)` when there is none.
pub fn min_max(x: &[f64]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &v in x {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    (lo, hi)
}

/// Sum, sum of squares, min, max and finiteness, one element at a time.
pub fn moments(x: &[f64]) -> super::Moments {
    let (min, max) = min_max(x);
    super::Moments {
        sum: sum(x),
        sum_of_squares: sum_of_squares(x),
        min,
        max,
        finite: x.iter().all(|v| v.is_finite()),
    }
}

/// The nine sums of products of three voltages and three currents, one [`dot`] each.
pub fn three_phase_products(v: [&[f64]; 3], i: [&[f64]; 3]) -> super::ThreePhaseProducts {
    let next = |k: usize| (k + 1) % 3;
    super::ThreePhaseProducts {
        vi: [0, 1, 2].map(|k| dot(v[k], i[k])),
        vv: [0, 1, 2].map(|k| dot(v[k], v[next(k)])),
        ii: [0, 1, 2].map(|k| dot(i[k], i[next(k)])),
    }
}
