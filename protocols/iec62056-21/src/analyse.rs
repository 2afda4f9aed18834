//! The IEC 62056-21 communication analyser: message formats (§6.3), the BCC,
//! the order of the mode C flow (§6.4.4), and the timing of §6.3.14: the
//! meter's reaction time tr (200 ms or, with a lower-case third manufacturer
//! letter, 20 ms, up to 1500 ms) and the inter-character time ta ≤ 1500 ms.
//!
//! Times in a trace are when a write returned and when bytes were read; the
//! reaction time is therefore bounded from both sides: at most "answer start −
//! request write end" (the bytes may still have been on the wire) and at least
//! that minus the request's time on the wire at the line's baud rate. A
//! deviation is reported only when the bound that favours the meter breaks the limit.

use crate::message::{self, Incoming, EOT, ETX, SOH, STX};
use pqe_link::analyse::line_settings_at;
use pqe_link::{Analysis, AnalysisBuilder, ProtocolAnalyser, Trace};

const STD: &str = "IEC 62056-21:2002";

/// Analyses `iec62056-21` and `iec62056-21+tcp` traces.
pub struct IecAnalyser;

impl ProtocolAnalyser for IecAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        let lines = line_settings_at(trace);
        let mut short_reaction = false;
        let mut binary = false;
        // (line, t, t_end, bytes) of the last sent message.
        let mut last_tx: Option<(usize, f64, f64, usize)> = None;
        let mut awaiting_ident = false;
        for (i, (line, r)) in trace.records.iter().enumerate() {
            if r.dir == "event" {
                if r.decoded.contains("hand-over to HDLC") {
                    binary = true;
                }
                continue;
            }
            if binary {
                continue; // HDLC from here on: the DLMS analyser's business
            }
            let bytes = match r.bytes() {
                Ok(v) => v,
                Err(_) => continue,
            };
            let masked = bytes.iter().any(Option::is_none);
            let plain: Vec<u8> = bytes.iter().map(|b| b.unwrap_or(0)).collect();
            if r.dir == "tx" {
                last_tx = Some((*line, r.t, r.t_end.unwrap_or(r.t), plain.len()));
                if plain.starts_with(b"/?") {
                    awaiting_ident = true;
                    let address = plain
                        .strip_prefix(b"/?")
                        .and_then(|x| x.strip_suffix(b"!\r\n"));
                    let valid = address
                        .and_then(|a| std::str::from_utf8(a).ok())
                        .is_some_and(|a| message::sign_on(a).is_ok());
                    if !valid {
                        b.deviation(
                            *line,
                            &format!("{STD} §6.3.1"),
                            "sign-on is not /?ADDRESS!CRLF with a valid address",
                        );
                    }
                }
                if masked {
                    b.note(
                        *line,
                        &format!("{STD} §6.3.6"),
                        "password masked in the trace: its BCC is not checked",
                    );
                    continue;
                }
                if let Ok(Some((_, Incoming::Block { bcc_ok: false, .. }))) = message::split(&plain)
                {
                    b.deviation(
                        *line,
                        &format!("{STD} §6.3"),
                        "BCC of the sent message is wrong",
                    );
                }
                continue;
            }
            // Received. An identification announces its own reaction time (a
            // lower-case third letter: 20 ms), which applies to it already.
            if let Ok(Some((_, Incoming::Identification(m)))) = message::split(&plain) {
                if let Ok(id) = message::parse_identification(&m) {
                    short_reaction = id.short_reaction();
                }
            }
            if let Some((tx_line, t0, t_end, n)) = last_tx.take() {
                let wire = lines[i]
                    .map(|l| l.char_time().as_secs_f64() * n as f64)
                    .unwrap_or(0.0);
                let _ = t0;
                let upper = r.t - t_end;
                let lower = upper - wire;
                let min = if short_reaction { 0.020 } else { 0.200 };
                if upper < min {
                    b.deviation(*line, &format!("{STD} §6.3.14"), format!(
                        "the meter answered {:.1} ms after the request (line {tx_line}); tr must be at least {:.0} ms",
                        upper * 1e3, min * 1e3));
                }
                if lower > 1.5 {
                    b.deviation(*line, &format!("{STD} §6.3.14"), format!(
                        "the meter answered {:.1} ms after the request (line {tx_line}); tr is at most 1500 ms", lower * 1e3));
                }
            }
            if let Some(g) = r.max_gap_ms {
                if g > 1500.0 {
                    b.deviation(
                        *line,
                        &format!("{STD} §6.3.14"),
                        format!("{g:.0} ms between two characters; ta is at most 1500 ms"),
                    );
                }
            }
            match message::split(&plain) {
                Ok(Some((n, msg))) => {
                    if n != plain.len() {
                        b.deviation(
                            *line,
                            &format!("{STD} §6.3"),
                            format!("{} bytes after the end of the message", plain.len() - n),
                        );
                    }
                    match msg {
                        Incoming::Identification(m) => {
                            if !awaiting_ident {
                                b.deviation(
                                    *line,
                                    &format!("{STD} §6.4"),
                                    "an identification without a sign-on before it",
                                );
                            }
                            awaiting_ident = false;
                            match message::parse_identification(&m) {
                                Ok(id) => short_reaction = id.short_reaction(),
                                Err(e) => b.deviation(*line, &format!("{STD} §6.3.2"), e),
                            }
                        }
                        Incoming::Block {
                            start,
                            body,
                            end,
                            bcc_ok,
                        } => {
                            if !bcc_ok {
                                b.deviation(*line, &format!("{STD} §6.3"), "BCC is wrong");
                            }
                            if start == STX && end == ETX {
                                let all_digits = body.iter().all(|c| {
                                    c.is_ascii_graphic() || matches!(c, b'\r' | b'\n' | b' ')
                                });
                                if !all_digits {
                                    b.deviation(
                                        *line,
                                        &format!("{STD} §6.5"),
                                        "a data message holds non-printable characters",
                                    );
                                } else if let Err(e) = message::parse_data_sets(&body) {
                                    // A partial readout (blocks joined elsewhere) may end mid-line; judge whole ones only.
                                    if body.ends_with(b"!\r\n") || !body.contains(&b'!') {
                                        b.deviation(*line, &format!("{STD} §6.5"), e);
                                    }
                                }
                            }
                            if start == SOH && end == EOT {
                                b.deviation(
                                    *line,
                                    &format!("{STD} §6.3"),
                                    "a command message cannot be a partial block",
                                );
                            }
                        }
                        Incoming::Ack | Incoming::Nak => {}
                    }
                }
                Ok(None) => b.deviation(
                    *line,
                    &format!("{STD} §6.3"),
                    "incomplete message (the meter stopped before its end)",
                ),
                Err(_) => b.deviation(*line, &format!("{STD} §6.3"), "bytes that start no message"),
            }
        }
        if awaiting_ident {
            if let Some((l, ..)) = trace
                .records
                .iter()
                .rev()
                .find(|(_, r)| r.dir == "tx" && r.hex.starts_with("2f 3f"))
            {
                b.deviation(
                    *l,
                    &format!("{STD} §6.4"),
                    "no identification after the sign-on",
                );
            }
        }
        b.finish()
    }
}
