//! The M-Bus master over a real transport: a small M-Bus slave simulator (test-only)
//! serves libmbus vector frames over TCP loopback (a TCP gateway as `mbus+tcp://` talks to),
//! answering SND_NKE, secondary selection with wildcards and REQ_UD2 with FCB handling and
//! multi-telegram readout, as EN 13757-2/-3 describe the slave.
#![cfg(feature = "link")]

#[path = "common/slave.rs"]
mod slave;

use pqe_link::{MeterLink, TcpTransport};
use pqe_mbus::data::{self, UserData};
use pqe_mbus::frame::Frame;
use pqe_mbus::link::{values, MbusLink};
use pqe_mbus::master::{Addressing, MasterConfig};
use pqe_mbus::SecondaryAddress;
use slave::{start, Slave};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn vector(name: &str) -> Vec<u8> {
    slave::vector_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"),
        name,
    )
}

fn link(port: u16, addressing: Addressing) -> MbusLink {
    let t = TcpTransport::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap();
    MbusLink::new(
        Box::new(t),
        Some(addressing),
        2400,
        Duration::from_millis(300),
        MasterConfig::default(),
    )
}

fn frame_of(name: &str) -> Frame {
    Frame::parse(&vector(name)).unwrap().0
}

fn expected_values(frames: &[Frame]) -> Vec<pqe_link::Value> {
    let t: Vec<UserData> = frames
        .iter()
        .map(|f| data::decode(f.ci().unwrap(), f.data()).unwrap())
        .collect();
    values(&t)
}

#[test]
fn primary_readout_of_vector_frames() {
    for name in [
        "kamstrup_multical_601",
        "SBC_Saia-Burgess-ALE3",
        "EDC",
        "siemens_water",
    ] {
        let f = frame_of(name);
        let primary = f.address().unwrap();
        let slave = Slave {
            primary,
            telegrams: vec![f.clone()],
            cut_after: None,
            log: Default::default(),
        };
        let mut l = link(start(slave), Addressing::Primary(primary));
        let got = l.read_all().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected_values(&[f]), "{name}");
        assert!(!got.is_empty());
    }
}

fn with_more_records_follow(f: &Frame) -> Frame {
    let Frame::Long {
        control,
        address,
        ci,
        data,
    } = f
    else {
        unreachable!()
    };
    let mut data = data.clone();
    // Drop a trailing manufacturer block, then announce more records (DIF 1Fh).
    if let Ok(UserData::Variable(v)) = data::decode(*ci, &data) {
        if let Some(data::Record::ManufacturerData { offset, .. }) = v.records.last() {
            data.truncate(*offset);
        }
    }
    data.push(0x1F);
    Frame::Long {
        control: *control,
        address: *address,
        ci: *ci,
        data,
    }
}

#[test]
fn a_slave_announcing_more_records_forever_is_bounded() {
    // abb_delta ends with DIF 1Fh; a slave that serves it for every REQ_UD2 never ends.
    let f = frame_of("abb_delta");
    let primary = f.address().unwrap();
    let slave = Slave {
        primary,
        telegrams: vec![f],
        cut_after: None,
        log: Default::default(),
    };
    let mut l = link(start(slave), Addressing::Primary(primary));
    let e = l.read_all().unwrap_err().to_string();
    assert!(e.contains("more than 16 telegrams"), "{e}");
}

#[test]
fn multi_telegram_readout_toggles_fcb() {
    let first = with_more_records_follow(&frame_of("kamstrup_382_005"));
    let second = frame_of("kamstrup_382_005");
    let primary = second.address().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let slave = Slave {
        primary,
        telegrams: vec![first.clone(), second.clone()],
        cut_after: None,
        log: log.clone(),
    };
    let mut l = link(start(slave), Addressing::Primary(primary));
    let got = l.read_all().unwrap();
    assert_eq!(got, expected_values(&[first, second]));
    assert_eq!(*log.lock().unwrap(), vec![0x7B, 0x5B], "FCB 1 then 0");
}

#[test]
fn secondary_addressing_with_wildcards() {
    let f = frame_of("ELS_Elster-F96-Plus");
    let slave = Slave {
        primary: 99,
        telegrams: vec![f.clone()],
        cut_after: None,
        log: Default::default(),
    };
    let digits: String = slave.id_digits().iter().map(|d| format!("{d:X}")).collect();
    let masked = format!("{}FF", &digits[..6]);
    let sec = SecondaryAddress::parse_id(&masked).unwrap();
    let mut l = link(start(slave), Addressing::Secondary(sec));
    assert_eq!(l.read_all().unwrap(), expected_values(&[f]));
}

#[test]
fn a_slave_that_stops_mid_frame_gives_an_error_not_a_hang() {
    let f = frame_of("abb_delta");
    let primary = f.address().unwrap();
    let slave = Slave {
        primary,
        telegrams: vec![f],
        cut_after: Some(20),
        log: Default::default(),
    };
    let mut l = link(start(slave), Addressing::Primary(primary));
    let t0 = std::time::Instant::now();
    let e = l.read_all().unwrap_err().to_string();
    assert!(e.contains("REQ_UD2") && e.contains("3 attempts"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn nobody_at_the_address_times_out_with_bounded_retries() {
    let f = frame_of("abb_delta");
    let slave = Slave {
        primary: 7,
        telegrams: vec![f],
        cut_after: None,
        log: Default::default(),
    };
    let mut l = link(start(slave), Addressing::Primary(8));
    let e = l.read_all().unwrap_err().to_string();
    assert!(
        e.contains("SND_NKE") && e.contains("no answer after 3 attempts"),
        "{e}"
    );
}
