//! The Modbus communication analyser: every frame's checksum, length,
//! addressing and function code, the pairing of requests and answers
//! (transaction ids on TCP), and on RTU the character timing of Modbus over
//! Serial Line V1.02 §2.5.1.1 (t1.5 inside a frame, t3.5 between frames).

use crate::client::{t15, t35};
use crate::frame::{self, Request};
use pqe_link::analyse::line_settings_at;
use pqe_link::{Analysis, AnalysisBuilder, LineSettings, ProtocolAnalyser, Trace};

const RTU: &str = "Modbus over Serial Line V1.02";
const MAP: &str = "Modbus Application Protocol V1.1b3";
const TCP: &str = "Modbus Messaging on TCP/IP Implementation Guide V1.0b";

/// Analyses `modbus-rtu` traces.
pub struct RtuAnalyser;
/// Analyses `modbus-tcp` traces.
pub struct TcpAnalyser;

fn check_response(b: &mut AnalysisBuilder, line: usize, req: Option<&Request>, pdu: &[u8]) {
    let Some(req) = req else {
        b.deviation(
            line,
            &format!("{MAP} §4.1"),
            "an answer with no request before it",
        );
        return;
    };
    match frame::parse_response(req, pdu) {
        Ok(frame::Response::Exception(code)) => b.note(
            line,
            &format!("{MAP} §7"),
            format!("the meter answered {req} with {code}"),
        ),
        Ok(_) => {}
        Err(e) => b.deviation(line, &format!("{MAP} §6"), e),
    }
}

impl ProtocolAnalyser for RtuAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        let lines = line_settings_at(trace);
        let mut pending: Option<(usize, u8, Request)> = None;
        let mut last_end: Option<f64> = None;
        for (i, (line, r)) in trace.records.iter().enumerate() {
            if r.dir == "event" {
                continue;
            }
            let ls = lines[i].unwrap_or(LineSettings::new_8n1(9600));
            let Some(bytes) = r.plain_bytes() else {
                b.note(*line, "trace", "masked bytes: not checked");
                continue;
            };
            // Silence before each request (§2.5.1.1: frames are separated by at least
            // t3.5). Only before requests: a trace stamps a sent frame when the write
            // returns, before its bytes are on the wire, so the silence before an
            // answer cannot be measured from the client's side.
            if let (Some(end), "tx") = (last_end, r.dir.as_str()) {
                let gap = r.t - end;
                if gap < t35(&ls).as_secs_f64() {
                    b.deviation(
                        *line,
                        &format!("{RTU} §2.5.1.1"),
                        format!(
                            "{:.3} ms of silence before this frame, t3.5 at {ls} is {:.3} ms",
                            gap * 1e3,
                            t35(&ls).as_secs_f64() * 1e3
                        ),
                    );
                }
            }
            last_end = Some(r.t_end.unwrap_or(r.t));
            if let Some(g) = r.max_gap_ms {
                if g / 1e3 > t15(&ls).as_secs_f64() {
                    b.deviation(*line, &format!("{RTU} §2.5.1.1"), format!(
                        "{g:.3} ms between two characters of the frame, more than t1.5 = {:.3} ms at {ls} (the frame must be discarded)",
                        t15(&ls).as_secs_f64() * 1e3));
                }
            }
            let (unit, pdu) = match frame::rtu_decode(&bytes) {
                Ok(x) => x,
                Err(e) => {
                    b.deviation(*line, &format!("{RTU} §2.5.1.2"), e);
                    if r.dir == "tx" {
                        pending = None;
                    }
                    continue;
                }
            };
            if r.dir == "tx" {
                if let Some((l, _, req)) = pending.take() {
                    b.deviation(
                        l,
                        &format!("{RTU} §2.4.1"),
                        format!("no answer to {req} before the next request"),
                    );
                }
                match Request::from_pdu(pdu) {
                    Ok(req) => {
                        if unit > 247 {
                            b.deviation(
                                *line,
                                &format!("{RTU} §2.2"),
                                format!("unit address {unit} is reserved (1..247, 0 broadcast)"),
                            );
                        }
                        if unit != 0 {
                            pending = Some((*line, unit, req));
                        }
                    }
                    Err(e) => b.deviation(*line, &format!("{MAP} §6"), e),
                }
            } else {
                match pending.take() {
                    Some((_, u, req)) => {
                        if unit != u {
                            b.deviation(
                                *line,
                                &format!("{RTU} §2.2"),
                                format!("answer from unit {unit} to a request to unit {u}"),
                            );
                        }
                        check_response(&mut b, *line, Some(&req), pdu);
                    }
                    None => check_response(&mut b, *line, None, pdu),
                }
            }
        }
        if let Some((l, _, req)) = pending {
            b.deviation(l, &format!("{RTU} §2.4.1"), format!("no answer to {req}"));
        }
        b.finish()
    }
}

impl ProtocolAnalyser for TcpAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        // Requests sent and not answered, by transaction id.
        let mut open: Vec<(usize, u16, u8, Request)> = Vec::new();
        for (line, r) in &trace.records {
            if r.dir == "event" {
                continue;
            }
            let Some(bytes) = r.plain_bytes() else {
                b.note(*line, "trace", "masked bytes: not checked");
                continue;
            };
            let h = match frame::mbap_decode(&bytes) {
                Ok(h) => h,
                Err(e) => {
                    b.deviation(*line, &format!("{TCP} §3.1.3"), e);
                    continue;
                }
            };
            if bytes.len() != 6 + h.length as usize {
                b.deviation(
                    *line,
                    &format!("{TCP} §3.1.3"),
                    format!(
                        "MBAP length {} but {} bytes follow the length field",
                        h.length,
                        bytes.len() - 6
                    ),
                );
                continue;
            }
            let pdu = &bytes[7..];
            if r.dir == "tx" {
                if open.iter().any(|o| o.1 == h.transaction) {
                    b.deviation(
                        *line,
                        &format!("{TCP} §3.1.3"),
                        format!(
                            "transaction id {} reused while its request is unanswered",
                            h.transaction
                        ),
                    );
                }
                match Request::from_pdu(pdu) {
                    Ok(req) => open.push((*line, h.transaction, h.unit, req)),
                    Err(e) => b.deviation(*line, &format!("{MAP} §6"), e),
                }
            } else {
                match open.iter().position(|o| o.1 == h.transaction) {
                    Some(k) => {
                        let (req_line, _, unit, req) = open.remove(k);
                        if open.iter().any(|o| o.0 > req_line) {
                            b.note(*line, &format!("{TCP} §4.2"), format!(
                                "answer to transaction {} arrived after a later request was sent (stale)", h.transaction));
                        }
                        if h.unit != unit {
                            b.deviation(
                                *line,
                                &format!("{TCP} §3.1.3"),
                                format!("unit identifier {} answers a request to {unit}", h.unit),
                            );
                        }
                        check_response(&mut b, *line, Some(&req), pdu);
                    }
                    None => b.deviation(
                        *line,
                        &format!("{TCP} §3.1.3"),
                        format!("transaction id {} matches no request sent", h.transaction),
                    ),
                }
            }
        }
        for (l, t, _, req) in open {
            b.deviation(
                l,
                &format!("{TCP} §4.2"),
                format!("no answer to {req} (transaction {t})"),
            );
        }
        b.finish()
    }
}
