//! The flickermeter against the IEC 61000-4-15 Ed.2 test points it was not designed or
//! calibrated with (`tests/data/flicker/further-tables.json`): table 1 for the 120 V lamp
//! on 50 Hz and the 230 V lamp on 60 Hz, table 2 (rectangular modulation, Pinst max = 1,
//! tolerance 8 %) for all four lamp/supply pairs, and table 5 (rectangular, Pst = 1,
//! tolerance 5 %) for the pairs `flicker-tables.json` lacks.
//!
//! `cargo test -p pqe-standards --test flicker_further_tables -- --nocapture` prints every
//! point.

mod flicker_support;

use flicker_support::{
    load, measure_pinst_max, measure_pst, parallel_map, report, Shape, FURTHER_JSON,
};
use pqe_standards::iec61000_4_15::Lamp;

/// The standard's tolerances (Ed.2): these points are a check, not a design target.
const PINST_TOLERANCE: f64 = 8.0;
const PST_TOLERANCE: f64 = 5.0;

fn pairs() -> [(Lamp, f64); 4] {
    [
        (Lamp::V230, 50.0),
        (Lamp::V120, 60.0),
        (Lamp::V120, 50.0),
        (Lamp::V230, 60.0),
    ]
}

#[test]
fn table1_sinusoidal_pinst_max_other_pairs() {
    let points = load(FURTHER_JSON, "table1_sinusoidal_pinst_max", Shape::Sine);
    let rows = parallel_map(&points, |p| (*p, measure_pinst_max(p, 10_240.0).0));
    let worst = report("table 1 (further pairs), 10.24 kHz: Pinst max", &rows);
    assert!(worst < PINST_TOLERANCE, "worst {worst:.2} %");
}

#[test]
fn table2_rectangular_pinst_max() {
    let points = load(
        FURTHER_JSON,
        "table2_rectangular_pinst_max",
        Shape::Rectangular,
    );
    let rows = parallel_map(&points, |p| (*p, measure_pinst_max(p, 6400.0).0));
    let mut worst: f64 = 0.0;
    for (lamp, hz) in pairs() {
        let part: Vec<_> = rows
            .iter()
            .filter(|r| r.0.lamp == lamp && r.0.supply.hz() == hz)
            .cloned()
            .collect();
        worst = worst.max(report(
            &format!(
                "table 2, {} lamp on {hz} Hz, 6.4 kHz: Pinst max",
                lamp.name()
            ),
            &part,
        ));
    }
    assert!(worst < PINST_TOLERANCE, "worst {worst:.2} %");
}

#[test]
fn table5_rectangular_pst_other_pairs() {
    let points = load(FURTHER_JSON, "table5_rectangular_pst", Shape::Rectangular);
    let rows = parallel_map(&points, |p| (*p, measure_pst(p, 4000.0).0));
    let worst = report("table 5 (further pairs), 4 kHz: Pst", &rows);
    assert!(worst < PST_TOLERANCE, "worst {worst:.2} %");
}
