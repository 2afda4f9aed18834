//! Every HDLC, AARQ/AARE and GET vector of tests/vectors/public_vectors.txt decodes and
//! re-encodes byte for byte; the session builds the recorded AARQs exactly.

mod common;

use common::{hex, unhex, vector_path};
use pqe_dlms::acse::{
    Aare, Aarq, ApplicationContext, Conformance, InitiateRequest, InitiateResponse, Mechanism,
};
use pqe_dlms::axdr::Data;
use pqe_dlms::hdlc::{
    Address, Control, Frame, HdlcParameters, FLAG, LLC_COMMAND, LLC_RESPONSE, X25,
};
use pqe_dlms::security::{Secret, Suite0};
use pqe_dlms::session::{Session, SessionConfig};
use pqe_dlms::xdlms::{AttributeDescriptor, GetRequest, GetResponse, Obis};
use pqe_dlms::Error;

/// The hex of the vector whose line starts with `label` (hex tokens after the colon).
fn vector(label: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(vector_path("public_vectors.txt")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no vector {label}"));
    let rest = &line[line.find(':').unwrap() + 1..];
    let mut h = String::new();
    for tok in rest.split_whitespace() {
        if tok.chars().all(|c| c.is_ascii_hexdigit()) && tok.len() % 2 == 0 {
            h.push_str(tok);
        } else {
            break;
        }
    }
    assert!(!h.is_empty(), "vector {label} has no hex");
    unhex(&h)
}

fn frame(bytes: &[u8]) -> Frame {
    assert_eq!(bytes[0], FLAG);
    assert_eq!(*bytes.last().unwrap(), FLAG);
    let f = Frame::decode_body(&bytes[1..bytes.len() - 1]).unwrap();
    assert_eq!(hex(&f.encode().unwrap()), hex(bytes), "frame re-encodes");
    f
}

#[test]
fn hdlc_snrm_vector() {
    let f = frame(&vector("SNRM"));
    assert_eq!(f.control, Control::Snrm { pf: true });
    assert_eq!(f.source, Address::client(16).unwrap());
    assert_eq!(f.destination, Address::server(1, Some(17)).unwrap());
    assert!(f.info.is_empty());
}

#[test]
fn hdlc_ua_vector_parameters() {
    let f = frame(&vector("UA"));
    assert_eq!(f.control, Control::Ua { pf: true });
    let n = HdlcParameters::decode(&f.info).unwrap();
    assert!(n.notes.is_empty(), "{:?}", n.notes);
    assert_eq!(
        n.peer,
        HdlcParameters {
            max_info_tx: 0x9A,
            max_info_rx: 0x9A,
            window_tx: 1,
            window_rx: 1
        }
    );
    assert_eq!(hex(&n.peer.encode_all()), hex(&f.info));
}

#[test]
fn hdlc_aarq_aare_frames() {
    let f = frame(&vector("I(AARQ)"));
    assert!(matches!(
        f.control,
        Control::I {
            ns: 0,
            nr: 0,
            pf: true
        }
    ));
    assert_eq!(f.info[..3], LLC_COMMAND);
    assert_eq!(hex(&f.info[3..]), hex(&vector("AARQ no security:")));
    let f = frame(&vector("I(AARE)"));
    assert!(matches!(
        f.control,
        Control::I {
            ns: 0,
            nr: 1,
            pf: true
        }
    ));
    assert_eq!(f.info[..3], LLC_RESPONSE);
    let aare = Aare::decode(&f.info[3..]).unwrap();
    assert_eq!(hex(&aare.encode()), hex(&f.info[3..]));
}

#[test]
fn hcs_and_addresses() {
    assert_eq!(X25.checksum(&[0x03, 0x3f]).to_le_bytes(), [0x5b, 0xec]);
    let mut v = Vec::new();
    Address::client(1).unwrap().encode(&mut v);
    Address::client(16).unwrap().encode(&mut v);
    Address::server(1, Some(17)).unwrap().encode(&mut v);
    assert_eq!(v, [0x03, 0x21, 0x02, 0x23]);
    // Four-byte server addresses round trip through a frame.
    let f = Frame {
        segmented: true,
        destination: Address::server(0x3FFF, Some(0x1234)).unwrap(),
        source: Address::client(16).unwrap(),
        control: Control::I {
            ns: 5,
            nr: 6,
            pf: false,
        },
        info: vec![1, 2, 3],
    };
    let b = f.encode().unwrap();
    assert_eq!(Frame::decode_body(&b[1..b.len() - 1]).unwrap(), f);
}

#[test]
fn aarq_vectors_round_trip() {
    for label in [
        "AARQ no security:",
        "AARQ no security 2:",
        "AARQ LLS",
        "AARQ HLS-GMAC:",
        "AARQ ciphered LLS:",
    ] {
        let v = vector(label);
        let a = Aarq::decode(&v).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(hex(&a.encode()), hex(&v), "{label}");
    }
    let a = Aarq::decode(&vector("AARQ HLS-GMAC:")).unwrap();
    assert_eq!(a.mechanism, Mechanism::HighGmac);
    assert_eq!(a.authentication_value.as_deref(), Some(&b"K56iVagY"[..]));
}

#[test]
fn session_builds_recorded_aarqs() {
    // no security, conformance 00 1E 1D, max PDU 0xFFFF
    let mut s = Session::new(SessionConfig {
        conformance: Conformance(0x001E1D),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(hex(&s.aarq().unwrap()), hex(&vector("AARQ no security:")));
    // LLS '12345678', conformance 00 7E 1F, max PDU 1200
    let mut s = Session::new(SessionConfig {
        mechanism: Mechanism::Low,
        secret: Some(Secret::new(b"12345678".to_vec())),
        conformance: Conformance(0x007E1F),
        max_receive_pdu: 1200,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(hex(&s.aarq().unwrap()), hex(&vector("AARQ LLS")));
}

/// The Green Book's ciphered AARQ: the InitiateRequest with a dedicated key, protected with
/// EK 000102..0F, AK D0..DF, system title 4D4D4D0000BC614E, invocation counter 0x01234567.
#[test]
fn ciphered_initiate_request_matches_green_book() {
    let v = vector("AARQ ciphered LLS:");
    let a = Aarq::decode(&v).unwrap();
    assert_eq!(a.context, ApplicationContext::LogicalNameCiphered);
    let title: [u8; 8] = a.calling_ap_title.clone().unwrap().try_into().unwrap();
    assert_eq!(title, *b"MMM\0\0\xBCaN");
    let ek = Secret::new(unhex("000102030405060708090A0B0C0D0E0F"));
    let ak = Secret::new(unhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"));
    // Decipher as if we were the meter (the nonce takes the sender's title).
    let mut rx = Suite0::new(ek.clone(), ak.clone(), title, 0).unwrap();
    rx.server_title = Some(title);
    let ui = a.user_information.clone().unwrap();
    let plain = rx.unprotect(&ui).unwrap();
    let ir = InitiateRequest::decode(&plain).unwrap();
    assert_eq!(ir.dedicated_key.as_ref().map(Vec::len), Some(16));
    assert_eq!(hex(&ir.encode()), hex(&plain));
    // Protecting it again with the same counter gives the recorded bytes.
    let mut tx = Suite0::new(ek, ak, title, 0x0123_4567).unwrap();
    assert_eq!(hex(&tx.protect(&plain).unwrap()), hex(&ui));
    // A flipped bit anywhere fails the tag and says so without quoting keys.
    let mut bad = ui.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut rx2 =
        Suite0::new(Secret::new(vec![0; 16]), Secret::new(vec![0; 16]), title, 0).unwrap();
    rx2.server_title = Some(title);
    let e = rx2.unprotect(&bad).unwrap_err().to_string();
    assert!(e.contains("does not verify"), "{e}");
}

#[test]
fn aare_vectors() {
    for label in [
        "AARE accepted:",
        "AARE ctx-name rej:",
        "AARE dlms-version:",
        "AARE HLS-GMAC ok:",
    ] {
        let v = vector(label);
        let a = Aare::decode(&v).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(hex(&a.encode()), hex(&v), "{label}");
    }
    let a = Aare::decode(&vector("AARE accepted:")).unwrap();
    let ir = InitiateResponse::decode(a.user_information.as_ref().unwrap()).unwrap();
    assert_eq!(ir.conformance, Conformance(0x00501F));
    assert_eq!(ir.server_max_receive_pdu_size, 0x01F4);
    assert_eq!(ir.vaa_name, 7);
    let a = Aare::decode(&vector("AARE HLS-GMAC ok:")).unwrap();
    assert_eq!(a.mechanism, Some(Mechanism::HighGmac));
    assert_eq!(a.authentication_value.as_deref(), Some(&b"P6wRJ21F"[..]));
}

#[test]
fn aare_refusals_are_clear_errors() {
    let mut s = Session::new(SessionConfig::default()).unwrap();
    s.aarq().unwrap();
    let e = s.on_aare(&vector("AARE ctx-name rej:")).unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }));
    let t = e.to_string();
    assert!(
        t.contains("rejected-permanent") && t.contains("application-context-name-not-supported"),
        "{t}"
    );

    let mut s = Session::new(SessionConfig::default()).unwrap();
    s.aarq().unwrap();
    let t = s
        .on_aare(&vector("AARE dlms-version:"))
        .unwrap_err()
        .to_string();
    assert!(t.contains("dlms-version-too-low"), "{t}");
}

#[test]
fn get_vectors() {
    for label in ["GET.req normal", "GET.req next block", "GET.req with-list"] {
        let v = vector(label);
        let g = GetRequest::decode(&v).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(hex(&g.encode()), hex(&v), "{label}");
    }
    let g = GetRequest::decode(&vector("GET.req normal")).unwrap();
    assert_eq!(
        g,
        GetRequest::Normal {
            invoke: 0xC1,
            descriptor: AttributeDescriptor::new(1, "0-0:43.1.0*255".parse().unwrap(), 2),
            access: None
        }
    );
    for label in ["GET.rsp normal", "GET.rsp error"] {
        let v = vector(label);
        let g = GetResponse::decode(&v).unwrap();
        assert_eq!(hex(&g.encode()), hex(&v), "{label}");
    }
    assert_eq!(
        GetResponse::decode(&vector("GET.rsp normal")).unwrap(),
        GetResponse::Normal {
            invoke: 0xC1,
            result: Ok(Data::DoubleLongUnsigned(5009))
        }
    );
    assert_eq!(
        GetResponse::decode(&vector("GET.rsp error")).unwrap(),
        GetResponse::Normal {
            invoke: 0xC1,
            result: Err(1)
        }
    );
}

#[test]
fn register_value_vectors() {
    let v = GetResponse::decode(&unhex("c401c1000600bc614e")).unwrap();
    let su = GetResponse::decode(&unhex("c401c10002020f00161e")).unwrap();
    let (GetResponse::Normal { result: Ok(v), .. }, GetResponse::Normal { result: Ok(su), .. }) =
        (v, su)
    else {
        panic!()
    };
    let r = pqe_dlms::cosem::RegisterValue::new(v, &su).unwrap();
    assert_eq!((r.value, r.unit.as_str()), (Some(12_345_678.0), "Wh"));
    let r = pqe_dlms::cosem::RegisterValue::new(
        Data::from_bytes(&unhex("1208fd")).unwrap(),
        &Data::from_bytes(&unhex("02020fff1623")).unwrap(),
    )
    .unwrap();
    assert_eq!((r.value, r.unit.as_str()), (Some(230.1), "V"));
}

#[test]
fn obis_notation() {
    let o: Obis = "1.8.0".parse().unwrap();
    assert_eq!(o, Obis([1, 0, 1, 8, 0, 255]));
    assert_eq!(o.to_string(), "1-0:1.8.0*255");
    assert_eq!(
        "0-0:1.0.0*255".parse::<Obis>().unwrap(),
        Obis([0, 0, 1, 0, 0, 255])
    );
    assert_eq!(
        "1.0.99.1.0.255".parse::<Obis>().unwrap(),
        Obis([1, 0, 99, 1, 0, 255])
    );
    assert!("1.8".parse::<Obis>().is_err());
}
