//! SML transport protocol version 1 (BSI TR-03109-1 Anlage IV "SML – Smart Message
//! Language" v1.04, chapter 8 "SML-Transport-Protokoll"; the FNN/EDL21 push interface).
//!
//! A frame is `1B1B1B1B 01010101` (escape + begin), the escaped message bytes, padding
//! (0–3 bytes 00h so the frame length is a multiple of 4), then `1B1B1B1B 1A pp c1 c2`
//! (escape + end, the padding count `pp` and the CRC-16 over every byte from the first
//! escape up to and including `pp`). Four 1Bh bytes inside the messages are sent twice.
//!
//! The CRC is CRC-16/X-25 (polynomial 1021h reflected, init FFFFh, xorout FFFFh) sent
//! low byte first; some meters use CRC-16/KERMIT (init 0000h, no xorout) sent high byte
//! first. The decoder accepts the kinds it is told to.

use crc::{Crc, CRC_16_IBM_SDLC, CRC_16_KERMIT};

/// CRC-16/X-25 (= CRC-16/IBM-SDLC in the CRC catalogue; check value 906Eh).
pub const X25: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_SDLC);
/// CRC-16/KERMIT (check value 2189h).
pub const KERMIT: Crc<u16> = Crc::<u16>::new(&CRC_16_KERMIT);

const ESCAPE: [u8; 4] = [0x1B; 4];
const BEGIN: [u8; 4] = [0x01; 4];
const START: [u8; 8] = [0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x01, 0x01, 0x01];

/// Which CRC a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcKind {
    X25,
    Kermit,
}

impl CrcKind {
    /// The two CRC bytes as sent, for `bytes`.
    pub fn wire_bytes(self, bytes: &[u8]) -> [u8; 2] {
        match self {
            CrcKind::X25 => X25.checksum(bytes).to_le_bytes(),
            CrcKind::Kermit => KERMIT.checksum(bytes).to_be_bytes(),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            CrcKind::X25 => "CRC-16/X-25",
            CrcKind::Kermit => "CRC-16/KERMIT",
        }
    }
}

/// Which CRC kinds the decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrcMode {
    /// X.25 only (the SML specification).
    X25,
    /// Kermit only.
    Kermit,
    /// Either; the frame says which matched.
    #[default]
    Either,
}

/// Build a transport v1 frame around message bytes (escaping, padding, CRC).
pub fn encode(messages: &[u8], crc: CrcKind) -> Vec<u8> {
    let mut out = START.to_vec();
    let mut i = 0;
    while i < messages.len() {
        if messages[i..].starts_with(&ESCAPE) {
            out.extend_from_slice(&ESCAPE);
            out.extend_from_slice(&ESCAPE);
            i += 4;
        } else {
            out.push(messages[i]);
            i += 1;
        }
    }
    let padding = (4 - out.len() % 4) % 4;
    out.extend(std::iter::repeat_n(0u8, padding));
    out.extend_from_slice(&ESCAPE);
    out.push(0x1A);
    out.push(padding as u8);
    let c = crc.wire_bytes(&out);
    out.extend_from_slice(&c);
    out
}

/// A complete, checked transport frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFrame {
    /// Offset of the frame's first escape byte in the stream.
    pub offset: u64,
    /// The frame as received.
    pub raw: Vec<u8>,
    /// The message bytes: unescaped, padding removed.
    pub messages: Vec<u8>,
    pub padding: u8,
    pub crc: CrcKind,
}

/// What went wrong with a run of bytes; `offset` is the stream offset of the byte at
/// fault, `len` how many bytes the entry covers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("bytes {offset}..{}: no SML start sequence (1B1B1B1B 01010101), skipped", offset + len)]
    Garbage { offset: u64, len: u64 },
    #[error("byte {offset}: CRC {found:02X?} matches neither accepted CRC (X-25 would be {x25:02X?}, Kermit {kermit:02X?})")]
    Crc {
        offset: u64,
        found: [u8; 2],
        x25: [u8; 2],
        kermit: [u8; 2],
    },
    #[error("byte {offset}: padding count {padding} above 3")]
    Padding { offset: u64, padding: u8 },
    #[error("byte {offset}: frame length {len} is not a multiple of 4")]
    Alignment { offset: u64, len: u64 },
    #[error("byte {offset}: unknown escape sequence 1B1B1B1B {seq:02X?}")]
    UnknownEscape { offset: u64, seq: [u8; 4] },
    #[error("byte {offset}: a new frame starts before this one ended ({len} bytes dropped)")]
    Restarted { offset: u64, len: u64 },
    #[error("byte {offset}: stream ended inside a frame ({len} bytes)")]
    Incomplete { offset: u64, len: u64 },
}

/// One event of the transport decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    Frame(TransportFrame),
    Error(TransportError),
}

/// Splits a byte stream into transport frames (sans-IO: push bytes, pull events).
/// Nothing is dropped silently: skipped bytes and bad frames come out as errors.
#[derive(Debug)]
pub struct TransportDecoder {
    mode: CrcMode,
    buffer: Vec<u8>,
    /// Stream offset of `buffer[0]`.
    base: u64,
}

impl TransportDecoder {
    /// Frames longer than this are dropped as errors (a meter telegram is a few hundred
    /// bytes; this bounds memory on a line that never ends a frame).
    pub const MAX_FRAME: usize = 64 * 1024;

    pub fn new(mode: CrcMode) -> Self {
        Self {
            mode,
            buffer: Vec::new(),
            base: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn drop_front(&mut self, n: usize) {
        self.buffer.drain(..n);
        self.base += n as u64;
    }

    /// The next frame or error, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<TransportEvent> {
        // Find the start sequence.
        let start = find(&self.buffer, &START, 0);
        match start {
            None => {
                // Keep a tail that may be the beginning of a start sequence.
                let keep = (1..START.len())
                    .rev()
                    .find(|k| self.buffer.len() >= *k && self.buffer.ends_with(&START[..*k]))
                    .unwrap_or(0);
                let garbage = self.buffer.len() - keep;
                if garbage > 0 && (keep == 0 || garbage >= 64) {
                    let offset = self.base;
                    self.drop_front(garbage);
                    return Some(TransportEvent::Error(TransportError::Garbage {
                        offset,
                        len: garbage as u64,
                    }));
                }
                return None;
            }
            Some(s) if s > 0 => {
                let offset = self.base;
                self.drop_front(s);
                return Some(TransportEvent::Error(TransportError::Garbage {
                    offset,
                    len: s as u64,
                }));
            }
            Some(_) => {}
        }
        // buffer starts with START: walk the escaped body.
        let mut messages = Vec::new();
        let mut p = START.len();
        loop {
            if p >= Self::MAX_FRAME {
                let offset = self.base;
                self.drop_front(p);
                return Some(TransportEvent::Error(TransportError::Incomplete {
                    offset,
                    len: p as u64,
                }));
            }
            if self.buffer.len() < p + 4 {
                return None;
            }
            if self.buffer[p..p + 4] != ESCAPE {
                messages.push(self.buffer[p]);
                p += 1;
                continue;
            }
            if self.buffer.len() < p + 8 {
                return None;
            }
            let seq = [
                self.buffer[p + 4],
                self.buffer[p + 5],
                self.buffer[p + 6],
                self.buffer[p + 7],
            ];
            if seq == ESCAPE {
                messages.extend_from_slice(&ESCAPE);
                p += 8;
                continue;
            }
            if seq == BEGIN {
                let offset = self.base;
                self.drop_front(p);
                return Some(TransportEvent::Error(TransportError::Restarted {
                    offset,
                    len: p as u64,
                }));
            }
            if seq[0] == 0x1A {
                let end = p + 8;
                let raw: Vec<u8> = self.buffer[..end].to_vec();
                let offset = self.base;
                self.drop_front(end);
                return Some(self.check(offset, raw, messages, seq[1]));
            }
            let offset = self.base + p as u64;
            self.drop_front(p + 8);
            return Some(TransportEvent::Error(TransportError::UnknownEscape {
                offset,
                seq,
            }));
        }
    }

    fn check(
        &self,
        offset: u64,
        raw: Vec<u8>,
        mut messages: Vec<u8>,
        padding: u8,
    ) -> TransportEvent {
        let n = raw.len();
        let found = [raw[n - 2], raw[n - 1]];
        let body = &raw[..n - 2];
        let x25 = CrcKind::X25.wire_bytes(body);
        let kermit = CrcKind::Kermit.wire_bytes(body);
        let crc = match self.mode {
            CrcMode::X25 if found == x25 => Some(CrcKind::X25),
            CrcMode::Kermit if found == kermit => Some(CrcKind::Kermit),
            CrcMode::Either if found == x25 => Some(CrcKind::X25),
            CrcMode::Either if found == kermit => Some(CrcKind::Kermit),
            _ => None,
        };
        let Some(crc) = crc else {
            return TransportEvent::Error(TransportError::Crc {
                offset: offset + n as u64 - 2,
                found,
                x25,
                kermit,
            });
        };
        if padding > 3 || padding as usize > messages.len() {
            return TransportEvent::Error(TransportError::Padding {
                offset: offset + n as u64 - 3,
                padding,
            });
        }
        if n % 4 != 0 {
            return TransportEvent::Error(TransportError::Alignment {
                offset,
                len: n as u64,
            });
        }
        messages.truncate(messages.len() - padding as usize);
        TransportEvent::Frame(TransportFrame {
            offset,
            raw,
            messages,
            padding,
            crc,
        })
    }

    /// At the end of the stream: what is left is reported.
    pub fn finish(&mut self) -> Option<TransportEvent> {
        if let Some(e) = self.next_event() {
            return Some(e);
        }
        if self.buffer.is_empty() {
            return None;
        }
        let offset = self.base;
        let len = self.buffer.len() as u64;
        let starts = self.buffer.starts_with(&START[..self.buffer.len().min(8)]);
        self.drop_front(self.buffer.len());
        Some(TransportEvent::Error(if starts {
            TransportError::Incomplete { offset, len }
        } else {
            TransportError::Garbage { offset, len }
        }))
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|i| &hay[*i..*i + needle.len()] == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_values() {
        assert_eq!(X25.checksum(b"123456789"), 0x906E);
        assert_eq!(KERMIT.checksum(b"123456789"), 0x2189);
    }

    #[test]
    fn round_trip_with_escapes_both_crcs() {
        let msg = [0x76, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x00];
        for kind in [CrcKind::X25, CrcKind::Kermit] {
            let f = encode(&msg, kind);
            assert_eq!(f.len() % 4, 0);
            let mut d = TransportDecoder::new(CrcMode::Either);
            d.push(&[0xAA, 0xBB]);
            d.push(&f);
            assert!(matches!(
                d.next_event(),
                Some(TransportEvent::Error(TransportError::Garbage {
                    offset: 0,
                    len: 2
                }))
            ));
            match d.next_event() {
                Some(TransportEvent::Frame(fr)) => {
                    assert_eq!(fr.messages, msg);
                    assert_eq!(fr.crc, kind);
                    assert_eq!(fr.offset, 2);
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(d.finish(), None);
        }
    }

    #[test]
    fn bad_crc_names_the_byte() {
        let mut f = encode(&[0x76, 0x00], CrcKind::X25);
        let n = f.len();
        f[n - 1] ^= 0xFF;
        let mut d = TransportDecoder::new(CrcMode::X25);
        d.push(&f);
        match d.next_event() {
            Some(TransportEvent::Error(TransportError::Crc { offset, .. })) => {
                assert_eq!(offset, n as u64 - 2)
            }
            other => panic!("{other:?}"),
        }
    }
}
