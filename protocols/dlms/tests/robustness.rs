//! Bad input from the meter gives clear errors and never a hang: FCS errors, truncation,
//! garbage, a peer that stops mid-frame, stale invoke-ids, exception responses, sequence
//! errors, DM; and HDLC segmentation both ways.

mod common;

use common::{unhex, Scripted};
use pqe_dlms::client::{ClientConfig, DlmsClient, Framing};
use pqe_dlms::hdlc::{Address, Control, Frame, HdlcParameters, LLC_RESPONSE};
use pqe_dlms::session::SessionConfig;
use pqe_dlms::xdlms::AttributeDescriptor;
use pqe_dlms::Error;
use std::time::Duration;

const AARE_OK: &str =
    "6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000501F01F40007";

fn server_frame(control: Control, info: &[u8], segmented: bool) -> Vec<u8> {
    Frame {
        segmented,
        destination: Address::client(16).unwrap(),
        source: Address::server(1, Some(17)).unwrap(),
        control,
        info: info.to_vec(),
    }
    .encode()
    .unwrap()
}

fn ua() -> Vec<u8> {
    server_frame(Control::Ua { pf: true }, &[], false)
}

fn i_frame(ns: u8, nr: u8, apdu: &[u8]) -> Vec<u8> {
    let mut info = LLC_RESPONSE.to_vec();
    info.extend_from_slice(apdu);
    server_frame(Control::I { ns, nr, pf: true }, &info, false)
}

fn hdlc(retries: u32, replies: Vec<Option<Vec<u8>>>) -> Result<DlmsClient<Scripted>, Error> {
    let mut cfg = ClientConfig::new(
        Framing::Hdlc {
            client: 16,
            server_logical: 1,
            server_physical: Some(17),
            parameters: HdlcParameters::default(),
        },
        SessionConfig::default(),
    );
    cfg.timeout = Duration::from_millis(150);
    cfg.retries = retries;
    DlmsClient::connect(Scripted::new(replies), cfg)
}

fn wrapper(replies: Vec<Option<Vec<u8>>>) -> Result<DlmsClient<Scripted>, Error> {
    let mut cfg = ClientConfig::new(
        Framing::Wrapper {
            client: 16,
            server: 1,
        },
        SessionConfig::default(),
    );
    cfg.timeout = Duration::from_millis(150);
    DlmsClient::connect(Scripted::new(replies), cfg)
}

fn wpdu(apdu: &[u8]) -> Vec<u8> {
    pqe_dlms::wrapper::Wpdu {
        source: 1,
        destination: 16,
        apdu: apdu.to_vec(),
    }
    .encode()
    .unwrap()
}

#[test]
fn fcs_error_is_named_then_recovered_by_a_retry() {
    let mut bad = ua();
    let n = bad.len();
    bad[n - 2] ^= 0xFF; // FCS high byte
    let e = hdlc(0, vec![Some(bad.clone())]).unwrap_err();
    let t = e.to_string();
    assert!(
        matches!(e, Error::Decode(_))
            && t.contains("FCS")
            && t.contains("HDLC frame byte 7")
            && t.contains("received byte 0"),
        "{t}"
    );
    // One retry: the repeated SNRM gets a good UA, then the association opens.
    let c = hdlc(
        1,
        vec![Some(bad), Some(ua()), Some(i_frame(0, 1, &unhex(AARE_OK)))],
    )
    .unwrap();
    assert!(c.trace().iter().any(|r| r.summary.contains("FCS")));
}

#[test]
fn hcs_error_is_named() {
    let mut f = i_frame(0, 1, &unhex(AARE_OK));
    f[9] ^= 0x01; // HCS low byte (after flag, format 2, dest 1, src 2, control 1)
    let t = hdlc(0, vec![Some(ua()), Some(f)]).unwrap_err().to_string();
    assert!(t.contains("HCS") || t.contains("FCS"), "{t}");
}

#[test]
fn peer_that_stops_mid_frame_times_out() {
    let u = ua();
    let half = u[..u.len() / 2].to_vec();
    let e = hdlc(1, vec![Some(half)]).unwrap_err();
    match &e {
        Error::Timeout { received, .. } => assert!(*received > 0, "{e}"),
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("SNRM"), "{e}");
}

#[test]
fn garbage_is_reported_not_skipped_silently() {
    let t = hdlc(0, vec![Some(b"hello meter".to_vec())])
        .unwrap_err()
        .to_string();
    assert!(t.contains("11 bytes outside any frame"), "{t}");
}

#[test]
fn silence_times_out_with_bounded_retries() {
    let e = hdlc(2, vec![None, None, None]).unwrap_err();
    assert!(matches!(e, Error::Timeout { received: 0, .. }), "{e}");
}

#[test]
fn dm_refuses_the_link() {
    let dm = server_frame(Control::Dm { pf: true }, &[], false);
    let e = hdlc(0, vec![Some(dm)]).unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e}");
}

#[test]
fn hdlc_sequence_error() {
    // The AARE comes with N(S)=3 where 0 is due.
    let e = hdlc(0, vec![Some(ua()), Some(i_frame(3, 1, &unhex(AARE_OK)))]).unwrap_err();
    assert!(matches!(e, Error::Sequence(_)), "{e}");
    assert!(e.to_string().contains("N(S)=3"), "{e}");
}

#[test]
fn segmented_response_is_reassembled_with_rr() {
    let aare = unhex(AARE_OK);
    let mut info = LLC_RESPONSE.to_vec();
    info.extend_from_slice(&aare);
    let (a, b) = info.split_at(20);
    let seg1 = server_frame(
        Control::I {
            ns: 0,
            nr: 1,
            pf: true,
        },
        a,
        true,
    );
    let seg2 = server_frame(
        Control::I {
            ns: 1,
            nr: 1,
            pf: true,
        },
        b,
        false,
    );
    let c = hdlc(0, vec![Some(ua()), Some(seg1), Some(seg2)]).unwrap();
    let t = c.into_transport();
    // SNRM, AARQ, then RR with N(R)=1 and the poll bit: control 0x31.
    assert_eq!(t.sent.len(), 3);
    assert_eq!(t.sent[2][6], 0x31, "{:02x?}", t.sent[2]);
}

#[test]
fn segmented_command_waits_for_rr() {
    // The UA limits the server's receive information field to 32 bytes: the AARQ (45 bytes
    // with LLC) goes in two segments, the second only after the server's RR.
    let params = HdlcParameters {
        max_info_tx: 128,
        max_info_rx: 32,
        window_tx: 1,
        window_rx: 1,
    };
    let ua = server_frame(Control::Ua { pf: true }, &params.encode_all(), false);
    let rr = server_frame(Control::Rr { nr: 1, pf: true }, &[], false);
    let c = hdlc(
        0,
        vec![Some(ua), Some(rr), Some(i_frame(0, 2, &unhex(AARE_OK)))],
    )
    .unwrap();
    let t = c.into_transport();
    assert_eq!(t.sent.len(), 3);
    let f1 = Frame::decode_body(&t.sent[1][1..t.sent[1].len() - 1]).unwrap();
    let f2 = Frame::decode_body(&t.sent[2][1..t.sent[2].len() - 1]).unwrap();
    assert!(f1.segmented && !f2.segmented);
    assert_eq!(f1.info.len(), 32);
    assert_eq!(
        (f1.control, f2.control),
        (
            Control::I {
                ns: 0,
                nr: 0,
                pf: true
            },
            Control::I {
                ns: 1,
                nr: 0,
                pf: true
            }
        )
    );
}

#[test]
fn stale_invoke_id_is_rejected() {
    // Request invoke-id 1; the answer carries invoke-id 2 (a stale or foreign response).
    let mut c = wrapper(vec![
        Some(wpdu(&unhex(AARE_OK))),
        Some(wpdu(&unhex("c401c2000600bc614e"))),
    ])
    .unwrap();
    let e = c
        .get(
            AttributeDescriptor::new(3, "1.8.0".parse().unwrap(), 2),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvokeId {
                expected: 1,
                got: 2
            }
        ),
        "{e}"
    );
}

#[test]
fn exception_response_is_a_clear_error() {
    let mut c = wrapper(vec![
        Some(wpdu(&unhex(AARE_OK))),
        Some(wpdu(&unhex("d80102"))),
    ])
    .unwrap();
    let t = c
        .get(
            AttributeDescriptor::new(3, "1.8.0".parse().unwrap(), 2),
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(
        t.contains("service-not-allowed") && t.contains("service-not-supported"),
        "{t}"
    );
}

#[test]
fn corrupt_get_response_names_the_byte() {
    // double-long-unsigned cut after two of its four bytes.
    let mut c = wrapper(vec![
        Some(wpdu(&unhex(AARE_OK))),
        Some(wpdu(&unhex("c401c1000600bc"))),
    ])
    .unwrap();
    let t = c
        .get(
            AttributeDescriptor::new(3, "1.8.0".parse().unwrap(), 2),
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(
        t.contains("Get-Response byte 5") && t.contains("double-long-unsigned"),
        "{t}"
    );
}

#[test]
fn block_numbers_out_of_order_are_refused() {
    // Block 2 arrives first.
    let block2 = unhex("c402c100000000020003010203");
    let mut c = wrapper(vec![Some(wpdu(&unhex(AARE_OK))), Some(wpdu(&block2))]).unwrap();
    let t = c
        .get(
            AttributeDescriptor::new(7, "99.1.0".parse().unwrap(), 2),
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(t.contains("block 2 where block 1 was due"), "{t}");
}

#[test]
fn wrapper_bad_version_and_foreign_ports() {
    let mut bad = wpdu(&unhex(AARE_OK));
    bad[1] = 2;
    let t = wrapper(vec![Some(bad)]).unwrap_err().to_string();
    assert!(t.contains("version 0x0002"), "{t}");
    let foreign = pqe_dlms::wrapper::Wpdu {
        source: 1,
        destination: 17,
        apdu: unhex(AARE_OK),
    }
    .encode()
    .unwrap();
    let t = wrapper(vec![Some(foreign)]).unwrap_err().to_string();
    assert!(t.contains("wPort 17"), "{t}");
}

#[test]
fn wrapper_truncated_apdu_times_out() {
    let w = wpdu(&unhex(AARE_OK));
    let e = wrapper(vec![Some(w[..20].to_vec())]).unwrap_err();
    assert!(matches!(e, Error::Timeout { received: 20, .. }), "{e}");
}
