//! The flickermeter as a stream: chunk invariance, the clock, Plt, settling, missing
//! samples, gaps, the lamp rule and bad options; and a cross-check against the
//! scenario generator (`pqe_dsp::synth`).

mod flicker_support;

use flicker_support::{clock, modulated_sample, run_meter, Run, Shape, TestPoint};
use pqe_core::record::{FlickerRecord, FlickerSeverity};
use pqe_core::{NominalFrequency, Timestamp};
use pqe_dsp::synth::Scenario;
use pqe_standards::iec61000_4_15::{long_term_severity, FlickerOptions, Flickermeter, Lamp};
use std::f64::consts::PI;

fn point(shape: Shape, fmod: f64, dvv_percent: f64) -> TestPoint {
    TestPoint {
        lamp: Lamp::V230,
        supply: NominalFrequency::Hz50,
        shape,
        fmod,
        cpm: None,
        dvv_percent,
    }
}

/// Everything a record holds, as bits.
fn record_bits(r: &FlickerRecord) -> Vec<u64> {
    vec![
        r.severity as u64,
        r.t.to_bits(),
        r.start.as_nanos() as u64,
        r.value.to_bits(),
        r.pinst_max.to_bits(),
        r.observed.to_bits(),
        u64::from(r.flagged),
        u64::from(r.flags.settling) << 3
            | u64::from(r.flags.incomplete) << 2
            | u64::from(r.flags.missing_samples) << 1
            | u64::from(r.flags.member_flagged),
    ]
}

fn run_bits(run: &Run) -> (Vec<Vec<u64>>, Vec<[u64; 4]>) {
    (
        run.records.iter().map(record_bits).collect(),
        run.pinst
            .iter()
            .map(|p| [p.0.to_bits(), p.1.to_bits(), p.2.to_bits(), u64::from(p.3)])
            .collect(),
    )
}

/// A signal with two modulations, a burst of NaN and an infinite sample.
fn eventful_sample(fs: f64, i: u64) -> f64 {
    let t = i as f64 / fs;
    if (40.0..40.05).contains(&t) {
        return f64::NAN;
    }
    if i == (70.0 * fs) as u64 {
        return f64::INFINITY;
    }
    let sine = point(Shape::Sine, 8.8, 0.25);
    let rect = point(Shape::Rectangular, 110.0 / 120.0, 0.722);
    let base = modulated_sample(if t < 60.0 { &sine } else { &rect }, fs, i);
    base * (1.0 + 0.002 * (t / 30.0).sin())
}

#[test]
fn records_and_pinst_do_not_depend_on_the_cut() {
    let fs = 4000.0;
    let n = (130.0 * fs) as u64;
    let start = clock(600.0 - 100.0);
    let make = || {
        let options = FlickerOptions {
            settling_time: 10.0,
            pinst_step: Some(0.25),
            column: "U_A".into(),
            ..FlickerOptions::for_lamp(Lamp::V230)
        };
        Flickermeter::new(fs, NominalFrequency::Hz50, start, clock(0.0), options).unwrap()
    };
    let reference = run_meter(make(), n, 4096, |i| eventful_sample(fs, i));
    assert!(reference.pst().len() >= 2, "{:?}", reference.records);
    assert!(reference.pinst.len() > 300);
    let expected = run_bits(&reference);
    for cut in [1usize, 7, 1000, 65536] {
        let run = run_meter(make(), n, cut, |i| eventful_sample(fs, i));
        assert!(run_bits(&run) == expected, "cut {cut} differs");
    }
    // Irregular cuts.
    let signal: Vec<f64> = (0..n).map(|i| eventful_sample(fs, i)).collect();
    let mut meter = make();
    let mut run = Run::default();
    let (mut at, mut k) = (0usize, 1usize);
    while at < signal.len() {
        let len = (k * 7919 % 5003 + 1).min(signal.len() - at);
        meter.push(&signal[at..at + len]);
        at += len;
        k += 1;
        while let Some(p) = meter.next_pinst() {
            run.pinst.push((p.t, p.max, p.mean, p.settling));
        }
    }
    meter.finish();
    while let Some(r) = meter.next_record() {
        run.records.push(r);
    }
    while let Some(p) = meter.next_pinst() {
        run.pinst.push((p.t, p.max, p.mean, p.settling));
    }
    assert!(run_bits(&run) == expected, "irregular cuts differ");
    assert!(reference.records.iter().all(|r| r.column == "U_A"));
}

#[test]
fn missing_samples_flag_the_period_and_the_meter_settles_again() {
    let fs = 6400.0;
    let p = point(Shape::Sine, 8.8, 0.25);
    let start = clock(0.0);
    let options = FlickerOptions {
        pinst_step: Some(0.5),
        ..FlickerOptions::for_lamp(Lamp::V230)
    };
    let meter = Flickermeter::new(fs, NominalFrequency::Hz50, start, start, options).unwrap();
    let hole = (40.0 * fs) as u64..(40.2 * fs) as u64;
    let run = run_meter(meter, (110.0 * fs) as u64, 1000, |i| {
        if hole.contains(&i) {
            f64::NAN
        } else {
            modulated_sample(&p, fs, i)
        }
    });
    let pst = run.pst();
    assert_eq!(pst.len(), 1);
    assert!(pst[0].flags.missing_samples && pst[0].flags.incomplete && pst[0].flagged);
    // No Pinst while stopped, settling for 10 s after, then the calibrated level again.
    assert!(!run.pinst.iter().any(|v| v.0 > 40.1 && v.0 < 40.2));
    assert!(run
        .pinst
        .iter()
        .filter(|v| v.0 > 40.5 && v.0 < 50.0)
        .all(|v| v.3));
    let after: f64 = run
        .pinst
        .iter()
        .filter(|v| v.0 > 52.0)
        .map(|v| v.1)
        .fold(0.0, f64::max);
    assert!(
        (after - 1.0).abs() < 0.02,
        "Pinst max after the hole {after}"
    );
    assert!(run.pinst.iter().all(|v| v.1.is_finite()));
}

#[test]
fn pst_periods_follow_the_clock() {
    // A recording starting at 00:07:13: Pst at 00:00 (part, settling), 00:10 (complete)
    // and 00:20 (cut by the end at 00:24:13); one Plt period from 00:00, incomplete.
    let fs = 2000.0;
    let p = point(Shape::Rectangular, 110.0 / 120.0, 0.722);
    let start = clock(7.0 * 60.0 + 13.0);
    let meter = Flickermeter::new(
        fs,
        NominalFrequency::Hz50,
        start,
        start,
        FlickerOptions::for_udin(230.0),
    )
    .unwrap();
    let run = run_meter(meter, (17.0 * 60.0 * fs) as u64, 65536, |i| {
        modulated_sample(&p, fs, i)
    });
    let pst = run.pst();
    assert_eq!(pst.len(), 3, "{:?}", run.records);
    let starts: Vec<i64> = pst.iter().map(|r| r.start.as_nanos()).collect();
    assert_eq!(
        starts,
        [0.0, 600.0, 1200.0].map(|s| clock(s).as_nanos()).to_vec()
    );
    assert!((pst[0].t + 433.0).abs() < 1e-9 && (pst[1].t - 167.0).abs() < 1e-9);
    assert!(pst[0].flags.incomplete && pst[0].flags.settling);
    assert!(!pst[1].flagged, "{:?}", pst[1]);
    assert!((pst[1].value - 1.0).abs() < 0.02, "{}", pst[1].value);
    assert!((pst[1].observed - 600.0).abs() < 0.01);
    assert!(pst[2].flags.incomplete && !pst[2].flags.settling);
    assert!((pst[2].observed - 253.0).abs() < 0.1, "{}", pst[2].observed);
    let plt = run.plt();
    assert_eq!(plt.len(), 1);
    assert_eq!(plt[0].start, clock(0.0));
    assert!(plt[0].flags.incomplete && plt[0].flags.member_flagged);
    assert_eq!(plt[0].observed, 3.0);
    assert_eq!(run.records.last().unwrap().severity, FlickerSeverity::Plt);
}

#[test]
fn plt_is_the_cube_mean_of_the_twelve_pst_of_two_hours() {
    // 01:59:00 to 04:00:01 with a depth that changes every 10 min.
    let fs = 2000.0;
    let start = clock(2.0 * 3600.0 - 60.0);
    let meter = Flickermeter::new(
        fs,
        NominalFrequency::Hz50,
        start,
        start,
        FlickerOptions::for_lamp(Lamp::V230),
    )
    .unwrap();
    let n = ((2.0 * 3600.0 + 61.0) * fs) as u64;
    let run = run_meter(meter, n, 65536, |i| {
        let period = ((i as f64 / fs - 60.0) / 600.0).floor().max(0.0);
        let p = point(Shape::Rectangular, 110.0 / 120.0, 0.4 + 0.05 * period);
        modulated_sample(&p, fs, i)
    });
    let plt: Vec<_> = run
        .plt()
        .into_iter()
        .filter(|r| r.start == clock(7200.0))
        .collect();
    assert_eq!(plt.len(), 1, "{:?}", run.plt());
    let members: Vec<f64> = run
        .pst()
        .iter()
        .filter(|r| r.start >= clock(7200.0) && r.start < clock(4.0 * 3600.0))
        .map(|r| r.value)
        .collect();
    assert_eq!(members.len(), 12);
    assert!(members.windows(2).all(|w| w[1] > w[0]), "{members:?}");
    let cube_mean = (members.iter().map(|v| v * v * v).sum::<f64>() / 12.0).cbrt();
    assert!((plt[0].value - cube_mean).abs() < 1e-12);
    assert!((plt[0].value - long_term_severity(&members)).abs() < 1e-15);
    assert!(!plt[0].flagged, "{:?}", plt[0]);
    assert_eq!(plt[0].observed, 12.0);
    assert!((plt[0].duration - 7200.0).abs() < 1e-9);
    println!("Pst of 02:00–04:00: {members:.4?}; Plt {:.4}", plt[0].value);
}

#[test]
fn a_gap_cuts_the_period_and_the_meter_settles_again() {
    let fs = 4000.0;
    let p = point(Shape::Sine, 8.8, 0.25);
    let start = clock(0.0);
    let options = FlickerOptions {
        pinst_step: Some(1.0),
        ..FlickerOptions::for_lamp(Lamp::V230)
    };
    let mut meter = Flickermeter::new(fs, NominalFrequency::Hz50, start, start, options).unwrap();
    let block: Vec<f64> = (0..(100.0 * fs) as u64)
        .map(|i| modulated_sample(&p, fs, i))
        .collect();
    meter.push(&block);
    // Continuing exactly where the samples end is no gap; before it is an error.
    assert!(meter.resume_at(clock(100.0)).is_ok());
    assert!(meter.resume_at(clock(99.0)).is_err());
    meter.resume_at(clock(150.0)).unwrap();
    meter.push(&block);
    meter.finish();
    let mut pinst = Vec::new();
    while let Some(v) = meter.next_pinst() {
        pinst.push(v);
    }
    let records: Vec<_> = std::iter::from_fn(|| meter.next_record()).collect();
    let pst: Vec<_> = records
        .iter()
        .filter(|r| r.severity == FlickerSeverity::Pst)
        .collect();
    assert_eq!(pst.len(), 1);
    assert!(pst[0].flags.incomplete && pst[0].flags.settling);
    assert!((pst[0].observed - 180.0).abs() < 0.1, "{}", pst[0].observed);
    assert!(!pinst.iter().any(|v| v.t > 100.0 && v.t < 150.0));
    assert!(pinst
        .iter()
        .filter(|v| v.t > 150.0 && v.t < 160.0)
        .all(|v| v.settling));
    let late = pinst
        .iter()
        .filter(|v| v.t > 162.0)
        .map(|v| v.max)
        .fold(0.0, f64::max);
    assert!((late - 1.0).abs() < 0.02, "{late}");
}

#[test]
fn a_dead_channel_has_no_flicker_and_no_nan() {
    let start = clock(0.0);
    let mut meter = Flickermeter::new(
        4000.0,
        NominalFrequency::Hz60,
        start,
        start,
        FlickerOptions::for_lamp(Lamp::V120),
    )
    .unwrap();
    meter.push(&vec![0.0; 4000 * 60]);
    meter.finish();
    let r = meter.next_record().unwrap();
    assert_eq!(r.value, 0.0);
    assert_eq!(meter.pinst(), 0.0);
}

#[test]
fn the_lamp_follows_udin_and_bad_options_are_errors() {
    for (udin, lamp) in [
        (100.0, Lamp::V120),
        (120.0, Lamp::V120),
        (127.0, Lamp::V120),
        (169.9, Lamp::V120),
        (170.0, Lamp::V230),
        (220.0, Lamp::V230),
        (230.0, Lamp::V230),
        (240.0, Lamp::V230),
    ] {
        assert_eq!(Lamp::for_udin(udin).unwrap(), lamp, "{udin} V");
        let options = FlickerOptions::for_udin(udin);
        let m = Flickermeter::new(
            6400.0,
            NominalFrequency::Hz50,
            clock(0.0),
            clock(0.0),
            options,
        )
        .unwrap();
        assert_eq!(m.lamp(), lamp);
    }
    // An explicit lamp wins over Udin.
    let options = FlickerOptions {
        lamp: Some(Lamp::V230),
        ..FlickerOptions::for_udin(120.0)
    };
    let m = Flickermeter::new(
        6400.0,
        NominalFrequency::Hz60,
        clock(0.0),
        clock(0.0),
        options,
    )
    .unwrap();
    assert_eq!(m.lamp(), Lamp::V230);
    assert!((m.decimated_rate() - 1066.6666666666667).abs() < 1e-9);
    let new = |fs: f64, options: FlickerOptions| {
        Flickermeter::new(fs, NominalFrequency::Hz50, clock(0.0), clock(0.0), options)
    };
    let errors = [
        new(6400.0, FlickerOptions::default()),
        new(1999.0, FlickerOptions::for_lamp(Lamp::V230)),
        new(f64::NAN, FlickerOptions::for_lamp(Lamp::V230)),
        new(6400.0, FlickerOptions::for_udin(-5.0)),
        new(
            6400.0,
            FlickerOptions {
                decimated_rate: 100.0,
                ..FlickerOptions::for_lamp(Lamp::V230)
            },
        ),
        new(
            6400.0,
            FlickerOptions {
                settling_time: f64::INFINITY,
                ..FlickerOptions::for_lamp(Lamp::V230)
            },
        ),
        new(
            6400.0,
            FlickerOptions {
                pinst_step: Some(0.0),
                ..FlickerOptions::for_lamp(Lamp::V230)
            },
        ),
    ];
    for (k, e) in errors.into_iter().enumerate() {
        let message = e.expect_err(&format!("case {k}")).to_string();
        assert!(message.contains("flicker"), "{message}");
    }
}

#[test]
fn generator_scenario_at_the_pst_1_point() {
    // Table 5, 110 changes per minute at 0.722 %, rendered by the scenario generator,
    // starting 40 s before a 10-min tick of the clock.
    let scenario = Scenario::from_toml_str(
        r#"
        sample_rate = 6400
        duration = 641.0
        start = "2024-01-01T00:09:20Z"
        wiring = "single"
        [[flicker]]
        shape = "rectangular"
        depth = 0.722
        changes_per_minute = 110
        "#,
    )
    .unwrap();
    let ua = scenario.channel_index("U_A").expect("U_A");
    let start: Timestamp = scenario.start();
    let mut meter = Flickermeter::new(
        scenario.sample_rate(),
        scenario.nominal_frequency(),
        start,
        start,
        FlickerOptions::for_udin(scenario.udin()),
    )
    .unwrap();
    let mut g = scenario.generator();
    while let Some(block) = g.next_block(10_000) {
        meter.push(block.channel(ua));
    }
    meter.finish();
    let records: Vec<_> = std::iter::from_fn(|| meter.next_record()).collect();
    let complete: Vec<_> = records
        .iter()
        .filter(|r| r.severity == FlickerSeverity::Pst && !r.flagged)
        .collect();
    assert_eq!(complete.len(), 1, "{records:?}");
    println!(
        "generator scenario, 110 cpm 0.722 %: Pst {:.4}",
        complete[0].value
    );
    assert!((complete[0].value - 1.0).abs() < 0.02);
}

/// A distorted voltage off the nominal frequency: the harmonics' products in `u²` lie at
/// multiples of the supply frequency, near multiples of the decimated rate for some, and
/// must neither alias into the flicker band nor disturb the calibrated response.
#[test]
fn harmonics_and_frequency_deviation_do_not_disturb_the_meter() {
    let fs = 10_240.0;
    let harmonics = [
        (3.0, 0.05),
        (5.0, 0.06),
        (7.0, 0.05),
        (9.0, 0.015),
        (11.0, 0.035),
        (13.0, 0.03),
    ];
    println!("\ndistorted supply (THD ≈ 11 %), 10.24 kHz: Pinst max");
    for (nominal, f) in [
        (NominalFrequency::Hz50, 49.5),
        (NominalFrequency::Hz50, 50.5),
        (NominalFrequency::Hz60, 59.4),
        (NominalFrequency::Hz60, 60.6),
    ] {
        for depth in [0.0, 0.25] {
            let options = FlickerOptions {
                pinst_step: Some(0.5),
                ..FlickerOptions::for_lamp(Lamp::V230)
            };
            let meter = Flickermeter::new(fs, nominal, clock(0.0), clock(0.0), options).unwrap();
            let run = run_meter(meter, (50.0 * fs) as u64, 8192, |i| {
                let t = i as f64 / fs;
                let envelope = 1.0 + 0.5 * depth / 100.0 * (2.0 * PI * (8.8 * t).fract()).sin();
                let wave: f64 = std::iter::once((1.0, 1.0))
                    .chain(harmonics)
                    .map(|(h, a)| a * (2.0 * PI * (h * f * t).fract()).sin())
                    .sum();
                325.0 * envelope * wave
            });
            let max = run.pinst_max();
            println!("  {f} Hz, ΔV/V {depth:.2} %: {max:.5}");
            if depth == 0.0 {
                assert!(max < 1e-3, "{f} Hz without modulation: {max}");
            } else {
                assert!((max - 1.0).abs() < 0.02, "{f} Hz: {max}");
            }
        }
    }
}

#[test]
fn a_recording_of_exactly_one_period_gives_a_complete_pst() {
    let fs = 2000.0;
    let p = point(Shape::Rectangular, 110.0 / 120.0, 0.722);
    let start = clock(600.0);
    let options = FlickerOptions {
        settling_time: 0.0,
        ..FlickerOptions::for_lamp(Lamp::V230)
    };
    let meter = Flickermeter::new(fs, NominalFrequency::Hz50, start, start, options).unwrap();
    let run = run_meter(meter, (600.0 * fs) as u64, 65536, |i| {
        modulated_sample(&p, fs, i)
    });
    let pst = run.pst();
    assert_eq!(pst.len(), 1, "{:?}", run.records);
    assert!(!pst[0].flagged, "{:?}", pst[0]);
    assert_eq!(pst[0].t, 0.0);
    // With no settling time every value counts: the fade-in keeps the start harmless.
    println!(
        "one period from the start, no settling time: Pst {:.4}",
        pst[0].value
    );
    assert!((pst[0].value - 1.0).abs() < 0.02, "{}", pst[0].value);
}
