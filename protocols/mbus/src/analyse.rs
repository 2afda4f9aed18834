//! Communication analysis of an M-Bus exchange, sans-IO: frames as recorded (time stamps,
//! direction, bytes) in; per frame its decoding and the deviations from EN 13757-2/-3 out.
//!
//! Checked: every frame's structure (start, length fields, check sum, stop byte — the
//! finding names the byte); that slaves answer only what was asked (E5h to SND_NKE and to
//! SND_UD, RSP_UD to REQ_UD2, nothing to a broadcast without reply, the answer's address
//! equal to the primary address asked); the FCB sequence of REQ_UD2 (toggled for each new
//! telegram after a complete answer, kept for a repetition); the CI-field and the data
//! structure of each RSP_UD; and the response window: the answer's first byte no earlier
//! than 11 bit times and no later than 330 bit times + 50 ms after the request's last byte.

use crate::data::{self, UserData};
use crate::frame::{address, control, Frame, FrameDecoder};
use crate::timing;

/// Clause names used in findings.
pub const LINK: &str = "EN 13757-2 link layer";
pub const FRAMES: &str = "EN 13757-2 frame formats (FT 1.2)";
pub const TIMING: &str = "EN 13757-2 link layer timing";
pub const APP: &str = "EN 13757-3";

/// One recorded chunk of bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Where it came from in the trace (a line number), echoed in findings.
    pub line: usize,
    /// Seconds: when the first byte was sent or received.
    pub t: f64,
    /// Seconds: when the last byte was sent or received, if known.
    pub t_end: Option<f64>,
    /// True for bytes the master sent.
    pub from_master: bool,
    pub bytes: Vec<u8>,
}

/// A deviation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    pub line: usize,
    pub clause: String,
    pub message: String,
}

/// A frame found in the recording, with its decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysedFrame {
    pub line: usize,
    /// Offset of the frame in its recorded chunk.
    pub offset: u64,
    pub from_master: bool,
    pub text: String,
}

/// The analysis: frames and deviations (an empty list of deviations is a pass).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MbusAnalysis {
    pub frames: Vec<AnalysedFrame>,
    pub deviations: Vec<Deviation>,
}

struct Pending {
    line: usize,
    frame: Frame,
    /// When the request's last byte was on the wire (estimated).
    end: f64,
    answered: bool,
}

/// Analyse a recording at `baud` (8E1).
pub fn analyse(records: &[Recorded], baud: u32) -> MbusAnalysis {
    let mut out = MbusAnalysis::default();
    let dev = |line: usize, clause: &str, message: String| Deviation {
        line,
        clause: clause.to_string(),
        message,
    };
    let mut pending: Option<Pending> = None;
    // FCB bookkeeping per primary address: (last FCB, was the last REQ_UD2 answered?).
    let mut fcb: std::collections::HashMap<u8, (bool, bool)> = Default::default();
    for r in records {
        let mut dec = FrameDecoder::new();
        dec.push(&r.bytes);
        let mut frames = Vec::new();
        while let Some(f) = dec.next_frame() {
            frames.push(f);
        }
        while let Some(f) = dec.finish() {
            frames.push(f);
        }
        for (i, lf) in frames.iter().enumerate() {
            let frame = match &lf.frame {
                Ok(f) => f.clone(),
                Err(e) => {
                    out.deviations.push(dev(
                        r.line,
                        FRAMES,
                        format!(
                            "byte {} of this record: {e}",
                            lf.offset + e.offset().unwrap_or(0) as u64
                        ),
                    ));
                    out.frames.push(AnalysedFrame {
                        line: r.line,
                        offset: lf.offset,
                        from_master: r.from_master,
                        text: format!("invalid frame: {e}"),
                    });
                    continue;
                }
            };
            out.frames.push(AnalysedFrame {
                line: r.line,
                offset: lf.offset,
                from_master: r.from_master,
                text: frame.to_string(),
            });
            if r.from_master {
                if !frame.is_from_master() {
                    out.deviations.push(dev(
                        r.line,
                        LINK,
                        format!("{frame}: the master sent a frame without the PRM bit"),
                    ));
                }
                if let Some(p) = &pending {
                    if !p.answered && expects_answer(&p.frame) {
                        out.deviations.push(dev(
                            p.line,
                            LINK,
                            format!("{}: no answer before the next request", p.frame),
                        ));
                    }
                }
                // FCB sequence of REQ_UD2 with FCV set.
                if let Frame::Short {
                    control: c,
                    address: a,
                } = frame
                {
                    if c & 0x4F == 0x4B && c & control::FCV != 0 {
                        let bit = c & control::FCB != 0;
                        if let Some((last, answered)) = fcb.get(&a).copied() {
                            if answered && bit == last {
                                out.deviations.push(dev(r.line, LINK, format!(
                                    "REQ_UD2 to {a}: FCB {} not toggled after a complete answer (the slave repeats its last telegram)",
                                    bit as u8
                                )));
                            }
                            if !answered && bit != last {
                                out.deviations.push(dev(r.line, LINK, format!(
                                    "REQ_UD2 to {a}: FCB toggled in the repetition of an unanswered request"
                                )));
                            }
                        }
                        fcb.insert(a, (bit, false));
                    }
                    if c & 0x4F == control::SND_NKE {
                        fcb.remove(&a);
                    }
                }
                let send_time = timing::chars(baud, r.bytes.len() as u32).as_secs_f64();
                pending = Some(Pending {
                    line: r.line,
                    frame,
                    end: r.t + send_time,
                    answered: false,
                });
                continue;
            }
            // From a slave.
            let Some(p) = pending.as_mut() else {
                out.deviations.push(dev(
                    r.line,
                    LINK,
                    format!("{frame}: an answer without a request"),
                ));
                continue;
            };
            if p.answered {
                out.deviations.push(dev(
                    r.line,
                    LINK,
                    format!(
                        "{frame}: a second answer to {} (collision or repeated answer)",
                        p.frame
                    ),
                ));
                continue;
            }
            p.answered = true;
            if i == 0 {
                let gap = r.t - p.end;
                let min = timing::response_min(baud).as_secs_f64();
                let max = timing::response_max(baud).as_secs_f64();
                if gap < min {
                    out.deviations.push(dev(r.line, TIMING, format!(
                        "answer {:.2} ms after the request's last byte, the slave must wait at least 11 bit times ({:.2} ms at {baud} Bd)",
                        gap * 1e3, min * 1e3
                    )));
                } else if gap > max {
                    out.deviations.push(dev(r.line, TIMING, format!(
                        "answer {:.1} ms after the request's last byte, later than 330 bit times + 50 ms ({:.1} ms at {baud} Bd)",
                        gap * 1e3, max * 1e3
                    )));
                }
            }
            check_answer(&p.frame, &frame, r.line, &mut out.deviations);
            if let (
                Frame::Short {
                    control: c,
                    address: a,
                },
                Frame::Long { .. },
            ) = (&p.frame, &frame)
            {
                if c & 0x4F == 0x4B {
                    if let Some(e) = fcb.get_mut(a) {
                        e.1 = true;
                    }
                }
            }
        }
    }
    if let Some(p) = &pending {
        if !p.answered && expects_answer(&p.frame) {
            out.deviations
                .push(dev(p.line, LINK, format!("{}: no answer", p.frame)));
        }
    }
    out
}

fn expects_answer(f: &Frame) -> bool {
    match f.address() {
        Some(address::BROADCAST_NO_REPLY) => false,
        // SND_NKE to 253 deselects: slaves need not answer.
        Some(address::NETWORK_LAYER) if f.control().map(|c| c & 0x4F) == Some(control::SND_NKE) => {
            false
        }
        _ => true,
    }
}

fn check_answer(req: &Frame, ans: &Frame, line: usize, devs: &mut Vec<Deviation>) {
    let mut d = |clause: &str, message: String| {
        devs.push(Deviation {
            line,
            clause: clause.into(),
            message,
        })
    };
    if !expects_answer(req) && req.address() == Some(address::BROADCAST_NO_REPLY) {
        d(
            LINK,
            format!("{ans}: a slave answered a broadcast without reply (address 255)"),
        );
        return;
    }
    let rc = req.control().unwrap_or(0) & 0x4F;
    match rc {
        0x40 | 0x43 if *ans != Frame::Ack => {
            d(
                LINK,
                format!(
                    "{ans}: {} expects the single character E5h",
                    req.function_name()
                ),
            );
        }
        0x4B | 0x4A => match ans {
            Frame::Long {
                control: c,
                address: a,
                ci,
                data: bytes,
            } => {
                if c & 0x4F != control::RSP_UD {
                    d(LINK, format!("C-field {c:#04x}: RSP_UD (x8h) expected"));
                }
                if let Some(ra) = req.address() {
                    if ra <= address::PRIMARY_MAX && *a != ra {
                        d(
                            LINK,
                            format!("answer from address {a} to a request to {ra}"),
                        );
                    }
                }
                match data::decode(*ci, bytes) {
                    Ok(UserData::Variable(_)) | Ok(UserData::Fixed(_)) => {}
                    Err(e) => d(APP, format!("user data: {e}")),
                }
            }
            other => d(
                LINK,
                format!("{other}: REQ_UD2 expects RSP_UD (a long frame)"),
            ),
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: usize, t: f64, from_master: bool, bytes: Vec<u8>) -> Recorded {
        Recorded {
            line,
            t,
            t_end: None,
            from_master,
            bytes,
        }
    }

    fn rsp(addr: u8) -> Vec<u8> {
        let mut data = vec![0x78, 0x56, 0x34, 0x12, 0x42, 0x04, 0x01, 0x02, 1, 0, 0, 0];
        data.extend_from_slice(&[0x04, 0x03, 0x10, 0x00, 0x00, 0x00]);
        Frame::Long {
            control: 8,
            address: addr,
            ci: 0x72,
            data,
        }
        .encode()
    }

    #[test]
    fn a_clean_exchange_passes() {
        let r = vec![
            rec(2, 0.0, true, vec![0x10, 0x40, 5, 0x45, 0x16]),
            rec(3, 0.05, false, vec![0xE5]),
            rec(4, 0.2, true, vec![0x10, 0x7B, 5, 0x80, 0x16]),
            rec(5, 0.25, false, rsp(5)),
            rec(6, 0.5, true, vec![0x10, 0x5B, 5, 0x60, 0x16]),
            rec(7, 0.55, false, rsp(5)),
        ];
        let a = analyse(&r, 2400);
        assert!(a.deviations.is_empty(), "{:?}", a.deviations);
        assert_eq!(a.frames.len(), 6);
    }

    #[test]
    fn each_fault_is_named() {
        let mut bad_cs = rsp(5);
        let n = bad_cs.len();
        bad_cs[n - 2] ^= 1;
        let r = vec![
            rec(2, 0.0, true, vec![0x10, 0x7B, 5, 0x80, 0x16]),
            rec(3, 0.5, false, rsp(6)), // late and from the wrong address
            rec(4, 1.0, true, vec![0x10, 0x7B, 5, 0x80, 0x16]), // FCB not toggled
            rec(5, 1.002, false, bad_cs), // too early and a bad check sum
            rec(6, 2.0, true, vec![0x10, 0x40, 0xFF, 0x3F, 0x16]),
            rec(7, 2.05, false, vec![0xE5]), // answer to a broadcast
        ];
        let a = analyse(&r, 2400);
        let msgs: Vec<String> = a
            .deviations
            .iter()
            .map(|d| format!("{} {}", d.line, d.message))
            .collect();
        let has = |line: usize, s: &str| {
            a.deviations
                .iter()
                .any(|d| d.line == line && d.message.contains(s))
        };
        assert!(has(3, "later than 330 bit times"), "{msgs:?}");
        assert!(has(3, "answer from address 6"), "{msgs:?}");
        assert!(has(4, "not toggled"), "{msgs:?}");
        assert!(has(5, "check sum"), "{msgs:?}");
        assert!(has(7, "broadcast without reply"), "{msgs:?}");
    }
}
