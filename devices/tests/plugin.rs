//! The C-ABI plugin host with the sample plugin devices/plugins/simdaq (built here with cc):
//! loading, refusals naming the file and the mismatch, streaming equal to the file analysis
//! of the same samples, gaps, and faults contained.

mod common;

use common::*;
use pqe_devices::plugin::load_plugin;
use pqe_devices::{Delivery, Driver, Fault, Registry};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Build simdaq.c with `defines` into `dir/name` (a test fault variant when defines are
/// given).
fn build(dir: &Path, name: &str, defines: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = Command::new("cc");
    cmd.args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra"])
        .arg(if defines.is_empty() {
            "-Werror"
        } else {
            "-Wno-unused-function"
        })
        .arg("-I")
        .arg(root().join("include"))
        .args(defines)
        .arg("-o")
        .arg(&out)
        .arg(root().join("plugins/simdaq/simdaq.c"))
        .arg("-lm");
    let st = cmd
        .status()
        .expect("cc (build-essential) must be installed");
    assert!(st.success(), "cc failed for {name}");
    out
}

const START_NS: i64 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z

#[test]
fn sample_plugin_loads_enumerates_and_analyses_as_its_samples_do() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build(dir.path(), "libsimdaq.so", &[]);
    let driver = load_plugin(&lib).unwrap();
    let info = driver.info();
    assert_eq!(info.name, "simdaq");
    assert_eq!(info.version, "1.0.0");
    assert_eq!(info.schemes, ["simdaq"]);
    let found = driver.enumerate(std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].uri, "simdaq://card1");

    let uri = format!(
        "simdaq://card0?channels=6&rate=10240&amplitude=400&current=20&samples=40960&pace=max&start_ns={START_NS}&block=1000"
    );
    let mut src = driver
        .open(&pqe_devices::DeviceUri::parse(&uri).unwrap())
        .unwrap();
    assert!(src.driver().starts_with("simdaq (plugin "));
    assert_eq!(src.info().channels[4].name, "I_B");
    assert_eq!(src.info().channels[4].unit, "A");
    let d = drain(src.as_mut());
    assert!(d.error.is_none(), "{:?}", d.error);
    assert!(d.gaps.is_empty());
    assert_eq!(samples(&d.blocks), 40_960);
    assert_eq!(d.blocks[0].len(), 1000);
    let peak = channel(&d.blocks, 0)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!((peak - 400.0).abs() < 400.0 * 1e-3, "{peak}");
    let ib = channel(&d.blocks, 4);
    // I_B = 20 sin(ωt − 120° − 30°): at t = 0, −10 A
    assert!((ib[0] + 10.0).abs() < 1e-9, "{}", ib[0]);
    // every sample, deep into each block too, is the sine evaluated directly (the plugin
    // runs a recurrence between exact restarts): 50 Hz by default
    let w = 2.0 * std::f64::consts::PI * 50.0 / 10240.0;
    let phase = -2.0 * std::f64::consts::PI / 3.0 - std::f64::consts::PI / 6.0;
    let worst = ib
        .iter()
        .enumerate()
        .map(|(i, v)| (v - 20.0 * (w * i as f64 + phase).sin()).abs())
        .fold(0.0f64, f64::max);
    assert!(worst < 20.0 * 1e-10, "{worst}");
    let live = analyze(src.info(), &d.blocks);
    // 4 s of 10-cycle intervals, the first 0.2 s spent locking the tracker
    assert_eq!(
        live.iter().filter(|r| r.starts_with("Interval")).count(),
        18
    );
    assert_eq!(live, file_analysis(src.info(), &d.blocks));
}

#[test]
fn plugins_with_a_wrong_abi_or_table_are_refused_naming_file_and_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "libmajor.so",
            &["-DSIMDAQ_ABI_MAJOR=2"],
            "plugin ABI major version 2, this PQE speaks 1.x",
        ),
        (
            "libminor.so",
            &["-DSIMDAQ_ABI_MINOR=1"],
            "needs ABI 1.1, newer than this PQE's 1.0",
        ),
        (
            "libshort.so",
            &["-DSIMDAQ_STRUCT_SIZE=48"],
            "short table: struct_size 48 bytes",
        ),
        (
            "libnullread.so",
            &["-DSIMDAQ_NULL_READ"],
            "missing function 'read'",
        ),
        (
            "libnoentry.so",
            &["-DSIMDAQ_NO_ENTRY"],
            "missing symbol: the library exports no 'pqe_plugin_entry'",
        ),
        (
            "libundef.so",
            &["-DSIMDAQ_UNDEFINED"],
            "pqe_simdaq_symbol_nobody_defines",
        ),
    ];
    for (name, defines, says) in cases {
        let lib = build(dir.path(), name, defines);
        let e = load_plugin(&lib)
            .err()
            .unwrap_or_else(|| panic!("{name} loaded"));
        let m = e.to_string();
        assert!(m.contains(name) && m.contains(says), "{name}: {m}");
    }
}

#[test]
fn plugin_folder_registers_good_plugins_and_reports_refused_ones() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), "libsimdaq.so", &[]);
    build(dir.path(), "libbad.so", &["-DSIMDAQ_ABI_MAJOR=7"]);
    let mut r = Registry::builtin();
    r.load_dirs(&[dir.path().to_path_buf()]);
    assert!(r.driver_for("simdaq").is_some());
    assert_eq!(r.refused.len(), 1);
    assert!(r.refused[0].to_string().contains("libbad.so"));
    let e = r.enumerate_all(std::time::Duration::from_secs(2));
    let sim = e.iter().find(|x| x.driver.name == "simdaq").unwrap();
    assert_eq!(sim.found.as_ref().unwrap().len(), 2);
    let json = serde_json::to_string(&e).unwrap();
    assert!(
        json.contains("simdaq://card0") && json.contains("libsimdaq.so"),
        "{json}"
    );
    // opened through the registry by its scheme
    let mut s = r
        .open(&format!(
            "simdaq://card1?samples=2048&pace=max&start_ns={START_NS}"
        ))
        .unwrap();
    assert_eq!(samples(&drain(s.as_mut()).blocks), 2048);
    // a configuration the plugin refuses names the parameter
    let e = r
        .open("simdaq://card0?channels=99")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("configure channels=99") && e.contains("give 1 to 16"),
        "{e}"
    );
    let e = r.open("simdaq://card7").err().unwrap().to_string();
    assert!(e.contains("open failed: no card 'card7'"), "{e}");
}

#[test]
fn plugin_errors_end_the_source_naming_it_and_keep_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build(dir.path(), "libsimdaq.so", &[]);
    let driver = load_plugin(&lib).unwrap();
    let open = |q: &str| {
        driver
            .open(
                &pqe_devices::DeviceUri::parse(&format!(
                    "simdaq://card0?pace=max&start_ns={START_NS}&rate=10240&block=1024&{q}"
                ))
                .unwrap(),
            )
            .unwrap()
    };
    let mut s = open("fail_after=12");
    let d = drain(s.as_mut());
    assert_eq!(d.blocks.len(), 12);
    let e = d.error.unwrap();
    assert_eq!(e.fault(), Some(&Fault::DriverError));
    let m = e.to_string();
    assert!(
        m.contains("simdaq (plugin ") && m.contains("FIFO overflow"),
        "{m}"
    );
    // the 1.2 s before the fault analyse as a file of those samples does
    let info = s.info().clone();
    assert_eq!(analyze(&info, &d.blocks), file_analysis(&info, &d.blocks));
    assert!(matches!(s.next(), Ok(Delivery::End)));

    let mut s = open("lie=1");
    let e = drain(s.as_mut()).error.unwrap();
    assert_eq!(e.fault(), Some(&Fault::LyingCount));
    assert!(
        e.to_string()
            .contains("reports 1025 samples for a buffer of 1024"),
        "{e}"
    );
}

#[test]
fn samples_a_plugin_lost_are_a_gap_flagged_as_in_a_file_with_the_same_gap() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build(dir.path(), "libsimdaq.so", &[]);
    let driver = load_plugin(&lib).unwrap();
    let uri = format!(
        "simdaq://card0?pace=max&start_ns={START_NS}&rate=10240&block=1024&samples=40960&skip_at=15&skip=3072"
    );
    let mut s = driver
        .open(&pqe_devices::DeviceUri::parse(&uri).unwrap())
        .unwrap();
    let d = drain(s.as_mut());
    assert!(d.error.is_none(), "{:?}", d.error);
    assert_eq!(d.gaps.len(), 1);
    assert!(
        d.gaps[0].reason.contains("samples 15360 to 18431 lost"),
        "{}",
        d.gaps[0].reason
    );
    let info = s.info().clone();
    assert_eq!(d.gaps[0].from, info.start.add_seconds(1.5));
    assert_eq!(d.gaps[0].to, Some(info.start.add_seconds(1.8)));
    let live = analyze(&info, &d.blocks);
    assert!(live.iter().any(|r| r.contains("after_gap: true")));
    // the same samples as two runs with the gap between them
    assert_eq!(live, analyze(&info, &contiguous_runs(&d.blocks)));
}
