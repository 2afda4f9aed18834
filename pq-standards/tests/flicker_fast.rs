//! The flickermeter's fast kernels against their plain twins (IEC 61000-4-15 Ed.2 4.3 to
//! 4.7): the decimator whose windows are summed in four lanes and the weighting chain run
//! over whole runs of values, against a decimator summing in one running sum and the
//! chain value by value through `pqe_dsp::iir` ([`Flickermeter::use_reference_kernels`]).
//! Pinst values agree to rounding, records in every flag and to rounding in value; the
//! fast meter stays bit-identical whatever the cut of the input.

mod flicker_support;

use flicker_support::{clock, run_meter, Run};
use pqe_core::record::FlickerRecord;
use pqe_core::NominalFrequency;
use pqe_standards::iec61000_4_15::{FlickerOptions, Flickermeter, Lamp};
use std::f64::consts::PI;

/// A supply with a modulation, harmonics, a NaN burst, an infinite sample and a step.
fn sample(fs: f64, mains: f64, i: u64) -> f64 {
    let t = i as f64 / fs;
    if (31.0..31.02).contains(&t) {
        return f64::NAN;
    }
    if i == (47.0 * fs) as u64 {
        return f64::INFINITY;
    }
    let envelope = 1.0 + 0.003 * (2.0 * PI * 8.8 * t).sin() + 0.002 * (2.0 * PI * 0.9 * t).cos();
    let step = if t > 60.0 { 0.97 } else { 1.0 };
    let w = 2.0 * PI * mains * t;
    step * envelope * 325.0 * (w.sin() + 0.04 * (5.0 * w).sin() + 0.01 * (7.0 * w + 0.3).sin())
}

fn meter(fs: f64, supply: NominalFrequency, lamp: Lamp, reference: bool) -> Flickermeter {
    let start = clock(600.0 - 45.0);
    let rate = fs / (fs / 1000.0).floor();
    let options = FlickerOptions {
        pinst_step: Some(1.0 / rate),
        ..FlickerOptions::for_lamp(lamp)
    };
    let mut m = Flickermeter::new(fs, supply, start, start, options).unwrap();
    if reference {
        m.use_reference_kernels();
    }
    m
}

fn close(a: f64, b: f64, relative: f64, floor: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= relative * b.abs().max(floor)
}

fn same_record(a: &FlickerRecord, b: &FlickerRecord) -> bool {
    a.severity == b.severity
        && a.start == b.start
        && a.t == b.t
        && a.observed == b.observed
        && a.flags == b.flags
        && a.flagged == b.flagged
        && close(a.value, b.value, 1e-6, 1e-9)
        && close(a.pinst_max, b.pinst_max, 1e-9, 1e-9)
}

fn check(fast: &Run, plain: &Run, label: &str) {
    assert_eq!(fast.records.len(), plain.records.len(), "{label}");
    assert!(fast.records.len() >= 2, "{label}: {:?}", fast.records);
    for (a, b) in fast.records.iter().zip(&plain.records) {
        assert!(same_record(a, b), "{label}: {a:?} vs {b:?}");
    }
    assert_eq!(fast.pinst.len(), plain.pinst.len(), "{label}");
    // Pinst of a 0.3 % fluctuation is of order 1: 10⁻⁹ of it is far above rounding and
    // far below any real difference.
    for (k, (a, b)) in fast.pinst.iter().zip(&plain.pinst).enumerate() {
        assert_eq!((a.0, a.3), (b.0, b.3), "{label}: step {k}");
        assert!(
            close(a.1, b.1, 1e-9, 1e-6),
            "{label}: step {k}: {a:?} vs {b:?}"
        );
        assert!(
            close(a.2, b.2, 1e-9, 1e-6),
            "{label}: step {k}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn fast_kernels_agree_with_their_plain_twins() {
    for (fs, supply, mains, lamp, block) in [
        (10_240.0, NominalFrequency::Hz50, 50.0, Lamp::V230, 4096),
        (12_288.0, NominalFrequency::Hz60, 60.0, Lamp::V120, 1000),
        (2_000.0, NominalFrequency::Hz50, 49.9, Lamp::V120, 333),
    ] {
        let n = (80.0 * fs) as u64;
        let signal = |i| sample(fs, mains, i);
        let fast = run_meter(meter(fs, supply, lamp, false), n, block, signal);
        let plain = run_meter(meter(fs, supply, lamp, true), n, 7919, signal);
        check(&fast, &plain, &format!("{fs} Hz {lamp:?}"));
    }
}

#[test]
fn fast_meter_is_bit_identical_whatever_the_cut() {
    let fs = 10_240.0;
    let n = (70.0 * fs) as u64;
    let signal = |i| sample(fs, 50.0, i);
    let bits = |run: &Run| -> Vec<u64> {
        let mut v: Vec<u64> = run
            .records
            .iter()
            .flat_map(|r| {
                [
                    r.value.to_bits(),
                    r.pinst_max.to_bits(),
                    r.observed.to_bits(),
                ]
            })
            .collect();
        v.extend(
            run.pinst
                .iter()
                .flat_map(|p| [p.0.to_bits(), p.1.to_bits(), p.2.to_bits()]),
        );
        v
    };
    let m = || meter(fs, NominalFrequency::Hz50, Lamp::V230, false);
    let whole = bits(&run_meter(m(), n, n as usize, signal));
    for block in [1, 9, 10, 11, 1024, 65_537, 200_000] {
        assert!(
            whole == bits(&run_meter(m(), n, block, signal)),
            "block {block}"
        );
    }
}
