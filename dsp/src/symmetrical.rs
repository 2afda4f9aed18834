//! Symmetrical components (Fortescue) of three phasors.
//!
//! With the rotation operator `a = e^{j120°}`:
//! zero `X0 = (A + B + C)/3`, positive `X1 = (A + a·B + a²·C)/3`,
//! negative `X2 = (A + a²·B + a·C)/3`. A balanced positive-sequence set (B lagging A by
//! 120°, C lagging B by 120°) has only X1 = A. These are the quantities of the unbalance
//! method of IEC 61000-4-30 5.7 and of the positive-sequence powers of IEEE 1459-2010 3.2.

use num_complex::Complex64;

/// The operator `a = e^{j120°} = −½ + j·√3/2`.
pub const A: Complex64 = Complex64::new(-0.5, 0.866_025_403_784_438_6);

/// `a² = e^{j240°} = −½ − j·√3/2`.
pub const A2: Complex64 = Complex64::new(-0.5, -0.866_025_403_784_438_6);

/// The (zero, positive, negative) sequence components of the phasors of phases A, B, C.
/// Non-finite input gives non-finite components.
pub fn symmetrical_components(
    a: Complex64,
    b: Complex64,
    c: Complex64,
) -> (Complex64, Complex64, Complex64) {
    let zero = (a + b + c) / 3.0;
    let positive = (a + A * b + A2 * c) / 3.0;
    let negative = (a + A2 * b + A * c) / 3.0;
    (zero, positive, negative)
}

/// The phasors of phases A, B, C from their (zero, positive, negative) sequence components:
/// the inverse of [`symmetrical_components`].
pub fn phases_from_components(
    zero: Complex64,
    positive: Complex64,
    negative: Complex64,
) -> (Complex64, Complex64, Complex64) {
    let a = zero + positive + negative;
    let b = zero + A2 * positive + A * negative;
    let c = zero + A * positive + A2 * negative;
    (a, b, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: Complex64, y: Complex64) -> bool {
        (x - y).norm() < 1e-12
    }

    #[test]
    fn balanced_set_is_pure_positive_sequence() {
        let a = Complex64::from_polar(230.0, 0.3);
        let b = a * A2; // lags by 120°
        let c = a * A;
        let (z, p, n) = symmetrical_components(a, b, c);
        assert!(close(z, Complex64::new(0.0, 0.0)));
        assert!(close(p, a));
        assert!(close(n, Complex64::new(0.0, 0.0)));
    }

    #[test]
    fn round_trip_and_negative_sequence() {
        let (z, p, n) = (
            Complex64::new(1.5, -2.0),
            Complex64::new(230.0, 10.0),
            Complex64::new(-3.0, 4.0),
        );
        let (a, b, c) = phases_from_components(z, p, n);
        let (z2, p2, n2) = symmetrical_components(a, b, c);
        assert!(close(z, z2) && close(p, p2) && close(n, n2));
        // A swapped phase sequence is pure negative sequence.
        let (_, p3, n3) = symmetrical_components(p, p * A, p * A2);
        assert!(close(p3, Complex64::new(0.0, 0.0)) && close(n3, p));
    }
}
