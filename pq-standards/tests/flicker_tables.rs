//! The flickermeter against the test points of IEC 61000-4-15 Ed.2 (2010): table 1
//! (sinusoidal modulation, Pinst max = 1 ± 8 %) and table 5 (rectangular modulation,
//! Pst = 1 ± 5 %), from `tests/data/flicker/flicker-tables.json`.
//!
//! Run with `cargo test -p pqe-standards --test flicker_tables -- --nocapture` to see the
//! measured values and errors. Each point is a closed-form modulated 230 V sine, streamed
//! through a fresh meter.

mod flicker_support;

use flicker_support::{measure_pinst_max, measure_pst, parallel_map, report, table_points};
use pqe_core::NominalFrequency;
use pqe_standards::iec61000_4_15::Lamp;

/// The tolerance the suite holds the meter to: the project's aim (the standard allows
/// 8 % on Pinst max and 5 % on Pst).
const AIM_PINST: f64 = 2.0;
const AIM_PST: f64 = 2.0;

#[test]
fn table1_sinusoidal_pinst_max_on_the_tables_supplies() {
    let (sine, _) = table_points();
    let fs = |p: &flicker_support::TestPoint| match p.supply {
        NominalFrequency::Hz50 => 6400.0,
        NominalFrequency::Hz60 => 7680.0,
    };
    let rows = parallel_map(&sine, |p| (*p, measure_pinst_max(p, fs(p)).0));
    for lamp in [Lamp::V230, Lamp::V120] {
        let part: Vec<_> = rows.iter().filter(|r| r.0.lamp == lamp).cloned().collect();
        assert!(!part.is_empty());
        let worst = report(
            &format!("table 1, {} lamp: Pinst max (expected 1)", lamp.name()),
            &part,
        );
        assert!(
            worst < AIM_PINST,
            "{} lamp: worst {worst:.2} %",
            lamp.name()
        );
    }
}

/// The same lamps on the other supply. Only the Butterworth cutoff changes (35 Hz on
/// 50 Hz supplies, 42 Hz on 60 Hz); below 20 Hz it changes the response by less than
/// 0.1 %, so the tables apply there.
#[test]
fn table1_sinusoidal_pinst_max_on_the_other_supply() {
    let (sine, _) = table_points();
    let points: Vec<_> = sine
        .iter()
        .filter(|p| p.fmod <= 20.0)
        .map(|p| {
            p.on(match p.supply {
                NominalFrequency::Hz50 => NominalFrequency::Hz60,
                NominalFrequency::Hz60 => NominalFrequency::Hz50,
            })
        })
        .collect();
    let rows = parallel_map(&points, |p| (*p, measure_pinst_max(p, 10_240.0).0));
    let worst = report(
        "table 1 on the other supply (fmod ≤ 20 Hz), 10.24 kHz: Pinst max",
        &rows,
    );
    assert!(worst < AIM_PINST, "worst {worst:.2} %");
}

#[test]
fn table5_rectangular_pst() {
    let (_, rect) = table_points();
    let rows = parallel_map(&rect, |p| (*p, measure_pst(p, 4000.0).0));
    let worst = report("table 5, rectangular: Pst (expected 1), 4 kHz", &rows);
    assert!(worst < AIM_PST, "worst {worst:.2} %");
}

/// Table 5 with the 230 V lamp on a 60 Hz supply up to 1620 changes per minute (the
/// square wave's harmonics that the other Butterworth cutoff passes differently lie above
/// the lamp–eye filter's band).
#[test]
fn table5_rectangular_pst_on_60_hz() {
    let (_, rect) = table_points();
    let points: Vec<_> = rect
        .iter()
        .filter(|p| p.cpm.is_some_and(|c| c <= 1620.0))
        .map(|p| p.on(NominalFrequency::Hz60))
        .collect();
    let rows = parallel_map(&points, |p| (*p, measure_pst(p, 7680.0).0));
    let worst = report("table 5 on 60 Hz (≤ 1620 cpm), 7.68 kHz: Pst", &rows);
    assert!(worst < AIM_PST, "worst {worst:.2} %");
}

/// The calibration gain of block 4 for each lamp and supply (documented in
/// `weighting::Calibration`), and the decimated rate each input rate leads to.
#[test]
fn calibration_gains() {
    println!("\nblock 4 calibration gain (8.8 Hz rows of table 1)");
    for lamp in [Lamp::V230, Lamp::V120] {
        for supply in [NominalFrequency::Hz50, NominalFrequency::Hz60] {
            for fs in [2000.0, 6400.0, 10_240.0, 102_400.0] {
                let m = pqe_standards::iec61000_4_15::Flickermeter::new(
                    fs,
                    supply,
                    flicker_support::clock(0.0),
                    flicker_support::clock(0.0),
                    pqe_standards::iec61000_4_15::FlickerOptions::for_lamp(lamp),
                )
                .unwrap();
                println!(
                    "{} lamp, {} supply, {fs:>7} Hz → {:>8.3} Hz: gain {:.6e}",
                    lamp.name(),
                    supply,
                    m.decimated_rate(),
                    m.gain()
                );
                assert!(m.gain() > 1e5 && m.gain() < 1e6);
            }
        }
    }
}

/// A few points of each table at input rates from the 2 kHz minimum to 50 kHz, including
/// rates that are no multiple of the supply or of the decimated rate.
#[test]
fn table_points_at_other_sample_rates() {
    let (sine, rect) = table_points();
    let pick = |fmod: f64, lamp: Lamp| {
        *sine
            .iter()
            .find(|p| (p.fmod - fmod).abs() < 1e-6 && p.lamp == lamp)
            .expect("table point")
    };
    let sine_points = [
        pick(0.5, Lamp::V230),
        pick(8.8, Lamp::V230),
        pick(25.0, Lamp::V230),
        pick(8.8, Lamp::V120),
        pick(33.333333, Lamp::V120),
    ];
    let pst_point = *rect.iter().find(|p| p.cpm == Some(110.0)).expect("110 cpm");
    let rates = [2000.0, 2500.0, 3333.3, 12_800.0, 50_000.0];
    let jobs: Vec<(f64, usize)> = rates
        .iter()
        .flat_map(|&fs| (0..=sine_points.len()).map(move |k| (fs, k)))
        .collect();
    let rows = parallel_map(&jobs, |&(fs, k)| match sine_points.get(k) {
        Some(p) => (fs, *p, measure_pinst_max(p, fs).0),
        None => (fs, pst_point, measure_pst(&pst_point, fs).0),
    });
    let mut worst: f64 = 0.0;
    for fs in rates {
        let part: Vec<_> = rows
            .iter()
            .filter(|r| r.0 == fs)
            .map(|r| (r.1, r.2))
            .collect();
        worst = worst.max(report(
            &format!("{fs} Hz input: Pinst max (table 1), Pst (table 5, last row)"),
            &part,
        ));
    }
    assert!(worst < AIM_PINST, "worst {worst:.2} %");
}
