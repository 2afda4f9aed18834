//! Portable kernels: four independent accumulators break the dependency chain of a
//! running sum, so the CPU overlaps the additions and the compiler may vectorise.

const LANES: usize = 4;

pub(super) fn sum(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            acc[k] += c[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        s += v;
    }
    s
}

pub(super) fn sum_of_squares(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            acc[k] += c[k] * c[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        s += v * v;
    }
    s
}

pub(super) fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut cx = x.chunks_exact(LANES);
    let mut cy = y.chunks_exact(LANES);
    for (a, b) in (&mut cx).zip(&mut cy) {
        for k in 0..LANES {
            acc[k] += a[k] * b[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (a, b) in cx.remainder().iter().zip(cy.remainder()) {
        s += a * b;
    }
    s
}

pub(super) fn min_max(x: &[f64]) -> (f64, f64) {
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            // `<` and `>` are false for NaN, so missing samples never win.
            if c[k] < lo[k] {
                lo[k] = c[k];
            }
            if c[k] > hi[k] {
                hi[k] = c[k];
            }
        }
    }
    let mut l = lo
        .iter()
        .fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
    let mut h = hi
        .iter()
        .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for &v in chunks.remainder() {
        if v < l {
            l = v;
        }
        if v > h {
            h = v;
        }
    }
    (l, h)
}

pub(super) fn moments(x: &[f64]) -> super::Moments {
    // The accumulators and their order are those of `sum` and `sum_of_squares`, so the
    // sums come out bit for bit the same; `0·v` is NaN exactly when v is not finite.
    let mut s = [0.0f64; LANES];
    let mut q = [0.0f64; LANES];
    let mut z = [0.0f64; LANES];
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            let v = c[k];
            s[k] += v;
            q[k] += v * v;
            z[k] += v * 0.0;
            if v < lo[k] {
                lo[k] = v;
            }
            if v > hi[k] {
                hi[k] = v;
            }
        }
    }
    let mut sum = (s[0] + s[1]) + (s[2] + s[3]);
    let mut sum_of_squares = (q[0] + q[1]) + (q[2] + q[3]);
    let mut zero = (z[0] + z[1]) + (z[2] + z[3]);
    let mut min = lo
        .iter()
        .fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
    let mut max = hi
        .iter()
        .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for &v in chunks.remainder() {
        sum += v;
        sum_of_squares += v * v;
        zero += v * 0.0;
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    super::Moments {
        sum,
        sum_of_squares,
        min,
        max,
        finite: zero == 0.0,
    }
}

pub(super) fn three_phase_products(v: [&[f64]; 3], i: [&[f64]; 3]) -> super::ThreePhaseProducts {
    // Nine independent accumulators: enough parallel chains without more lanes.
    let (mut vi, mut vv, mut ii) = ([0.0f64; 3], [0.0f64; 3], [0.0f64; 3]);
    let n = v.iter().chain(&i).map(|x| x.len()).min().unwrap_or(0);
    for k in 0..n {
        let (a, b, c) = (v[0][k], v[1][k], v[2][k]);
        let (x, y, z) = (i[0][k], i[1][k], i[2][k]);
        vi[0] += a * x;
        vi[1] += b * y;
        vi[2] += c * z;
        vv[0] += a * b;
        vv[1] += b * c;
        vv[2] += c * a;
        ii[0] += x * y;
        ii[1] += y * z;
        ii[2] += z * x;
    }
    super::ThreePhaseProducts { vi, vv, ii }
}
