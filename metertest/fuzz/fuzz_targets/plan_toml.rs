//! The test-plan reader on arbitrary text: never panics; a refused plan names a line inside
//! the text, and an accepted plan has points whose gates and run times are finite, and a
//! link for every meter when it reads meters through links.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_metertest::plan::{Plan, PointKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Plan::from_toml(text, "fuzz.toml", "fuzz") {
        Err(e) => {
            let lines = text.matches('\n').count() + 1;
            assert!(e.line <= lines, "{e}: the text has {lines} lines");
        }
        Ok(plan) => {
            assert!(!plan.points.is_empty());
            for p in &plan.points {
                match &p.kind {
                    PointKind::Accuracy {
                        current_a, pulses, ..
                    } => {
                        assert!(current_a.is_finite() && *current_a > 0.0);
                        assert!(*pulses >= 1);
                    }
                    PointKind::Starting { window, .. } => assert!(window.window_s > 0.0),
                    PointKind::NoLoad { rule } => assert!(rule.duration_s > 0.0),
                    PointKind::Register {
                        current_a,
                        duration_s,
                        kwh_per_unit,
                        ..
                    } => {
                        assert!(current_a.is_finite() && *current_a > 0.0);
                        assert!(*duration_s > 0.0 && *kwh_per_unit > 0.0);
                        for serial in &plan.meter.serials {
                            assert!(plan.links.contains_key(serial));
                        }
                    }
                    PointKind::Function {
                        expect, tolerance, ..
                    } => {
                        assert!(expect.is_finite() && *tolerance >= 0.0);
                        for serial in &plan.meter.serials {
                            assert!(plan.links.contains_key(serial));
                        }
                    }
                }
            }
        }
    }
});
