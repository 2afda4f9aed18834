//! `pqe analyze --source URI`: every kind of live source (`replay:`, `synth:`, TCP and UDP streams,
//! the sample C plugin, the sample Python adapter) gives the tables the file analysis of the
//! same samples gives; a stream with lost packets gives the flagged intervals of a file with
//! the same rows missing; `--duration` and SIGTERM end the run cleanly with what was read;
//! a driver that fails is named and the results before it are kept; `pqe capture` records
//! what re-analyses to the same tables (gaps: rows left out in CSV, NaN in COMTRADE).
//!
//! The scenario is devices/tests/data/live-test.toml (written for this repo): 4 s of a
//! 230 V / 50 Hz three-phase supply at 10.24 kHz with a dip at 1.5 s.

use pqe_core::{Block, RecordingInfo};
use pqe_devices::stream::{encode_packet, PacketHeader, SampleFormat, FLAG_LAST};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn devices_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../devices")
}

fn scenario() -> PathBuf {
    devices_dir().join("tests/data/live-test.toml")
}

fn pqe(args: &[&str], plugin_path: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pqe"));
    c.args(args);
    // The tests write reference .h5 files in this process; libhdf5 opens them without
    // O_CLOEXEC and flock()s them, so a child spawned meanwhile by a parallel test inherits
    // the lock and a `pqe` reading the file would be refused (EAGAIN). Reading without the
    // advisory lock is safe here: every file is complete before it is read.
    c.env("HDF5_USE_FILE_LOCKING", "FALSE");
    if let Some(p) = plugin_path {
        c.env("PQE_PLUGIN_PATH", p);
    }
    c.output().expect("pqe runs")
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "pqe failed: {err}");
    err
}

/// `pqe analyze` of `input` (a file, or `--source URI`) into `out`; its stderr.
fn analyze(input: &[&str], out: &Path, plugin_path: Option<&Path>) -> String {
    let mut args = vec!["analyze"];
    args.extend_from_slice(input);
    args.extend(["--out", out.to_str().unwrap(), "--nominal-voltage", "230"]);
    ok(&pqe(&args, plugin_path))
}

/// Every CSV table of an output folder, by name.
fn tables(dir: &Path) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            m.insert(name, std::fs::read_to_string(&p).unwrap());
        }
    }
    assert!(m.contains_key("intervals.csv"), "{}: {m:?}", dir.display());
    m
}

fn assert_same_tables(file: &Path, live: &Path, what: &str) {
    let (a, b) = (tables(file), tables(live));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (name, text) in &a {
        assert!(
            text == &b[name],
            "{what}: {name} differs from the file analysis"
        );
    }
}

/// The scenario's blocks of `per` samples, as the generator renders them.
fn scenario_blocks(per: usize) -> (RecordingInfo, Vec<Block>) {
    let text = std::fs::read_to_string(scenario()).unwrap();
    let s = pqe_dsp::synth::Scenario::from_toml_str(&text).unwrap();
    let mut g = s.generator();
    let mut v = Vec::new();
    while let Some(b) = g.next_block(per) {
        v.push(b);
    }
    (s.recording_info(), v)
}

/// Write `blocks` to `path` (the writer chosen by its extension).
fn write(path: &Path, info: &RecordingInfo, blocks: &[Block]) {
    let mut w = pqe_io::create(path, info, Default::default()).unwrap();
    for b in blocks {
        w.write_block(b).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn replay_and_synth_sources_give_the_tables_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.h5");
    let s = scenario();
    ok(&pqe(
        &["generate", s.to_str().unwrap(), rec.to_str().unwrap()],
        None,
    ));
    let file_out = dir.path().join("file");
    analyze(&[rec.to_str().unwrap()], &file_out, None);
    let replay_out = dir.path().join("replay");
    let uri = format!("replay:{}?speed=max", rec.display());
    let err = analyze(&["--source", &uri], &replay_out, None);
    assert!(err.contains("end of stream"), "{err}");
    assert_same_tables(&file_out, &replay_out, "replay:");
    let synth_out = dir.path().join("synth");
    let uri = format!("synth:{}?speed=max", s.display());
    analyze(&["--source", &uri], &synth_out, None);
    assert_same_tables(&file_out, &synth_out, "synth:");
    // The dip at 1.5 s is found live as in the file.
    assert!(tables(&synth_out)["events.csv"].contains("dip"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(synth_out.join("summary.json")).unwrap()).unwrap();
    assert!(
        summary.to_string().contains("synth:"),
        "the summary names the source"
    );
}

/// The scenario as f32 packets of 1024 samples numbered from 1000, and the values a
/// receiver decodes (rounded to f32).
fn packets() -> (RecordingInfo, Vec<Vec<u8>>, Vec<Block>) {
    let (info, blocks) = scenario_blocks(1024);
    let rate = info.sample_rate;
    let n = blocks.len();
    let mut packets = Vec::new();
    let mut decoded = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let h = PacketHeader {
            format: SampleFormat::F32,
            channels: b.n_channels() as u16,
            samples: b.len() as u32,
            flags: if i + 1 == n { FLAG_LAST } else { 0 },
            sequence: 1000 + i as u64,
            time_ns: info.start.0 + (b.first_sample() as f64 * 1e9 / rate).round() as i64,
            sample_rate: rate,
        };
        let mut bytes = Vec::new();
        encode_packet(&h, b.planar(), 1.0, &mut bytes);
        packets.push(bytes);
        let values = b.planar().iter().map(|&v| v as f32 as f64).collect();
        decoded.push(
            Block::from_planar(b.start(), rate, b.first_sample(), b.n_channels(), values).unwrap(),
        );
    }
    (info, packets, decoded)
}

fn serve(packets: Vec<Vec<u8>>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        for p in packets {
            if s.write_all(&p).is_err() {
                return;
            }
        }
    });
    (port, h)
}

#[test]
fn a_tcp_stream_gives_the_tables_of_the_file_and_lost_packets_the_flags_of_missing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (info, packets, decoded) = packets();
    // Whole stream against the file of the same (f32) values.
    let rec = dir.path().join("f32.h5");
    write(&rec, &info, &decoded);
    let file_out = dir.path().join("file");
    analyze(&[rec.to_str().unwrap()], &file_out, None);
    let (port, server) = serve(packets.clone());
    let live_out = dir.path().join("tcp");
    analyze(
        &["--source", &format!("tcp://127.0.0.1:{port}")],
        &live_out,
        None,
    );
    server.join().unwrap();
    assert_same_tables(&file_out, &live_out, "tcp://");

    // Packets 20..23 (2.0 s to 2.3 s) lost, against a CSV whose rows 20480..23552 are
    // missing (its reader reports them as a gap).
    let csv = dir.path().join("gap.csv");
    write(&csv, &info, &decoded);
    let text = std::fs::read_to_string(&csv).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| !(20_480 + 1..23_552 + 1).contains(i))
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&csv, kept.join("\n") + "\n").unwrap();
    let file_out = dir.path().join("file-gap");
    let err = analyze(&[csv.to_str().unwrap()], &file_out, None);
    assert!(err.contains("gap"), "{err}");
    let mut lossy = packets;
    lossy.drain(20..23);
    let (port, server) = serve(lossy);
    let live_out = dir.path().join("tcp-gap");
    let err = analyze(
        &["--source", &format!("tcp://127.0.0.1:{port}")],
        &live_out,
        None,
    );
    server.join().unwrap();
    assert!(
        err.contains("3 packet(s) lost (sequence 1020 to 1022)"),
        "{err}"
    );
    let intervals = &tables(&live_out)["intervals.csv"];
    assert_same_tables(&file_out, &live_out, "tcp:// with lost packets");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(live_out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["gaps"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    assert!(!intervals.is_empty());
}

/// True once a socket is bound to UDP `port` on this machine (Linux: /proc/net/udp).
fn udp_port_bound(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp (Linux)");
    let tail = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .any(|local| local.ends_with(&tail))
}

#[test]
fn a_udp_stream_gives_the_tables_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (info, packets, decoded) = packets();
    let rec = dir.path().join("f32.h5");
    write(&rec, &info, &decoded);
    let file_out = dir.path().join("file");
    analyze(&[rec.to_str().unwrap()], &file_out, None);
    // A free port for pqe to bind (taken and released here).
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let live_out = dir.path().join("udp");
    let child = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args([
            "analyze",
            "--source",
            &format!("udp://127.0.0.1:{port}?timeout=20"),
        ])
        .args([
            "--out",
            live_out.to_str().unwrap(),
            "--nominal-voltage",
            "230",
        ])
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while !udp_port_bound(port) {
        assert!(
            t.elapsed().as_secs() < 20,
            "pqe did not bind udp port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // One datagram per packet, in real time (100 ms of samples each), so a receiver that
    // keeps up loses nothing on loopback.
    let out = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in &packets {
        out.send_to(p, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("lost"), "{err}");
    assert_same_tables(&file_out, &live_out, "udp://");
}

fn build_simdaq(dir: &Path) {
    let st = Command::new("cc")
        .args([
            "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-I",
        ])
        .arg(devices_dir().join("include"))
        .arg("-o")
        .arg(dir.join("libsimdaq.so"))
        .arg(devices_dir().join("plugins/simdaq/simdaq.c"))
        .arg("-lm")
        .status()
        .expect("cc (build-essential) must be installed");
    assert!(st.success());
}

fn write_adapter_manifest(dir: &Path, extra: &[&str]) {
    let script = devices_dir().join("adapters/sim_adapter.py");
    let mut command = vec!["python3".to_string(), script.display().to_string()];
    command.extend(extra.iter().map(|s| s.to_string()));
    let m = serde_json::json!({"name": "simpy", "schemes": ["simpy"], "command": command});
    std::fs::write(dir.join("simpy.adapter.json"), m.to_string()).unwrap();
}

/// What the driver of `uri` delivers, read in-process through the same registry, written
/// to an .h5 file: the file analysis of the same samples.
fn record_in_process(plugins: &Path, uri: &str, path: &Path) {
    let mut r = pqe_devices::Registry::empty();
    r.load_dirs(&[plugins.to_path_buf()]);
    assert!(r.refused.is_empty(), "{:?}", r.refused);
    let mut src = r.open(uri).unwrap();
    let info = src.info().clone();
    let mut blocks = Vec::new();
    loop {
        match src.next().unwrap() {
            pqe_devices::Delivery::Block(b) => blocks.push(b),
            pqe_devices::Delivery::End => break,
            pqe_devices::Delivery::Gap(g) => panic!("{g:?}"),
        }
    }
    write(path, &info, &blocks);
}

const START_NS: i64 = 1_704_067_200_000_000_000;

#[test]
fn the_c_plugin_and_the_python_adapter_give_the_tables_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    build_simdaq(&plugins);
    write_adapter_manifest(&plugins, &[]);
    for (what, uri) in [
        (
            "C plugin",
            format!("simdaq://card0?channels=6&rate=10240&amplitude=325&current=20&samples=40960&pace=max&start_ns={START_NS}&block=1000"),
        ),
        (
            "Python adapter",
            format!("simpy://meter0?pace=max&samples=40960&block=1024&rate=10240&start_ns={START_NS}"),
        ),
    ] {
        let rec = dir.path().join(format!("{}.h5", what.replace(' ', "-")));
        record_in_process(&plugins, &uri, &rec);
        let file_out = dir.path().join(format!("{what}-file"));
        analyze(&[rec.to_str().unwrap()], &file_out, None);
        let live_out = dir.path().join(format!("{what}-live"));
        analyze(&["--source", &uri], &live_out, Some(&plugins));
        assert_same_tables(&file_out, &live_out, what);
        let rows = tables(&live_out)["intervals.csv"].lines().count();
        assert!(rows > 10, "{what}: {rows} interval rows");
    }
}

#[test]
fn duration_cuts_the_source_and_a_failing_driver_is_named_with_the_results_kept() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("synth:{}?speed=max", scenario().display());
    let out = dir.path().join("two-seconds");
    let err = analyze(&["--source", &uri, "--duration", "2s"], &out, None);
    assert!(err.contains("duration reached"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["recording"]["samples"], 20_480, "2 s at 10240 Hz");

    // An adapter that crashes after 10 frames (1 s) of samples: the run reports the adapter and the
    // fault, exits non-zero, and the tables hold the intervals before the crash.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    write_adapter_manifest(&plugins, &[]);
    let out = dir.path().join("crash");
    let o = pqe(
        &[
            "analyze",
            "--source",
            &format!("simpy://meter0?pace=max&samples=40960&block=1024&rate=10240&start_ns={START_NS}&fault=crash@10"),
            "--out",
            out.to_str().unwrap(),
            "--nominal-voltage",
            "230",
            "--duration",
            "4",
        ],
        Some(&plugins),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("simpy") && err.contains("crash"), "{err}");
    assert!(err.contains("results up to the fault"), "{err}");
    let intervals = std::fs::read_to_string(out.join("intervals.csv")).unwrap();
    assert!(intervals.lines().count() > 3, "{intervals}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["gaps"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
}

#[test]
fn sigterm_finishes_the_analysis_with_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    // Paced in real time: 4 s of data; SIGTERM after about 1.5 s.
    let uri = format!("synth:{}?speed=1", scenario().display());
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(["analyze", "--source", &uri, "--out", out.to_str().unwrap()])
        .args(["--nominal-voltage", "230"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("stopped by signal"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(out.join("report.html").exists());
    let seconds = summary["recording"]["duration_s"].as_f64().unwrap();
    assert!((0.3..4.0).contains(&seconds), "{seconds} s analysed");
    let intervals = std::fs::read_to_string(out.join("intervals.csv")).unwrap();
    // Some intervals, but not the 4 s of the whole scenario (about 18).
    let rows = intervals.lines().count() - 1;
    assert!((1..18).contains(&rows), "{rows} intervals");
}

/// (t, flagged) of every row of intervals.csv.
fn interval_flags(dir: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(dir.join("intervals.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let it = head.iter().position(|h| *h == "t").unwrap();
    let fl = head.iter().position(|h| *h == "flagged").unwrap();
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[it].to_string(), c[fl] == "1" || c[fl] == "true")
        })
        .collect()
}

#[test]
fn capture_records_what_re_analyses_to_the_live_tables_with_gaps_marked_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (info, packets, decoded) = packets();
    // The live analysis of the stream's values (the file of the same f32 samples).
    let rec = dir.path().join("f32.h5");
    write(&rec, &info, &decoded);
    let live_out = dir.path().join("live");
    analyze(&[rec.to_str().unwrap()], &live_out, None);
    // Recorded as float32 COMTRADE (exact for f32 values) and as HDF5.
    for name in ["cap.cff", "cap.h5"] {
        let (port, server) = serve(packets.clone());
        let cap = dir.path().join(name);
        let err = ok(&pqe(
            &[
                "capture",
                "--source",
                &format!("tcp://127.0.0.1:{port}"),
                "--out",
                cap.to_str().unwrap(),
            ],
            None,
        ));
        server.join().unwrap();
        assert!(err.contains("recorded 40960 samples"), "{err}");
        let out = dir.path().join(format!("{name}-out"));
        analyze(&[cap.to_str().unwrap()], &out, None);
        assert_same_tables(&live_out, &out, name);
    }

    // Lost packets 20..23 (2.0 s to 2.3 s). In CSV the gap's rows are left out: the
    // recording re-analyses to the live analysis' tables, gap and flags included.
    let mut lossy = packets;
    lossy.drain(20..23);
    let (port, server) = serve(lossy.clone());
    let live_gap = dir.path().join("live-gap");
    analyze(
        &["--source", &format!("tcp://127.0.0.1:{port}")],
        &live_gap,
        None,
    );
    server.join().unwrap();
    let capture = |name: &str| -> (PathBuf, String) {
        let (port, server) = serve(lossy.clone());
        let cap = dir.path().join(name);
        let err = ok(&pqe(
            &[
                "capture",
                "--source",
                &format!("tcp://127.0.0.1:{port}"),
                "--out",
                cap.to_str().unwrap(),
            ],
            None,
        ));
        server.join().unwrap();
        (cap, err)
    };
    let (cap, err) = capture("gap.csv");
    assert!(
        err.contains("1 gap(s) marked by the rows left out"),
        "{err}"
    );
    let out = dir.path().join("gap-csv-out");
    analyze(&[cap.to_str().unwrap()], &out, None);
    assert_same_tables(&live_gap, &out, "capture to CSV with lost packets");

    // In COMTRADE (one sample clock) the span is written as missing samples (NaN), never
    // zeros; the re-analysis flags every interval that reads them.
    let (cap, err) = capture("gap.cff");
    assert!(err.contains("1 gap(s) marked as missing samples"), "{err}");
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("gap.cff.gaps.json")).unwrap())
            .unwrap();
    assert_eq!(side["gaps"][0]["samples_marked_missing"], 3072);
    assert_eq!(side["gaps"][0]["first_sample"], 20_480);
    let mut r = pqe_io::open(&cap).unwrap();
    let mut values = Vec::new();
    while let Some(b) = r.read_block(65_536).unwrap() {
        values.extend_from_slice(b.channel(0));
    }
    assert_eq!(values.len(), 40_960);
    assert!(values[20_480..23_552].iter().all(|v| v.is_nan()));
    assert!(values[..20_480]
        .iter()
        .chain(&values[23_552..])
        .all(|v| v.is_finite()));
    let out = dir.path().join("gap-cff-out");
    analyze(&[cap.to_str().unwrap()], &out, None);
    let rows = interval_flags(&out);
    // Intervals of 10 cycles (0.2 s): each one holding more than a sample of 2.0 s to 2.3 s
    // is flagged.
    let period = 1.0 / 10_240.0;
    let over_gap: Vec<_> = rows
        .iter()
        .filter(|(t, _)| {
            let t: f64 = t.parse().unwrap();
            t + 0.2 > 2.0 + period && t < 2.3 - period
        })
        .collect();
    assert!(!over_gap.is_empty(), "{rows:?}");
    assert!(over_gap.iter().all(|r| r.1), "{rows:?}");
    // Before the dip (1.5 s) nothing is flagged, as in the live analysis.
    let before = |rows: &[(String, bool)]| -> Vec<(String, bool)> {
        rows.iter()
            .filter(|(t, _)| t.parse::<f64>().unwrap() < 1.3)
            .cloned()
            .collect()
    };
    assert_eq!(before(&rows), before(&interval_flags(&live_gap)));
    assert!(before(&rows).iter().all(|r| !r.1));
}
