//! HDLC frames and the client side of the HDLC link (IEC 62056-46, the DLMS/COSEM
//! data link layer using HDLC frame format type 3 of ISO/IEC 13239).
//!
//! Frame layout (clause 6.4): `7E | frame format (2) | destination (1,2,4) | source (1,2,4)
//! | control | HCS (2, only with an information field) | information | FCS (2) | 7E`.
//! The frame format field is `1010 S LLLLLLLLLLL`: type 3, segmentation bit, 11-bit length
//! counting every byte between the flags. HCS and FCS are CRC-16/X.25 sent least
//! significant byte first (clause 6.4.2.4 / annex of ISO/IEC 13239).
//!
//! [`FrameDecoder`] turns a received byte stream into frames (bytes in, frames and errors
//! out); [`HdlcClient`] holds the link state (V(S), V(R), negotiated parameters, segment
//! reassembly) and turns APDUs into frames and frames into APDUs. Neither does I/O.

use crate::error::{DecodeError, Error, Result};

/// Opening and closing flag (clause 6.4.1).
pub const FLAG: u8 = 0x7E;

/// CRC-16/X.25 (poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF): the HCS and FCS.
pub static X25: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_SDLC);

/// LLC header of a command (client to server) information field (IEC 62056-46 clause 8).
pub const LLC_COMMAND: [u8; 3] = [0xE6, 0xE6, 0x00];
/// LLC header of a response (server to client) information field.
pub const LLC_RESPONSE: [u8; 3] = [0xE6, 0xE7, 0x00];

/// Largest length the 11-bit frame length sub-field can hold.
pub const MAX_FRAME_LENGTH: usize = 0x7FF;

/// An HDLC address (clause 6.4.2.2): one, two or four bytes, the low bit of each byte the
/// extension bit (1 on the last byte).
///
/// A client address is one byte (the client SAP, e.g. 16 public client). A server address
/// holds the upper HDLC address (logical device, 1 = management) and, on two or four
/// bytes, the lower HDLC address (physical device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    /// Upper address (client SAP, or server logical device).
    pub upper: u16,
    /// Lower address (server physical device), absent on one-byte addresses.
    pub lower: Option<u16>,
    /// Encoded size: 1, 2 or 4 bytes.
    pub size: u8,
}

impl Address {
    /// A one-byte client address (SAP 0..=127).
    pub fn client(sap: u8) -> Result<Self> {
        if sap > 0x7F {
            return Err(Error::Config(format!(
                "client SAP {sap} does not fit one HDLC address byte (0..=127)"
            )));
        }
        Ok(Self {
            upper: u16::from(sap),
            lower: None,
            size: 1,
        })
    }

    /// A server address with the smallest size that holds `logical` and `physical`
    /// (two bytes when both are below 128, else four; one byte without a physical address).
    pub fn server(logical: u16, physical: Option<u16>) -> Result<Self> {
        let size = match physical {
            None if logical <= 0x7F => 1,
            None => {
                return Err(Error::Config(format!(
                    "server logical address {logical} needs a physical address"
                )))
            }
            Some(p) if logical <= 0x7F && p <= 0x7F => 2,
            Some(p) if logical <= 0x3FFF && p <= 0x3FFF => 4,
            Some(p) => {
                return Err(Error::Config(format!(
                    "server address {logical}/{p} exceeds 14 bits"
                )));
            }
        };
        Ok(Self {
            upper: logical,
            lower: physical,
            size,
        })
    }

    /// The address bytes on the wire.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let lower = self.lower.unwrap_or(0);
        match self.size {
            1 => out.push(((self.upper as u8) << 1) | 1),
            2 => {
                out.push((self.upper as u8) << 1);
                out.push(((lower as u8) << 1) | 1);
            }
            _ => {
                out.push(((self.upper >> 7) as u8) << 1);
                out.push(((self.upper & 0x7F) as u8) << 1);
                out.push(((lower >> 7) as u8) << 1);
                out.push((((lower & 0x7F) as u8) << 1) | 1);
            }
        }
    }

    /// Decode an address starting at `bytes[0]`; returns it and its size.
    fn decode(bytes: &[u8], offset: usize) -> Result<(Self, usize), DecodeError> {
        let mut n = 0;
        loop {
            let Some(b) = bytes.get(n) else {
                return Err(DecodeError::new(
                    "HDLC frame",
                    offset + n,
                    "address runs past the frame",
                ));
            };
            n += 1;
            if b & 1 == 1 {
                break;
            }
            if n == 4 {
                return Err(DecodeError::new(
                    "HDLC frame",
                    offset + n - 1,
                    "address longer than 4 bytes (no extension bit)",
                ));
            }
        }
        let v = |i: usize| u16::from(bytes[i] >> 1);
        let addr = match n {
            1 => Self {
                upper: v(0),
                lower: None,
                size: 1,
            },
            2 => Self {
                upper: v(0),
                lower: Some(v(1)),
                size: 2,
            },
            4 => Self {
                upper: (v(0) << 7) | v(1),
                lower: Some((v(2) << 7) | v(3)),
                size: 4,
            },
            _ => {
                return Err(DecodeError::new(
                    "HDLC frame",
                    offset,
                    "3-byte address (only 1, 2 or 4 bytes are allowed)",
                ))
            }
        };
        Ok((addr, n))
    }
}

/// The control field (clause 6.4.3), P/F bit included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Information frame with send and receive sequence numbers.
    I {
        /// N(S).
        ns: u8,
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Receive ready.
    Rr {
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Receive not ready.
    Rnr {
        /// N(R).
        nr: u8,
        /// Poll/final bit.
        pf: bool,
    },
    /// Set normal response mode (command).
    Snrm {
        /// Poll bit.
        pf: bool,
    },
    /// Disconnect (command).
    Disc {
        /// Poll bit.
        pf: bool,
    },
    /// Unnumbered acknowledge (response).
    Ua {
        /// Final bit.
        pf: bool,
    },
    /// Disconnected mode (response).
    Dm {
        /// Final bit.
        pf: bool,
    },
    /// Frame reject (response).
    Frmr {
        /// Final bit.
        pf: bool,
    },
    /// Unnumbered information.
    Ui {
        /// Poll/final bit.
        pf: bool,
    },
}

impl Control {
    /// The control byte.
    pub fn to_byte(self) -> u8 {
        let p = |pf: bool| if pf { 0x10 } else { 0 };
        match self {
            Self::I { ns, nr, pf } => ((nr & 7) << 5) | p(pf) | ((ns & 7) << 1),
            Self::Rr { nr, pf } => ((nr & 7) << 5) | p(pf) | 0x01,
            Self::Rnr { nr, pf } => ((nr & 7) << 5) | p(pf) | 0x05,
            Self::Snrm { pf } => 0x83 | p(pf),
            Self::Disc { pf } => 0x43 | p(pf),
            Self::Ua { pf } => 0x63 | p(pf),
            Self::Dm { pf } => 0x0F | p(pf),
            Self::Frmr { pf } => 0x87 | p(pf),
            Self::Ui { pf } => 0x03 | p(pf),
        }
    }

    /// Decode a control byte; `None` for codes IEC 62056-46 does not use.
    pub fn from_byte(b: u8) -> Option<Self> {
        let pf = b & 0x10 != 0;
        let nr = b >> 5;
        if b & 1 == 0 {
            return Some(Self::I {
                ns: (b >> 1) & 7,
                nr,
                pf,
            });
        }
        match b & 0x0F {
            0x01 => return Some(Self::Rr { nr, pf }),
            0x05 => return Some(Self::Rnr { nr, pf }),
            _ => {}
        }
        match b & !0x10 {
            0x83 => Some(Self::Snrm { pf }),
            0x43 => Some(Self::Disc { pf }),
            0x63 => Some(Self::Ua { pf }),
            0x0F => Some(Self::Dm { pf }),
            0x87 => Some(Self::Frmr { pf }),
            0x03 => Some(Self::Ui { pf }),
            _ => None,
        }
    }

    /// A short name for messages ("I(ns=1,nr=2)", "UA", ...).
    pub fn name(self) -> String {
        match self {
            Self::I { ns, nr, .. } => format!("I(N(S)={ns},N(R)={nr})"),
            Self::Rr { nr, .. } => format!("RR(N(R)={nr})"),
            Self::Rnr { nr, .. } => format!("RNR(N(R)={nr})"),
            Self::Snrm { .. } => "SNRM".into(),
            Self::Disc { .. } => "DISC".into(),
            Self::Ua { .. } => "UA".into(),
            Self::Dm { .. } => "DM".into(),
            Self::Frmr { .. } => "FRMR".into(),
            Self::Ui { .. } => "UI".into(),
        }
    }
}

/// One HDLC frame (without its flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Segmentation bit: more segments of this information follow.
    pub segmented: bool,
    /// Destination address.
    pub destination: Address,
    /// Source address.
    pub source: Address,
    /// Control field.
    pub control: Control,
    /// Information field (empty when absent).
    pub info: Vec<u8>,
}

impl Frame {
    /// The frame on the wire, flags included.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(16 + self.info.len());
        body.extend_from_slice(&[0, 0]);
        self.destination.encode(&mut body);
        self.source.encode(&mut body);
        body.push(self.control.to_byte());
        let header_len = body.len();
        let length = header_len
            + 2
            + if self.info.is_empty() {
                0
            } else {
                2 + self.info.len()
            };
        if length > MAX_FRAME_LENGTH {
            return Err(Error::Config(format!(
                "HDLC frame of {length} bytes exceeds the 11-bit length field ({MAX_FRAME_LENGTH})"
            )));
        }
        let format = 0xA000u16 | if self.segmented { 0x0800 } else { 0 } | length as u16;
        body[0..2].copy_from_slice(&format.to_be_bytes());
        if !self.info.is_empty() {
            let hcs = X25.checksum(&body);
            body.extend_from_slice(&hcs.to_le_bytes());
            body.extend_from_slice(&self.info);
        }
        let fcs = X25.checksum(&body);
        body.extend_from_slice(&fcs.to_le_bytes());
        let mut out = Vec::with_capacity(body.len() + 2);
        out.push(FLAG);
        out.extend_from_slice(&body);
        out.push(FLAG);
        Ok(out)
    }

    /// Decode the bytes between two flags (`body` = frame format field .. FCS).
    /// Offsets in errors count from the frame format field's first byte.
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_checked(body, true)
    }

    /// Decode without verifying HCS and FCS (a trace whose password bytes are masked).
    pub fn decode_unchecked(body: &[u8]) -> Option<Self> {
        Self::decode_checked(body, false).ok()
    }

    fn decode_checked(body: &[u8], check: bool) -> Result<Self, DecodeError> {
        const U: &str = "HDLC frame";
        if body.len() < 2 {
            return Err(DecodeError::new(
                U,
                body.len(),
                "frame shorter than its format field",
            ));
        }
        let format = u16::from_be_bytes([body[0], body[1]]);
        if format >> 12 != 0xA {
            return Err(DecodeError::new(
                U,
                0,
                format!("frame format type {:X} (type 3 = A expected)", format >> 12),
            ));
        }
        let length = usize::from(format & 0x7FF);
        if length != body.len() {
            return Err(DecodeError::new(
                U,
                0,
                format!(
                    "length field says {length} bytes, {} bytes between the flags",
                    body.len()
                ),
            ));
        }
        let (destination, dn) = Address::decode(&body[2..], 2)?;
        let (source, sn) = Address::decode(&body[2 + dn..], 2 + dn)?;
        let c = 2 + dn + sn;
        let Some(&cb) = body.get(c) else {
            return Err(DecodeError::new(
                U,
                c,
                "frame ends before the control field",
            ));
        };
        let control = Control::from_byte(cb)
            .ok_or_else(|| DecodeError::new(U, c, format!("unknown control field 0x{cb:02X}")))?;
        if body.len() < c + 3 {
            return Err(DecodeError::new(U, body.len(), "frame ends before its FCS"));
        }
        let fcs_at = body.len() - 2;
        let fcs = u16::from_le_bytes([body[fcs_at], body[fcs_at + 1]]);
        let computed = X25.checksum(&body[..fcs_at]);
        if check && fcs != computed {
            return Err(DecodeError::new(
                U,
                fcs_at,
                format!("FCS 0x{fcs:04X} on the wire, 0x{computed:04X} computed"),
            ));
        }
        let info = if fcs_at == c + 1 {
            Vec::new()
        } else {
            let hcs_at = c + 1;
            if fcs_at < hcs_at + 2 {
                return Err(DecodeError::new(
                    U,
                    hcs_at,
                    "one byte between control and FCS (neither HCS nor empty)",
                ));
            }
            let hcs = u16::from_le_bytes([body[hcs_at], body[hcs_at + 1]]);
            let computed = X25.checksum(&body[..hcs_at]);
            if check && hcs != computed {
                return Err(DecodeError::new(
                    U,
                    hcs_at,
                    format!("HCS 0x{hcs:04X} on the wire, 0x{computed:04X} computed"),
                ));
            }
            body[hcs_at + 2..fcs_at].to_vec()
        };
        Ok(Self {
            segmented: format & 0x0800 != 0,
            destination,
            source,
            control,
            info,
        })
    }
}

/// Something the stream decoder found: a frame, or bytes it had to drop (and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A frame with valid HCS and FCS.
    Frame(Frame),
    /// Bytes that are not a valid frame, dropped; `offset` is their position in the stream.
    Dropped {
        /// Stream offset of the first dropped byte.
        offset: u64,
        /// Number of bytes dropped.
        count: usize,
        /// Why (with the byte at fault).
        error: DecodeError,
    },
}

/// Splits a received byte stream into frames (bytes in, frames out).
///
/// Garbage between frames, frames failing HCS/FCS and frames with a bad length are
/// reported as [`Decoded::Dropped`] with their stream offset, never silently skipped.
/// A flag shared between two frames (closing one, opening the next) and repeated flags are
/// accepted (clause 6.4.1).
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that do not yet form a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Total bytes consumed so far (stream offset of the next pending byte).
    pub fn position(&self) -> u64 {
        self.base
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.base += n as u64;
    }

    /// The next frame or dropped run, or `None` when more bytes are needed.
    pub fn next_item(&mut self) -> Option<Decoded> {
        // Skip to the first flag; bytes before it are garbage.
        let start = self.buf.iter().position(|&b| b == FLAG);
        match start {
            None if self.buf.is_empty() => return None,
            None => {
                let count = self.buf.len();
                let offset = self.base;
                self.consume(count);
                return Some(Decoded::Dropped {
                    offset,
                    count,
                    error: DecodeError::new(
                        "HDLC stream",
                        0,
                        format!("{count} bytes outside any frame (no flag 0x7E)"),
                    ),
                });
            }
            Some(s) if s > 0 => {
                let offset = self.base;
                self.consume(s);
                return Some(Decoded::Dropped {
                    offset,
                    count: s,
                    error: DecodeError::new(
                        "HDLC stream",
                        0,
                        format!("{s} bytes before the opening flag"),
                    ),
                });
            }
            Some(_) => {}
        }
        // buf[0] is a flag. Repeated flags: skip all but the last.
        let flags = self.buf.iter().take_while(|&&b| b == FLAG).count();
        if flags == self.buf.len() {
            if flags > 1 {
                self.consume(flags - 1);
            }
            return None;
        }
        if flags > 1 {
            self.consume(flags - 1);
        }
        if self.buf.len() < 3 {
            return None;
        }
        let format = u16::from_be_bytes([self.buf[1], self.buf[2]]);
        let length = usize::from(format & 0x7FF);
        if format >> 12 != 0xA || length < 7 {
            return Some(self.drop_to_next_flag(DecodeError::new(
                "HDLC frame",
                1,
                if format >> 12 != 0xA {
                    format!("frame format 0x{format:04X} is not type 3 (0xA...)")
                } else {
                    format!("length {length} is shorter than the smallest frame (7)")
                },
            )));
        }
        if self.buf.len() < length + 2 {
            return None;
        }
        if self.buf[length + 1] != FLAG {
            return Some(self.drop_to_next_flag(DecodeError::new(
                "HDLC frame",
                length + 1,
                format!("no closing flag after the {length} bytes the length field announces (0x{:02X})", self.buf[length + 1]),
            )));
        }
        let offset = self.base;
        let result = Frame::decode_body(&self.buf[1..=length]);
        // Keep the closing flag: it may open the next frame.
        self.consume(length + 1);
        Some(match result {
            Ok(frame) => Decoded::Frame(frame),
            Err(mut e) => {
                e.offset += 1;
                e.reason
                    .push_str(&format!(" (frame starting at received byte {offset})"));
                Decoded::Dropped {
                    offset,
                    count: length + 1,
                    error: e,
                }
            }
        })
    }

    fn drop_to_next_flag(&mut self, mut error: DecodeError) -> Decoded {
        let next = self.buf[1..]
            .iter()
            .position(|&b| b == FLAG)
            .map_or(self.buf.len(), |p| p + 1);
        let offset = self.base;
        error
            .reason
            .push_str(&format!(" (frame starting at received byte {offset})"));
        self.consume(next);
        Decoded::Dropped {
            offset,
            count: next,
            error,
        }
    }
}

/// HDLC parameters negotiated by SNRM/UA (clause 6.4.4.4.3.2): maximum information field
/// lengths and window sizes, each from the sender's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdlcParameters {
    /// Maximum information field length, transmit.
    pub max_info_tx: u16,
    /// Maximum information field length, receive.
    pub max_info_rx: u16,
    /// Window size, transmit.
    pub window_tx: u32,
    /// Window size, receive.
    pub window_rx: u32,
}

impl Default for HdlcParameters {
    /// The defaults that apply when a parameter is absent: 128 bytes, window 1.
    fn default() -> Self {
        Self {
            max_info_tx: 128,
            max_info_rx: 128,
            window_tx: 1,
            window_rx: 1,
        }
    }
}

/// The negotiation result together with any deviation noticed in the parameter field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Parameters the peer sent (defaults where absent).
    pub peer: HdlcParameters,
    /// Deviations tolerated (e.g. a group length disagreeing with the parameters present).
    pub notes: Vec<String>,
}

impl HdlcParameters {
    /// The SNRM/UA information field: format identifier 0x81, group 0x80, then only the
    /// parameters that differ from the defaults; empty when all are defaults.
    pub fn encode(&self) -> Vec<u8> {
        let d = Self::default();
        let mut params = Vec::new();
        let mut put = |id: u8, value: u32, differs: bool| {
            if !differs {
                return;
            }
            params.push(id);
            let bytes = value.to_be_bytes();
            let skip = if id >= 7 {
                0 // window sizes: four bytes, as ISO/IEC 13239 sends them
            } else if value <= 0xFF {
                3
            } else {
                2
            };
            params.push((4 - skip) as u8);
            params.extend_from_slice(&bytes[skip..]);
        };
        put(
            5,
            u32::from(self.max_info_tx),
            self.max_info_tx != d.max_info_tx,
        );
        put(
            6,
            u32::from(self.max_info_rx),
            self.max_info_rx != d.max_info_rx,
        );
        put(7, self.window_tx, self.window_tx != d.window_tx);
        put(8, self.window_rx, self.window_rx != d.window_rx);
        if params.is_empty() {
            return params;
        }
        let mut out = vec![0x81, 0x80, params.len() as u8];
        out.extend_from_slice(&params);
        out
    }

    /// Every parameter explicitly (as a UA carries them).
    pub fn encode_all(&self) -> Vec<u8> {
        let mut params = Vec::new();
        for (id, v, wide) in [
            (5u8, u32::from(self.max_info_tx), false),
            (6, u32::from(self.max_info_rx), false),
            (7, self.window_tx, true),
            (8, self.window_rx, true),
        ] {
            params.push(id);
            if wide {
                params.push(4);
                params.extend_from_slice(&v.to_be_bytes());
            } else if v <= 0xFF {
                params.extend_from_slice(&[1, v as u8]);
            } else {
                params.push(2);
                params.extend_from_slice(&(v as u16).to_be_bytes());
            }
        }
        let mut out = vec![0x81, 0x80, params.len() as u8];
        out.extend_from_slice(&params);
        out
    }

    /// Decode an SNRM/UA information field (empty = all defaults).
    ///
    /// A group length that disagrees with the parameters that follow is tolerated and
    /// reported in [`Negotiated::notes`] (the recorded gurux-based simulator sends 0); the
    /// parameters themselves must be well formed.
    pub fn decode(info: &[u8]) -> Result<Negotiated, DecodeError> {
        const U: &str = "HDLC parameter field";
        let mut p = Self::default();
        let mut notes = Vec::new();
        if info.is_empty() {
            return Ok(Negotiated { peer: p, notes });
        }
        if info.len() < 3 {
            return Err(DecodeError::new(
                U,
                info.len(),
                "shorter than format, group and length bytes",
            ));
        }
        if info[0] != 0x81 {
            return Err(DecodeError::new(
                U,
                0,
                format!("format identifier 0x{:02X} (0x81 expected)", info[0]),
            ));
        }
        if info[1] != 0x80 {
            return Err(DecodeError::new(
                U,
                1,
                format!("group identifier 0x{:02X} (0x80 expected)", info[1]),
            ));
        }
        let group_len = usize::from(info[2]);
        if group_len != info.len() - 3 {
            notes.push(format!(
                "group length byte says {group_len}, {} parameter bytes follow",
                info.len() - 3
            ));
        }
        let mut i = 3;
        while i < info.len() {
            let id = info[i];
            let Some(&len) = info.get(i + 1) else {
                return Err(DecodeError::new(
                    U,
                    i + 1,
                    "parameter without a length byte",
                ));
            };
            let len = usize::from(len);
            if len == 0 || len > 4 || i + 2 + len > info.len() {
                return Err(DecodeError::new(
                    U,
                    i + 1,
                    format!("parameter 0x{id:02X} length {len} invalid or past the end"),
                ));
            }
            let v = info[i + 2..i + 2 + len]
                .iter()
                .fold(0u32, |a, &b| (a << 8) | u32::from(b));
            match id {
                5 | 6 => {
                    let v16 = u16::try_from(v).map_err(|_| {
                        DecodeError::new(U, i + 2, format!("information length {v} exceeds 65535"))
                    })?;
                    if v16 == 0 {
                        return Err(DecodeError::new(U, i + 2, "maximum information length 0"));
                    }
                    if id == 5 {
                        p.max_info_tx = v16;
                    } else {
                        p.max_info_rx = v16;
                    }
                }
                7 | 8 => {
                    if v == 0 {
                        return Err(DecodeError::new(U, i + 2, "window size 0"));
                    }
                    if v > 7 {
                        notes.push(format!(
                            "window size {v} above 7 (parameter 0x{id:02X}); window 1 is used"
                        ));
                    }
                    if id == 7 {
                        p.window_tx = v;
                    } else {
                        p.window_rx = v;
                    }
                }
                _ => notes.push(format!("unknown parameter 0x{id:02X} ignored")),
            }
            i += 2 + len;
        }
        Ok(Negotiated { peer: p, notes })
    }
}

/// What the link asks of its driver after a received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Send these frame bytes (an RR asking for the next segment, or the next segment of
    /// a segmented command).
    Send(Vec<u8>),
    /// A complete APDU from the server (LLC header removed).
    Apdu(Vec<u8>),
    /// The server is busy (RNR): poll again later.
    Busy,
    /// Nothing complete yet.
    Nothing,
}

/// Client side of the HDLC link in normal response mode: addressing, sequence numbers,
/// segmentation and reassembly (IEC 62056-46 clauses 6.4.4 and 8).
///
/// The client waits for each answer before sending again (window 1 in both directions),
/// which is valid for any negotiated window.
#[derive(Debug, Clone)]
pub struct HdlcClient {
    client: Address,
    server: Address,
    /// Parameters requested in the SNRM.
    pub requested: HdlcParameters,
    /// Effective limits after the UA (from this client's view).
    pub negotiated: HdlcParameters,
    vs: u8,
    vr: u8,
    reassembly: Vec<u8>,
    outgoing: Vec<(Vec<u8>, bool)>,
    connected: bool,
    /// Largest APDU accepted from the server when reassembling segments.
    pub max_apdu: usize,
}

impl HdlcClient {
    /// A link from `client` to `server` requesting `requested` in the SNRM.
    pub fn new(client: Address, server: Address, requested: HdlcParameters) -> Self {
        Self {
            client,
            server,
            requested,
            negotiated: HdlcParameters::default(),
            vs: 0,
            vr: 0,
            reassembly: Vec::new(),
            outgoing: Vec::new(),
            connected: false,
            max_apdu: 1 << 20,
        }
    }

    /// Whether UA answered the SNRM and no DISC has been sent since.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    fn frame(&self, control: Control, info: Vec<u8>, segmented: bool) -> Result<Vec<u8>> {
        Frame {
            segmented,
            destination: self.server,
            source: self.client,
            control,
            info,
        }
        .encode()
    }

    /// The SNRM frame (link set-up, clause 6.4.4.4.3.2); resets the sequence numbers.
    pub fn snrm(&mut self) -> Result<Vec<u8>> {
        self.vs = 0;
        self.vr = 0;
        self.reassembly.clear();
        self.outgoing.clear();
        self.frame(Control::Snrm { pf: true }, self.requested.encode(), false)
    }

    /// The DISC frame (link release).
    pub fn disc(&mut self) -> Result<Vec<u8>> {
        self.connected = false;
        self.frame(Control::Disc { pf: true }, Vec::new(), false)
    }

    /// An RR poll with the current V(R) (asks the server to send or repeat).
    pub fn rr(&self) -> Result<Vec<u8>> {
        self.frame(
            Control::Rr {
                nr: self.vr,
                pf: true,
            },
            Vec::new(),
            false,
        )
    }

    /// Check that a frame is addressed from our server to us.
    fn check_addresses(&self, frame: &Frame) -> Result<()> {
        if frame.destination.upper != self.client.upper || frame.destination.size != 1 {
            return Err(Error::Unexpected {
                expected: "a frame to this client",
                got: format!(
                    "{} addressed to client {}",
                    frame.control.name(),
                    frame.destination.upper
                ),
            });
        }
        if frame.source.upper != self.server.upper || frame.source.lower != self.server.lower {
            return Err(Error::Unexpected {
                expected: "a frame from the addressed server",
                got: format!(
                    "{} from server {}/{:?}",
                    frame.control.name(),
                    frame.source.upper,
                    frame.source.lower
                ),
            });
        }
        Ok(())
    }

    /// Handle the answer to SNRM: UA sets the negotiated parameters, DM refuses.
    pub fn on_snrm_answer(&mut self, frame: &Frame) -> Result<Negotiated> {
        self.check_addresses(frame)?;
        match frame.control {
            Control::Ua { .. } => {
                let n = HdlcParameters::decode(&frame.info)?;
                // The server's transmit limit is ours to receive and vice versa.
                self.negotiated = HdlcParameters {
                    max_info_tx: self.requested.max_info_tx.min(n.peer.max_info_rx),
                    max_info_rx: n.peer.max_info_tx,
                    window_tx: 1,
                    window_rx: 1,
                };
                self.connected = true;
                Ok(n)
            }
            Control::Dm { .. } => Err(Error::Closed(
                "the server answered SNRM with DM (disconnected mode)".into(),
            )),
            c => Err(Error::Unexpected {
                expected: "UA to SNRM",
                got: c.name(),
            }),
        }
    }

    /// Handle the answer to DISC (UA or DM both mean disconnected).
    pub fn on_disc_answer(&mut self, frame: &Frame) -> Result<()> {
        self.check_addresses(frame)?;
        match frame.control {
            Control::Ua { .. } | Control::Dm { .. } => Ok(()),
            c => Err(Error::Unexpected {
                expected: "UA or DM to DISC",
                got: c.name(),
            }),
        }
    }

    /// Start sending `apdu`: returns the first I-frame; further segments are released by
    /// the server's RR (see [`HdlcClient::on_frame`]).
    pub fn send_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        if !self.connected {
            return Err(Error::Unexpected {
                expected: "a connected HDLC link",
                got: "an APDU to send before UA".into(),
            });
        }
        let mut info = LLC_COMMAND.to_vec();
        info.extend_from_slice(apdu);
        let max = usize::from(self.negotiated.max_info_tx.max(1));
        let count = info.len().div_ceil(max);
        // Kept in reverse order; sequence numbers are assigned as each segment goes out.
        self.outgoing = info
            .chunks(max)
            .enumerate()
            .map(|(i, c)| (c.to_vec(), i + 1 < count))
            .rev()
            .collect();
        self.next_segment()
    }

    fn next_segment(&mut self) -> Result<Vec<u8>> {
        let (chunk, segmented) = self.outgoing.pop().ok_or_else(|| Error::Unexpected {
            expected: "a segment to send",
            got: "none left".into(),
        })?;
        let control = Control::I {
            ns: self.vs,
            nr: self.vr,
            pf: true,
        };
        self.vs = (self.vs + 1) & 7;
        self.frame(control, chunk, segmented)
    }

    /// Handle a frame received while a command is outstanding.
    pub fn on_frame(&mut self, frame: &Frame) -> Result<LinkEvent> {
        self.check_addresses(frame)?;
        match frame.control {
            Control::I { ns, nr, .. } => {
                if ns != self.vr {
                    return Err(Error::Sequence(format!(
                        "I-frame N(S)={ns}, expected {} (V(R))",
                        self.vr
                    )));
                }
                if nr != self.vs {
                    return Err(Error::Sequence(format!(
                        "I-frame N(R)={nr} does not acknowledge our frames (V(S)={})",
                        self.vs
                    )));
                }
                if !self.outgoing.is_empty() {
                    return Err(Error::Unexpected {
                        expected: "RR for the next command segment",
                        got: frame.control.name(),
                    });
                }
                self.vr = (self.vr + 1) & 7;
                if self.reassembly.len() + frame.info.len() > self.max_apdu {
                    return Err(Error::Config(format!(
                        "segmented response exceeds {} bytes",
                        self.max_apdu
                    )));
                }
                self.reassembly.extend_from_slice(&frame.info);
                if frame.segmented {
                    return Ok(LinkEvent::Send(self.rr()?));
                }
                let data = std::mem::take(&mut self.reassembly);
                if data.len() < 3 || data[..3] != LLC_RESPONSE {
                    let got = data
                        .iter()
                        .take(3)
                        .map(|b| format!("{b:02X}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    return Err(DecodeError::new(
                        "HDLC information field",
                        0,
                        format!("LLC header [{got}] (E6 E7 00 expected)"),
                    )
                    .into());
                }
                Ok(LinkEvent::Apdu(data[3..].to_vec()))
            }
            Control::Rr { nr, .. } => {
                if nr != self.vs {
                    return Err(Error::Sequence(format!(
                        "RR N(R)={nr}, expected {} (V(S))",
                        self.vs
                    )));
                }
                if self.outgoing.is_empty() {
                    return Err(Error::Unexpected {
                        expected: "an I-frame answer",
                        got: frame.control.name(),
                    });
                }
                Ok(LinkEvent::Send(self.next_segment()?))
            }
            Control::Rnr { .. } => Ok(LinkEvent::Busy),
            Control::Dm { .. } => {
                self.connected = false;
                Err(Error::Closed(
                    "the server sent DM (disconnected mode)".into(),
                ))
            }
            Control::Frmr { .. } => {
                let hex: String = frame.info.iter().map(|b| format!("{b:02X}")).collect();
                Err(Error::Exception(format!(
                    "HDLC frame reject (FRMR) from the server, information {hex}"
                )))
            }
            c => Err(Error::Unexpected {
                expected: "an I-frame answer",
                got: c.name(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(X25.checksum(b"123456789"), 0x906E);
    }

    #[test]
    fn control_bytes_round_trip() {
        for b in 0u8..=255 {
            if let Some(c) = Control::from_byte(b) {
                assert_eq!(c.to_byte(), b, "{c:?}");
            }
        }
    }
}
