//! Reading large binary COMTRADE files: 16 analog channels × 2 M records, BINARY (int16) and
//! FLOAT32, written once at set-up into a temporary directory. Throughput is in records
//! (rows) per second. `benches/compare_comtrade_read.py` times python-comtrade on the same
//! kind of file.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_io::comtrade::ComtradeReader;
use pqe_io::RecordingReader;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const CHANNELS: usize = 16;
const ROWS: usize = 2_000_000;
const RATE: f64 = 10_000.0;

/// Write `name.cfg` + `name.dat` with a deterministic waveform on every channel.
fn write_recording(dir: &Path, name: &str, ft: &str) -> PathBuf {
    let mut cfg = format!("bench,pqe,2013\r\n{CHANNELS},{CHANNELS}A,0D\r\n");
    for c in 1..=CHANNELS {
        cfg.push_str(&format!("{c},ch{c},A,,V,0.01,0,0,-32767,32767,1,1,P\r\n"));
    }
    cfg.push_str(&format!(
        "50\r\n1\r\n{RATE},{ROWS}\r\n01/01/2024,00:00:00.000000\r\n\
         01/01/2024,00:00:00.000000\r\n{ft}\r\n1\r\n0,0\r\n0,0\r\n"
    ));
    let cfg_path = dir.join(format!("{name}.cfg"));
    std::fs::write(&cfg_path, cfg).unwrap();
    let mut dat = BufWriter::new(std::fs::File::create(dir.join(format!("{name}.dat"))).unwrap());
    let mut rec = Vec::new();
    for n in 0..ROWS {
        rec.clear();
        rec.extend_from_slice(&(n as u32 + 1).to_le_bytes());
        rec.extend_from_slice(&((n as f64 * 1e6 / RATE) as u32).to_le_bytes());
        for c in 0..CHANNELS {
            let x = 30_000.0 * ((n as f64) * 0.0314 + c as f64).sin();
            if ft == "FLOAT32" {
                rec.extend_from_slice(&(x as f32 * 0.01).to_le_bytes());
            } else {
                rec.extend_from_slice(&(x as i16).to_le_bytes());
            }
        }
        dat.write_all(&rec).unwrap();
    }
    dat.flush().unwrap();
    cfg_path
}

fn read_all(path: &Path) -> u64 {
    let mut r = ComtradeReader::open(path).unwrap();
    let mut rows = 0u64;
    let mut sum = 0.0;
    while let Some(b) = r.read_block(65_536).unwrap() {
        rows += b.len() as u64;
        sum += b.channel(0)[0];
    }
    assert!(sum.is_finite());
    rows
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("comtrade_read");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, ft) in [("binary", "BINARY"), ("float32", "FLOAT32")] {
        let path = write_recording(dir.path(), name, ft);
        group.bench_function(format!("{name}_16ch_2M"), |b| {
            b.iter(|| assert_eq!(read_all(&path), ROWS as u64))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
