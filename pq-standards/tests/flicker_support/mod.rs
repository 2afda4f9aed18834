//! Shared pieces of the flickermeter tests: the IEC 61000-4-15 test points of
//! `tests/data/flicker/flicker-tables.json` (embedded at compile time), closed-form
//! modulated test signals, and a runner that streams a signal through a meter.
#![allow(dead_code)]

use pqe_core::record::{FlickerRecord, FlickerSeverity};
use pqe_core::{NominalFrequency, Timestamp};
use pqe_standards::iec61000_4_15::{FlickerOptions, Flickermeter, Lamp};
use std::f64::consts::PI;

/// The test tables, embedded so the tests never read outside the repository.
pub const TABLES_JSON: &str = include_str!("../../../tests/data/flicker/flicker-tables.json");
/// The further Ed.2 points, an independent check (see tests/data/flicker/README.md).
pub const FURTHER_JSON: &str = include_str!("../../../tests/data/flicker/further-tables.json");

/// Modulating waveform of a test signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `sin(2π f_m t)`.
    Sine,
    /// +1 for the first half period, −1 for the second (50 % duty).
    Rectangular,
}

/// One test point: a modulation and the depth at which the meter must read 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestPoint {
    pub lamp: Lamp,
    pub supply: NominalFrequency,
    pub shape: Shape,
    /// Modulation frequency, Hz (for rectangular: changes per minute / 120).
    pub fmod: f64,
    /// Changes per minute, for rectangular points.
    pub cpm: Option<f64>,
    /// ΔV/V peak to peak, percent.
    pub dvv_percent: f64,
}

impl TestPoint {
    /// The same point on another supply (the lamp–eye filter follows the lamp, only the
    /// Butterworth cutoff changes with the supply).
    pub fn on(self, supply: NominalFrequency) -> Self {
        TestPoint { supply, ..self }
    }

    pub fn label(&self) -> String {
        let rate = match self.cpm {
            Some(c) => format!("{c} cpm"),
            None => format!("{:.3} Hz", self.fmod),
        };
        format!(
            "{} lamp {} Hz supply, {rate}, {:.3} %",
            self.lamp.name(),
            self.supply.hz(),
            self.dvv_percent
        )
    }
}

/// Table 1 (sinusoidal, Pinst max = 1) and table 5 (rectangular, Pst = 1) points of
/// `flicker-tables.json`.
pub fn table_points() -> (Vec<TestPoint>, Vec<TestPoint>) {
    (
        load(TABLES_JSON, "table1_sinusoidal_pinst_max", Shape::Sine),
        load(TABLES_JSON, "table5_rectangular_pst", Shape::Rectangular),
    )
}

/// The points of one table of a tables file. A point gives its rate as `fmod_hz`
/// (modulation frequency) or `cpm` (changes per minute, two per period).
pub fn load(text: &str, table: &str, shape: Shape) -> Vec<TestPoint> {
    let root = json::parse(text).expect("the tables parse");
    let lamp = |s: &str| match s {
        "230V" => Lamp::V230,
        "120V" => Lamp::V120,
        other => panic!("unknown lamp {other}"),
    };
    let supply = |hz: f64| NominalFrequency::from_hz(hz).expect("50 or 60 Hz");
    let mut out = Vec::new();
    for t in root.get(table).array() {
        for p in t.get("points").array() {
            let cpm = p.find("cpm").map(json::Value::number);
            let fmod = match cpm {
                Some(c) => c / 120.0,
                None => p.get("fmod_hz").number(),
            };
            out.push(TestPoint {
                lamp: lamp(t.get("lamp").string()),
                supply: supply(t.get("supply_hz").number()),
                shape,
                fmod,
                cpm,
                dvv_percent: p.get("dvv_percent").number(),
            });
        }
    }
    out
}

/// Sample `i` of `√2·U·(1 + (ΔV/V)/2·m(t))·sin(2π f0 t)`, `t = i / fs`, U = 230 V.
#[inline]
pub fn modulated_sample(p: &TestPoint, fs: f64, i: u64) -> f64 {
    let t = i as f64 / fs;
    let x = p.fmod * t;
    let m = match p.shape {
        Shape::Sine => (2.0 * PI * x.fract()).sin(),
        Shape::Rectangular => {
            if x.fract() < 0.5 {
                1.0
            } else {
                -1.0
            }
        }
    };
    let depth = p.dvv_percent / 100.0;
    // Whole cycles of the carrier dropped before the sine keep its argument small.
    let carrier = (p.supply.hz() * t).fract();
    2f64.sqrt() * 230.0 * (1.0 + 0.5 * depth * m) * (2.0 * PI * carrier).sin()
}

/// 2026-01-01T00:00:00 plus `seconds`.
pub fn clock(seconds: f64) -> Timestamp {
    Timestamp::from_nanos(1_767_225_600_000_000_000).add_seconds(seconds)
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Run {
    pub records: Vec<FlickerRecord>,
    /// (t, max, mean, settling) per Pinst step.
    pub pinst: Vec<(f64, f64, f64, bool)>,
    pub gain: f64,
    pub decimated_rate: f64,
}

impl Run {
    pub fn pst(&self) -> Vec<&FlickerRecord> {
        self.records
            .iter()
            .filter(|r| r.severity == FlickerSeverity::Pst)
            .collect()
    }
    pub fn plt(&self) -> Vec<&FlickerRecord> {
        self.records
            .iter()
            .filter(|r| r.severity == FlickerSeverity::Plt)
            .collect()
    }
    /// Largest Pinst after settling.
    pub fn pinst_max(&self) -> f64 {
        self.pinst
            .iter()
            .filter(|p| !p.3)
            .map(|p| p.1)
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Stream `samples` samples of `signal` through a meter in blocks of `block`.
pub fn run_meter(
    mut meter: Flickermeter,
    samples: u64,
    block: usize,
    signal: impl Fn(u64) -> f64,
) -> Run {
    let mut run = Run {
        gain: meter.gain(),
        decimated_rate: meter.decimated_rate(),
        ..Run::default()
    };
    let mut buf = Vec::with_capacity(block);
    let mut i = 0;
    while i < samples {
        buf.clear();
        let n = (block as u64).min(samples - i);
        buf.extend((i..i + n).map(&signal));
        meter.push(&buf);
        i += n;
        drain(&mut meter, &mut run);
    }
    meter.finish();
    drain(&mut meter, &mut run);
    run
}

fn drain(meter: &mut Flickermeter, run: &mut Run) {
    while let Some(r) = meter.next_record() {
        run.records.push(r);
    }
    while let Some(p) = meter.next_pinst() {
        run.pinst.push((p.t, p.max, p.mean, p.settling));
    }
}

/// Pinst max of a table 1 point: settle, then 20 s of observation.
pub fn measure_pinst_max(p: &TestPoint, fs: f64) -> (f64, Run) {
    let options = FlickerOptions {
        pinst_step: Some(0.5),
        ..FlickerOptions::for_lamp(p.lamp)
    };
    let settle = options.settling_time;
    let meter = Flickermeter::new(fs, p.supply, clock(0.0), clock(0.0), options).unwrap();
    let n = ((settle + 20.0) * fs) as u64;
    let run = run_meter(meter, n, 8192, |i| modulated_sample(p, fs, i));
    (run.pinst_max(), run)
}

/// Pst of a table 5 point: the recording starts 40 s before a 10-min tick of the clock
/// and runs 10 min past it; the complete, settled period is returned.
pub fn measure_pst(p: &TestPoint, fs: f64) -> (f64, Run) {
    let start = clock(600.0 - 40.0);
    let meter =
        Flickermeter::new(fs, p.supply, start, start, FlickerOptions::for_lamp(p.lamp)).unwrap();
    let n = ((40.0 + 600.0 + 1.0) * fs) as u64;
    let run = run_meter(meter, n, 8192, |i| modulated_sample(p, fs, i));
    let complete: Vec<_> = run.pst().into_iter().filter(|r| !r.flagged).collect();
    assert_eq!(
        complete.len(),
        1,
        "one complete settled period: {:?}",
        run.records
    );
    (complete[0].value, run)
}

/// Run `f` over `items` on the machine's threads, keeping the order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    })
}

/// Print measured against expected (1.0) and return the worst relative error.
pub fn report(title: &str, rows: &[(TestPoint, f64)]) -> f64 {
    println!("\n{title}");
    println!(
        "{:>6} {:>6} {:>11} {:>9} {:>10} {:>8}",
        "lamp", "supply", "rate", "dV/V %", "measured", "error %"
    );
    let mut worst: f64 = 0.0;
    for (p, v) in rows {
        let rate = match p.cpm {
            Some(c) => format!("{c} cpm"),
            None => format!("{:.3} Hz", p.fmod),
        };
        let err = (v - 1.0) * 100.0;
        worst = worst.max(err.abs());
        println!(
            "{:>6} {:>6} {:>11} {:>9.3} {:>10.4} {:>+8.2}",
            p.lamp.name(),
            p.supply.hz(),
            rate,
            p.dvv_percent,
            v,
            err
        );
    }
    println!("worst error: {worst:.2} %");
    worst
}

/// A minimal JSON reader for the embedded test tables.
pub mod json {
    /// A JSON value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        pub fn get(&self, key: &str) -> &Value {
            self.find(key)
                .unwrap_or_else(|| panic!("missing key {key}"))
        }
        pub fn find(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => panic!("not an object looking up {key}"),
            }
        }
        pub fn array(&self) -> &[Value] {
            match self {
                Value::Array(a) => a,
                _ => panic!("not an array"),
            }
        }
        pub fn number(&self) -> f64 {
            match self {
                Value::Number(x) => *x,
                _ => panic!("not a number"),
            }
        }
        pub fn string(&self) -> &str {
            match self {
                Value::String(s) => s,
                _ => panic!("not a string"),
            }
        }
    }

    /// Parse a JSON document (no `\u` escapes needed by the tables).
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected '{}' at byte {}", c as char, self.i))
            }
        }
        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Object(fields));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        fields.push((k, self.value()?));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Value::Object(fields));
                            }
                            _ => return Err(format!("bad object at byte {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Value::Array(items));
                            }
                            _ => return Err(format!("bad array at byte {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Value::String(self.string()?)),
                Some(b't') => self.word("true", Value::Bool(true)),
                Some(b'f') => self.word("false", Value::Bool(false)),
                Some(b'n') => self.word("null", Value::Null),
                Some(_) => {
                    let start = self.i;
                    while self.i < self.s.len()
                        && matches!(
                            self.s[self.i],
                            b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                        )
                    {
                        self.i += 1;
                    }
                    std::str::from_utf8(&self.s[start..self.i])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .map(Value::Number)
                        .ok_or_else(|| format!("bad number at byte {start}"))
                }
                None => Err("unexpected end".into()),
            }
        }
        fn word(&mut self, w: &str, v: Value) -> Result<Value, String> {
            if self.s[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                Ok(v)
            } else {
                Err(format!("bad literal at byte {}", self.i))
            }
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut out = Vec::new();
            while let Some(&c) = self.s.get(self.i) {
                self.i += 1;
                match c {
                    b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                    b'\\' => {
                        let e = *self.s.get(self.i).ok_or("unexpected end")?;
                        self.i += 1;
                        out.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            other => other,
                        });
                    }
                    _ => out.push(c),
                }
            }
            Err("unterminated string".into())
        }
    }
}
