//! Helpers shared by the pqe-devices integration tests.
#![allow(dead_code)]

use pqe_core::{Block, RecordingInfo, SystemConfig};
use pqe_devices::{Delivery, DeviceError, Gap, LiveSource};
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::path::PathBuf;

/// The test scenario (4 s, 10.24 kHz, 3V3I, a dip at 1.5 s).
pub fn scenario_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/live-test.toml")
}

/// The scenario's blocks, as the generator renders them.
pub fn scenario_blocks(block: usize) -> (RecordingInfo, Vec<Block>) {
    let text = std::fs::read_to_string(scenario_path()).unwrap();
    let s = pqe_dsp::synth::Scenario::from_toml_str(&text).unwrap();
    let mut g = s.generator();
    let mut v = Vec::new();
    while let Some(b) = g.next_block(block) {
        v.push(b);
    }
    (s.recording_info(), v)
}

/// Everything a live source delivered until its end or its first error.
pub struct Drained {
    pub blocks: Vec<Block>,
    pub gaps: Vec<Gap>,
    pub error: Option<DeviceError>,
}

pub fn drain(src: &mut dyn LiveSource) -> Drained {
    let mut d = Drained {
        blocks: Vec::new(),
        gaps: Vec::new(),
        error: None,
    };
    loop {
        match src.next() {
            Ok(Delivery::Block(b)) => d.blocks.push(b),
            Ok(Delivery::Gap(g)) => d.gaps.push(g),
            Ok(Delivery::End) => break,
            Err(e) => {
                d.error = Some(e);
                break;
            }
        }
    }
    d
}

/// The analysis records of `blocks` (Debug text, so NaN compares equal to NaN).
pub fn analyze(info: &RecordingInfo, blocks: &[Block]) -> Vec<String> {
    let mut a = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    for b in blocks {
        a.push(b).unwrap();
        out.extend(a.drain().map(|r| format!("{r:?}")));
    }
    a.finish();
    out.extend(a.drain().map(|r| format!("{r:?}")));
    out
}

/// Total samples per channel.
pub fn samples(blocks: &[Block]) -> usize {
    blocks.iter().map(Block::len).sum()
}

/// Concatenate blocks of one channel.
pub fn channel(blocks: &[Block], c: usize) -> Vec<f64> {
    blocks.iter().flat_map(|b| b.channel(c).to_vec()).collect()
}

/// The analysis of `blocks` written to a CSV recording (shortest round-trip decimals, so the
/// samples read back exactly) and read back through pqe-io: the file analysis of the same
/// samples. (A text recording keeps libhdf5 out of these tests; adapters no longer inherit
/// its locked descriptor, see `keep_descriptors_from_exec` in src/adapter.rs.)
pub fn file_analysis(info: &RecordingInfo, blocks: &[Block]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("same-samples.csv");
    let mut w = pqe_io::create(&path, info, pqe_io::WriteOptions::default()).unwrap();
    for b in blocks {
        w.write_block(b).unwrap();
    }
    w.finish().unwrap();
    let mut r = pqe_io::open(&path).unwrap();
    let file_info = r.info().clone();
    let mut v = Vec::new();
    while let Some(b) = r.read_block(8192).unwrap() {
        v.push(b);
    }
    assert_eq!(file_info.start, info.start);
    analyze(&file_info, &v)
}

/// `blocks` joined into one block per contiguous run (a gap starts a new one).
pub fn contiguous_runs(blocks: &[Block]) -> Vec<Block> {
    let mut runs: Vec<Vec<&Block>> = Vec::new();
    for b in blocks {
        match runs.last_mut() {
            Some(run) => {
                let last = run.last().unwrap();
                if last.first_sample() + last.len() as u64 == b.first_sample() {
                    run.push(b);
                } else {
                    runs.push(vec![b]);
                }
            }
            None => runs.push(vec![b]),
        }
    }
    runs.into_iter()
        .map(|run| {
            let nc = run[0].n_channels();
            let chans: Vec<Vec<f64>> = (0..nc)
                .map(|c| run.iter().flat_map(|b| b.channel(c).to_vec()).collect())
                .collect();
            Block::from_channels(
                run[0].start(),
                run[0].sample_rate(),
                run[0].first_sample(),
                chans,
            )
            .unwrap()
        })
        .collect()
}
