//! Test plans: a TOML file with a `[meter]` table (the meter type and the serials on the bench)
//! and the points in order (`[[point]]`), checked before anything runs. Every error names the
//! plan file, the line and the key at fault.
//!
//! ```toml
//! [meter]
//! serials = ["A-0001", "A-0002"]
//! standard = "IEC 62053-21"   # or IEC 62053-22, IEC 62053-23, EN 50470-3
//! class = "1"
//! connection = "direct"       # or "transformer"
//! constant = 1000             # imp/kWh
//! un = 230.0                  # V, phase to neutral
//! ib = 5.0                    # A (in = … for transformer operated; itr, imin, ist for MID)
//! imax = 60.0
//! elements = 3                # measuring elements: 1 or 3
//!
//! [reference]
//! method = "pulse-count"      # or "energy", "time-power"
//! constant = 1e6              # the reference standard's pulse constant, imp/kWh
//!
//! [[point]]
//! kind = "accuracy"           # or "starting", "no-load"
//! current = "0.1 Ib"          # amperes, or a multiple of Ib, Iref, In, Itr, Imin, Imax, Ist
//! pf = "0.5L"                 # 1, 0.5L (inductive), 0.8C (capacitive)
//! load = "balanced"           # or L1, L2, L3 (one element)
//! pulses = 20                 # or resolution = 0.05 (%), or duration = 120 (s)
//! ```

use crate::accuracy::{pulses_needed, seconds_per_pulse};
use crate::limits::{
    limit_for, no_load_rule, starting_rule, starting_window, Connection, LimitQuery, LimitRow,
    Load, MeterCurrents, NoLoadRule, PowerFactor, Standard, StartingRule, StartingWindow,
};
use pqe_link::{MeterUri, Selector};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// The longest a point may keep the bench busy, seconds (a day): longer gates are refused as
/// impossible durations.
pub const MAX_POINT_S: f64 = 86_400.0;

/// A plan that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct PlanError {
    /// The plan file as named by the caller.
    pub file: String,
    /// 1-based line of the fault.
    pub line: usize,
    /// The key at fault, dotted from the top (`point[3].duration`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// How the reference energy is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceMethod {
    /// Pulse comparison: count the reference standard's pulses in the gate.
    PulseCount,
    /// Pulse comparison: integrate the reference energy over the gate.
    Energy,
    /// Time/power: the set power times the gate time.
    TimePower,
}

impl ReferenceMethod {
    /// How the report names the method.
    pub fn describe(self) -> &'static str {
        match self {
            ReferenceMethod::PulseCount => {
                "pulse comparison, counting the reference standard's pulses in the gate"
            }
            ReferenceMethod::Energy => {
                "pulse comparison, integrating the reference energy over the gate"
            }
            ReferenceMethod::TimePower => "time/power (set power times gate time)",
        }
    }
}

/// The meter type under test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeterType {
    /// The serials on the bench, one per position.
    pub serials: Vec<String>,
    /// The standard of its class.
    pub standard: Standard,
    /// Its class.
    pub class: String,
    /// Its connection.
    pub connection: Connection,
    /// Its constant, imp/kWh.
    pub constant: f64,
    /// Nominal phase-to-neutral voltage, V.
    pub un: f64,
    /// Its named currents.
    pub currents: MeterCurrents,
    /// Measuring elements (1 or 3).
    pub elements: u32,
    /// Nominal frequency, Hz.
    pub frequency: f64,
    /// Ambient temperature of the test, °C.
    pub temperature: f64,
}

/// What a point tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PointKind {
    /// Accuracy: the error over a gate of `pulses` meter pulses, against `limit`.
    Accuracy {
        /// The test current, A.
        current_a: f64,
        /// The power factor.
        pf: PowerFactor,
        /// The PF as written ("1", "0.5L", …).
        pf_text: String,
        /// Balanced or one element.
        load: Load,
        /// The loaded element (1-based) for a single-phase load.
        element: Option<u32>,
        /// Meter pulses in the gate.
        pulses: u64,
        /// The limit row that applies.
        limit: &'static LimitRow,
    },
    /// Starting: at Ist, PF 1, the meter must give the window's pulses.
    Starting {
        /// The rule.
        rule: StartingRule,
        /// The window.
        window: StartingWindow,
    },
    /// No-load: at `voltage_factor`·Un without current, at most `max_pulses` pulses.
    NoLoad {
        /// The rule.
        rule: NoLoadRule,
    },
    /// Register (dial) test: the meter's energy register read through its link before and
    /// after the bench delivers a known energy; the register's advance against the reference
    /// energy is the error, judged against `limit`.
    Register {
        /// The register: a Modbus register (`ir:0x156:f32`) or an OBIS code.
        #[serde(serialize_with = "selector_text")]
        selector: Selector,
        /// The register's unit: kilowatt-hours per register unit (1 for kWh, 0.001 for Wh).
        kwh_per_unit: f64,
        /// The test current, A.
        current_a: f64,
        /// The power factor.
        pf: PowerFactor,
        /// The PF as written.
        pf_text: String,
        /// How long the bench delivers energy, s.
        duration_s: f64,
        /// The limit row that applies (the accuracy limit at this current and PF).
        limit: &'static LimitRow,
    },
    /// Function test: a value read through the meter's link compared with an expectation.
    Function {
        /// What is read: a Modbus register or an OBIS code.
        #[serde(serialize_with = "selector_text")]
        selector: Selector,
        /// The value expected.
        expect: f64,
        /// The largest difference accepted (absolute, in the value's unit).
        tolerance: f64,
    },
}

fn selector_text<S: serde::Serializer>(sel: &Selector, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&sel.to_string())
}

/// One checked point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// 1-based position in the plan.
    pub index: usize,
    /// Its name (given, or made from its settings).
    pub name: String,
    /// Its line in the plan.
    pub line: usize,
    /// What it tests.
    #[serde(flatten)]
    pub kind: PointKind,
}

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The plan's name (`name` at the top, else the file name).
    pub name: String,
    /// The meter type.
    pub meter: MeterType,
    /// How the reference energy is obtained.
    pub method: ReferenceMethod,
    /// The reference standard's pulse constant, imp/kWh (pulse-count method).
    pub reference_constant: Option<f64>,
    /// Timer tick of the bench's edge time stamps, seconds (the time methods' resolution).
    pub timer_tick_s: f64,
    /// The points in order.
    pub points: Vec<Point>,
    /// Each meter's communication link (serial → meter URI), for register and function
    /// tests.
    pub links: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    name: Option<String>,
    meter: Option<Spanned<RawMeter>>,
    #[serde(default)]
    reference: Option<Spanned<RawReference>>,
    #[serde(default, rename = "point")]
    points: Vec<Spanned<RawPoint>>,
    #[serde(default)]
    links: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    serials: Option<Spanned<Vec<String>>>,
    standard: Option<Spanned<String>>,
    class: Option<Spanned<String>>,
    #[serde(default)]
    connection: Option<Spanned<String>>,
    constant: Option<Spanned<f64>>,
    un: Option<Spanned<f64>>,
    #[serde(default)]
    ib: Option<Spanned<f64>>,
    #[serde(default)]
    iref: Option<Spanned<f64>>,
    #[serde(default, rename = "in")]
    i_n: Option<Spanned<f64>>,
    #[serde(default)]
    itr: Option<Spanned<f64>>,
    #[serde(default)]
    imin: Option<Spanned<f64>>,
    #[serde(default)]
    ist: Option<Spanned<f64>>,
    imax: Option<Spanned<f64>>,
    #[serde(default)]
    elements: Option<Spanned<u32>>,
    #[serde(default)]
    frequency: Option<Spanned<f64>>,
    #[serde(default)]
    temperature: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    #[serde(default)]
    method: Option<Spanned<String>>,
    #[serde(default)]
    constant: Option<Spanned<f64>>,
    #[serde(default)]
    timer_tick: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCurrent {
    Amperes(f64),
    Expr(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    kind: Option<Spanned<String>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    current: Option<Spanned<RawCurrent>>,
    #[serde(default)]
    pf: Option<Spanned<String>>,
    #[serde(default)]
    load: Option<Spanned<String>>,
    #[serde(default)]
    pulses: Option<Spanned<i64>>,
    #[serde(default)]
    resolution: Option<Spanned<f64>>,
    #[serde(default)]
    duration: Option<Spanned<f64>>,
    #[serde(default)]
    register: Option<Spanned<String>>,
    #[serde(default)]
    obis: Option<Spanned<String>>,
    #[serde(default)]
    unit: Option<Spanned<String>>,
    #[serde(default)]
    expect: Option<Spanned<f64>>,
    #[serde(default)]
    tolerance: Option<Spanned<f64>>,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
    fn err(&self, span: Range<usize>, key: impl Into<String>, msg: impl Into<String>) -> PlanError {
        PlanError {
            file: self.file.to_string(),
            line: self.line(span),
            key: key.into(),
            message: msg.into(),
        }
    }
}

impl Plan {
    /// Read and check the plan in `path`.
    pub fn from_file(path: &std::path::Path) -> Result<Plan, PlanError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            file: file.clone(),
            line: 0,
            key: String::new(),
            message: format!("cannot read the plan: {e}"),
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Plan::from_toml(&text, &file, &stem)
    }

    /// Check the plan `text`, read from `file` (named in errors); `default_name` names it if
    /// it has no `name`.
    pub fn from_toml(text: &str, file: &str, default_name: &str) -> Result<Plan, PlanError> {
        let cx = Ctx { file, text };
        let raw: RawPlan = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            // toml names the fault; keep its message without the source excerpt.
            let msg = e.message().trim().to_string();
            let key = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.contains("field"))
                .unwrap_or("")
                .to_string();
            cx.err(span, key, msg)
        })?;
        let meter_sp = raw
            .meter
            .ok_or_else(|| cx.err(0..0, "meter", "the plan has no [meter] table"))?;
        let meter_span = meter_sp.span();
        let m = meter_sp.into_inner();
        let need_f = |v: Option<Spanned<f64>>, key: &str, what: &str| -> Result<f64, PlanError> {
            let v = v.ok_or_else(|| {
                cx.err(
                    meter_span.clone(),
                    format!("meter.{key}"),
                    format!("missing: {what}"),
                )
            })?;
            let span = v.span();
            let x = *v.get_ref();
            if x > 0.0 && x.is_finite() {
                Ok(x)
            } else {
                Err(cx.err(
                    span,
                    format!("meter.{key}"),
                    format!("{x}: must be a positive number"),
                ))
            }
        };
        let opt_f = |v: Option<Spanned<f64>>, key: &str| -> Result<Option<f64>, PlanError> {
            match v {
                None => Ok(None),
                Some(v) => {
                    let x = *v.get_ref();
                    if x > 0.0 && x.is_finite() {
                        Ok(Some(x))
                    } else {
                        Err(cx.err(
                            v.span(),
                            format!("meter.{key}"),
                            format!("{x}: must be a positive number"),
                        ))
                    }
                }
            }
        };
        let constant = need_f(m.constant, "constant", "the meter constant in imp/kWh")?;
        let un = need_f(m.un, "un", "the nominal phase-to-neutral voltage Un in V")?;
        let serials = m.serials.ok_or_else(|| {
            cx.err(
                meter_span.clone(),
                "meter.serials",
                "missing: the serial of each meter on the bench",
            )
        })?;
        let serials_span = serials.span();
        let serials = serials.into_inner();
        if serials.is_empty() || serials.iter().any(|s| s.trim().is_empty()) {
            return Err(cx.err(
                serials_span,
                "meter.serials",
                "needs at least one non-empty serial",
            ));
        }
        for (i, s) in serials.iter().enumerate() {
            if serials[..i].contains(s) {
                return Err(cx.err(
                    serials_span,
                    "meter.serials",
                    format!("serial {s:?} appears twice"),
                ));
            }
        }
        let std_sp = m.standard.ok_or_else(|| {
            cx.err(
                meter_span.clone(),
                "meter.standard",
                "missing: IEC 62053-21, IEC 62053-22, IEC 62053-23 or EN 50470-3",
            )
        })?;
        let standard = Standard::parse(std_sp.get_ref()).ok_or_else(|| {
            cx.err(
                std_sp.span(),
                "meter.standard",
                format!(
                    "unknown standard {:?}: IEC 62053-21, IEC 62053-22, IEC 62053-23 or EN 50470-3",
                    std_sp.get_ref()
                ),
            )
        })?;
        let class_sp = m.class.ok_or_else(|| {
            cx.err(
                meter_span.clone(),
                "meter.class",
                "missing: the accuracy class",
            )
        })?;
        let class = class_sp.get_ref().trim().to_string();
        let Some(class_static) = standard
            .classes()
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&class))
        else {
            return Err(cx.err(
                class_sp.span(),
                "meter.class",
                format!(
                    "{} has no class {class:?} (classes: {})",
                    standard.name(),
                    standard.classes().join(", ")
                ),
            ));
        };
        let connection = match m.connection {
            None => Connection::Direct,
            Some(c) => match c.get_ref().trim().to_ascii_lowercase().as_str() {
                "direct" => Connection::Direct,
                "transformer" => Connection::Transformer,
                other => {
                    return Err(cx.err(
                        c.span(),
                        "meter.connection",
                        format!("{other:?}: direct or transformer"),
                    ))
                }
            },
        };
        let ib = match (opt_f(m.ib, "ib")?, opt_f(m.iref, "iref")?) {
            (Some(a), None) | (None, Some(a)) => Some(a),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(cx.err(
                    meter_span.clone(),
                    "meter.iref",
                    "give ib or iref, not both",
                ))
            }
        };
        let imax = Some(need_f(m.imax, "imax", "the maximum current Imax in A")?);
        let currents = MeterCurrents {
            ib,
            i_n: opt_f(m.i_n, "in")?,
            itr: opt_f(m.itr, "itr")?,
            imin: opt_f(m.imin, "imin")?,
            imax,
            ist: opt_f(m.ist, "ist")?,
        };
        let base_key = match (standard, connection) {
            (Standard::En50470_3, _) => ("itr", currents.itr),
            (_, Connection::Direct) => ("ib", currents.ib),
            (_, Connection::Transformer) => ("in", currents.i_n),
        };
        if base_key.1.is_none() {
            return Err(cx.err(
                meter_span.clone(),
                format!("meter.{}", base_key.0),
                format!(
                    "missing: {} {:?} meters need it",
                    standard.name(),
                    connection
                ),
            ));
        }
        if standard == Standard::En50470_3 && currents.imin.is_none() {
            return Err(cx.err(
                meter_span.clone(),
                "meter.imin",
                "missing: EN 50470-3 meters need Imin",
            ));
        }
        let elements = match m.elements {
            None => 3,
            Some(e) => match *e.get_ref() {
                1 | 3 => *e.get_ref(),
                2 => {
                    return Err(cx.err(
                        e.span(),
                        "meter.elements",
                        "not implemented: two-element (three-wire) meters",
                    ))
                }
                n => return Err(cx.err(e.span(), "meter.elements", format!("{n}: 1 or 3"))),
            },
        };
        let frequency = opt_f(m.frequency, "frequency")?.unwrap_or(50.0);
        let temperature = match m.temperature {
            None => 23.0,
            Some(t) if t.get_ref().is_finite() => *t.get_ref(),
            Some(t) => return Err(cx.err(t.span(), "meter.temperature", "must be a number (°C)")),
        };
        let meter = MeterType {
            serials,
            standard,
            class: class_static.to_string(),
            connection,
            constant,
            un,
            currents,
            elements,
            frequency,
            temperature,
        };

        // The reference.
        let (method, reference_constant, timer_tick_s) = match raw.reference {
            None => (ReferenceMethod::Energy, None, 1e-6),
            Some(r) => {
                let rspan = r.span();
                let r = r.into_inner();
                let method = match r.method {
                    None => None,
                    Some(mm) => Some(match mm.get_ref().as_str() {
                        "pulse-count" => ReferenceMethod::PulseCount,
                        "energy" => ReferenceMethod::Energy,
                        "time-power" => ReferenceMethod::TimePower,
                        other => {
                            return Err(cx.err(
                                mm.span(),
                                "reference.method",
                                format!(
                                    "unknown method {other:?}: pulse-count, energy or time-power"
                                ),
                            ))
                        }
                    }),
                };
                let constant = match r.constant {
                    None => None,
                    Some(c) if *c.get_ref() > 0.0 && c.get_ref().is_finite() => Some(*c.get_ref()),
                    Some(c) => {
                        return Err(cx.err(
                            c.span(),
                            "reference.constant",
                            "must be a positive number (imp/kWh)",
                        ))
                    }
                };
                let method = method.unwrap_or(if constant.is_some() {
                    ReferenceMethod::PulseCount
                } else {
                    ReferenceMethod::Energy
                });
                if method == ReferenceMethod::PulseCount && constant.is_none() {
                    return Err(cx.err(rspan, "reference.constant", "missing: the pulse-count method needs the reference standard's constant (imp/kWh)"));
                }
                let tick = match r.timer_tick {
                    None => 1e-6,
                    Some(t) if *t.get_ref() > 0.0 && *t.get_ref() < 1.0 => *t.get_ref(),
                    Some(t) => {
                        return Err(cx.err(
                            t.span(),
                            "reference.timer_tick",
                            "must be between 0 and 1 s",
                        ))
                    }
                };
                (method, constant, tick)
            }
        };

        if raw.points.is_empty() {
            return Err(cx.err(text.len()..text.len(), "point", "the plan has no [[point]]"));
        }
        // The meters' links: one URI per serial on the bench, checked as URIs now.
        let mut links = BTreeMap::new();
        let links_span = raw.links.as_ref().map(|l| l.span());
        if let Some(l) = raw.links {
            for (serial, uri) in l.into_inner() {
                let k = format!("links.{serial}");
                if !meter.serials.contains(&serial) {
                    return Err(cx.err(
                        uri.span(),
                        k,
                        format!("{serial:?} is not among meter.serials"),
                    ));
                }
                uri.get_ref()
                    .parse::<MeterUri>()
                    .map_err(|e| cx.err(uri.span(), k, e.to_string()))?;
                links.insert(serial, uri.into_inner());
            }
        }
        let mut points = Vec::with_capacity(raw.points.len());
        for (i, sp) in raw.points.into_iter().enumerate() {
            let index = i + 1;
            let pspan = sp.span();
            let line = cx.line(pspan.clone());
            let p = sp.into_inner();
            let key = |k: &str| format!("point[{index}].{k}");
            let kind_sp = p.kind.ok_or_else(|| {
                cx.err(
                    pspan.clone(),
                    key("kind"),
                    "missing: accuracy, starting or no-load",
                )
            })?;
            let kind_text = kind_sp.get_ref().trim().to_ascii_lowercase();
            // Keys a kind does not use are refused, not ignored.
            let unused = |present: bool, k: &str, span: Range<usize>| -> Result<(), PlanError> {
                if present {
                    Err(cx.err(span, key(k), format!("a {kind_text} point takes no {k}")))
                } else {
                    Ok(())
                }
            };
            let positive_duration = |d: &Spanned<f64>| -> Result<f64, PlanError> {
                let x = *d.get_ref();
                if x > 0.0 && x.is_finite() {
                    Ok(x)
                } else {
                    Err(cx.err(
                        d.span(),
                        key("duration"),
                        format!("impossible duration {x} s: must be positive"),
                    ))
                }
            };
            // The keys of register and function tests are refused on other kinds.
            let link_kind = matches!(kind_text.as_str(), "register" | "function");
            for (present, k) in [
                (p.register.is_some(), "register"),
                (p.obis.is_some(), "obis"),
                (p.expect.is_some(), "expect"),
                (p.tolerance.is_some(), "tolerance"),
                (p.unit.is_some(), "unit"),
            ] {
                if present && !link_kind {
                    unused(true, k, pspan.clone())?;
                }
            }
            // Register and function tests read through each meter's link: every serial
            // needs one, and exactly one of `register` or `obis` names what is read.
            let link_selector = || -> Result<Selector, PlanError> {
                for serial in &meter.serials {
                    if !links.contains_key(serial) {
                        return Err(cx.err(
                            links_span.clone().unwrap_or(pspan.clone()),
                            format!("links.{serial}"),
                            format!("missing: a {kind_text} test reads meter {serial:?} through its link (a meter URI)"),
                        ));
                    }
                }
                match (&p.register, &p.obis) {
                    (Some(r), None) => r
                        .get_ref()
                        .parse()
                        .map(Selector::Register)
                        .map_err(|e: pqe_link::LinkError| cx.err(r.span(), key("register"), e.to_string())),
                    (None, Some(o)) => o
                        .get_ref()
                        .parse()
                        .map(Selector::Obis)
                        .map_err(|e: pqe_link::LinkError| cx.err(o.span(), key("obis"), e.to_string())),
                    (Some(_), Some(o)) => Err(cx.err(o.span(), key("obis"), "give register or obis, not both")),
                    (None, None) => Err(cx.err(pspan.clone(), key("register"), "missing: the register (e.g. \"ir:0x156:f32\") or the OBIS code (e.g. \"1.8.0\") to read")),
                }
            };
            let kind = match kind_text.as_str() {
                "register" => {
                    let selector = link_selector()?;
                    unused(
                        p.pulses.is_some() || p.resolution.is_some(),
                        "pulses",
                        pspan.clone(),
                    )?;
                    unused(p.load.is_some(), "load", pspan.clone())?;
                    unused(
                        p.expect.is_some() || p.tolerance.is_some(),
                        "expect",
                        pspan.clone(),
                    )?;
                    let unit = p.unit.ok_or_else(|| {
                        cx.err(
                            pspan.clone(),
                            key("unit"),
                            "missing: the register's unit, kWh or Wh",
                        )
                    })?;
                    let kwh_per_unit = match unit.get_ref().trim() {
                        "kWh" | "kwh" => 1.0,
                        "Wh" | "wh" => 1e-3,
                        "MWh" => 1e3,
                        other => {
                            return Err(cx.err(
                                unit.span(),
                                key("unit"),
                                format!("{other:?}: kWh, Wh or MWh"),
                            ))
                        }
                    };
                    let cur = p.current.ok_or_else(|| {
                        cx.err(
                            pspan.clone(),
                            key("current"),
                            "missing: the test current (A, or e.g. \"Ib\")",
                        )
                    })?;
                    let current_a = resolve_current(cur.get_ref(), &meter)
                        .map_err(|m| cx.err(cur.span(), key("current"), m))?;
                    let (pf, pf_text) = match p.pf {
                        None => (PowerFactor::UNITY, "1".to_string()),
                        Some(s) => (
                            PowerFactor::parse(s.get_ref()).ok_or_else(|| {
                                cx.err(
                                    s.span(),
                                    key("pf"),
                                    format!(
                                        "{:?}: a power factor such as 1, 0.5L or 0.8C",
                                        s.get_ref()
                                    ),
                                )
                            })?,
                            s.get_ref().trim().to_string(),
                        ),
                    };
                    let d = p.duration.ok_or_else(|| {
                        cx.err(
                            pspan.clone(),
                            key("duration"),
                            "missing: how long the bench delivers energy (s)",
                        )
                    })?;
                    let duration_s = positive_duration(&d)?;
                    if !(duration_s <= MAX_POINT_S) {
                        return Err(cx.err(
                            d.span(),
                            key("duration"),
                            format!(
                                "impossible duration {duration_s} s: more than {} h",
                                MAX_POINT_S / 3600.0
                            ),
                        ));
                    }
                    let q = LimitQuery {
                        standard: meter.standard,
                        class: class_static,
                        connection: meter.connection,
                        currents: meter.currents,
                        current_a,
                        pf,
                        load: Load::Balanced,
                        temperature_c: meter.temperature,
                    };
                    let limit = limit_for(&q).map_err(|e| {
                        cx.err(pspan.clone(), key("current"), format!("unknown point: {e}"))
                    })?;
                    PointKind::Register {
                        selector,
                        kwh_per_unit,
                        current_a,
                        pf,
                        pf_text,
                        duration_s,
                        limit,
                    }
                }
                "function" => {
                    let selector = link_selector()?;
                    for (present, k) in [
                        (p.current.is_some(), "current"),
                        (p.pf.is_some(), "pf"),
                        (p.load.is_some(), "load"),
                        (p.pulses.is_some(), "pulses"),
                        (p.resolution.is_some(), "resolution"),
                        (p.duration.is_some(), "duration"),
                        (p.unit.is_some(), "unit"),
                    ] {
                        unused(present, k, pspan.clone())?;
                    }
                    let e = p.expect.ok_or_else(|| {
                        cx.err(pspan.clone(), key("expect"), "missing: the value expected")
                    })?;
                    let expect = *e.get_ref();
                    if !expect.is_finite() {
                        return Err(cx.err(e.span(), key("expect"), "must be a finite number"));
                    }
                    let tolerance = match p.tolerance {
                        None => 0.0,
                        Some(t) if *t.get_ref() >= 0.0 && t.get_ref().is_finite() => *t.get_ref(),
                        Some(t) => {
                            return Err(cx.err(t.span(), key("tolerance"), "must be a number ≥ 0"))
                        }
                    };
                    PointKind::Function {
                        selector,
                        expect,
                        tolerance,
                    }
                }
                "accuracy" => {
                    let cur = p.current.ok_or_else(|| {
                        cx.err(
                            pspan.clone(),
                            key("current"),
                            "missing: the test current (A, or e.g. \"0.1 Ib\")",
                        )
                    })?;
                    let current_a = resolve_current(cur.get_ref(), &meter)
                        .map_err(|m| cx.err(cur.span(), key("current"), m))?;
                    let (pf, pf_text) = match p.pf {
                        None => (PowerFactor::UNITY, "1".to_string()),
                        Some(s) => (
                            PowerFactor::parse(s.get_ref()).ok_or_else(|| {
                                cx.err(
                                    s.span(),
                                    key("pf"),
                                    format!(
                                        "{:?}: a power factor such as 1, 0.5L or 0.8C",
                                        s.get_ref()
                                    ),
                                )
                            })?,
                            s.get_ref().trim().to_string(),
                        ),
                    };
                    let (load, element) = match p.load {
                        None => (Load::Balanced, None),
                        Some(l) => match l.get_ref().trim().to_ascii_lowercase().as_str() {
                            "balanced" => (Load::Balanced, None),
                            e @ ("l1" | "l2" | "l3") if meter.elements == 3 => {
                                (Load::SinglePhase, Some(e[1..].parse().unwrap_or(1)))
                            }
                            other => {
                                return Err(cx.err(
                                    l.span(),
                                    key("load"),
                                    format!(
                                    "{other:?}: balanced, or L1, L2, L3 on a three-element meter"
                                ),
                                ))
                            }
                        },
                    };
                    let q = LimitQuery {
                        standard: meter.standard,
                        class: class_static,
                        connection: meter.connection,
                        currents: meter.currents,
                        current_a,
                        pf,
                        load,
                        temperature_c: meter.temperature,
                    };
                    let limit = limit_for(&q).map_err(|e| {
                        cx.err(pspan.clone(), key("current"), format!("unknown point: {e}"))
                    })?;
                    let loaded = if load == Load::Balanced {
                        meter.elements
                    } else {
                        1
                    };
                    let power = loaded as f64 * meter.un * current_a * pf.value;
                    let period = seconds_per_pulse(meter.constant, power)
                        .map_err(|e| cx.err(pspan.clone(), key("current"), e.to_string()))?;
                    let given = [
                        p.pulses.is_some(),
                        p.resolution.is_some(),
                        p.duration.is_some(),
                    ]
                    .iter()
                    .filter(|&&b| b)
                    .count();
                    if given > 1 {
                        return Err(cx.err(
                            pspan.clone(),
                            key("pulses"),
                            "give one of pulses, resolution or duration",
                        ));
                    }
                    let resolution_pulses = |res: f64| -> Result<u64, String> {
                        match (method, reference_constant) {
                            (ReferenceMethod::PulseCount, Some(kr)) => {
                                pulses_needed(res, meter.constant, kr).map_err(|e| e.to_string())
                            }
                            _ => {
                                // ±1 timer tick over the gate: N·period ≥ 100·tick/res.
                                if !(res > 0.0 && res.is_finite()) {
                                    return Err(format!(
                                        "resolution {res}: must be a positive number"
                                    ));
                                }
                                Ok(((100.0 * timer_tick_s / res / period).ceil() as u64).max(1))
                            }
                        }
                    };
                    let pulses = if let Some(n) = &p.pulses {
                        let v = *n.get_ref();
                        if v < 1 {
                            return Err(cx.err(
                                n.span(),
                                key("pulses"),
                                format!("{v}: needs at least one pulse"),
                            ));
                        }
                        v as u64
                    } else if let Some(r) = &p.resolution {
                        resolution_pulses(*r.get_ref())
                            .map_err(|m| cx.err(r.span(), key("resolution"), m))?
                    } else if let Some(d) = &p.duration {
                        let dur = positive_duration(d)?;
                        // The first pulse may come up to one period late; the gate needs N + 1.
                        let n = (dur / period).floor() as i64 - 1;
                        if n < 1 {
                            return Err(cx.err(d.span(), key("duration"), format!("impossible duration {dur} s: one pulse takes {period:.3} s at this point, so no gate of one pulse fits (at least {:.3} s)", 2.0 * period)));
                        }
                        n as u64
                    } else {
                        // Customary: resolution a tenth of the class limit.
                        resolution_pulses(limit.limit_percent / 10.0)
                            .map_err(|m| cx.err(pspan.clone(), key("resolution"), m))?
                    };
                    // The bench runs N + 1 pulse periods (and margin, see the runner): a gate
                    // that cannot end within a day is refused, not started.
                    let gate_s = (pulses as f64 + 1.0) * period;
                    if !(gate_s <= MAX_POINT_S) {
                        let (k, span) = match (&p.pulses, &p.resolution) {
                            (Some(n), _) => ("pulses", n.span()),
                            (_, Some(r)) => ("resolution", r.span()),
                            _ => ("current", pspan.clone()),
                        };
                        return Err(cx.err(span, key(k), format!("impossible duration: a gate of {pulses} pulses takes {:.1} h at this point (one pulse every {period:.3} s), more than {} h", gate_s / 3600.0, MAX_POINT_S / 3600.0)));
                    }
                    PointKind::Accuracy {
                        current_a,
                        pf,
                        pf_text,
                        load,
                        element,
                        pulses,
                        limit,
                    }
                }
                "starting" => {
                    unused(p.current.is_some(), "current", pspan.clone())?;
                    unused(p.pf.is_some(), "pf", pspan.clone())?;
                    unused(
                        p.pulses.is_some() || p.resolution.is_some(),
                        "pulses",
                        pspan.clone(),
                    )?;
                    let rule = starting_rule(
                        meter.standard,
                        class_static,
                        meter.connection,
                        &meter.currents,
                    )
                    .map_err(|e| cx.err(pspan.clone(), key("kind"), e.to_string()))?;
                    let mut window =
                        starting_window(meter.constant, meter.elements, meter.un, rule.current_a);
                    if let Some(d) = &p.duration {
                        let dur = positive_duration(d)?;
                        if dur < window.window_s {
                            return Err(cx.err(d.span(), key("duration"), format!("impossible duration {dur} s: the starting test needs {:.1} s (two pulses at Ist plus 20 %)", window.window_s)));
                        }
                        window.window_s = dur;
                    }
                    if !(window.window_s <= MAX_POINT_S) {
                        let (k, span) = match &p.duration {
                            Some(d) => ("duration", d.span()),
                            None => ("kind", pspan.clone()),
                        };
                        return Err(cx.err(span, key(k), format!("impossible duration: the starting test would take {:.1} h, more than {} h", window.window_s / 3600.0, MAX_POINT_S / 3600.0)));
                    }
                    PointKind::Starting { rule, window }
                }
                "no-load" | "noload" | "creep" => {
                    unused(p.current.is_some(), "current", pspan.clone())?;
                    unused(p.pf.is_some(), "pf", pspan.clone())?;
                    unused(
                        p.pulses.is_some() || p.resolution.is_some(),
                        "pulses",
                        pspan.clone(),
                    )?;
                    let planned = match &p.duration {
                        Some(d) => Some(positive_duration(d)?),
                        None => None,
                    };
                    let rule = no_load_rule(
                        meter.standard,
                        class_static,
                        meter.constant,
                        meter.elements,
                        meter.un,
                        meter.currents.imax,
                        planned,
                    )
                    .map_err(|e| {
                        let span = p
                            .duration
                            .as_ref()
                            .map(|d| d.span())
                            .unwrap_or(pspan.clone());
                        let k = if p.duration.is_some() {
                            "duration"
                        } else {
                            "kind"
                        };
                        cx.err(span, key(k), e.to_string())
                    })?;
                    if !(rule.duration_s <= MAX_POINT_S) {
                        let (k, span) = match &p.duration {
                            Some(d) => ("duration", d.span()),
                            None => ("kind", pspan.clone()),
                        };
                        return Err(cx.err(span, key(k), format!("impossible duration: the no-load test would take {:.1} h, more than {} h", rule.duration_s / 3600.0, MAX_POINT_S / 3600.0)));
                    }
                    PointKind::NoLoad { rule }
                }
                other => {
                    return Err(cx.err(
                        kind_sp.span(),
                        key("kind"),
                        format!("unknown point kind {other:?}: accuracy, starting, no-load, register or function"),
                    ));
                }
            };
            let name = p.name.unwrap_or_else(|| match &kind {
                PointKind::Accuracy {
                    current_a,
                    pf,
                    load,
                    element,
                    ..
                } => {
                    let l = match (load, element) {
                        (Load::SinglePhase, Some(e)) => format!(", L{e} only"),
                        _ => String::new(),
                    };
                    format!("accuracy {current_a} A, PF {pf}{l}")
                }
                PointKind::Starting { rule, .. } => format!("starting at {} A", rule.current_a),
                PointKind::NoLoad { rule } => format!("no-load at {} Un", rule.voltage_factor),
                PointKind::Register {
                    selector,
                    current_a,
                    pf,
                    duration_s,
                    ..
                } => {
                    format!("register {selector} over {duration_s} s at {current_a} A, PF {pf}")
                }
                PointKind::Function {
                    selector, expect, ..
                } => {
                    format!("function: {selector} = {expect}")
                }
            });
            points.push(Point {
                index,
                name,
                line,
                kind,
            });
        }
        Ok(Plan {
            name: raw.name.unwrap_or_else(|| default_name.to_string()),
            meter,
            method,
            reference_constant,
            timer_tick_s,
            points,
            links,
        })
    }
}

/// Amperes from a plan's `current`: a number, or "F BASE" / "BASE" with BASE one of Ib, Iref,
/// In, Itr, Imin, Imax, Ist.
fn resolve_current(c: &RawCurrent, meter: &MeterType) -> Result<f64, String> {
    let amps = match c {
        RawCurrent::Amperes(a) => *a,
        RawCurrent::Expr(s) => {
            let t = s.trim();
            let split = t
                .find(|ch: char| ch.is_ascii_alphabetic())
                .unwrap_or(t.len());
            let (num, base) = t.split_at(split);
            let factor = if num.trim().is_empty() {
                1.0
            } else {
                num.trim().trim_end_matches('*').trim().parse::<f64>().map_err(|_| format!("{s:?}: a current in A or a multiple of a named current, e.g. \"0.1 Ib\""))?
            };
            let cur = &meter.currents;
            let b = match base.trim().to_ascii_lowercase().as_str() {
                "ib" | "iref" => cur.ib.map(|v| ("Ib", v)),
                "in" => cur.i_n.map(|v| ("In", v)),
                "itr" => cur.itr.map(|v| ("Itr", v)),
                "imin" => cur.imin.map(|v| ("Imin", v)),
                "imax" => cur.imax.map(|v| ("Imax", v)),
                "ist" => cur.ist.map(|v| ("Ist", v)),
                "a" => Some(("A", 1.0)),
                other => {
                    return Err(format!(
                        "unknown current {other:?} in {s:?}: Ib, Iref, In, Itr, Imin, Imax or Ist"
                    ))
                }
            };
            let (_, v) =
                b.ok_or_else(|| format!("{s:?}: the [meter] table does not give {}", base.trim()))?;
            factor * v
        }
    };
    if amps > 0.0 && amps.is_finite() {
        Ok(amps)
    } else {
        Err(format!("{amps} A: the test current must be positive"))
    }
}
