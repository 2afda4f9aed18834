//! Chunk invariance of the whole analysis with events, flags, aggregates and flicker: the same
//! recording pushed in blocks of 1, 7, 1000 and 65 536 samples gives the same records, in
//! the same order, bit for bit (compared through their `Debug` form, which prints every
//! `f64` exactly).

use pqe_core::record::Record;
use pqe_core::Block;
use pqe_dsp::synth::Scenario;
use pqe_standards::{Analyzer, AnalyzerOptions};

fn analyze(s: &Scenario, block: usize, gap: Option<std::ops::Range<usize>>) -> Vec<Record> {
    let info = s.recording_info();
    let fs = s.sample_rate();
    let mut a = Analyzer::new(
        &info.channels,
        fs,
        s.start(),
        s.system_config(),
        AnalyzerOptions::default(),
    )
    .expect("analyzer");
    // The whole recording, planar.
    let mut data = vec![Vec::new(); info.channels.len()];
    let mut g = s.generator();
    while let Some(b) = g.next_block(65_536) {
        for (c, d) in data.iter_mut().enumerate() {
            d.extend_from_slice(b.channel(c));
        }
    }
    let n = data[0].len();
    // Pushed in blocks of `block`, leaving out the gap (blocks never straddle it).
    let stretches = match gap {
        Some(r) => vec![(0, r.start), (r.end, n)],
        None => vec![(0, n)],
    };
    let mut out = Vec::new();
    for (from, to) in stretches {
        let mut i = from;
        while i < to {
            let j = (i + block).min(to);
            let b = Block::from_channels(
                s.start().add_seconds(i as f64 / fs),
                fs,
                i as u64,
                data.iter().map(|c| c[i..j].to_vec()).collect(),
            )
            .expect("block");
            a.push(&b).expect("push");
            out.extend(a.drain());
            i = j;
        }
    }
    a.finish();
    out.extend(a.drain());
    out
}

fn scenario() -> Scenario {
    // 3 V + 3 I at 4 kHz, starting 2.3 s before a 10-min tick; a dip, a swell, an
    // interruption and a 5 % step (RVC), harmonics and noise.
    Scenario::from_toml_str(
        r#"
        sample_rate = 4000
        duration = 9.0
        start = "2024-01-01T00:09:57.7Z"
        seed = 3
        [voltage]
        magnitude = 230.0
        [[voltage.harmonics]]
        order = 5
        magnitude = 4.0
        [noise]
        voltage_db = -70
        [[events]]
        kind = "dip"
        start = 1.0
        duration = 0.3
        residual = 40
        phases = "B"
        [[events]]
        kind = "swell"
        start = 2.0
        duration = 0.1
        residual = 125
        point_on_wave = 60
        [[events]]
        kind = "interruption"
        start = 3.0
        duration = 0.5
        [[events]]
        kind = "dip"
        start = 5.5
        duration = 2.5
        residual = 95
        "#,
    )
    .expect("scenario")
}

fn compare(reference: &[Record], other: &[Record], what: &str) {
    assert_eq!(other.len(), reference.len(), "{what}: record count");
    for (k, (a, b)) in reference.iter().zip(other).enumerate() {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}: record {k}");
    }
}

#[test]
fn events_flags_and_aggregates_do_not_depend_on_block_size() {
    let s = scenario();
    let reference = analyze(&s, 65_536, None);
    let count = |f: fn(&Record) -> bool| reference.iter().filter(|r| f(r)).count();
    assert!(count(|r| matches!(r, Record::Event(_))) >= 5);
    assert!(count(|r| matches!(r, Record::CaptureTrigger(_))) >= 5);
    assert!(count(|r| matches!(r, Record::Aggregate(_))) >= 3);
    assert!(count(|r| matches!(r, Record::Interval(i) if i.flags.event)) >= 5);
    assert!(count(|r| matches!(r, Record::Frequency(f) if f.flagged)) >= 1);
    assert!(count(|r| matches!(r, Record::Flicker(_))) >= 3);
    for block in [1, 7, 1000] {
        compare(
            &reference,
            &analyze(&s, block, None),
            &format!("block {block}"),
        );
    }
}

#[test]
fn events_around_a_gap_do_not_depend_on_block_size() {
    // The gap cuts the interruption.
    let s = scenario();
    let gap = 13_100..14_500;
    let reference = analyze(&s, 65_536, Some(gap.clone()));
    let incomplete = reference
        .iter()
        .filter(|r| matches!(r, Record::Event(e) if e.incomplete))
        .count();
    assert!(incomplete >= 1);
    for block in [1, 7, 1000] {
        compare(
            &reference,
            &analyze(&s, block, Some(gap.clone())),
            &format!("block {block} with a gap"),
        );
    }
}
