//! Out-of-process adapters with the sample Python adapter devices/adapters/sim_adapter.py:
//! handshake, streaming equal to the file analysis of the same samples, and every fault —
//! crash, hang, garbage before or after the handshake, malformed, truncated and oversized
//! frames, a lying sample count, a driver error — contained: PQE survives, names the
//! adapter and the fault, keeps the samples before it, and restarts where configured.

mod common;

use common::*;
use pqe_devices::adapter::{AdapterDriver, AdapterSpec};
use pqe_devices::{Delivery, DeviceUri, Driver, Fault, LiveSource};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const START_NS: i64 = 1_704_067_200_000_000_000;

fn adapter(args: &[&str], restart: u32) -> AdapterDriver {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("adapters/sim_adapter.py");
    let mut command = vec!["python3".to_string(), script.display().to_string()];
    command.extend(args.iter().map(|s| s.to_string()));
    AdapterDriver::new(AdapterSpec {
        name: "simpy".into(),
        schemes: vec!["simpy".into()],
        command,
        dir: None,
        manifest: script,
        restart,
    })
}

fn open(d: &AdapterDriver, query: &str) -> Result<Box<dyn LiveSource>, pqe_devices::DeviceError> {
    d.open(&DeviceUri::parse(&format!("simpy://meter0?{query}")).unwrap())
}

#[test]
fn sample_adapter_streams_what_the_file_analysis_of_its_samples_gives() {
    let d = adapter(&[], 0);
    assert_eq!(
        d.enumerate(Duration::from_secs(10)).unwrap()[0].uri,
        "simpy://meter0"
    );
    for q in ["", "&format=i16&scale=0.02", "&format=i32&scale=0.0001"] {
        let mut s = open(
            &d,
            &format!("pace=max&samples=40960&block=1024&rate=10240&start_ns={START_NS}{q}"),
        )
        .unwrap();
        assert_eq!(s.info().channels.len(), 6);
        assert_eq!(s.info().start.0, START_NS);
        let got = drain(s.as_mut());
        assert!(got.error.is_none(), "{:?}", got.error);
        assert!(got.gaps.is_empty());
        assert_eq!(samples(&got.blocks), 40_960);
        let live = analyze(s.info(), &got.blocks);
        let intervals = live.iter().filter(|r| r.starts_with("Interval")).count();
        assert!(
            intervals >= 18,
            "{intervals} intervals: {:?}",
            &live[..live.len().min(3)]
        );
        assert_eq!(live, file_analysis(s.info(), &got.blocks), "{q}");
    }
}

/// Open with `args`/`query`, drain, and return the blocks before the fault and the error.
fn faulty(args: &[&str], query: &str) -> (usize, pqe_devices::DeviceError, Duration) {
    let d = adapter(args, 0);
    let t = Instant::now();
    let q = format!("pace=max&block=512&rate=10240&start_ns={START_NS}&{query}");
    match open(&d, &q) {
        Err(e) => (0, e, t.elapsed()),
        Ok(mut s) => {
            let got = drain(s.as_mut());
            let e = got.error.expect("a fault");
            // after the fault the source has ended; PQE goes on
            assert!(matches!(s.next(), Ok(Delivery::End)));
            (got.blocks.len(), e, t.elapsed())
        }
    }
}

fn assert_fault(
    r: &(usize, pqe_devices::DeviceError, Duration),
    blocks: usize,
    fault: Fault,
    says: &str,
) {
    let (n, e, _) = r;
    let m = e.to_string();
    assert_eq!(e.fault(), Some(&fault), "{m}");
    assert!(
        m.contains("driver simpy (adapter ") && m.contains(says),
        "{m}"
    );
    assert_eq!(*n, blocks, "blocks kept before the fault: {m}");
}

#[test]
fn faults_while_streaming_are_named_and_keep_the_data_before_them() {
    let r = faulty(&[], "fault=crash@5");
    assert_fault(&r, 5, Fault::Crash, "the adapter exited (exit status: 3)");
    assert!(
        r.1.to_string().contains("injecting fault 'crash'"),
        "stderr tail: {}",
        r.1
    );
    assert_fault(
        &faulty(&[], "fault=garbage@4"),
        4,
        Fault::Garbage,
        "garbage after the handshake",
    );
    assert_fault(
        &faulty(&[], "fault=oversized@3"),
        3,
        Fault::Oversized,
        "announces 1073741824 bytes; the limit is 16777216",
    );
    assert_fault(
        &faulty(&[], "fault=truncated@3"),
        3,
        Fault::Truncated,
        "truncated frame",
    );
    assert_fault(
        &faulty(&[], "fault=lie@2"),
        2,
        Fault::LyingCount,
        "header announces 512000 samples",
    );
    assert_fault(
        &faulty(&[], "fault=malformed@2"),
        2,
        Fault::Malformed,
        "not the magic",
    );
    assert_fault(
        &faulty(&[], "fault=error@6"),
        6,
        Fault::DriverError,
        "ADC overrange",
    );
    // a smaller frame limit refuses the ordinary frames (memory bound is the user's)
    assert_fault(
        &faulty(&[], "max_frame=4096"),
        0,
        Fault::Oversized,
        "the limit is 4096",
    );
}

#[test]
fn a_hung_adapter_is_killed_at_the_deadline() {
    let r = faulty(&[], "fault=hang@3&timeout=0.6");
    assert_fault(&r, 3, Fault::Timeout, "hung; killed");
    assert!(r.2 < Duration::from_secs(8), "{:?}", r.2);
    let r = faulty(&["--hang-before"], "start_timeout=0.8");
    assert_fault(&r, 0, Fault::Timeout, "waited for the handshake");
}

#[test]
fn handshake_faults_are_refused() {
    assert_fault(
        &faulty(&["--garbage-before"], ""),
        0,
        Fault::Garbage,
        "garbage before the handshake: first line 'Loading vendor SDK",
    );
    assert_fault(
        &faulty(&["--bad-version"], ""),
        0,
        Fault::Garbage,
        "chose protocol version 99; PQE offered [1]",
    );
    assert_fault(
        &faulty(&["--crash-before"], ""),
        0,
        Fault::Crash,
        "exited (exit status: 2)",
    );
    let r = faulty(&[], "bogus=1");
    assert_fault(
        &r,
        0,
        Fault::DriverError,
        "configure: unknown parameter(s): bogus",
    );
}

#[test]
fn restarts_with_backoff_flag_the_gap_and_are_bounded() {
    let d = adapter(&[], 2);
    // no start_ns: each run starts at its own wall-clock time, after the last one
    let mut s = open(&d, "pace=max&block=256&rate=10240&fault=crash@3").unwrap();
    let got = drain(s.as_mut());
    assert_eq!(got.blocks.len(), 9, "three runs of three blocks");
    assert_eq!(got.gaps.len(), 2);
    assert!(
        got.gaps[0].reason.contains("crash") && got.gaps[0].reason.contains("adapter restarted")
    );
    let e = got.error.expect("the third crash ends it");
    assert_eq!(e.fault(), Some(&Fault::Crash));
    // the runs are analysed apart: intervals never span a restart
    for w in got.blocks.windows(2) {
        assert!(w[1].start() > w[0].start());
    }
}

#[test]
fn the_adapter_dies_with_its_source() {
    let d = adapter(&[], 0);
    let mut s = d
        .open_adapter(&DeviceUri::parse("simpy://meter0?pace=realtime&block=256").unwrap())
        .unwrap();
    assert!(matches!(s.next(), Ok(Delivery::Block(_))));
    let pid = s.child_id().unwrap();
    assert!(alive(pid));
    drop(s);
    assert!(!alive(pid), "adapter {pid} outlived its source");
}

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // a zombie has died (only its parent's wait is missing)
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

/// Run by `an_adapter_does_not_outlive_a_killed_pqe` in a child process: opens an adapter,
/// prints its pid and waits to be killed.
#[test]
#[ignore = "helper process of an_adapter_does_not_outlive_a_killed_pqe"]
fn orphan_helper() {
    if std::env::var_os("PQE_ORPHAN_HELPER").is_none() {
        return;
    }
    let d = adapter(&[], 0);
    let s = d
        .open_adapter(&DeviceUri::parse("simpy://meter0?pace=realtime").unwrap())
        .unwrap();
    println!("ADAPTER_PID={}", s.child_id().unwrap());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn an_adapter_does_not_outlive_a_killed_pqe() {
    use std::io::BufRead;
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "orphan_helper", "--ignored", "--nocapture"])
        .env("PQE_ORPHAN_HELPER", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(helper.stdout.take().unwrap());
    let pid: u32 = out
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("ADAPTER_PID=")
                .map(|p| p.trim().parse().unwrap())
        })
        .expect("the helper reports its adapter");
    assert!(alive(pid));
    helper.kill().unwrap(); // SIGKILL: no destructor runs in PQE
    helper.wait().unwrap();
    let t = Instant::now();
    while alive(pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "adapter {pid} outlived the killed PQE");
}
