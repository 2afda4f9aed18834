//! Supraharmonics (2–150 kHz) and PLC bands against analytic signals: tones on and off the
//! line and bin centres read as the closed-form DFT of the tone predicts, PLC bursts from
//! the generator read at their configured level, chunk invariance, gaps and rates.

use num_complex::Complex64;
use pqe_core::{Block, Timestamp};
use pqe_dsp::iir::{Cascade, Response};
use pqe_dsp::synth::Scenario;
use pqe_standards::supraharmonics::bands::{self, group_centres, CenelecBand};
use pqe_standards::supraharmonics::{
    availability, check_plc_limit, PlcSignalKind, SupraharmonicAnalyzer, SupraharmonicOptions,
    SupraharmonicRecord, INTERVAL_SECONDS, PREFILTER_9_150KHZ_HZ, SETTLING_SECONDS,
    WINDOWS_PER_INTERVAL,
};
use std::f64::consts::{SQRT_2, TAU};

/// A tone `rms·√2·sin(2π f t + phase)`.
#[derive(Clone, Copy)]
struct Tone {
    f: f64,
    rms: f64,
    phase: f64,
}

/// A 230 V fundamental at `f1` with 5 % of the 5th harmonic, plus `tones`.
fn supply(fs: f64, seconds: f64, f1: f64, tones: &[Tone]) -> Vec<f64> {
    let n = (fs * seconds).round() as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            let mut v = 230.0 * SQRT_2 * (TAU * f1 * t).sin()
                + 11.5 * SQRT_2 * (TAU * 5.0 * f1 * t + 0.3).sin();
            for tone in tones {
                v += tone.rms * SQRT_2 * (TAU * tone.f * t + tone.phase).sin();
            }
            v
        })
        .collect()
}

fn run(fs: f64, channels: &[Vec<f64>], block: usize) -> (Vec<SupraharmonicRecord>, usize) {
    let mut a =
        SupraharmonicAnalyzer::new(fs, channels.len(), &SupraharmonicOptions::default()).unwrap();
    let n = channels[0].len();
    let start = Timestamp::from_nanos(1_700_000_000_000_000_000);
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let k = block.min(n - i);
        let mut data = Vec::with_capacity(channels.len() * k);
        for c in channels {
            data.extend_from_slice(&c[i..i + k]);
        }
        let b = Block::from_planar(
            start.add_nanos((i as f64 * 1e9 / fs).round() as i64),
            fs,
            i as u64,
            channels.len(),
            data,
        )
        .unwrap();
        a.push(&b).unwrap();
        while let Some(r) = a.next_record() {
            out.push(r);
        }
        i += k;
    }
    a.finish();
    let notices = a.take_notices().len();
    (out, notices)
}

/// The closed-form DFT line `k` of `rms·√2·sin(2π f (n + n0)/fs + phase)` over `n = 0..N`,
/// as an RMS value (`|X_k|·√2/N`): the analytic prediction nobody's code computes.
fn tone_line_rms(tone: Tone, fs: f64, n0: usize, len: usize, k: usize) -> f64 {
    tone_line(tone, fs, n0, len, k).norm()
}

/// The same line as a complex value scaled to RMS (`X_k·√2/N`), so tones add.
fn tone_line(tone: Tone, fs: f64, n0: usize, len: usize, k: usize) -> Complex64 {
    let a = tone.rms * SQRT_2;
    let phi = tone.phase + TAU * tone.f * n0 as f64 / fs;
    let geometric = |theta: f64| -> Complex64 {
        let z = Complex64::from_polar(1.0, theta);
        if (z - 1.0).norm() < 1e-14 {
            Complex64::new(len as f64, 0.0)
        } else {
            (Complex64::new(1.0, 0.0) - z.powu(len as u32)) / (Complex64::new(1.0, 0.0) - z)
        }
    };
    let w = TAU * k as f64 / len as f64;
    let d = TAU * tone.f / fs;
    // sin(x) = (e^{jx} − e^{−jx}) / 2j
    let x = (Complex64::from_polar(1.0, phi) * geometric(d - w)
        - Complex64::from_polar(1.0, -phi) * geometric(-d - w))
        / Complex64::new(0.0, 2.0)
        * a;
    x * SQRT_2 / len as f64
}

fn group_index(centre: f64) -> usize {
    group_centres().position(|c| c == centre).unwrap()
}

#[test]
fn rates_below_the_methods_needs_are_refused_with_the_reason() {
    let a = availability(10_240.0);
    assert!(a.groups_2_9khz.unwrap_err().contains("20 kHz"));
    assert!(a.bins_9_150khz.unwrap_err().contains("300 kHz"));
    let err = SupraharmonicAnalyzer::new(10_240.0, 3, &SupraharmonicOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("20 kHz") && err.contains("10240"), "{err}");
    let a = availability(51_200.0);
    assert!(a.groups_2_9khz.is_ok() && a.bins_9_150khz.is_err());
    let b = availability(301_000.0);
    assert!(b.bins_9_150khz.unwrap_err().contains("multiple of 2 kHz"));
    let only_groups =
        SupraharmonicAnalyzer::new(51_200.0, 1, &SupraharmonicOptions::default()).unwrap();
    assert!(only_groups.measures_groups() && !only_groups.measures_bins());
}

#[test]
fn tones_at_group_centres_read_their_rms() {
    // Off-nominal fundamental (49.7 Hz) and a 5th harmonic: the pre-filter keeps their
    // leakage out of the groups.
    let fs = 51_200.0;
    let tones = [
        Tone {
            f: 2100.0,
            rms: 1.0,
            phase: 0.2,
        },
        Tone {
            f: 5500.0,
            rms: 0.3,
            phase: 1.0,
        },
        Tone {
            f: 8900.0,
            rms: 0.05,
            phase: 2.0,
        },
    ];
    let x = supply(fs, 1.0, 49.7, &tones);
    let (records, _) = run(fs, &[x], 4096);
    assert_eq!(
        records.len(),
        4,
        "0.98 s after settling holds 4 whole intervals"
    );
    for r in &records {
        for t in &tones {
            let got = r.groups[group_index(t.f)];
            assert!(
                (got / t.rms - 1.0).abs() < 1e-3,
                "{} Hz: {got} vs {}",
                t.f,
                t.rms
            );
        }
        // A quiet group reads (almost) nothing: leakage of 230 V at 49.7 Hz is gone.
        assert!(
            r.groups[group_index(3500.0)] < 1e-4,
            "{}",
            r.groups[group_index(3500.0)]
        );
    }
}

#[test]
fn group_edges_and_off_grid_tones_read_as_the_dft_predicts() {
    let fs = 51_200.0;
    let n = (fs * INTERVAL_SECONDS) as usize;
    let settle = (SETTLING_SECONDS * fs).ceil() as usize;
    // 2200 Hz (upper edge line of group 2100), 2205 Hz (first line of 2300), 2000 Hz
    // (harmonic 40: in no group), and 4402.5 Hz, halfway between lines 880 and 881 (the
    // edge of groups 4300 and 4500).
    let cases: [(f64, &[(f64, bool)]); 4] = [
        (2200.0, &[(2100.0, true), (2300.0, false)]),
        (2205.0, &[(2100.0, false), (2300.0, true)]),
        (2000.0, &[(2100.0, false)]),
        (4402.5, &[(4300.0, true), (4500.0, true)]),
    ];
    for (f, expect) in cases {
        let tone = Tone {
            f,
            rms: 1.0,
            phase: 0.4,
        };
        // A 50 Hz fundamental exactly on the grid, so the tone alone is judged.
        let x = supply(fs, 0.5, 50.0, &[tone]);
        let (records, _) = run(fs, &[x], 10_000);
        let r = &records[0];
        for &(centre, holds) in expect {
            let got = r.groups[group_index(centre)];
            let predicted = bands::group_lines(centre)
                .map(|k| tone_line_rms(tone, fs, settle, n, k).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(
                (got - predicted).abs() < 1e-3 * tone.rms,
                "{f} Hz in group {centre}: {got} vs predicted {predicted}"
            );
            if holds && f != 4402.5 {
                assert!(
                    (got - 1.0).abs() < 1e-3,
                    "{f} Hz belongs to {centre}: {got}"
                );
            }
            if !holds {
                assert!(got < 1e-3, "{f} Hz leaks into {centre}: {got}");
            }
        }
        if f == 4402.5 {
            // Split between the two groups, with a little leakage beyond them.
            let a = r.groups[group_index(4300.0)];
            let b = r.groups[group_index(4500.0)];
            assert!(
                (a * a + b * b).sqrt() > 0.97 && a > 0.3 && b > 0.3,
                "{a} {b}"
            );
        }
    }
}

#[test]
fn bins_9_150khz_read_tones_at_centres_and_halfway_as_predicted() {
    let fs = 500_000.0;
    let n = (fs * INTERVAL_SECONDS) as usize;
    let m = (fs * 0.5e-3) as usize;
    let settle = (SETTLING_SECONDS * fs).ceil() as usize;
    let centre = Tone {
        f: 40_000.0,
        rms: 0.5,
        phase: 0.1,
    };
    let halfway = Tone {
        f: 101_000.0,
        rms: 0.2,
        phase: 0.7,
    };
    let x = supply(fs, 0.5, 50.0, &[centre, halfway]);
    let (records, _) = run(fs, &[x], 65_536);
    let r = &records[0];
    // Each window reads the closed-form DFT of both tones at the bin; the interval value is
    // the largest of its 32 windows, the RMS their quadratic mean.
    // The pre-filter (its analytic response) shifts each tone's gain and phase; the bin is
    // divided by the gain at its centre.
    let hp = Cascade::butterworth(Response::HighPass, 8, PREFILTER_9_150KHZ_HZ, fs).unwrap();
    let filtered = |t: Tone| {
        let h = hp.response(t.f);
        Tone {
            f: t.f,
            rms: t.rms * h.norm(),
            phase: t.phase + h.arg(),
        }
    };
    let predict = |k: usize| {
        let gain = hp.response(k as f64 * 2000.0).norm();
        let values: Vec<f64> = (0..WINDOWS_PER_INTERVAL)
            .map(|w| {
                let offset = settle + w * n / WINDOWS_PER_INTERVAL;
                (tone_line(filtered(centre), fs, offset, m, k)
                    + tone_line(filtered(halfway), fs, offset, m, k))
                .norm()
                    / gain
            })
            .collect();
        let max = values.iter().copied().fold(0.0, f64::max);
        let rms = (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).sqrt();
        (max, rms)
    };
    for c in [40_000.0, 100_000.0, 102_000.0] {
        let j = bands::bin_centres().position(|x| x == c).unwrap();
        let (max, rms) = predict(bands::bin_index(j));
        assert!(
            (r.bins_max[j] / max - 1.0).abs() < 1e-3,
            "{c} Hz bin max: {} vs predicted {max}",
            r.bins_max[j]
        );
        assert!(
            (r.bins_rms[j] / rms - 1.0).abs() < 1e-3,
            "{c} Hz bin RMS: {} vs predicted {rms}",
            r.bins_rms[j]
        );
    }
    // A tone on a bin centre reads its RMS (within the leakage of the other tone).
    let j40 = bands::bin_centres().position(|c| c == 40_000.0).unwrap();
    assert!(
        (r.bins_rms[j40] / 0.5 - 1.0).abs() < 5e-3,
        "{}",
        r.bins_rms[j40]
    );
    // 101 kHz lies halfway between the 100 and 102 kHz bins: the scalloping loss stated in
    // the module documentation, about −3.92 dB, in each.
    for c in [100_000.0, 102_000.0] {
        let j = bands::bin_centres().position(|x| x == c).unwrap();
        let db = 20.0 * (r.bins_rms[j] / 0.2).log10();
        assert!((db + 3.92).abs() < 0.35, "{c}: {db} dB");
    }
}

fn scenario(body: &str) -> Scenario {
    Scenario::from_toml_str(&format!(
        "sample_rate = 500000\nduration = 1.5\nchannels = [\"U_A\", \"U_B\", \"U_C\"]\n{body}"
    ))
    .unwrap()
}

fn analyse(s: &Scenario, block: usize) -> (Vec<SupraharmonicRecord>, usize) {
    let mut a = SupraharmonicAnalyzer::new(
        s.sample_rate(),
        s.channel_names().len(),
        &SupraharmonicOptions::default(),
    )
    .unwrap();
    let mut g = s.generator();
    let mut out = Vec::new();
    while let Some(b) = g.next_block(block) {
        a.push(&b).unwrap();
        while let Some(r) = a.next_record() {
            out.push(r);
        }
    }
    a.finish();
    (out, a.take_notices().len())
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

#[test]
fn g3_and_sfsk_bursts_read_at_their_level_and_are_recognised() {
    let s = scenario(
        r#"
        [[emission]]
        kind = "g3"
        level_dbuv = 120
        start = 0.3
        burst = 0.12
        period = 0.5
        phases = "A"

        [[emission]]
        kind = "sfsk"
        level = 0.5
        start = 0.25
        burst = 0.15
        period = 0.6
        phases = "B"

        [[emission]]
        kind = "converter"
        frequency = 16000
        level = 0.05
        sidebands = [0.4]
        phases = "C"
        "#,
    );
    let truth = s.emissions();
    assert_eq!(truth.len(), 3);
    let (records, _) = analyse(&s, 65_536);
    let a_idx = 0;
    let b_idx = 1;
    let mut g3_seen = 0;
    let mut fsk_seen = 0;
    for r in &records {
        let band_a = &r.plc[0];
        assert_eq!(band_a.band, CenelecBand::A);
        if r.channel == a_idx && band_a.active_fraction > 0.3 {
            g3_seen += 1;
            let err = db(band_a.level / truth[0].level);
            assert!(err.abs() < 0.5, "G3 level off by {err} dB at t = {}", r.t);
            assert_eq!(band_a.signal, Some(PlcSignalKind::G3Ofdm), "t = {}", r.t);
            let check = check_plc_limit(band_a);
            assert!(check.within && !check.limit.verified);
        }
        if r.channel == b_idx && band_a.active_fraction > 0.3 {
            fsk_seen += 1;
            let err = db(band_a.level / truth[1].level);
            assert!(
                err.abs() < 0.5,
                "S-FSK level off by {err} dB at t = {}",
                r.t
            );
            assert_eq!(band_a.signal, Some(PlcSignalKind::G1Sfsk), "t = {}", r.t);
            let tones: Vec<f64> = band_a.carriers.iter().map(|c| c.frequency).collect();
            assert!(
                tones.contains(&63_300.0) && tones.contains(&74_000.0),
                "{tones:?}"
            );
        }
        if r.channel == 2 {
            // The converter: its carrier and sidebands in the 2 kHz bins around 16 kHz;
            // nothing recognised as PLC.
            assert_eq!(band_a.signal, None);
            let j = bands::bin_centres().position(|c| c == 16_000.0).unwrap();
            let want = truth[2].rms;
            assert!(
                (r.bins_rms[j] / want - 1.0).abs() < 0.01,
                "16 kHz bin {} vs {want}",
                r.bins_rms[j]
            );
        }
    }
    assert!(g3_seen >= 2 && fsk_seen >= 2, "{g3_seen} {fsk_seen}");
    // The converter's channel keeps the other bands quiet; the PLC channels' other bands
    // carry only the bursts' own out-of-band content.
    for r in &records {
        for b in &r.plc[1..] {
            if r.channel == 2 {
                assert!(b.level.is_nan() && b.peak < 1e-3, "{:?} {}", b.band, b.peak);
            } else if r.plc[0].active_fraction > 0.3 {
                // The bursts' own out-of-band content (symbol and bit edges of 20 µs) stays
                // more than 20 dB below their level in band A.
                assert!(
                    db(b.peak / r.plc[0].level) < -20.0,
                    "channel {} {:?}: {} vs {}",
                    r.channel,
                    b.band,
                    b.peak,
                    r.plc[0].level
                );
            }
        }
    }
}

#[test]
fn neighbouring_bands_are_kept_apart() {
    // 1 V at 94 kHz, 1 kHz below the A/B edge, beside 10 mV at 96 kHz in band B: the 5-ms
    // Hann windows keep the loud tone out of band B.
    let fs = 500_000.0;
    let x = supply(
        fs,
        0.5,
        50.0,
        &[
            Tone {
                f: 94_000.0,
                rms: 1.0,
                phase: 0.0,
            },
            Tone {
                f: 96_000.0,
                rms: 0.01,
                phase: 1.0,
            },
        ],
    );
    let (records, _) = run(fs, &[x], 65_536);
    for r in &records {
        assert!(
            db(r.plc[0].level / 1.0).abs() < 0.05,
            "A {}",
            r.plc[0].level
        );
        assert!(
            db(r.plc[1].level / 0.01).abs() < 0.5,
            "B {}",
            r.plc[1].level
        );
        assert!((r.plc[1].active_fraction - 1.0).abs() < 1e-12);
        assert!(r.plc[2].peak < 1e-4 && r.plc[3].peak < 1e-4);
    }
}

#[test]
fn a_loud_band_b_transmitter_fails_the_class_122_limit() {
    let s = scenario(
        r#"
        [[emission]]
        kind = "sfsk"
        space = 105600
        mark = 115200
        bit_rate = 1200
        level_dbuv = 125
        phases = "A"
        "#,
    );
    let (records, _) = analyse(&s, 100_000);
    let r = records.iter().find(|r| r.channel == 0).unwrap();
    let check = check_plc_limit(&r.plc[1]);
    assert_eq!(check.band, CenelecBand::B);
    assert!(
        (check.level_dbuv - 125.0).abs() < 0.5,
        "{}",
        check.level_dbuv
    );
    assert!(!check.within && check.limit.verified);
}

#[test]
fn results_do_not_depend_on_block_cuts() {
    let s = scenario(
        r#"
        [[emission]]
        kind = "g3"
        level = 0.3
        start = 0.1
        burst = 0.2
        [noise]
        voltage_rms = 0.01
        "#,
    );
    let (reference, _) = analyse(&s, 1 << 20);
    assert!(!reference.is_empty());
    for block in [1000, 4099, 65_536] {
        let (got, _) = analyse(&s, block);
        assert_eq!(got, reference, "block {block}");
    }
}

#[test]
fn a_gap_drops_the_interval_in_progress_and_resumes_after_settling() {
    let fs = 51_200.0;
    let tone = Tone {
        f: 3100.0,
        rms: 0.7,
        phase: 0.0,
    };
    let x = supply(fs, 1.0, 50.0, &[tone]);
    let mut a = SupraharmonicAnalyzer::new(fs, 1, &SupraharmonicOptions::default()).unwrap();
    let start = Timestamp::from_nanos(0);
    let half = x.len() / 2;
    let first = Block::from_planar(start, fs, 0, 1, x[..half].to_vec()).unwrap();
    // The second half arrives 0.3 s late: a gap.
    let second = Block::from_planar(
        start.add_nanos(((half as f64 / fs + 0.3) * 1e9).round() as i64),
        fs,
        half as u64,
        1,
        x[half..].to_vec(),
    )
    .unwrap();
    a.push(&first).unwrap();
    a.push(&second).unwrap();
    a.finish();
    let mut records = Vec::new();
    while let Some(r) = a.next_record() {
        records.push(r);
    }
    let notices = a.take_notices();
    assert!(
        notices.iter().any(|n| n.message.contains("gap of 0.3")),
        "{notices:?}"
    );
    // Before the gap: [0.02, 0.22), [0.22, 0.42); after it (at 0.8 s): from 0.82 s.
    let ts: Vec<f64> = records.iter().map(|r| (r.t * 1e3).round() / 1e3).collect();
    assert_eq!(ts, vec![0.02, 0.22, 0.82, 1.02], "{ts:?}");
    for r in &records {
        assert!((r.groups[group_index(3100.0)] / 0.7 - 1.0).abs() < 1e-3);
    }
    // An overlap is an error.
    let err = a.push(&first).unwrap_err().to_string();
    assert!(err.contains("overlaps"), "{err}");
}

#[test]
fn a_non_finite_sample_restarts_without_poisoning_later_intervals() {
    let fs = 51_200.0;
    let tone = Tone {
        f: 6100.0,
        rms: 0.2,
        phase: 0.0,
    };
    let mut x = supply(fs, 1.0, 50.0, &[tone]);
    x[15_000] = f64::NAN;
    let (records, notices) = run(fs, &[x], 7_777);
    assert!(notices >= 1);
    assert!(!records.is_empty());
    for r in &records {
        let v = r.groups[group_index(6100.0)];
        assert!(
            v.is_finite() && (v / 0.2 - 1.0).abs() < 1e-3,
            "t = {}: {v}",
            r.t
        );
        // No interval contains the bad sample (t = 0.293 s).
        assert!(
            !(r.t <= 15_000.0 / fs && 15_000.0 / fs < r.t + 0.2),
            "t = {}",
            r.t
        );
    }
}
