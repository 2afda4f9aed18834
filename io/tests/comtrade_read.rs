//! COMTRADE reading: every fixture, known values, chunk invariance, multi-rate and rate-0
//! files, and errors that name the file and the line or byte.

use pqe_core::{Block, Error};
use pqe_io::comtrade::{ComtradeReader, DataFormat, Revision};
use pqe_io::RecordingReader;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/comtrade")
        .join(rel)
}

/// All blocks of a recording, read `chunk` samples at a time.
fn read_all(r: &mut ComtradeReader, chunk: usize) -> Vec<Block> {
    let mut out = Vec::new();
    while let Some(b) = r.read_block(chunk).unwrap() {
        assert!(b.len() <= chunk.max(1));
        out.push(b);
    }
    out
}

/// Planar channel values concatenated over blocks, plus digital states and times.
fn flatten(
    blocks: &[Block],
    start: pqe_core::Timestamp,
) -> (Vec<Vec<f64>>, Vec<Vec<u8>>, Vec<f64>) {
    let n_a = blocks.first().map_or(0, Block::n_channels);
    let n_d = blocks.first().map_or(0, Block::n_digital);
    let mut a = vec![Vec::new(); n_a];
    let mut d = vec![Vec::new(); n_d];
    let mut t = Vec::new();
    for b in blocks {
        for (c, col) in a.iter_mut().enumerate() {
            col.extend_from_slice(b.channel(c));
        }
        for (k, col) in d.iter_mut().enumerate() {
            col.extend_from_slice(b.digital(k));
        }
        t.extend((0..b.len()).map(|i| b.time_of(i, start)));
    }
    (a, d, t)
}

fn bits(v: &[Vec<f64>]) -> Vec<Vec<u64>> {
    v.iter()
        .map(|c| c.iter().map(|x| x.to_bits()).collect())
        .collect()
}

#[test]
fn every_fixture_reads() {
    let pairs = [
        ("fixtures/sample_ascii.cfg", "fixtures/sample_ascii.dat", 40),
        (
            "fixtures/sample_ascii.cfg",
            "fixtures/sample_ascii_missing.dat",
            40,
        ),
        (
            "fixtures/sample_ascii_utf-8.cfg",
            "fixtures/sample_ascii.dat",
            40,
        ),
        (
            "fixtures/sample_sub_char.cfg",
            "fixtures/sample_ascii.dat",
            40,
        ),
        (
            "fixtures/sample_iso8859-1.cfg",
            "fixtures/sample_iso8859-1.dat",
            40,
        ),
        (
            "fixtures/sample_iso8859-1_bin.cfg",
            "fixtures/sample_iso8859-1_bin.dat",
            40,
        ),
        ("fixtures/sample_bin.cfg", "fixtures/sample_bin.dat", 5),
        (
            "fixtures/sample_bin.cfg",
            "fixtures/sample_bin_missing.dat",
            5,
        ),
    ];
    for (cfg, dat, n) in pairs {
        let mut r = ComtradeReader::open_pair(data(cfg), data(dat)).unwrap();
        let got: usize = read_all(&mut r, 1000).iter().map(Block::len).sum();
        assert_eq!(got, n, "{cfg} + {dat}");
        assert_eq!(r.progress().0, r.progress().1.unwrap());
    }
    for (path, n) in [
        ("fixtures/sample_ascii.cff", 40),
        ("fixtures/sample_float32.cff", 301),
        ("pnnl/f1_1b274run.cfg", 40001),
        ("pnnl/f2_1bc392run.cfg", 40001),
        ("pnnl/f3_43abc675run.cfg", 40001),
    ] {
        let mut r = ComtradeReader::open(data(path)).unwrap();
        let got: usize = read_all(&mut r, 4096).iter().map(Block::len).sum();
        assert_eq!(got, n, "{path}");
    }
}

#[test]
fn header_fields_and_known_values() {
    let mut r = ComtradeReader::open(data("fixtures/sample_ascii.cfg")).unwrap();
    let cfg = r.config().clone();
    assert_eq!(cfg.revision, Revision::R2013);
    assert_eq!(cfg.format, DataFormat::Ascii);
    assert_eq!(cfg.station, "SMARTSTATION");
    assert_eq!(cfg.time_code.as_deref(), Some("-5h30"));
    assert_eq!(cfg.tmq_code.as_deref(), Some("B"));
    let info = r.info().clone();
    assert_eq!(info.sample_rate, 1200.0);
    assert_eq!(info.line_frequency, 60.0);
    assert_eq!(info.total_samples, Some(40));
    assert_eq!(info.time_code.as_deref(), Some("-5h30"));
    assert_eq!(info.start.to_string(), "2011-01-12T05:55:30.075011000");
    assert_eq!(
        info.trigger.unwrap().to_string(),
        "2011-01-12T05:55:30.078261000"
    );
    let ia = &info.channels[0];
    assert_eq!((ia.name.as_str(), ia.unit.as_str()), ("IA", "A"));
    assert_eq!(
        (ia.ratio_primary, ia.ratio_secondary, ia.primary),
        (933.0, 1.0, false)
    );
    let s = ia.scaling.unwrap();
    assert_eq!((s.a, s.b), (0.1138916015625, 0.05694580078125));
    assert_eq!(ia.raw_range, Some((-32768.0, 32767.0)));
    assert_eq!(info.digital_channels[3].name, "51N");
    let blocks = read_all(&mut r, 1000);
    let (a, d, t) = flatten(&blocks, info.start);
    // Row 1: 1,72500,-83,68,7,-8,0,0,0,0
    assert_eq!(a[0][0], 0.1138916015625 * -83.0 + 0.05694580078125);
    assert_eq!(a[3][0], 0.1138916015625 * -8.0 + 0.05694580078125);
    // Row 40: 40,105000,-169,41,18,-110,1,1,0,1
    assert_eq!(a[1][39], 0.1138916015625 * 41.0 + 0.05694580078125);
    assert_eq!((d[0][39], d[2][39], d[3][39]), (1, 0, 1));
    assert!((t[39] - 39.0 / 1200.0).abs() < 1e-12);

    // BINARY 1999: int16 values, 16 status bits in one word, primary values in kV.
    let mut r = ComtradeReader::open(data("fixtures/sample_bin.cfg")).unwrap();
    assert_eq!(r.config().revision, Revision::R1999);
    assert_eq!(r.info().sample_rate, 15360.0);
    assert!(r.info().channels[0].primary);
    let (a, _, _) = flatten(&read_all(&mut r, 7), r.info().start);
    // First record, channel VA: raw 0x9e6d = -24979.
    assert_eq!(a[0][0], 0.000361849 * -24979.0);

    // FLOAT32 in a .cff with nanosecond dates.
    let mut r = ComtradeReader::open(data("fixtures/sample_float32.cff")).unwrap();
    assert_eq!(r.config().timestamp_unit_ns, 1);
    assert_eq!(r.info().start.to_string(), "2021-02-17T17:37:12.422969065");
    assert!(r.info().channels[0].scaling.is_none());
    let (a, d, _) = flatten(&read_all(&mut r, 64), r.info().start);
    // First record's value: bytes 03 d2 33 40.
    assert_eq!(a[0][0], f64::from(f32::from_bits(0x4033_d203)));
    assert_eq!(d[0].len(), 301);
}

#[test]
fn latin1_and_utf8_names() {
    let r = ComtradeReader::open(data("fixtures/sample_iso8859-1.cfg")).unwrap();
    assert_eq!(r.info().station, "Esta\u{e7}\u{e3}o de Medi\u{e7}\u{e3}o");
    assert_eq!(r.info().device, "Oscil\u{f3}grafo");
    let r = ComtradeReader::open_pair(
        data("fixtures/sample_ascii_utf-8.cfg"),
        data("fixtures/sample_ascii.dat"),
    )
    .unwrap();
    assert!(
        r.info().station.ends_with("\u{d130}\u{d30c}\u{d06c}387"),
        "{}",
        r.info().station
    );
}

#[test]
fn missing_values_are_nan() {
    let mut r = ComtradeReader::open_pair(
        data("fixtures/sample_ascii.cfg"),
        data("fixtures/sample_ascii_missing.dat"),
    )
    .unwrap();
    let (a, _, _) = flatten(&read_all(&mut r, 3), r.info().start);
    assert!(a[0][1].is_nan() && a[1][2].is_nan() && a[2][3].is_nan() && a[3][4].is_nan());
    assert!(!a[0][0].is_nan() && !a[1][1].is_nan());
    let mut r = ComtradeReader::open_pair(
        data("fixtures/sample_bin.cfg"),
        data("fixtures/sample_bin_missing.dat"),
    )
    .unwrap();
    let (a, _, _) = flatten(&read_all(&mut r, 2), r.info().start);
    let nans: usize = a.iter().flatten().filter(|v| v.is_nan()).count();
    assert_eq!(nans, 4);
    assert!(a[0][0].is_nan());
}

#[test]
fn chunk_sizes_give_identical_data() {
    for path in [
        "fixtures/sample_ascii.cfg",
        "fixtures/sample_iso8859-1_bin.cfg",
        "fixtures/sample_float32.cff",
        "fixtures/sample_ascii.cff",
        "pnnl/f2_1bc392run.cfg",
    ] {
        let mut reference = None;
        for chunk in [1, 7, 1000] {
            let mut r = ComtradeReader::open(data(path)).unwrap();
            let start = r.info().start;
            let blocks = read_all(&mut r, chunk);
            let (a, d, t) = flatten(&blocks, start);
            let got = (bits(&a), d);
            match &reference {
                None => reference = Some((got, t)),
                Some((want, want_t)) => {
                    assert!(want == &got, "{path} chunk {chunk}");
                    // Block start times are whole nanoseconds.
                    assert!(want_t.iter().zip(&t).all(|(x, y)| (x - y).abs() < 2e-9));
                }
            }
        }
    }
}

/// Write a recording into a temporary directory.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const CFG_HEAD: &str = "st,dev,2013\r\n2,1A,1D\r\n1,V,A,,V,0.5,1,0,-100,100,1,1,P\r\n\
                        1,S,,,0\r\n50\r\n";

fn bin_record(n: u32, ts: u32, x: i16, status: u16) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&n.to_le_bytes());
    r.extend_from_slice(&ts.to_le_bytes());
    r.extend_from_slice(&x.to_le_bytes());
    r.extend_from_slice(&status.to_le_bytes());
    r
}

#[test]
fn several_rates_never_share_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{CFG_HEAD}2\r\n1000,4\r\n100,6\r\n01/01/2020,00:00:00.000000\r\n\
         01/01/2020,00:00:00.000000\r\nBINARY\r\n1\r\n"
    );
    write(dir.path(), "r.cfg", cfg.as_bytes());
    let dat: Vec<u8> = (1..=6)
        .flat_map(|n| bin_record(n, 0, n as i16, 1))
        .collect();
    write(dir.path(), "r.DAT", &dat);
    let mut r = ComtradeReader::open(dir.path().join("r.cfg")).unwrap();
    assert_eq!(r.info().rate_segments, vec![(1000.0, 4), (100.0, 6)]);
    let start = r.info().start;
    let blocks = read_all(&mut r, 1000);
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].len(), blocks[0].sample_rate()), (4, 1000.0));
    assert_eq!((blocks[1].len(), blocks[1].sample_rate()), (2, 100.0));
    assert_eq!(blocks[1].first_sample(), 4);
    // Sample 5 is one 100 Hz period after sample 4 (at 3 ms).
    assert!((blocks[1].start().seconds_since(start) - 0.013).abs() < 1e-9);
    assert_eq!(blocks[1].channel(0), &[0.5 * 5.0 + 1.0, 0.5 * 6.0 + 1.0]);
    assert_eq!(blocks[0].digital(0), &[1, 1, 1, 1]);
}

#[test]
fn rate_zero_uses_time_stamps_and_timemult() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{CFG_HEAD}0\r\n0,3\r\n01/01/2020,00:00:00.000000\r\n\
         01/01/2020,00:00:00.000000\r\nASCII\r\n2.5\r\n0,0\r\n0,0\r\n"
    );
    write(dir.path(), "t.cfg", cfg.as_bytes());
    write(dir.path(), "t.dat", b"1,0,10,0\n2,100,,1\n3,1000,-4,0,\n");
    let mut r = ComtradeReader::open(dir.path().join("t.cfg")).unwrap();
    assert_eq!(r.info().sample_rate, 0.0);
    let b = r.read_block(10).unwrap().unwrap();
    assert_eq!(b.sample_times(), Some(&[0, 250_000, 2_500_000][..]));
    assert_eq!(b.channel(0)[0], 6.0);
    assert!(b.channel(0)[1].is_nan());
    assert!(r.read_block(10).unwrap().is_none());
}

fn err_text(r: Result<impl Sized, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn read_to_end(path: &Path) -> Result<u64, Error> {
    let mut r = ComtradeReader::open(path)?;
    let mut n = 0;
    while let Some(b) = r.read_block(3)? {
        n += b.len() as u64;
    }
    Ok(n)
}

#[test]
fn truncated_binary_data_reports_the_good_samples() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(data("fixtures/sample_iso8859-1_bin.dat")).unwrap();
    std::fs::copy(
        data("fixtures/sample_iso8859-1_bin.cfg"),
        dir.path().join("c.cfg"),
    )
    .unwrap();
    // 18-byte records: keep 10 whole records and 5 bytes of the 11th.
    write(dir.path(), "c.dat", &src[..18 * 10 + 5]);
    let e = read_to_end(&dir.path().join("c.cfg")).unwrap_err();
    match &e {
        Error::Format {
            location,
            valid_samples,
            ..
        } => {
            assert_eq!(*valid_samples, Some(10));
            assert_eq!(location.byte_offset, Some(180));
            assert!(location.file.ends_with("c.dat"));
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("inside a record"), "{e}");
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good_cfg = std::fs::read_to_string(data("fixtures/sample_ascii.cfg")).unwrap();
    let good_dat = std::fs::read_to_string(data("fixtures/sample_ascii.dat")).unwrap();
    let case = |name: &str, cfg: &str, dat: &str| -> String {
        write(dir.path(), &format!("{name}.cfg"), cfg.as_bytes());
        write(dir.path(), &format!("{name}.dat"), dat.as_bytes());
        err_text(read_to_end(&dir.path().join(format!("{name}.cfg"))))
    };
    // Channel counts on line 2 disagree with the channel lines.
    let e = case(
        "count",
        &good_cfg.replacen("8,4A,4D", "8,5A,3D", 1),
        &good_dat,
    );
    assert!(
        e.contains("count.cfg:7") && e.contains("analog channel 5"),
        "{e}"
    );
    let e = case(
        "total",
        &good_cfg.replacen("8,4A,4D", "9,4A,4D", 1),
        &good_dat,
    );
    assert!(e.contains("total.cfg:2") && e.contains("TT"), "{e}");
    // An ASCII row with a field too few.
    let dat = good_dat.replacen("3,74167,55,-53,0,2,0,0,0,0", "3,74167,55,-53,0,2,0,0,0", 1);
    let e = case("fields", &good_cfg, &dat);
    assert!(
        e.contains("fields.dat:3") && e.contains("9 fields") && e.contains("(2 samples"),
        "{e}"
    );
    // Unknown file type.
    let e = case("ft", &good_cfg.replacen("ASCII", "EBCDIC", 1), &good_dat);
    assert!(
        e.contains("ft.cfg:16") && e.contains("unknown file type 'EBCDIC'"),
        "{e}"
    );
    // Non-numeric fields in the .cfg and in the data.
    let e = case(
        "a",
        &good_cfg.replacen("0.1138916015625", "x1", 1),
        &good_dat,
    );
    assert!(
        e.contains("a.cfg:3, analog channel 1 multiplier a: 'x1' is not a number"),
        "{e}"
    );
    let e = case(
        "num",
        &good_cfg,
        &good_dat.replacen("122,-96", "12z,-96", 1),
    );
    assert!(
        e.contains("num.dat:4, analog channel 1: '12z' is not a number"),
        "{e}"
    );
    // Bad date.
    let e = case(
        "date",
        &good_cfg.replacen("12/01/2011,05:55:30.075011", "32/01/2011,05:55:30", 1),
        &good_dat,
    );
    assert!(
        e.contains("date.cfg:14") && e.contains("not a valid date"),
        "{e}"
    );
    // Rates that do not add up: endsamp beyond the data, non-increasing endsamp.
    let e = case(
        "short",
        &good_cfg.replacen("1200,40", "1200,41", 1),
        &good_dat,
    );
    assert!(
        e.contains("short.dat:41") && e.contains("(40 samples"),
        "{e}"
    );
    let e = case(
        "long",
        &good_cfg.replacen("1200,40", "1200,39", 1),
        &good_dat,
    );
    assert!(
        e.contains("long.dat:40") && e.contains("follows the last"),
        "{e}"
    );
    let e = case(
        "order",
        &good_cfg.replacen("1\n1200,40", "2\n1200,40\n600,30", 1),
        &good_dat,
    );
    assert!(
        e.contains("order.cfg:14") && e.contains("must increase"),
        "{e}"
    );
    // Binary: the data length disagrees with the rates.
    std::fs::copy(data("fixtures/sample_bin.cfg"), dir.path().join("b.cfg")).unwrap();
    let bin = std::fs::read(data("fixtures/sample_bin.dat")).unwrap();
    write(dir.path(), "b.dat", &[bin.as_slice(), &bin[..18]].concat());
    let e = err_text(ComtradeReader::open(dir.path().join("b.cfg")));
    assert!(e.contains("b.cfg:25") && e.contains("6 records"), "{e}");
    // Not COMTRADE at all.
    let e = err_text(ComtradeReader::open(data("README.md")));
    assert!(e.contains("unknown file type"), "{e}");
}

#[test]
fn garbled_and_truncated_files_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    for (name, ext) in [
        ("fixtures/sample_ascii.cff", "cff"),
        ("fixtures/sample_float32.cff", "cff"),
        ("fixtures/sample_bin.cfg", "cfg"),
        ("fixtures/sample_iso8859-1_bin.cfg", "cfg"),
        ("fixtures/sample_ascii.cfg", "cfg"),
    ] {
        let main = std::fs::read(data(name)).unwrap();
        let dat = if ext == "cfg" {
            std::fs::read(data(&name.replace(".cfg", ".dat"))).unwrap()
        } else {
            Vec::new()
        };
        let mut garbled = 0;
        for cut in (0..main.len()).step_by(3) {
            for variant in 0..3 {
                let mut bytes = main.clone();
                let mut dat_bytes = dat.clone();
                match variant {
                    0 => bytes.truncate(cut),
                    1 => bytes[cut] = bytes[cut].wrapping_add(17),
                    _ if !dat_bytes.is_empty() => {
                        let k = cut % dat_bytes.len();
                        dat_bytes.truncate(k);
                    }
                    _ => bytes.insert(cut, b','),
                }
                let p = write(dir.path(), &format!("g.{ext}"), &bytes);
                if ext == "cfg" {
                    write(dir.path(), "g.dat", &dat_bytes);
                }
                let outcome = std::panic::catch_unwind(|| read_to_end(&p).map(|_| ()));
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => garbled += 1,
                    Err(_) => panic!("panic on {name} variant {variant} at {cut}"),
                }
            }
        }
        assert!(garbled > 0, "{name}: no variant was rejected");
    }
}

#[test]
fn edge_cases_read_or_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let tail = "01/01/2020,00:00:00\r\n01/01/2020,00:00:00\r\nBINARY\r\n1\r\n";
    // No samples at all.
    write(
        dir.path(),
        "e.cfg",
        format!("{CFG_HEAD}1\r\n1000,0\r\n{tail}").as_bytes(),
    );
    write(dir.path(), "e.dat", b"");
    assert_eq!(read_to_end(&dir.path().join("e.cfg")).unwrap(), 0);
    // A rate so low the recording would last for ages.
    write(
        dir.path(),
        "slow.cfg",
        format!("{CFG_HEAD}1\r\n1e-300,2\r\n{tail}").as_bytes(),
    );
    write(
        dir.path(),
        "slow.dat",
        &[bin_record(1, 0, 0, 0), bin_record(2, 0, 0, 0)].concat(),
    );
    let e = err_text(read_to_end(&dir.path().join("slow.cfg")));
    assert!(e.contains("slow.cfg:7") && e.contains("too low"), "{e}");
    // Rate 0 with an absurd time multiplier.
    let cfg = format!(
        "{CFG_HEAD}0\r\n0,2\r\n01/01/2020,00:00:00\r\n01/01/2020,00:00:00\r\nBINARY\r\n1e300\r\n"
    );
    write(dir.path(), "mult.cfg", cfg.as_bytes());
    write(
        dir.path(),
        "mult.dat",
        &[bin_record(1, 0, 0, 0), bin_record(2, 5, 0, 0)].concat(),
    );
    let e = err_text(read_to_end(&dir.path().join("mult.cfg")));
    assert!(e.contains("mult.dat") && e.contains("30 years"), "{e}");
    // Status channels only: blocks still have a length.
    let cfg =
        format!("st,dev,1999\r\n2,0A,2D\r\n1,S1,,,0\r\n2,S2,,,1\r\n50\r\n1\r\n100,3\r\n{tail}");
    write(dir.path(), "d.cfg", cfg.as_bytes());
    let dat: Vec<u8> = (1..=3u32)
        .flat_map(|n| {
            [n.to_le_bytes(), 0u32.to_le_bytes()]
                .concat()
                .into_iter()
                .chain((n as u16).to_le_bytes())
        })
        .collect();
    write(dir.path(), "d.dat", &dat);
    let mut r = ComtradeReader::open(dir.path().join("d.cfg")).unwrap();
    let b = r.read_block(10).unwrap().unwrap();
    assert_eq!(
        (b.len(), b.digital(0), b.digital(1)),
        (3, &[1, 0, 1][..], &[0, 1, 1][..])
    );
    // A huge request is served in bounded blocks.
    let mut r = ComtradeReader::open(data("pnnl/f1_1b274run.cfg")).unwrap();
    assert_eq!(r.read_block(usize::MAX).unwrap().unwrap().len(), 40001);
}
