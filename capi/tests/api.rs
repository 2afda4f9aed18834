//! The C ABI called directly from Rust: error paths (NULL, lengths, struct sizes, freed and
//! foreign handles, panics) and a full run that must equal the Rust analyzer bit for bit.

use pqe::*;
use pqe_core::record::{AggregatePeriod, EventKind, Record};
use pqe_core::{Block, ChannelSpec, NominalFrequency, Phase, SystemConfig, Timestamp, Wiring};
use pqe_standards::Analyzer;
use std::f64::consts::PI;
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

const RATE: f64 = 5120.0;
const START_NS: i64 = 1_700_000_000_000_000_000;

fn last_error() -> String {
    // SAFETY: the library returns a NUL-terminated string, valid until the next call.
    unsafe { CStr::from_ptr(pqe_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

struct Channels {
    _names: Vec<std::ffi::CString>,
    list: Vec<pqe_channel>,
}

fn channels() -> Channels {
    let spec = [
        ("VA", PQE_CHANNEL_VOLTAGE, PQE_PHASE_A, "V"),
        ("VB", PQE_CHANNEL_VOLTAGE, PQE_PHASE_B, "V"),
        ("VC", PQE_CHANNEL_VOLTAGE, PQE_PHASE_C, "V"),
        ("IA", PQE_CHANNEL_AUTO, PQE_PHASE_A, "A"),
    ];
    let names: Vec<_> = spec
        .iter()
        .flat_map(|(n, _, _, u)| {
            [
                std::ffi::CString::new(*n).unwrap(),
                std::ffi::CString::new(*u).unwrap(),
            ]
        })
        .collect();
    let list = spec
        .iter()
        .enumerate()
        .map(|(i, (_, k, p, _))| pqe_channel {
            name: names[2 * i].as_ptr(),
            kind: *k,
            phase: *p,
            unit: names[2 * i + 1].as_ptr(),
        })
        .collect();
    Channels {
        _names: names,
        list,
    }
}

fn config(ch: &Channels, flags: u32) -> pqe_config {
    pqe_config {
        struct_size: std::mem::size_of::<pqe_config>(),
        sample_rate: RATE,
        nominal_frequency: 50.0,
        udin: 230.0,
        wiring: PQE_WIRING_WYE,
        load_current: 0.0,
        n_channels: ch.list.len(),
        channels: ch.list.as_ptr(),
        start_unix_ns: START_NS,
        flags,
    }
}

fn new_analyzer(cfg: &pqe_config) -> *mut pqe_analyzer {
    let mut h = null_mut();
    // SAFETY: valid config and out pointer.
    let s = unsafe { pqe_analyzer_new(cfg, &mut h) };
    assert_eq!(s, pqe_status::PQE_OK, "{}", last_error());
    assert!(!h.is_null());
    h
}

fn empty_record() -> pqe_record {
    pqe_record {
        struct_size: std::mem::size_of::<pqe_record>(),
        kind: -1,
        subkind: 0,
        flagged: false,
        index: 0,
        count: 0,
        t: 0.0,
        start_unix_ns: 0,
        duration: 0.0,
        value: 0.0,
        start_sample: 0.0,
        end_sample: 0.0,
        label: null(),
        values: null(),
        n_values: 0,
    }
}

/// A 3-phase sine with a current, frame-major (interleaved), `n` frames from `first`.
fn signal(first: usize, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(4 * n);
    for i in first..first + n {
        let t = i as f64 / RATE;
        let w = 2.0 * PI * 50.0 * t;
        out.push(325.0 * w.sin());
        out.push(325.0 * (w - 2.0 * PI / 3.0).sin());
        out.push(325.0 * (w + 2.0 * PI / 3.0).sin());
        out.push(14.0 * (w - 0.3).sin());
    }
    out
}

#[test]
fn null_arguments_are_refused() {
    let ch = channels();
    let cfg = config(&ch, 0);
    let mut h = null_mut();
    // SAFETY: NULL arguments are the point; the others are valid.
    unsafe {
        assert_eq!(pqe_analyzer_new(null(), &mut h), pqe_status::PQE_ERR_NULL);
        assert!(
            last_error().contains("'config' is NULL"),
            "{}",
            last_error()
        );
        assert_eq!(pqe_analyzer_new(&cfg, null_mut()), pqe_status::PQE_ERR_NULL);
        assert!(last_error().contains("'out'"));
        let mut no_channels = cfg;
        no_channels.channels = null();
        assert_eq!(
            pqe_analyzer_new(&no_channels, &mut h),
            pqe_status::PQE_ERR_NULL
        );
        assert!(last_error().contains("config->channels"));
        assert!(h.is_null());

        let h = new_analyzer(&cfg);
        assert_eq!(
            pqe_analyzer_push(null_mut(), null(), 0),
            pqe_status::PQE_ERR_NULL
        );
        assert!(last_error().contains("pqe_analyzer_push: argument 'h' is NULL"));
        assert_eq!(pqe_analyzer_push(h, null(), 10), pqe_status::PQE_ERR_NULL);
        assert!(last_error().contains("'samples'"));
        assert_eq!(pqe_analyzer_push(h, null(), 0), pqe_status::PQE_OK);
        assert_eq!(last_error(), "");
        assert_eq!(
            pqe_analyzer_push_planar(h, null(), 4),
            pqe_status::PQE_ERR_NULL
        );
        let x = [0.0; 4];
        let planes = [x.as_ptr(), x.as_ptr(), null(), x.as_ptr()];
        assert_eq!(
            pqe_analyzer_push_planar(h, planes.as_ptr(), 4),
            pqe_status::PQE_ERR_NULL
        );
        assert!(last_error().contains("channels[2]"), "{}", last_error());
        assert_eq!(
            pqe_analyzer_next_record(h, null_mut()),
            pqe_status::PQE_ERR_NULL
        );
        let mut rec = empty_record();
        assert_eq!(
            pqe_analyzer_next_record(null_mut(), &mut rec),
            pqe_status::PQE_ERR_NULL
        );
        assert_eq!(
            pqe_analyzer_column_count(h, null_mut()),
            pqe_status::PQE_ERR_NULL
        );
        assert_eq!(
            pqe_analyzer_column_name(h, 0, null_mut()),
            pqe_status::PQE_ERR_NULL
        );
        assert_eq!(pqe_analyzer_free(null_mut()), pqe_status::PQE_ERR_NULL);
        assert_eq!(pqe_analyzer_finish(null_mut()), pqe_status::PQE_ERR_NULL);
        assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);

        let mut r = null_mut();
        assert_eq!(pqe_comtrade_open(null(), &mut r), pqe_status::PQE_ERR_NULL);
        assert!(last_error().contains("'path'"));
        assert_eq!(pqe_comtrade_close(null_mut()), pqe_status::PQE_ERR_NULL);
        let mut n = 0usize;
        assert_eq!(
            pqe_comtrade_read(null_mut(), null_mut(), 1, &mut n),
            pqe_status::PQE_ERR_NULL
        );
    }
}

#[test]
fn bad_sizes_and_values_are_refused() {
    let ch = channels();
    let mut h = null_mut();
    for (edit, needle) in [
        (
            Box::new(|c: &mut pqe_config| c.struct_size = 0) as Box<dyn Fn(&mut pqe_config)>,
            "struct_size is 0",
        ),
        (
            Box::new(|c: &mut pqe_config| c.struct_size -= 8),
            "struct_size",
        ),
        (
            Box::new(|c: &mut pqe_config| c.struct_size = usize::MAX),
            "struct_size",
        ),
        (
            Box::new(|c: &mut pqe_config| c.n_channels = 0),
            "n_channels is 0",
        ),
        (
            Box::new(|c: &mut pqe_config| c.n_channels = 1 << 20),
            "n_channels",
        ),
        (Box::new(|c: &mut pqe_config| c.wiring = 7), "wiring 7"),
        (
            Box::new(|c: &mut pqe_config| c.nominal_frequency = 55.0),
            "50 or 60",
        ),
        (
            Box::new(|c: &mut pqe_config| c.sample_rate = 100.0),
            "sample rate",
        ),
        (
            Box::new(|c: &mut pqe_config| c.sample_rate = f64::NAN),
            "sample rate",
        ),
        (
            Box::new(|c: &mut pqe_config| c.load_current = -3.0),
            "load_current",
        ),
        (
            Box::new(|c: &mut pqe_config| c.flags = 1 << 30),
            "unknown bits",
        ),
    ] {
        let mut cfg = config(&ch, PQE_FLAG_DEFAULT);
        edit(&mut cfg);
        // SAFETY: the config is valid memory; its fields are what is tested.
        let s = unsafe { pqe_analyzer_new(&cfg, &mut h) };
        assert_eq!(s, pqe_status::PQE_ERR_INVALID_ARGUMENT, "{needle}");
        assert!(last_error().contains(needle), "{needle}: {}", last_error());
        assert!(h.is_null());
    }
    let mut bad = channels();
    bad.list[1].kind = 9;
    let cfg = config(&bad, 0);
    // SAFETY: valid memory.
    let s = unsafe { pqe_analyzer_new(&cfg, &mut h) };
    assert_eq!(s, pqe_status::PQE_ERR_INVALID_ARGUMENT);
    assert!(
        last_error().contains("channels[1] ('VB'): kind 9"),
        "{}",
        last_error()
    );
    bad.list[1].kind = PQE_CHANNEL_VOLTAGE;
    bad.list[2].name = null();
    let cfg = config(&bad, 0);
    // SAFETY: valid memory.
    let s = unsafe { pqe_analyzer_new(&cfg, &mut h) };
    assert_eq!(s, pqe_status::PQE_ERR_NULL);
    assert!(last_error().contains("channels[2].name"));

    let cfg = config(&ch, 0);
    let h = new_analyzer(&cfg);
    let mut rec = empty_record();
    rec.struct_size = 8;
    // SAFETY: valid memory.
    unsafe {
        assert_eq!(
            pqe_analyzer_next_record(h, &mut rec),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        assert!(
            last_error().contains("out->struct_size is 8"),
            "{}",
            last_error()
        );
        assert_eq!(
            pqe_analyzer_push(h, [0.0].as_ptr(), usize::MAX),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("overflows"));
        let mut name = null();
        assert_eq!(
            pqe_analyzer_column_name(h, 0, &mut name),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("column 0 does not exist"));
        assert_eq!(
            pqe_analyzer_channel_column(h, 3, &mut name),
            pqe_status::PQE_OK
        );
        assert_eq!(CStr::from_ptr(name).to_str().unwrap(), "I_A");
        assert_eq!(
            pqe_analyzer_channel_column(h, 4, &mut name),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        // Pushing after finish is a state error.
        assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_OK);
        let x = signal(0, 10);
        assert_eq!(
            pqe_analyzer_push(h, x.as_ptr(), 10),
            pqe_status::PQE_ERR_STATE
        );
        assert!(last_error().contains("after pqe_analyzer_finish"));
        assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);
    }
}

#[test]
fn freed_foreign_and_mistyped_handles_are_detected() {
    let ch = channels();
    let cfg = config(&ch, 0);
    let h = new_analyzer(&cfg);
    let x = signal(0, 100);
    let mut rec = empty_record();
    // SAFETY: valid memory; the handles are what is tested.
    unsafe {
        assert_eq!(pqe_analyzer_push(h, x.as_ptr(), 100), pqe_status::PQE_OK);
        assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);
        // Use after free.
        assert_eq!(
            pqe_analyzer_push(h, x.as_ptr(), 100),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        assert!(
            last_error().contains("not a live pqe_analyzer"),
            "{}",
            last_error()
        );
        assert_eq!(
            pqe_analyzer_next_record(h, &mut rec),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        // Double free.
        assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_ERR_INVALID_HANDLE);
        assert!(last_error().starts_with("pqe_analyzer_free: handle"));
        // A handle made afterwards is a different token: the freed one stays dead.
        let h2 = new_analyzer(&cfg);
        assert_ne!(h2, h);
        assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_ERR_INVALID_HANDLE);
        // A foreign pointer (a real address) is refused, not dereferenced.
        let mut local = 0u64;
        let foreign = (&mut local as *mut u64).cast::<pqe_analyzer>();
        assert_eq!(
            pqe_analyzer_finish(foreign),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        // A reader handle is not an analyzer, and the other way round.
        let mut r = null_mut();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../datasets/demo/demo-3v3i-50hz.cfg\0"
        );
        assert_eq!(
            pqe_comtrade_open(path.as_ptr().cast(), &mut r),
            pqe_status::PQE_OK,
            "{}",
            last_error()
        );
        assert_eq!(
            pqe_analyzer_finish(r.cast()),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        assert!(
            last_error().contains("is a pqe_comtrade, not a pqe_analyzer"),
            "{}",
            last_error()
        );
        assert_eq!(
            pqe_comtrade_close(h2.cast()),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        assert_eq!(pqe_comtrade_close(r), pqe_status::PQE_OK);
        assert_eq!(pqe_comtrade_close(r), pqe_status::PQE_ERR_INVALID_HANDLE);
        assert_eq!(pqe_analyzer_free(h2), pqe_status::PQE_OK);
    }
}

#[test]
fn panics_are_caught_at_the_boundary() {
    let s = ffi_guard("pqe_test_entry", || panic!("forced panic for the test"));
    assert_eq!(s, pqe_status::PQE_ERR_PANIC);
    let e = last_error();
    assert!(e.starts_with("pqe_test_entry: internal error"), "{e}");
    assert!(e.contains("forced panic for the test"), "{e}");
    // A formatted panic message, and the error copied through pqe_last_error.
    let s = ffi_guard("pqe_test_entry", || panic!("value {}", 42));
    assert_eq!(s, pqe_status::PQE_ERR_PANIC);
    let mut buf = [0 as c_char; 16];
    // SAFETY: buf holds 16 bytes.
    let n = unsafe { pqe_last_error(buf.as_mut_ptr(), buf.len()) };
    assert!(n > 15 && n == last_error().len());
    // SAFETY: pqe_last_error NUL-terminates within the buffer.
    let cut = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
    assert_eq!(cut, &last_error()[..15]);
    // SAFETY: NULL with length 0 only asks for the length.
    assert_eq!(unsafe { pqe_last_error(null_mut(), 0) }, n);
    // A successful call clears the last error.
    assert_eq!(
        ffi_guard("pqe_test_entry", || Ok(pqe_status::PQE_OK)),
        pqe_status::PQE_OK
    );
    assert_eq!(last_error(), "");
    // SAFETY: as above.
    assert_eq!(unsafe { pqe_last_error(buf.as_mut_ptr(), buf.len()) }, 0);
}

#[test]
fn status_names_and_version() {
    // SAFETY: static strings.
    unsafe {
        assert_eq!(
            CStr::from_ptr(pqe_status_name(-5)).to_str().unwrap(),
            "PQE_ERR_INVALID_HANDLE"
        );
        assert_eq!(
            CStr::from_ptr(pqe_status_name(1)).to_str().unwrap(),
            "PQE_END"
        );
        assert_eq!(
            CStr::from_ptr(pqe_status_name(99)).to_str().unwrap(),
            "PQE_UNKNOWN_STATUS"
        );
        assert_eq!(
            CStr::from_ptr(pqe_version()).to_str().unwrap(),
            env!("CARGO_PKG_VERSION")
        );
    }
}

#[test]
fn last_error_is_per_thread() {
    // SAFETY: NULL config on purpose.
    let s = unsafe { pqe_analyzer_new(null(), &mut null_mut()) };
    assert_eq!(s, pqe_status::PQE_ERR_NULL);
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
    assert!(last_error().contains("pqe_analyzer_new"));
}

/// A record as seen through the C API: kind, t, interval values as (column, value).
type CRecord = (i32, f64, Vec<(String, f64)>);

/// Drain all records of a C handle.
fn drain_c(h: *mut pqe_analyzer, out: &mut Vec<CRecord>) {
    let mut rec = empty_record();
    loop {
        // SAFETY: valid handle and record.
        let s = unsafe { pqe_analyzer_next_record(h, &mut rec) };
        if s == pqe_status::PQE_END {
            return;
        }
        assert_eq!(s, pqe_status::PQE_OK, "{}", last_error());
        let mut cols = Vec::new();
        if rec.kind == PQE_RECORD_INTERVAL {
            // SAFETY: values points to n_values doubles until the next call.
            let v = unsafe { std::slice::from_raw_parts(rec.values, rec.n_values) };
            for (i, x) in v.iter().enumerate() {
                let mut name = null();
                // SAFETY: valid handle and out pointer.
                assert_eq!(
                    unsafe { pqe_analyzer_column_name(h, i, &mut name) },
                    pqe_status::PQE_OK
                );
                // SAFETY: the name lives as long as the handle.
                let name = unsafe { CStr::from_ptr(name) }
                    .to_str()
                    .unwrap()
                    .to_string();
                if !x.is_nan() {
                    cols.push((name, *x));
                }
            }
        }
        out.push((rec.kind, rec.t, cols));
    }
}

#[test]
fn full_run_equals_the_rust_analyzer() {
    let ch = channels();
    let flags = PQE_FLAG_DEFAULT;
    let cfg = config(&ch, flags);
    let h = new_analyzer(&cfg);

    let specs = vec![
        ChannelSpec::new("VA", "V").with_phase(Phase::A),
        ChannelSpec::new("VB", "V").with_phase(Phase::B),
        ChannelSpec::new("VC", "V").with_phase(Phase::C),
        ChannelSpec::new("IA", "A").with_phase(Phase::A),
    ];
    let start = Timestamp::from_nanos(START_NS);
    let system = SystemConfig {
        nominal_frequency: NominalFrequency::Hz50,
        udin: 230.0,
        wiring: Wiring::Wye,
        load_current: None,
    };
    let mut rust =
        Analyzer::new(&specs, RATE, start, system, analyzer_options(flags)).expect("analyzer");

    let total = (RATE * 12.0) as usize;
    let chunks = [1000usize, 4096, 37, 8192];
    let mut c_records = Vec::new();
    let mut rust_records = Vec::new();
    let (mut at, mut k) = (0usize, 0usize);
    while at < total {
        let n = chunks[k % chunks.len()].min(total - at);
        k += 1;
        let x = signal(at, n);
        // Alternate the interleaved and planar entry points.
        if k % 2 == 0 {
            // SAFETY: x holds n × 4 doubles.
            assert_eq!(
                unsafe { pqe_analyzer_push(h, x.as_ptr(), n) },
                pqe_status::PQE_OK
            );
        } else {
            let planes: Vec<Vec<f64>> = (0..4)
                .map(|c| x.iter().skip(c).step_by(4).copied().collect())
                .collect();
            let ptrs: Vec<*const f64> = planes.iter().map(|p| p.as_ptr()).collect();
            // SAFETY: 4 pointers to n doubles each.
            assert_eq!(
                unsafe { pqe_analyzer_push_planar(h, ptrs.as_ptr(), n) },
                pqe_status::PQE_OK,
                "{}",
                last_error()
            );
        }
        drain_c(h, &mut c_records);
        let planar: Vec<f64> = (0..4)
            .flat_map(|c| x.iter().skip(c).step_by(4).copied().collect::<Vec<_>>())
            .collect();
        let block = Block::from_planar(
            sample_time(start, RATE, at as u64),
            RATE,
            at as u64,
            4,
            planar,
        )
        .unwrap();
        rust.push(&block).unwrap();
        rust_records.extend(rust.drain());
        at += n;
    }
    assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_OK);
    drain_c(h, &mut c_records);
    rust.finish();
    rust_records.extend(rust.drain());
    assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);

    assert_eq!(c_records.len(), rust_records.len());
    let mut intervals = 0;
    for ((kind, t, cols), r) in c_records.iter().zip(&rust_records) {
        match r {
            Record::Interval(iv) => {
                intervals += 1;
                assert_eq!(*kind, PQE_RECORD_INTERVAL);
                assert_eq!(t.to_bits(), iv.t.to_bits());
                // Every column, bit for bit (NaN columns are left out on both sides).
                let want: Vec<(String, f64)> = iv
                    .columns()
                    .into_iter()
                    .filter(|(_, v)| !v.is_nan())
                    .collect();
                assert_eq!(cols.len(), want.len());
                for ((n1, v1), (n2, v2)) in cols.iter().zip(&want) {
                    assert_eq!(n1, n2);
                    assert_eq!(v1.to_bits(), v2.to_bits(), "{n1}");
                }
                let rms = iv.channel("U_A").unwrap().rms;
                assert!((rms - 325.0 / 2f64.sqrt()).abs() < 1e-3, "U_A {rms}");
                let ua = cols.iter().find(|(n, _)| n == "U_A").unwrap().1;
                assert_eq!(ua.to_bits(), rms.to_bits());
            }
            Record::Frequency(_) => assert_eq!(*kind, PQE_RECORD_FREQUENCY),
            Record::Aggregate(_) => assert_eq!(*kind, PQE_RECORD_AGGREGATE),
            Record::Flicker(_) => assert_eq!(*kind, PQE_RECORD_FLICKER),
            Record::Event(_) => assert_eq!(*kind, PQE_RECORD_EVENT),
            Record::CaptureTrigger(_) => assert_eq!(*kind, PQE_RECORD_CAPTURE),
            Record::HalfCycle(_) => assert_eq!(*kind, PQE_RECORD_HALF_CYCLE),
            _ => assert_eq!(*kind, PQE_RECORD_OTHER),
        }
    }
    // 12 s at 50 Hz: 60 intervals of 0.2 s (the last ones may wait for margins).
    assert!(intervals >= 58, "{intervals} intervals");
    assert!(c_records.iter().any(|r| r.0 == PQE_RECORD_FREQUENCY));
    assert!(c_records.iter().any(|r| r.0 == PQE_RECORD_AGGREGATE));
}

#[test]
fn comtrade_reading_matches_the_rust_reader() {
    use pqe_io::RecordingReader;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/demo/demo-3v3i-50hz.cfg"
    );
    let cpath = std::ffi::CString::new(path).unwrap();
    let mut r = null_mut();
    // SAFETY: valid pointers throughout.
    unsafe {
        let missing = c"/nonexistent/x.cfg";
        assert_eq!(
            pqe_comtrade_open(missing.as_ptr(), &mut r),
            pqe_status::PQE_ERR_IO
        );
        assert!(last_error().contains("/nonexistent/x"), "{}", last_error());
        assert_eq!(
            pqe_comtrade_open(cpath.as_ptr(), &mut r),
            pqe_status::PQE_OK
        );
        let mut info = pqe_recording_info {
            struct_size: 3,
            n_channels: 0,
            n_digital: 0,
            sample_rate: 0.0,
            n_rate_segments: 0,
            total_samples: 0,
            start_unix_ns: 0,
            line_frequency: 0.0,
        };
        assert_eq!(
            pqe_comtrade_info(r, &mut info),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        info.struct_size = std::mem::size_of::<pqe_recording_info>();
        assert_eq!(pqe_comtrade_info(r, &mut info), pqe_status::PQE_OK);
        assert_eq!(
            (info.n_channels, info.sample_rate, info.total_samples),
            (6, 10240.0, 307200)
        );
        let mut chans = null();
        let mut n = 0;
        assert_eq!(
            pqe_comtrade_channels(r, &mut chans, &mut n),
            pqe_status::PQE_OK
        );
        let chans = std::slice::from_raw_parts(chans, n);
        assert_eq!(CStr::from_ptr(chans[3].name).to_str().unwrap(), "I_A");
        assert_eq!(
            (chans[3].kind, chans[3].phase),
            (PQE_CHANNEL_CURRENT, PQE_PHASE_A)
        );

        let mut rust = pqe_io::comtrade::ComtradeReader::open(path).unwrap();
        let mut buf = vec![0.0; 1000 * 6];
        let mut read = 0;
        assert_eq!(
            pqe_comtrade_read(r, buf.as_mut_ptr(), 0, &mut read),
            pqe_status::PQE_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            pqe_comtrade_read(r, buf.as_mut_ptr(), 1000, null_mut()),
            pqe_status::PQE_ERR_NULL
        );
        let mut total = 0;
        loop {
            let s = pqe_comtrade_read(r, buf.as_mut_ptr(), 1000, &mut read);
            if s == pqe_status::PQE_END {
                assert_eq!(read, 0);
                break;
            }
            assert_eq!(s, pqe_status::PQE_OK, "{}", last_error());
            let b = rust.read_block(1000).unwrap().unwrap();
            assert_eq!(b.len(), read);
            for c in 0..6 {
                for i in 0..read {
                    assert_eq!(buf[i * 6 + c].to_bits(), b.channel(c)[i].to_bits());
                }
            }
            total += read;
        }
        assert_eq!(total, 307200);
        assert_eq!(pqe_comtrade_close(r), pqe_status::PQE_OK);
        let mut read = 7;
        assert_eq!(
            pqe_comtrade_read(r, buf.as_mut_ptr(), 10, &mut read),
            pqe_status::PQE_ERR_INVALID_HANDLE
        );
        assert_eq!(read, 0);
    }
}

/// A record as seen through the C API with its flags: kind, subkind (the
/// `PQE_INTERVAL_*` bits of an interval), flagged, t, interval values as (column, value).
type FlaggedRecord = (i32, i32, bool, f64, Vec<(String, f64)>);

/// Drain all records of a C handle, flags included.
fn drain_flagged(h: *mut pqe_analyzer, out: &mut Vec<FlaggedRecord>) {
    let mut rec = empty_record();
    loop {
        // SAFETY: valid handle and record.
        let s = unsafe { pqe_analyzer_next_record(h, &mut rec) };
        if s == pqe_status::PQE_END {
            return;
        }
        assert_eq!(s, pqe_status::PQE_OK, "{}", last_error());
        let mut cols = Vec::new();
        if rec.kind == PQE_RECORD_INTERVAL || rec.kind == PQE_RECORD_AGGREGATE {
            // SAFETY: values points to n_values doubles until the next call.
            let v = unsafe { std::slice::from_raw_parts(rec.values, rec.n_values) };
            for (i, x) in v.iter().enumerate() {
                let mut name = null();
                // SAFETY: valid handle and out pointer.
                assert_eq!(
                    unsafe { pqe_analyzer_column_name(h, i, &mut name) },
                    pqe_status::PQE_OK
                );
                // SAFETY: the name lives as long as the handle.
                let name = unsafe { CStr::from_ptr(name) }.to_str().unwrap();
                if !x.is_nan() {
                    cols.push((name.to_string(), *x));
                }
            }
        }
        out.push((rec.kind, rec.subkind, rec.flagged, rec.t, cols));
    }
}

/// The same record as the Rust analyzer gives it, in the C layout.
fn flagged_of(r: &Record) -> Option<FlaggedRecord> {
    let nan_free = |v: Vec<(String, f64)>| -> Vec<(String, f64)> {
        v.into_iter().filter(|(_, x)| !x.is_nan()).collect()
    };
    Some(match r {
        Record::Interval(iv) => {
            let f = &iv.flags;
            let bits = [
                (f.missing_samples, PQE_INTERVAL_MISSING_SAMPLES),
                (f.unlocked, PQE_INTERVAL_UNLOCKED),
                (f.after_gap, PQE_INTERVAL_AFTER_GAP),
                (f.event, PQE_INTERVAL_EVENT),
            ]
            .iter()
            .filter(|(set, _)| *set)
            .fold(0, |b, (_, bit)| b | bit);
            (
                PQE_RECORD_INTERVAL,
                bits,
                iv.flagged,
                iv.t,
                nan_free(iv.columns()),
            )
        }
        Record::Aggregate(a) => (
            PQE_RECORD_AGGREGATE,
            match a.period {
                AggregatePeriod::ThreeSeconds => PQE_AGGREGATE_3S,
                AggregatePeriod::TenMinutes => PQE_AGGREGATE_10MIN,
                AggregatePeriod::TwoHours => PQE_AGGREGATE_2H,
            },
            a.flagged,
            a.t,
            nan_free(a.table_columns()),
        ),
        Record::Frequency(fr) => (PQE_RECORD_FREQUENCY, 0, fr.flagged, fr.t, Vec::new()),
        Record::Event(e) => (
            PQE_RECORD_EVENT,
            match e.kind {
                EventKind::Dip => PQE_EVENT_DIP,
                EventKind::Swell => PQE_EVENT_SWELL,
                EventKind::Interruption => PQE_EVENT_INTERRUPTION,
                EventKind::Rvc => PQE_EVENT_RVC,
            },
            e.incomplete,
            e.t,
            Vec::new(),
        ),
        _ => return None,
    })
}

/// The recording of the gap test, written to files as a recorder that lost its input for
/// half a second would leave it: samples 0 … 15 359 (0 to 3 s) in `part1.cfg`, samples
/// 17 920 … 61 439 (3.5 to 12 s) in `part2.cfg`, each file's start time that of its first
/// sample. Float32 COMTRADE, so what the files hold is what both paths push.
fn write_gapped_files(dir: &std::path::Path) -> [std::path::PathBuf; 2] {
    use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
    let specs = gap_specs();
    let parts = [(0usize, 15_360usize), (17_920, 61_440)];
    let mut paths = [dir.join("part1.cfg"), dir.join("part2.cfg")];
    for (path, (from, to)) in paths.iter_mut().zip(parts) {
        let start = sample_time(Timestamp::from_nanos(START_NS), RATE, from as u64);
        let mut info = pqe_core::RecordingInfo::new(specs.clone(), RATE, start);
        let n = to - from;
        info.total_samples = Some(n as u64);
        info.rate_segments = vec![(RATE, n as u64)];
        let options = pqe_io::WriteOptions {
            comtrade: ComtradeWriteOptions {
                format: DataFormat::Float32,
                revision: Revision::R2013,
            },
        };
        let mut writer = pqe_io::create(&*path, &info, options).unwrap();
        let x = signal(from, n);
        let planar: Vec<f64> = (0..4)
            .flat_map(|c| x.iter().skip(c).step_by(4).copied().collect::<Vec<_>>())
            .collect();
        let block = Block::from_planar(start, RATE, from as u64, 4, planar).unwrap();
        writer.write_block(&block).unwrap();
        writer.finish().unwrap();
    }
    paths
}

fn gap_specs() -> Vec<ChannelSpec> {
    vec![
        ChannelSpec::new("VA", "V").with_phase(Phase::A),
        ChannelSpec::new("VB", "V").with_phase(Phase::B),
        ChannelSpec::new("VC", "V").with_phase(Phase::C),
        ChannelSpec::new("IA", "A").with_phase(Phase::A),
    ]
}

#[test]
fn a_gap_between_timed_pushes_is_flagged_as_the_same_gap_between_files() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_gapped_files(dir.path());
    let flags = PQE_FLAG_DEFAULT;
    let system = SystemConfig {
        nominal_frequency: NominalFrequency::Hz50,
        udin: 230.0,
        wiring: Wiring::Wye,
        load_current: None,
    };
    let start = Timestamp::from_nanos(START_NS);

    // The file path: the readers' blocks, each carrying the absolute time of its first
    // sample, through the engine's analyzer (as `pqe analyze` feeds it).
    let mut file_records = Vec::new();
    let mut rust =
        Analyzer::new(&gap_specs(), RATE, start, system, analyzer_options(flags)).unwrap();
    let mut blocks = Vec::new();
    for path in &paths {
        let mut reader = pqe_io::open(path).unwrap();
        assert_eq!(reader.info().sample_rate, RATE);
        while let Some(b) = reader.read_block(4096).unwrap() {
            rust.push(&b).unwrap();
            file_records.extend(rust.drain().filter_map(|r| flagged_of(&r)));
            blocks.push(b);
        }
    }
    rust.finish();
    file_records.extend(rust.drain().filter_map(|r| flagged_of(&r)));

    // The C path: the same samples pushed interleaved with push_at, cut differently (the
    // second file's samples in pieces of 3000, each timed by its own first sample), one
    // piece untimed to show that a plain push continues after a timed one.
    let ch = channels();
    let h = new_analyzer(&config(&ch, flags));
    let mut c_records = Vec::new();
    let mut pieces = 0;
    for b in &blocks {
        let mut at = 0;
        while at < b.len() {
            let n = 3000.min(b.len() - at);
            let frames: Vec<f64> = (at..at + n)
                .flat_map(|i| (0..4).map(move |c| (c, i)))
                .map(|(c, i)| b.channel(c)[i])
                .collect();
            let t0 = sample_time(b.start(), RATE, at as u64).as_nanos();
            pieces += 1;
            // SAFETY: frames holds n × 4 doubles.
            let s = unsafe {
                if pieces % 5 == 3 {
                    pqe_analyzer_push(h, frames.as_ptr(), n)
                } else {
                    pqe_analyzer_push_at(h, frames.as_ptr(), n, t0)
                }
            };
            assert_eq!(s, pqe_status::PQE_OK, "{}", last_error());
            drain_flagged(h, &mut c_records);
            at += n;
        }
    }
    assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_OK);
    drain_flagged(h, &mut c_records);
    assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);
    let c_records: Vec<FlaggedRecord> = c_records
        .into_iter()
        .filter(|r| {
            matches!(
                r.0,
                PQE_RECORD_INTERVAL
                    | PQE_RECORD_AGGREGATE
                    | PQE_RECORD_FREQUENCY
                    | PQE_RECORD_EVENT
            )
        })
        .collect();

    // The same records, flags and values, bit for bit.
    assert_eq!(c_records.len(), file_records.len());
    for (c, f) in c_records.iter().zip(&file_records) {
        assert_eq!((c.0, c.1, c.2), (f.0, f.1, f.2), "record at t = {}", f.3);
        assert_eq!(c.3.to_bits(), f.3.to_bits());
        assert_eq!(c.4.len(), f.4.len());
        for ((n1, v1), (n2, v2)) in c.4.iter().zip(&f.4) {
            assert_eq!(n1, n2);
            assert_eq!(v1.to_bits(), v2.to_bits(), "{n1} at t = {}", f.3);
        }
    }
    // And the gap is there: no interval overlaps 3.0–3.5 s, the first one after it is
    // flagged after_gap, the others are not.
    let intervals: Vec<&FlaggedRecord> = c_records
        .iter()
        .filter(|r| r.0 == PQE_RECORD_INTERVAL)
        .collect();
    assert!(intervals.len() > 50, "{} intervals", intervals.len());
    for r in &intervals {
        assert!(
            r.3 + 0.2 <= 3.0 + 1e-9 || r.3 >= 3.5 - 1e-9,
            "interval at {}",
            r.3
        );
    }
    let after_gap: Vec<f64> = intervals
        .iter()
        .filter(|r| r.1 & PQE_INTERVAL_AFTER_GAP != 0)
        .map(|r| r.3)
        .collect();
    assert_eq!(after_gap.len(), 1, "{after_gap:?}");
    assert!(after_gap[0] >= 3.5, "{after_gap:?}");
    assert!(intervals.iter().any(|r| r.3 == after_gap[0] && r.2));
}

#[test]
fn untimed_pushes_of_the_same_samples_join_the_gap() {
    // The contrast of the test above: pushed with pqe_analyzer_push the same samples are
    // taken for contiguous data, and no interval is flagged after a gap.
    let ch = channels();
    let h = new_analyzer(&config(&ch, PQE_FLAG_DEFAULT));
    for (from, n) in [(0usize, 15_360usize), (17_920, 43_520)] {
        let x = signal(from, n);
        // SAFETY: x holds n × 4 doubles.
        assert_eq!(
            unsafe { pqe_analyzer_push(h, x.as_ptr(), n) },
            pqe_status::PQE_OK
        );
    }
    assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_OK);
    let mut records = Vec::new();
    drain_flagged(h, &mut records);
    assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);
    assert!(records
        .iter()
        .filter(|r| r.0 == PQE_RECORD_INTERVAL)
        .all(|r| r.1 & PQE_INTERVAL_AFTER_GAP == 0));
}

#[test]
fn overlapping_pushes_are_stream_errors_and_the_stream_goes_on() {
    let ch = channels();
    let h = new_analyzer(&config(&ch, PQE_FLAG_DEFAULT));
    let x = signal(0, 1000);
    let period_ns = (1e9 / RATE) as i64;
    // SAFETY: x holds 1000 × 4 doubles; the planes 1000 each.
    unsafe {
        // Before the configured start: a stream error naming it.
        assert_eq!(
            pqe_analyzer_push_at(h, x.as_ptr(), 1000, START_NS - 10 * period_ns),
            pqe_status::PQE_ERR_STREAM
        );
        let e = last_error();
        assert!(
            e.contains("pqe_analyzer_push_at") && e.contains("before the recording's start"),
            "{e}"
        );
        assert_eq!(
            pqe_analyzer_push_at(h, x.as_ptr(), 1000, START_NS),
            pqe_status::PQE_OK,
            "{}",
            last_error()
        );
        // Samples 500 … 1499 overlap the 1000 pushed: refused, nothing taken.
        let planes: Vec<Vec<f64>> = (0..4)
            .map(|c| x.iter().skip(c).step_by(4).copied().collect())
            .collect();
        let ptrs: Vec<*const f64> = planes.iter().map(|p| p.as_ptr()).collect();
        assert_eq!(
            pqe_analyzer_push_planar_at(h, ptrs.as_ptr(), 1000, START_NS + 500 * period_ns),
            pqe_status::PQE_ERR_STREAM
        );
        let e = last_error();
        assert!(e.contains("overlaps") && e.contains("sample 1000"), "{e}");
        assert_eq!(
            CStr::from_ptr(pqe_status_name(pqe_status::PQE_ERR_STREAM as i32)).to_str(),
            Ok("PQE_ERR_STREAM")
        );
        // The stream goes on where it was; within half a sample counts as contiguous.
        assert_eq!(
            pqe_analyzer_push_planar_at(
                h,
                ptrs.as_ptr(),
                1000,
                START_NS + 1000 * period_ns + 40_000
            ),
            pqe_status::PQE_OK,
            "{}",
            last_error()
        );
        // Pushing after finish is a state error, distinct from configuration errors.
        assert_eq!(pqe_analyzer_finish(h), pqe_status::PQE_OK);
        assert_eq!(
            pqe_analyzer_push_at(h, x.as_ptr(), 1000, START_NS + 5_000 * period_ns),
            pqe_status::PQE_ERR_STATE
        );
        assert_eq!(pqe_analyzer_free(h), pqe_status::PQE_OK);
    }
}
