//! The HDF5 recording layout's attributes (`pqe-recording/1`, see pqe_io::hdf5): a valid HDF5
//! file whose attribute values, dataset shapes and sample values come from the fuzzer, read
//! leniently to its end. libhdf5's own parsing of corrupt files is not fuzzed here (it is
//! C code outside PQE); what is fuzzed is PQE's reading of whatever a file states.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use hdf5::types::VarLenUnicode;
use libfuzzer_sys::fuzz_target;
use pqe_io::{open_source, OpenOptions};
use std::str::FromStr;

#[derive(Debug, Arbitrary)]
enum Number {
    F64(f64),
    I64(i64),
    U8(u8),
    Text(String),
}

#[derive(Debug, Arbitrary)]
struct Attr {
    name: u8,
    value: Number,
    /// Written as a 1-D array of this length (0: a scalar).
    len: u8,
}

#[derive(Debug, Arbitrary)]
struct Input {
    format: Option<String>,
    sample_rate: Option<f64>,
    start_ns: Option<i64>,
    start: Option<String>,
    channels: u8,
    samples: u8,
    digital: u8,
    timed: bool,
    group_attrs: Vec<Attr>,
    analog_attrs: Vec<Attr>,
    digital_attrs: Vec<Attr>,
    values: Vec<f64>,
    times: Vec<i64>,
}

const GROUP_NAMES: &[&str] = &[
    "station",
    "device",
    "line_frequency",
    "trigger_ns",
    "trigger",
    "time_code",
    "rate_segment_rates",
    "rate_segment_ends",
    "start",
    "start_ns",
    "sample_rate",
];
const CHANNEL_NAMES: &[&str] = &[
    "names",
    "units",
    "kinds",
    "phases",
    "circuits",
    "ratio_primary",
    "ratio_secondary",
    "skew_us",
    "primary",
    "scale_a",
    "scale_b",
    "raw_min",
    "raw_max",
    "normal_state",
];

fn vlen(s: &str) -> VarLenUnicode {
    VarLenUnicode::from_str(&s.replace('\0', ""))
        .unwrap_or_else(|_| VarLenUnicode::from_str("").unwrap())
}

fn put(target: &hdf5::Location, names: &[&str], a: &Attr) -> hdf5::Result<()> {
    let name = names[a.name as usize % names.len()];
    if target.attr(name).is_ok() {
        return Ok(());
    }
    let n = (a.len % 8) as usize;
    match &a.value {
        Number::F64(x) if n == 0 => target
            .new_attr::<f64>()
            .shape(())
            .create(name)?
            .write_scalar(x),
        Number::F64(x) => target
            .new_attr::<f64>()
            .shape([n])
            .create(name)?
            .write_raw(&vec![*x; n]),
        Number::I64(x) if n == 0 => target
            .new_attr::<i64>()
            .shape(())
            .create(name)?
            .write_scalar(x),
        Number::I64(x) => target
            .new_attr::<i64>()
            .shape([n])
            .create(name)?
            .write_raw(&vec![*x; n]),
        Number::U8(x) if n == 0 => target
            .new_attr::<u8>()
            .shape(())
            .create(name)?
            .write_scalar(x),
        Number::U8(x) => target
            .new_attr::<u8>()
            .shape([n])
            .create(name)?
            .write_raw(&vec![*x; n]),
        Number::Text(s) if n == 0 => target
            .new_attr::<VarLenUnicode>()
            .shape(())
            .create(name)?
            .write_scalar(&vlen(s)),
        Number::Text(s) => target
            .new_attr::<VarLenUnicode>()
            .shape([n])
            .create(name)?
            .write_raw(&vec![vlen(s); n]),
    }
}

fn write(path: &std::path::Path, input: &Input) -> hdf5::Result<()> {
    let file = hdf5::File::create(path)?;
    let g = file.create_group("recording")?;
    if let Some(f) = &input.format {
        g.new_attr::<VarLenUnicode>()
            .shape(())
            .create("pqe_format")?
            .write_scalar(&vlen(f))?;
    } else {
        g.new_attr::<VarLenUnicode>()
            .shape(())
            .create("pqe_format")?
            .write_scalar(&vlen(pqe_io::hdf5::FORMAT))?;
    }
    if let Some(r) = input.sample_rate {
        g.new_attr::<f64>()
            .shape(())
            .create("sample_rate")?
            .write_scalar(&r)?;
    }
    if let Some(t) = input.start_ns {
        g.new_attr::<i64>()
            .shape(())
            .create("start_ns")?
            .write_scalar(&t)?;
    }
    if let Some(t) = &input.start {
        g.new_attr::<VarLenUnicode>()
            .shape(())
            .create("start")?
            .write_scalar(&vlen(t))?;
    }
    for a in input.group_attrs.iter().take(12) {
        put(&g, GROUP_NAMES, a)?;
    }
    let (c, n) = ((input.channels % 5) as usize, (input.samples % 64) as usize);
    let analog = g.new_dataset::<f64>().shape([c, n]).create("analog")?;
    let mut values: Vec<f64> = input.values.iter().copied().cycle().take(c * n).collect();
    values.resize(c * n, 0.0);
    if c * n > 0 {
        analog.write_raw(&values)?;
    }
    for a in input.analog_attrs.iter().take(16) {
        put(&analog, CHANNEL_NAMES, a)?;
    }
    let d = (input.digital % 3) as usize;
    if d > 0 {
        let digital = g.new_dataset::<u8>().shape([d, n]).create("digital")?;
        if n > 0 {
            digital.write_raw(&vec![1u8; d * n])?;
        }
        for a in input.digital_attrs.iter().take(8) {
            put(&digital, CHANNEL_NAMES, a)?;
        }
    }
    if input.timed {
        let t = g.new_dataset::<i64>().shape([n]).create("time_ns")?;
        let mut times: Vec<i64> = input.times.iter().copied().take(n).collect();
        times.resize(n, 0);
        if n > 0 {
            t.write_raw(&times)?;
        }
    }
    Ok(())
}

fuzz_target!(|input: Input| {
    let path = common::scratch().join("f.h5");
    if write(&path, &input).is_err() {
        return;
    }
    if let Ok(s) = open_source(&path, &OpenOptions::default()) {
        common::drain(s);
    }
});
