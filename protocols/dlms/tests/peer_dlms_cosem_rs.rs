//! Against a real peer nobody here wrote: the `meter` example of the crate dlms-cosem-rs
//! 0.1 (MIT/Apache-2.0), over TCP with the wrapper, on its fixed address 127.0.0.1:4059.
//! scripts/setup.sh installs it; the Makefile passes its path in PQE_DLMS_METER_BIN. A
//! missing binary fails the test.
//!
//! The meter binds a fixed port, so everything that uses it runs in this one test, in
//! sequence: plain association (register, clock, load profile by block transfer, GET
//! with-list, SET, ACTION), then `--ciphered` (HLS-GMAC with suite-0 ciphering, keys and
//! client system title from the example's source).

use pqe_dlms::acse::Mechanism;
use pqe_dlms::axdr::Data;
use pqe_dlms::client::{ClientConfig, DlmsClient, Framing, TcpTransport};
use pqe_dlms::security::{Secret, Suite0};
use pqe_dlms::session::SessionConfig;
use pqe_dlms::xdlms::{AttributeDescriptor, MethodDescriptor, Obis};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADDR: &str = "127.0.0.1:4059";

struct Meter(Child, std::path::PathBuf);

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        if std::thread::panicking() {
            eprintln!(
                "meter output:\n{}",
                std::fs::read_to_string(&self.1).unwrap_or_default()
            );
        }
    }
}

fn start_meter(ciphered: bool) -> Meter {
    let bin = std::env::var("PQE_DLMS_METER_BIN").unwrap_or_else(|_| {
        panic!("PQE_DLMS_METER_BIN is not set: run `make test` (scripts/setup.sh installs the dlms-cosem-rs meter)")
    });
    assert!(
        std::path::Path::new(&bin).is_file(),
        "the dlms-cosem-rs meter is missing at {bin}: run scripts/setup.sh"
    );
    if std::net::TcpStream::connect(ADDR).is_ok() {
        panic!("something already listens on {ADDR}: the dlms-cosem-rs meter needs that port");
    }
    let mut cmd = Command::new(&bin);
    if ciphered {
        cmd.arg("--ciphered");
    }
    let log = std::env::temp_dir().join(format!("pqe-dlms-meter-{}.log", std::process::id()));
    let out = std::fs::File::create(&log).expect("meter log");
    let err = out.try_clone().expect("meter log");
    let child = cmd
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start the meter");
    let meter = Meter(child, log);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(ADDR).is_err() {
        assert!(
            Instant::now() < deadline,
            "the meter did not listen on {ADDR} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    meter
}

/// The client proposes a 512-byte receive PDU (as the crate's own `read` example does):
/// the meter then sends the load profile by block transfer.
fn client(mut session: SessionConfig) -> DlmsClient<TcpTransport> {
    session.max_receive_pdu = 512;
    let t = TcpTransport::connect(ADDR, Duration::from_secs(2)).expect("connect");
    let mut cfg = ClientConfig::new(
        Framing::Wrapper {
            client: 0x10,
            server: 1,
        },
        session,
    );
    cfg.timeout = Duration::from_secs(3);
    DlmsClient::connect(t, cfg).expect("associate")
}

fn obis(s: &str) -> Obis {
    s.parse().unwrap()
}

/// Reads every test needs from both associations.
fn common_reads(c: &mut DlmsClient<TcpTransport>) {
    let e = c.read_register(obis("1.8.0")).unwrap();
    assert_eq!(e.value, Some(12_345_678.0));
    assert_eq!(e.unit, "Wh");
    assert_eq!(e.raw, Data::DoubleLongUnsigned(12_345_678));

    let t = c.read_clock(obis("0-0:1.0.0*255")).unwrap();
    assert_eq!(
        (t.year, t.month, t.day, t.hour, t.minute, t.second),
        (2026, 9, 6, 12, 0, 0)
    );

    // The load profile: 240 rows {double-long-unsigned 1_000_000 + 17 i, long-unsigned 7 i mod 1000},
    // larger than the meter's 512-byte PDU, so it arrives by block transfer.
    let before = c.trace().len();
    let p = c
        .read_profile(obis("1-0:99.1.0*255"), None)
        .unwrap_or_else(|e| {
            for r in c.trace() {
                eprintln!(
                    "{:?} {} {}",
                    r.direction,
                    r.summary,
                    r.bytes
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                );
            }
            panic!("load profile: {e}")
        });
    let next_requests = c.trace()[before..]
        .iter()
        .filter(|r| r.summary.contains("Get-Request"))
        .count();
    assert!(
        next_requests >= 3,
        "block transfer expected, {next_requests} requests"
    );
    assert_eq!(p.rows.len(), 240);
    assert_eq!(
        p.columns,
        ["column 1", "column 2"],
        "the meter has no capture_objects attribute"
    );
    for (i, row) in p.rows.iter().enumerate() {
        let i = i as u32;
        assert_eq!(
            row,
            &vec![
                Data::DoubleLongUnsigned(1_000_000 + i * 17),
                Data::LongUnsigned((i * 7 % 1000) as u16)
            ],
            "row {i}"
        );
    }
}

fn plain_association() {
    let _meter = start_meter(false);
    let mut c = client(SessionConfig::default());
    common_reads(&mut c);

    let list = c
        .get_with_list(&[
            AttributeDescriptor::new(3, obis("1.8.0"), 2),
            AttributeDescriptor::new(3, obis("2.8.0"), 2),
            AttributeDescriptor::new(3, obis("1.7.0"), 2),
            AttributeDescriptor::new(3, obis("9.9.9"), 2),
        ])
        .unwrap();
    assert_eq!(list[0], Ok(Data::DoubleLongUnsigned(12_345_678)));
    assert_eq!(list[1], Ok(Data::DoubleLongUnsigned(98_765)));
    assert_eq!(list[2], Ok(Data::DoubleLongUnsigned(1_193)));
    assert_eq!(
        list[3],
        Err(4),
        "object-undefined for an object the meter does not have"
    );

    // A read the meter refuses is a clear error naming the object.
    let e = c
        .get(AttributeDescriptor::new(3, obis("9.9.9"), 2), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("1-0:9.9.9*255") && e.contains("object-undefined"),
        "{e}"
    );

    // SET the clock, read it back.
    let mut t = c.read_clock(obis("0-0:1.0.0*255")).unwrap();
    t.year = 2027;
    t.hour = 7;
    c.set(
        AttributeDescriptor::new(8, obis("0-0:1.0.0*255"), 2),
        Data::DateTime(t),
    )
    .unwrap();
    let back = c.read_clock(obis("0-0:1.0.0*255")).unwrap();
    assert_eq!((back.year, back.hour), (2027, 7));

    // ACTION: open the breaker (disconnect control, class 70, method 1), read its state.
    let breaker = obis("0-0:96.3.10*255");
    assert_eq!(
        c.get(AttributeDescriptor::new(70, breaker, 2), None)
            .unwrap(),
        Data::Boolean(true)
    );
    c.action(
        MethodDescriptor {
            class_id: 70,
            instance: breaker,
            method: 1,
        },
        Some(Data::Integer(0)),
    )
    .unwrap();
    assert_eq!(
        c.get(AttributeDescriptor::new(70, breaker, 2), None)
            .unwrap(),
        Data::Boolean(false)
    );

    c.close().unwrap();
    assert!(c.trace().last().unwrap().summary.contains("RLRE"));
}

const GUEK: &str = "000102030405060708090A0B0C0D0E0F";
const GAK: &str = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";

fn ciphered_association() {
    let _meter = start_meter(true);
    let keys = Suite0::new(
        Secret::from_hex(GUEK).unwrap(),
        Secret::from_hex(GAK).unwrap(),
        *b"CLI\0\0\0\0\x01",
        1,
    )
    .unwrap();
    let mut c = client(SessionConfig {
        mechanism: Mechanism::HighGmac,
        ciphering: Some(keys),
        ..Default::default()
    });
    assert_eq!(c.session().server_title(), Some(&b"MMM\0\0\xBCaN"[..]));
    common_reads(&mut c);
    // Everything after the AARQ travelled ciphered.
    assert!(c
        .trace()
        .iter()
        .filter(|r| r.summary.contains("Get-"))
        .all(|r| r.summary.contains("glo-")));
    c.close().unwrap();
    // No key in the trace (bytes, hex, summaries) or the client's debug output.
    let debug = format!("{c:?}");
    for key in [GUEK, GAK] {
        let bytes = Secret::from_hex(key).unwrap();
        for r in c.trace() {
            assert!(
                !r.bytes.windows(16).any(|w| w == bytes.expose()),
                "key bytes in the trace"
            );
            let hex: String = r.bytes.iter().map(|b| format!("{b:02X}")).collect();
            assert!(!hex.contains(key) && !r.summary.to_uppercase().contains(key));
        }
        assert!(!debug.to_uppercase().contains(key), "{debug}");
    }
    drop(c); // the meter serves one connection at a time

    // Wrong keys: the meter's HLS-GMAC proof cannot verify; the association is refused
    // or fails authentication, with an error that names no key.
    let keys = Suite0::new(
        Secret::from_hex(GUEK).unwrap(),
        Secret::new(vec![0x55; 16]),
        *b"CLI\0\0\0\0\x02",
        1,
    )
    .unwrap();
    let t = TcpTransport::connect(ADDR, Duration::from_secs(2)).unwrap();
    let mut cfg = ClientConfig::new(
        Framing::Wrapper {
            client: 0x10,
            server: 1,
        },
        SessionConfig {
            mechanism: Mechanism::HighGmac,
            ciphering: Some(keys),
            ..Default::default()
        },
    );
    cfg.timeout = Duration::from_secs(3);
    let e = DlmsClient::connect(t, cfg).unwrap_err().to_string();
    assert!(e.contains("authentication-failure"), "{e}");
    assert!(
        !e.contains("5555") && !e.to_uppercase().contains("D0D1"),
        "{e}"
    );
}

#[test]
fn dlms_cosem_rs_meter_over_tcp() {
    plain_association();
    ciphered_association();
}
