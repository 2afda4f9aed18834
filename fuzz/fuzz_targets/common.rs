//! Shared by the targets: a scratch folder in memory-backed storage where one exists, and
//! reading a recording to its end the way the run loop does.

use pqe_core::{CancelToken, Source};
use std::path::PathBuf;

/// A fresh scratch folder per process (targets run one input at a time).
pub fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("pqe-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Read a source to its end in small blocks, checking the `Source` contract on the way:
/// blocks never go back in time and gaps have a positive span.
pub fn drain(mut source: impl Source) {
    let cancel = CancelToken::new();
    let mut last_end = None;
    for _ in 0..100_000 {
        match source.next_event(97, &cancel) {
            Ok(Some(pqe_core::SourceEvent::Block(b))) => {
                for c in b.channels() {
                    std::hint::black_box(c.iter().sum::<f64>());
                }
                if let Some(end) = last_end {
                    if b.sample_times().is_none() && b.sample_rate() > 0.0 {
                        assert!(
                            b.start() >= end || (end.as_nanos() - b.start().as_nanos()) < 2,
                            "block at {} before {end}",
                            b.start()
                        );
                    }
                }
                if b.sample_rate() > 0.0 && b.sample_times().is_none() {
                    last_end = Some(
                        b.start()
                            .add_seconds((b.len() as f64 - 1.0).max(0.0) / b.sample_rate()),
                    );
                }
            }
            Ok(Some(pqe_core::SourceEvent::Gap(g))) => {
                assert!(g.end > g.start, "gap {g}");
            }
            Ok(Some(pqe_core::SourceEvent::Warning(w))) => {
                std::hint::black_box(w.to_string());
            }
            Ok(None) | Err(_) => break,
        }
        std::hint::black_box(source.progress());
    }
}
