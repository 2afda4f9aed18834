//! The DLMS/COSEM transport layer for IP networks: the wrapper (IEC 62056-47 clause 7,
//! "TCP-UDP/IP based communication profiles"): every APDU is preceded by an 8-byte header
//! `version (0x0001) | source wPort | destination wPort | length`, all big-endian 16-bit.
//! The wPorts are the client SAP and the server logical device address.

use crate::error::DecodeError;

/// Wrapper protocol version (IEC 62056-47 clause 7.3.3).
pub const VERSION: u16 = 0x0001;
/// Header size in bytes.
pub const HEADER_LEN: usize = 8;

/// One wrapper protocol data unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wpdu {
    /// Source wPort.
    pub source: u16,
    /// Destination wPort.
    pub destination: u16,
    /// The APDU carried.
    pub apdu: Vec<u8>,
}

impl Wpdu {
    /// The WPDU on the wire. Fails when the APDU exceeds the 16-bit length field.
    pub fn encode(&self) -> Result<Vec<u8>, crate::Error> {
        let len = u16::try_from(self.apdu.len()).map_err(|_| {
            crate::Error::Config(format!(
                "APDU of {} bytes exceeds the wrapper's 65535",
                self.apdu.len()
            ))
        })?;
        let mut out = Vec::with_capacity(HEADER_LEN + self.apdu.len());
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.source.to_be_bytes());
        out.extend_from_slice(&self.destination.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.apdu);
        Ok(out)
    }

    /// Decode exactly one WPDU from `bytes` (header and APDU, nothing more).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut d = WpduDecoder::new(usize::from(u16::MAX));
        d.push(bytes);
        match d.next_wpdu() {
            Some(Ok(w)) if d.pending() == 0 => Ok(w),
            Some(Ok(_)) => Err(DecodeError::new(
                "wrapper",
                bytes.len() - d.pending(),
                "bytes after the announced length",
            )),
            Some(Err(e)) => Err(e),
            None => Err(DecodeError::new(
                "wrapper",
                bytes.len(),
                "truncated: header or APDU incomplete",
            )),
        }
    }
}

/// Splits a received TCP byte stream into WPDUs (one segment may carry part of a WPDU or
/// several). A bad version or an announced length above `max_apdu` is an error naming the
/// stream offset; the decoder then holds no state that could make it wait forever.
#[derive(Debug)]
pub struct WpduDecoder {
    buf: Vec<u8>,
    base: u64,
    max_apdu: usize,
}

impl WpduDecoder {
    /// A decoder refusing APDUs above `max_apdu` bytes.
    pub fn new(max_apdu: usize) -> Self {
        Self {
            buf: Vec::new(),
            base: 0,
            max_apdu,
        }
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that are not yet a whole WPDU.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete WPDU, an error, or `None` when more bytes are needed.
    /// After an error the buffer is cleared (the stream cannot be resynchronised).
    pub fn next_wpdu(&mut self) -> Option<Result<Wpdu, DecodeError>> {
        if self.buf.len() < 2 {
            return None;
        }
        let version = u16::from_be_bytes([self.buf[0], self.buf[1]]);
        if version != VERSION {
            let e = DecodeError::new(
                "wrapper stream",
                self.base as usize,
                format!("version 0x{version:04X} (0x0001 expected)"),
            );
            self.discard();
            return Some(Err(e));
        }
        if self.buf.len() < HEADER_LEN {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[6], self.buf[7]]));
        if len > self.max_apdu {
            let e = DecodeError::new(
                "wrapper stream",
                self.base as usize + 6,
                format!(
                    "length {len} exceeds the {} bytes this client accepts",
                    self.max_apdu
                ),
            );
            self.discard();
            return Some(Err(e));
        }
        if self.buf.len() < HEADER_LEN + len {
            return None;
        }
        let w = Wpdu {
            source: u16::from_be_bytes([self.buf[2], self.buf[3]]),
            destination: u16::from_be_bytes([self.buf[4], self.buf[5]]),
            apdu: self.buf[HEADER_LEN..HEADER_LEN + len].to_vec(),
        };
        self.buf.drain(..HEADER_LEN + len);
        self.base += (HEADER_LEN + len) as u64;
        Some(Ok(w))
    }

    fn discard(&mut self) {
        self.base += self.buf.len() as u64;
        self.buf.clear();
    }
}
