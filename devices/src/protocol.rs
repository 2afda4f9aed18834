//! The out-of-process adapter protocol, sans-IO: the handshake line and length-prefixed
//! frames (docs/plugins.md, "Out-of-process adapters").
//!
//! After its handshake line `PQE-ADAPTER|VERSION|NAME|ADAPTER_VERSION\n` (at most
//! [`MAX_HANDSHAKE`] bytes), the adapter's stdout and PQE's writes to its stdin are frames:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | length L of what follows (u32, little-endian), 1 ≤ L ≤ the maximum frame size |
//! | 1 | frame type |
//! | L − 1 | body |
//!
//! [`Decoder`] turns bytes into [`Event`]s and keeps at most one frame buffered, so memory
//! stays bounded whatever the adapter writes.

use crate::error::Fault;

/// Environment variable carrying the cookie: an adapter started without it is being run
/// by hand and should say so and exit.
pub const COOKIE_KEY: &str = "PQE_ADAPTER_MAGIC_COOKIE";
/// The cookie's value.
pub const COOKIE_VALUE: &str = "f1d3a5c7e9b24680pqe-adapter-v1";
/// Environment variable listing the protocol versions PQE speaks, comma-separated.
pub const VERSIONS_KEY: &str = "PQE_ADAPTER_PROTOCOL_VERSIONS";
/// The protocol versions this PQE speaks.
pub const VERSIONS: &[u32] = &[1];
/// The longest handshake line accepted, newline included.
pub const MAX_HANDSHAKE: usize = 256;
/// The handshake line's first field.
pub const HANDSHAKE_TAG: &str = "PQE-ADAPTER";
/// Default maximum frame length (the L field), bytes.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// Frame types.
pub mod kind {
    /// Host → adapter: JSON `{"uri", "params", "heartbeat_ms"}`; reply STREAM_INFO or ERROR.
    pub const CONFIGURE: u8 = 0x01;
    /// Host → adapter: begin sending samples; reply OK or ERROR.
    pub const START: u8 = 0x02;
    /// Host → adapter: stop sending samples; reply OK.
    pub const STOP: u8 = 0x03;
    /// Either way: I am alive (the adapter answers a host HEARTBEAT with one).
    pub const HEARTBEAT: u8 = 0x04;
    /// Host → adapter: list devices; reply DEVICES or ERROR.
    pub const ENUMERATE: u8 = 0x05;
    /// Adapter → host: the request succeeded.
    pub const OK: u8 = 0x80;
    /// Adapter → host: JSON `{"channels": [{"name", "unit"}], "sample_rate", "start_ns"}`.
    pub const STREAM_INFO: u8 = 0x81;
    /// Adapter → host: JSON `{"message"}`; the request or the stream failed.
    pub const ERROR: u8 = 0x82;
    /// Adapter → host: one sample packet (crate::stream format), exactly.
    pub const SAMPLES: u8 = 0x83;
    /// Adapter → host: the stream has ended.
    pub const END: u8 = 0x85;
    /// Adapter → host: JSON `[{"uri", "description"}]`.
    pub const DEVICES: u8 = 0x86;
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The handshake: protocol version chosen, adapter name, adapter version.
    Handshake {
        /// The protocol version the adapter chose.
        version: u32,
        /// The adapter's name.
        name: String,
        /// The adapter's own version.
        adapter_version: String,
    },
    /// A frame.
    Frame {
        /// Its type.
        kind: u8,
        /// Its body.
        body: Vec<u8>,
    },
}

/// A protocol fault: its kind and the byte offset and details.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolFault {
    /// The kind.
    pub fault: Fault,
    /// What, where (byte offset of the adapter's output).
    pub message: String,
}

/// Decodes the adapter's stdout: the handshake line, then frames.
#[derive(Debug)]
pub struct Decoder {
    max_frame: usize,
    buf: Vec<u8>,
    /// Byte offset of `buf[0]` in the adapter's output.
    offset: u64,
    handshaken: bool,
    failed: bool,
}

fn printable(b: &[u8]) -> String {
    b.iter()
        .take(32)
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

impl Decoder {
    /// A decoder refusing frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Decoder {
            max_frame: max_frame.max(1),
            buf: Vec::new(),
            offset: 0,
            handshaken: false,
            failed: false,
        }
    }

    /// Bytes buffered (at most one frame plus the last read).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Append bytes read from the adapter.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn fail(&mut self, fault: Fault, message: String) -> Option<Result<Event, ProtocolFault>> {
        self.failed = true;
        self.buf = Vec::new();
        Some(Err(ProtocolFault { fault, message }))
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.offset += n as u64;
    }

    /// The next complete event, a fault (after which the decoder stops), or `None` when
    /// more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<Event, ProtocolFault>> {
        if self.failed {
            return None;
        }
        if !self.handshaken {
            let Some(nl) = self
                .buf
                .iter()
                .take(MAX_HANDSHAKE)
                .position(|&b| b == b'\n')
            else {
                if self.buf.len() >= MAX_HANDSHAKE {
                    let text = printable(&self.buf);
                    return self.fail(
                        Fault::Garbage,
                        format!(
                            "garbage before the handshake: no line within {MAX_HANDSHAKE} bytes (starts '{text}')"
                        ),
                    );
                }
                return None;
            };
            let line = self.buf[..nl].to_vec();
            let parsed = parse_handshake(&line);
            self.consume(nl + 1);
            return match parsed {
                Ok(ev) => {
                    self.handshaken = true;
                    Some(Ok(ev))
                }
                Err(m) => self.fail(Fault::Garbage, m),
            };
        }
        if self.buf.len() < 4 {
            return None;
        }
        let len = u32::from_le_bytes(self.buf[0..4].try_into().expect("4 bytes")) as usize;
        if len == 0 || len > self.max_frame {
            let at = self.offset;
            let head = &self.buf[0..4];
            return if head
                .iter()
                .all(|&c| (0x20..0x7f).contains(&c) || c == b'\n')
            {
                let text = printable(&self.buf);
                self.fail(
                    Fault::Garbage,
                    format!("garbage after the handshake at byte {at}: text '{text}' where a frame length was due"),
                )
            } else if len == 0 {
                self.fail(
                    Fault::Malformed,
                    format!("frame at byte {at} has length 0 (no type byte)"),
                )
            } else {
                let max = self.max_frame;
                self.fail(
                    Fault::Oversized,
                    format!("frame at byte {at} announces {len} bytes; the limit is {max}"),
                )
            };
        }
        if self.buf.len() < 4 + len {
            return None;
        }
        let kind = self.buf[4];
        let body = self.buf[5..4 + len].to_vec();
        self.consume(4 + len);
        Some(Ok(Event::Frame { kind, body }))
    }

    /// The adapter's output has ended: a fault if it ended inside the handshake or a frame.
    pub fn finish(&mut self) -> Option<ProtocolFault> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let at = self.offset;
        let n = self.buf.len();
        let message = if !self.handshaken {
            format!("output ended inside the handshake line ({n} bytes, no newline)")
        } else if n < 4 {
            format!("output ended at byte {at} inside a frame's length ({n} of 4 bytes)")
        } else {
            let len = u32::from_le_bytes(self.buf[0..4].try_into().expect("4 bytes")) as usize;
            format!(
                "truncated frame at byte {at}: {len} bytes announced, {} arrived",
                n - 4
            )
        };
        self.failed = true;
        self.buf = Vec::new();
        Some(ProtocolFault {
            fault: Fault::Truncated,
            message,
        })
    }
}

/// Parse `PQE-ADAPTER|VERSION|NAME|ADAPTER_VERSION`; the version must be one PQE offered.
pub fn parse_handshake(line: &[u8]) -> Result<Event, String> {
    let text = std::str::from_utf8(line).map_err(|_| {
        format!(
            "garbage before the handshake: '{}' is not UTF-8",
            printable(line)
        )
    })?;
    let text = text.strip_suffix('\r').unwrap_or(text);
    let fields: Vec<&str> = text.split('|').collect();
    if fields.len() != 4 || fields[0] != HANDSHAKE_TAG {
        return Err(format!(
            "garbage before the handshake: first line '{}' is not {HANDSHAKE_TAG}|VERSION|NAME|ADAPTER_VERSION",
            printable(line)
        ));
    }
    let version: u32 = fields[1]
        .parse()
        .map_err(|_| format!("handshake: version '{}' is not a number", fields[1]))?;
    if !VERSIONS.contains(&version) {
        return Err(format!(
            "handshake: the adapter chose protocol version {version}; PQE offered {VERSIONS:?}"
        ));
    }
    if fields[2].is_empty() {
        return Err("handshake: empty adapter name".into());
    }
    Ok(Event::Handshake {
        version,
        name: fields[2].to_string(),
        adapter_version: fields[3].to_string(),
    })
}

/// A frame's bytes.
pub fn encode_frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + body.len());
    v.extend_from_slice(&((body.len() + 1) as u32).to_le_bytes());
    v.push(kind);
    v.extend_from_slice(body);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(d: &mut Decoder) -> Vec<Result<Event, ProtocolFault>> {
        std::iter::from_fn(|| d.next_event()).collect()
    }

    #[test]
    fn handshake_then_frames_in_any_cut() {
        let mut bytes = b"PQE-ADAPTER|1|sim|0.1\n".to_vec();
        bytes.extend(encode_frame(kind::OK, b""));
        bytes.extend(encode_frame(kind::SAMPLES, &[7u8; 300]));
        for cut in [1, 3, 7, 64, 1000] {
            let mut d = Decoder::new(1024);
            let mut got = Vec::new();
            for chunk in bytes.chunks(cut) {
                d.feed(chunk);
                got.extend(events(&mut d));
            }
            assert!(d.finish().is_none());
            assert_eq!(got.len(), 3, "cut {cut}");
            assert!(
                matches!(&got[0], Ok(Event::Handshake { version: 1, name, .. }) if name == "sim")
            );
            assert_eq!(
                got[2],
                Ok(Event::Frame {
                    kind: kind::SAMPLES,
                    body: vec![7; 300]
                })
            );
            assert!(d.buffered() == 0);
        }
    }

    #[test]
    fn faults_are_named() {
        let check = |bytes: &[u8], fault: Fault, says: &str| {
            let mut d = Decoder::new(1000);
            d.feed(bytes);
            let mut last = None;
            while let Some(e) = d.next_event() {
                last = Some(e);
            }
            let f = match last {
                Some(Err(f)) => f,
                _ => d.finish().expect("a fault"),
            };
            assert_eq!(f.fault, fault, "{}", f.message);
            assert!(f.message.contains(says), "{}", f.message);
        };
        check(
            b"Traceback (most recent call last):\n",
            Fault::Garbage,
            "before the handshake",
        );
        check(&[b'x'; 300], Fault::Garbage, "no line within");
        check(b"PQE-ADAPTER|9|sim|1\n", Fault::Garbage, "version 9");
        check(
            b"PQE-ADAPTER|1|sim|1\nhello world\n",
            Fault::Garbage,
            "garbage after the handshake at byte 20",
        );
        let mut big = b"PQE-ADAPTER|1|sim|1\n".to_vec();
        big.extend(5000u32.to_le_bytes());
        check(&big, Fault::Oversized, "5000 bytes");
        let mut t = b"PQE-ADAPTER|1|sim|1\n".to_vec();
        t.extend(encode_frame(kind::SAMPLES, &[1u8; 100]));
        t.truncate(t.len() - 10);
        check(&t, Fault::Truncated, "101 bytes announced, 91 arrived");
        check(b"PQE-ADAP", Fault::Truncated, "inside the handshake");
    }
}
