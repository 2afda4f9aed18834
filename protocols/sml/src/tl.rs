//! The SML type-length field and the values it introduces (SML v1.04 chapter 6
//! "SML-Binary-Encoding": TL byte = more-bit, 3 type bits, 4 length bits; further TL bytes
//! append 4 length bits each; for lists the length counts entries, otherwise bytes
//! including the TL bytes; 00h ends a message, 01h is an absent optional value).

/// A decoded SML node with the offset of its TL field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Offset of the first TL byte, from the start of the message bytes.
    pub offset: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// 01h: an optional value that is not there.
    Absent,
    /// 00h: end of an SML message.
    EndOfMessage,
    OctetString(Vec<u8>),
    Bool(bool),
    /// A signed integer and its width in bytes (1–8).
    Integer(i64, u8),
    /// An unsigned integer and its width in bytes (1–8).
    Unsigned(u64, u8),
    List(Vec<Node>),
}

/// Why bytes are no valid SML encoding; `offset` from the start of the message bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlError {
    #[error("byte {offset}: {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("byte {offset}: {what}")]
    Invalid { offset: usize, what: String },
}

/// Nesting bound: SML messages nest a handful of levels; deeper input is rejected so a
/// hostile stream cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// Decode one node at `at`; returns it and the offset after it.
pub fn parse(bytes: &[u8], at: usize) -> Result<(Node, usize), TlError> {
    parse_depth(bytes, at, 0)
}

fn parse_depth(bytes: &[u8], at: usize, depth: usize) -> Result<(Node, usize), TlError> {
    if depth > MAX_DEPTH {
        return Err(TlError::Invalid {
            offset: at,
            what: format!("lists nested deeper than {MAX_DEPTH}"),
        });
    }
    let first = *bytes.get(at).ok_or(TlError::Truncated {
        offset: at,
        what: "TL field expected",
    })?;
    let node = |kind| Node { offset: at, kind };
    if first == 0x00 {
        return Ok((node(Kind::EndOfMessage), at + 1));
    }
    if first == 0x01 {
        return Ok((node(Kind::Absent), at + 1));
    }
    let ty = (first >> 4) & 0x07;
    let mut len = (first & 0x0F) as usize;
    let mut p = at + 1;
    let mut more = first & 0x80 != 0;
    while more {
        let b = *bytes.get(p).ok_or(TlError::Truncated {
            offset: p,
            what: "further TL byte expected",
        })?;
        if b & 0x70 != 0 {
            return Err(TlError::Invalid {
                offset: p,
                what: format!("further TL byte {b:#04x} has type bits set"),
            });
        }
        if len > 0x0FFF_FFFF {
            return Err(TlError::Invalid {
                offset: p,
                what: "TL length too large".into(),
            });
        }
        len = (len << 4) | (b & 0x0F) as usize;
        more = b & 0x80 != 0;
        p += 1;
    }
    let tl_len = p - at;
    if ty == 0x7 {
        // A list of `len` entries.
        let mut items = Vec::with_capacity(len.min(64));
        for _ in 0..len {
            let (n, next) = parse_depth(bytes, p, depth + 1)?;
            items.push(n);
            p = next;
        }
        return Ok((node(Kind::List(items)), p));
    }
    if len < tl_len {
        return Err(TlError::Invalid {
            offset: at,
            what: format!("length {len} shorter than its {tl_len} TL bytes"),
        });
    }
    let end = at + len;
    let data = bytes.get(p..end).ok_or(TlError::Truncated {
        offset: bytes.len(),
        what: "value shorter than its TL field says",
    })?;
    let kind = match ty {
        0x0 => Kind::OctetString(data.to_vec()),
        0x4 => {
            if data.len() != 1 {
                return Err(TlError::Invalid {
                    offset: at,
                    what: format!("boolean of {} bytes", data.len()),
                });
            }
            Kind::Bool(data[0] != 0)
        }
        0x5 | 0x6 => {
            if data.is_empty() || data.len() > 8 {
                return Err(TlError::Invalid {
                    offset: at,
                    what: format!("integer of {} bytes (1 to 8 allowed)", data.len()),
                });
            }
            let mut u: u64 = 0;
            for b in data {
                u = (u << 8) | *b as u64;
            }
            let w = data.len() as u8;
            if ty == 0x5 {
                Kind::Integer(sign_extend(u, w), w)
            } else {
                Kind::Unsigned(u, w)
            }
        }
        t => {
            return Err(TlError::Invalid {
                offset: at,
                what: format!("TL type {t:03b} is reserved"),
            })
        }
    };
    Ok((node(kind), end))
}

/// Sign-extend the low `width` bytes of `u`.
pub fn sign_extend(u: u64, width: u8) -> i64 {
    let bits = 8 * width as u32;
    if bits >= 64 {
        u as i64
    } else {
        let shift = 64 - bits;
        ((u << shift) as i64) >> shift
    }
}

/// Encoding, for tests, simulators and the fuzz round trip.
pub mod encode {
    /// Write a TL field: `count` is the number of entries of a list, else the number of
    /// value bytes (the TL bytes are added to it as SML wants).
    fn tl(out: &mut Vec<u8>, ty: u8, count: usize) {
        // k TL bytes carry 4k length bits.
        let mut k = 1;
        let total = loop {
            let total = if ty == 7 { count } else { count + k };
            if total < 1usize << (4 * k) {
                break total;
            }
            k += 1;
        };
        for i in (0..k).rev() {
            let nibble = ((total >> (4 * i)) & 0x0F) as u8;
            let more = if i > 0 { 0x80 } else { 0 };
            let ty_bits = if i == k - 1 { ty << 4 } else { 0 };
            out.push(more | ty_bits | nibble);
        }
    }
    pub fn octets(out: &mut Vec<u8>, b: &[u8]) {
        tl(out, 0, b.len());
        out.extend_from_slice(b);
    }
    pub fn unsigned(out: &mut Vec<u8>, v: u64, width: usize) {
        tl(out, 6, width);
        out.extend_from_slice(&v.to_be_bytes()[8 - width..]);
    }
    pub fn integer(out: &mut Vec<u8>, v: i64, width: usize) {
        tl(out, 5, width);
        out.extend_from_slice(&v.to_be_bytes()[8 - width..]);
    }
    pub fn list(out: &mut Vec<u8>, n: usize) {
        tl(out, 7, n);
    }
    pub fn absent(out: &mut Vec<u8>) {
        out.push(0x01);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_types() {
        assert_eq!(
            parse(&[0x52, 0xFF], 0).unwrap().0.kind,
            Kind::Integer(-1, 1)
        );
        assert_eq!(
            parse(&[0x63, 0x01, 0x02], 0).unwrap().0.kind,
            Kind::Unsigned(0x0102, 2)
        );
        assert_eq!(parse(&[0x42, 0x01], 0).unwrap().0.kind, Kind::Bool(true));
        assert_eq!(parse(&[0x01], 0).unwrap().0.kind, Kind::Absent);
    }

    #[test]
    fn long_tl_octet_string_round_trip() {
        let data: Vec<u8> = (0..40).collect();
        let mut out = Vec::new();
        encode::octets(&mut out, &data);
        assert_eq!(&out[..2], &[0x82, 0x0A]); // 42 bytes in all
        let (n, end) = parse(&out, 0).unwrap();
        assert_eq!(n.kind, Kind::OctetString(data));
        assert_eq!(end, out.len());
    }

    #[test]
    fn errors_name_the_byte() {
        assert_eq!(
            parse(&[0x71, 0x65, 0x01], 0).unwrap_err(),
            TlError::Truncated {
                offset: 3,
                what: "value shorter than its TL field says"
            }
        );
        assert!(matches!(
            parse(&[0x10], 0).unwrap_err(),
            TlError::Invalid { offset: 0, .. }
        ));
    }
}
