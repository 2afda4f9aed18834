//! Every APDU decoder of the client on arbitrary bytes (A-XDR Data, AARQ, AARE, RLRE,
//! InitiateResponse, Get/Set/Action-Response, exception-response, ciphered APDUs, and the
//! association state machine): no panic, bounded allocation, and decode ∘ encode is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_dlms::acse::{Aare, Aarq, InitiateRequest, InitiateResponse, Mechanism, Rlre};
use pqe_dlms::axdr::Data;
use pqe_dlms::security::{Secret, Suite0};
use pqe_dlms::session::{Session, SessionConfig};
use pqe_dlms::xdlms::{ActionResponse, ExceptionResponse, GetRequest, GetResponse, SetResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Data::from_bytes(data) {
        let b = d.to_bytes();
        let again = Data::from_bytes(&b).expect("re-decodes");
        assert_eq!(again.to_bytes(), b);
    }
    if let Ok(a) = Aare::decode(data) {
        let b = a.encode();
        assert_eq!(Aare::decode(&b).expect("re-decodes").encode(), b);
    }
    if let Ok(a) = Aarq::decode(data) {
        let b = a.encode();
        assert_eq!(Aarq::decode(&b).expect("re-decodes").encode(), b);
    }
    if let Ok(g) = GetResponse::decode(data) {
        let b = g.encode();
        assert_eq!(GetResponse::decode(&b).expect("re-decodes").encode(), b);
    }
    if let Ok(g) = GetRequest::decode(data) {
        let b = g.encode();
        assert_eq!(GetRequest::decode(&b).expect("re-decodes").encode(), b);
    }
    let _ = Rlre::decode(data);
    let _ = InitiateResponse::decode(data);
    let _ = InitiateRequest::decode(data);
    let _ = SetResponse::decode(data);
    let _ = ActionResponse::decode(data);
    let _ = ExceptionResponse::decode(data);

    // Ciphered APDUs from a server with a known title.
    let mut keys = Suite0::new(
        Secret::new(vec![1; 16]),
        Secret::new(vec![2; 16]),
        *b"CLIENT01",
        1,
    )
    .unwrap();
    keys.server_title = Some(*b"SERVER01");
    let _ = keys.clone().unprotect(data);

    // The association state machine: AARE, then the same bytes as every later answer.
    for (mechanism, ciphering) in [(Mechanism::None, None), (Mechanism::HighGmac, Some(keys))] {
        let mut s = Session::new(SessionConfig {
            mechanism,
            ciphering,
            ..Default::default()
        })
        .unwrap();
        let _ = s.aarq();
        if s.on_aare(data).is_ok() {
            if let Ok(_req) = s.hls_reply() {
                let _ = s.on_hls_reply_response(data);
            }
        }
        let _ = s.open(data);
        let _ = s.on_get_response(data);
        let _ = s.on_action_response(data);
        let _ = s.on_rlre(data);
    }
});
