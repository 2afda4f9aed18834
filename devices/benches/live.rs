//! Samples per second carried by the live sources (the C plugin, the out-of-process
//! adapter, a TCP stream), and the host's overhead per block against pushing the same
//! blocks into the analyzer directly. Figures in benches/README.md ("Live sources").
//!
//! `cargo bench -p pqe-devices --bench live`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_core::{Block, SystemConfig};
use pqe_devices::adapter::{AdapterDriver, AdapterSpec};
use pqe_devices::plugin::load_plugin;
use pqe_devices::stream::{encode_packet, PacketHeader, SampleFormat};
use pqe_devices::{Delivery, DeviceUri, Driver, LiveSource, Registry};
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const CHANNELS: usize = 6;
const RATE: f64 = 10_240.0;
const BLOCK: usize = 8192;
/// Samples per channel read in one measured iteration.
const PER_ITER: usize = 64 * BLOCK;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn plugin_driver() -> (tempfile::TempDir, pqe_devices::plugin::PluginDriver) {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libsimdaq.so");
    let st = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-I"])
        .arg(root().join("include"))
        .arg("-o")
        .arg(&lib)
        .arg(root().join("plugins/simdaq/simdaq.c"))
        .arg("-lm")
        .status()
        .unwrap();
    assert!(st.success());
    let d = load_plugin(&lib).unwrap();
    (dir, d)
}

/// Read `n` samples per channel from an endless source.
fn take(src: &mut dyn LiveSource, n: usize, mut each: impl FnMut(&Block)) {
    let mut got = 0;
    while got < n {
        match src.next().unwrap() {
            Delivery::Block(b) => {
                got += b.len();
                each(&b);
            }
            Delivery::Gap(g) => panic!("gap in a benchmark: {}", g.reason),
            Delivery::End => panic!("the source ended"),
        }
    }
}

fn carried(c: &mut Criterion) {
    let mut group = c.benchmark_group("live_sources_f32_6ch");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements((PER_ITER * CHANNELS) as u64));

    let (_dir, plugin) = plugin_driver();
    let uri = DeviceUri::parse(&format!(
        "simdaq://card0?channels={CHANNELS}&rate={RATE}&pace=max&block={BLOCK}"
    ))
    .unwrap();
    let mut src = plugin.open(&uri).unwrap();
    group.bench_function("c_plugin", |b| {
        b.iter(|| take(src.as_mut(), PER_ITER, |_| {}))
    });
    drop(src);

    let script = root().join("adapters/sim_adapter.py");
    let adapter = AdapterDriver::new(AdapterSpec {
        name: "simpy".into(),
        schemes: vec!["simpy".into()],
        command: vec!["python3".into(), script.display().to_string()],
        dir: None,
        manifest: script,
        restart: 0,
    });
    let uri = DeviceUri::parse(&format!(
        "simpy://meter0?channels={CHANNELS}&rate={RATE}&pace=max&block={BLOCK}"
    ))
    .unwrap();
    let mut src = adapter.open(&uri).unwrap();
    group.bench_function("adapter_python", |b| {
        b.iter(|| take(src.as_mut(), PER_ITER, |_| {}))
    });
    drop(src);

    // a TCP sender writing the same pre-encoded packets as fast as the socket takes them
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let planar: Vec<f64> = (0..CHANNELS * BLOCK)
            .map(|i| (i as f64 * 0.01).sin())
            .collect();
        let mut bytes = Vec::new();
        for seq in 0u64.. {
            let h = PacketHeader {
                format: SampleFormat::F32,
                channels: CHANNELS as u16,
                samples: BLOCK as u32,
                flags: 0,
                sequence: seq,
                time_ns: 1_704_067_200_000_000_000
                    + (seq as f64 * BLOCK as f64 * 1e9 / RATE).round() as i64,
                sample_rate: RATE,
            };
            encode_packet(&h, &planar, 1.0, &mut bytes);
            if s.write_all(&bytes).is_err() {
                return;
            }
        }
    });
    let mut src = Registry::builtin()
        .open(&format!("tcp://127.0.0.1:{port}"))
        .unwrap();
    group.bench_function("tcp_stream", |b| {
        b.iter(|| take(src.as_mut(), PER_ITER, |_| {}))
    });
    drop(src);
    group.finish();
}

fn overhead(c: &mut Criterion) {
    // The same samples into the analyzer (full chain): pushed from memory, and read from the C
    // plugin as they are pushed. The difference is the host's own cost per block.
    let (_dir, plugin) = plugin_driver();
    let uri = DeviceUri::parse(&format!(
        "simdaq://card0?channels={CHANNELS}&rate={RATE}&pace=max&block={BLOCK}&start_ns=0"
    ))
    .unwrap();
    let mut src = plugin.open(&uri).unwrap();
    let info = src.info().clone();
    let mut blocks = Vec::new();
    take(src.as_mut(), PER_ITER, |b| blocks.push(b.clone()));
    drop(src);
    let options = AnalyzerOptions::default();
    let analyzer = || {
        Analyzer::new(
            &info.channels,
            RATE,
            info.start,
            SystemConfig::default(),
            options.clone(),
        )
        .unwrap()
    };
    let mut group = c.benchmark_group("host_overhead_full_analysis");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements((PER_ITER * CHANNELS) as u64));
    group.bench_function("direct_push", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut a = analyzer();
                let t = Instant::now();
                for blk in &blocks {
                    a.push(blk).unwrap();
                    a.drain().count();
                }
                total += t.elapsed();
            }
            total
        })
    });
    group.bench_function("via_c_plugin", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut src = plugin.open(&uri).unwrap();
                let mut a = analyzer();
                let t = Instant::now();
                take(src.as_mut(), PER_ITER, |blk| {
                    a.push(blk).unwrap();
                    a.drain().count();
                });
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, carried, overhead);
criterion_main!(benches);
