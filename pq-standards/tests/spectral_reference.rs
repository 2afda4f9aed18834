//! Reference twins of the fast kernels on realistic windows: the FFT path against a plain
//! O(N²) DFT, the table-driven resampler against the directly summed Kaiser-sinc kernel,
//! and Parseval against the time-domain RMS.

mod spectral_support;

use pqe_core::NominalFrequency;
use pqe_dsp::fft::dft_reference;
use pqe_dsp::resample::resample_reference;
use spectral_support::*;

fn distorted() -> Vec<Tone> {
    let mut t = vec![Tone::new(UNOM, 1.0, 0.1)];
    for n in 2..=63 {
        t.push(Tone::new(
            0.002 * UNOM * (1 + n % 5) as f64,
            n as f64,
            0.7 * n as f64,
        ));
    }
    t.push(Tone::new(1.0, 7.5, 0.0));
    t.push(Tone::new(3.0, 0.0, 0.0)); // DC
    t
}

#[test]
fn spectrum_lines_match_a_plain_dft() {
    for (nominal, f1) in [
        (NominalFrequency::Hz50, 49.2),
        (NominalFrequency::Hz60, 60.8),
    ] {
        let mut chain = Chain::new(nominal);
        let s = chain.run(FS, f1, &distorted());
        let x = chain.synced.clone();
        let n = x.len() as f64;
        let reference = dft_reference(&x);
        let mut worst = 0.0f64;
        for (k, (line, bin)) in s.lines().iter().zip(&reference).enumerate() {
            let scale = if k == 0 || 2 * k == x.len() {
                1.0 / n
            } else {
                std::f64::consts::SQRT_2 / n
            };
            worst = worst.max((line - bin * scale).norm());
        }
        eprintln!("{nominal}: worst |FFT line − DFT line| = {worst:.2e} V");
        assert!(worst < 1e-9 * UNOM, "{worst}");
        // Parseval: the spectrum's RMS is the synced window's RMS.
        let rms = (x.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
        assert!((s.rms() - rms).abs() < 1e-12 * rms);
    }
}

#[test]
fn resampler_matches_its_direct_sum_twin() {
    for (nominal, f1, fs) in [
        (NominalFrequency::Hz50, 49.2, FS),
        (NominalFrequency::Hz50, 50.8, 25_600.0),
        (NominalFrequency::Hz60, 59.2, FS),
        (NominalFrequency::Hz50, 50.3, 1_000.0),
    ] {
        let chain = Chain::new(nominal);
        let r = raw(fs, f1, nominal.cycles_per_interval(), &distorted());
        let mut fast = vec![0.0; chain.resampler.output_len()];
        let mut slow = fast.clone();
        chain
            .resampler
            .resample(&r.x, r.start, r.length, &mut fast)
            .unwrap();
        resample_reference(&r.x, r.start, r.length, &mut slow).unwrap();
        let worst = fast
            .iter()
            .zip(&slow)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!("{nominal} f1 {f1} fs {fs}: worst |fast − direct| = {worst:.2e} V");
        assert!(worst < 1e-8 * UNOM, "{worst}");
    }
}

/// Cost of one window per channel (resample + FFT + groupings), printed for the notes;
/// run with `--ignored --nocapture`.
#[test]
#[ignore = "measurement; prints the cost of one window per channel"]
fn window_throughput() {
    let mut chain = Chain::new(NominalFrequency::Hz50);
    let r = raw(FS, 49.7, 10, &distorted());
    let rounds = 400;
    let t0 = std::time::Instant::now();
    for _ in 0..rounds {
        chain
            .resampler
            .resample(&r.x, r.start, r.length, &mut chain.synced)
            .unwrap();
    }
    let resample = t0.elapsed().as_secs_f64() / rounds as f64;
    let mut spectrum = chain.analyzer.new_spectrum();
    let t0 = std::time::Instant::now();
    let mut sink = 0.0;
    for _ in 0..rounds {
        chain
            .analyzer
            .analyze_into(&chain.synced, &mut spectrum)
            .unwrap();
        for n in 0..=63 {
            sink += spectrum.harmonic_subgroup(n) + spectrum.interharmonic_centred_subgroup(n);
        }
    }
    let analyze = t0.elapsed().as_secs_f64() / rounds as f64;
    let samples = r.length;
    eprintln!(
        "per 10-cycle window: resample {:.1} µs, FFT + groupings {:.1} µs; {:.1} M raw samples/s per core ({sink:.0})",
        resample * 1e6,
        analyze * 1e6,
        samples / (resample + analyze) / 1e6
    );
}
