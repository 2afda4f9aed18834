//! Frame cutting and decoding of Modbus traffic for traces.

use crate::frame::{self, Request};
use pqe_link::{Decoded, Direction, FrameDecoder, Split};

/// Decodes a request or response PDU to text without knowing the pair.
pub fn describe_pdu(dir: Direction, pdu: &[u8]) -> String {
    if dir == Direction::Tx {
        return match Request::from_pdu(pdu) {
            Ok(r) => r.to_string(),
            Err(e) => format!("bad request: {e}"),
        };
    }
    match pdu {
        [fc, code] if fc & 0x80 != 0 => {
            format!("FC{:02X} {}", fc & 0x7f, crate::frame::ExceptionCode(*code))
        }
        [fc @ (3 | 4), n, rest @ ..] if rest.len() == *n as usize && n % 2 == 0 => {
            let regs: Vec<String> = rest
                .chunks(2)
                .map(|c| format!("{:04x}", u16::from_be_bytes([c[0], c[1]])))
                .collect();
            format!("FC{fc:02X} registers [{}]", regs.join(" "))
        }
        [fc @ (6 | 16), a0, a1, v0, v1] => {
            format!(
                "FC{fc:02X} written {} {}",
                u16::from_be_bytes([*a0, *a1]),
                u16::from_be_bytes([*v0, *v1])
            )
        }
        _ => format!("undecodable PDU of {} bytes", pdu.len()),
    }
}

/// Modbus RTU frames in traces.
pub struct RtuDecoder;

impl FrameDecoder for RtuDecoder {
    fn split(&self, bytes: &[u8]) -> Split {
        match frame::rtu_response_len(bytes) {
            Ok(Some(n)) if bytes.len() >= n => Split::Frame(n),
            _ => Split::NeedMore,
        }
    }

    fn decode(&self, dir: Direction, f: &[u8]) -> Decoded {
        Decoded::text(match frame::rtu_decode(f) {
            Ok((unit, pdu)) => format!("unit {unit} {}", describe_pdu(dir, pdu)),
            Err(e) => e,
        })
    }
}

/// Modbus TCP frames in traces.
pub struct TcpDecoder;

impl FrameDecoder for TcpDecoder {
    fn split(&self, bytes: &[u8]) -> Split {
        match frame::tcp_adu_len(bytes) {
            Ok(Some(n)) if bytes.len() >= n => Split::Frame(n),
            _ => Split::NeedMore,
        }
    }

    fn decode(&self, dir: Direction, f: &[u8]) -> Decoded {
        Decoded::text(match frame::mbap_decode(f) {
            Ok(h) if f.len() == 6 + h.length as usize => {
                format!(
                    "transaction {} unit {} {}",
                    h.transaction,
                    h.unit,
                    describe_pdu(dir, &f[7..])
                )
            }
            Ok(h) => format!(
                "MBAP length {} but {} bytes follow it",
                h.length,
                f.len().saturating_sub(6)
            ),
            Err(e) => e,
        })
    }
}
