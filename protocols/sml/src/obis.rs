//! OBIS codes (IEC 62056-61): six value groups A-B:C.D.E*F.

use std::fmt;

/// An OBIS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Obis(pub [u8; 6]);

impl Obis {
    /// From the six bytes of an SML objName.
    pub fn from_bytes(b: &[u8]) -> Option<Obis> {
        <[u8; 6]>::try_from(b).ok().map(Obis)
    }

    /// Parse `A-B:C.D.E*F`, `A-B:C.D.E` (F = 255) or the short `C.D.E` (A = 1, B = 0,
    /// F = 255), as the `pqe meter read --obis` argument is written.
    pub fn parse(s: &str) -> Option<Obis> {
        let (ab, rest) = match s.split_once(':') {
            Some((ab, rest)) => (Some(ab), rest),
            None => (None, s),
        };
        let (cde, f) = match rest.split_once('*') {
            Some((cde, f)) => (cde, f.parse().ok()?),
            None => (rest, 255),
        };
        let (a, b) = match ab {
            Some(ab) => {
                let (a, b) = ab.split_once('-')?;
                (a.parse().ok()?, b.parse().ok()?)
            }
            None => (1, 0),
        };
        let mut it = cde.split('.');
        let c = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        let e = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Some(Obis([a, b, c, d, e, f]))
    }

    /// Active power, instantaneous (C = 16 total, 36/56/76 phases L1–L3; D = 7).
    pub fn is_active_power(&self) -> bool {
        self.0[0] == 1 && matches!(self.0[2], 16 | 36 | 56 | 76) && self.0[3] == 7
    }
}

impl fmt::Display for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a}-{b}:{c}.{d}.{e}*{g}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn notation() {
        let o = Obis([1, 0, 1, 8, 0, 255]);
        assert_eq!(o.to_string(), "1-0:1.8.0*255");
        assert_eq!(Obis::parse("1.8.0"), Some(o));
        assert_eq!(Obis::parse("1-0:1.8.0*255"), Some(o));
        assert_eq!(Obis::parse("1-0:16.7.0"), Some(Obis([1, 0, 16, 7, 0, 255])));
        assert_eq!(Obis::parse("1.8"), None);
    }
}
