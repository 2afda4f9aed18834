//! HDF5 files that do not follow the layout: each fault is reported with the file and the
//! group, dataset or attribute at fault. Files written by other tools with only the required
//! parts read with the documented defaults.

use hdf5::types::VarLenUnicode;
use pqe_core::{ChannelKind, ChannelSpec, Error, Phase, RecordingInfo, Timestamp};
use pqe_io::hdf5::{Hdf5Reader, Hdf5Writer};
use pqe_io::RecordingWriter;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A valid PQE file of two channels and 10 samples.
fn valid(dir: &Path) -> PathBuf {
    let path = dir.join("rec.h5");
    let info = RecordingInfo::new(
        vec![ChannelSpec::new("U_A", "V"), ChannelSpec::new("I_A", "A")],
        1000.0,
        Timestamp::EPOCH,
    );
    let block = pqe_core::Block::from_channels(Timestamp::EPOCH, 1000.0, 0, vec![vec![1.0; 10]; 2])
        .unwrap();
    let mut w = Hdf5Writer::create(&path, &info).unwrap();
    w.write_block(&block).unwrap();
    Box::new(w).finish().unwrap();
    path
}

/// Open `path` read-write and apply `edit`.
fn edit(path: &Path, edit: impl FnOnce(&hdf5::Group)) {
    let file = hdf5::File::open_rw(path).unwrap();
    edit(&file.group("recording").unwrap());
}

fn open_error(path: &Path) -> String {
    match Hdf5Reader::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            msg
        }
    }
}

#[test]
fn a_missing_required_attribute_is_named() {
    for (object, name) in [
        ("/recording", "sample_rate"),
        ("/recording", "pqe_format"),
        ("/recording/analog", "names"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = valid(dir.path());
        edit(&path, |g| match object {
            "/recording" => g.delete_attr(name).unwrap(),
            _ => g.dataset("analog").unwrap().delete_attr(name).unwrap(),
        });
        let msg = open_error(&path);
        assert!(
            msg.contains(&format!("{object} attribute {name}: missing")),
            "{msg}"
        );
    }
}

#[test]
fn a_missing_start_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid(dir.path());
    edit(&path, |g| {
        g.delete_attr("start_ns").unwrap();
        g.delete_attr("start").unwrap();
    });
    assert!(open_error(&path).contains("/recording attribute start_ns: missing"));
}

#[test]
fn a_per_channel_attribute_of_the_wrong_length_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid(dir.path());
    edit(&path, |g| {
        let ds = g.dataset("analog").unwrap();
        ds.delete_attr("units").unwrap();
        let units = [VarLenUnicode::from_str("V").unwrap()];
        ds.new_attr::<VarLenUnicode>()
            .shape([1])
            .create("units")
            .unwrap()
            .write_raw(&units)
            .unwrap();
    });
    let msg = open_error(&path);
    assert!(
        msg.contains("/recording/analog attribute units: 1 values for 2 channels"),
        "{msg}"
    );
}

#[test]
fn missing_group_or_dataset_and_wrong_format_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.h5");
    hdf5::File::create(&path)
        .unwrap()
        .create_group("data")
        .unwrap();
    assert!(open_error(&path).contains("/recording: group missing"));

    let path = valid(dir.path());
    edit(&path, |g| g.unlink("analog").unwrap());
    assert!(open_error(&path).contains("/recording/analog: dataset missing"));

    let path = valid(dir.path());
    edit(&path, |g| {
        g.delete_attr("pqe_format").unwrap();
        let v = VarLenUnicode::from_str("something-else/3").unwrap();
        g.new_attr::<VarLenUnicode>()
            .shape(())
            .create("pqe_format")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    });
    assert!(open_error(&path).contains("/recording attribute pqe_format"));
}

#[test]
fn a_file_that_is_not_hdf5_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text.h5");
    std::fs::write(&path, "t,U_A\n0,1\n").unwrap();
    assert!(open_error(&path).contains("not an HDF5 file"));
    let missing = dir.path().join("missing.h5");
    assert!(matches!(Hdf5Reader::open(&missing), Err(Error::Io { .. })));
}

#[test]
fn a_rate_of_zero_without_times_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid(dir.path());
    edit(&path, |g| {
        g.attr("sample_rate")
            .unwrap()
            .write_scalar(&0.0f64)
            .unwrap();
    });
    assert!(open_error(&path).contains("/recording/time_ns: dataset missing"));
}

/// What h5py users write by hand: float32 samples, an integer rate, names as fixed-length
/// ASCII, nothing optional.
#[test]
fn a_minimal_file_from_another_tool_reads_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minimal.h5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let g = file.create_group("recording").unwrap();
        let format = VarLenUnicode::from_str("pqe-recording/1").unwrap();
        g.new_attr::<VarLenUnicode>()
            .shape(())
            .create("pqe_format")
            .unwrap()
            .write_scalar(&format)
            .unwrap();
        g.new_attr::<i64>()
            .shape(())
            .create("sample_rate")
            .unwrap()
            .write_scalar(&4000i64)
            .unwrap();
        g.new_attr::<i64>()
            .shape(())
            .create("start_ns")
            .unwrap()
            .write_scalar(&1_000i64)
            .unwrap();
        let data: Vec<f32> = (0..6).map(|k| k as f32 * 0.5).collect();
        let ds = g
            .new_dataset::<f32>()
            .shape([2, 3])
            .create("analog")
            .unwrap();
        ds.write_raw(&data).unwrap();
        let names = [
            hdf5::types::FixedAscii::<4>::from_ascii(b"U_B").unwrap(),
            hdf5::types::FixedAscii::<4>::from_ascii(b"I_B").unwrap(),
        ];
        ds.new_attr::<hdf5::types::FixedAscii<4>>()
            .shape([2])
            .create("names")
            .unwrap()
            .write_raw(&names)
            .unwrap();
        let units = [
            hdf5::types::FixedAscii::<2>::from_ascii(b"V").unwrap(),
            hdf5::types::FixedAscii::<2>::from_ascii(b"A").unwrap(),
        ];
        ds.new_attr::<hdf5::types::FixedAscii<2>>()
            .shape([2])
            .create("units")
            .unwrap()
            .write_raw(&units)
            .unwrap();
    }
    let mut reader = Hdf5Reader::open(&path).unwrap();
    let info = pqe_io::RecordingReader::info(&reader).clone();
    assert_eq!(info.sample_rate, 4000.0);
    assert_eq!(info.start, Timestamp::from_nanos(1_000));
    assert_eq!(info.channels[0].name, "U_B");
    assert_eq!(info.channels[1].kind, ChannelKind::Current);
    assert_eq!(info.channels[0].phase, None::<Phase>);
    assert_eq!(info.channels[0].ratio_primary, 1.0);
    assert!(info.channels[0].primary);
    let block = pqe_io::RecordingReader::read_block(&mut reader, 100)
        .unwrap()
        .unwrap();
    assert_eq!(block.channel(0), &[0.0, 0.5, 1.0]);
    assert_eq!(block.channel(1), &[1.5, 2.0, 2.5]);
}

#[test]
fn an_absurd_rate_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid(dir.path());
    edit(&path, |g| {
        g.attr("sample_rate")
            .unwrap()
            .write_scalar(&1e-300f64)
            .unwrap();
    });
    let mut reader = Hdf5Reader::open(&path).unwrap();
    // Sample 0 lies at the start, but the block it begins ends at sample 1, beyond 2262.
    let e = pqe_io::RecordingReader::read_block(&mut reader, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("beyond the year 2262"), "{e}");
}

/// Found by the `hdf5_attributes` fuzz target: a start just before the end of the
/// representable time range (the year 2262) and samples that reach past it. Reading stops
/// with an error naming the attribute instead of an arithmetic overflow.
#[test]
fn samples_past_the_year_2262_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = valid(dir.path());
    edit(&path, |g| {
        g.attr("start_ns")
            .unwrap()
            .write_scalar(&(i64::MAX - 5_000_000))
            .unwrap();
    });
    let mut r = Hdf5Reader::open(&path).unwrap();
    let e = loop {
        match pqe_io::RecordingReader::read_block(&mut r, 4) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the samples past 2262 were read"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(e.contains("start_ns") && e.contains("2262"), "{e}");
}
