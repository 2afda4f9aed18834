//! M-Bus link-layer frames (EN 13757-2, clause 5 "Data link layer", which takes the
//! frame formats of IEC 60870-5-2 class FT 1.2).
//!
//! Four formats exist:
//! - the single character `E5h` (acknowledgement),
//! - the short frame `10h C A CS 16h`,
//! - the control frame `68h L L 68h C A CI CS 16h` (a long frame with L = 3),
//! - the long frame `68h L L 68h C A CI data… CS 16h` with 3 ≤ L ≤ 255.
//!
//! The check sum CS is the arithmetic sum modulo 256 of the bytes from C to the last
//! user-data byte; L counts the bytes from C to the last user-data byte (C, A, CI and data).

use std::fmt;

/// The acknowledgement single character (EN 13757-2 clause 5.2).
pub const ACK: u8 = 0xE5;
/// Start byte of a short frame.
pub const SHORT_START: u8 = 0x10;
/// Start byte of control and long frames.
pub const LONG_START: u8 = 0x68;
/// Stop byte of short, control and long frames.
pub const STOP: u8 = 0x16;

/// C-field values (EN 13757-2 clause 5.5, table "Function codes of the C-field").
pub mod control {
    /// SND_NKE: initialise the slave (resets its FCB expectation).
    pub const SND_NKE: u8 = 0x40;
    /// SND_UD: send user data to the slave (FCB clear; `| FCB` to set it).
    pub const SND_UD: u8 = 0x53;
    /// REQ_UD2: request class 2 data (FCB clear; `| FCB` to set it).
    pub const REQ_UD2: u8 = 0x5B;
    /// REQ_UD1: request class 1 (alarm) data.
    pub const REQ_UD1: u8 = 0x5A;
    /// RSP_UD: response with user data from the slave.
    pub const RSP_UD: u8 = 0x08;
    /// Frame count bit (master to slave).
    pub const FCB: u8 = 0x20;
    /// Frame count valid bit (master to slave).
    pub const FCV: u8 = 0x10;
    /// Primary message bit: set in every master-to-slave C-field.
    pub const PRM: u8 = 0x40;
    /// Access demand bit (slave to master).
    pub const ACD: u8 = 0x20;
    /// Data flow control bit (slave to master).
    pub const DFC: u8 = 0x10;
}

/// Address field values (EN 13757-2 clause 5.6).
pub mod address {
    /// Unconfigured slave.
    pub const UNCONFIGURED: u8 = 0;
    /// Highest primary address.
    pub const PRIMARY_MAX: u8 = 250;
    /// Network layer (secondary addressing) address.
    pub const NETWORK_LAYER: u8 = 253;
    /// Broadcast, the slaves answer (only with a single slave on the bus).
    pub const BROADCAST_REPLY: u8 = 254;
    /// Broadcast, no slave answers.
    pub const BROADCAST_NO_REPLY: u8 = 255;
}

/// CI-field values used by the master and in responses (EN 13757-3 clause 5, table
/// "CI-field codes").
pub mod ci {
    /// Application reset.
    pub const APPLICATION_RESET: u8 = 0x50;
    /// Data send (master to slave).
    pub const DATA_SEND: u8 = 0x51;
    /// Selection of a slave (secondary addressing).
    pub const SELECT: u8 = 0x52;
    /// Variable data respond, LSB first (long header).
    pub const RESPONSE_VARIABLE: u8 = 0x72;
    /// Fixed data respond, LSB first.
    pub const RESPONSE_FIXED: u8 = 0x73;
    /// Variable data respond, MSB first.
    pub const RESPONSE_VARIABLE_MSB: u8 = 0x76;
    /// Fixed data respond, MSB first.
    pub const RESPONSE_FIXED_MSB: u8 = 0x77;
}

/// One M-Bus link-layer frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The single character `E5h`.
    Ack,
    /// A short frame: C and A fields.
    Short { control: u8, address: u8 },
    /// A control frame (long frame without user data): C, A, CI.
    Control { control: u8, address: u8, ci: u8 },
    /// A long frame: C, A, CI and the user data.
    Long {
        control: u8,
        address: u8,
        ci: u8,
        data: Vec<u8>,
    },
}

/// Why bytes are not a valid frame. `offset` is the byte offset, from the frame's first
/// byte, of the byte at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// More bytes are needed (at least `needed` bytes in all).
    #[error("incomplete frame: {have} bytes, at least {needed} needed")]
    Incomplete { have: usize, needed: usize },
    /// The first byte is none of E5h, 10h, 68h.
    #[error("byte {offset}: {byte:#04x} is no frame start (E5h, 10h or 68h)")]
    BadStart { offset: usize, byte: u8 },
    /// The two length bytes of a long frame differ.
    #[error("byte {offset}: length fields differ ({first} and {second})")]
    LengthMismatch {
        offset: usize,
        first: u8,
        second: u8,
    },
    /// The length field is below 3 (C, A and CI are mandatory).
    #[error("byte {offset}: length field {length} is below 3")]
    LengthTooShort { offset: usize, length: u8 },
    /// The second start byte of a long frame is not 68h.
    #[error("byte {offset}: second start byte is {byte:#04x}, 0x68 expected")]
    BadSecondStart { offset: usize, byte: u8 },
    /// The check sum is wrong.
    #[error("byte {offset}: check sum {found:#04x}, computed {computed:#04x}")]
    Checksum {
        offset: usize,
        found: u8,
        computed: u8,
    },
    /// The stop byte is not 16h.
    #[error("byte {offset}: stop byte is {byte:#04x}, 0x16 expected")]
    BadStop { offset: usize, byte: u8 },
}

impl FrameError {
    /// The byte offset (from the frame's first byte) at fault, if any.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            FrameError::Incomplete { .. } => None,
            FrameError::BadStart { offset, .. }
            | FrameError::LengthMismatch { offset, .. }
            | FrameError::LengthTooShort { offset, .. }
            | FrameError::BadSecondStart { offset, .. }
            | FrameError::Checksum { offset, .. }
            | FrameError::BadStop { offset, .. } => Some(offset),
        }
    }
}

/// The arithmetic check sum of EN 13757-2 clause 5.3 (sum modulo 256).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b))
}

impl Frame {
    /// Parse one frame at the start of `bytes`; returns the frame and the number of bytes
    /// it took. Bytes after the frame are left alone.
    pub fn parse(bytes: &[u8]) -> Result<(Frame, usize), FrameError> {
        let need = |needed: usize| FrameError::Incomplete {
            have: bytes.len(),
            needed,
        };
        let first = *bytes.first().ok_or(need(1))?;
        match first {
            ACK => Ok((Frame::Ack, 1)),
            SHORT_START => {
                if bytes.len() < 5 {
                    return Err(need(5));
                }
                let computed = checksum(&bytes[1..3]);
                if bytes[3] != computed {
                    return Err(FrameError::Checksum {
                        offset: 3,
                        found: bytes[3],
                        computed,
                    });
                }
                if bytes[4] != STOP {
                    return Err(FrameError::BadStop {
                        offset: 4,
                        byte: bytes[4],
                    });
                }
                Ok((
                    Frame::Short {
                        control: bytes[1],
                        address: bytes[2],
                    },
                    5,
                ))
            }
            LONG_START => {
                if bytes.len() < 4 {
                    return Err(need(4));
                }
                let (l1, l2) = (bytes[1], bytes[2]);
                if l1 != l2 {
                    return Err(FrameError::LengthMismatch {
                        offset: 2,
                        first: l1,
                        second: l2,
                    });
                }
                if l1 < 3 {
                    return Err(FrameError::LengthTooShort {
                        offset: 1,
                        length: l1,
                    });
                }
                if bytes[3] != LONG_START {
                    return Err(FrameError::BadSecondStart {
                        offset: 3,
                        byte: bytes[3],
                    });
                }
                let total = l1 as usize + 6;
                if bytes.len() < total {
                    return Err(need(total));
                }
                let body = &bytes[4..4 + l1 as usize];
                let cs_at = 4 + l1 as usize;
                let computed = checksum(body);
                if bytes[cs_at] != computed {
                    return Err(FrameError::Checksum {
                        offset: cs_at,
                        found: bytes[cs_at],
                        computed,
                    });
                }
                if bytes[cs_at + 1] != STOP {
                    return Err(FrameError::BadStop {
                        offset: cs_at + 1,
                        byte: bytes[cs_at + 1],
                    });
                }
                let (control, address, ci) = (body[0], body[1], body[2]);
                let frame = if l1 == 3 {
                    Frame::Control {
                        control,
                        address,
                        ci,
                    }
                } else {
                    Frame::Long {
                        control,
                        address,
                        ci,
                        data: body[3..].to_vec(),
                    }
                };
                Ok((frame, total))
            }
            byte => Err(FrameError::BadStart { offset: 0, byte }),
        }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Ack => vec![ACK],
            Frame::Short { control, address } => vec![
                SHORT_START,
                *control,
                *address,
                control.wrapping_add(*address),
                STOP,
            ],
            Frame::Control {
                control,
                address,
                ci,
            } => Self::encode_long(*control, *address, *ci, &[]),
            Frame::Long {
                control,
                address,
                ci,
                data,
            } => Self::encode_long(*control, *address, *ci, data),
        }
    }

    fn encode_long(control: u8, address: u8, ci: u8, data: &[u8]) -> Vec<u8> {
        // L is one byte: callers keep user data ≤ 252 bytes (EN 13757-2 clause 5.2).
        let l = (3 + data.len()).min(255) as u8;
        let data = &data[..l as usize - 3];
        let mut out = Vec::with_capacity(l as usize + 6);
        out.extend_from_slice(&[LONG_START, l, l, LONG_START, control, address, ci]);
        out.extend_from_slice(data);
        out.push(checksum(&out[4..]));
        out.push(STOP);
        out
    }

    /// The C-field (none for the single character).
    pub fn control(&self) -> Option<u8> {
        match self {
            Frame::Ack => None,
            Frame::Short { control, .. }
            | Frame::Control { control, .. }
            | Frame::Long { control, .. } => Some(*control),
        }
    }

    /// The A-field (none for the single character).
    pub fn address(&self) -> Option<u8> {
        match self {
            Frame::Ack => None,
            Frame::Short { address, .. }
            | Frame::Control { address, .. }
            | Frame::Long { address, .. } => Some(*address),
        }
    }

    /// The CI-field of control and long frames.
    pub fn ci(&self) -> Option<u8> {
        match self {
            Frame::Control { ci, .. } | Frame::Long { ci, .. } => Some(*ci),
            _ => None,
        }
    }

    /// The user data of a long frame (empty otherwise).
    pub fn data(&self) -> &[u8] {
        match self {
            Frame::Long { data, .. } => data,
            _ => &[],
        }
    }

    /// True for frames a master sends (PRM bit set in the C-field).
    pub fn is_from_master(&self) -> bool {
        self.control().is_some_and(|c| c & control::PRM != 0)
    }

    /// A short name of the function, e.g. `REQ_UD2` or `RSP_UD`.
    pub fn function_name(&self) -> &'static str {
        let Some(c) = self.control() else {
            return "ACK";
        };
        if c & control::PRM != 0 {
            match c & 0x4F {
                0x40 => "SND_NKE",
                0x43 => "SND_UD",
                0x4B => "REQ_UD2",
                0x4A => "REQ_UD1",
                _ => "unknown master function",
            }
        } else {
            match c & 0x0F {
                0x08 => "RSP_UD",
                _ => "unknown slave function",
            }
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Ack => write!(f, "ACK (E5h)"),
            Frame::Short { control, address } => write!(
                f,
                "short frame {} C={control:#04x} A={address}",
                self.function_name()
            ),
            Frame::Control {
                control,
                address,
                ci,
            } => write!(
                f,
                "control frame {} C={control:#04x} A={address} CI={ci:#04x}",
                self.function_name()
            ),
            Frame::Long {
                control,
                address,
                ci,
                data,
            } => write!(
                f,
                "long frame {} C={control:#04x} A={address} CI={ci:#04x}, {} data bytes",
                self.function_name(),
                data.len()
            ),
        }
    }
}

/// A frame found in a byte stream, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedFrame {
    /// Offset of the frame's first byte in the stream.
    pub offset: u64,
    /// The raw bytes.
    pub raw: Vec<u8>,
    /// The frame, or why the bytes are no valid frame.
    pub frame: Result<Frame, FrameError>,
}

/// Splits one direction of a byte stream into frames (sans-IO: push bytes, pull frames).
///
/// Bad bytes are reported, not dropped silently: a frame with a bad check sum or stop
/// byte is returned as an error with its raw bytes; bytes that start no frame are
/// collected into one error entry each run (`BadStart`) before resynchronising.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    consumed: u64,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held that form no complete frame yet.
    pub fn pending(&self) -> &[u8] {
        &self.buffer
    }

    /// The next frame (or bad run of bytes), or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<LocatedFrame> {
        if self.buffer.is_empty() {
            return None;
        }
        match Frame::parse(&self.buffer) {
            Ok((frame, n)) => Some(self.take(n, Ok(frame))),
            Err(FrameError::Incomplete { .. }) => None,
            Err(e @ FrameError::BadStart { .. }) => {
                // Skip to the next possible start byte.
                let n = self
                    .buffer
                    .iter()
                    .skip(1)
                    .position(|b| matches!(*b, ACK | SHORT_START | LONG_START))
                    .map_or(self.buffer.len(), |p| p + 1);
                Some(self.take(n, Err(e)))
            }
            Err(e) => {
                // A structurally bad frame: take what its header claims when that is
                // known (check sum or stop byte wrong), else one byte, then resynchronise.
                let n = match e {
                    FrameError::Checksum { offset, .. } => offset + 2,
                    FrameError::BadStop { offset, .. } => offset + 1,
                    _ => 1,
                };
                Some(self.take(n.min(self.buffer.len()), Err(e)))
            }
        }
    }

    /// At the end of the stream: whatever is left is an incomplete frame.
    pub fn finish(&mut self) -> Option<LocatedFrame> {
        if self.buffer.is_empty() {
            return None;
        }
        let err = match Frame::parse(&self.buffer) {
            Err(e) => e,
            Ok(_) => return self.next_frame(),
        };
        let n = self.buffer.len();
        Some(self.take(n, Err(err)))
    }

    fn take(&mut self, n: usize, frame: Result<Frame, FrameError>) -> LocatedFrame {
        let raw: Vec<u8> = self.buffer.drain(..n).collect();
        let offset = self.consumed;
        self.consumed += n as u64;
        LocatedFrame { offset, raw, frame }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_frame_round_trip() {
        // SND_NKE to primary address 5: 10 40 05 45 16.
        let f = Frame::Short {
            control: control::SND_NKE,
            address: 5,
        };
        assert_eq!(f.encode(), vec![0x10, 0x40, 0x05, 0x45, 0x16]);
        assert_eq!(Frame::parse(&f.encode()).unwrap(), (f, 5));
    }

    #[test]
    fn errors_name_the_byte() {
        let bad = [0x10, 0x40, 0x05, 0x46, 0x16];
        assert_eq!(
            Frame::parse(&bad).unwrap_err(),
            FrameError::Checksum {
                offset: 3,
                found: 0x46,
                computed: 0x45
            }
        );
        let mut long = Frame::Long {
            control: 8,
            address: 1,
            ci: 0x72,
            data: vec![1, 2, 3],
        }
        .encode();
        long[2] = 7;
        assert_eq!(Frame::parse(&long).unwrap_err().offset(), Some(2));
        let mut long2 = Frame::Control {
            control: 0x53,
            address: 0xFD,
            ci: 0x52,
        }
        .encode();
        let last = long2.len() - 1;
        long2[last] = 0x17;
        assert_eq!(Frame::parse(&long2).unwrap_err().offset(), Some(last));
        assert!(matches!(
            Frame::parse(&long2[..5]),
            Err(FrameError::Incomplete { needed: 9, .. })
        ));
    }

    #[test]
    fn decoder_resynchronises_and_reports_garbage() {
        let mut d = FrameDecoder::new();
        d.push(&[0x00, 0x01, 0xE5, 0x10, 0x5B, 0x01]);
        let g = d.next_frame().unwrap();
        assert_eq!(g.offset, 0);
        assert_eq!(g.raw, vec![0, 1]);
        assert!(g.frame.is_err());
        let a = d.next_frame().unwrap();
        assert_eq!((a.offset, a.frame), (2, Ok(Frame::Ack)));
        assert!(d.next_frame().is_none());
        d.push(&[0x5C, 0x16]);
        let s = d.next_frame().unwrap();
        assert_eq!(s.offset, 3);
        assert_eq!(s.frame.unwrap().function_name(), "REQ_UD2");
    }
}
