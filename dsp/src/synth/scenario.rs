//! The scenario file: its TOML schema (every table and key), and the validation that turns it
//! into a [`Model`]. Every error names the key and its line; unknown keys are errors.

use super::emission::{
    EmissionKind, EmissionModel, Schedule, G1_BIT_RATE, G1_MARK_HZ, G1_SPACE_HZ,
    G3_CARRIER_SPACING_HZ, G3_CENELEC_A_CARRIERS, G3_PREFIX_SECONDS,
};
use super::feeder::{FeederModel, FeederSide, FeederStep};
use super::locate::KeyMap;
use super::model::{
    ChannelModel, Component, EventKind, EventModel, FlickerModel, FrequencyLaw, Jump, Model, Order,
    Ramp, Source, Wander,
};
use super::numeric::{parse_iso8601, C64};
use num_complex::Complex64;
use pqe_core::{ChannelSpec, Error, Location, NominalFrequency, Phase, Result, Timestamp, Wiring};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Default sample rate, Hz.
pub const DEFAULT_SAMPLE_RATE: f64 = 10_240.0;
/// Default duration, s.
pub const DEFAULT_DURATION: f64 = 10.0;
/// Default start of the recording.
pub const DEFAULT_START: &str = "2024-01-01T00:00:00Z";
/// Default fundamental load current, A RMS.
pub const DEFAULT_CURRENT: f64 = 10.0;
/// Largest number of samples per channel a scenario may ask for (2^40, about 3.4 years at
/// 10.24 kHz): far beyond any test, and small enough that sample indices stay exact.
pub const MAX_SAMPLES: u64 = 1 << 40;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    name: Option<String>,
    sample_rate: Option<f64>,
    duration: Option<f64>,
    start: Option<RawTime>,
    nominal_frequency: Option<f64>,
    udin: Option<f64>,
    wiring: Option<String>,
    channels: Option<Vec<String>>,
    seed: Option<i64>,
    #[serde(default)]
    frequency: RawFrequency,
    #[serde(default)]
    voltage: RawVoltage,
    #[serde(default)]
    current: RawCurrent,
    #[serde(default)]
    neutral: RawNeutral,
    #[serde(default)]
    noise: RawNoise,
    #[serde(default)]
    events: Vec<RawEvent>,
    #[serde(default)]
    flicker: Vec<RawFlicker>,
    #[serde(default)]
    phase_jump: Vec<RawJump>,
    #[serde(default)]
    emission: Vec<RawEmission>,
    feeder: Option<RawFeeder>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeeder {
    source_impedance: [f64; 2],
    line_impedance: Option<[f64; 2]>,
    #[serde(default)]
    steps: Vec<RawFeederStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeederStep {
    side: String,
    time: f64,
    duration: f64,
    impedance: [f64; 2],
    phases: Option<PhaseList>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrequency {
    offset: Option<f64>,
    #[serde(default)]
    ramp: Vec<RawRamp>,
    #[serde(default)]
    wander: Vec<RawWander>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRamp {
    start: f64,
    end: f64,
    rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWander {
    amplitude: f64,
    period: f64,
    phase: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoltage {
    magnitude: Option<PerPhase>,
    angle: Option<PerPhase>,
    u2: Option<f64>,
    u2_angle: Option<f64>,
    u0: Option<f64>,
    u0_angle: Option<f64>,
    #[serde(default)]
    harmonics: Vec<RawComponent>,
    #[serde(default)]
    interharmonics: Vec<RawComponent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurrent {
    magnitude: Option<PerPhase>,
    power_factor: Option<PerPhase>,
    leading: Option<bool>,
    displacement: Option<PerPhase>,
    follow_voltage: Option<bool>,
    #[serde(default)]
    harmonics: Vec<RawComponent>,
    #[serde(default)]
    interharmonics: Vec<RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    order: Option<f64>,
    frequency: Option<f64>,
    magnitude: PerPhase,
    phase: Option<PerPhase>,
    phases: Option<PhaseList>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeutral {
    voltage: Option<f64>,
    angle: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    voltage_db: Option<f64>,
    voltage_rms: Option<f64>,
    current_db: Option<f64>,
    current_rms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    kind: String,
    start: f64,
    duration: f64,
    residual: Option<f64>,
    phases: Option<PhaseList>,
    point_on_wave: Option<f64>,
    ramp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlicker {
    shape: Option<String>,
    depth: f64,
    rate: Option<f64>,
    changes_per_minute: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
    phases: Option<PhaseList>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmission {
    kind: String,
    level: Option<f64>,
    level_dbuv: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
    burst: Option<f64>,
    period: Option<f64>,
    phases: Option<PhaseList>,
    seed: Option<i64>,
    carriers: Option<Vec<u32>>,
    space: Option<f64>,
    mark: Option<f64>,
    bit_rate: Option<f64>,
    frequency: Option<f64>,
    sidebands: Option<Vec<f64>>,
    sideband_spacing: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJump {
    time: f64,
    angle: f64,
    phases: Option<PhaseList>,
}

/// A start time: an ISO 8601 string or a TOML date-time literal.
#[derive(Debug)]
struct RawTime(String);

impl<'de> Deserialize<'de> for RawTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Toml(toml::value::Datetime),
        }
        match Either::deserialize(d) {
            Ok(Either::Text(s)) => Ok(RawTime(s)),
            Ok(Either::Toml(t)) => Ok(RawTime(t.to_string())),
            Err(_) => Err(de::Error::custom(
                "expected an ISO 8601 date and time, e.g. \"2024-01-01T00:00:00Z\"",
            )),
        }
    }
}

/// A value for every phase: one number for all, or one per phase `[A, B, C]`.
#[derive(Debug, Clone)]
struct PerPhase(Vec<f64>);

impl<'de> Deserialize<'de> for PerPhase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PerPhase;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an array of one number per phase [A, B, C]")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<PerPhase, E> {
                Ok(PerPhase(vec![v]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<PerPhase, E> {
                Ok(PerPhase(vec![v as f64]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<PerPhase, E> {
                Ok(PerPhase(vec![v as f64]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<PerPhase, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<f64>()? {
                    v.push(x);
                }
                if v.len() != 1 && v.len() != 3 {
                    return Err(de::Error::custom(format!(
                        "expected one value or one per phase [A, B, C], found {}",
                        v.len()
                    )));
                }
                Ok(PerPhase(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A set of phases: `"all"`, `"A"`, or an array such as `["A", "C"]` (`L1`… also accepted).
#[derive(Debug, Clone)]
struct PhaseList([bool; 3]);

impl<'de> Deserialize<'de> for PhaseList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        fn one<E: de::Error>(s: &str, set: &mut [bool; 3]) -> std::result::Result<(), E> {
            if s.trim().eq_ignore_ascii_case("all") {
                *set = [true; 3];
                return Ok(());
            }
            match Phase::parse_lenient(s) {
                Some(Phase::A) => set[0] = true,
                Some(Phase::B) => set[1] = true,
                Some(Phase::C) => set[2] = true,
                _ => {
                    return Err(E::custom(format!(
                        "unknown phase '{s}' (A, B, C or \"all\")"
                    )))
                }
            }
            Ok(())
        }
        impl<'de> Visitor<'de> for V {
            type Value = PhaseList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"all\", a phase name or an array of phase names")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<PhaseList, E> {
                let mut set = [false; 3];
                one::<E>(s, &mut set)?;
                Ok(PhaseList(set))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<PhaseList, A::Error> {
                let mut set = [false; 3];
                while let Some(s) = a.next_element::<String>()? {
                    one::<A::Error>(&s, &mut set)?;
                }
                if set == [false; 3] {
                    return Err(de::Error::custom("the phase list is empty"));
                }
                Ok(PhaseList(set))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse and validate a scenario. `origin` names the text in error messages (a file name).
pub(crate) fn parse(text: &str, origin: &str) -> Result<Model> {
    let map = KeyMap::new(text);
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let (line, path) = match e.span() {
            Some(span) => {
                let (line, path) = map.at_offset(span.start);
                (Some(line), path)
            }
            None => (None, None),
        };
        let mut loc = Location::file(origin);
        if let Some(l) = line {
            loc = loc.at_line(l);
        }
        if let Some(p) = path {
            loc = loc.field(p);
        }
        Error::format(loc, e.message().trim().to_string())
    })?;
    Checker { map, origin }.build(raw)
}

/// Validation with the knowledge of where each key is.
struct Checker<'a> {
    map: KeyMap,
    origin: &'a str,
}

impl Checker<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> Error {
        let mut loc = Location::file(self.origin).field(path);
        if let Some(line) = self.map.line_of(path) {
            loc = loc.at_line(line);
        }
        Error::format(loc, message)
    }

    /// `value` must be finite and satisfy `ok`; `what` says which range is allowed.
    fn check(&self, path: &str, value: f64, ok: bool, what: &str) -> Result<f64> {
        if value.is_finite() && ok {
            Ok(value)
        } else {
            Err(self.err(path, format!("must be {what}, not {value}")))
        }
    }

    fn per_phase(&self, path: &str, v: &PerPhase, n_phases: usize) -> Result<[f64; 3]> {
        match (v.0.len(), n_phases) {
            (1, _) => Ok([v.0[0]; 3]),
            (3, 3) => Ok([v.0[0], v.0[1], v.0[2]]),
            _ => Err(self.err(
                path,
                "single-phase wiring takes one value, not one per phase",
            )),
        }
    }

    fn phases(&self, path: &str, p: &Option<PhaseList>, n_phases: usize) -> Result<[bool; 3]> {
        match p {
            None if n_phases == 1 => Ok([true, false, false]),
            None => Ok([true; 3]),
            Some(PhaseList(set)) if n_phases == 1 => {
                if set[1] || set[2] {
                    Err(self.err(path, "single-phase wiring has only phase A"))
                } else {
                    Ok([true, false, false])
                }
            }
            Some(PhaseList(set)) => Ok(*set),
        }
    }

    fn build(&self, raw: RawScenario) -> Result<Model> {
        // ---- recording ----
        let fs = raw.sample_rate.unwrap_or(DEFAULT_SAMPLE_RATE);
        let fs = self.check(
            "sample_rate",
            fs,
            fs > 0.0 && fs <= 1e8,
            "a rate in (0, 1e8] Hz",
        )?;
        let duration = raw.duration.unwrap_or(DEFAULT_DURATION);
        let duration = self.check("duration", duration, duration > 0.0, "a positive time in s")?;
        let n_total = (duration * fs).round();
        if n_total < 1.0 || n_total > MAX_SAMPLES as f64 {
            return Err(self.err(
                "duration",
                format!(
                    "gives {n_total} samples at {fs} Hz; between 1 and {MAX_SAMPLES} are allowed"
                ),
            ));
        }
        let n_total = n_total as u64;
        let start_text = raw
            .start
            .as_ref()
            .map_or(DEFAULT_START.to_string(), |t| t.0.clone());
        let start = parse_iso8601(&start_text)
            .map(Timestamp::from_nanos)
            .map_err(|m| self.err("start", m))?;
        let nominal = match raw.nominal_frequency {
            None => NominalFrequency::Hz50,
            Some(f) => NominalFrequency::from_hz(f).map_err(|_| {
                self.err("nominal_frequency", format!("must be 50 or 60 Hz, not {f}"))
            })?,
        };
        let f_nom = nominal.hz();
        let udin = raw.udin.unwrap_or(230.0);
        let udin = self.check("udin", udin, udin > 0.0, "a positive voltage in V")?;
        let wiring = match &raw.wiring {
            None => Wiring::Wye,
            Some(w) => w.parse::<Wiring>().map_err(|_| {
                self.err("wiring", format!("must be wye, delta or single, not '{w}'"))
            })?,
        };
        let n_phases = if wiring == Wiring::Single { 1 } else { 3 };
        let seed = match raw.seed {
            None => 0,
            Some(s) if s >= 0 => s as u64,
            Some(s) => return Err(self.err("seed", format!("must be ≥ 0, not {s}"))),
        };
        let time_in_recording = |path: &str, t: f64| {
            self.check(
                path,
                t,
                (0.0..duration).contains(&t),
                &format!("a time in [0, {duration}) s"),
            )
        };

        // ---- frequency law ----
        let offset = raw.frequency.offset.unwrap_or(0.0);
        let offset = self.check(
            "frequency.offset",
            offset,
            offset.abs() < f_nom / 2.0,
            &format!("an offset within ±{} Hz", f_nom / 2.0),
        )?;
        let mut ramps = Vec::new();
        for (k, r) in raw.frequency.ramp.iter().enumerate() {
            let p = format!("frequency.ramp[{k}]");
            let t0 = self.check(
                &format!("{p}.start"),
                r.start,
                r.start >= 0.0,
                "a time ≥ 0 s",
            )?;
            let t1 = self.check(&format!("{p}.end"), r.end, r.end > t0, "a time after start")?;
            let rate = self.check(&format!("{p}.rate"), r.rate, true, "a rate in Hz/s")?;
            ramps.push(Ramp { t0, t1, rate });
        }
        let mut wanders = Vec::new();
        for (k, w) in raw.frequency.wander.iter().enumerate() {
            let p = format!("frequency.wander[{k}]");
            let amp = self.check(
                &format!("{p}.amplitude"),
                w.amplitude,
                w.amplitude >= 0.0,
                "≥ 0 Hz",
            )?;
            let period = self.check(
                &format!("{p}.period"),
                w.period,
                w.period > 0.0,
                "a positive time in s",
            )?;
            let ph = w.phase.unwrap_or(0.0);
            let ph = self.check(&format!("{p}.phase"), ph, true, "an angle in degrees")?;
            wanders.push(Wander::new(amp, period, ph / 360.0));
        }
        let law = FrequencyLaw::new(f_nom + offset, fs, ramps, wanders);
        let (f_lo, f_hi) = law.bounds();
        if f_lo < 0.5 * f_nom || f_hi > 1.5 * f_nom {
            return Err(self.err(
                "frequency",
                format!(
                    "the frequency law spans {f_lo:.4}…{f_hi:.4} Hz; it must stay within {}…{} Hz",
                    0.5 * f_nom,
                    1.5 * f_nom
                ),
            ));
        }

        // ---- voltage ----
        let v = &raw.voltage;
        let default_mag = if wiring == Wiring::Delta {
            udin / 3f64.sqrt()
        } else {
            udin
        };
        let mag = match &v.magnitude {
            None => [default_mag; 3],
            Some(m) => self.per_phase("voltage.magnitude", m, n_phases)?,
        };
        for (k, m) in mag.iter().enumerate().take(n_phases) {
            self.check(
                &format!("voltage.magnitude[{k}]"),
                *m,
                *m >= 0.0,
                "a voltage ≥ 0 V",
            )?;
        }
        let ang = match &v.angle {
            None => [0.0; 3],
            Some(a) => self.per_phase("voltage.angle", a, n_phases)?,
        };
        for (k, a) in ang.iter().enumerate().take(n_phases) {
            self.check(
                &format!("voltage.angle[{k}]"),
                *a,
                a.abs() <= 360.0,
                "an angle within ±360°",
            )?;
        }
        let mut v_mag = [0.0; 3];
        let mut v_angle = [0.0; 3];
        let nominal_angle = [0.0, -1.0 / 3.0, 1.0 / 3.0];
        let u2 = v.u2.unwrap_or(0.0);
        let u0 = v.u0.unwrap_or(0.0);
        self.check(
            "voltage.u2",
            u2,
            (0.0..=100.0).contains(&u2),
            "a percentage in [0, 100]",
        )?;
        self.check(
            "voltage.u0",
            u0,
            (0.0..=100.0).contains(&u0),
            "a percentage in [0, 100]",
        )?;
        let u2_angle = self.check(
            "voltage.u2_angle",
            v.u2_angle.unwrap_or(0.0),
            true,
            "an angle in degrees",
        )?;
        let u0_angle = self.check(
            "voltage.u0_angle",
            v.u0_angle.unwrap_or(0.0),
            true,
            "an angle in degrees",
        )?;
        if u2 > 0.0 || u0 > 0.0 {
            let key = if u2 > 0.0 { "voltage.u2" } else { "voltage.u0" };
            if n_phases == 1 {
                return Err(self.err(key, "unbalance needs three phases"));
            }
            if mag[1] != mag[0] || mag[2] != mag[0] || ang != [0.0; 3] {
                return Err(self.err(
                    key,
                    "give unbalance either as u2/u0 or as per-phase magnitude and angle, not both",
                ));
            }
            let u1 = mag[0];
            for p in 0..3 {
                let pos = C64::polar_cycles(u1, nominal_angle[p]);
                let neg = C64::polar_cycles(u1 * u2 / 100.0, u2_angle / 360.0 - nominal_angle[p]);
                let zero = C64::polar_cycles(u1 * u0 / 100.0, u0_angle / 360.0);
                let ph = pos.add(neg).add(zero);
                v_mag[p] = ph.abs();
                v_angle[p] = ph.arg() / std::f64::consts::TAU;
            }
        } else {
            for p in 0..n_phases {
                v_mag[p] = mag[p];
                v_angle[p] = nominal_angle[p] + ang[p] / 360.0;
            }
        }

        let nyquist = fs / 2.0;
        let mut v_comps = Vec::new();
        for (key, list) in [
            ("voltage.harmonics", &v.harmonics),
            ("voltage.interharmonics", &v.interharmonics),
        ] {
            for (k, c) in list.iter().enumerate() {
                v_comps.push(self.component(&format!("{key}[{k}]"), c, n_phases, f_hi, nyquist)?);
            }
        }

        // ---- current ----
        let c = &raw.current;
        let i_mag = match &c.magnitude {
            None => [DEFAULT_CURRENT; 3],
            Some(m) => self.per_phase("current.magnitude", m, n_phases)?,
        };
        for (k, m) in i_mag.iter().enumerate().take(n_phases) {
            self.check(
                &format!("current.magnitude[{k}]"),
                *m,
                *m >= 0.0,
                "a current ≥ 0 A",
            )?;
        }
        let i_disp = match (&c.power_factor, &c.displacement) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    "current.displacement",
                    "give either power_factor or displacement, not both",
                ))
            }
            (Some(pf), None) => {
                let pf = self.per_phase("current.power_factor", pf, n_phases)?;
                let lead = c.leading.unwrap_or(false);
                let mut d = [0.0; 3];
                for p in 0..n_phases {
                    self.check(
                        &format!("current.power_factor[{p}]"),
                        pf[p],
                        pf[p] > 0.0 && pf[p] <= 1.0,
                        "a power factor in (0, 1]",
                    )?;
                    let phi = pf[p].acos() / std::f64::consts::TAU;
                    d[p] = if lead { -phi } else { phi };
                }
                d
            }
            (None, Some(dd)) => {
                if c.leading.is_some() {
                    return Err(self.err(
                        "current.leading",
                        "applies to power_factor only; give a negative displacement for a leading current",
                    ));
                }
                let dd = self.per_phase("current.displacement", dd, n_phases)?;
                for (p, x) in dd.iter().enumerate().take(n_phases) {
                    self.check(
                        &format!("current.displacement[{p}]"),
                        *x,
                        x.abs() <= 180.0,
                        "an angle within ±180°",
                    )?;
                }
                dd.map(|x| x / 360.0)
            }
            (None, None) => {
                if c.leading.is_some() {
                    return Err(self.err("current.leading", "applies to power_factor only"));
                }
                [0.0; 3]
            }
        };
        let mut i_comps = Vec::new();
        for (key, list) in [
            ("current.harmonics", &c.harmonics),
            ("current.interharmonics", &c.interharmonics),
        ] {
            for (k, comp) in list.iter().enumerate() {
                i_comps.push(self.component(
                    &format!("{key}[{k}]"),
                    comp,
                    n_phases,
                    f_hi,
                    nyquist,
                )?);
            }
        }
        let follow_voltage = c.follow_voltage.unwrap_or(true);

        // ---- neutral ----
        let n_v = raw.neutral.voltage.unwrap_or(0.0);
        let n_v = self.check("neutral.voltage", n_v, n_v >= 0.0, "a voltage ≥ 0 V")?;
        let n_a = self.check(
            "neutral.angle",
            raw.neutral.angle.unwrap_or(0.0),
            true,
            "an angle in degrees",
        )?;

        // ---- phase jumps ----
        let mut jumps = Vec::new();
        for (k, j) in raw.phase_jump.iter().enumerate() {
            let p = format!("phase_jump[{k}]");
            let t = time_in_recording(&format!("{p}.time"), j.time)?;
            let a = self.check(
                &format!("{p}.angle"),
                j.angle,
                j.angle.abs() <= 180.0,
                "an angle within ±180°",
            )?;
            let mask = self.phases(&format!("{p}.phases"), &j.phases, n_phases)?;
            let mut shift = [0.0; 3];
            for q in 0..3 {
                if mask[q] {
                    shift[q] = a / 360.0;
                }
            }
            jumps.push(Jump { t, shift });
        }
        jumps.sort_by(|a, b| a.t.total_cmp(&b.t));

        // ---- flicker ----
        let mut flicker = Vec::new();
        for (k, f) in raw.flicker.iter().enumerate() {
            let p = format!("flicker[{k}]");
            let square = match f.shape.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
                None => false,
                Some(s) if s == "sine" || s == "sinusoidal" => false,
                Some(s) if s == "square" || s == "rectangular" => true,
                Some(s) => {
                    return Err(self.err(
                        &format!("{p}.shape"),
                        format!("must be \"sine\" or \"rectangular\", not '{s}'"),
                    ))
                }
            };
            let depth = self.check(
                &format!("{p}.depth"),
                f.depth,
                f.depth > 0.0 && f.depth <= 100.0,
                "a ΔV/V in (0, 100] %",
            )?;
            let rate = match (f.rate, f.changes_per_minute) {
                (Some(r), None) => self.check(
                    &format!("{p}.rate"),
                    r,
                    r > 0.0 && r < f_nom,
                    &format!("a rate in (0, {f_nom}) Hz"),
                )?,
                (None, Some(cpm)) => {
                    self.check(
                        &format!("{p}.changes_per_minute"),
                        cpm,
                        cpm > 0.0 && cpm < 120.0 * f_nom,
                        "a positive number of changes per minute",
                    )? / 120.0
                }
                _ => {
                    return Err(self.err(&p, "give exactly one of rate (Hz) and changes_per_minute"))
                }
            };
            let t0 = f.start.unwrap_or(0.0);
            let t0 = time_in_recording(&format!("{p}.start"), t0)?;
            let t1 = f.end.unwrap_or(duration);
            let t1 = self.check(&format!("{p}.end"), t1, t1 > t0, "a time after start")?;
            let mask = self.phases(&format!("{p}.phases"), &f.phases, n_phases)?;
            flicker.push(FlickerModel {
                t0,
                t1,
                rate,
                half_depth: depth / 200.0,
                square,
                mask,
            });
        }

        // ---- emission above the harmonic range ----
        let mut emissions = Vec::new();
        for (k, e) in raw.emission.iter().enumerate() {
            emissions.push(self.emission(
                &format!("emission[{k}]"),
                e,
                fs,
                duration,
                f_nom,
                n_phases,
                seed,
            )?);
        }

        // ---- events ----
        let mut events = Vec::new();
        for (k, e) in raw.events.iter().enumerate() {
            let p = format!("events[{k}]");
            let kind = match e.kind.trim().to_ascii_lowercase().as_str() {
                "dip" | "sag" => EventKind::Dip,
                "swell" => EventKind::Swell,
                "interruption" => EventKind::Interruption,
                other => {
                    return Err(self.err(
                        &format!("{p}.kind"),
                        format!("must be dip, swell or interruption, not '{other}'"),
                    ))
                }
            };
            let t_req = time_in_recording(&format!("{p}.start"), e.start)?;
            let dur = self.check(
                &format!("{p}.duration"),
                e.duration,
                e.duration > 0.0,
                "a positive time in s",
            )?;
            let rp = format!("{p}.residual");
            let residual = match (kind, e.residual) {
                (EventKind::Interruption, None) => 0.0,
                (EventKind::Interruption, Some(r)) => self.check(
                    &rp,
                    r,
                    (0.0..10.0).contains(&r),
                    "a residual in [0, 10) % for an interruption",
                )?,
                (EventKind::Dip, Some(r)) => self.check(
                    &rp,
                    r,
                    (0.0..100.0).contains(&r),
                    "a residual in [0, 100) % for a dip",
                )?,
                (EventKind::Swell, Some(r)) => self.check(
                    &rp,
                    r,
                    r > 100.0 && r <= 200.0,
                    "a residual in (100, 200] % for a swell",
                )?,
                (_, None) => return Err(self.err(&p, "a dip or swell needs residual (%)")),
            };
            let ramp = e.ramp.unwrap_or(0.0);
            let ramp = self.check(
                &format!("{p}.ramp"),
                ramp,
                ramp >= 0.0 && ramp <= dur,
                "a time in [0, duration] s",
            )?;
            let pow = match e.point_on_wave {
                None => None,
                Some(a) => Some(self.check(
                    &format!("{p}.point_on_wave"),
                    a,
                    (0.0..360.0).contains(&a),
                    "an angle in [0, 360)°",
                )?),
            };
            let mask = self.phases(&format!("{p}.phases"), &e.phases, n_phases)?;
            events.push(EventModel {
                kind,
                requested_start: t_req,
                t_s: t_req,
                t_e: t_req + dur,
                duration: dur,
                ramp,
                residual: residual / 100.0,
                residual_percent: residual,
                mask,
                point_on_wave: pow,
            });
        }

        // ---- feeder ----
        let feeder = match &raw.feeder {
            None => None,
            Some(f) => {
                if !raw.events.is_empty() || !raw.flicker.is_empty() {
                    return Err(self.err(
                        "feeder",
                        "a feeder makes its own disturbances with its steps: give no \
                         [[events]] or [[flicker]] with it",
                    ));
                }
                let impedance = |path: &str, z: [f64; 2], shunt: bool| -> Result<Complex64> {
                    let line = path == "feeder.line_impedance";
                    let ok = z.iter().all(|x| x.is_finite())
                        && z[0] >= 0.0
                        && (line || z[0] > 0.0 || z[1] != 0.0)
                        && (shunt || z[1] >= 0.0);
                    if ok {
                        Ok(Complex64::new(z[0], z[1]))
                    } else {
                        let what = if shunt {
                            "[R, X] in Ω with R ≥ 0 and not both zero (X < 0: a capacitor)"
                        } else if line {
                            "[R, X] in Ω with R ≥ 0, X ≥ 0"
                        } else {
                            "[R, X] in Ω with R ≥ 0, X ≥ 0, not both zero"
                        };
                        Err(self.err(path, format!("must be {what}, not {z:?}")))
                    }
                };
                let source = impedance("feeder.source_impedance", f.source_impedance, false)?;
                let line = match f.line_impedance {
                    Some(z) => impedance("feeder.line_impedance", z, false)?,
                    None => Complex64::new(0.0, 0.0),
                };
                let mut steps = Vec::new();
                for (k, st) in f.steps.iter().enumerate() {
                    let p = format!("feeder.steps[{k}]");
                    let side = match st.side.trim().to_ascii_lowercase().as_str() {
                        "upstream" => FeederSide::Upstream,
                        "downstream" => FeederSide::Downstream,
                        other => {
                            return Err(self.err(
                                &format!("{p}.side"),
                                format!("must be upstream or downstream, not '{other}'"),
                            ))
                        }
                    };
                    let t0 = time_in_recording(&format!("{p}.time"), st.time)?;
                    let dur = self.check(
                        &format!("{p}.duration"),
                        st.duration,
                        st.duration > 0.0,
                        "a positive time in s",
                    )?;
                    steps.push(FeederStep {
                        side,
                        t0,
                        t1: t0 + dur,
                        mask: self.phases(&format!("{p}.phases"), &st.phases, n_phases)?,
                        impedance: impedance(&format!("{p}.impedance"), st.impedance, true)?,
                    });
                }
                let v: Vec<Complex64> = (0..n_phases)
                    .map(|p| Complex64::from_polar(v_mag[p], std::f64::consts::TAU * v_angle[p]))
                    .collect();
                let i: Vec<Complex64> = (0..n_phases)
                    .map(|p| {
                        let a = std::f64::consts::TAU * (v_angle[p] - i_disp[p]);
                        Complex64::from_polar(i_mag[p], a)
                    })
                    .collect();
                Some(FeederModel::new(source, line, steps, &v, &i))
            }
        };

        // ---- noise ----
        let nz = &raw.noise;
        let i_ref = i_mag[..n_phases].iter().sum::<f64>() / n_phases as f64;
        let sigma =
            |db: Option<f64>, rms: Option<f64>, kind: &str, reference: f64| -> Result<f64> {
                match (db, rms) {
                    (Some(_), Some(_)) => Err(self.err(
                        &format!("noise.{kind}_rms"),
                        format!("give either {kind}_db or {kind}_rms, not both"),
                    )),
                    (Some(d), None) => {
                        let d =
                            self.check(&format!("noise.{kind}_db"), d, d <= 0.0, "a level ≤ 0 dB")?;
                        Ok(reference * 10f64.powf(d / 20.0))
                    }
                    (None, Some(r)) => {
                        self.check(&format!("noise.{kind}_rms"), r, r >= 0.0, "an RMS ≥ 0")
                    }
                    (None, None) => Ok(0.0),
                }
            };
        let sigma_v = sigma(nz.voltage_db, nz.voltage_rms, "voltage", udin)?;
        let sigma_i = sigma(nz.current_db, nz.current_rms, "current", i_ref)?;

        // ---- channels ----
        let names: Vec<String> = match &raw.channels {
            Some(c) => c.clone(),
            None => match wiring {
                Wiring::Wye => ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
                    .map(String::from)
                    .to_vec(),
                Wiring::Delta => ["U_AB", "U_BC", "U_CA", "I_A", "I_B", "I_C"]
                    .map(String::from)
                    .to_vec(),
                Wiring::Single => ["U_A", "I_A"].map(String::from).to_vec(),
            },
        };
        if names.is_empty() {
            return Err(self.err("channels", "at least one channel is needed"));
        }
        let mut channels = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let path = format!("channels[{k}]");
            if names[..k].contains(name) {
                return Err(self.err(&path, format!("'{name}' is listed twice")));
            }
            let source = channel_source(name, wiring).ok_or_else(|| {
                self.err(
                    &path,
                    format!(
                        "'{name}' is not a channel of {wiring} wiring ({})",
                        allowed_channels(wiring).join(", ")
                    ),
                )
            })?;
            let (unit, phase, sigma) = match source {
                Source::Voltage(p) => ("V", [Phase::A, Phase::B, Phase::C][p], sigma_v),
                Source::LineVoltage(p, _) => ("V", [Phase::AB, Phase::BC, Phase::CA][p], sigma_v),
                Source::NeutralVoltage => ("V", Phase::N, sigma_v),
                Source::Current(p) => ("A", [Phase::A, Phase::B, Phase::C][p], sigma_i),
                Source::NeutralCurrent => ("A", Phase::N, sigma_i),
            };
            channels.push(ChannelModel {
                spec: ChannelSpec::new(name.clone(), unit).with_phase(phase),
                source,
                sigma,
            });
        }

        Model::new(Model {
            name: raw.name.clone().unwrap_or_else(|| "synthetic".to_string()),
            fs,
            duration,
            n_total,
            start,
            nominal,
            udin,
            wiring,
            seed,
            n_phases,
            law,
            v_mag,
            v_angle,
            i_mag,
            i_disp,
            v_comps,
            i_comps,
            jumps,
            events,
            flicker,
            emissions,
            feeder,
            follow_voltage,
            neutral: (n_v, n_a / 360.0),
            channels,
            segments: Vec::new(),
            carriers: Vec::new(),
            max_order: 1,
        })
    }

    /// One `[[emission]]` table: a PLC signal or converter emission.
    #[allow(clippy::too_many_arguments)]
    fn emission(
        &self,
        p: &str,
        e: &RawEmission,
        fs: f64,
        duration: f64,
        f_nom: f64,
        n_phases: usize,
        scenario_seed: u64,
    ) -> Result<EmissionModel> {
        let kind_name = e.kind.trim().to_ascii_lowercase();
        let unused = |key: &str, given: bool| -> Result<()> {
            if given {
                Err(self.err(
                    &format!("{p}.{key}"),
                    format!("does not apply to kind \"{kind_name}\""),
                ))
            } else {
                Ok(())
            }
        };
        let kind = match kind_name.as_str() {
            "g3" | "g3-plc" | "ofdm" => {
                unused("space", e.space.is_some())?;
                unused("mark", e.mark.is_some())?;
                unused("bit_rate", e.bit_rate.is_some())?;
                unused("frequency", e.frequency.is_some())?;
                unused("sidebands", e.sidebands.is_some())?;
                unused("sideband_spacing", e.sideband_spacing.is_some())?;
                let (lo, hi) = match e.carriers.as_deref() {
                    None => G3_CENELEC_A_CARRIERS,
                    Some([lo, hi]) if lo <= hi && *lo >= 1 => (*lo, *hi),
                    Some(_) => return Err(self.err(
                        &format!("{p}.carriers"),
                        "must be [first, last] carrier indices (1.5625 kHz apart), first ≤ last",
                    )),
                };
                EmissionKind::Ofdm {
                    carriers: (lo..=hi)
                        .map(|k| k as f64 * G3_CARRIER_SPACING_HZ)
                        .collect(),
                    body: 1.0 / G3_CARRIER_SPACING_HZ,
                    prefix: G3_PREFIX_SECONDS,
                }
            }
            "sfsk" | "s-fsk" | "g1" => {
                unused("carriers", e.carriers.is_some())?;
                unused("frequency", e.frequency.is_some())?;
                unused("sidebands", e.sidebands.is_some())?;
                unused("sideband_spacing", e.sideband_spacing.is_some())?;
                let space = e.space.unwrap_or(G1_SPACE_HZ);
                let space = self.check(
                    &format!("{p}.space"),
                    space,
                    space > 0.0,
                    "a positive frequency in Hz",
                )?;
                let mark = e.mark.unwrap_or(G1_MARK_HZ);
                let mark = self.check(
                    &format!("{p}.mark"),
                    mark,
                    mark > 0.0 && mark != space,
                    "a positive frequency in Hz other than space",
                )?;
                let bit_rate = e.bit_rate.unwrap_or(G1_BIT_RATE);
                let bit_rate = self.check(
                    &format!("{p}.bit_rate"),
                    bit_rate,
                    bit_rate > 0.0,
                    "a positive rate in bit/s",
                )?;
                EmissionKind::Sfsk {
                    space,
                    mark,
                    bit_rate,
                }
            }
            "converter" => {
                unused("carriers", e.carriers.is_some())?;
                unused("space", e.space.is_some())?;
                unused("mark", e.mark.is_some())?;
                unused("bit_rate", e.bit_rate.is_some())?;
                let frequency = e.frequency.ok_or_else(|| {
                    self.err(p, "a converter emission needs its switching frequency (Hz)")
                })?;
                let frequency = self.check(
                    &format!("{p}.frequency"),
                    frequency,
                    frequency > 0.0,
                    "a positive frequency in Hz",
                )?;
                let spacing = e.sideband_spacing.unwrap_or(2.0 * f_nom);
                let spacing = self.check(
                    &format!("{p}.sideband_spacing"),
                    spacing,
                    spacing > 0.0,
                    "a positive frequency in Hz",
                )?;
                let sidebands = e.sidebands.clone().unwrap_or_default();
                for (j, r) in sidebands.iter().enumerate() {
                    self.check(
                        &format!("{p}.sidebands"),
                        *r,
                        *r >= 0.0,
                        &format!("relative amplitudes ≥ 0 (item {j})"),
                    )?;
                }
                if frequency - spacing * sidebands.len() as f64 <= 0.0 {
                    return Err(self.err(
                        &format!("{p}.sidebands"),
                        "the lowest sideband would fall at or below 0 Hz",
                    ));
                }
                EmissionKind::Converter {
                    frequency,
                    spacing,
                    sidebands,
                }
            }
            other => {
                return Err(self.err(
                    &format!("{p}.kind"),
                    format!("must be \"g3\", \"sfsk\" or \"converter\", not '{other}'"),
                ))
            }
        };
        let (_, top) = kind.span();
        if top >= fs / 2.0 {
            return Err(self.err(
                &format!("{p}.kind"),
                format!(
                    "reaches {top} Hz, at or above half the sample rate ({} Hz): raise sample_rate",
                    fs / 2.0
                ),
            ));
        }
        let level = match (e.level, e.level_dbuv) {
            (Some(v), None) => self.check(
                &format!("{p}.level"),
                v,
                v > 0.0,
                "a positive RMS voltage in V",
            )?,
            (None, Some(db)) => {
                self.check(
                    &format!("{p}.level_dbuv"),
                    db,
                    db.is_finite(),
                    "a level in dBµV",
                )?;
                10f64.powf((db - 120.0) / 20.0)
            }
            _ => return Err(self.err(p, "give exactly one of level (V RMS) and level_dbuv")),
        };
        let start = e.start.unwrap_or(0.0);
        let start = self.check(
            &format!("{p}.start"),
            start,
            (0.0..duration).contains(&start),
            &format!("a time in [0, {duration}) s"),
        )?;
        let end = e.end.unwrap_or(duration);
        let end = self.check(&format!("{p}.end"), end, end > start, "a time after start")?;
        let bursts = match (e.burst, e.period) {
            (None, None) => None,
            (Some(on), period) => {
                let on = self.check(
                    &format!("{p}.burst"),
                    on,
                    on > 0.0,
                    "a positive duration in s",
                )?;
                let period = period.unwrap_or(f64::INFINITY);
                if period.is_nan() || period < on {
                    return Err(self.err(
                        &format!("{p}.period"),
                        format!("must be at least the burst ({on} s), not {period}"),
                    ));
                }
                Some((on, period))
            }
            (None, Some(_)) => {
                return Err(self.err(
                    &format!("{p}.period"),
                    "needs burst (the on-time of each burst)",
                ))
            }
        };
        let mask = self.phases(&format!("{p}.phases"), &e.phases, n_phases)?;
        let seed = match e.seed {
            None => scenario_seed,
            Some(s) if s >= 0 => s as u64,
            Some(s) => return Err(self.err(&format!("{p}.seed"), format!("must be ≥ 0, not {s}"))),
        };
        Ok(EmissionModel::new(
            kind,
            level,
            Schedule { start, end, bursts },
            mask,
            seed,
            fs,
        ))
    }

    fn component(
        &self,
        p: &str,
        c: &RawComponent,
        n_phases: usize,
        f_hi: f64,
        nyquist: f64,
    ) -> Result<Component> {
        let order = match (c.order, c.frequency) {
            (Some(h), None) => {
                let h = self.check(
                    &format!("{p}.order"),
                    h,
                    h > 0.0 && h <= 1000.0 && h != 1.0,
                    "an order in (0, 1000] other than 1 (the fundamental)",
                )?;
                if h * f_hi >= nyquist {
                    return Err(self.err(
                        &format!("{p}.order"),
                        format!(
                            "order {h} reaches {:.1} Hz, at or above the Nyquist frequency {nyquist} Hz",
                            h * f_hi
                        ),
                    ));
                }
                if h.fract() == 0.0 {
                    Order::Harmonic(h as usize)
                } else {
                    Order::Locked(h)
                }
            }
            (None, Some(f)) => {
                let f = self.check(
                    &format!("{p}.frequency"),
                    f,
                    f > 0.0 && f < nyquist,
                    &format!("a frequency in (0, {nyquist}) Hz"),
                )?;
                Order::Fixed(f)
            }
            _ => return Err(self.err(p, "give exactly one of order and frequency (Hz)")),
        };
        let mag = self.per_phase(&format!("{p}.magnitude"), &c.magnitude, n_phases)?;
        for (k, m) in mag.iter().enumerate().take(n_phases) {
            self.check(
                &format!("{p}.magnitude[{k}]"),
                *m,
                (0.0..=1000.0).contains(m),
                "a percentage of the fundamental in [0, 1000]",
            )?;
        }
        let ph = match &c.phase {
            None => [0.0; 3],
            Some(x) => self.per_phase(&format!("{p}.phase"), x, n_phases)?,
        };
        for (k, a) in ph.iter().enumerate().take(n_phases) {
            self.check(
                &format!("{p}.phase[{k}]"),
                *a,
                a.abs() <= 360.0,
                "an angle within ±360°",
            )?;
        }
        let mask = self.phases(&format!("{p}.phases"), &c.phases, n_phases)?;
        let mut rel = [0.0; 3];
        let mut phase = [0.0; 3];
        for q in 0..3 {
            if mask[q] {
                rel[q] = mag[q] / 100.0;
                phase[q] = ph[q] / 360.0;
            }
        }
        Ok(Component { order, rel, phase })
    }
}

fn channel_source(name: &str, wiring: Wiring) -> Option<Source> {
    Some(match (name, wiring) {
        ("U_A", Wiring::Wye | Wiring::Single) => Source::Voltage(0),
        ("U_B", Wiring::Wye) => Source::Voltage(1),
        ("U_C", Wiring::Wye) => Source::Voltage(2),
        ("U_N", Wiring::Wye | Wiring::Single) => Source::NeutralVoltage,
        ("U_AB", Wiring::Delta | Wiring::Wye) => Source::LineVoltage(0, 1),
        ("U_BC", Wiring::Delta | Wiring::Wye) => Source::LineVoltage(1, 2),
        ("U_CA", Wiring::Delta | Wiring::Wye) => Source::LineVoltage(2, 0),
        ("I_A", _) => Source::Current(0),
        ("I_B", Wiring::Wye | Wiring::Delta) => Source::Current(1),
        ("I_C", Wiring::Wye | Wiring::Delta) => Source::Current(2),
        ("I_N", Wiring::Wye | Wiring::Single) => Source::NeutralCurrent,
        _ => return None,
    })
}

fn allowed_channels(wiring: Wiring) -> Vec<&'static str> {
    [
        "U_A", "U_B", "U_C", "U_N", "U_AB", "U_BC", "U_CA", "I_A", "I_B", "I_C", "I_N",
    ]
    .into_iter()
    .filter(|n| channel_source(n, wiring).is_some())
    .collect()
}
