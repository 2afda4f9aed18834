//! Limits kept as data, and the small pieces of statistics the compliance modules share.
//!
//! The numbers of EN 50160:2010 (clause 4.2 and 4.3) and IEEE 519-2014/2022 (Tables 1–4)
//! live in TOML files next to this module (`en50160.toml`, `ieee519.toml`), embedded in the
//! binary with `include_str!` and parsed with serde. The standards modules
//! ([`crate::en50160`], [`crate::ieee519`]) read them through [`en50160_text`] and
//! [`ieee519_text`], and accept limits parsed from other text, so a utility's own
//! contract limits can be assessed the same way.
//!
//! Shared here: the [`Verdict`] of a criterion, the [`Interval`] a limit or a table bin
//! spans, and the [`percentile`] definition (nearest rank) both standards use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The embedded EN 50160:2010 limits (LV public networks).
pub fn en50160_text() -> &'static str {
    include_str!("en50160.toml")
}

/// The embedded IEEE 519-2014/2022 limits.
pub fn ieee519_text() -> &'static str {
    include_str!("ieee519.toml")
}

/// Limits text that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsError(pub String);

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid limits: {}", self.0)
    }
}

impl std::error::Error for LimitsError {}

/// Parse limits text of type `T` from TOML.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, LimitsError> {
    toml::from_str(text).map_err(|e| LimitsError(e.to_string()))
}

/// The outcome of one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The values comply.
    Pass,
    /// The values do not comply.
    Fail,
    /// The criterion could not be judged: no usable values, or an observation shorter than
    /// the standard's period (the criterion's note says which).
    #[default]
    NotAssessed,
    /// A row that states a value without judging it (information only); never the
    /// outcome of an assessment here, but a report may show such rows.
    Info,
}

impl Verdict {
    /// `Pass` when `ok`, else `Fail`.
    pub fn from_ok(ok: bool) -> Verdict {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
    /// The word a report shows: `pass`, `fail`, `not assessed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotAssessed => "not assessed",
            Verdict::Info => "info",
        }
    }
    /// From the words `pass`, `fail`, `not assessed` (also `passed`, `ok`, `failed`,
    /// `not_assessed`, `n/a`); anything else is [`Verdict::Info`].
    pub fn parse(text: &str) -> Verdict {
        match text.trim().to_ascii_lowercase().as_str() {
            "pass" | "passed" | "ok" => Verdict::Pass,
            "fail" | "failed" => Verdict::Fail,
            "not assessed" | "not_assessed" | "n/a" | "na" => Verdict::NotAssessed,
            _ => Verdict::Info,
        }
    }
    /// The overall verdict of several: any fail fails; otherwise any pass passes; otherwise
    /// (nothing judged) not assessed.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut any_pass = false;
        for v in verdicts {
            match v {
                Verdict::Fail => return Verdict::Fail,
                Verdict::Pass => any_pass = true,
                Verdict::NotAssessed | Verdict::Info => {}
            }
        }
        if any_pass {
            Verdict::Pass
        } else {
            Verdict::NotAssessed
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a compliance table, ready for a report (`pqe_report::ComplianceRow` has
/// the same fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// What is judged, with the clause.
    pub criterion: String,
    /// The limit in words.
    pub limit: String,
    /// What was measured.
    pub measured: String,
    /// What the standard requires (share of values or statistic).
    pub required: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is what it is, when that needs saying.
    pub note: String,
}

impl TableRow {
    /// The five cells criterion, limit, measured, required, verdict word.
    pub fn cells(&self) -> [String; 5] {
        [
            self.criterion.clone(),
            self.limit.clone(),
            self.measured.clone(),
            self.required.clone(),
            self.verdict.as_str().to_string(),
        ]
    }
}

/// A span of values `low .. high`; each end belongs to the span when its `*_inclusive` flag
/// is set. Used for the bins of the EN 50160 dip and swell tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// What a table shows for the span.
    pub label: String,
    /// Lower end.
    pub low: f64,
    /// True when `low` itself belongs to the span.
    #[serde(default)]
    pub low_inclusive: bool,
    /// Upper end.
    pub high: f64,
    /// True when `high` itself belongs to the span.
    #[serde(default)]
    pub high_inclusive: bool,
}

impl Interval {
    /// True when `v` lies in the span (never for NaN).
    pub fn contains(&self, v: f64) -> bool {
        let above = if self.low_inclusive {
            v >= self.low
        } else {
            v > self.low
        };
        let below = if self.high_inclusive {
            v <= self.high
        } else {
            v < self.high
        };
        above && below
    }
}

/// The `p`-th percentile (0 < p ≤ 100) of `values` by the nearest-rank definition: sort the
/// N values ascending and take the one of rank ⌈p/100 · N⌉ (1-based). Every result is one of
/// the values, and "the 95th percentile is at or below the limit" is the same statement as
/// "at least 95 % of the values are at or below the limit". Non-finite values are left out;
/// `None` when nothing is left or `p` is outside (0, 100].
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // Rank ⌈p·N/100⌉ computed in integers where p·N/100 is whole, so 95 % of 20 values is
    // rank 19 exactly and not 19.000000000000004 rounded up to 20.
    let exact = p * n as f64 / 100.0;
    let rounded = exact.round();
    let rank = if (exact - rounded).abs() <= 1e-9 * exact.max(1.0) {
        rounded as usize
    } else {
        exact.ceil() as usize
    };
    v.get(rank.clamp(1, n) - 1).copied()
}

/// Format a duration in seconds for notes and tables: `45 s`, `12.5 min`, `3.2 h`, `6.9 d`.
pub fn describe_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "unknown".to_string();
    }
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7200.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds < 2.0 * 86400.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} d", seconds / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentile() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), Some(19.0));
        assert_eq!(percentile(&v, 100.0), Some(20.0));
        assert_eq!(percentile(&v, 50.0), Some(10.0));
        assert_eq!(percentile(&v, 96.0), Some(20.0));
        assert_eq!(percentile(&[], 95.0), None);
        assert_eq!(percentile(&[f64::NAN, 3.0], 99.0), Some(3.0));
    }

    #[test]
    fn embedded_limits_parse() {
        assert!(crate::en50160::En50160Limits::embedded().is_ok());
        assert!(crate::ieee519::Ieee519Limits::embedded().is_ok());
    }
}
