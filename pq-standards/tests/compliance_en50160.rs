//! EN 50160:2010 weekly assessment on hand-computed cases.

use pqe_standards::en50160::{
    assess, Criterion, En50160Input, EventInput, EventKind, HarmonicSeries, PhaseInput,
};
use pqe_standards::limits::Verdict;

const WEEK: f64 = 604_800.0;

fn find<'a>(criteria: &'a [Criterion], name: &str) -> &'a Criterion {
    match criteria.iter().find(|c| c.name.starts_with(name)) {
        Some(c) => c,
        None => panic!(
            "no criterion '{name}' in {:?}",
            criteria.iter().map(|c| &c.name).collect::<Vec<_>>()
        ),
    }
}

fn base<'a>() -> En50160Input<'a> {
    En50160Input {
        udin: 230.0,
        nominal_frequency: 50.0,
        observation_seconds: WEEK,
        ..Default::default()
    }
}

/// 19 of 20 values within ±10 % is exactly 95 %: pass. 18 of 20 is 90 %: fail.
#[test]
fn voltage_exactly_at_the_95_percent_boundary_passes() {
    let mut v: Vec<(f64, bool)> = vec![(230.0, false); 19];
    v.push((254.0, false)); // +10.43 %: outside ±10 % and above the +10 % upper end
    let phase = PhaseInput {
        name: "U_A",
        voltage: &v,
        ..Default::default()
    };
    let input = En50160Input {
        phases: vec![phase],
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    assert_eq!(c.values_used, 20);
    assert_eq!(c.percent_within, Some(95.0));
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(c.worst, Some(254.0));
    assert_eq!(c.limit, "230 V ±10 % (207–253 V)");
    // The same value breaks the 100 % band (+10 % upper end).
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (100 %)");
    assert_eq!(c.verdict, Verdict::Fail);

    let mut v2 = v.clone();
    v2[0] = (200.0, false); // −13 %: outside ±10 %, inside −15 %.
    let input = En50160Input {
        phases: vec![PhaseInput {
            name: "U_A",
            voltage: &v2,
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    assert_eq!(c.percent_within, Some(90.0));
    assert_eq!(c.verdict, Verdict::Fail);
}

/// Values exactly at the band's ends comply: 207 V and 253 V for 230 V ±10 %.
#[test]
fn band_ends_are_inside() {
    let v = [(207.0, false), (253.0, false), (195.5, false)];
    let input = En50160Input {
        phases: vec![PhaseInput {
            name: "U_A",
            voltage: &v,
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    let narrow = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    // 195.5 V is −15 %: outside ±10 %, exactly at the 100 % band's lower end.
    assert_eq!(narrow.values_used, 3);
    let within = narrow.percent_within.unwrap();
    assert!((within - 200.0 / 3.0).abs() < 1e-12, "{within}");
    let wide = find(&a.criteria, "Supply voltage U_A, 10-min mean (100 %)");
    assert_eq!(wide.percent_within, Some(100.0));
    assert_eq!(wide.limit, "230 V +10 %/−15 % (195.5–253 V)");
    assert_eq!(wide.verdict, Verdict::Pass);
}

/// Flagged values are left out and counted; so are NaN values.
#[test]
fn flagged_values_are_excluded() {
    let mut thd: Vec<(f64, bool)> = vec![(3.0, false); 19];
    thd.push((12.0, true)); // would fail if counted
    thd.push((f64::NAN, false));
    thd.push((9.0, false)); // 1 of 20 above 8 %: 95 % exactly
    let input = En50160Input {
        phases: vec![PhaseInput {
            name: "U_B",
            thd: &thd,
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "THD U_B");
    assert_eq!(c.values_used, 20);
    assert_eq!(c.values_flagged, 2);
    assert_eq!(c.percent_within, Some(95.0));
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(c.worst, Some(9.0));
}

#[test]
fn frequency_bands() {
    // 199 of 200 within ±1 % (49.5–50.5): 99.5 % exactly; one at 47.0 Hz (−6 % exactly).
    let mut f: Vec<(f64, bool)> = vec![(50.5, false); 199];
    f.push((47.0, false));
    let input = En50160Input {
        frequency_10s: &f,
        ..base()
    };
    let a = assess(&input).unwrap();
    let narrow = find(&a.criteria, "Frequency, 10-s mean (99.5 %)");
    assert_eq!(narrow.percent_within, Some(99.5));
    assert_eq!(narrow.verdict, Verdict::Pass);
    let wide = find(&a.criteria, "Frequency, 10-s mean (100 %)");
    assert_eq!(wide.verdict, Verdict::Pass);
    // 46.99 Hz breaks −6 %.
    f[199] = (46.99, false);
    let input = En50160Input {
        frequency_10s: &f,
        ..base()
    };
    let a = assess(&input).unwrap();
    assert_eq!(
        find(&a.criteria, "Frequency, 10-s mean (100 %)").verdict,
        Verdict::Fail
    );
    // Still 199 of 200 within ±1 %.
    assert_eq!(
        find(&a.criteria, "Frequency, 10-s mean (99.5 %)").verdict,
        Verdict::Pass
    );
    // A second value outside ±1 % makes 99 %.
    f[0] = (50.51, false);
    let input = En50160Input {
        frequency_10s: &f,
        ..base()
    };
    let a = assess(&input).unwrap();
    let narrow = find(&a.criteria, "Frequency, 10-s mean (99.5 %)");
    assert_eq!(narrow.percent_within, Some(99.0));
    assert_eq!(narrow.verdict, Verdict::Fail);
}

#[test]
fn flicker_unbalance_and_harmonics() {
    let plt = [(1.0, false), (0.5, false), (1.2, true)];
    let u2 = [(2.0, false), (2.01, false)];
    let h5: Vec<(f64, bool)> = vec![(6.0, false), (5.9, false)];
    let h2: Vec<(f64, bool)> = vec![(2.5, false)];
    let input = En50160Input {
        unbalance: &u2,
        phases: vec![PhaseInput {
            name: "U_C",
            plt: &plt,
            harmonics: vec![
                HarmonicSeries {
                    order: 5,
                    values: &h5,
                },
                HarmonicSeries {
                    order: 2,
                    values: &h2,
                },
                HarmonicSeries {
                    order: 40,
                    values: &h2,
                },
            ],
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Flicker Plt U_C");
    assert_eq!((c.values_used, c.values_flagged), (2, 1));
    assert_eq!(c.verdict, Verdict::Pass);
    let c = find(&a.criteria, "Unbalance u2");
    assert_eq!(c.percent_within, Some(50.0));
    assert_eq!(c.verdict, Verdict::Fail);
    let c = find(&a.criteria, "Harmonic 5 U_C");
    assert_eq!(c.verdict, Verdict::Pass);
    assert!(c.limit.contains("6 %"));
    let c = find(&a.criteria, "Harmonic 2 U_C");
    assert_eq!(c.verdict, Verdict::Fail);
    // Order 40 has no individual limit: no criterion.
    assert!(!a.criteria.iter().any(|c| c.name.starts_with("Harmonic 40")));
    // Orders come out sorted.
    let h2 = a
        .criteria
        .iter()
        .position(|c| c.name.starts_with("Harmonic 2 "));
    let h5 = a
        .criteria
        .iter()
        .position(|c| c.name.starts_with("Harmonic 5 "));
    assert!(h2 < h5);
    assert_eq!(a.overall, Verdict::Fail);
}

#[test]
fn shorter_than_a_week_is_not_assessed_with_an_indicative_note() {
    let v = vec![(230.0, false); 6];
    let input = En50160Input {
        observation_seconds: 3600.0,
        phases: vec![PhaseInput {
            name: "U_A",
            voltage: &v,
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    assert!(!a.full_period);
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    assert_eq!(c.verdict, Verdict::NotAssessed);
    assert_eq!(c.percent_within, Some(100.0));
    assert!(
        c.note.contains("shorter than the standard's week"),
        "{}",
        c.note
    );
    assert!(c.note.contains("within the limit"), "{}", c.note);
    assert_eq!(a.overall, Verdict::NotAssessed);

    let input = En50160Input {
        allow_short_observation: true,
        ..input
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    assert_eq!(c.verdict, Verdict::Pass);
    assert!(c.note.contains("shorter"));
}

#[test]
fn no_data_is_not_assessed() {
    let all_flagged = [(230.0, true), (231.0, true)];
    let input = En50160Input {
        phases: vec![PhaseInput {
            name: "U_A",
            voltage: &all_flagged,
            ..Default::default()
        }],
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Supply voltage U_A, 10-min mean (95 %)");
    assert_eq!(c.verdict, Verdict::NotAssessed);
    assert_eq!(c.percent_within, None);
    assert_eq!(c.values_flagged, 2);
    assert!(c.note.contains("flagged"));
    let f = find(&a.criteria, "Frequency, 10-s mean (99.5 %)");
    assert_eq!(
        (f.verdict, f.note.as_str()),
        (Verdict::NotAssessed, "no values")
    );
    let rows = a.table_rows();
    assert_eq!(rows.len(), a.criteria.len());
    assert_eq!(rows[0].verdict, Verdict::NotAssessed);
    assert!(rows[0].criterion.ends_with("[EN 50160 4.2.1]"));
}

fn dip(duration: f64, residual: f64) -> EventInput {
    EventInput {
        kind: EventKind::Dip,
        duration,
        extreme_percent: residual,
    }
}

fn swell(duration: f64, peak: f64) -> EventInput {
    EventInput {
        kind: EventKind::Swell,
        duration,
        extreme_percent: peak,
    }
}

/// Rows 90>u≥80, 80>u≥70, 70>u≥40, 40>u≥5, 5>u; columns 10≤t≤200 ms, 200<t≤500 ms,
/// 500 ms<t≤1 s, 1<t≤5 s, 5<t≤60 s.
#[test]
fn dip_table_bins_at_their_edges() {
    let events = [
        dip(0.010, 80.0),  // row 0 (80 belongs to 90>u≥80), col 0 (10 ms inclusive)
        dip(0.200, 89.99), // row 0, col 0 (200 ms inclusive in the first column)
        dip(0.2001, 70.0), // row 1, col 1
        dip(0.500, 79.9),  // row 1, col 1
        dip(1.0, 40.0),    // row 2, col 2
        dip(5.0, 5.0),     // row 3, col 3
        dip(60.0, 4.99),   // row 4, col 4
        dip(5.0001, 0.0),  // row 4, col 4
        dip(0.0099, 50.0), // shorter than 10 ms: outside
        dip(60.01, 50.0),  // longer than 60 s: outside
        dip(1.0, 90.0),    // 90 % is not below 90: outside
    ];
    let input = En50160Input {
        events: &events,
        ..base()
    };
    let a = assess(&input).unwrap();
    let t = &a.dip_table;
    assert_eq!(t.rows.len(), 5);
    assert_eq!(t.columns.len(), 5);
    let expect = [
        [2, 0, 0, 0, 0],
        [0, 2, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 2],
    ];
    for (r, row) in expect.iter().enumerate() {
        assert_eq!(t.counts[r].as_slice(), row.as_slice(), "row {}", t.rows[r]);
    }
    assert_eq!(t.outside, 3);
    assert_eq!(t.total(), 8);
}

#[test]
fn swell_table_and_interruptions() {
    let events = [
        swell(0.1, 120.0),  // u ≥ 120
        swell(2.0, 119.99), // 120 > u > 110
        swell(2.0, 110.0),  // 110 is not above 110: outside
        EventInput {
            kind: EventKind::Interruption,
            duration: 180.0,
            extreme_percent: 0.5,
        },
        EventInput {
            kind: EventKind::Interruption,
            duration: 180.5,
            extreme_percent: 0.5,
        },
        EventInput {
            kind: EventKind::Rvc,
            duration: 1.0,
            extreme_percent: 96.0,
        },
    ];
    let input = En50160Input {
        events: &events,
        ..base()
    };
    let a = assess(&input).unwrap();
    assert_eq!(a.swell_table.counts[0], vec![1, 0, 0, 0, 0]);
    assert_eq!(a.swell_table.counts[1], vec![0, 0, 0, 1, 0]);
    assert_eq!(a.swell_table.outside, 1);
    assert_eq!((a.interruptions.short, a.interruptions.long), (1, 1));
    assert_eq!(a.rvc_count, 1);
    assert_eq!(a.dip_table.total(), 0);
}

#[test]
fn island_frequency_limits() {
    let f = [(51.0, false), (49.0, false)]; // ±2 %
    let input = En50160Input {
        frequency_10s: &f,
        connection: pqe_standards::en50160::Connection::Island,
        ..base()
    };
    let a = assess(&input).unwrap();
    let c = find(&a.criteria, "Frequency, 10-s mean (95 %)");
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(EventKind::parse(" Dip "), Some(EventKind::Dip));
}
