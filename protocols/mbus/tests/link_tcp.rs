//! The M-Bus master over a real transport: a small M-Bus slave simulator (test-only)
//! serves libmbus vector frames over TCP loopback (a TCP gateway as `mbus+tcp://` talks to),
//! answering SND_NKE, secondary selection with wildcards and REQ_UD2 with FCB handling and
//! multi-telegram readout, as EN 13757-2/-3 describe the slave.
#![cfg(feature = "link")]

use pqe_link::{MeterLink, TcpTransport};
use pqe_mbus::data::{self, UserData};
use pqe_mbus::frame::{Frame, FrameDecoder};
use pqe_mbus::link::{values, MbusLink};
use pqe_mbus::master::{Addressing, MasterConfig};
use pqe_mbus::SecondaryAddress;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

fn vector(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/{name}.hex"));
    std::fs::read_to_string(p)
        .unwrap()
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

/// What the simulated slave does.
#[derive(Clone)]
struct Slave {
    primary: u8,
    /// RSP_UD frames of a multi-telegram readout, in order.
    telegrams: Vec<Frame>,
    /// Answer REQ_UD2 with only this many bytes of the frame, then fall silent.
    cut_after: Option<usize>,
    /// REQ_UD2 control bytes received (to check the FCB sequence).
    log: Arc<Mutex<Vec<u8>>>,
}

impl Slave {
    fn id_digits(&self) -> [u8; 8] {
        match &self.telegrams[0] {
            Frame::Long { data, .. } => SecondaryAddress {
                id: [data[0], data[1], data[2], data[3]],
                manufacturer: 0,
                version: 0,
                medium: 0,
            }
            .id_digits(),
            _ => unreachable!(),
        }
    }

    fn serve(self, listener: TcpListener) {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut dec = FrameDecoder::new();
        let mut selected = false;
        let mut next = 0usize;
        let mut last_fcb: Option<bool> = None;
        let mut buf = [0u8; 512];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            dec.push(&buf[..n]);
            while let Some(f) = dec.next_frame() {
                let Ok(f) = f.frame else { continue };
                let answer: Option<Vec<u8>> = match f {
                    Frame::Short {
                        control: 0x40,
                        address,
                    } => {
                        if address == 253 {
                            selected = false;
                            None
                        } else if address == self.primary {
                            last_fcb = None;
                            next = 0;
                            Some(vec![0xE5])
                        } else {
                            None
                        }
                    }
                    Frame::Long {
                        control: 0x53,
                        address: 253,
                        ci: 0x52,
                        data,
                    } => {
                        let mask = SecondaryAddress {
                            id: [data[0], data[1], data[2], data[3]],
                            manufacturer: 0,
                            version: 0,
                            medium: 0,
                        }
                        .id_digits();
                        let me = self.id_digits();
                        selected = me.iter().zip(mask.iter()).all(|(d, m)| *m == 0xF || d == m);
                        selected.then(|| vec![0xE5])
                    }
                    Frame::Short { control, address }
                        if control & 0x4F == 0x4B
                            && (address == self.primary || (address == 253 && selected)) =>
                    {
                        self.log.lock().unwrap().push(control);
                        let fcb = control & 0x20 != 0;
                        // A toggled FCB asks for the next telegram; the same FCB repeats.
                        if let Some(l) = last_fcb {
                            if l != fcb && next + 1 < self.telegrams.len() {
                                next += 1;
                            }
                        }
                        last_fcb = Some(fcb);
                        let bytes = self.telegrams[next].encode();
                        Some(match self.cut_after {
                            Some(k) => bytes[..k].to_vec(),
                            None => bytes,
                        })
                    }
                    _ => None,
                };
                if let Some(a) = answer {
                    thread::sleep(Duration::from_millis(5));
                    s.write_all(&a).unwrap();
                }
            }
        }
    }
}

fn start(slave: Slave) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || slave.serve(l));
    port
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
