//! DLMS as a pqe-link meter link: values with units from the recorded sessions, the trace
//! recorder with the DLMS frame decoder (LLS password masked) and the communication
//! analyser on recorded and damaged traces.
#![cfg(feature = "link")]

mod common;

use common::{load_trace, Replay, Step};
use pqe_dlms::acse::{Conformance, Mechanism};
use pqe_dlms::analyse::{DlmsAnalyser, DlmsFrameDecoder};
use pqe_dlms::client::{ClientConfig, DlmsClient, Framing};
use pqe_dlms::hdlc::HdlcParameters;
use pqe_dlms::link::{DlmsLink, LinkTransport};
use pqe_dlms::security::Secret;
use pqe_dlms::session::SessionConfig;
use pqe_link::{
    MeterLink, ProtocolAnalyser, Reading, Recorder, Selector, Trace, TraceSink, Verdict,
};
use std::time::{Duration, Instant};

/// The replay as a pqe-link transport.
struct LinkReplay(Replay);

impl pqe_link::Transport for LinkReplay {
    fn send(&mut self, bytes: &[u8]) -> pqe_link::Result<()> {
        pqe_dlms::client::Transport::send(&mut self.0, bytes)
            .map_err(|e| pqe_link::LinkError::io("replay", e))
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> pqe_link::Result<usize> {
        pqe_dlms::client::Transport::recv(&mut self.0, buf, deadline).map_err(|_| {
            pqe_link::LinkError::Timeout {
                what: "replay".into(),
                waited: Duration::ZERO,
            }
        })
    }
    fn describe(&self) -> String {
        "replay".into()
    }
}

fn hdlc_lls() -> ClientConfig {
    let mut cfg = ClientConfig::new(
        Framing::Hdlc {
            client: 17,
            server_logical: 1,
            server_physical: Some(17),
            parameters: HdlcParameters::default(),
        },
        SessionConfig {
            mechanism: Mechanism::Low,
            secret: Some(Secret::new(b"12345678".to_vec())),
            conformance: Conformance(0x401E5D),
            fixed_invoke_id: true,
            ..Default::default()
        },
    );
    cfg.timeout = Duration::from_millis(200);
    cfg.retries = 0;
    cfg
}

/// Run the recorded HDLC LLS session through a trace recorder; returns the trace file.
fn record_session(
    steps: Vec<Step>,
    dir: &tempfile::TempDir,
) -> (std::path::PathBuf, Vec<pqe_link::Value>) {
    let path = dir.path().join("trace.jsonl");
    let sink = TraceSink::create(
        &path,
        "dlms+hdlc",
        "dlms+hdlc:///dev/ttyX?client=17&auth=lls&secret=env:PW",
        None,
    )
    .unwrap();
    let mut rec = Recorder::new(LinkReplay(Replay::new(steps)), sink.clone());
    pqe_link::Transport::set_frame_decoder(&mut rec, Box::new(DlmsFrameDecoder { hdlc: true }));
    let client = DlmsClient::connect(LinkTransport(Box::new(rec)), hdlc_lls()).unwrap();
    let mut link = DlmsLink::new(client);
    let sel: Vec<Selector> = [
        "1.8.0",
        "32.7.0",
        "31.7.0",
        "14.7.0",
        "0-0:42.0.0*255",
        "0-0:96.1.0*255",
        "0-0:1.0.0*255",
    ]
    .iter()
    .map(|s| Selector::Obis(s.parse().unwrap()))
    .collect();
    let values = link.read(&sel).unwrap();
    link.close().unwrap();
    drop(link);
    sink.finish().unwrap();
    (path, values)
}

#[test]
fn values_with_units_and_a_masked_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (path, values) = record_session(load_trace("trace_dlms_hdlc_lls.txt"), &dir);
    let got: Vec<(String, Reading, String)> = values
        .into_iter()
        .map(|v| (v.id, v.value, v.unit))
        .collect();
    let n = |x: f64| Reading::Number(x);
    let t = |x: &str| Reading::Text(x.into());
    assert_eq!(
        got,
        vec![
            ("1-0:1.8.0*255".into(), n(12_345_678.0), "Wh".into()),
            ("1-0:32.7.0*255".into(), n(230.1), "V".into()),
            ("1-0:31.7.0*255".into(), n(5.25), "A".into()),
            ("1-0:14.7.0*255".into(), n(50.01), "Hz".into()),
            ("0-0:42.0.0*255".into(), t("SIM0000000000001"), "".into()),
            ("0-0:96.1.0*255".into(), t("12345678"), "".into()),
            (
                "0-0:1.0.0*255".into(),
                t("2024-01-02 03:04:05.00 deviation +0 min"),
                "".into()
            ),
        ]
    );
    let text = std::fs::read_to_string(&path).unwrap();
    // The AARQ's password bytes (31..38) are masked; the meter's serial number 12345678,
    // which happens to be the same digits, is data and stays.
    let aarq = text.lines().find(|l| l.contains("AARQ")).unwrap();
    assert!(
        aarq.contains("ac 0a 80 08 ** ** ** ** ** ** ** ** be"),
        "{aarq}"
    );
    assert_eq!(
        text.matches("31 32 33 34 35 36 37 38").count(),
        1,
        "only the serial number's response"
    );

    // The analyser: the recorded gurux-based simulator deviates twice (UA group length 0,
    // window parameter); everything else passes; the masked AARQ frame is a note.
    let trace = Trace::read(&path).unwrap();
    let a = DlmsAnalyser { hdlc: true }.analyse(&trace);
    assert_eq!(a.verdict, Verdict::Fail);
    let failing: Vec<usize> = a
        .exchanges
        .iter()
        .filter(|e| e.verdict == Verdict::Fail)
        .map(|e| e.exchange)
        .collect();
    assert_eq!(failing, vec![1], "{a:#?}");
    assert!(
        a.exchanges[0]
            .findings
            .iter()
            .any(|f| f.message.contains("group length")),
        "{:#?}",
        a.exchanges[0]
    );
    assert!(a.exchanges[1]
        .findings
        .iter()
        .any(|f| f.message.contains("masked")));
}

#[test]
fn analyser_flags_damaged_frames() {
    // Corrupt the FCS of the answer to the first GET and give the meter's second answer a
    // wrong N(S); record with checks off so the client's view does not matter.
    let mut steps = load_trace("trace_dlms_hdlc_lls.txt");
    let rx: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Step::Rx(b) if b.len() > 1))
        .map(|(i, _)| i)
        .collect();
    if let Step::Rx(b) = &mut steps[rx[2]] {
        let n = b.len();
        b[n - 2] ^= 0x40;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let sink = TraceSink::create(&path, "dlms+hdlc", "dlms+hdlc:///dev/x", None).unwrap();
    let mut rec = Recorder::new(LinkReplay(Replay::new(steps)), sink.clone());
    pqe_link::Transport::set_frame_decoder(&mut rec, Box::new(DlmsFrameDecoder { hdlc: true }));
    let mut client = DlmsClient::connect(LinkTransport(Box::new(rec)), hdlc_lls()).unwrap();
    let e = client
        .read_register("1.8.0".parse().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("FCS"), "{e}");
    drop(client);
    sink.finish().unwrap();
    let a = DlmsAnalyser { hdlc: true }.analyse(&Trace::read(&path).unwrap());
    let f: Vec<String> = a
        .exchanges
        .iter()
        .flat_map(|e| {
            e.findings
                .iter()
                .map(|f| format!("line {}: {}", f.line, f.message))
        })
        .collect();
    assert!(f.iter().any(|m| m.contains("FCS")), "{f:#?}");
}

/// A recorded trace file of tests/vectors as a pqe-meter-trace.
fn as_trace(name: &str, scheme: &str) -> Trace {
    let mut text = format!(
        "{{\"trace\":\"pqe-meter-trace\",\"version\":1,\"scheme\":\"{scheme}\",\"uri\":\"{scheme}://127.0.0.1:4059\",\"start\":\"2026-01-01T00:00:00Z\"}}\n"
    );
    for (i, s) in load_trace(name).iter().enumerate() {
        let (dir, b) = match s {
            Step::Tx(b) => ("tx", b),
            Step::Rx(b) => ("rx", b),
        };
        let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
        text.push_str(&format!(
            "{{\"t\":{}.0,\"dir\":\"{dir}\",\"hex\":\"{}\"}}\n",
            i,
            hex.join(" ")
        ));
    }
    Trace::from_reader(std::io::Cursor::new(text), name).unwrap()
}

#[test]
fn analyser_on_recorded_wrapper_sessions() {
    let a =
        DlmsAnalyser { hdlc: false }.analyse(&as_trace("trace_dlms_wrapper_lls.txt", "dlms+tcp"));
    assert_eq!(a.verdict, Verdict::Pass, "{a:#?}");
    assert_eq!(a.exchanges.len(), 13, "one exchange per request");
    // The HLS-MD5 recording's AARE encodes the responding-authentication-value with a
    // length that leaves out its inner tag: a deviation of that exchange only.
    let a = DlmsAnalyser { hdlc: false }
        .analyse(&as_trace("trace_dlms_wrapper_hls_md5.txt", "dlms+tcp"));
    let failing: Vec<usize> = a
        .exchanges
        .iter()
        .filter(|e| e.verdict == Verdict::Fail)
        .map(|e| e.exchange)
        .collect();
    assert_eq!(failing, vec![1], "{a:#?}");
    assert!(
        a.exchanges[0].findings[0].message.contains("0xAA"),
        "{:#?}",
        a.exchanges[0]
    );
    assert!(a.exchanges[0].findings[0].clause.contains("62056-5-3"));
}

#[test]
fn analyser_flags_stale_invoke_ids_and_bad_wrapper_lengths() {
    let mut t = as_trace("trace_dlms_wrapper_lls.txt", "dlms+tcp");
    // Line 5 (third record): the answer to the first GET; give it invoke-id 2.
    let r = &mut t.records[3].1;
    assert!(
        r.hex.starts_with("00 01 00 01 00 11 00 0a c4 01 c1"),
        "{}",
        r.hex
    );
    r.hex = r.hex.replacen("c4 01 c1", "c4 01 c2", 1);
    // And the next answer's wrapper length one byte short.
    let r = &mut t.records[5].1;
    r.hex = r.hex.replacen("00 09 c4", "00 08 c4", 1);
    let a = DlmsAnalyser { hdlc: false }.analyse(&t);
    let f: Vec<(usize, String)> = a
        .exchanges
        .iter()
        .flat_map(|e| e.findings.iter().map(|f| (f.line, f.message.clone())))
        .collect();
    assert!(
        f.iter()
            .any(|(l, m)| *l == t.records[3].0 && m.contains("invoke-id 2")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|(l, m)| *l == t.records[5].0 && m.contains("length field 8")),
        "{f:#?}"
    );
}
