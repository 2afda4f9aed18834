//! A-XDR encoding of the COSEM `Data` CHOICE (IEC 62056-6-2 clause 4.1.5 / DLMS UA
//! 1000-2 "Green Book" clause 9.5, A-XDR rules of IEC 61334-6), the date-time octet
//! string (IEC 62056-6-2 clause 4.1.6.1) and the unit enumeration of the Register class
//! (IEC 62056-6-2 clause 4.3.2, "Blue Book" table of units).

use crate::error::DecodeError;
use std::fmt;

/// Deepest array/structure nesting accepted from a meter.
pub const MAX_DEPTH: usize = 32;

/// Cursor over received bytes; every error names the offset from the unit's start.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    unit: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, errors labelled `unit`.
    pub fn new(unit: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            base: 0,
            unit,
        }
    }

    /// A reader whose offsets start at `base` (bytes is a slice of a larger unit).
    pub fn with_base(unit: &'static str, bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
            unit,
        }
    }

    /// Offset of the next byte from the unit's start.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error at the current offset.
    pub fn error(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError::new(self.unit, self.offset(), reason)
    }

    /// An error at a given offset of the unit.
    pub fn error_at(&self, offset: usize, reason: impl Into<String>) -> DecodeError {
        DecodeError::new(self.unit, offset, reason)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error(format!(
                "{what}: needs {n} bytes, {} left",
                self.remaining()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Big-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Big-endian u64.
    pub fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A-XDR / BER length: one byte below 0x80, else 0x8N followed by N bytes (N ≤ 4).
    pub fn length(&mut self, what: &str) -> Result<usize, DecodeError> {
        let at = self.offset();
        let first = self.u8(what)?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return Err(self.error_at(
                at,
                format!("{what}: length form 0x{first:02X} (indefinite or more than 4 bytes)"),
            ));
        }
        let b = self.take(n, what)?;
        Ok(b.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x)))
    }

    /// Length-prefixed bytes, the length checked against what is left.
    pub fn counted(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        let at = self.offset();
        let n = self.length(what)?;
        if n > self.remaining() {
            return Err(self.error_at(
                at,
                format!(
                    "{what}: length {n} but only {} bytes left",
                    self.remaining()
                ),
            ));
        }
        self.take(n, what)
    }

    /// Fail when bytes are left over.
    pub fn finish(&self, what: &str) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(self.error(format!(
                "{} bytes after the end of {what}",
                self.remaining()
            )));
        }
        Ok(())
    }
}

/// Write an A-XDR / BER length.
pub fn write_length(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xFF {
        out.extend_from_slice(&[0x81, n as u8]);
    } else if n <= 0xFFFF {
        out.push(0x82);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x84);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// The COSEM `Data` CHOICE (tags as in IEC 62056-6-2 clause 4.1.5).
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// [0] null-data.
    Null,
    /// [1] array.
    Array(Vec<Data>),
    /// [2] structure.
    Structure(Vec<Data>),
    /// [3] boolean.
    Boolean(bool),
    /// [4] bit-string: number of bits and the bytes holding them (first bit = MSB).
    BitString {
        /// Number of bits.
        bits: usize,
        /// Packed bits.
        bytes: Vec<u8>,
    },
    /// [5] double-long (Integer32).
    DoubleLong(i32),
    /// [6] double-long-unsigned (Unsigned32).
    DoubleLongUnsigned(u32),
    /// [9] octet-string.
    OctetString(Vec<u8>),
    /// [10] visible-string.
    VisibleString(Vec<u8>),
    /// [12] utf8-string.
    Utf8String(String),
    /// [13] bcd (one byte, two digits).
    Bcd(u8),
    /// [15] integer (Integer8).
    Integer(i8),
    /// [16] long (Integer16).
    Long(i16),
    /// [17] unsigned (Unsigned8).
    Unsigned(u8),
    /// [18] long-unsigned (Unsigned16).
    LongUnsigned(u16),
    /// [20] long64 (Integer64).
    Long64(i64),
    /// [21] long64-unsigned (Unsigned64).
    Long64Unsigned(u64),
    /// [22] enum.
    Enum(u8),
    /// [23] float32.
    Float32(f32),
    /// [24] float64.
    Float64(f64),
    /// [25] date-time (12 octets).
    DateTime(DateTime),
    /// [26] date (5 octets).
    Date([u8; 5]),
    /// [27] time (4 octets).
    Time([u8; 4]),
    /// [255] don't-care.
    DontCare,
}

impl Data {
    /// Encode with its tag.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.push(0),
            Self::Array(v) | Self::Structure(v) => {
                out.push(if matches!(self, Self::Array(_)) { 1 } else { 2 });
                write_length(out, v.len());
                for d in v {
                    d.encode(out);
                }
            }
            Self::Boolean(b) => out.extend_from_slice(&[3, u8::from(*b)]),
            Self::BitString { bits, bytes } => {
                out.push(4);
                write_length(out, *bits);
                out.extend_from_slice(bytes);
            }
            Self::DoubleLong(v) => {
                out.push(5);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::DoubleLongUnsigned(v) => {
                out.push(6);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::OctetString(b) | Self::VisibleString(b) => {
                out.push(if matches!(self, Self::OctetString(_)) {
                    9
                } else {
                    10
                });
                write_length(out, b.len());
                out.extend_from_slice(b);
            }
            Self::Utf8String(s) => {
                out.push(12);
                write_length(out, s.len());
                out.extend_from_slice(s.as_bytes());
            }
            Self::Bcd(v) => out.extend_from_slice(&[13, *v]),
            Self::Integer(v) => out.extend_from_slice(&[15, *v as u8]),
            Self::Long(v) => {
                out.push(16);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Unsigned(v) => out.extend_from_slice(&[17, *v]),
            Self::LongUnsigned(v) => {
                out.push(18);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Long64(v) => {
                out.push(20);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Long64Unsigned(v) => {
                out.push(21);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Enum(v) => out.extend_from_slice(&[22, *v]),
            Self::Float32(v) => {
                out.push(23);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::Float64(v) => {
                out.push(24);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Self::DateTime(dt) => {
                out.push(25);
                out.extend_from_slice(&dt.to_octets());
            }
            Self::Date(d) => {
                out.push(26);
                out.extend_from_slice(d);
            }
            Self::Time(t) => {
                out.push(27);
                out.extend_from_slice(t);
            }
            Self::DontCare => out.push(255),
        }
    }

    /// The encoding as a vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// Decode one `Data` from the reader.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_depth(r, 0)
    }

    /// Decode `bytes` as exactly one `Data`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("A-XDR Data", bytes);
        let d = Self::decode(&mut r)?;
        r.finish("the Data")?;
        Ok(d)
    }

    fn decode_depth(r: &mut Reader<'_>, depth: usize) -> Result<Self, DecodeError> {
        let at = r.offset();
        let tag = r.u8("Data tag")?;
        Ok(match tag {
            0 => Self::Null,
            1 | 2 => {
                if depth >= MAX_DEPTH {
                    return Err(r.error_at(at, format!("nesting deeper than {MAX_DEPTH}")));
                }
                let n = r.length("element count")?;
                // Every element takes at least one byte: a count beyond what is left is
                // a lie, refused before allocating.
                if n > r.remaining() {
                    return Err(r.error_at(
                        at,
                        format!("{n} elements announced, {} bytes left", r.remaining()),
                    ));
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(Self::decode_depth(r, depth + 1)?);
                }
                if tag == 1 {
                    Self::Array(v)
                } else {
                    Self::Structure(v)
                }
            }
            3 => Self::Boolean(r.u8("boolean")? != 0),
            4 => {
                let bits = r.length("bit-string length")?;
                let bytes = r.take(bits.div_ceil(8), "bit-string")?.to_vec();
                Self::BitString { bits, bytes }
            }
            5 => Self::DoubleLong(r.u32("double-long")? as i32),
            6 => Self::DoubleLongUnsigned(r.u32("double-long-unsigned")?),
            9 => Self::OctetString(r.counted("octet-string")?.to_vec()),
            10 => Self::VisibleString(r.counted("visible-string")?.to_vec()),
            12 => {
                let start = r.offset();
                let b = r.counted("utf8-string")?;
                Self::Utf8String(
                    String::from_utf8(b.to_vec())
                        .map_err(|e| r.error_at(start, format!("utf8-string: {e}")))?,
                )
            }
            13 => Self::Bcd(r.u8("bcd")?),
            15 => Self::Integer(r.u8("integer")? as i8),
            16 => Self::Long(r.u16("long")? as i16),
            17 => Self::Unsigned(r.u8("unsigned")?),
            18 => Self::LongUnsigned(r.u16("long-unsigned")?),
            19 => {
                return Err(r.error_at(
                    at,
                    "compact-array (tag 19) is not implemented by this client",
                ))
            }
            20 => Self::Long64(r.u64("long64")? as i64),
            21 => Self::Long64Unsigned(r.u64("long64-unsigned")?),
            22 => Self::Enum(r.u8("enum")?),
            23 => Self::Float32(f32::from_bits(r.u32("float32")?)),
            24 => Self::Float64(f64::from_bits(r.u64("float64")?)),
            25 => {
                let b = r.take(12, "date-time")?;
                let mut a = [0u8; 12];
                a.copy_from_slice(b);
                Self::DateTime(DateTime::from_octets(a))
            }
            26 => {
                let mut a = [0u8; 5];
                a.copy_from_slice(r.take(5, "date")?);
                Self::Date(a)
            }
            27 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(r.take(4, "time")?);
                Self::Time(a)
            }
            255 => Self::DontCare,
            t => return Err(r.error_at(at, format!("unknown Data tag {t}"))),
        })
    }

    /// The value as a number (integers, enum, bcd as its decimal value, floats).
    pub fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Self::DoubleLong(v) => f64::from(v),
            Self::DoubleLongUnsigned(v) => f64::from(v),
            Self::Integer(v) => f64::from(v),
            Self::Long(v) => f64::from(v),
            Self::Unsigned(v) | Self::Enum(v) => f64::from(v),
            Self::LongUnsigned(v) => f64::from(v),
            Self::Long64(v) => v as f64,
            Self::Long64Unsigned(v) => v as f64,
            Self::Float32(v) => f64::from(v),
            Self::Float64(v) => v,
            Self::Bcd(v) => f64::from((v >> 4) * 10 + (v & 0x0F)),
            _ => return None,
        })
    }

    /// The value as an integer (integer types only).
    pub fn as_i128(&self) -> Option<i128> {
        Some(match *self {
            Self::DoubleLong(v) => i128::from(v),
            Self::DoubleLongUnsigned(v) => i128::from(v),
            Self::Integer(v) => i128::from(v),
            Self::Long(v) => i128::from(v),
            Self::Unsigned(v) | Self::Enum(v) => i128::from(v),
            Self::LongUnsigned(v) => i128::from(v),
            Self::Long64(v) => i128::from(v),
            Self::Long64Unsigned(v) => i128::from(v),
            _ => return None,
        })
    }

    /// The name of the CHOICE alternative.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null-data",
            Self::Array(_) => "array",
            Self::Structure(_) => "structure",
            Self::Boolean(_) => "boolean",
            Self::BitString { .. } => "bit-string",
            Self::DoubleLong(_) => "double-long",
            Self::DoubleLongUnsigned(_) => "double-long-unsigned",
            Self::OctetString(_) => "octet-string",
            Self::VisibleString(_) => "visible-string",
            Self::Utf8String(_) => "utf8-string",
            Self::Bcd(_) => "bcd",
            Self::Integer(_) => "integer",
            Self::Long(_) => "long",
            Self::Unsigned(_) => "unsigned",
            Self::LongUnsigned(_) => "long-unsigned",
            Self::Long64(_) => "long64",
            Self::Long64Unsigned(_) => "long64-unsigned",
            Self::Enum(_) => "enum",
            Self::Float32(_) => "float32",
            Self::Float64(_) => "float64",
            Self::DateTime(_) => "date-time",
            Self::Date(_) => "date",
            Self::Time(_) => "time",
            Self::DontCare => "dont-care",
        }
    }
}

impl fmt::Display for Data {
    /// A human-readable rendering: numbers as numbers, visible strings as text, octet
    /// strings in hex (a 12-byte one is not guessed to be a date-time here).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
        match self {
            Self::Null => write!(f, "null"),
            Self::Array(v) | Self::Structure(v) => {
                write!(
                    f,
                    "{}",
                    if matches!(self, Self::Array(_)) {
                        "["
                    } else {
                        "{"
                    }
                )?;
                for (i, d) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{d}")?;
                }
                write!(
                    f,
                    "{}",
                    if matches!(self, Self::Array(_)) {
                        "]"
                    } else {
                        "}"
                    }
                )
            }
            Self::Boolean(b) => write!(f, "{b}"),
            Self::BitString { bits, bytes } => {
                let s: String = (0..*bits)
                    .map(|i| {
                        if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                            '1'
                        } else {
                            '0'
                        }
                    })
                    .collect();
                write!(f, "{s}")
            }
            Self::OctetString(b) => write!(f, "{}", hex(b)),
            Self::VisibleString(b) => write!(f, "{}", String::from_utf8_lossy(b)),
            Self::Utf8String(s) => write!(f, "{s}"),
            Self::Bcd(v) => write!(f, "{:X}", v),
            Self::Float32(v) => write!(f, "{v}"),
            Self::Float64(v) => write!(f, "{v}"),
            Self::DateTime(dt) => write!(f, "{dt}"),
            Self::Date(d) => write!(f, "date {}", hex(d)),
            Self::Time(t) => write!(f, "time {}", hex(t)),
            Self::DontCare => write!(f, "dont-care"),
            other => write!(f, "{}", other.as_i128().unwrap_or_default()),
        }
    }
}

/// Clock status bits (IEC 62056-6-2 clause 4.1.6.1).
pub mod clock_status {
    /// Time could not be recovered after an incident.
    pub const INVALID_VALUE: u8 = 0x01;
    /// Time could be recovered but its correctness is not guaranteed.
    pub const DOUBTFUL_VALUE: u8 = 0x02;
    /// Clock base differs from the one specified.
    pub const DIFFERENT_CLOCK_BASE: u8 = 0x04;
    /// The status itself is not valid.
    pub const INVALID_CLOCK_STATUS: u8 = 0x08;
    /// Daylight saving time active.
    pub const DAYLIGHT_SAVING_ACTIVE: u8 = 0x80;
}

/// The COSEM date-time (IEC 62056-6-2 clause 4.1.6.1): 12 octets `year(2) month day
/// day-of-week hour minute second hundredths deviation(2) clock-status`. Fields keep the
/// "not specified" markers as sent (0xFFFF year, 0xFF others, 0x8000 deviation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year, 0xFFFF = not specified.
    pub year: u16,
    /// Month 1..12, 0xFD daylight saving end, 0xFE begin, 0xFF not specified.
    pub month: u8,
    /// Day of month 1..31, 0xFD second last, 0xFE last, 0xFF not specified.
    pub day: u8,
    /// Day of week 1 (Monday) ..7, 0xFF not specified.
    pub day_of_week: u8,
    /// Hour 0..23, 0xFF not specified.
    pub hour: u8,
    /// Minute 0..59, 0xFF not specified.
    pub minute: u8,
    /// Second 0..59, 0xFF not specified.
    pub second: u8,
    /// Hundredths of a second 0..99, 0xFF not specified.
    pub hundredths: u8,
    /// Deviation in minutes of local time to UTC (−720..720), `i16::MIN` (0x8000) = not
    /// specified.
    pub deviation: i16,
    /// Clock status bits ([`clock_status`]), 0xFF = not specified.
    pub status: u8,
}

impl DateTime {
    /// Decode the 12 octets (never fails: out-of-range fields are kept and shown as sent).
    pub fn from_octets(b: [u8; 12]) -> Self {
        Self {
            year: u16::from_be_bytes([b[0], b[1]]),
            month: b[2],
            day: b[3],
            day_of_week: b[4],
            hour: b[5],
            minute: b[6],
            second: b[7],
            hundredths: b[8],
            deviation: i16::from_be_bytes([b[9], b[10]]),
            status: b[11],
        }
    }

    /// Decode an octet-string value holding a date-time (the Clock's time attribute).
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let a: [u8; 12] = b.try_into().ok()?;
        Some(Self::from_octets(a))
    }

    /// The 12 octets.
    pub fn to_octets(&self) -> [u8; 12] {
        let y = self.year.to_be_bytes();
        let d = self.deviation.to_be_bytes();
        [
            y[0],
            y[1],
            self.month,
            self.day,
            self.day_of_week,
            self.hour,
            self.minute,
            self.second,
            self.hundredths,
            d[0],
            d[1],
            self.status,
        ]
    }

    /// Whether every field is in its range or "not specified" (IEC 62056-6-2 clause
    /// 4.1.6.1): tells a date-time octet-string from other 12-byte strings.
    pub fn is_valid(&self) -> bool {
        let ok = |v: u8, lo: u8, hi: u8| v == 0xFF || (lo..=hi).contains(&v);
        (ok(self.month, 1, 12) || self.month >= 0xFD)
            && (ok(self.day, 1, 31) || self.day >= 0xFD)
            && ok(self.day_of_week, 1, 7)
            && ok(self.hour, 0, 23)
            && ok(self.minute, 0, 59)
            && ok(self.second, 0, 59)
            && ok(self.hundredths, 0, 99)
            && (self.deviation == i16::MIN || (-720..=720).contains(&self.deviation))
    }

    /// Whether the deviation is specified.
    pub fn deviation_minutes(&self) -> Option<i16> {
        (self.deviation != i16::MIN).then_some(self.deviation)
    }
}

impl fmt::Display for DateTime {
    /// `YYYY-MM-DD hh:mm:ss.cc`, unspecified fields as `*`, then the deviation and the
    /// status flags when present, e.g. `2024-01-02 03:04:05.00 deviation +0 min`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let two = |v: u8| {
            if v == 0xFF {
                "**".to_string()
            } else {
                format!("{v:02}")
            }
        };
        let year = if self.year == 0xFFFF {
            "****".to_string()
        } else {
            format!("{:04}", self.year)
        };
        let month = match self.month {
            0xFD => "DE".to_string(),
            0xFE => "DB".to_string(),
            m => two(m),
        };
        let day = match self.day {
            0xFD => "L2".to_string(),
            0xFE => "LD".to_string(),
            d => two(d),
        };
        write!(
            f,
            "{year}-{month}-{day} {}:{}:{}.{}",
            two(self.hour),
            two(self.minute),
            two(self.second),
            two(self.hundredths)
        )?;
        if let Some(d) = self.deviation_minutes() {
            write!(f, " deviation {d:+} min")?;
        }
        if self.status != 0xFF && self.status != 0 {
            let names = [
                (clock_status::INVALID_VALUE, "invalid"),
                (clock_status::DOUBTFUL_VALUE, "doubtful"),
                (clock_status::DIFFERENT_CLOCK_BASE, "different clock base"),
                (clock_status::INVALID_CLOCK_STATUS, "invalid status"),
                (clock_status::DAYLIGHT_SAVING_ACTIVE, "daylight saving"),
            ];
            let set: Vec<&str> = names
                .iter()
                .filter(|(b, _)| self.status & b != 0)
                .map(|(_, n)| *n)
                .collect();
            write!(f, " status 0x{:02X} ({})", self.status, set.join(", "))?;
        }
        Ok(())
    }
}

/// The unit symbol of a Register's scaler_unit enumeration (IEC 62056-6-2, Register
/// class unit table). `""` for 255 (count, no unit); `None` for codes not in the table.
pub fn unit_symbol(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "a",
        2 => "mo",
        3 => "wk",
        4 => "d",
        5 => "h",
        6 => "min",
        7 => "s",
        8 => "°",
        9 => "°C",
        10 => "currency",
        11 => "m",
        12 => "m/s",
        13 | 14 => "m³",
        15 | 16 => "m³/h",
        17 | 18 => "m³/d",
        19 => "l",
        20 => "kg",
        21 => "N",
        22 => "Nm",
        23 => "Pa",
        24 => "bar",
        25 => "J",
        26 => "J/h",
        27 => "W",
        28 => "VA",
        29 => "var",
        30 => "Wh",
        31 => "VAh",
        32 => "varh",
        33 => "A",
        34 => "C",
        35 => "V",
        36 => "V/m",
        37 => "F",
        38 => "Ω",
        39 => "Ωm²/m",
        40 => "Wb",
        41 => "T",
        42 => "A/m",
        43 => "H",
        44 => "Hz",
        45 => "1/(Wh)",
        46 => "1/(varh)",
        47 => "1/(VAh)",
        48 => "V²h",
        49 => "A²h",
        50 => "kg/s",
        51 => "S",
        52 => "K",
        53 => "1/(V²h)",
        54 => "1/(A²h)",
        55 => "1/m³",
        56 => "%",
        57 => "Ah",
        60 => "Wh/m³",
        61 => "J/m³",
        62 => "mol%",
        63 => "g/m³",
        64 => "Pa s",
        65 => "J/kg",
        66 => "g/cm²",
        67 => "atm",
        70 => "dBm",
        71 => "dBµV",
        72 => "dB",
        254 => "other",
        255 => "",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trip() {
        let d = Data::Structure(vec![
            Data::Integer(-1),
            Data::Enum(35),
            Data::Array(vec![
                Data::LongUnsigned(2301),
                Data::OctetString(vec![1; 200]),
            ]),
            Data::Float64(1.5),
            Data::BitString {
                bits: 12,
                bytes: vec![0xAB, 0xC0],
            },
        ]);
        let b = d.to_bytes();
        assert_eq!(Data::from_bytes(&b).unwrap(), d);
    }

    #[test]
    fn lying_count_is_refused_before_allocation() {
        let e = Data::from_bytes(&[1, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0]).unwrap_err();
        assert_eq!(e.offset, 0);
    }
}
