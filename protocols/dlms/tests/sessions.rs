//! The recorded LLS and HLS-MD5 sessions (tests/vectors/trace_*.txt) replayed through an
//! in-memory transport playing the meter: every frame this client sends must equal the
//! recorded client's byte for byte, and the values read must be the recorded ones.

mod common;

use common::{load_trace, unhex, Replay};
use pqe_dlms::acse::{Conformance, Mechanism};
use pqe_dlms::axdr::Data;
use pqe_dlms::client::{ClientConfig, DlmsClient, Framing};
use pqe_dlms::hdlc::HdlcParameters;
use pqe_dlms::security::Secret;
use pqe_dlms::session::SessionConfig;
use pqe_dlms::xdlms::AttributeDescriptor;
use std::time::Duration;

/// The recording client's settings: conformance 0x401E5D, max PDU 0xFFFF, invoke-id 1 for
/// every request.
fn session(mechanism: Mechanism, secret: &str) -> SessionConfig {
    SessionConfig {
        mechanism,
        secret: Some(Secret::new(secret.as_bytes().to_vec())),
        conformance: Conformance(0x401E5D),
        max_receive_pdu: 0xFFFF,
        invoke_id: 1,
        fixed_invoke_id: true,
        ..Default::default()
    }
}

/// The reads of the recorded sessions, in their order, checked against the printed values.
fn read_all(c: &mut DlmsClient<Replay>) {
    let expect = [
        ("1.8.0", 12_345_678.0, "Wh"),
        ("32.7.0", 230.1, "V"),
        ("31.7.0", 5.25, "A"),
        ("14.7.0", 50.01, "Hz"),
    ];
    for (obis, value, unit) in expect {
        let r = c
            .read_register(obis.parse().unwrap())
            .unwrap_or_else(|e| panic!("{obis}: {e}"));
        assert_eq!(r.value, Some(value), "{obis}");
        assert_eq!(r.unit, unit, "{obis}");
    }
    let ldn = c
        .get(
            AttributeDescriptor::new(1, "0-0:42.0.0*255".parse().unwrap(), 2),
            None,
        )
        .unwrap();
    assert_eq!(ldn, Data::OctetString(b"SIM0000000000001".to_vec()));
    let serial = c
        .get(
            AttributeDescriptor::new(1, "0-0:96.1.0*255".parse().unwrap(), 2),
            None,
        )
        .unwrap();
    assert_eq!(serial, Data::VisibleString(b"12345678".to_vec()));
    let clock = c.read_clock("0-0:1.0.0*255".parse().unwrap()).unwrap();
    assert_eq!(
        (
            clock.year,
            clock.month,
            clock.day,
            clock.hour,
            clock.minute,
            clock.second
        ),
        (2024, 1, 2, 3, 4, 5)
    );
    assert_eq!(clock.deviation_minutes(), Some(0));
    assert_eq!(clock.to_string(), "2024-01-02 03:04:05.00 deviation +0 min");
}

fn run(trace: &str, framing: Framing, config: SessionConfig) {
    let replay = Replay::new(load_trace(trace));
    let mut cfg = ClientConfig::new(framing, config);
    cfg.timeout = Duration::from_millis(300);
    cfg.retries = 0;
    let mut c =
        DlmsClient::connect(replay, cfg).unwrap_or_else(|e| panic!("{trace}: connect: {e}"));
    read_all(&mut c);
    c.close().unwrap();
    let replay = c.into_transport();
    assert!(replay.mismatches.is_empty(), "{:#?}", replay.mismatches);
    assert!(
        replay.finished(),
        "{trace}: stopped at step {}",
        replay.position()
    );
}

#[test]
fn hdlc_lls_session_byte_for_byte() {
    run(
        "trace_dlms_hdlc_lls.txt",
        Framing::Hdlc {
            client: 17,
            server_logical: 1,
            server_physical: Some(17),
            parameters: HdlcParameters::default(),
        },
        session(Mechanism::Low, "12345678"),
    );
}

#[test]
fn wrapper_lls_session_byte_for_byte() {
    run(
        "trace_dlms_wrapper_lls.txt",
        Framing::Wrapper {
            client: 0x11,
            server: 1,
        },
        session(Mechanism::Low, "12345678"),
    );
}

#[test]
fn wrapper_hls_md5_session_byte_for_byte() {
    let mut s = session(Mechanism::HighMd5, "Gurux");
    s.client_challenge = Some(unhex("29dcb1289a3fe3b96c5bf7dc60dd1ca9"));
    run(
        "trace_dlms_wrapper_hls_md5.txt",
        Framing::Wrapper {
            client: 0x12,
            server: 1,
        },
        s,
    );
}

/// A wrong HLS secret: our pass 3 differs from the recording, and (with the recording
/// not checked) the meter's pass 4 does not verify — an authentication error.
#[test]
fn wrong_hls_secret_fails_authentication() {
    let mut s = session(Mechanism::HighMd5, "not-the-secret");
    s.client_challenge = Some(unhex("29dcb1289a3fe3b96c5bf7dc60dd1ca9"));
    let mut replay = Replay::new(load_trace("trace_dlms_wrapper_hls_md5.txt"));
    replay.check_tx = false;
    let mut cfg = ClientConfig::new(
        Framing::Wrapper {
            client: 0x12,
            server: 1,
        },
        s,
    );
    cfg.timeout = Duration::from_millis(300);
    let e = DlmsClient::connect(replay, cfg).unwrap_err();
    assert!(matches!(e, pqe_dlms::Error::Authentication(_)), "{e}");
    assert!(!e.to_string().contains("not-the-secret"));
}
