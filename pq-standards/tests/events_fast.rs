//! The event detector's sliding RVC window (IEC 61000-4-30 Ed.3 5.5: running sums and
//! monotonic extremes) against its plain twin (the window summed and checked value by
//! value, [`EventDetector::use_reference_kernels`]): on series full of rapid voltage
//! changes at and around the threshold and the hysteresis, with dips, swells, missing
//! values and gaps between them, both give the same outputs, bit for bit.

use pqe_core::{NominalFrequency, Timestamp};
use pqe_standards::events::{EventDetector, EventOptions, EventOutput, HalfCycleValue};

/// A small deterministic generator of uniform numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn detector(nominal: NominalFrequency, reference: bool) -> EventDetector {
    let mut d = EventDetector::new(
        vec!["U_A".into(), "U_B".into(), "U_C".into()],
        vec![230.0; 3],
        nominal,
        10_240.0,
        Timestamp::from_nanos(0),
        EventOptions::default(),
    )
    .unwrap();
    if reference {
        d.use_reference_kernels();
    }
    d
}

/// Urms(1/2) series: a level that steps every 150 to 400 values by about the RVC
/// threshold (3 %, some steps a hair either side of it, some of the hysteresis), noise
/// from none to 1 %, now and then a dip, a swell, a missing value or a gap.
fn series(seed: u64, n: usize) -> Vec<Option<[f64; 3]>> {
    let mut rng = Lcg(seed);
    let mut level = [230.0; 3];
    let mut until = 0;
    let mut noise = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i == until {
            until = i + 150 + (250.0 * rng.next()) as usize;
            let c = (3.0 * rng.next()) as usize % 3;
            let size: f64 = match (6.0 * rng.next()) as u32 {
                0 => 6.9,
                1 => 6.9 + 6e-14,
                2 => 3.45,
                3 => 7.5,
                4 => 2.0,
                _ => 40.0,
            };
            let sign = if rng.next() < 0.5 { -1.0 } else { 1.0 };
            level[c] = (230.0 + sign * size).max(150.0);
            if rng.next() < 0.5 {
                level = [level[c]; 3];
            }
            noise = [0.0, 1e-9, 0.5, 2.3][(4.0 * rng.next()) as usize % 4];
        }
        if rng.next() < 0.002 {
            out.push(None);
            continue;
        }
        let mut v = level;
        for x in &mut v {
            *x += noise * (rng.next() - 0.5);
        }
        out.push(Some(v));
    }
    out
}

fn run(d: &mut EventDetector, values: &[Option<[f64; 3]>]) -> Vec<EventOutput> {
    let mut out = Vec::new();
    let half = 10_240.0 / 100.0;
    for (k, v) in values.iter().enumerate() {
        let start = half * k as f64;
        let rms = v.unwrap_or([f64::NAN; 3]);
        if k % 5003 == 5002 {
            d.interrupt(&mut out);
        }
        d.push(
            HalfCycleValue {
                start,
                end: start + 2.0 * half,
                rms: &rms,
            },
            &mut out,
        );
    }
    d.interrupt(&mut out);
    out
}

#[test]
fn sliding_rvc_window_gives_the_outputs_of_its_plain_twin() {
    let mut rvcs = 0;
    for (seed, nominal) in [
        (1, NominalFrequency::Hz50),
        (2, NominalFrequency::Hz60),
        (3, NominalFrequency::Hz50),
    ] {
        let values = series(seed, 60_000);
        let fast = run(&mut detector(nominal, false), &values);
        let plain = run(&mut detector(nominal, true), &values);
        assert_eq!(fast.len(), plain.len(), "seed {seed}");
        // Through `Debug`, which prints every `f64` exactly (and NaN equal to NaN).
        for (a, b) in fast.iter().zip(&plain) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "seed {seed}");
        }
        rvcs += fast
            .iter()
            .filter(|o| {
                matches!(o, EventOutput::Event(e) if e.kind == pqe_core::record::EventKind::Rvc)
            })
            .count();
    }
    assert!(rvcs > 50, "{rvcs} RVCs");
}
