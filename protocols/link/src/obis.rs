//! OBIS codes (IEC 62056-61): six value groups `A-B:C.D.E*F`.

use crate::error::LinkError;
use std::fmt;
use std::str::FromStr;

/// An OBIS code: value groups A (medium), B (channel), C (quantity), D (processing),
/// E (classification, e.g. tariff), F (billing period; 255 = not used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObisCode(pub [u8; 6]);

impl ObisCode {
    /// `A-B:C.D.E*F`.
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> Self {
        ObisCode([a, b, c, d, e, f])
    }

    /// The short form `C.D.E` where A=1 (electricity), B=0 and F=255, else the full form.
    pub fn short(&self) -> String {
        let [a, b, c, d, e, f] = self.0;
        if a == 1 && b == 0 && f == 255 {
            format!("{c}.{d}.{e}")
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for ObisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a}-{b}:{c}.{d}.{e}*{g}")
    }
}

/// Value group C letters of IEC 62056-61 §5.3: C = 96 (general service), F = 97
/// (error), L = 98 (list), P = 99 (profile).
fn group_value(s: &str) -> Option<u8> {
    match s {
        "C" => Some(96),
        "F" => Some(97),
        "L" => Some(98),
        "P" => Some(99),
        _ => s.parse().ok(),
    }
}

impl FromStr for ObisCode {
    type Err = LinkError;

    /// Parses `A-B:C.D.E*F`, `A-B:C.D.E` (F = 255), `C.D.E*F` and `C.D.E`
    /// (A = 1, B = 0, F = 255). `&` is accepted for `*` as some meters write the
    /// billing period that way (IEC 62056-21 readouts).
    fn from_str(s: &str) -> Result<Self, LinkError> {
        let bad = |why: &str| {
            LinkError::Config(format!(
                "OBIS code '{s}': {why} (expected A-B:C.D.E*F or C.D.E)"
            ))
        };
        let t = s.trim();
        let (ab, rest) = match t.split_once(':') {
            Some((ab, rest)) => (Some(ab), rest),
            None => (None, t),
        };
        let (a, b) = match ab {
            Some(ab) => {
                let (a, b) = ab
                    .split_once('-')
                    .ok_or_else(|| bad("groups A and B must be written A-B"))?;
                (
                    a.parse::<u8>().map_err(|_| bad("group A is not 0..255"))?,
                    b.parse::<u8>().map_err(|_| bad("group B is not 0..255"))?,
                )
            }
            None => (1, 0),
        };
        let (cde, f) = match rest.split_once(['*', '&']) {
            Some((cde, f)) => (
                cde,
                f.parse::<u8>().map_err(|_| bad("group F is not 0..255"))?,
            ),
            None => (rest, 255),
        };
        let parts: Vec<&str> = cde.split('.').collect();
        if parts.len() != 3 {
            return Err(bad("groups C, D and E must be written C.D.E"));
        }
        let c = group_value(parts[0]).ok_or_else(|| bad("group C is not 0..255 or C/F/L/P"))?;
        let d = parts[1]
            .parse::<u8>()
            .map_err(|_| bad("group D is not 0..255"))?;
        let e = parts[2]
            .parse::<u8>()
            .map_err(|_| bad("group E is not 0..255"))?;
        Ok(ObisCode([a, b, c, d, e, f]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_short_forms() {
        assert_eq!(
            "1-0:1.8.0*255".parse::<ObisCode>().unwrap(),
            ObisCode::new(1, 0, 1, 8, 0, 255)
        );
        assert_eq!(
            "1.8.0".parse::<ObisCode>().unwrap(),
            ObisCode::new(1, 0, 1, 8, 0, 255)
        );
        assert_eq!(
            "0-0:1.0.0".parse::<ObisCode>().unwrap(),
            ObisCode::new(0, 0, 1, 0, 0, 255)
        );
        assert_eq!(
            "1.8.1*3".parse::<ObisCode>().unwrap(),
            ObisCode::new(1, 0, 1, 8, 1, 3)
        );
        assert_eq!(
            "C.1.0".parse::<ObisCode>().unwrap(),
            ObisCode::new(1, 0, 96, 1, 0, 255)
        );
        assert_eq!(ObisCode::new(1, 0, 32, 7, 0, 255).short(), "32.7.0");
        assert_eq!(ObisCode::new(0, 0, 1, 0, 0, 255).short(), "0-0:1.0.0*255");
        for bad in ["1.8", "1-0:1.8.0*256", "x.8.0", "1:1.8.0", "1.8.0.0", ""] {
            let e = bad.parse::<ObisCode>().unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }
}
