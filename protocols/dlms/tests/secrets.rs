//! The secrets test: full LLS and HLS sessions — their trace (every frame's bytes and
//! summary), the client's debug output and the errors of failing sessions — contain no
//! password or secret, neither as text nor as bytes nor as hex.

mod common;

use common::{load_trace, unhex, Replay, Scripted};
use pqe_dlms::acse::{Conformance, Mechanism};
use pqe_dlms::client::{ClientConfig, DlmsClient, Framing, Transport};
use pqe_dlms::hdlc::HdlcParameters;
use pqe_dlms::security::Secret;
use pqe_dlms::session::SessionConfig;
use std::time::Duration;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Fail when `text` or `bytes` carry `secret` in any form.
fn assert_clean(what: &str, text: &str, secret: &[u8]) {
    let hex_lower: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let hex_upper = hex_lower.to_uppercase();
    assert!(
        !contains(text.as_bytes(), secret),
        "{what} contains the secret: {text}"
    );
    assert!(
        !text.contains(&hex_lower) && !text.contains(&hex_upper),
        "{what} contains the secret in hex: {text}"
    );
}

fn check_session<T: Transport>(c: &DlmsClient<T>, secret: &[u8]) {
    assert_clean("client debug output", &format!("{c:?}"), secret);
    for r in c.trace() {
        assert!(
            !contains(&r.bytes, secret),
            "trace bytes carry the secret: {}",
            r.summary
        );
        let hex: String = r.bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_clean("trace record", &format!("{r:?} {hex}"), secret);
    }
}

fn session(mechanism: Mechanism, secret: &[u8]) -> SessionConfig {
    SessionConfig {
        mechanism,
        secret: Some(Secret::new(secret.to_vec())),
        conformance: Conformance(0x401E5D),
        fixed_invoke_id: true,
        ..Default::default()
    }
}

fn config(framing: Framing, s: SessionConfig) -> ClientConfig {
    let mut cfg = ClientConfig::new(framing, s);
    cfg.timeout = Duration::from_millis(200);
    cfg
}

#[test]
fn lls_session_keeps_the_password_out() {
    let password = b"Pa55-w0rd-LLS";
    let mut replay = Replay::new(load_trace("trace_dlms_hdlc_lls.txt"));
    replay.check_tx = false; // the recording used another password
    let framing = Framing::Hdlc {
        client: 17,
        server_logical: 1,
        server_physical: Some(17),
        parameters: HdlcParameters::default(),
    };
    let mut c =
        DlmsClient::connect(replay, config(framing, session(Mechanism::Low, password))).unwrap();
    for obis in ["1.8.0", "32.7.0", "31.7.0", "14.7.0"] {
        c.read_register(obis.parse().unwrap()).unwrap();
    }
    c.close().unwrap_or(());
    check_session(&c, password);
    // The password did go to the meter (masked only in the trace).
    assert!(c
        .trace()
        .iter()
        .any(|r| r.redacted && r.summary.contains("AARQ")));
    let sent = c.into_transport().sent;
    assert!(
        sent.iter().any(|f| contains(f, password)),
        "the AARQ must carry the password"
    );

    // A refused LLS association: the error names the diagnostic, not the password.
    let refused = unhex(
        "6129A109060760857405080101A203020101A305A10302010DBE10040E0800065F1F040000501F01F40007",
    );
    let w = pqe_dlms::wrapper::Wpdu {
        source: 1,
        destination: 16,
        apdu: refused,
    }
    .encode()
    .unwrap();
    let e = DlmsClient::connect(
        Scripted::new(vec![Some(w)]),
        config(
            Framing::Wrapper {
                client: 16,
                server: 1,
            },
            session(Mechanism::Low, password),
        ),
    )
    .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("authentication-failure"), "{text}");
    assert_clean("error", &text, password);
}

#[test]
fn hls_session_keeps_the_secret_out() {
    let secret = b"Gurux";
    let mut s = session(Mechanism::HighMd5, secret);
    s.client_challenge = Some(unhex("29dcb1289a3fe3b96c5bf7dc60dd1ca9"));
    let mut c = DlmsClient::connect(
        Replay::new(load_trace("trace_dlms_wrapper_hls_md5.txt")),
        config(
            Framing::Wrapper {
                client: 0x12,
                server: 1,
            },
            s,
        ),
    )
    .unwrap();
    for obis in ["1.8.0", "32.7.0"] {
        c.read_register(obis.parse().unwrap()).unwrap();
    }
    check_session(&c, secret);
    let sent = c.into_transport().sent;
    assert!(
        !sent.iter().any(|f| contains(f, secret)),
        "an HLS secret never goes on the wire"
    );

    // A wrong secret: the authentication error names the mechanism, not either secret.
    let wrong = b"Wr0ng-HLS-secret";
    let mut s = session(Mechanism::HighMd5, wrong);
    s.client_challenge = Some(unhex("29dcb1289a3fe3b96c5bf7dc60dd1ca9"));
    let mut replay = Replay::new(load_trace("trace_dlms_wrapper_hls_md5.txt"));
    replay.check_tx = false;
    let e = DlmsClient::connect(
        replay,
        config(
            Framing::Wrapper {
                client: 0x12,
                server: 1,
            },
            s,
        ),
    )
    .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("mechanism 3"), "{text}");
    assert_clean("error", &text, wrong);
    assert_clean("error", &text, secret);
}
