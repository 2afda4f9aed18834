//! Synthetic report data shared by the report tests and `examples/render_report.rs`: a
//! three-phase LV supply over `hours` hours with harmonics, flicker, a few dips, a swell
//! and an interruption, plus awkward channel names that need escaping.
#![allow(dead_code)]

use pqe_report::{
    AlarmRow, ComplianceRow, ComplianceTable, CountTable, DemandRow, DeratingPoint, EnergyRow,
    EventRow, MeteringSection, MinMaxRow, MotorDerating, Phasor, PlcBandRow, RecordingFacts,
    ReportData, Series, Spectrogram, Spectrum, SupraharmonicSection, SystemFacts, Verdict,
};

/// A deterministic pseudo-random sequence in [-1, 1) (no rand dependency).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Events of the fixture: (kind, start s, duration s, extreme %, phases).
pub fn fixture_events(hours: f64) -> Vec<EventRow> {
    let span = hours * 3600.0;
    let list = [
        ("dip", 0.11, 0.08, 72.0, "A"),
        ("dip", 0.23, 0.35, 55.0, "A B C"),
        ("dip", 0.41, 1.6, 84.0, "B"),
        ("dip", 0.47, 0.012, 30.0, "C"),
        ("swell", 0.58, 0.9, 116.0, "A"),
        ("interruption", 0.66, 4.2, 0.4, "A B C"),
        ("rvc", 0.78, 1.2, 95.5, "A"),
        ("dip", 0.86, 12.0, 88.0, "A B"),
    ];
    list.iter()
        .map(|(kind, at, d, x, ph)| EventRow {
            kind: kind.to_string(),
            start: at * span,
            start_text: String::new(),
            duration: *d,
            extreme_percent: *x,
            phases: ph.to_string(),
            direction: if kind == &"dip" {
                "upstream (high)".into()
            } else {
                String::new()
            },
        })
        .collect()
}

fn flagged_at(t: f64, events: &[EventRow]) -> bool {
    events
        .iter()
        .any(|e| e.kind != "rvc" && t + 3.0 >= e.start && t <= e.start + e.duration)
}

/// The full fixture. `step` is the spacing of the RMS trend values in seconds.
pub fn sample_data(hours: f64, step: f64) -> ReportData {
    let span = hours * 3600.0;
    let events = fixture_events(hours);
    let mut noise = Noise(7);
    let phases = ["U_A", "U_B", "U_C"];
    let n = (span / step) as usize;
    let t: Vec<f64> = (0..n).map(|i| i as f64 * step).collect();
    let day = |t: f64| (2.0 * std::f64::consts::PI * t / 86_400.0).sin();
    let rms_voltage: Vec<Series> = phases
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let mut values = Vec::with_capacity(n);
            let mut flagged = Vec::with_capacity(n);
            for &ti in &t {
                let mut v = 230.0 + 3.0 * day(ti + p as f64 * 3000.0) + 0.6 * noise.next();
                let f = flagged_at(ti, &events);
                if f {
                    v = 200.0 + 10.0 * noise.next();
                }
                values.push(v);
                flagged.push(f);
            }
            // A gap of missing values.
            for v in values.iter_mut().skip(n / 3).take(n / 50) {
                *v = f64::NAN;
            }
            Series {
                name: name.to_string(),
                unit: "V".into(),
                t: t.clone(),
                values,
                flagged,
            }
        })
        .collect();
    let rms_current: Vec<Series> = ["I_A", "I_B", "I_C"]
        .iter()
        .enumerate()
        .map(|(p, name)| Series {
            name: name.to_string(),
            unit: "A".into(),
            t: t.clone(),
            values: t
                .iter()
                .map(|&ti| 80.0 + 25.0 * day(ti - 20_000.0 + p as f64 * 900.0) + 4.0 * noise.next())
                .collect(),
            flagged: vec![],
        })
        .collect();
    let t10: Vec<f64> = (0..(span / 10.0) as usize)
        .map(|i| i as f64 * 10.0)
        .collect();
    let frequency = vec![Series {
        name: "f".into(),
        unit: "Hz".into(),
        values: t10
            .iter()
            .map(|&ti| 50.0 + 0.03 * day(ti * 7.0) + 0.01 * noise.next())
            .collect(),
        flagged: t10.iter().map(|&ti| flagged_at(ti, &events)).collect(),
        t: t10.clone(),
    }];
    let t600: Vec<f64> = (0..(span / 600.0) as usize)
        .map(|i| i as f64 * 600.0)
        .collect();
    let thd: Vec<Series> = phases
        .iter()
        .enumerate()
        .map(|(p, name)| Series {
            name: format!("THD_{name}"),
            unit: "%".into(),
            values: t600
                .iter()
                .map(|&ti| 3.2 + 0.4 * p as f64 + 1.2 * day(ti - 30_000.0) + 0.2 * noise.next())
                .collect(),
            flagged: t600.iter().map(|&ti| flagged_at(ti, &events)).collect(),
            t: t600.clone(),
        })
        .collect();
    let pst: Vec<Series> = phases
        .iter()
        .enumerate()
        .map(|(p, name)| Series {
            name: format!("Pst_{}", &name[2..]),
            unit: String::new(),
            values: t600
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    0.35 + 0.05 * p as f64
                        + if i % 17 == 5 {
                            1.3
                        } else {
                            0.1 * noise.next().abs()
                        }
                })
                .collect(),
            flagged: vec![],
            t: t600.clone(),
        })
        .collect();
    let t2h: Vec<f64> = (1..=(span / 7200.0) as usize)
        .map(|i| i as f64 * 7200.0)
        .collect();
    let plt: Vec<Series> = phases
        .iter()
        .map(|name| Series {
            name: format!("Plt_{}", &name[2..]),
            unit: String::new(),
            values: t2h
                .iter()
                .map(|_| 0.55 + 0.2 * noise.next().abs())
                .collect(),
            flagged: vec![],
            t: t2h.clone(),
        })
        .collect();
    let en_limits: Vec<(usize, f64)> = vec![
        (2, 2.0),
        (3, 5.0),
        (4, 1.0),
        (5, 6.0),
        (6, 0.5),
        (7, 5.0),
        (8, 0.5),
        (9, 1.5),
        (10, 0.5),
        (11, 3.5),
        (12, 0.5),
        (13, 3.0),
        (14, 0.5),
        (15, 0.5),
        (16, 0.5),
        (17, 2.0),
        (18, 0.5),
        (19, 1.5),
        (20, 0.5),
        (21, 0.5),
        (22, 0.5),
        (23, 1.5),
        (24, 0.5),
        (25, 1.5),
    ];
    let spectra: Vec<Spectrum> = phases
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let level = |h: usize| -> f64 {
                match h {
                    3 => 1.4,
                    5 => 3.6 + 0.9 * p as f64,
                    7 => 2.2,
                    9 => 0.4,
                    11 => 1.3,
                    13 => 0.9,
                    15 => 0.62,
                    h if h % 2 == 1 => 2.5 / h as f64,
                    _ => 0.08,
                }
            };
            Spectrum {
                channel: name.to_string(),
                reference: "% of U1".into(),
                mean: (2..=40).map(|h| (h, level(h) * 0.8)).collect(),
                p95: (2..=40).map(|h| (h, level(h))).collect(),
                limits: en_limits.clone(),
                limit_source: "EN 50160 Table 1".into(),
            }
        })
        .collect();
    let phasors = vec![
        Phasor {
            channel: "U_A".into(),
            unit: "V".into(),
            magnitude: 230.4,
            angle_degrees: 0.0,
        },
        Phasor {
            channel: "U_B".into(),
            unit: "V".into(),
            magnitude: 229.1,
            angle_degrees: -120.3,
        },
        Phasor {
            channel: "U_C".into(),
            unit: "V".into(),
            magnitude: 231.0,
            angle_degrees: 119.6,
        },
        Phasor {
            channel: "I_A".into(),
            unit: "A".into(),
            magnitude: 82.0,
            angle_degrees: -25.0,
        },
        Phasor {
            channel: "I_B".into(),
            unit: "A".into(),
            magnitude: 78.5,
            angle_degrees: -146.0,
        },
        Phasor {
            channel: "I_C".into(),
            unit: "A".into(),
            magnitude: 85.2,
            angle_degrees: 93.0,
        },
    ];
    let row = |c: &str, l: &str, m: &str, r: &str, v: Verdict, note: &str| ComplianceRow {
        criterion: c.into(),
        limit: l.into(),
        measured: m.into(),
        required: r.into(),
        verdict: v,
        note: note.into(),
    };
    let short = format!("observation {hours} h is shorter than the standard's week");
    let compliance = vec![
        ComplianceTable {
            title: "EN 50160:2010 (LV)".into(),
            notes: vec![format!("Observation {hours} h; flagged values left out.")],
            overall: Verdict::NotAssessed,
            rows: vec![
                row(
                    "Frequency, 10-s mean (99.5 %) [4.2.1]",
                    "50 Hz ±1 % (49.5–50.5 Hz)",
                    "100.00 % of 8640 values (12 flagged left out)",
                    "≥ 99.5 %",
                    Verdict::NotAssessed,
                    &short,
                ),
                row(
                    "Supply voltage U_A (95 %) [4.2.2]",
                    "230 V ±10 % (207–253 V)",
                    "100.00 %",
                    "≥ 95 %",
                    Verdict::Pass,
                    "",
                ),
                row(
                    "Flicker Plt U_A [4.2.3.2]",
                    "Plt ≤ 1",
                    "100.00 %",
                    "≥ 95 %",
                    Verdict::Pass,
                    "",
                ),
                row(
                    "Unbalance u2 [4.2.4]",
                    "u2 ≤ 2 %",
                    "no usable values (0 flagged)",
                    "≥ 95 %",
                    Verdict::NotAssessed,
                    "no values",
                ),
                row(
                    "Harmonic 5 U_C [4.2.5 Table 1]",
                    "H5 ≤ 6 % of U1",
                    "93.10 % of 144 values",
                    "≥ 95 %",
                    Verdict::Fail,
                    "",
                ),
            ],
        },
        ComplianceTable {
            title: "IEEE 519-2022".into(),
            notes: vec!["Table 1: V ≤ 1.0 kV; Table 2 (120 V – 69 kV): Isc/I_L 20 – 50".into()],
            overall: Verdict::Fail,
            rows: vec![
                row(
                    "U_A THD",
                    "8 %",
                    "4.1 % (week 1)",
                    "weekly P95 of 10-min values",
                    Verdict::Pass,
                    "",
                ),
                row(
                    "I_A TDD",
                    "8 %",
                    "9.3 % (week 1)",
                    "weekly P95 of 10-min values",
                    Verdict::Fail,
                    "",
                ),
            ],
        },
    ];
    let event_tables = vec![CountTable {
        title: "EN 50160 dips (residual voltage × duration)".into(),
        corner: "u (% of Udin)".into(),
        rows: vec![
            "90 > u ≥ 80".into(),
            "80 > u ≥ 70".into(),
            "70 > u ≥ 40".into(),
            "40 > u ≥ 5".into(),
            "5 > u".into(),
        ],
        columns: vec![
            "10–200 ms".into(),
            "0.2–0.5 s".into(),
            "0.5–1 s".into(),
            "1–5 s".into(),
            "5–60 s".into(),
        ],
        counts: vec![
            vec![0, 0, 0, 1, 1],
            vec![1, 0, 0, 0, 0],
            vec![0, 1, 0, 0, 0],
            vec![1, 0, 0, 0, 0],
            vec![0; 5],
        ],
        note: "0 dips outside the table".into(),
    }];
    ReportData {
        title: "Substation 7 <feeder 3> & \"test\" bay".into(),
        recording: RecordingFacts {
            source: "datasets/demo/week<1>.cff".into(),
            start: "2026-11-02T00:00:00Z".into(),
            duration_seconds: Some(span),
            sample_rate: Some(10_240.0),
            channels: vec![
                "U_A (V)".into(),
                "U_B (V)".into(),
                "U_C (V)".into(),
                "I_A (A)".into(),
                "I_B (A)".into(),
                "I_C (A)".into(),
            ],
            extra: vec![("Analyzer".into(), "PQE 0.1.0".into())],
        },
        system: SystemFacts {
            udin: 230.0,
            nominal_frequency: 50.0,
            wiring: "wye".into(),
            load_current: Some(100.0),
        },
        rms_voltage,
        rms_current,
        frequency,
        thd,
        pst,
        plt,
        spectra,
        events,
        event_tables,
        phasors,
        compliance,
        notes: vec!["Synthetic data for the report check: <not a tag> & not an entity.".into()],
        switched_off: Vec::new(),
        supraharmonics: Some(supraharmonic_sample()),
        metering: Some(metering_sample(hours)),
    }
}

/// Meter quantities of `hours` hours: energy per phase and in total (phase C exporting),
/// maximum demand, min/max, two alarms (one still active, one with a name needing
/// escaping) and a motor derating point per hour.
pub fn metering_sample(hours: f64) -> MeteringSection {
    let phase = |channel: &str, p_kw: f64| EnergyRow {
        channel: channel.into(),
        active_delivered_kwh: p_kw.max(0.0) * hours,
        active_received_kwh: (-p_kw).max(0.0) * hours,
        reactive_positive_kvarh: 0.4 * p_kw.abs() * hours,
        reactive_negative_kvarh: 0.0,
        apparent_kvah: 1.1 * p_kw.abs() * hours,
        hours,
    };
    let points = (0..hours.ceil() as usize)
        .map(|h| DeratingPoint {
            start: format!("2024-01-01T{h:02}:00:00"),
            unbalance_percent: 0.8 + 0.5 * h as f64,
            hvf: 0.021 + 0.004 * h as f64,
        })
        .collect::<Vec<_>>();
    MeteringSection {
        energy: vec![
            phase("A", 12.0),
            phase("B", 10.0),
            phase("C", -4.0),
            EnergyRow {
                channel: "total".into(),
                active_delivered_kwh: 22.0 * hours,
                active_received_kwh: 4.0 * hours,
                reactive_positive_kvarh: 10.4 * hours,
                reactive_negative_kvarh: 0.0,
                apparent_kvah: 28.6 * hours,
                hours,
            },
        ],
        energy_period_s: 900.0,
        demand: vec![DemandRow {
            quantity: "P".into(),
            value: 19_870.0,
            end: "2024-01-01T00:45:00".into(),
            coincident: "Q 7.9 kvar, I_A 52.1 A".into(),
        }],
        demand_description: "Block demand over 15 min".into(),
        minmax: vec![MinMaxRow {
            quantity: "U_A".into(),
            min: 161.2,
            min_at: "2024-01-01T00:12:03.200".into(),
            max: 244.9,
            max_at: "2024-01-01T00:31:40.000".into(),
        }],
        minmax_period_s: 600.0,
        alarms: vec![
            AlarmRow {
                name: "dip <U_A> & co".into(),
                quantity: "U_A".into(),
                priority: "high".into(),
                start: "2024-01-01T00:12:03.000".into(),
                end: Some("2024-01-01T00:12:03.600".into()),
                duration: Some(0.6),
                extreme: 161.2,
            },
            AlarmRow {
                name: "overload".into(),
                quantity: "I_B".into(),
                priority: "medium".into(),
                start: "2024-01-01T00:50:00.000".into(),
                end: None,
                duration: None,
                extreme: 61.0,
            },
        ],
        alarm_setpoints: 3,
        motor: Some(MotorDerating {
            worst_unbalance_percent: points.iter().map(|p| p.unbalance_percent).reduce(f64::max),
            unbalance_derating: Some(0.97),
            worst_hvf: points.iter().map(|p| p.hvf).reduce(f64::max),
            hvf_derating_unverified: Some(0.99),
            points,
            unbalance_curve: pqe_standards::nema_mg1::UNBALANCE_CURVE.to_vec(),
            hvf_curve_unverified: pqe_standards::nema_mg1::HVF_CURVE_UNVERIFIED.to_vec(),
            from_delta: false,
        }),
        notes: vec!["Energy integrates the 10/12-cycle powers.".into()],
    }
}

/// Supraharmonics of 10 minutes at 500 kHz: a 16-kHz converter line with sidebands on
/// every channel, G3-PLC bursts (36 carriers, 35.9–90.6 kHz) every 20 s on U_A, noise
/// elsewhere; the CENELEC band table of U_A with one band over its limit.
pub fn supraharmonic_sample() -> SupraharmonicSection {
    let mut frequencies: Vec<f64> = (0..35).map(|j| 2100.0 + 200.0 * j as f64).collect();
    frequencies.extend((0..70).map(|j| 10_000.0 + 2000.0 * j as f64));
    let spectrogram = |channel: &str, unit: &str, offset: f64, g3: bool| {
        let t: Vec<f64> = (0..300).map(|k| 2.0 * k as f64).collect();
        let levels = t
            .iter()
            .map(|&t| {
                frequencies
                    .iter()
                    .map(|&f| {
                        let mut v = offset + 30.0 - 10.0 * (f / 2000.0).log10();
                        if (f - 16_000.0).abs() < 1.0 || (f - 32_000.0).abs() < 1.0 {
                            v += 45.0;
                        }
                        if g3 && (36_000.0..=90_000.0).contains(&f) && (t % 20.0) < 4.0 {
                            v = offset + 95.0;
                        }
                        if t > 300.0 && t < 310.0 {
                            v = f64::NAN; // a gap
                        }
                        v
                    })
                    .collect()
            })
            .collect();
        Spectrogram {
            channel: channel.into(),
            unit: unit.into(),
            frequencies: frequencies.clone(),
            t,
            column_seconds: 2.0,
            levels,
            combine: "each column the maximum of 10 0.2-s intervals".into(),
        }
    };
    let band = |b: &str, range: &str, level: f64, limit: f64, verified: bool, verdict| PlcBandRow {
        channel: "U_A".into(),
        band: b.into(),
        range: range.into(),
        level_dbuv: level,
        peak_dbuv: if level.is_finite() { level + 2.0 } else { 48.0 },
        active_percent: if level.is_finite() { 20.0 } else { 0.0 },
        signal: if b == "A" {
            "G3-OFDM".into()
        } else {
            String::new()
        },
        carriers: if b == "A" {
            "35.9375 kHz (96.1 dBµV), 37.5 kHz (96 dBµV)".into()
        } else {
            String::new()
        },
        limit_dbuv: limit,
        limit_source: "EN 50065-1 <as quoted>".into(),
        limit_verified: verified,
        verdict,
    };
    SupraharmonicSection {
        spectrograms: vec![
            spectrogram("U_A", "dBµV", 20.0, true),
            spectrogram("I_A", "dBµA", 0.0, false),
        ],
        bands: vec![
            band("A", "3–95 kHz", 96.0, 134.0, false, Verdict::Pass),
            band("B", "95–125 kHz", 124.5, 122.0, true, Verdict::Fail),
            band("C", "125–140 kHz", f64::NAN, 122.0, true, Verdict::Info),
            band("D", "140–148.5 kHz", f64::NAN, 122.0, true, Verdict::Info),
        ],
        notes: vec!["Synthetic supraharmonics for the report check.".into()],
    }
}
