//! Numerical building blocks of the generator: exact fractional parts of long phase
//! products, a minimal complex type, a small seeded random-number generator and an
//! ISO 8601 reader. Nothing here allocates.

use rand::RngCore;

/// A phase in cycles, split into an integer part and a fraction in `[0, 1)`, so that phases
/// of days-long signals keep full double precision in the part that matters (the fraction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cycles {
    /// Whole cycles (an integer-valued float, exact up to 2^53).
    pub whole: f64,
    /// Fraction of a cycle in `[0, 1)`.
    pub frac: f64,
}

impl Cycles {
    /// Split a plain phase value (used for terms small enough that `f64` is exact enough).
    pub fn from_f64(x: f64) -> Self {
        let whole = floor(x);
        Cycles {
            whole,
            frac: x - whole,
        }
        .normalised()
    }

    /// The sum of two phases.
    pub fn add(self, other: Cycles) -> Self {
        Cycles {
            whole: self.whole + other.whole,
            frac: self.frac + other.frac,
        }
        .normalised()
    }

    fn normalised(mut self) -> Self {
        if self.frac >= 1.0 {
            self.frac -= 1.0;
            self.whole += 1.0;
        } else if self.frac < 0.0 {
            self.frac += 1.0;
            self.whole -= 1.0;
        }
        // Rounding can leave exactly 1.0 after the correction above.
        if self.frac >= 1.0 {
            self.frac = 0.0;
            self.whole += 1.0;
        }
        self
    }
}

/// `⌊x⌋` for |x| < 2^63, without the library call that `f64::floor` costs on targets
/// without SSE4.1. NaN gives 0.
#[inline]
pub(crate) fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// `c · n` in cycles with the fraction exact to a few units in the last place, however large
/// the product: the product's rounding error is recovered with Dekker's two-product, so the
/// fraction does not lose the bits that the integer part occupies.
pub(crate) fn cycles_of_product(c: f64, n: f64) -> Cycles {
    let p = c * n;
    let err = two_product_error(c, n, p);
    let whole = floor(p);
    Cycles {
        whole,
        frac: (p - whole) + err,
    }
    .normalised()
}

/// The exact rounding error `a·b − p` of the product `p = fl(a·b)` (Dekker, 1971), valid
/// while no intermediate overflows.
fn two_product_error(a: f64, b: f64, p: f64) -> f64 {
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    ((ah * bh - p) + ah * bl + al * bh) + al * bl
}

/// Veltkamp's split of `a` into two halves of 26 significant bits each.
fn split(a: f64) -> (f64, f64) {
    const SPLITTER: f64 = 134_217_729.0; // 2^27 + 1
    let t = SPLITTER * a;
    let hi = t - (t - a);
    (hi, a - hi)
}

/// `sin(2π·x)` for a phase `x` in cycles, reduced to one cycle first so that the argument
/// passed to `sin` is small and its rounding error is that of the fraction.
pub(crate) fn sin_cycles(x: f64) -> f64 {
    (std::f64::consts::TAU * (x - floor(x))).sin()
}

/// A complex number, only as much of one as the generator needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct C64 {
    pub re: f64,
    pub im: f64,
}

impl C64 {
    /// `r·e^{j2πx}` with `x` in cycles.
    pub fn polar_cycles(r: f64, x: f64) -> Self {
        let (s, c) = (std::f64::consts::TAU * (x - floor(x))).sin_cos();
        C64 {
            re: r * c,
            im: r * s,
        }
    }
    /// The product of two complex numbers.
    #[inline]
    pub fn mul(self, o: C64) -> Self {
        C64 {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    /// The sum of two complex numbers.
    #[inline]
    pub fn add(self, o: C64) -> Self {
        C64 {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
    /// This number times a real factor.
    #[inline]
    pub fn scale(self, k: f64) -> Self {
        C64 {
            re: self.re * k,
            im: self.im * k,
        }
    }
    /// The squared magnitude.
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }
    /// The magnitude.
    pub fn abs(self) -> f64 {
        self.norm_sqr().sqrt()
    }
    /// The angle in radians.
    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }
    /// The complex conjugate.
    pub fn conj(self) -> Self {
        C64 {
            re: self.re,
            im: -self.im,
        }
    }
}

/// xoshiro256++ (Blackman and Vigna, 2019): a small, fast generator whose output depends on
/// nothing but its seed, on every platform and in every version of PQE. Seeded through
/// SplitMix64 as its authors recommend.
#[derive(Debug, Clone)]
pub(crate) struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// A generator for stream `stream` of the scenario seed `seed` (one stream per channel).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut x = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut s = [0u64; 4];
        for v in &mut s {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *v = z ^ (z >> 31);
        }
        // SplitMix64 never yields four zeros in a row, so the state is valid.
        Xoshiro256pp { s }
    }
}

impl RngCore for Xoshiro256pp {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Nanoseconds since 1970-01-01T00:00:00Z of an ISO 8601 / RFC 3339 date and time:
/// `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss[.fffffffff]` (`T` or a space),
/// followed by nothing (taken as UTC), `Z`, or an offset `±hh:mm`, `±hhmm`, `±hh`; an
/// offset is applied, so the result is UTC.
pub(crate) fn parse_iso8601(text: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("'{text}' is not an ISO 8601 date and time ({why})");
    let s = text.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Result<i64, String> {
        let part = s.get(from..from + len).ok_or_else(|| bad("too short"))?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("expected digits"));
        }
        part.parse::<i64>().map_err(|_| bad("expected digits"))
    };
    let expect = |at: usize, c: u8| -> Result<(), String> {
        if b.get(at) == Some(&c) {
            Ok(())
        } else {
            Err(bad(&format!(
                "expected '{}' at character {}",
                c as char,
                at + 1
            )))
        }
    };
    let year = num(0, 4)?;
    expect(4, b'-')?;
    let month = num(5, 2)?;
    expect(7, b'-')?;
    let day = num(8, 2)?;
    if !(1..=12).contains(&month) {
        return Err(bad("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(bad("day out of range"));
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0i64);
    let mut pos = 10;
    if pos < b.len() && (b[pos] == b'T' || b[pos] == b't' || b[pos] == b' ') {
        hour = num(pos + 1, 2)?;
        expect(pos + 3, b':')?;
        minute = num(pos + 4, 2)?;
        pos += 6;
        if b.get(pos) == Some(&b':') {
            second = num(pos + 1, 2)?;
            pos += 3;
            if b.get(pos) == Some(&b'.') || b.get(pos) == Some(&b',') {
                pos += 1;
                let digits = b[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return Err(bad("empty fraction of a second"));
                }
                if digits > 9 {
                    return Err(bad("more than 9 digits of a second"));
                }
                nanos = num(pos, digits)? * 10i64.pow(9 - digits as u32);
                pos += digits;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(bad("time of day out of range"));
        }
    }
    let offset_s = match b.get(pos) {
        None => 0,
        Some(b'Z') | Some(b'z') if pos + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[pos + 1..];
            let (oh, om) = match rest.len() {
                2 => (num(pos + 1, 2)?, 0),
                4 => (num(pos + 1, 2)?, num(pos + 3, 2)?),
                5 if rest.as_bytes()[2] == b':' => (num(pos + 1, 2)?, num(pos + 4, 2)?),
                _ => return Err(bad("offset must be ±hh:mm")),
            };
            if oh > 23 || om > 59 {
                return Err(bad("offset out of range"));
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' {
                o
            } else {
                -o
            }
        }
        Some(_) => return Err(bad("unexpected text after the time")),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    secs.checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(nanos))
        .ok_or_else(|| bad("outside the range of nanosecond timestamps"))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_fraction_is_exact_for_large_counts() {
        // 50/10240 is a power-of-two fraction: the exact phase is known in integers.
        let c = 50.0 / 10240.0;
        for i in [0u64, 1, 1023, 884_736_000, 884_736_001, (1 << 40) + 17] {
            let got = cycles_of_product(c, i as f64);
            let exact = ((i * 5) % 1024) as f64 / 1024.0;
            assert_eq!(got.frac, exact, "i = {i}");
            assert_eq!(got.whole, ((i * 5) / 1024) as f64);
        }
        // A product whose rounding error matters: 0.1 is not representable, its f64 is.
        let got = cycles_of_product(0.1, 3.0e9);
        let p = 0.1f64 * 3.0e9;
        assert!(got.frac > 0.0 && got.frac < 1e-6, "{got:?} vs {p}");
    }

    #[test]
    fn iso8601_dates_and_offsets() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_iso8601("2024-03-01 12:30:15.5").unwrap(),
            1_709_296_215_500_000_000
        );
        assert_eq!(
            parse_iso8601("2024-03-01T13:30:15.5+01:00").unwrap(),
            1_709_296_215_500_000_000
        );
        assert_eq!(
            parse_iso8601("2000-02-29").unwrap(),
            951_782_400_000_000_000
        );
        assert!(parse_iso8601("2023-02-29").is_err());
        assert!(parse_iso8601("2024-01-01T25:00").is_err());
        assert!(parse_iso8601("yesterday").is_err());
    }

    #[test]
    fn rng_is_reproducible_and_streams_differ() {
        let mut a = Xoshiro256pp::new(7, 0);
        let mut b = Xoshiro256pp::new(7, 0);
        let mut c = Xoshiro256pp::new(7, 1);
        let x: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let y: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let z: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
