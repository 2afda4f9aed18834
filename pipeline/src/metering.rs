//! The meter quantities of a run, fed with every 10/12-cycle interval as the writer stage
//! takes it, the way a panel or revenue meter keeps them beside the IEC 61000-4-30 values:
//!
//! - **energy** ([`pqe_standards::energy`]): four-quadrant registers per phase and for the
//!   system, V²h and I²h, per clock-aligned logging period (table `energy`) and over the
//!   whole recording (summary.json, report);
//! - **demand** ([`pqe_standards::demand`]) of the system P, Q, S and of each phase current
//!   (table `demand`), with the maximum demand of each and the coincident values;
//! - **min/max** ([`pqe_standards::minmax`]) of every interval quantity per logging period,
//!   with the time of each extreme (table `minmax`, one row per period and quantity);
//! - **alarms** ([`pqe_standards::alarms`]) on the setpoints of the settings (table
//!   `alarms`);
//! - **distortion detail** ([`pqe_standards::distortion`]) per interval and channel: the
//!   harmonic content, thd relative to the RMS value, and the even and odd harmonic
//!   distortion TEHD and TOHD, from the IEC 61000-4-7 harmonic groups (table
//!   `distortion`);
//! - the **motor derating** inputs of NEMA MG 1 ([`pqe_standards::nema_mg1`]): per interval
//!   the percent voltage unbalance of the fundamental line-to-line voltages and the harmonic
//!   voltage factor, their mean per min/max period for the report's derating curves.
//!
//! Every interval counts, flagged or not: energy and demand integrate what was supplied,
//! and a dip's depth belongs in the minimum (the aggregates of IEC 61000-4-30 4.7 are the
//! place where flagged values are left out). A gap adds nothing: its time is missing from
//! the registers' `seconds` and makes the demand intervals it touches incomplete.

use crate::table::ResultTable;
use crate::{Error, Result};
use pqe_core::record::IntervalRecord;
use pqe_core::{ChannelKind, RecordingInfo, Timestamp};
use pqe_io::table::{ColumnType, TableFormat, Value};
use pqe_report::{
    AlarmRow, DemandRow, DeratingPoint, EnergyRow, MeteringSection, MinMaxRow, MotorDerating,
};
use pqe_standards::alarms::{AlarmEngine, AlarmRecord, Direction, Priority, Setpoint};
use pqe_standards::demand::{DemandMeter, DemandMethod, DemandSettings, MaximumDemand};
use pqe_standards::energy::{EnergyMeter, EnergyPeriod, PowerReading};
use pqe_standards::limit_learning::{self, LearnedLimits, LearningRule, LimitLearner};
use pqe_standards::minmax::{MinMaxLog, MinMaxPeriod};
use pqe_standards::{distortion, nema_mg1};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The defaults of the metering settings.
pub mod defaults {
    /// Energy logging period, s (a 15-min load profile).
    pub const ENERGY_PERIOD: f64 = 900.0;
    /// Demand interval, s.
    pub const DEMAND_INTERVAL: f64 = 900.0;
    /// Min/max logging period, s.
    pub const MINMAX_PERIOD: f64 = 600.0;
}

/// The distortion indices per channel in the `distortion` table (`HC_U_A`, `thd_U_A`, …):
/// harmonic content (the channel's unit), thd relative to the RMS value, TEHD and TOHD
/// relative to the fundamental (all three in %).
pub const DISTORTION_QUANTITIES: [&str; 4] = ["HC", "thd", "TEHD", "TOHD"];

/// Columns of the `minmax` table.
pub const MINMAX_COLUMNS: [&str; 7] = ["t", "start", "quantity", "min", "t_min", "max", "t_max"];
/// Columns of the `alarms` table.
pub const ALARM_COLUMNS: [&str; 10] = [
    "name",
    "quantity",
    "priority",
    "direction",
    "t_start",
    "start",
    "t_end",
    "end",
    "duration",
    "extreme",
];

/// How demand is computed: `block`, `rolling:N` (N sub-intervals) or `thermal`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandMethodSetting(pub DemandMethod);

impl Default for DemandMethodSetting {
    fn default() -> Self {
        DemandMethodSetting(DemandMethod::Block)
    }
}

impl fmt::Display for DemandMethodSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            DemandMethod::Block => f.write_str("block"),
            DemandMethod::Rolling { subintervals } => write!(f, "rolling:{subintervals}"),
            DemandMethod::Thermal => f.write_str("thermal"),
        }
    }
}

impl FromStr for DemandMethodSetting {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let method = match t.as_str() {
            "block" => DemandMethod::Block,
            "thermal" => DemandMethod::Thermal,
            _ => match t
                .strip_prefix("rolling:")
                .map(|n| n.trim().parse::<usize>())
            {
                Some(Ok(subintervals)) => DemandMethod::Rolling { subintervals },
                _ => {
                    return Err(Error::Settings(format!(
                        "demand method '{s}': expected block, rolling:N (N sub-intervals, \
                         e.g. rolling:3) or thermal"
                    )))
                }
            },
        };
        Ok(DemandMethodSetting(method))
    }
}

impl Serialize for DemandMethodSetting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DemandMethodSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An alarm setpoint as the settings write it:
/// `[NAME=]QUANTITY>PICKUP[/DROPOUT][,delay=S][,dropout_delay=S][,priority=P]`, with `<`
/// instead of `>` for an alarm below the pickup level. QUANTITY is an interval column
/// (`U_A`, `THD_U_A`, `P`, `f`, `u2`); the dropout level defaults to the pickup level, the
/// delays to 0 s, the priority to `medium` (`info`, `low`, `medium`, `high`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSetting(pub Setpoint);

impl fmt::Display for AlarmSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let op = match s.direction {
            Direction::Over => '>',
            Direction::Under => '<',
        };
        write!(
            f,
            "{}={}{op}{}/{},delay={},dropout_delay={},priority={}",
            s.name,
            s.quantity,
            s.pickup,
            s.dropout,
            s.pickup_delay,
            s.dropout_delay,
            s.priority.as_str()
        )
    }
}

impl FromStr for AlarmSetting {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::Settings(format!(
                "alarm '{text}': {why} (expected [NAME=]QUANTITY>PICKUP[/DROPOUT]\
                 [,delay=S][,dropout_delay=S][,priority=info|low|medium|high], '<' for an \
                 under-limit alarm)"
            ))
        };
        let mut parts = text.split(',');
        let head = parts.next().unwrap_or("").trim();
        let (name, rule) = match head.split_once('=') {
            Some((n, r)) => (Some(n.trim()), r.trim()),
            None => (None, head),
        };
        let (direction, at) = match (rule.find('>'), rule.find('<')) {
            (Some(i), None) => (Direction::Over, i),
            (None, Some(i)) => (Direction::Under, i),
            _ => return Err(bad("one '>' or '<' is needed")),
        };
        let quantity = rule[..at].trim();
        if quantity.is_empty() {
            return Err(bad("no quantity before the comparison"));
        }
        let levels = rule[at + 1..].trim();
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad(&format!("{what} '{}' is not a number", s.trim())))
        };
        let (pickup, dropout) = match levels.split_once('/') {
            Some((p, d)) => (number(p, "pickup")?, number(d, "dropout")?),
            None => {
                let p = number(levels, "pickup")?;
                (p, p)
            }
        };
        let mut setpoint = Setpoint {
            name: name
                .filter(|n| !n.is_empty())
                .map_or_else(|| rule.to_string(), str::to_string),
            quantity: quantity.to_string(),
            direction,
            pickup,
            dropout,
            pickup_delay: 0.0,
            dropout_delay: 0.0,
            priority: Priority::Medium,
        };
        for option in parts {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| bad(&format!("'{}' is not KEY=VALUE", option.trim())))?;
            match key.trim() {
                "delay" | "pickup_delay" => setpoint.pickup_delay = number(value, "delay")?,
                "dropout_delay" => setpoint.dropout_delay = number(value, "dropout_delay")?,
                "priority" => {
                    setpoint.priority = match value.trim() {
                        "info" => Priority::Info,
                        "low" => Priority::Low,
                        "medium" => Priority::Medium,
                        "high" => Priority::High,
                        other => return Err(bad(&format!("priority '{other}'"))),
                    }
                }
                other => return Err(bad(&format!("unknown key '{other}'"))),
            }
        }
        setpoint.validate().map_err(|e| bad(&e.to_string()))?;
        Ok(AlarmSetting(setpoint))
    }
}

impl Serialize for AlarmSetting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AlarmSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The checked metering settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MeteringSettings {
    /// Energy logging period, s.
    pub energy_period: f64,
    /// The demand interval and method.
    pub demand: DemandSettings,
    /// Min/max logging period, s.
    pub minmax_period: f64,
    /// Alarm setpoints.
    pub alarms: Vec<Setpoint>,
    /// Where to write the alarm setpoints learned from this recording (`--learn-limits`).
    pub learn_limits: Option<PathBuf>,
    /// The nominal frequency (Hz), for learned frequency limits.
    pub nominal_frequency: f64,
}

impl MeteringSettings {
    /// Check the periods (positive, dividing the day, as clock-aligned logs need) and the
    /// demand settings.
    pub fn validate(&self) -> Result<()> {
        for (option, seconds) in [
            ("--energy-period", self.energy_period),
            ("--minmax-period", self.minmax_period),
        ] {
            if !(seconds.is_finite() && seconds >= 1.0) || (86_400.0 / seconds).fract() > 1e-9 {
                return Err(Error::Settings(format!(
                    "{option} {seconds}: a clock-aligned logging period is a whole number of \
                     seconds that divides the day (e.g. 60, 600, 900, 3600)"
                )));
            }
        }
        DemandMeter::new(vec!["P".into()], self.demand.clone())
            .map_err(|e| Error::Settings(format!("--demand-interval/--demand-method: {e}")))?;
        Ok(())
    }
}

/// Where a record's values sit: positions of the sink's quantities in the record's row.
struct Layout {
    signature: u64,
    /// Per quantity of [`MeteringSink::names`], its index in the row (`None`: absent).
    positions: Vec<Option<usize>>,
}

/// The power channels of the energy registers: name (`A`, `B`, `C`, `total`) and the
/// quantities' indices (P, Q1, S) among the sink's names.
struct PowerChannel {
    name: String,
    p: usize,
    q: Option<usize>,
    s: usize,
}

/// The meter quantities of a run.
pub struct MeteringSink {
    dir: PathBuf,
    format: TableFormat,
    origin: Timestamp,
    settings: MeteringSettings,
    /// The interval quantities (the interval columns after `t` and `flagged`).
    names: Vec<String>,
    layout: Option<Layout>,
    row: Vec<f64>,
    values: Vec<f64>,
    power: Vec<PowerChannel>,
    voltages: Vec<usize>,
    currents: Vec<usize>,
    energy: EnergyMeter,
    energy_table: Option<ResultTable>,
    demand_names: Vec<usize>,
    demand: Option<DemandMeter>,
    demand_table: Option<ResultTable>,
    minmax: MinMaxLog,
    minmax_table: Option<ResultTable>,
    alarms: Option<AlarmEngine>,
    alarm_table: Option<ResultTable>,
    alarm_rows: Vec<AlarmRecord>,
    motor: MotorInputs,
    /// Channels (their column names) whose distortion indices are written.
    distortion_channels: Vec<String>,
    distortion_table: Option<ResultTable>,
    thd_order: usize,
    distortion_row: Vec<f64>,
    non_finite_power: u64,
    intervals: u64,
    /// Limit learning and the positions of its quantities in `values`.
    learner: Option<(LimitLearner, Vec<usize>)>,
}

/// What the run leaves of the meter quantities.
#[derive(Debug)]
pub struct MeteringOutcome {
    /// Tables written, relative to the output folder.
    pub files: Vec<String>,
    /// The report section.
    pub report: MeteringSection,
    /// The `metering` object of summary.json.
    pub summary: serde_json::Value,
    /// Warnings for the run's observer.
    pub warnings: Vec<String>,
}

impl MeteringSink {
    /// A sink for the intervals of `first` (the run's first interval record), writing its
    /// tables into `dir`.
    pub fn start(
        dir: &Path,
        format: TableFormat,
        info: &RecordingInfo,
        udin: f64,
        settings: &MeteringSettings,
        thd_order: usize,
        first: &IntervalRecord,
    ) -> Result<Self> {
        let names: Vec<String> = first
            .columns()
            .into_iter()
            .skip(2)
            .map(|(name, _)| name)
            .collect();
        let find = |n: &str| names.iter().position(|x| x == n);
        let mut power = Vec::new();
        for phase in ["A", "B", "C"] {
            if let (Some(p), Some(s)) = (find(&format!("P_{phase}")), find(&format!("S_{phase}"))) {
                power.push(PowerChannel {
                    name: phase.into(),
                    p,
                    q: find(&format!("Q1_{phase}")),
                    s,
                });
            }
        }
        if let (Some(p), Some(s)) = (find("P"), find("S")) {
            power.push(PowerChannel {
                name: "total".into(),
                p,
                q: find("Q"),
                s,
            });
        }
        let channel_columns = |kind: ChannelKind| -> Vec<usize> {
            first
                .channels
                .iter()
                .zip(&info.channels)
                .filter(|(_, spec)| spec.kind == kind)
                .filter_map(|(c, _)| find(&c.column))
                .collect()
        };
        let voltages = channel_columns(ChannelKind::Voltage);
        let currents = channel_columns(ChannelKind::Current);
        let energy = EnergyMeter::new(
            power.iter().map(|c| c.name.clone()).collect(),
            voltages.len(),
            currents.len(),
            settings.energy_period,
        );
        let mut demand_names: Vec<usize> = ["P", "Q", "S"].iter().filter_map(|n| find(n)).collect();
        demand_names.extend(currents.iter().copied());
        let demand = if demand_names.is_empty() {
            None
        } else {
            Some(
                DemandMeter::new(
                    demand_names.iter().map(|&i| names[i].clone()).collect(),
                    settings.demand.clone(),
                )
                .map_err(|e| Error::Settings(format!("demand: {e}")))?,
            )
        };
        let alarms = if settings.alarms.is_empty() {
            None
        } else {
            for sp in &settings.alarms {
                if find(&sp.quantity).is_none() {
                    return Err(Error::Settings(format!(
                        "alarm '{}': this analysis has no quantity '{}' (its interval columns \
                         are {})",
                        sp.name,
                        sp.quantity,
                        names.join(", ")
                    )));
                }
            }
            Some(
                AlarmEngine::new(settings.alarms.clone())
                    .map_err(|e| Error::Settings(format!("alarms: {e}")))?,
            )
        };
        let minmax = MinMaxLog::new(names.clone(), settings.minmax_period, false);
        let learner = settings.learn_limits.as_ref().map(|_| {
            let (rules, positions): (Vec<LearningRule>, Vec<usize>) = names
                .iter()
                .enumerate()
                .filter_map(|(k, n)| {
                    LearningRule::for_column(n, udin, settings.nominal_frequency).map(|r| (r, k))
                })
                .unzip();
            (LimitLearner::new(rules), positions)
        });
        let motor = MotorInputs::new(first, info, udin, settings.minmax_period);
        let distortion_channels: Vec<String> = first
            .channels
            .iter()
            .filter(|c| c.harmonics.is_some())
            .map(|c| c.column.clone())
            .collect();
        let distortion_table = if distortion_channels.is_empty() {
            None
        } else {
            let mut columns = vec!["t".to_string(), "flagged".to_string()];
            for c in &distortion_channels {
                for q in DISTORTION_QUANTITIES {
                    columns.push(format!("{q}_{c}"));
                }
            }
            Some(ResultTable::numeric(dir, "distortion", &columns, format)?)
        };
        Ok(MeteringSink {
            dir: dir.to_path_buf(),
            format,
            origin: info.start,
            settings: settings.clone(),
            names,
            layout: None,
            row: Vec::new(),
            values: Vec::new(),
            power,
            voltages,
            currents,
            energy,
            energy_table: None,
            demand_names,
            demand,
            demand_table: None,
            minmax,
            minmax_table: None,
            alarms,
            alarm_table: None,
            alarm_rows: Vec::new(),
            motor,
            distortion_channels,
            distortion_table,
            thd_order,
            distortion_row: Vec::new(),
            non_finite_power: 0,
            intervals: 0,
            learner,
        })
    }

    /// Seconds from the recording's start to `t`.
    /// Seconds from the recording's start (divided, not multiplied by 1e-9, so that a
    /// period's whole-second start reads as such: 60, not 60.00000000000001).
    fn since_origin(&self, t: Timestamp) -> f64 {
        (t.as_nanos() - self.origin.as_nanos()) as f64 / 1e9
    }

    /// The values of `r` in the order of the sink's names (NaN where absent).
    fn gather(&mut self, r: &IntervalRecord) {
        self.row.clear();
        let signature = r.push_numbers(&mut self.row);
        if self.layout.as_ref().map(|l| l.signature) != Some(signature) {
            let here: Vec<String> = r.columns().into_iter().map(|(n, _)| n).collect();
            let positions = self
                .names
                .iter()
                .map(|n| here.iter().position(|h| h == n))
                .collect();
            self.layout = Some(Layout {
                signature,
                positions,
            });
        }
        let layout = self.layout.as_ref().expect("set above");
        self.values.clear();
        self.values.extend(
            layout
                .positions
                .iter()
                .map(|p| p.map_or(f64::NAN, |i| self.row[i])),
        );
    }

    /// Take one interval.
    pub fn push(&mut self, r: &IntervalRecord) -> Result<()> {
        self.gather(r);
        self.intervals += 1;
        let v = &self.values;
        let readings: Vec<PowerReading> = self
            .power
            .iter()
            .map(|c| PowerReading {
                p: v[c.p],
                q: c.q.map_or(0.0, |q| v[q]),
                s: v[c.s],
            })
            .collect();
        let rms = |idx: &[usize]| -> Vec<f64> {
            idx.iter()
                .map(|&i| if v[i].is_finite() { v[i] } else { 0.0 })
                .collect()
        };
        let (u, i) = (rms(&self.voltages), rms(&self.currents));
        if readings
            .iter()
            .all(|p| p.p.is_finite() && p.q.is_finite() && p.s.is_finite())
        {
            if let Some(period) = self.energy.push(r.start, r.duration, &readings, &u, &i) {
                self.write_energy(&period)?;
            }
        } else {
            self.non_finite_power += 1;
        }
        if let Some(d) = &mut self.demand {
            let values: Vec<f64> = self.demand_names.iter().map(|&k| self.values[k]).collect();
            for rec in d.push(r.start, r.duration, &values) {
                self.write_demand(&rec.end, &rec.values, rec.complete)?;
            }
        }
        if let Some(period) = self.minmax.push(r.start, r.flagged, &self.values) {
            self.write_minmax(&period)?;
        }
        if let Some(engine) = &mut self.alarms {
            let (names, values) = (&self.names, &self.values);
            let ended = engine.push(r.start, r.duration, |q| {
                names.iter().position(|n| n == q).map(|k| values[k])
            });
            for a in ended {
                self.write_alarm(&a)?;
            }
        }
        if let Some((learner, positions)) = &mut self.learner {
            let values: Vec<f64> = positions.iter().map(|&k| self.values[k]).collect();
            learner.push(r.start, r.duration, r.flagged, &values);
        }
        self.motor.push(r);
        self.write_distortion(r)
    }

    fn write_distortion(&mut self, r: &IntervalRecord) -> Result<()> {
        let Some(table) = &mut self.distortion_table else {
            return Ok(());
        };
        let row = &mut self.distortion_row;
        row.clear();
        row.extend([r.t, if r.flagged { 1.0 } else { 0.0 }]);
        for name in &self.distortion_channels {
            let harmonics = r
                .channels
                .iter()
                .find(|c| &c.column == name)
                .and_then(|c| c.harmonics.as_ref());
            match harmonics {
                Some(h) => {
                    let d = distortion::indices(&h.groups, self.thd_order);
                    row.extend([
                        d.harmonic_content,
                        100.0 * d.thd_rms,
                        100.0 * d.tehd,
                        100.0 * d.tohd,
                    ]);
                }
                None => row.extend([f64::NAN; 4]),
            }
        }
        table.write_numbers(row.iter().copied())?;
        Ok(())
    }

    fn write_energy(&mut self, period: &EnergyPeriod) -> Result<()> {
        let columns = energy_columns(
            &self.power,
            period,
            &self.names,
            &self.voltages,
            &self.currents,
        );
        if self.energy_table.is_none() {
            let mut schema = vec![
                ("t".to_string(), ColumnType::F64),
                ("start".to_string(), ColumnType::Text),
                ("seconds".to_string(), ColumnType::F64),
            ];
            schema.extend(columns.iter().map(|(n, _)| (n.clone(), ColumnType::F64)));
            self.energy_table = Some(ResultTable::typed(
                &self.dir,
                "energy",
                schema,
                self.format,
            )?);
        }
        let start = period.start.to_string();
        let mut row = vec![
            Value::F64(self.since_origin(period.start)),
            Value::Text(&start),
            Value::F64(period.registers.first().map_or(0.0, |r| r.seconds)),
        ];
        row.extend(columns.iter().map(|(_, v)| Value::F64(*v)));
        self.energy_table
            .as_mut()
            .expect("opened above")
            .write_row(&row)?;
        Ok(())
    }

    fn write_demand(&mut self, end: &Timestamp, values: &[f64], complete: bool) -> Result<()> {
        if self.demand_table.is_none() {
            let mut schema = vec![
                ("t_end".to_string(), ColumnType::F64),
                ("end".to_string(), ColumnType::Text),
                ("incomplete".to_string(), ColumnType::Bool),
            ];
            schema.extend(
                self.demand_names
                    .iter()
                    .map(|&k| (self.names[k].clone(), ColumnType::F64)),
            );
            self.demand_table = Some(ResultTable::typed(
                &self.dir,
                "demand",
                schema,
                self.format,
            )?);
        }
        let text = end.to_string();
        let mut row = vec![
            Value::F64(self.since_origin(*end)),
            Value::Text(&text),
            Value::Bool(!complete),
        ];
        row.extend(values.iter().map(|v| Value::F64(*v)));
        self.demand_table
            .as_mut()
            .expect("opened above")
            .write_row(&row)?;
        Ok(())
    }

    fn write_minmax(&mut self, period: &MinMaxPeriod) -> Result<()> {
        if self.minmax_table.is_none() {
            let schema = MINMAX_COLUMNS
                .iter()
                .map(|&c| {
                    let t = match c {
                        "start" | "quantity" => ColumnType::Text,
                        _ => ColumnType::F64,
                    };
                    (c.to_string(), t)
                })
                .collect();
            self.minmax_table = Some(ResultTable::typed(
                &self.dir,
                "minmax",
                schema,
                self.format,
            )?);
        }
        let t = self.since_origin(period.start);
        let start = period.start.to_string();
        let table = self.minmax_table.as_mut().expect("opened above");
        for (name, e) in self.names.iter().zip(&period.extremes) {
            let Some(e) = e else { continue };
            table.write_row(&[
                Value::F64(t),
                Value::Text(&start),
                Value::Text(name),
                Value::F64(e.min.0),
                Value::F64(e.min.1.seconds_since(self.origin)),
                Value::F64(e.max.0),
                Value::F64(e.max.1.seconds_since(self.origin)),
            ])?;
        }
        Ok(())
    }

    fn write_alarm(&mut self, a: &AlarmRecord) -> Result<()> {
        if self.alarm_table.is_none() {
            let schema = ALARM_COLUMNS
                .iter()
                .map(|&c| {
                    let t = match c {
                        "name" | "quantity" | "priority" | "direction" | "start" | "end" => {
                            ColumnType::Text
                        }
                        _ => ColumnType::F64,
                    };
                    (c.to_string(), t)
                })
                .collect();
            self.alarm_table = Some(ResultTable::typed(
                &self.dir,
                "alarms",
                schema,
                self.format,
            )?);
        }
        let direction = self
            .settings
            .alarms
            .iter()
            .find(|s| s.name == a.name)
            .map_or("", |s| match s.direction {
                Direction::Over => "over",
                Direction::Under => "under",
            });
        let start = a.start.to_string();
        let end = a.end.map(|e| e.to_string());
        let t_end = a.end.map_or(f64::NAN, |e| self.since_origin(e));
        let row = [
            Value::Text(&a.name),
            Value::Text(&a.quantity),
            Value::Text(a.priority.as_str()),
            Value::Text(direction),
            Value::F64(self.since_origin(a.start)),
            Value::Text(&start),
            Value::F64(t_end),
            end.as_deref().map_or(Value::Null, Value::Text),
            Value::F64(a.end.map_or(f64::NAN, |e| e.seconds_since(a.start))),
            Value::F64(a.extreme),
        ];
        self.alarm_table
            .as_mut()
            .expect("opened above")
            .write_row(&row)?;
        self.alarm_rows.push(a.clone());
        Ok(())
    }

    /// End of the run: the open periods are written, the tables closed.
    pub fn finish(mut self) -> Result<MeteringOutcome> {
        let mut warnings = Vec::new();
        if let Some(period) = self.energy.finish() {
            self.write_energy(&period)?;
        }
        let mut maxima = Vec::new();
        if let Some(mut d) = self.demand.take() {
            for rec in d.finish() {
                self.write_demand(&rec.end, &rec.values, rec.complete)?;
            }
            maxima = d.maxima();
        }
        if let Some(period) = self.minmax.finish() {
            self.write_minmax(&period)?;
        }
        let mut invalid_alarm_values = 0;
        if let Some(mut engine) = self.alarms.take() {
            for a in engine.finish() {
                self.write_alarm(&a)?;
            }
            invalid_alarm_values = engine.invalid_values.iter().sum::<u64>();
        }
        if self.non_finite_power > 0 {
            warnings.push(format!(
                "energy: {} intervals without a finite P, Q or S were left out of the \
                 registers (their time is missing from the registers' seconds)",
                self.non_finite_power
            ));
        }
        if invalid_alarm_values > 0 {
            warnings.push(format!(
                "alarms: {invalid_alarm_values} interval values that were not finite held \
                 the alarms' state"
            ));
        }
        let mut files = Vec::new();
        for table in [
            self.distortion_table.take(),
            self.energy_table.take(),
            self.demand_table.take(),
            self.minmax_table.take(),
            self.alarm_table.take(),
        ]
        .into_iter()
        .flatten()
        {
            files.push(table.file_name().to_string());
            table.finish()?;
        }
        let learning = self.learn_limits(&mut warnings)?;
        let whole = self.energy.whole().cloned();
        let report = self.report_section(whole.as_ref(), &maxima);
        let mut summary = self.summary(whole.as_ref(), &maxima, &files);
        if let Some(l) = learning {
            summary["limit_learning"] = l;
        }
        Ok(MeteringOutcome {
            files,
            report,
            summary,
            warnings,
        })
    }

    /// Limit learning's end: the settings file written (or why not), as the
    /// `limit_learning` object of summary.json.
    fn learn_limits(&mut self, warnings: &mut Vec<String>) -> Result<Option<serde_json::Value>> {
        let (Some((learner, _)), Some(path)) = (self.learner.take(), &self.settings.learn_limits)
        else {
            return Ok(None);
        };
        let file = path.display().to_string();
        match learner.finish(limit_learning::MIN_SECONDS) {
            Ok(learned) => {
                let text = learned_settings_file(&learned, self.origin);
                std::fs::write(path, text).map_err(|e| {
                    Error::Other(anyhow::anyhow!(
                        "cannot write the learned limits to {file}: {e}"
                    ))
                })?;
                if !learned.settled {
                    warnings.push(format!(
                        "--learn-limits: the high limits still moved by more than 1 % over \
                         the last quarter of the {} day(s); a longer recording would give \
                         steadier ones ({file} is written all the same)",
                        learned.days
                    ));
                }
                Ok(Some(serde_json::json!({
                    "file": file,
                    "setpoints": learned.limits.len(),
                    "days": learned.days,
                    "hours": learned.span / 3600.0,
                    "unflagged_hours": learned.seconds / 3600.0,
                    "flagged_intervals": learned.flagged,
                    "settled": learned.settled,
                })))
            }
            Err(e) => {
                warnings.push(format!("--learn-limits: {e}; {file} was not written"));
                Ok(Some(
                    serde_json::json!({ "file": null, "error": e.to_string() }),
                ))
            }
        }
    }

    fn summary(
        &self,
        whole: Option<&EnergyPeriod>,
        maxima: &[MaximumDemand],
        files: &[String],
    ) -> serde_json::Value {
        let energy = whole.map(|w| {
            let columns =
                energy_columns(&self.power, w, &self.names, &self.voltages, &self.currents);
            let mut m = serde_json::Map::new();
            m.insert(
                "seconds".into(),
                w.registers.first().map_or(0.0, |r| r.seconds).into(),
            );
            for (n, v) in columns {
                m.insert(n, finite_or_null(v));
            }
            serde_json::Value::Object(m)
        });
        let demand: Vec<serde_json::Value> = maxima
            .iter()
            .map(|m| {
                serde_json::json!({
                    "quantity": m.quantity,
                    "value": finite_or_null(m.value),
                    "end": m.end.to_string(),
                    "coincident": m.coincident.iter()
                        .map(|(n, v)| (n.clone(), finite_or_null(*v)))
                        .collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        serde_json::json!({
            "intervals": self.intervals,
            "energy_period_s": self.settings.energy_period,
            "demand_interval_s": self.settings.demand.interval,
            "demand_method": DemandMethodSetting(self.settings.demand.method).to_string(),
            "minmax_period_s": self.settings.minmax_period,
            "energy": energy,
            "maximum_demand": demand,
            "alarms": self.alarm_rows.len(),
            "alarm_setpoints": self.settings.alarms.len(),
            "files": files,
        })
    }

    fn report_section(
        &mut self,
        whole: Option<&EnergyPeriod>,
        maxima: &[MaximumDemand],
    ) -> MeteringSection {
        let mut notes = Vec::new();
        let energy = whole.map_or_else(Vec::new, |w| {
            self.power
                .iter()
                .zip(&w.registers)
                .map(|(c, r)| EnergyRow {
                    channel: c.name.clone(),
                    active_delivered_kwh: r.active_delivered / 1e3,
                    active_received_kwh: r.active_received / 1e3,
                    reactive_positive_kvarh: c.q.map_or(f64::NAN, |_| r.reactive_positive() / 1e3),
                    reactive_negative_kvarh: c.q.map_or(f64::NAN, |_| r.reactive_negative() / 1e3),
                    apparent_kvah: (r.apparent_delivered + r.apparent_received) / 1e3,
                    hours: r.seconds / 3600.0,
                })
                .collect()
        });
        if self.power.iter().any(|c| c.q.is_none()) {
            notes.push(
                "Reactive energy needs the fundamental reactive power Q1, which the harmonic \
                 part gives (switched off here)."
                    .into(),
            );
        }
        let demand = maxima
            .iter()
            .map(|m| DemandRow {
                quantity: m.quantity.clone(),
                value: m.value,
                end: m.end.to_string(),
                coincident: m
                    .coincident
                    .iter()
                    .filter(|(n, _)| *n != m.quantity)
                    .map(|(n, v)| format!("{n} {}", pqe_report::number(*v)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        let minmax = self
            .minmax
            .overall()
            .iter()
            .zip(&self.names)
            .filter(|(_, n)| report_minmax_quantity(n))
            .filter_map(|(e, n)| {
                e.map(|e| MinMaxRow {
                    quantity: n.clone(),
                    min: e.min.0,
                    min_at: e.min.1.to_string(),
                    max: e.max.0,
                    max_at: e.max.1.to_string(),
                })
            })
            .collect();
        let alarms = self
            .alarm_rows
            .iter()
            .map(|a| AlarmRow {
                name: a.name.clone(),
                quantity: a.quantity.clone(),
                priority: a.priority.as_str().into(),
                start: a.start.to_string(),
                end: a.end.map(|e| e.to_string()),
                duration: a.end.map(|e| e.seconds_since(a.start)),
                extreme: a.extreme,
            })
            .collect();
        MeteringSection {
            energy,
            energy_period_s: self.settings.energy_period,
            demand,
            demand_description: format!(
                "{} demand over {} min",
                match self.settings.demand.method {
                    DemandMethod::Block => "Block".to_string(),
                    DemandMethod::Rolling { subintervals } =>
                        format!("Rolling ({subintervals} sub-intervals)"),
                    DemandMethod::Thermal => "Thermal".to_string(),
                },
                pqe_report::number(self.settings.demand.interval / 60.0)
            ),
            minmax,
            minmax_period_s: self.settings.minmax_period,
            alarms,
            alarm_setpoints: self.settings.alarms.len(),
            motor: self.motor.section(),
            notes,
        }
    }
}

/// The quantities the report's min/max table shows (the table has them all).
fn report_minmax_quantity(name: &str) -> bool {
    name == "f"
        || ["U_", "I_"].iter().any(|p| name.starts_with(p))
        || ["THD_U_", "THD_I_"].iter().any(|p| name.starts_with(p))
        || matches!(name, "P" | "Q" | "S" | "PF" | "u2")
}

/// A number for JSON: `null` when not finite.
fn finite_or_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        v.into()
    } else {
        serde_json::Value::Null
    }
}

/// The energy columns of a period: the registers of each power channel (suffix `_A`, …,
/// none for the total; the reactive ones NaN where Q1 is not measured), then `V2h_<U>` and
/// `I2h_<I>` per voltage and current channel.
fn energy_columns(
    power: &[PowerChannel],
    period: &EnergyPeriod,
    names: &[String],
    voltages: &[usize],
    currents: &[usize],
) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (c, r) in power.iter().zip(&period.registers) {
        let suffix = if c.name == "total" {
            String::new()
        } else {
            format!("_{}", c.name)
        };
        for (n, v) in r.columns(&suffix) {
            let reactive = n.starts_with("Eq_");
            out.push((
                n,
                if reactive && c.q.is_none() {
                    f64::NAN
                } else {
                    v
                },
            ));
        }
    }
    for (&k, v) in voltages.iter().zip(&period.v2h) {
        out.push((format!("V2h_{}", names[k]), *v));
    }
    for (&k, v) in currents.iter().zip(&period.i2h) {
        out.push((format!("I2h_{}", names[k]), *v));
    }
    out
}

/// The inputs of NEMA MG 1's derating: per interval the percent unbalance of the
/// fundamental line-to-line voltages and the harmonic voltage factor (HVF) of the worst
/// phase, averaged per period.
struct MotorInputs {
    /// Channel indices of U_A, U_B, U_C (wye) or U_AB, U_BC, U_CA (delta).
    wye: Option<[usize; 3]>,
    delta: Option<[usize; 3]>,
    /// The rated voltage of the HVF's per-unit values (Udin), in the channels' unit.
    rated: f64,
    period_ns: i64,
    current: Option<(i64, Accumulator)>,
    points: Vec<DeratingPoint>,
}

#[derive(Default)]
struct Accumulator {
    unbalance: (f64, u32),
    hvf: (f64, u32),
}

impl MotorInputs {
    fn new(first: &IntervalRecord, info: &RecordingInfo, udin: f64, period: f64) -> Self {
        let find = |n: &str| first.channels.iter().position(|c| c.column == n);
        let three = |names: [&str; 3]| -> Option<[usize; 3]> {
            Some([find(names[0])?, find(names[1])?, find(names[2])?])
        };
        let unit = info
            .channels
            .iter()
            .find(|c| c.kind == ChannelKind::Voltage)
            .map_or(1.0, |c| crate::fit::volts_per_unit(&c.unit));
        MotorInputs {
            wye: three(["U_A", "U_B", "U_C"]),
            delta: three(["U_AB", "U_BC", "U_CA"]),
            rated: udin / unit,
            period_ns: (period * 1e9).round() as i64,
            current: None,
            points: Vec::new(),
        }
    }

    fn push(&mut self, r: &IntervalRecord) {
        let Some(idx) = self.wye.or(self.delta) else {
            return;
        };
        let harmonics: Option<Vec<&pqe_core::record::HarmonicValues>> = idx
            .iter()
            .map(|&k| r.channels.get(k).and_then(|c| c.harmonics.as_ref()))
            .collect();
        let Some(h) = harmonics else { return };
        let fundamental = |k: usize| -> Option<(f64, f64)> {
            let m = *h[k].groups.get(1)?;
            let a = h[k].phases.get(1)?.to_radians();
            Some((m * a.cos(), m * a.sin()))
        };
        let line_to_line: Option<[f64; 3]> = if self.wye.is_some() {
            (|| {
                let (a, b, c) = (fundamental(0)?, fundamental(1)?, fundamental(2)?);
                let d = |x: (f64, f64), y: (f64, f64)| (x.0 - y.0).hypot(x.1 - y.1);
                Some([d(a, b), d(b, c), d(c, a)])
            })()
        } else {
            (|| {
                Some([
                    *h[0].groups.get(1)?,
                    *h[1].groups.get(1)?,
                    *h[2].groups.get(1)?,
                ])
            })()
        };
        let unbalance = line_to_line
            .map(|[ab, bc, ca]| nema_mg1::voltage_unbalance_percent(ab, bc, ca))
            .filter(|u| u.is_finite());
        let hvf = h
            .iter()
            .map(|x| {
                let pu: Vec<f64> = x.groups.iter().map(|v| v / self.rated).collect();
                nema_mg1::harmonic_voltage_factor(&pu)
            })
            .filter(|v| v.is_finite())
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let key = r.start.0.div_euclid(self.period_ns);
        if self.current.as_ref().is_some_and(|(k, _)| *k != key) {
            self.close();
        }
        let (_, acc) = self
            .current
            .get_or_insert_with(|| (key, Accumulator::default()));
        if let Some(u) = unbalance {
            acc.unbalance.0 += u;
            acc.unbalance.1 += 1;
        }
        if let Some(v) = hvf {
            acc.hvf.0 += v;
            acc.hvf.1 += 1;
        }
    }

    fn close(&mut self) {
        if let Some((key, acc)) = self.current.take() {
            let mean = |(s, n): (f64, u32)| if n > 0 { s / f64::from(n) } else { f64::NAN };
            self.points.push(DeratingPoint {
                start: Timestamp::from_nanos(key * self.period_ns).to_string(),
                unbalance_percent: mean(acc.unbalance),
                hvf: mean(acc.hvf),
            });
        }
    }

    fn section(&mut self) -> Option<MotorDerating> {
        self.close();
        if self.points.is_empty() {
            return None;
        }
        let worst = |f: fn(&DeratingPoint) -> f64| {
            self.points
                .iter()
                .map(f)
                .filter(|v| v.is_finite())
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let worst_unbalance = worst(|p| p.unbalance_percent);
        let worst_hvf = worst(|p| p.hvf);
        Some(MotorDerating {
            points: std::mem::take(&mut self.points),
            unbalance_curve: nema_mg1::UNBALANCE_CURVE.to_vec(),
            hvf_curve_unverified: nema_mg1::HVF_CURVE_UNVERIFIED.to_vec(),
            worst_unbalance_percent: worst_unbalance,
            unbalance_derating: worst_unbalance.and_then(nema_mg1::unbalance_derating),
            worst_hvf,
            hvf_derating_unverified: worst_hvf.and_then(nema_mg1::hvf_derating_unverified),
            from_delta: self.wye.is_none(),
        })
    }
}

/// The learned setpoints as a settings file for `pqe analyze --config` (TOML: the
/// `alarm` list, each setpoint with its statistics in a comment above it).
pub fn learned_settings_file(learned: &LearnedLimits, origin: Timestamp) -> String {
    use std::fmt::Write as _;
    let round = |x: f64| -> f64 { format!("{x:.5e}").parse().unwrap_or(x) };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Alarm setpoints learned by PQE {} from a recording starting {origin}:\n\
         # {:.1} h of recording over {} day(s); {} flagged intervals left out.\n\
         # Statistics settled (high limits moved < 1 % over the last quarter of the days): {}.\n\
         # Rule (pq-standards limit_learning): voltage and frequency max(Q99.9, mean + 4 sigma)\n\
         # and min(Q0.1, mean - 4 sigma), clamped to EN 50160's Udin +-10 % and fn +-1 %;\n\
         # current, THD and unbalance Q99.9 + 0.5 (Q99.9 - median), high only; dropout\n\
         # max(2 % of nominal, 10 % of the pickup-median gap) inside the pickup; delays 1.5 x\n\
         # the longest normal excursion beyond the dropout (resolution {} s, at most {} s).\n\
         # Edit the levels as needed, then: pqe analyze RECORDING --config THIS_FILE",
        env!("CARGO_PKG_VERSION"),
        learned.span / 3600.0,
        learned.days,
        learned.flagged,
        if learned.settled { "yes" } else { "no" },
        learned.delay_resolution,
        limit_learning::MAX_DELAY_SECONDS,
    );
    out.push_str("alarm = [\n");
    for l in &learned.limits {
        let side = if l.over { "high" } else { "low" };
        let _ = writeln!(
            out,
            "  # {} {side}: mean {}, sigma {}, median {}, Q0.1 {}, Q99.9 {} ({} values); \
             longest normal excursion {} s{}",
            l.quantity,
            round(l.mean),
            round(l.sigma),
            round(l.median),
            round(l.q001),
            round(l.q999),
            l.count,
            l.longest_excursion,
            l.clamped
                .as_deref()
                .map(|c| format!("; {c}"))
                .unwrap_or_default()
        );
        let setpoint = Setpoint {
            name: format!("learned_{}_{side}", l.quantity),
            quantity: l.quantity.clone(),
            direction: if l.over {
                Direction::Over
            } else {
                Direction::Under
            },
            pickup: round(l.pickup),
            dropout: round(l.dropout),
            pickup_delay: round(l.delay),
            dropout_delay: round(l.delay),
            priority: Priority::Medium,
        };
        let _ = writeln!(out, "  \"{}\",", AlarmSetting(setpoint));
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_settings_read_and_write_back() {
        let a: AlarmSetting = "hi=U_A>253/250,delay=1,priority=high".parse().unwrap();
        assert_eq!(a.0.name, "hi");
        assert_eq!(a.0.quantity, "U_A");
        assert_eq!(a.0.direction, Direction::Over);
        assert_eq!(
            (a.0.pickup, a.0.dropout, a.0.pickup_delay),
            (253.0, 250.0, 1.0)
        );
        assert_eq!(a.0.priority, Priority::High);
        let again: AlarmSetting = a.to_string().parse().unwrap();
        assert_eq!(again, a);
        let u: AlarmSetting = "f<49.5".parse().unwrap();
        assert_eq!(u.0.direction, Direction::Under);
        assert_eq!(u.0.dropout, 49.5);
        assert_eq!(u.0.name, "f<49.5");
        for bad in [
            "U_A",
            "U_A>x",
            ">3",
            "U_A>3,delay",
            "U_A>3,colour=red",
            "U_A>3,priority=urgent",
            // A dropout above the pickup of an over-limit alarm.
            "U_A>250/253",
        ] {
            let e = bad.parse::<AlarmSetting>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn demand_methods_read_and_write_back() {
        for s in ["block", "rolling:3", "thermal"] {
            assert_eq!(s.parse::<DemandMethodSetting>().unwrap().to_string(), s);
        }
        assert!("rolling".parse::<DemandMethodSetting>().is_err());
        assert!("sliding:3".parse::<DemandMethodSetting>().is_err());
    }

    #[test]
    fn periods_must_divide_the_day() {
        let mut s = MeteringSettings {
            energy_period: 900.0,
            demand: DemandSettings {
                interval: 900.0,
                method: DemandMethod::Block,
            },
            minmax_period: 600.0,
            alarms: Vec::new(),
            learn_limits: None,
            nominal_frequency: 50.0,
        };
        s.validate().unwrap();
        s.minmax_period = 700.0;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--minmax-period"));
        s.minmax_period = 600.0;
        s.demand.interval = 0.0;
        assert!(s.validate().is_err());
    }
}
