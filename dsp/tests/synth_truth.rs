//! The generator against analytic truth computed here, independently of its code.

use pqe_core::Phase;
use pqe_dsp::synth::Scenario;
use std::f64::consts::{PI, SQRT_2, TAU};

/// Every channel of a scenario, rendered in one go.
fn render(s: &Scenario) -> Vec<Vec<f64>> {
    let mut g = s.generator();
    let mut out = vec![Vec::new(); s.channel_names().len()];
    while let Some(b) = g.next_block(10_000) {
        for (c, ch) in out.iter_mut().enumerate() {
            ch.extend_from_slice(b.channel(c));
        }
    }
    out
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn scenario(text: &str) -> Scenario {
    Scenario::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Amplitude and phase (radians, sine reference) of the component at `f` Hz over a window
/// holding whole periods of it: a direct correlation, no FFT.
fn tone(x: &[f64], fs: f64, f: f64) -> (f64, f64) {
    let (mut s, mut c) = (0.0, 0.0);
    for (n, v) in x.iter().enumerate() {
        let a = TAU * f * n as f64 / fs;
        s += v * a.sin();
        c += v * a.cos();
    }
    let k = 2.0 / x.len() as f64;
    ((s * k).hypot(c * k), (c * k).atan2(s * k))
}

#[test]
fn pure_sine_rms_over_whole_cycles_is_exact() {
    let s = scenario("duration = 1.0\nchannels = [\"U_A\", \"U_B\", \"U_C\", \"I_A\"]");
    let x = render(&s);
    assert_eq!(x[0].len(), 10_240);
    // 5 cycles at 10.24 kHz are 1024 samples; the whole second is 50 cycles.
    for u in &x[..3] {
        assert!(rel(rms(&u[..1024]), 230.0) < 1e-12, "{}", rms(&u[..1024]));
        assert!(rel(rms(&u[3072..4096]), 230.0) < 1e-12);
        assert!(rel(rms(u), 230.0) < 1e-12);
    }
    assert!(rel(rms(&x[3]), 10.0) < 1e-12);
    // Phase B lags A by 120°: u_B(t) = √2·230·sin(2π·50t − 2π/3).
    for n in [0usize, 17, 5000, 10_239] {
        let t = n as f64 / 10_240.0;
        let want = SQRT_2 * 230.0 * (TAU * 50.0 * t - TAU / 3.0).sin();
        assert!(
            (x[1][n] - want).abs() < 1e-10 * 325.0,
            "{n}: {} vs {want}",
            x[1][n]
        );
    }
    assert!(rel(s.expected_rms_at("U_A", 0.3).unwrap(), 230.0) < 1e-15);
}

#[test]
fn fifth_harmonic_adds_in_quadrature() {
    let s = scenario(
        "duration = 0.5\n[[voltage.harmonics]]\norder = 5\nmagnitude = 5.0\nphase = 37.0\n",
    );
    let x = render(&s);
    let want = 230.0 * (1.0f64 + 0.05 * 0.05).sqrt();
    assert!(
        rel(rms(&x[0][..1024]), want) < 1e-12,
        "{}",
        rms(&x[0][..1024])
    );
    assert!(rel(rms(&x[2][2048..3072]), want) < 1e-12);
    assert!(rel(s.expected_rms_at("U_B", 0.2).unwrap(), want) < 1e-14);
    // The 5th of phase A: 5 % of √2·230 at 37° (sine reference).
    let (a, ph) = tone(&x[0][..1024], 10_240.0, 250.0);
    assert!(rel(a, 0.05 * SQRT_2 * 230.0) < 1e-12);
    assert!((ph - 37f64.to_radians()).abs() < 1e-12);
    // Phase B's 5th sits at 5 × (−120°) + 37° (negative sequence).
    let (_, ph_b) = tone(&x[1][..1024], 10_240.0, 250.0);
    let want_b = (5.0 * -120.0f64 + 37.0).to_radians();
    assert!(
        ((ph_b - want_b) / TAU)
            .rem_euclid(1.0)
            .min(1.0 - ((ph_b - want_b) / TAU).rem_euclid(1.0))
            < 1e-12
    );
}

#[test]
fn interharmonics_locked_and_fixed_have_their_amplitudes() {
    let s = scenario(
        "duration = 1.0\n\
         [[voltage.interharmonics]]\norder = 2.5\nmagnitude = 2.0\n\
         [[voltage.interharmonics]]\nfrequency = 183.0\nmagnitude = 1.0\nphase = 10.0\n",
    );
    let x = render(&s);
    // One second holds whole periods of 50, 125 and 183 Hz.
    let (a1, _) = tone(&x[0], 10_240.0, 50.0);
    let (a2, _) = tone(&x[0], 10_240.0, 125.0);
    let (a3, p3) = tone(&x[0], 10_240.0, 183.0);
    assert!(rel(a1, SQRT_2 * 230.0) < 1e-12);
    assert!(rel(a2, 0.02 * SQRT_2 * 230.0) < 1e-11, "{a2}");
    assert!(rel(a3, 0.01 * SQRT_2 * 230.0) < 1e-11, "{a3}");
    assert!((p3 - 10f64.to_radians()).abs() < 1e-10);
    let want = 230.0 * (1.0f64 + 0.02 * 0.02 + 0.01 * 0.01).sqrt();
    assert!(rel(rms(&x[0]), want) < 1e-12);
    assert!(rel(s.expected_rms_at("U_A", 0.5).unwrap(), want) < 1e-14);
}

#[test]
fn dip_residual_holds_over_a_cycle_inside_it() {
    // 12.8 kHz: 256 samples per cycle.
    let s = scenario(
        "sample_rate = 12800\nduration = 1.0\n\
         [[events]]\nkind = \"dip\"\nstart = 0.3\nduration = 0.2\nresidual = 40.0\nphases = [\"A\", \"B\"]\n",
    );
    let x = render(&s);
    let inside = 4480..4480 + 256; // 0.35 s … 0.37 s
    assert!(rel(rms(&x[0][inside.clone()]), 0.4 * 230.0) < 1e-12);
    assert!(rel(rms(&x[1][inside.clone()]), 0.4 * 230.0) < 1e-12);
    assert!(rel(rms(&x[2][inside.clone()]), 230.0) < 1e-12);
    // Load current follows the voltage by default (constant impedance).
    assert!(rel(rms(&x[3][inside]), 0.4 * 10.0) < 1e-12);
    assert!(rel(rms(&x[0][1280..1536]), 230.0) < 1e-12);
    assert!(rel(s.expected_rms_at("U_A", 0.4).unwrap(), 92.0) < 1e-14);
    assert!(rel(s.expected_rms_at("U_A", 0.6).unwrap(), 230.0) < 1e-14);
    // The edges fall on samples 3840 and 6400: 0.3 s and 0.5 s.
    let full = |n: usize| SQRT_2 * 230.0 * (TAU * 50.0 * n as f64 / 12_800.0).sin();
    assert!((x[0][3839] - full(3839)).abs() < 1e-9);
    assert!((x[0][3841] - 0.4 * full(3841)).abs() < 1e-9);
    assert!((x[0][6399] - 0.4 * full(6399)).abs() < 1e-9);
    assert!((x[0][6401] - full(6401)).abs() < 1e-9);
    let e = &s.events()[0];
    assert_eq!((e.start, e.duration, e.residual_percent), (0.3, 0.2, 40.0));
    assert_eq!(e.phases, [Phase::A, Phase::B]);
}

#[test]
fn point_on_wave_and_ramp_shape_the_event_edges() {
    let s = scenario(
        "sample_rate = 12800\nduration = 1.0\n\
         [[events]]\nkind = \"dip\"\nstart = 0.3\nduration = 0.1\nresidual = 50.0\n\
         phases = [\"B\"]\npoint_on_wave = 90.0\nramp = 0.005\n\
         [[events]]\nkind = \"interruption\"\nstart = 0.6\nduration = 0.1\npoint_on_wave = 0.0\n",
    );
    // Phase B is at 90° when 50t − 1/3 ≡ 1/4 (mod 1): t = (15 + 1/4 + 1/3)/50 after 0.3 s.
    let want = (15.0 + 0.25 + 1.0 / 3.0) / 50.0;
    let ev = s.events();
    assert!(
        (ev[0].start - want).abs() < 1e-13,
        "{} vs {want}",
        ev[0].start
    );
    assert_eq!(ev[1].start, 0.6); // 0.6 s is already a 0° point of phase A
    assert_eq!(ev[1].residual_percent, 0.0);
    let env = |t: f64| s.envelope_at(Phase::B, t).unwrap();
    assert!((env(want + 0.0025) - 0.75).abs() < 1e-12); // half way down the ramp
    assert!((env(want + 0.05) - 0.5).abs() < 1e-15);
    assert!((env(want + 0.1 + 0.001) - 0.6).abs() < 1e-12); // recovering
    assert_eq!(env(want + 0.106), 1.0);
    let x = render(&s);
    let n = (0.65 * 12_800.0) as usize;
    assert!(x[0][n..n + 256].iter().all(|v| *v == 0.0));
}

#[test]
fn frequency_ramp_zero_crossings_follow_the_integral_of_the_law() {
    let s = scenario(
        "duration = 4.0\nchannels = [\"U_A\"]\n\
         [[frequency.ramp]]\nstart = 1.0\nend = 3.0\nrate = 0.5\n",
    );
    let fs = 10_240.0;
    let x = render(&s).remove(0);
    // Independent law: 50 Hz, +0.5 Hz/s between 1 s and 3 s, 51 Hz after.
    let theta = |t: f64| {
        let mut c = 50.0 * t;
        if t > 1.0 {
            let r = t.min(3.0) - 1.0;
            c += 0.25 * r * r;
        }
        if t > 3.0 {
            c += t - 3.0;
        }
        c
    };
    let mut crossings = 0;
    let mut worst: f64 = 0.0;
    for n in 1..x.len() {
        if x[n - 1] < 0.0 && x[n] >= 0.0 {
            let t = (n as f64 - 1.0 + x[n - 1] / (x[n - 1] - x[n])) / fs;
            let c = theta(t);
            worst = worst.max((c - c.round()).abs());
            crossings += 1;
        }
    }
    // θ(4 s) = 200 + 1 + 1 = 202 cycles; crossings at θ = 1 … 201 (θ = 202 is the end).
    assert!((theta(4.0) - 202.0).abs() < 1e-12);
    assert_eq!(crossings, 201);
    assert!(worst < 1e-7, "worst phase error {worst} cycles");
    assert!((s.cycles_at(3.5) - theta(3.5)).abs() < 1e-12);
    assert_eq!(s.frequency_at(2.0), 50.5);
}

#[test]
fn frequency_wander_matches_its_integral() {
    let s = scenario(
        "duration = 20.0\nchannels = [\"U_A\"]\n\
         [frequency]\noffset = 0.05\n[[frequency.wander]]\namplitude = 0.2\nperiod = 7.0\nphase = 30.0\n",
    );
    let theta = |t: f64| {
        let phi = 30f64.to_radians();
        50.05 * t + 0.2 * 7.0 / TAU * (phi.cos() - (TAU * t / 7.0 + phi).cos())
    };
    let x = render(&s).remove(0);
    let mut worst: f64 = 0.0;
    for (n, v) in x.iter().enumerate().step_by(97) {
        let want = SQRT_2 * 230.0 * (TAU * theta(n as f64 / 10_240.0)).sin();
        worst = worst.max((v - want).abs() / (SQRT_2 * 230.0));
    }
    assert!(worst < 1e-10, "{worst}");
}

#[test]
fn sinusoidal_flicker_depth_from_the_sidebands() {
    // u = A(1 + d/2·sin 2πf_m t) sin 2πf t has sidebands of amplitude A·d/4 at f ± f_m.
    let s = scenario(
        "duration = 5.0\nchannels = [\"U_A\"]\n\
         [[flicker]]\nshape = \"sine\"\ndepth = 2.0\nrate = 8.8\n",
    );
    let x = render(&s).remove(0);
    let a = SQRT_2 * 230.0;
    let (c, _) = tone(&x, 10_240.0, 50.0);
    let (lo, _) = tone(&x, 10_240.0, 41.2);
    let (hi, _) = tone(&x, 10_240.0, 58.8);
    assert!(rel(c, a) < 1e-11);
    assert!(
        rel(4.0 * lo / a * 100.0, 2.0) < 1e-9,
        "{}",
        4.0 * lo / a * 100.0
    );
    assert!(rel(4.0 * hi / a * 100.0, 2.0) < 1e-9);
    // The envelope at the modulation peak and trough.
    let peak = 1.0 / (4.0 * 8.8);
    assert!((s.envelope_at(Phase::A, peak).unwrap() - 1.01).abs() < 1e-12);
    assert!((s.envelope_at(Phase::A, 3.0 * peak).unwrap() - 0.99).abs() < 1e-12);
}

#[test]
fn rectangular_flicker_depth_from_cycle_rms() {
    // 120 changes per minute: 1 Hz modulation, 25 cycles high then 25 cycles low.
    let s = scenario(
        "sample_rate = 12800\nduration = 2.0\nchannels = [\"U_A\"]\n\
         [[flicker]]\nshape = \"rectangular\"\ndepth = 3.0\nchanges_per_minute = 120\n",
    );
    let x = render(&s).remove(0);
    let high = rms(&x[1280..1536]); // 0.1 s
    let low = rms(&x[7680..7936]); // 0.6 s
    assert!(rel(high, 230.0 * 1.015) < 1e-12);
    assert!(rel(low, 230.0 * 0.985) < 1e-12);
    assert!(rel((high - low) / 230.0 * 100.0, 3.0) < 1e-10);
}

#[test]
fn power_factor_of_generated_voltage_and_current() {
    let s =
        scenario("duration = 1.0\n[current]\nmagnitude = [10.0, 20.0, 5.0]\npower_factor = 0.8\n");
    let x = render(&s);
    for p in 0..3 {
        let (u, i) = (&x[p], &x[3 + p]);
        let pw = u.iter().zip(i).map(|(a, b)| a * b).sum::<f64>() / u.len() as f64;
        let pf = pw / (rms(u) * rms(i));
        assert!((pf - 0.8).abs() < 1e-12, "phase {p}: {pf}");
    }
    // Lagging: the current crosses zero φ = acos 0.8 after the voltage.
    let lag = 0.8f64.acos() / (TAU * 50.0);
    let t0 = 1.0 / 50.0 + lag;
    let n = (t0 * 10_240.0).floor() as usize;
    assert!(x[3][n] <= 0.0 && x[3][n + 1] > 0.0);
    let truth = s.expected_power_at(Phase::B, 0.5).unwrap();
    assert!(rel(truth.p, 230.0 * 20.0 * 0.8) < 1e-12);
    assert!(rel(truth.pf, 0.8) < 1e-12);
}

#[test]
fn power_factor_with_current_harmonics() {
    let s = scenario(
        "duration = 1.0\n[current]\nmagnitude = 10.0\ndisplacement = -30.0\n\
         [[current.harmonics]]\norder = 5\nmagnitude = 30.0\n\
         [[current.harmonics]]\norder = 7\nmagnitude = 20.0\n",
    );
    let x = render(&s);
    let (u, i) = (&x[0], &x[3]);
    let pw = u.iter().zip(i).map(|(a, b)| a * b).sum::<f64>() / u.len() as f64;
    let pf = pw / (rms(u) * rms(i));
    // Sine voltage: only the fundamental carries power; PF = cos φ1 · I1/I.
    let want = (30f64.to_radians()).cos() / (1.0f64 + 0.09 + 0.04).sqrt();
    assert!((pf - want).abs() < 1e-12, "{pf} vs {want}");
    let truth = s.expected_power_at(Phase::A, 0.5).unwrap();
    assert!((truth.pf - want).abs() < 1e-12);
    assert!((truth.dpf - 30f64.to_radians().cos()).abs() < 1e-12);
    // Leading current: it is ahead of the voltage.
    let (_, phi_u) = tone(&u[..1024], 10_240.0, 50.0);
    let (_, phi_i) = tone(&i[..1024], 10_240.0, 50.0);
    assert!((phi_i - phi_u - PI / 6.0).abs() < 1e-12);
}

#[test]
fn unbalance_from_u2_and_u0_is_measured_back() {
    let s = scenario("duration = 0.1\n[voltage]\nu2 = 2.0\nu2_angle = 30.0\nu0 = 1.0\n");
    let u = s.expected_unbalance();
    assert!(
        (u.u2 - 2.0).abs() < 1e-12 && (u.u0 - 1.0).abs() < 1e-12,
        "{u:?}"
    );
    let x = render(&s);
    // Symmetrical components of the measured fundamentals.
    let ph: Vec<(f64, f64)> = (0..3)
        .map(|c| {
            let (a, p) = tone(&x[c][..1024], 10_240.0, 50.0);
            (a * p.cos(), a * p.sin())
        })
        .collect();
    let rot = |(re, im): (f64, f64), deg: f64| {
        let r = deg.to_radians();
        (re * r.cos() - im * r.sin(), re * r.sin() + im * r.cos())
    };
    let sum = |v: [(f64, f64); 3]| (v[0].0 + v[1].0 + v[2].0, v[0].1 + v[1].1 + v[2].1);
    let pos = sum([ph[0], rot(ph[1], 120.0), rot(ph[2], 240.0)]);
    let neg = sum([ph[0], rot(ph[1], 240.0), rot(ph[2], 120.0)]);
    let zero = sum([ph[0], ph[1], ph[2]]);
    let m = |z: (f64, f64)| z.0.hypot(z.1);
    assert!((100.0 * m(neg) / m(pos) - 2.0).abs() < 1e-10);
    assert!((100.0 * m(zero) / m(pos) - 1.0).abs() < 1e-10);
    assert!((neg.1.atan2(neg.0).to_degrees() - 30.0).abs() < 1e-8);
}

#[test]
fn delta_and_neutral_channels() {
    let s = scenario("duration = 0.5\nwiring = \"delta\"\nudin = 400.0\n");
    let x = render(&s);
    assert_eq!(
        s.channel_names(),
        ["U_AB", "U_BC", "U_CA", "I_A", "I_B", "I_C"]
    );
    for u in &x[..3] {
        assert!(rel(rms(&u[..1024]), 400.0) < 1e-12, "{}", rms(&u[..1024]));
    }
    assert!(rel(s.expected_rms_at("U_BC", 0.1).unwrap(), 400.0) < 1e-14);
    let s = scenario(
        "duration = 0.5\nchannels = [\"U_A\", \"U_N\", \"I_A\", \"I_N\"]\n\
         [current]\nmagnitude = [10.0, 10.0, 16.0]\n[neutral]\nvoltage = 1.5\n",
    );
    let x = render(&s);
    assert!(rel(rms(&x[1][..1024]), 1.5) < 1e-12);
    // I_N = I_A + I_B + I_C: the 6 A excess of phase C.
    assert!(rel(rms(&x[3][..1024]), 6.0) < 1e-12);
    assert!(rel(s.expected_rms_at("I_N", 0.2).unwrap(), 6.0) < 1e-12);
}

#[test]
fn phase_jump_shifts_the_waveform() {
    let s = scenario(
        "sample_rate = 12800\nduration = 1.0\nchannels = [\"U_A\", \"U_B\"]\n\
         [[phase_jump]]\ntime = 0.5\nangle = 30.0\nphases = [\"A\"]\n",
    );
    let x = render(&s);
    let (_, before) = tone(&x[0][..1280], 12_800.0, 50.0);
    let (_, after) = tone(&x[0][7680..8960], 12_800.0, 50.0);
    assert!((after - before - PI / 6.0).abs() < 1e-12);
    let (_, b_before) = tone(&x[1][..1280], 12_800.0, 50.0);
    let (_, b_after) = tone(&x[1][7680..8960], 12_800.0, 50.0);
    assert!((b_after - b_before).abs() < 1e-12);
}

#[test]
fn noise_has_its_configured_level() {
    let s = scenario(
        "duration = 10.0\nchannels = [\"U_A\", \"I_A\"]\nseed = 3\n\
         [noise]\nvoltage_db = -40\ncurrent_rms = 0.5\n",
    );
    let x = render(&s);
    let sigma_u = 230.0 * 0.01;
    let want = (230.0f64 * 230.0 + sigma_u * sigma_u).sqrt();
    // 102 400 samples: the RMS of the noise is within a few 0.1 % of σ.
    let (clean, _) = tone(&x[0], 10_240.0, 50.0);
    assert!(rel(clean, SQRT_2 * 230.0) < 1e-4);
    let resid: Vec<f64> = x[0]
        .iter()
        .enumerate()
        .map(|(n, v)| v - SQRT_2 * 230.0 * (TAU * 50.0 * n as f64 / 10_240.0).sin())
        .collect();
    assert!(rel(rms(&resid), sigma_u) < 0.01, "{}", rms(&resid));
    assert!(rel(s.expected_rms_at("U_A", 1.0).unwrap(), want) < 1e-14);
    assert_eq!(s.noise_rms("I_A"), Some(0.5));
    // Same seed, same noise; another seed, other noise.
    let again = render(&s);
    assert_eq!(again[0], x[0]);
    let other = render(&scenario(
        "duration = 10.0\nchannels = [\"U_A\", \"I_A\"]\nseed = 4\n\
         [noise]\nvoltage_db = -40\ncurrent_rms = 0.5\n",
    ));
    assert_ne!(other[0], x[0]);
}

#[test]
fn late_samples_keep_full_precision() {
    // 24 h at 10.24 kHz: sample indices up to 8.8e8. 50/10240 = 5/1024 cycles per sample,
    // so the exact phase of harmonic h at sample n is (5·h·n mod 1024)/1024.
    let s = scenario(
        "duration = 86400.0\nchannels = [\"U_A\"]\n\
         [[voltage.harmonics]]\norder = 7\nmagnitude = 10.0\nphase = 45.0\n\
         [[voltage.harmonics]]\norder = 49\nmagnitude = 1.0\n\
         [[voltage.harmonics]]\norder = 97\nmagnitude = 0.5\n",
    );
    let mut g = s.generator();
    let first = 884_736_000 - 4096;
    g.seek(first).unwrap();
    let b = g.next_block(10_000).unwrap();
    assert_eq!(b.len(), 4096);
    assert_eq!(b.first_sample(), first);
    assert!(g.next_block(1).is_none());
    let a = SQRT_2 * 230.0;
    let mut worst: f64 = 0.0;
    for (k, v) in b.channel(0).iter().enumerate() {
        let n = first + k as u64;
        let ph = |h: u64| ((5 * h * n) % 1024) as f64 / 1024.0;
        let want = a * (TAU * ph(1)).sin()
            + 0.1 * a * (TAU * ph(7) + PI / 4.0).sin()
            + 0.01 * a * (TAU * ph(49)).sin()
            + 0.005 * a * (TAU * ph(97)).sin();
        worst = worst.max((v - want).abs() / a);
    }
    eprintln!("24 h: worst relative error {worst:e}");
    assert!(worst < 1e-12, "worst relative error {worst}");
}

#[test]
fn every_component_matches_its_closed_form() {
    // Frequency law with offset, ramp and wander; integer, fractional and fixed components.
    let s = scenario(
        "duration = 1.0\nchannels = [\"U_A\", \"U_B\"]\n\
         [frequency]\noffset = 0.1\n\
         [[frequency.ramp]]\nstart = 0.2\nend = 0.6\nrate = 0.5\n\
         [[frequency.wander]]\namplitude = 0.1\nperiod = 0.37\nphase = 10.0\n\
         [[voltage.harmonics]]\norder = 3\nmagnitude = 2.0\nphase = 15.0\n\
         [[voltage.harmonics]]\norder = 97\nmagnitude = 1.0\n\
         [[voltage.interharmonics]]\norder = 4.5\nmagnitude = 0.5\nphase = 5.0\n\
         [[voltage.interharmonics]]\nfrequency = 175.0\nmagnitude = 0.3\nphase = 20.0\n",
    );
    let theta = |t: f64| {
        let mut c = 50.1 * t;
        if t > 0.2 {
            let r = t.min(0.6) - 0.2;
            c += 0.25 * r * r;
        }
        if t > 0.6 {
            c += 0.2 * (t - 0.6);
        }
        let phi = 10f64.to_radians();
        c + 0.1 * 0.37 / TAU * (phi.cos() - (TAU * t / 0.37 + phi).cos())
    };
    let x = render(&s);
    let a = SQRT_2 * 230.0;
    let mut worst: f64 = 0.0;
    for (p, alpha) in [(0usize, 0.0), (1, -1.0 / 3.0)] {
        for (n, v) in x[p].iter().enumerate() {
            let t = n as f64 / 10_240.0;
            let th = theta(t) + alpha;
            let want = a
                * ((TAU * th).sin()
                    + 0.02 * (TAU * 3.0 * th + 15f64.to_radians()).sin()
                    + 0.01 * (TAU * 97.0 * th).sin()
                    + 0.005 * (TAU * 4.5 * th + 5f64.to_radians()).sin()
                    + 0.003 * (TAU * 175.0 * t + 20f64.to_radians()).sin());
            worst = worst.max((v - want).abs() / a);
        }
    }
    eprintln!("closed form: worst relative error {worst:e}");
    assert!(worst < 1e-11, "worst relative error {worst}");
}

#[test]
fn spectrum_and_thd_truth() {
    let s = scenario(
        "duration = 1.0\n[frequency]\noffset = 0.2\n\
         [[voltage.harmonics]]\norder = 3\nmagnitude = 3.0\n\
         [[voltage.harmonics]]\norder = 5\nmagnitude = 4.0\n\
         [[voltage.interharmonics]]\norder = 2.5\nmagnitude = 1.0\n\
         [[voltage.interharmonics]]\nfrequency = 183.3\nmagnitude = 0.5\n",
    );
    let lines = s.expected_spectrum_at("U_A", 0.5).unwrap();
    let freqs: Vec<f64> = lines.iter().map(|l| l.frequency).collect();
    let want = [50.2, 125.5, 150.6, 183.3, 251.0];
    assert_eq!(freqs.len(), want.len());
    for (f, w) in freqs.iter().zip(want) {
        assert!((f - w).abs() < 1e-9, "{freqs:?}");
    }
    assert!(rel(lines[4].rms, 0.04 * 230.0) < 1e-12);
    assert_eq!(lines[3].order, None);
    let thd = s.expected_thd_at("U_A", 0.5, 50).unwrap();
    assert!((thd - 5.0).abs() < 1e-12, "{thd}");
    // Line-to-line: the balanced 3rd cancels, the 5th is √3 times larger like the
    // fundamental, so THD = 4 %.
    let d = scenario(
        "duration = 1.0\nwiring = \"delta\"\n\
         [[voltage.harmonics]]\norder = 3\nmagnitude = 3.0\n\
         [[voltage.harmonics]]\norder = 5\nmagnitude = 4.0\n",
    );
    let thd = d.expected_thd_at("U_AB", 0.5, 50).unwrap();
    assert!((thd - 4.0).abs() < 1e-9, "{thd}");
    let x = render(&d);
    let (h3, _) = tone(&x[0][..1024], 10_240.0, 150.0);
    assert!(h3 < 1e-9, "{h3}");
}
