//! Alarms on any interval quantity: setpoints with pickup and dropout levels, delays and a
//! priority, as power-quality and panel meters run them.
//!
//! An *over* setpoint picks up when the value stays above `pickup` for `pickup_delay`
//! seconds without a break, and drops out when it stays below `dropout` for `dropout_delay`
//! seconds; an *under* setpoint is the mirror image. The delay timers restart whenever the
//! condition breaks. A dropout on the wrong side of the pickup is refused. A value that is
//! not finite holds the state (and is counted). Each alarm is reported with its start (when
//! it picked up: the first instant of the qualifying run), end, duration and its extreme
//! value while active.

use pqe_core::{Error, Result, Timestamp};

/// Which side of the pickup level is abnormal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Alarm above the pickup level.
    Over,
    /// Alarm below the pickup level.
    Under,
}

/// How urgent an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Information only.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Priority {
    /// The name tables use.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Info => "info",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }
}

/// One setpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Setpoint {
    /// A name for reports.
    pub name: String,
    /// The quantity's column name (e.g. `U_A`, `THD_U_A`).
    pub quantity: String,
    /// Over or under.
    pub direction: Direction,
    /// Pickup level.
    pub pickup: f64,
    /// Dropout level (at or below the pickup for over, at or above for under).
    pub dropout: f64,
    /// Seconds beyond the pickup level before the alarm starts.
    pub pickup_delay: f64,
    /// Seconds back beyond the dropout level before it ends.
    pub dropout_delay: f64,
    /// Priority.
    pub priority: Priority,
}

impl Setpoint {
    /// Check the levels and delays.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Config(format!("setpoint '{}': {what}", self.name)));
        if !(self.pickup.is_finite() && self.dropout.is_finite()) {
            return bad("pickup and dropout must be numbers".into());
        }
        let wrong_side = match self.direction {
            Direction::Over => self.dropout > self.pickup,
            Direction::Under => self.dropout < self.pickup,
        };
        if wrong_side {
            return bad(format!(
                "the dropout {} lies beyond the pickup {} (an {} alarm needs the dropout {} it)",
                self.dropout,
                self.pickup,
                if self.direction == Direction::Over {
                    "over"
                } else {
                    "under"
                },
                if self.direction == Direction::Over {
                    "at or below"
                } else {
                    "at or above"
                },
            ));
        }
        if !(self.pickup_delay >= 0.0 && self.dropout_delay >= 0.0) {
            return bad("delays must be ≥ 0 s".into());
        }
        Ok(())
    }

    fn beyond_pickup(&self, v: f64) -> bool {
        match self.direction {
            Direction::Over => v > self.pickup,
            Direction::Under => v < self.pickup,
        }
    }

    fn back_past_dropout(&self, v: f64) -> bool {
        match self.direction {
            Direction::Over => v < self.dropout,
            Direction::Under => v > self.dropout,
        }
    }

    fn more_extreme(&self, a: f64, b: f64) -> bool {
        match self.direction {
            Direction::Over => a > b,
            Direction::Under => a < b,
        }
    }
}

/// One alarm that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    /// The setpoint's name.
    pub name: String,
    /// The quantity.
    pub quantity: String,
    /// Its priority.
    pub priority: Priority,
    /// When the qualifying run began.
    pub start: Timestamp,
    /// When the dropout run began (`None` while still active at the end of the data).
    pub end: Option<Timestamp>,
    /// The most extreme value from the start of the qualifying run to the end.
    pub extreme: f64,
}

#[derive(Debug, Clone)]
enum State {
    /// Not in alarm; `run` is the start and extreme of a run beyond the pickup level.
    Normal { run: Option<(Timestamp, f64)> },
    Active {
        start: Timestamp,
        extreme: f64,
        run_start: Option<Timestamp>,
    },
}

/// Runs several setpoints over a stream of interval values.
#[derive(Debug, Clone)]
pub struct AlarmEngine {
    setpoints: Vec<Setpoint>,
    states: Vec<State>,
    /// Values that were not finite, per setpoint.
    pub invalid_values: Vec<u64>,
}

impl AlarmEngine {
    /// An engine for `setpoints` (each validated).
    pub fn new(setpoints: Vec<Setpoint>) -> Result<Self> {
        for s in &setpoints {
            s.validate()?;
        }
        let n = setpoints.len();
        Ok(AlarmEngine {
            states: vec![State::Normal { run: None }; n],
            invalid_values: vec![0; n],
            setpoints,
        })
    }

    /// The setpoints.
    pub fn setpoints(&self) -> &[Setpoint] {
        &self.setpoints
    }

    /// Feed one interval: its start, length, and a lookup of a quantity's value by name.
    /// Returns the alarms that ended in it.
    pub fn push(
        &mut self,
        start: Timestamp,
        seconds: f64,
        value_of: impl Fn(&str) -> Option<f64>,
    ) -> Vec<AlarmRecord> {
        let mut ended = Vec::new();
        let end = start.add_seconds(seconds);
        for (k, sp) in self.setpoints.iter().enumerate() {
            let Some(v) = value_of(&sp.quantity) else {
                continue;
            };
            if !v.is_finite() {
                self.invalid_values[k] += 1;
                continue;
            }
            let state = &mut self.states[k];
            match state {
                State::Normal { run } => {
                    if sp.beyond_pickup(v) {
                        let (since, extreme) = run.get_or_insert((start, v));
                        if sp.more_extreme(v, *extreme) {
                            *extreme = v;
                        }
                        if end.seconds_since(*since) >= sp.pickup_delay - 1e-9 {
                            *state = State::Active {
                                start: *since,
                                extreme: *extreme,
                                run_start: None,
                            };
                        }
                    } else {
                        *run = None;
                    }
                }
                State::Active {
                    start: began,
                    extreme,
                    run_start,
                } => {
                    if sp.more_extreme(v, *extreme) {
                        *extreme = v;
                    }
                    if sp.back_past_dropout(v) {
                        let since = *run_start.get_or_insert(start);
                        if end.seconds_since(since) >= sp.dropout_delay - 1e-9 {
                            ended.push(AlarmRecord {
                                name: sp.name.clone(),
                                quantity: sp.quantity.clone(),
                                priority: sp.priority,
                                start: *began,
                                end: Some(since),
                                extreme: *extreme,
                            });
                            *state = State::Normal { run: None };
                        }
                    } else {
                        *run_start = None;
                    }
                }
            }
        }
        ended
    }

    /// End of the data: the alarms still active, without an end.
    pub fn finish(&mut self) -> Vec<AlarmRecord> {
        let mut out = Vec::new();
        for (sp, state) in self.setpoints.iter().zip(&mut self.states) {
            if let State::Active { start, extreme, .. } = state {
                out.push(AlarmRecord {
                    name: sp.name.clone(),
                    quantity: sp.quantity.clone(),
                    priority: sp.priority,
                    start: *start,
                    end: None,
                    extreme: *extreme,
                });
            }
            *state = State::Normal { run: None };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setpoint() -> Setpoint {
        Setpoint {
            name: "overvoltage".into(),
            quantity: "U_A".into(),
            direction: Direction::Over,
            pickup: 253.0,
            dropout: 250.0,
            pickup_delay: 1.0,
            dropout_delay: 0.6,
            priority: Priority::High,
        }
    }

    fn run(values: &[f64]) -> Vec<AlarmRecord> {
        let mut e = AlarmEngine::new(vec![setpoint()]).unwrap();
        let mut out = Vec::new();
        for (k, v) in values.iter().enumerate() {
            let t = Timestamp::from_nanos(0).add_seconds(0.2 * k as f64);
            out.extend(e.push(t, 0.2, |q| (q == "U_A").then_some(*v)));
        }
        out.extend(e.finish());
        out
    }

    #[test]
    fn pickup_and_dropout_need_their_delays() {
        // 0.8 s above (too short), back, then 2 s above with a peak of 260, 0.4 s below the
        // dropout (too short), above again, then below for good.
        let mut v = vec![230.0; 5];
        v.extend([255.0; 4]);
        v.extend([240.0; 2]);
        v.extend([
            254.0, 254.0, 260.0, 254.0, 254.0, 254.0, 254.0, 254.0, 254.0, 254.0,
        ]);
        v.extend([249.0; 2]);
        v.extend([252.0; 1]);
        v.extend([249.0; 5]);
        let alarms = run(&v);
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        let a = &alarms[0];
        assert!((a.start.as_secs_f64() - 2.2).abs() < 1e-9);
        // 252 V (at 4.6 s) lies between dropout and pickup: it breaks the first dropout run
        // (4.2–4.6 s, shorter than 0.6 s); the alarm ends where the run that lasts begins.
        assert!(
            (a.end.unwrap().as_secs_f64() - 4.8).abs() < 1e-9,
            "{:?}",
            a.end
        );
        assert_eq!(a.extreme, 260.0);
        assert_eq!(a.priority, Priority::High);
    }

    #[test]
    fn still_active_at_the_end_and_bad_setpoints() {
        let alarms = run(&[260.0; 10]);
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].end, None);
        let mut bad = setpoint();
        bad.dropout = 256.0;
        let err = AlarmEngine::new(vec![bad]).unwrap_err().to_string();
        assert!(
            err.contains("overvoltage") && err.contains("dropout"),
            "{err}"
        );
    }
}
