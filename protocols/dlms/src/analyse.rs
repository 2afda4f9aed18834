//! Trace support for DLMS/COSEM: the frame splitter/decoder the trace recorder uses (the
//! LLS password masked), and the communication analyser that judges a recorded trace
//! frame by frame against IEC 62056-46 (HDLC), IEC 62056-47 (wrapper) and IEC 62056-5-3
//! (APDUs, invoke-ids, block numbers).

use crate::acse::{Aare, Aarq, Mechanism};
use crate::hdlc::{Control, Frame, HdlcParameters, FLAG, LLC_COMMAND, LLC_RESPONSE};
use crate::xdlms::{tag, ExceptionResponse, GetRequest, GetResponse};
use pqe_link::{
    Analysis, AnalysisBuilder, Decoded, Direction, FrameDecoder, ProtocolAnalyser, Split, Trace,
};
use std::ops::Range;

const HDLC: &str = "IEC 62056-46 (HDLC frame format type 3)";
const HDLC_SEQ: &str = "IEC 62056-46 (N(S)/N(R) sequence numbers)";
const HDLC_LLC: &str = "IEC 62056-46 (LLC sub-layer header)";
const HDLC_PARAM: &str = "IEC 62056-46 (SNRM/UA parameter negotiation)";
const WRAPPER: &str = "IEC 62056-47 (wrapper header)";
const ACSE: &str = "IEC 62056-5-3 (ACSE APDUs, BER)";
const XDLMS: &str = "IEC 62056-5-3 (xDLMS APDUs)";
const INVOKE: &str = "IEC 62056-5-3 (invoke-id-and-priority)";
const BLOCK: &str = "IEC 62056-5-3 (GET with block transfer)";
const INTER_OCTET: &str = "IEC 62056-6-2 IEC HDLC setup inter_octet_time_out (default 25 ms)";

/// The byte range of the LLS password (calling-authentication-value) in an AARQ, unless
/// the AARQ names a high level mechanism (whose value is a challenge, not a secret).
pub fn aarq_password_range(apdu: &[u8]) -> Option<Range<usize>> {
    if apdu.first() != Some(&Aarq::TAG) {
        return None;
    }
    let mut i = 1;
    let len_len = |b: u8| {
        if b < 0x80 {
            1
        } else {
            1 + usize::from(b & 0x7F)
        }
    };
    let read_len = |i: usize| -> Option<(usize, usize)> {
        let b = *apdu.get(i)?;
        if b < 0x80 {
            return Some((usize::from(b), 1));
        }
        let n = usize::from(b & 0x7F);
        if n == 0 || n > 2 {
            return None;
        }
        let v = apdu
            .get(i + 1..i + 1 + n)?
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        Some((v, 1 + n))
    };
    let (_, l) = read_len(i)?;
    i += l;
    let mut high = false;
    while i < apdu.len() {
        let t = apdu[i];
        let (n, l) = read_len(i + 1)?;
        let start = i + 1 + l;
        if t == 0x8B {
            high = apdu
                .get(start + n - 1)
                .is_some_and(|&m| m >= Mechanism::HighAes.id());
        }
        if t == 0xAC && !high {
            // [12] { [0] GraphicString }: inner tag 0x80, then the password.
            if apdu.get(start) != Some(&0x80) {
                return None;
            }
            let (pn, pl) = read_len(start + 1)?;
            let _ = len_len(apdu[start + 1]);
            let from = start + 1 + pl;
            return Some(from..(from + pn).min(apdu.len()));
        }
        i = start + n;
    }
    None
}

/// A one-line description of an APDU (never its secret content).
pub fn describe_apdu(apdu: &[u8]) -> String {
    let Some(&t) = apdu.first() else {
        return "empty APDU".into();
    };
    match t {
        0x60 => match Aarq::decode(apdu) {
            Ok(a) => format!(
                "AARQ {:?} mechanism {}{}",
                a.context,
                a.mechanism.id(),
                if a.authentication_value.is_some() {
                    " with authentication value"
                } else {
                    ""
                }
            ),
            Err(e) => format!("AARQ (undecodable: {e})"),
        },
        0x61 => match Aare::decode(apdu) {
            Ok(a) => format!(
                "AARE {:?} {} ({})",
                a.context,
                a.result_name(),
                a.diagnostic_name()
            ),
            Err(e) => format!("AARE (undecodable: {e})"),
        },
        0x62 => "RLRQ".into(),
        0x63 => "RLRE".into(),
        tag::GET_REQUEST => match GetRequest::decode(apdu) {
            Ok(GetRequest::Normal {
                invoke, descriptor, ..
            }) => format!("Get-Request-Normal invoke {} {descriptor}", invoke & 0x0F),
            Ok(GetRequest::Next { invoke, block }) => {
                format!("Get-Request-Next invoke {} block {block}", invoke & 0x0F)
            }
            Ok(GetRequest::WithList { invoke, items }) => format!(
                "Get-Request-With-List invoke {} {} items",
                invoke & 0x0F,
                items.len()
            ),
            Err(e) => format!("Get-Request (undecodable: {e})"),
        },
        tag::GET_RESPONSE => match GetResponse::decode(apdu) {
            Ok(GetResponse::Normal { invoke, result }) => format!(
                "Get-Response-Normal invoke {}: {}",
                invoke & 0x0F,
                match result {
                    Ok(d) => format!("{} {}", d.type_name(), short(&d.to_string())),
                    Err(c) => crate::xdlms::data_access_result_name(c),
                }
            ),
            Ok(GetResponse::Block {
                invoke,
                last,
                block,
                raw,
            }) => format!(
                "Get-Response-With-Datablock invoke {} block {block}{}: {}",
                invoke & 0x0F,
                if last { " (last)" } else { "" },
                match raw {
                    Ok(b) => format!("{} bytes", b.len()),
                    Err(c) => crate::xdlms::data_access_result_name(c),
                }
            ),
            Ok(GetResponse::WithList { invoke, results }) => format!(
                "Get-Response-With-List invoke {} {} results",
                invoke & 0x0F,
                results.len()
            ),
            Err(e) => format!("Get-Response (undecodable: {e})"),
        },
        tag::SET_REQUEST => "Set-Request".into(),
        tag::SET_RESPONSE => "Set-Response".into(),
        tag::ACTION_REQUEST => "Action-Request".into(),
        tag::ACTION_RESPONSE => "Action-Response".into(),
        tag::EXCEPTION_RESPONSE => match ExceptionResponse::decode(apdu) {
            Ok(e) => e.to_string(),
            Err(e) => format!("exception-response (undecodable: {e})"),
        },
        0xC8..=0xCF | 0x21 | 0x28 | 0xDB => {
            format!("ciphered APDU (tag 0x{t:02X}, {} bytes)", apdu.len())
        }
        _ => format!("APDU tag 0x{t:02X}"),
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Splits and decodes DLMS frames for traces (HDLC or wrapper).
#[derive(Debug, Clone, Copy)]
pub struct DlmsFrameDecoder {
    /// HDLC framing (else the wrapper).
    pub hdlc: bool,
}

impl FrameDecoder for DlmsFrameDecoder {
    fn split(&self, b: &[u8]) -> Split {
        if self.hdlc {
            match b.iter().position(|&x| x == FLAG) {
                None => return Split::Skip(b.len()),
                Some(p) if p > 0 => return Split::Skip(p),
                Some(_) => {}
            }
            let flags = b.iter().take_while(|&&x| x == FLAG).count();
            if flags == b.len() {
                return Split::NeedMore;
            }
            if flags > 1 {
                return Split::Skip(flags - 1);
            }
            if b.len() < 3 {
                return Split::NeedMore;
            }
            let format = u16::from_be_bytes([b[1], b[2]]);
            if format >> 12 != 0xA {
                return Split::Skip(1);
            }
            let n = usize::from(format & 0x7FF) + 2;
            if b.len() < n {
                Split::NeedMore
            } else if b[n - 1] == FLAG {
                Split::Frame(n)
            } else {
                Split::Skip(1)
            }
        } else {
            if b.len() < 8 {
                return Split::NeedMore;
            }
            let n = 8 + usize::from(u16::from_be_bytes([b[6], b[7]]));
            if b.len() < n {
                Split::NeedMore
            } else {
                Split::Frame(n)
            }
        }
    }

    fn decode(&self, dir: Direction, frame: &[u8]) -> Decoded {
        let (text, apdu_at) = if self.hdlc {
            if frame.len() < 2 || frame[0] != FLAG || frame[frame.len() - 1] != FLAG {
                return Decoded::text("HDLC: bytes outside any frame");
            }
            match Frame::decode_body(&frame[1..frame.len() - 1]) {
                Ok(f) => {
                    let info_at = frame.len() - 3 - f.info.len();
                    let first_segment =
                        f.info.starts_with(&LLC_COMMAND) || f.info.starts_with(&LLC_RESPONSE);
                    let apdu = if first_segment {
                        Some(info_at + 3)
                    } else {
                        None
                    };
                    let mut t = format!(
                        "HDLC {}{}",
                        f.control.name(),
                        if f.segmented { " (segment)" } else { "" }
                    );
                    if let Some(a) = apdu {
                        t.push(' ');
                        t.push_str(&describe_apdu(&frame[a..frame.len() - 3]));
                    } else if !f.info.is_empty() {
                        t.push_str(&format!(" {} information bytes", f.info.len()));
                    }
                    (t, apdu.map(|a| (a, frame.len() - 3)))
                }
                Err(e) => (format!("HDLC frame error: {e}"), None),
            }
        } else if frame.len() >= 8 {
            let src = u16::from_be_bytes([frame[2], frame[3]]);
            let dst = u16::from_be_bytes([frame[4], frame[5]]);
            (
                format!("wrapper {src}→{dst} {}", describe_apdu(&frame[8..])),
                Some((8, frame.len())),
            )
        } else {
            return Decoded::text("wrapper: incomplete header");
        };
        let mut redact = Vec::new();
        if dir == Direction::Tx {
            if let Some((a, end)) = apdu_at {
                if let Some(r) = aarq_password_range(&frame[a..end]) {
                    redact.push(a + r.start..a + r.end);
                }
            }
        }
        Decoded { text, redact }
    }
}

/// The DLMS communication analyser.
#[derive(Debug, Clone, Copy)]
pub struct DlmsAnalyser {
    /// HDLC framing (else the wrapper).
    pub hdlc: bool,
}

#[derive(Default)]
struct State {
    client: Option<(u16, Option<u16>)>,
    server: Option<(u16, Option<u16>)>,
    // Counts of I-frames sent by each side (mod 8) = the N(S) expected next.
    client_ns: u8,
    server_ns: u8,
    connected: bool,
    snrm_pending: Option<usize>,
    apdu_rx: Vec<u8>,
    apdu_tx: Vec<u8>,
    invoke: Option<u8>,
    next_block: Option<u32>,
    tx_pending: Option<usize>,
}

impl ProtocolAnalyser for DlmsAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        let mut s = State::default();
        let serial = trace.header.line.is_some();
        for (line, r) in &trace.records {
            let line = *line;
            let tx = match r.dir.as_str() {
                "tx" => true,
                "rx" => false,
                _ => continue,
            };
            let bytes = match r.bytes() {
                Ok(v) => v,
                Err(e) => {
                    b.deviation(line, "trace", format!("unreadable bytes: {e}"));
                    continue;
                }
            };
            let masked = bytes.iter().any(Option::is_none);
            let plain: Vec<u8> = bytes.iter().map(|x| x.unwrap_or(0)).collect();
            if !tx {
                if let Some(gap) = r.max_gap_ms {
                    if serial && self.hdlc && gap > 25.0 {
                        b.deviation(
                            line,
                            INTER_OCTET,
                            format!("{gap} ms silence inside the frame"),
                        );
                    }
                }
                s.tx_pending = None;
            } else if let Some(prev) = s.tx_pending.replace(line) {
                b.deviation(prev, XDLMS, "request not answered before the next one");
            }
            if self.hdlc {
                self.hdlc_record(&mut b, &mut s, line, tx, &plain, masked);
            } else {
                self.wrapper_record(&mut b, &mut s, line, tx, &plain);
            }
        }
        if let Some(l) = s.tx_pending {
            b.deviation(l, XDLMS, "the last frame sent was never answered");
        }
        b.finish()
    }
}

impl DlmsAnalyser {
    fn hdlc_record(
        &self,
        b: &mut AnalysisBuilder,
        s: &mut State,
        line: usize,
        tx: bool,
        bytes: &[u8],
        masked: bool,
    ) {
        if bytes.len() < 2 || bytes[0] != FLAG || bytes[bytes.len() - 1] != FLAG {
            b.deviation(line, HDLC, "bytes outside a flag-delimited frame");
            return;
        }
        let body = &bytes[1..bytes.len() - 1];
        let f = match Frame::decode_body(body) {
            Ok(f) => f,
            Err(_) if masked => {
                b.note(
                    line,
                    HDLC,
                    "password masked in the trace: HCS/FCS of this frame not checked",
                );
                match Frame::decode_unchecked(body) {
                    Some(f) => f,
                    None => return,
                }
            }
            Err(e) => {
                b.deviation(line, HDLC, e.to_string());
                return;
            }
        };
        let (me, peer) = if tx {
            (f.source, f.destination)
        } else {
            (f.destination, f.source)
        };
        let client = (me.upper, me.lower);
        let server = (peer.upper, peer.lower);
        match (s.client, s.server) {
            (None, _) => {
                s.client = Some(client);
                s.server = Some(server);
            }
            (Some(c), Some(sv)) if c != client || sv != server => {
                b.deviation(
                    line,
                    HDLC,
                    format!(
                        "addresses client {:?} / server {:?} differ from the session's {:?} / {:?}",
                        client, server, c, sv
                    ),
                );
            }
            _ => {}
        }
        match (tx, f.control) {
            (true, Control::Snrm { .. }) => {
                s.snrm_pending = Some(line);
                s.client_ns = 0;
                s.server_ns = 0;
                if let Err(e) = HdlcParameters::decode(&f.info) {
                    b.deviation(line, HDLC_PARAM, e.to_string());
                }
            }
            (false, Control::Ua { .. }) if s.snrm_pending.is_some() => {
                s.snrm_pending = None;
                s.connected = true;
                match HdlcParameters::decode(&f.info) {
                    Ok(n) => {
                        for note in n.notes {
                            b.deviation(line, HDLC_PARAM, note);
                        }
                    }
                    Err(e) => b.deviation(line, HDLC_PARAM, e.to_string()),
                }
            }
            (_, Control::I { ns, nr, .. }) => {
                let (expect_ns, expect_nr) = if tx {
                    (s.client_ns, s.server_ns)
                } else {
                    (s.server_ns, s.client_ns)
                };
                let who = if tx { "client" } else { "meter" };
                if !s.connected {
                    b.deviation(
                        line,
                        HDLC_SEQ,
                        format!("I-frame from the {who} before the link was set up (SNRM/UA)"),
                    );
                }
                if ns != expect_ns {
                    b.deviation(
                        line,
                        HDLC_SEQ,
                        format!("{who} I-frame N(S)={ns}, {expect_ns} expected"),
                    );
                }
                if !tx && nr != expect_nr {
                    b.deviation(line, HDLC_SEQ, format!("meter I-frame N(R)={nr}, {expect_nr} expected (acknowledges the client's I-frames)"));
                }
                if tx {
                    s.client_ns = (ns + 1) & 7;
                } else {
                    s.server_ns = (ns + 1) & 7;
                }
                let buf = if tx { &mut s.apdu_tx } else { &mut s.apdu_rx };
                if buf.is_empty() {
                    let llc = if tx { LLC_COMMAND } else { LLC_RESPONSE };
                    if !f.info.starts_with(&llc) {
                        b.deviation(
                            line,
                            HDLC_LLC,
                            format!(
                                "information field starts {:02X?}, LLC header {llc:02X?} expected",
                                &f.info[..f.info.len().min(3)]
                            ),
                        );
                        return;
                    }
                    buf.extend_from_slice(&f.info[3..]);
                } else {
                    buf.extend_from_slice(&f.info);
                }
                if !f.segmented {
                    let apdu = std::mem::take(buf);
                    if !masked {
                        self.apdu(b, s, line, tx, &apdu);
                    }
                }
            }
            (false, Control::Rr { nr, .. }) if nr != s.client_ns => {
                b.deviation(
                    line,
                    HDLC_SEQ,
                    format!("meter RR N(R)={nr}, {} expected", s.client_ns),
                );
            }
            (false, Control::Dm { .. }) => {
                b.note(line, HDLC, "the meter answered DM (disconnected mode)")
            }
            (false, Control::Frmr { .. }) => {
                b.deviation(line, HDLC, "the meter rejected a frame (FRMR)")
            }
            (true, Control::Disc { .. }) => s.connected = false,
            (false, Control::Ua { .. }) => {}
            (_, c) if !tx && matches!(c, Control::Snrm { .. } | Control::Disc { .. }) => {
                b.deviation(
                    line,
                    HDLC,
                    format!("the meter sent the command {}", c.name()),
                );
            }
            _ => {}
        }
    }

    fn wrapper_record(
        &self,
        b: &mut AnalysisBuilder,
        s: &mut State,
        line: usize,
        tx: bool,
        bytes: &[u8],
    ) {
        if bytes.len() < 8 {
            b.deviation(
                line,
                WRAPPER,
                format!("{} bytes, shorter than the 8-byte header", bytes.len()),
            );
            return;
        }
        let version = u16::from_be_bytes([bytes[0], bytes[1]]);
        if version != 1 {
            b.deviation(
                line,
                WRAPPER,
                format!("version 0x{version:04X}, 0x0001 expected"),
            );
        }
        let len = usize::from(u16::from_be_bytes([bytes[6], bytes[7]]));
        if len != bytes.len() - 8 {
            b.deviation(
                line,
                WRAPPER,
                format!("length field {len}, {} APDU bytes follow", bytes.len() - 8),
            );
        }
        let src = u16::from_be_bytes([bytes[2], bytes[3]]);
        let dst = u16::from_be_bytes([bytes[4], bytes[5]]);
        let (client, server) = if tx { (src, dst) } else { (dst, src) };
        match (s.client, s.server) {
            (None, _) => {
                s.client = Some((client, None));
                s.server = Some((server, None));
            }
            (Some(c), Some(sv)) if c.0 != client || sv.0 != server => {
                b.deviation(line, WRAPPER, format!("wPorts client {client} / server {server} differ from the session's {} / {}", c.0, sv.0));
            }
            _ => {}
        }
        self.apdu(b, s, line, tx, &bytes[8..]);
    }

    fn apdu(&self, b: &mut AnalysisBuilder, s: &mut State, line: usize, tx: bool, apdu: &[u8]) {
        let Some(&t) = apdu.first() else {
            b.deviation(line, XDLMS, "empty APDU");
            return;
        };
        if tx {
            match t {
                0x60 => {
                    if let Err(e) = Aarq::decode(apdu) {
                        b.deviation(line, ACSE, e.to_string());
                    }
                }
                tag::GET_REQUEST => match GetRequest::decode(apdu) {
                    Ok(GetRequest::Next { invoke, block }) => {
                        s.invoke = Some(invoke & 0x0F);
                        s.next_block = Some(block + 1);
                    }
                    Ok(GetRequest::Normal { invoke, .. } | GetRequest::WithList { invoke, .. }) => {
                        s.invoke = Some(invoke & 0x0F);
                        s.next_block = Some(1);
                    }
                    Err(e) => b.deviation(line, XDLMS, e.to_string()),
                },
                tag::SET_REQUEST | tag::ACTION_REQUEST => s.invoke = apdu.get(2).map(|i| i & 0x0F),
                _ => {}
            }
            return;
        }
        match t {
            0x61 => match Aare::decode(apdu) {
                Ok(a) => {
                    for n in &a.notes {
                        b.deviation(line, ACSE, n.clone());
                    }
                    if a.result != 0 {
                        b.note(
                            line,
                            ACSE,
                            format!(
                                "association refused: {} ({})",
                                a.result_name(),
                                a.diagnostic_name()
                            ),
                        );
                    }
                }
                Err(e) => b.deviation(line, ACSE, e.to_string()),
            },
            0x63 => {
                if let Err(e) = crate::acse::Rlre::decode(apdu) {
                    b.deviation(line, ACSE, e.to_string());
                }
            }
            tag::GET_RESPONSE => match GetResponse::decode(apdu) {
                Ok(g) => {
                    if let Some(i) = s.invoke {
                        if g.invoke() & 0x0F != i {
                            b.deviation(
                                line,
                                INVOKE,
                                format!(
                                    "response invoke-id {}, request had {i}",
                                    g.invoke() & 0x0F
                                ),
                            );
                        }
                    }
                    if let GetResponse::Block { block, .. } = g {
                        if let Some(n) = s.next_block {
                            if block != n {
                                b.deviation(
                                    line,
                                    BLOCK,
                                    format!("block {block} where block {n} was due"),
                                );
                            }
                        }
                    }
                }
                Err(e) => b.deviation(line, XDLMS, e.to_string()),
            },
            tag::SET_RESPONSE | tag::ACTION_RESPONSE => {
                if let (Some(i), Some(got)) = (s.invoke, apdu.get(2)) {
                    if got & 0x0F != i {
                        b.deviation(
                            line,
                            INVOKE,
                            format!("response invoke-id {}, request had {i}", got & 0x0F),
                        );
                    }
                }
            }
            tag::EXCEPTION_RESPONSE => match ExceptionResponse::decode(apdu) {
                Ok(e) => b.note(line, XDLMS, e.to_string()),
                Err(e) => b.deviation(line, XDLMS, e.to_string()),
            },
            0xC8..=0xCF | 0x28 | 0xDB => b.note(
                line,
                XDLMS,
                "ciphered APDU: content not checked (no keys in a trace)",
            ),
            _ => b.deviation(
                line,
                XDLMS,
                format!("APDU tag 0x{t:02X} is not a response this client expects"),
            ),
        }
    }
}
