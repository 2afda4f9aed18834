//! The raw sample stream format of the `tcp://` and `udp://` sources and of the sample
//! frames of out-of-process adapters (docs/plugins.md, "Sample packets").
//!
//! A packet is a 40-byte header followed by the samples, all little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `PQEs` (0x50 0x51 0x45 0x73) |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | sample format: 1 = i16, 2 = i32, 3 = f32 |
//! | 6 | 2 | channel count (u16, at least 1) |
//! | 8 | 4 | samples per channel in this packet (u32) |
//! | 12 | 4 | flags (u32): bit 0 = last packet of the stream; other bits must be 0 |
//! | 16 | 8 | sequence number (u64): one more than the previous packet's |
//! | 24 | 8 | time of the packet's first sample, ns since 1970-01-01 (i64) |
//! | 32 | 8 | sample rate in Hz (f64, finite, > 0) |
//! | 40 | … | samples, interleaved: sample 0 of every channel, then sample 1, … |
//!
//! Integer samples are scaled to physical units by the source's `scale` parameter; f32
//! samples are physical values. Decoding is sans-IO: bytes in, a header or samples out.

/// Bytes in a packet header.
pub const HEADER_LEN: usize = 40;
/// The four magic bytes that open every packet.
pub const MAGIC: [u8; 4] = *b"PQEs";
/// The packet format version this code reads and writes.
pub const VERSION: u8 = 1;
/// Flag bit: this is the last packet of the stream.
pub const FLAG_LAST: u32 = 1;

/// How samples are encoded in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Signed 16-bit integers (code 1).
    I16,
    /// Signed 32-bit integers (code 2).
    I32,
    /// IEEE 754 single precision (code 3).
    F32,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleFormat::I16 => 2,
            SampleFormat::I32 | SampleFormat::F32 => 4,
        }
    }
    /// The header code.
    pub fn code(self) -> u8 {
        match self {
            SampleFormat::I16 => 1,
            SampleFormat::I32 => 2,
            SampleFormat::F32 => 3,
        }
    }
    /// The format of a header code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(SampleFormat::I16),
            2 => Some(SampleFormat::I32),
            3 => Some(SampleFormat::F32),
            _ => None,
        }
    }
}

impl std::str::FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "i16" => Ok(SampleFormat::I16),
            "i32" => Ok(SampleFormat::I32),
            "f32" => Ok(SampleFormat::F32),
            _ => Err(format!("sample format '{s}' is not i16, i32 or f32")),
        }
    }
}

/// A decoded packet header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketHeader {
    /// Sample encoding.
    pub format: SampleFormat,
    /// Channels.
    pub channels: u16,
    /// Samples per channel.
    pub samples: u32,
    /// Flags ([`FLAG_LAST`]).
    pub flags: u32,
    /// Sequence number.
    pub sequence: u64,
    /// Time of the first sample, ns since the epoch.
    pub time_ns: i64,
    /// Samples per second.
    pub sample_rate: f64,
}

impl PacketHeader {
    /// Bytes of sample data following the header (`None` if it overflows).
    pub fn payload_len(&self) -> Option<usize> {
        (self.samples as usize)
            .checked_mul(self.channels as usize)?
            .checked_mul(self.format.size())
    }
    /// True on the stream's last packet.
    pub fn is_last(&self) -> bool {
        self.flags & FLAG_LAST != 0
    }

    /// Decode a header; the error says which field is wrong and its byte offset.
    pub fn decode(bytes: &[u8]) -> Result<PacketHeader, String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "packet of {} bytes is shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes[0..4] != MAGIC {
            return Err(format!(
                "bytes 0-3 are {:02x?}, not the magic 'PQEs'",
                &bytes[0..4]
            ));
        }
        if bytes[4] != VERSION {
            return Err(format!(
                "byte 4: packet version {} (this PQE reads version {VERSION})",
                bytes[4]
            ));
        }
        let format = SampleFormat::from_code(bytes[5]).ok_or_else(|| {
            format!(
                "byte 5: sample format code {} is not 1 (i16), 2 (i32) or 3 (f32)",
                bytes[5]
            )
        })?;
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
        let channels = u16_at(6);
        if channels == 0 {
            return Err("bytes 6-7: channel count is 0".into());
        }
        let flags = u32_at(12);
        if flags & !FLAG_LAST != 0 {
            return Err(format!("bytes 12-15: unknown flags {flags:#x}"));
        }
        let sample_rate = f64::from_bits(u64_at(32));
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(format!(
                "bytes 32-39: sample rate {sample_rate} is not a positive number"
            ));
        }
        let header = PacketHeader {
            format,
            channels,
            samples: u32_at(8),
            flags,
            sequence: u64_at(16),
            time_ns: u64_at(24) as i64,
            sample_rate,
        };
        if header.payload_len().is_none() {
            return Err("samples × channels overflows".into());
        }
        Ok(header)
    }

    /// The 40 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC);
        h[4] = VERSION;
        h[5] = self.format.code();
        h[6..8].copy_from_slice(&self.channels.to_le_bytes());
        h[8..12].copy_from_slice(&self.samples.to_le_bytes());
        h[12..16].copy_from_slice(&self.flags.to_le_bytes());
        h[16..24].copy_from_slice(&self.sequence.to_le_bytes());
        h[24..32].copy_from_slice(&self.time_ns.to_le_bytes());
        h[32..40].copy_from_slice(&self.sample_rate.to_bits().to_le_bytes());
        h
    }
}

/// Decode interleaved `payload` into planar physical values (`channels × samples`),
/// multiplying integer samples by `scale[channel]` (one value for every channel when
/// `scale` has one entry). The payload must be exactly as long as the header says.
pub fn decode_samples(
    header: &PacketHeader,
    payload: &[u8],
    scale: &[f64],
    out: &mut Vec<f64>,
) -> Result<(), String> {
    let expected = header.payload_len().ok_or("samples × channels overflows")?;
    if payload.len() != expected {
        return Err(format!(
            "header announces {} samples × {} channels ({expected} bytes of {:?}) but {} bytes follow",
            header.samples,
            header.channels,
            header.format,
            payload.len()
        ));
    }
    let nc = header.channels as usize;
    let ns = header.samples as usize;
    let scale_of = |c: usize| match scale.len() {
        0 => 1.0,
        1 => scale[0],
        _ => scale.get(c).copied().unwrap_or(1.0),
    };
    out.clear();
    out.resize(nc * ns, 0.0);
    let size = header.format.size();
    for (i, frame) in payload.chunks_exact(size * nc).enumerate() {
        for (c, v) in frame.chunks_exact(size).enumerate() {
            let x = match header.format {
                SampleFormat::I16 => i16::from_le_bytes([v[0], v[1]]) as f64 * scale_of(c),
                SampleFormat::I32 => {
                    i32::from_le_bytes([v[0], v[1], v[2], v[3]]) as f64 * scale_of(c)
                }
                SampleFormat::F32 => f32::from_le_bytes([v[0], v[1], v[2], v[3]]) as f64,
            };
            out[c * ns + i] = x;
        }
    }
    Ok(())
}

/// Encode planar values (`channels × samples`) as a packet (header and payload). Integer
/// formats store `round(value / scale)`, saturating at the type's range.
pub fn encode_packet(header: &PacketHeader, planar: &[f64], scale: f64, out: &mut Vec<u8>) {
    let nc = header.channels as usize;
    let ns = header.samples as usize;
    assert_eq!(planar.len(), nc * ns, "planar data for the header's counts");
    out.clear();
    out.extend_from_slice(&header.encode());
    out.reserve(nc * ns * header.format.size());
    for i in 0..ns {
        for c in 0..nc {
            let v = planar[c * ns + i];
            match header.format {
                SampleFormat::I16 => {
                    out.extend_from_slice(&((v / scale).round() as i16).to_le_bytes())
                }
                SampleFormat::I32 => {
                    out.extend_from_slice(&((v / scale).round() as i32).to_le_bytes())
                }
                SampleFormat::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> PacketHeader {
        PacketHeader {
            format: SampleFormat::I16,
            channels: 2,
            samples: 3,
            flags: 0,
            sequence: 7,
            time_ns: 1_700_000_000_000_000_000,
            sample_rate: 12_800.0,
        }
    }

    #[test]
    fn round_trip_all_formats() {
        for format in [SampleFormat::I16, SampleFormat::I32, SampleFormat::F32] {
            let h = PacketHeader { format, ..header() };
            let planar = [1.0, 2.0, -3.0, 10.0, 20.0, 30.5];
            let mut bytes = Vec::new();
            encode_packet(&h, &planar, 0.5, &mut bytes);
            assert_eq!(bytes.len(), HEADER_LEN + 6 * format.size());
            let back = PacketHeader::decode(&bytes).unwrap();
            assert_eq!(back, h);
            let mut out = Vec::new();
            decode_samples(&back, &bytes[HEADER_LEN..], &[0.5], &mut out).unwrap();
            assert_eq!(out, planar);
        }
    }

    #[test]
    fn bad_headers_name_the_field() {
        let good = header().encode();
        let cases: [(usize, u8, &str); 4] = [
            (0, b'X', "magic"),
            (4, 9, "byte 4"),
            (5, 7, "byte 5"),
            (12, 2, "flags"),
        ];
        for (at, v, says) in cases {
            let mut b = good;
            b[at] = v;
            let e = PacketHeader::decode(&b).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let mut b = good;
        b[6] = 0;
        b[7] = 0;
        assert!(PacketHeader::decode(&b)
            .unwrap_err()
            .contains("channel count"));
        let mut b = good;
        b[32..40].copy_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert!(PacketHeader::decode(&b)
            .unwrap_err()
            .contains("sample rate"));
        assert!(PacketHeader::decode(&good[..20])
            .unwrap_err()
            .contains("shorter"));
        let e = decode_samples(&header(), &[0u8; 5], &[], &mut Vec::new()).unwrap_err();
        assert!(e.contains("but 5 bytes follow"), "{e}");
    }
}
