//! IEC 62056-21 messages in traces; the password of P1/P2 commands (and their
//! BCC, which would give away the XOR of its characters) is masked.

use crate::message::{self, Incoming, ACK, EOT, ETX, NAK, SOH, STX};
use pqe_link::{Decoded, Direction, FrameDecoder, Split};

/// Cuts and decodes IEC 62056-21 messages.
pub struct IecDecoder;

fn printable(b: &[u8]) -> String {
    b.iter()
        .map(|&c| match c {
            b'\r' => "<CR>".to_string(),
            b'\n' => "<LF>".to_string(),
            STX => "<STX>".to_string(),
            ETX => "<ETX>".to_string(),
            EOT => "<EOT>".to_string(),
            SOH => "<SOH>".to_string(),
            0x20..=0x7e => (c as char).to_string(),
            _ => format!("<{c:02x}>"),
        })
        .collect()
}

/// Byte range of a P1/P2 password inside a command message, BCC included.
pub fn password_range(f: &[u8]) -> Option<std::ops::Range<usize>> {
    if f.len() >= 4 && f[0] == SOH && f[1] == b'P' && matches!(f[2], b'1' | b'2') {
        Some(4..f.len())
    } else {
        None
    }
}

impl FrameDecoder for IecDecoder {
    fn split(&self, bytes: &[u8]) -> Split {
        match message::split(bytes) {
            Ok(Some((n, _))) => Split::Frame(n),
            Ok(None) => Split::NeedMore,
            Err(n) => Split::Skip(n),
        }
    }

    fn decode(&self, dir: Direction, f: &[u8]) -> Decoded {
        if let Some(r) = password_range(f) {
            return Decoded {
                text: format!("password command P{} (masked)", f[2] as char),
                redact: vec![r],
            };
        }
        let text = match f {
            [b'/', b'?', ..] => format!("sign-on request {}", printable(f)),
            [ACK, b'0'..=b'9', z, y, b'\r', b'\n'] => {
                let what = match y {
                    b'0' => "data readout",
                    b'1' => "programming mode",
                    b'2' => "binary mode (HDLC)",
                    _ => "manufacturer option",
                };
                format!("option select: {what}, baud character '{}'", *z as char)
            }
            [ACK] => "ACK".into(),
            [NAK] => "NAK".into(),
            [b'/', ..] => match message::parse_identification(f) {
                Ok(id) => format!("identification {id}"),
                Err(e) => format!("bad identification {}: {e}", printable(f)),
            },
            _ => match message::split(f) {
                Ok(Some((
                    _,
                    Incoming::Block {
                        start,
                        body,
                        end,
                        bcc_ok,
                    },
                ))) => {
                    let kind = match (dir, start, end) {
                        (_, SOH, _) => "command",
                        (_, _, EOT) => "partial block",
                        _ => "data",
                    };
                    let bcc = if bcc_ok { "" } else { " (BCC wrong)" };
                    let mut shown = printable(&body);
                    if shown.len() > 200 {
                        let cut = (0..=200)
                            .rev()
                            .find(|&i| shown.is_char_boundary(i))
                            .unwrap_or(0);
                        shown = format!("{}… ({} bytes)", &shown[..cut], body.len());
                    }
                    format!("{kind} {shown}{bcc}")
                }
                _ => format!("incomplete or unknown message {}", printable(f)),
            },
        };
        Decoded::text(text)
    }
}
