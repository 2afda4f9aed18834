//! Minimum and maximum of interval quantities per logging period, with the time of each
//! extreme, as panel meters log them (IEC 61000-4-30 does not define min/max logs; meters
//! keep them per logging interval and since reset at the resolution of their input, here
//! the 10/12-cycle interval). Periods follow the UTC clock (default 10 min). Values that
//! are not finite are skipped; intervals flagged per IEC 61000-4-30 4.7 can be left out.

use pqe_core::Timestamp;

/// One quantity's extremes over a period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extremes {
    /// Smallest value and the start of the interval it came from.
    pub min: (f64, Timestamp),
    /// Largest value and the start of its interval.
    pub max: (f64, Timestamp),
}

/// The extremes of every quantity over one logging period.
#[derive(Debug, Clone, PartialEq)]
pub struct MinMaxPeriod {
    /// Start of the period (a clock boundary).
    pub start: Timestamp,
    /// Per quantity, in the order of the names; `None` where no finite value came.
    pub extremes: Vec<Option<Extremes>>,
}

/// Keeps min/max per logging period and since the start.
#[derive(Debug, Clone)]
pub struct MinMaxLog {
    names: Vec<String>,
    period_ns: i64,
    skip_flagged: bool,
    current: Option<(i64, MinMaxPeriod)>,
    overall: Vec<Option<Extremes>>,
}

fn update(slot: &mut Option<Extremes>, v: f64, t: Timestamp) {
    if !v.is_finite() {
        return;
    }
    match slot {
        None => {
            *slot = Some(Extremes {
                min: (v, t),
                max: (v, t),
            })
        }
        Some(e) => {
            if v < e.min.0 {
                e.min = (v, t);
            }
            if v > e.max.0 {
                e.max = (v, t);
            }
        }
    }
}

impl MinMaxLog {
    /// A log of `names` over periods of `period_seconds`; `skip_flagged` leaves flagged
    /// intervals out.
    pub fn new(names: Vec<String>, period_seconds: f64, skip_flagged: bool) -> Self {
        let n = names.len();
        MinMaxLog {
            names,
            period_ns: (period_seconds * 1e9).round().max(1.0) as i64,
            skip_flagged,
            current: None,
            overall: vec![None; n],
        }
    }

    /// The quantities' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Add one interval's values; returns the period it closed, if any.
    pub fn push(
        &mut self,
        start: Timestamp,
        flagged: bool,
        values: &[f64],
    ) -> Option<MinMaxPeriod> {
        let key = start.0.div_euclid(self.period_ns);
        let closed = match &self.current {
            Some((k, _)) if *k != key => self.current.take().map(|(_, p)| p),
            _ => None,
        };
        let n = self.names.len();
        let period_ns = self.period_ns;
        let (_, period) = self.current.get_or_insert_with(|| {
            (
                key,
                MinMaxPeriod {
                    start: Timestamp::from_nanos(key * period_ns),
                    extremes: vec![None; n],
                },
            )
        });
        if !(flagged && self.skip_flagged) {
            for (q, v) in values.iter().enumerate().take(n) {
                update(&mut period.extremes[q], *v, start);
                update(&mut self.overall[q], *v, start);
            }
        }
        closed
    }

    /// End of the stream: the open period.
    pub fn finish(&mut self) -> Option<MinMaxPeriod> {
        self.current.take().map(|(_, p)| p)
    }

    /// The extremes since the start.
    pub fn overall(&self) -> &[Option<Extremes>] {
        &self.overall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_with_times_per_clock_period() {
        let mut log = MinMaxLog::new(vec!["U".into()], 600.0, true);
        let t0 = Timestamp::from_nanos(0);
        let mut closed = Vec::new();
        for k in 0..6000 {
            let t = t0.add_seconds(0.2 * k as f64);
            let v = 230.0 + (k as f64 * 0.01).sin();
            let flagged = k == 100;
            let v = if flagged {
                10.0
            } else if k == 4000 {
                260.0
            } else {
                v
            };
            closed.extend(log.push(t, flagged, &[v]));
        }
        closed.extend(log.finish());
        assert_eq!(closed.len(), 2);
        let first = closed[0].extremes[0].unwrap();
        assert!(first.min.0 > 228.9, "the flagged 10 V is left out");
        let second = closed[1].extremes[0].unwrap();
        assert_eq!(second.max, (260.0, t0.add_seconds(800.0)));
        assert_eq!(log.overall()[0].unwrap().max.0, 260.0);
    }
}
