//! Absolute time with nanosecond resolution (COMTRADE 2013 carries nanoseconds).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use std::fmt;

/// An instant as nanoseconds since 1970-01-01T00:00:00 in the recording's time base
/// (COMTRADE stores local time and, from 2013, its offset to UTC; PQE keeps the clock the
/// file states and carries the offset in [`crate::RecordingInfo`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: i64) -> Self {
        Timestamp(ns)
    }
    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    /// Seconds since the epoch, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
    /// From a calendar date and time of day (nanosecond precision).
    pub fn from_naive(dt: NaiveDateTime) -> Option<Self> {
        Utc.from_utc_datetime(&dt)
            .timestamp_nanos_opt()
            .map(Timestamp)
    }
    /// The calendar date and time of day.
    pub fn to_naive(self) -> NaiveDateTime {
        DateTime::<Utc>::from_timestamp_nanos(self.0).naive_utc()
    }
    /// This instant moved by `seconds` (rounded to the nanosecond), held at the ends of
    /// the representable range (years 1677 and 2262) rather than wrapping round.
    pub fn add_seconds(self, seconds: f64) -> Self {
        Timestamp(self.0.saturating_add((seconds * 1e9).round() as i64))
    }
    /// An ISO 8601 date and time as spreadsheets, loggers and pandas write it:
    /// `YYYY-MM-DD`, then `T` or a space, then `hh:mm`, `hh:mm:ss` or `hh:mm:ss.fffffffff`
    /// (up to nanoseconds), optionally followed by `Z` or an offset `±hh:mm`, `±hhmm`, `±hh`.
    /// Returns the instant as written on the clock it names (the offset is not applied: PQE
    /// keeps the clock the file states, see [`Timestamp`]) and the offset to UTC in seconds,
    /// where one is given. `None` for anything else (ISO 8601-1:2019 §5.4, the extended
    /// complete and reduced representations).
    pub fn parse_iso8601(text: &str) -> Option<(Timestamp, Option<i32>)> {
        let text = text.trim();
        // The date is the first 10 characters; an offset can only follow the time.
        if text.len() < 16 || !text.is_char_boundary(10) || !text.is_ascii() {
            return None;
        }
        let (body, offset) = if let Some(b) = text.strip_suffix('Z') {
            (b, Some(0))
        } else {
            match text[11..].rfind(['+', '-']) {
                Some(i) => {
                    let at = 11 + i;
                    (&text[..at], Some(parse_offset(&text[at..])?))
                }
                None => (text, None),
            }
        };
        let sep = body.as_bytes()[10];
        if sep != b'T' && sep != b' ' {
            return None;
        }
        let normal = format!("{} {}", &body[..10], &body[11..]);
        let dt = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&normal, f).ok())?;
        Some((Timestamp::from_naive(dt)?, offset))
    }
    /// Seconds from `earlier` to `self`. Any two instants (a file may state one near the
    /// ends of the range): the difference is taken in 128 bits, so it cannot overflow.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (i128::from(self.0) - i128::from(earlier.0)) as f64 * 1e-9
    }
    /// This instant moved by `ns` nanoseconds (saturating at the ends of the range).
    pub const fn add_nanos(self, ns: i64) -> Self {
        Timestamp(self.0.saturating_add(ns))
    }
}

/// `±hh:mm`, `±hhmm` or `±hh` in seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

impl fmt::Display for Timestamp {
    /// ISO 8601 with nanoseconds, e.g. `2011-01-12T05:55:30.075011000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_naive().format("%Y-%m-%dT%H:%M:%S%.9f"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instants at the ends of the range (a fuzzed file's start time) give a difference,
    /// not an overflow; ordinary ones the exact nanoseconds.
    #[test]
    fn differences_of_any_two_instants() {
        let (lo, hi) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
        assert_eq!(hi.seconds_since(lo), 18_446_744_073.709_553);
        assert_eq!(lo.seconds_since(hi), -18_446_744_073.709_553);
        assert_eq!(Timestamp(1_500_000_000).seconds_since(Timestamp(0)), 1.5);
        assert_eq!(hi.add_nanos(1), hi);
        assert_eq!(lo.add_nanos(-1), lo);
    }
    use chrono::NaiveDate;

    #[test]
    fn round_trips_calendar_time_to_the_nanosecond() {
        let dt = NaiveDate::from_ymd_opt(2021, 2, 17)
            .unwrap()
            .and_hms_nano_opt(17, 37, 12, 422_969_065)
            .unwrap();
        let t = Timestamp::from_naive(dt).unwrap();
        assert_eq!(t.to_naive(), dt);
        assert_eq!(t.to_string(), "2021-02-17T17:37:12.422969065");
        assert_eq!(t.add_seconds(1.5).seconds_since(t), 1.5);
    }

    #[test]
    fn parses_iso_8601_as_pandas_and_loggers_write_it() {
        let t = |s: &str| Timestamp::parse_iso8601(s);
        let base = Timestamp::from_naive(
            NaiveDate::from_ymd_opt(2024, 3, 1)
                .unwrap()
                .and_hms_nano_opt(12, 0, 0, 100_000)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(t("2024-03-01 12:00:00.000100"), Some((base, None)));
        assert_eq!(t("2024-03-01T12:00:00.000100000Z"), Some((base, Some(0))));
        assert_eq!(
            t("2024-03-01 12:00:00.0001+01:00"),
            Some((base, Some(3600)))
        );
        assert_eq!(
            t("2024-03-01T12:00:00.0001-0530"),
            Some((base, Some(-19800)))
        );
        assert_eq!(
            t("2024-03-01T12:00").map(|x| x.0),
            Some(base.add_nanos(-100_000))
        );
        for bad in [
            "",
            "12.5",
            "2024-03-01",
            "2024-13-01 00:00:00",
            "2024-03-01x12:00:00",
            "2024-03-01 12:00:00+25:00",
            "2024-03-01 12:00:00 junk",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }
}
