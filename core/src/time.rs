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
    /// This instant moved by `seconds` (rounded to the nanosecond).
    pub fn add_seconds(self, seconds: f64) -> Self {
        Timestamp(self.0 + (seconds * 1e9).round() as i64)
    }
    /// This instant moved by `ns` nanoseconds.
    pub const fn add_nanos(self, ns: i64) -> Self {
        Timestamp(self.0 + ns)
    }
    /// Seconds from `earlier` to `self`.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 * 1e-9
    }
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
}
