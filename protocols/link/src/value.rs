//! Values read from meters and the selectors that ask for them.

use crate::error::{LinkError, Result};
use crate::obis::ObisCode;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A value: a number with the scaler applied, or text (identifiers, dates, status words).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reading {
    /// A number, scaler applied.
    Number(f64),
    /// Text as the meter gives it.
    Text(String),
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reading::Number(x) => write!(f, "{x}"),
            Reading::Text(s) => f.write_str(s),
        }
    }
}

/// One value read from a meter (`pqe meter read --json` prints an array of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// What the protocol calls it: an OBIS code, a register (`hr:0x0156:f32`), a map
    /// name or an M-Bus record.
    pub id: String,
    /// The value.
    pub value: Reading,
    /// The unit symbol ("Wh", "kWh", "V", "A", "W", "Hz"); "" where none.
    pub unit: String,
}

impl Value {
    /// A numeric value.
    pub fn number(id: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        Value {
            id: id.into(),
            value: Reading::Number(value),
            unit: unit.into(),
        }
    }

    /// A text value.
    pub fn text(id: impl Into<String>, value: impl Into<String>, unit: impl Into<String>) -> Self {
        Value {
            id: id.into(),
            value: Reading::Text(value.into()),
            unit: unit.into(),
        }
    }
}

/// Modbus register table (Modbus Application Protocol v1.1b3 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterTable {
    /// Holding registers (read with FC03, written with FC06/FC16).
    Holding,
    /// Input registers (read with FC04, read-only).
    Input,
}

/// How consecutive 16-bit registers encode a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterType {
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit (two's complement).
    I16,
    /// Unsigned 32-bit, two registers.
    U32,
    /// Signed 32-bit, two registers.
    I32,
    /// Unsigned 64-bit, four registers.
    U64,
    /// IEEE 754 binary32, two registers.
    F32,
    /// IEEE 754 binary64, four registers.
    F64,
}

impl RegisterType {
    /// Registers the type occupies.
    pub fn words(self) -> u16 {
        match self {
            RegisterType::U16 | RegisterType::I16 => 1,
            RegisterType::U32 | RegisterType::I32 | RegisterType::F32 => 2,
            RegisterType::U64 | RegisterType::F64 => 4,
        }
    }

    /// Its name in selectors and maps.
    pub fn name(self) -> &'static str {
        match self {
            RegisterType::U16 => "u16",
            RegisterType::I16 => "i16",
            RegisterType::U32 => "u32",
            RegisterType::I32 => "i32",
            RegisterType::U64 => "u64",
            RegisterType::F32 => "f32",
            RegisterType::F64 => "f64",
        }
    }
}

impl FromStr for RegisterType {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "u16" => RegisterType::U16,
            "i16" => RegisterType::I16,
            "u32" => RegisterType::U32,
            "i32" => RegisterType::I32,
            "u64" => RegisterType::U64,
            "f32" => RegisterType::F32,
            "f64" => RegisterType::F64,
            _ => {
                return Err(LinkError::Config(format!(
                    "register type '{s}' (expected u16|i16|u32|i32|u64|f32|f64)"
                )))
            }
        })
    }
}

/// A register selector `TABLE:ADDR:TYPE` (`hr:0x156:f32`): ADDR is the 0-based PDU address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterRef {
    /// Holding or input.
    pub table: RegisterTable,
    /// 0-based PDU address of the first register.
    pub address: u16,
    /// Encoding.
    pub kind: RegisterType,
}

impl fmt::Display for RegisterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = match self.table {
            RegisterTable::Holding => "hr",
            RegisterTable::Input => "ir",
        };
        write!(f, "{t}:{}:{}", self.address, self.kind.name())
    }
}

/// Parses a register address: decimal or `0x` hex, 0..65535.
pub fn parse_address(s: &str) -> Option<u16> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

impl FromStr for RegisterRef {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            LinkError::Config(format!(
                "register '{s}': {why} (expected TABLE:ADDR:TYPE, e.g. ir:0x156:f32)"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("three fields"));
        }
        let table = match parts[0].to_ascii_lowercase().as_str() {
            "hr" => RegisterTable::Holding,
            "ir" => RegisterTable::Input,
            _ => return Err(bad("TABLE must be hr or ir")),
        };
        let address = parse_address(parts[1])
            .ok_or_else(|| bad("ADDR must be 0..65535, decimal or 0x hex"))?;
        let kind: RegisterType = parts[2]
            .parse()
            .map_err(|_| bad("TYPE must be u16|i16|u32|i32|u64|f32|f64"))?;
        if address as u32 + kind.words() as u32 > 65536 {
            return Err(bad("the value runs past register 65535"));
        }
        Ok(RegisterRef {
            table,
            address,
            kind,
        })
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A value by OBIS code.
    Obis(ObisCode),
    /// A Modbus register.
    Register(RegisterRef),
    /// A name the link knows (a register-map entry, an M-Bus record).
    Name(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Obis(o) => write!(f, "{}", o.short()),
            Selector::Register(r) => write!(f, "{r}"),
            Selector::Name(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_selectors_parse() {
        let r: RegisterRef = "ir:0x156:f32".parse().unwrap();
        assert_eq!(
            r,
            RegisterRef {
                table: RegisterTable::Input,
                address: 0x156,
                kind: RegisterType::F32
            }
        );
        assert_eq!(r.to_string(), "ir:342:f32");
        assert_eq!("hr:0:u64".parse::<RegisterRef>().unwrap().kind.words(), 4);
        for bad in [
            "xr:1:u16",
            "hr:70000:u16",
            "hr:1",
            "hr:65535:u32",
            "hr:1:u8",
        ] {
            let e = bad.parse::<RegisterRef>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn values_serialise_as_the_contract_says() {
        let v = vec![
            Value::number("1.8.0", 12345.678, "kWh"),
            Value::text("0.0.0", "123", ""),
        ];
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[{"id":"1.8.0","value":12345.678,"unit":"kWh"},{"id":"0.0.0","value":"123","unit":""}]"#
        );
    }
}
