//! The DLMS trace support `pqe meter trace` and `pqe meter analyse` run on a meter's bytes:
//! the frame splitter and decoder (HDLC and wrapper), the LLS password locator, and the
//! communication analyser on the trace they make. No panic; the splitter accounts for
//! every byte; masked ranges lie inside their frame; every finding names a trace line.
//!
//! Input: byte 0 picks the framing (bit 0: HDLC, else wrapper) and whether secret ranges are
//! masked as the recorder writes them (bit 1). Then segments, each a big-endian u16 whose top
//! bit says the direction (set: from the meter) and whose other 15 bits give the length,
//! followed by that many bytes. What PQE sends is one record; what the meter sends is cut
//! into frames by the splitter, as the recorder does. The seeds are the three recorded
//! sessions of `tests/vectors/trace_dlms_*.txt` in this layout (their source: NOTE.md there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_dlms::analyse::{aarq_password_range, describe_apdu, DlmsAnalyser, DlmsFrameDecoder};
use pqe_link::trace::hex_masked;
use pqe_link::{Direction, FrameDecoder, ProtocolAnalyser, Split, Trace, TraceHeader, TraceRecord};

fn record(
    decoder: &DlmsFrameDecoder,
    mask: bool,
    dir: Direction,
    frame: &[u8],
    t: f64,
) -> TraceRecord {
    let decoded = decoder.decode(dir, frame);
    for r in &decoded.redact {
        assert!(
            r.start <= r.end && r.end <= frame.len(),
            "{r:?} outside {} bytes",
            frame.len()
        );
    }
    let redact = if mask {
        decoded.redact.clone()
    } else {
        Vec::new()
    };
    TraceRecord {
        t,
        t_end: Some(t + 0.001),
        dir: if dir == Direction::Tx { "tx" } else { "rx" }.into(),
        hex: hex_masked(frame, &redact),
        decoded: decoded.text,
        max_gap_ms: (dir == Direction::Rx).then_some(1.0),
        line: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let hdlc = mode & 1 == 1;
    let mask = mode & 2 == 2;
    let decoder = DlmsFrameDecoder { hdlc };

    let _ = aarq_password_range(rest);
    let _ = describe_apdu(rest);

    let mut records = Vec::new();
    let mut t = 0.0;
    while rest.len() >= 2 {
        let head = u16::from_be_bytes([rest[0], rest[1]]);
        let dir = if head & 0x8000 != 0 {
            Direction::Rx
        } else {
            Direction::Tx
        };
        let len = usize::from(head & 0x7FFF).min(rest.len() - 2);
        let segment = &rest[2..2 + len];
        rest = &rest[2 + len..];
        t += 0.01;
        if dir == Direction::Tx {
            records.push(record(&decoder, mask, dir, segment, t));
            continue;
        }
        let mut at = 0;
        while at < segment.len() {
            let left = &segment[at..];
            let n = match decoder.split(left) {
                Split::Frame(n) | Split::Skip(n) => {
                    assert!(
                        n > 0 && n <= left.len(),
                        "split {n} of {} bytes",
                        left.len()
                    );
                    n
                }
                Split::NeedMore => left.len(),
            };
            records.push(record(&decoder, mask, dir, &left[..n], t));
            at += n;
        }
        assert_eq!(at, segment.len());
    }

    let lines = records.len() + 1;
    let trace = Trace {
        header: TraceHeader {
            trace: "pqe-meter-trace".into(),
            version: 1,
            scheme: if hdlc { "dlms+serial" } else { "dlms+tcp" }.into(),
            uri: "dlms+tcp://127.0.0.1:4059".into(),
            start: "2026-12-07T00:00:00Z".into(),
            line: None,
        },
        records: records
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 2, r))
            .collect(),
    };
    let analysis = DlmsAnalyser { hdlc }.analyse(&trace);
    let findings = analysis
        .findings
        .iter()
        .chain(analysis.exchanges.iter().flat_map(|e| e.findings.iter()));
    for f in findings {
        assert!(
            f.line >= 1 && f.line <= lines,
            "finding on line {} of {lines}",
            f.line
        );
    }
});
