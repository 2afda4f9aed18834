//! Bad input never panics and never gives silent garbage: NaN and infinite samples, gaps,
//! dead channels, too low a sample rate, mismatched blocks.

#[path = "chain_support.rs"]
mod support;

use pqe_core::{Block, Phase, SystemConfig};
use pqe_standards::{Analyzer, AnalyzerOptions};
use support::*;

const FS: f64 = 5_000.0;

fn two_channels(n: usize) -> Vec<Vec<f64>> {
    vec![
        Wave::sine(50.0, 230.0, 0.1).render(FS, 0, n),
        Wave::sine(50.0, 10.0, -0.4).render(FS, 0, n),
    ]
}

fn channels() -> Vec<pqe_core::ChannelSpec> {
    vec![voltage(Phase::A), current(Phase::A)]
}

#[test]
fn nan_and_infinite_samples_flag_their_intervals_only() {
    let n = (3.0 * FS) as usize;
    let mut data = two_channels(n);
    data[1][7_000] = f64::NAN; // current channel, at 1.4 s
    data[0][11_000] = f64::INFINITY; // reference channel, at 2.2 s
    let records = run(
        &channels(),
        &data,
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
        999,
    );
    let iv = intervals(&records);
    assert!(iv.len() >= 12);
    for r in &iv {
        let t0 = r.start_sample;
        let t1 = t0 + r.length_samples;
        let touches = |i: f64| i + 3.0 >= t0 && i - 3.0 <= t1;
        if touches(7_000.0) {
            assert!(r.flagged && r.flags.missing_samples);
            assert!(r.channels[1].rms.is_nan());
            assert!(r.channels[0].rms.is_finite());
        } else if touches(11_000.0) {
            assert!(r.flagged);
            assert!(r.channels[0].rms.is_nan());
        } else if !r.flagged {
            assert!((r.channels[0].rms / 230.0 - 1.0).abs() < 1e-5);
            assert!((r.channels[1].rms / 10.0 - 1.0).abs() < 1e-5);
        }
    }
    // Every interval has the same columns, flagged or not (a table, not ragged rows).
    let names = |r: &pqe_core::record::IntervalRecord| -> Vec<String> {
        r.columns().into_iter().map(|(n, _)| n).collect()
    };
    assert!(iv.iter().all(|r| names(r) == names(iv[0])));
    assert!(names(iv[0]).iter().any(|n| n == "THD_U_A"));
    // After the reference dropout the tracker comes back.
    let last = iv.last().unwrap();
    assert!(!last.flagged, "{:?}", last.flags);
}

#[test]
fn a_gap_restarts_tracking_and_flags_what_follows() {
    let n = (2.0 * FS) as usize;
    let data = two_channels(n);
    let mut a = Analyzer::new(
        &channels(),
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let first = Block::from_channels(
        aligned_start(),
        FS,
        0,
        data.iter().map(|c| c[..5_000].to_vec()).collect(),
    )
    .unwrap();
    a.push(&first).unwrap();
    // 0.5 s of samples never arrive.
    let resumed = Block::from_channels(
        aligned_start().add_seconds(1.5),
        FS,
        7_500,
        data.iter().map(|c| c[5_000..].to_vec()).collect(),
    )
    .unwrap();
    a.push(&resumed).unwrap();
    a.finish();
    let records: Vec<_> = a.drain().collect();
    let iv = intervals(&records);
    let after: Vec<_> = iv.iter().filter(|r| r.start_sample >= 7_500.0).collect();
    assert!(!after.is_empty());
    assert!(after[0].flagged && after[0].flags.after_gap);
    assert!(iv
        .iter()
        .all(|r| r.start_sample + r.length_samples <= 5_000.0 || r.start_sample >= 7_500.0));
    // Going back in time is an error naming the times.
    let back =
        Block::from_channels(aligned_start(), FS, 0, vec![vec![0.0; 10], vec![0.0; 10]]).unwrap();
    let mut b = Analyzer::new(
        &channels(),
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    b.push(&first).unwrap();
    let e = b.push(&back).unwrap_err().to_string();
    assert!(e.contains("overlaps"), "{e}");
}

#[test]
fn a_dead_reference_channel_gives_flagged_nominal_intervals() {
    let n = (2.0 * FS) as usize;
    let mut data = two_channels(n);
    data[0] = vec![0.0; n];
    let records = run(
        &channels(),
        &data,
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
        4096,
    );
    let iv = intervals(&records);
    assert!(iv.len() >= 8);
    for r in &iv {
        assert!(r.flagged && r.flags.unlocked);
        assert!((r.duration - 0.2).abs() < 1e-9);
        assert_eq!(r.channels[0].rms, 0.0);
        assert!(r.channels[0].crest_factor.is_nan());
        assert!(r.channels[0].harmonics.as_ref().unwrap().thd.is_nan());
    }
    // A constant (DC) reference is just as dead.
    let mut data = two_channels(n);
    data[0] = vec![17.0; n];
    let records = run(
        &channels(),
        &data,
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
        4096,
    );
    assert!(intervals(&records).iter().all(|r| r.flags.unlocked));
    assert!(frequencies(&records).iter().all(|f| f.flagged));
}

#[test]
fn configuration_errors_are_clear() {
    let low = Analyzer::new(
        &channels(),
        900.0,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        low.contains("900") && low.contains("20 samples per cycle"),
        "{low}"
    );

    let mut a = Analyzer::new(
        &channels(),
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let wrong_count = Block::from_channels(aligned_start(), FS, 0, vec![vec![0.0; 4]]).unwrap();
    assert!(a
        .push(&wrong_count)
        .unwrap_err()
        .to_string()
        .contains("channels"));
    let wrong_rate = Block::from_channels(
        aligned_start(),
        4_000.0,
        0,
        vec![vec![0.0; 4], vec![0.0; 4]],
    )
    .unwrap();
    assert!(a
        .push(&wrong_rate)
        .unwrap_err()
        .to_string()
        .contains("4000"));
    let timed = Block::from_channels(aligned_start(), FS, 0, vec![vec![0.0; 2], vec![0.0; 2]])
        .unwrap()
        .with_sample_times(vec![0, 200_000])
        .unwrap();
    assert!(a.push(&timed).is_err());
    let no_reference = Analyzer::new(
        &[pqe_core::ChannelSpec::new("T", "degC")],
        FS,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    );
    assert!(no_reference.is_err());
}
