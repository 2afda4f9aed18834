//! Register contents to numbers: 16-bit registers are big-endian (MAP V1.1b3
//! §4.2); multi-register values put the high word first unless the device says
//! otherwise (`word_order=little`, common on meters).

use pqe_link::RegisterType;

/// Order of the 16-bit words of a multi-register value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WordOrder {
    /// High word first (the usual; `word_order=big`).
    #[default]
    HighFirst,
    /// Low word first (`word_order=little`).
    LowFirst,
}

impl std::str::FromStr for WordOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "big" => Ok(WordOrder::HighFirst),
            "little" => Ok(WordOrder::LowFirst),
            _ => Err(format!("word order '{s}' (expected big or little)")),
        }
    }
}

fn bytes_high_first(words: &[u16], order: WordOrder) -> Vec<u8> {
    let mut w: Vec<u16> = words.to_vec();
    if order == WordOrder::LowFirst {
        w.reverse();
    }
    w.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// The value `words` (exactly `kind.words()` of them) encode. `f32` values
/// come back as the shortest decimal that names the same binary32 (230.1, not
/// 230.10000610351562); `u64` above 2^53 is rounded to the nearest `f64`.
pub fn decode(kind: RegisterType, words: &[u16], order: WordOrder) -> f64 {
    debug_assert_eq!(words.len(), kind.words() as usize);
    let b = bytes_high_first(words, order);
    match kind {
        RegisterType::U16 => u16::from_be_bytes([b[0], b[1]]) as f64,
        RegisterType::I16 => i16::from_be_bytes([b[0], b[1]]) as f64,
        RegisterType::U32 => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
        RegisterType::I32 => i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
        RegisterType::U64 => u64::from_be_bytes(b[..8].try_into().expect("8 bytes")) as f64,
        RegisterType::F32 => {
            let x = f32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            if x.is_finite() {
                x.to_string().parse().unwrap_or(x as f64)
            } else {
                x as f64
            }
        }
        RegisterType::F64 => f64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
    }
}

/// The registers that encode `value` as `kind` (for writes), or an error when
/// it does not fit (out of range, or a fraction for an integer type).
pub fn encode(kind: RegisterType, value: f64, order: WordOrder) -> Result<Vec<u16>, String> {
    let int = |lo: f64, hi: f64| -> Result<f64, String> {
        if value.fract() != 0.0 || value < lo || value > hi {
            Err(format!("{value} does not fit {}", kind.name()))
        } else {
            Ok(value)
        }
    };
    let bytes: Vec<u8> = match kind {
        RegisterType::U16 => (int(0.0, 65535.0)? as u16).to_be_bytes().to_vec(),
        RegisterType::I16 => (int(-32768.0, 32767.0)? as i16).to_be_bytes().to_vec(),
        RegisterType::U32 => (int(0.0, u32::MAX as f64)? as u32).to_be_bytes().to_vec(),
        RegisterType::I32 => (int(i32::MIN as f64, i32::MAX as f64)? as i32)
            .to_be_bytes()
            .to_vec(),
        RegisterType::U64 => (int(0.0, 2f64.powi(53))? as u64).to_be_bytes().to_vec(),
        RegisterType::F32 => (value as f32).to_be_bytes().to_vec(),
        RegisterType::F64 => value.to_be_bytes().to_vec(),
    };
    let mut words: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    if order == WordOrder::LowFirst {
        words.reverse();
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_type_both_orders() {
        assert_eq!(
            decode(RegisterType::F32, &[0x4366, 0x199a], WordOrder::HighFirst),
            230.1
        );
        assert_eq!(
            decode(RegisterType::F32, &[0x199a, 0x4366], WordOrder::LowFirst),
            230.1
        );
        assert_eq!(
            decode(RegisterType::I16, &[0xfffb], WordOrder::HighFirst),
            -5.0
        );
        assert_eq!(
            decode(RegisterType::U32, &[0x075b, 0xcd15], WordOrder::HighFirst),
            123456789.0
        );
        assert_eq!(
            decode(RegisterType::I32, &[0xfffe, 0x7960], WordOrder::HighFirst),
            -100000.0
        );
        assert_eq!(
            decode(
                RegisterType::U64,
                &[0, 0x0b3a, 0x73ce, 0x2ff2],
                WordOrder::HighFirst
            ),
            12345678901234.0
        );
        for k in [
            RegisterType::U16,
            RegisterType::I16,
            RegisterType::U32,
            RegisterType::I32,
            RegisterType::U64,
            RegisterType::F64,
        ] {
            for o in [WordOrder::HighFirst, WordOrder::LowFirst] {
                let v = if matches!(k, RegisterType::U16 | RegisterType::U32 | RegisterType::U64) {
                    4660.0
                } else {
                    -1234.0
                };
                assert_eq!(decode(k, &encode(k, v, o).unwrap(), o), v, "{k:?} {o:?}");
            }
        }
        assert!(encode(RegisterType::U16, 1.5, WordOrder::HighFirst).is_err());
        assert!(encode(RegisterType::I16, 40000.0, WordOrder::HighFirst).is_err());
    }
}
