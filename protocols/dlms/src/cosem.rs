//! Interpretation of COSEM interface class attributes (IEC 62056-6-2): Register (class 3)
//! value with scaler_unit, Clock (class 8) time, Profile generic (class 7) capture objects
//! and buffer into a table.

use crate::axdr::{unit_symbol, Data, DateTime};
use crate::error::{Error, Result};
use crate::xdlms::Obis;

/// A register value with its scaler and unit applied (IEC 62056-6-2 clause 4.3.2:
/// value × 10^scaler, unit from the enumeration).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterValue {
    /// The value as sent.
    pub raw: Data,
    /// Scaler (power of ten).
    pub scaler: i8,
    /// Unit enumeration code.
    pub unit_code: u8,
    /// The scaled value (numbers only).
    pub value: Option<f64>,
    /// Unit symbol ("" for none/count).
    pub unit: String,
}

/// Decode the scaler_unit attribute: `structure { integer scaler, enum unit }`.
pub fn scaler_unit(d: &Data) -> Result<(i8, u8)> {
    match d {
        Data::Structure(v) if v.len() == 2 => match (&v[0], &v[1]) {
            (Data::Integer(s), Data::Enum(u)) => Ok((*s, *u)),
            (a, b) => Err(Error::Unexpected {
                expected: "scaler_unit {integer, enum}",
                got: format!("{{{}, {}}}", a.type_name(), b.type_name()),
            }),
        },
        other => Err(Error::Unexpected {
            expected: "scaler_unit structure of two",
            got: other.type_name().into(),
        }),
    }
}

/// Apply `10^scaler` exactly for decimal scalers (the division by a power of ten keeps
/// 230.1 from becoming 230.10000000000002).
pub fn apply_scaler(raw: f64, scaler: i8) -> f64 {
    if scaler >= 0 {
        raw * 10f64.powi(i32::from(scaler))
    } else {
        raw / 10f64.powi(-i32::from(scaler))
    }
}

impl RegisterValue {
    /// Combine a value attribute with a scaler_unit attribute.
    pub fn new(raw: Data, scaler_unit_attr: &Data) -> Result<Self> {
        let (scaler, unit_code) = scaler_unit(scaler_unit_attr)?;
        let value = raw.as_f64().map(|v| apply_scaler(v, scaler));
        let unit =
            unit_symbol(unit_code).map_or_else(|| format!("unit {unit_code}"), str::to_string);
        Ok(Self {
            raw,
            scaler,
            unit_code,
            value,
            unit,
        })
    }
}

/// The Clock time attribute: date-time either as the date-time type or as a 12-byte
/// octet-string (as most meters send it).
pub fn clock_time(d: &Data) -> Result<DateTime> {
    match d {
        Data::DateTime(t) => Ok(*t),
        Data::OctetString(b) => DateTime::from_slice(b).ok_or_else(|| Error::Unexpected {
            expected: "a 12-byte date-time octet-string",
            got: format!("{} bytes", b.len()),
        }),
        other => Err(Error::Unexpected {
            expected: "date-time",
            got: other.type_name().into(),
        }),
    }
}

/// One capture object of a profile (IEC 62056-6-2 clause 4.3.6, capture_object_definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureObject {
    /// Class id.
    pub class_id: u16,
    /// Logical name.
    pub logical_name: Obis,
    /// Attribute index.
    pub attribute: i8,
    /// Data index (0 = whole attribute).
    pub data_index: u16,
}

impl CaptureObject {
    /// Column name: `A-B:C.D.E*F/attribute` (and `[data_index]` when non-zero).
    pub fn column_name(&self) -> String {
        if self.data_index == 0 {
            format!("{}/{}", self.logical_name, self.attribute)
        } else {
            format!(
                "{}/{}[{}]",
                self.logical_name, self.attribute, self.data_index
            )
        }
    }
}

/// Decode capture_objects: array of `structure { long-unsigned class_id, octet-string
/// logical_name, integer attribute_index, long-unsigned data_index }`.
pub fn capture_objects(d: &Data) -> Result<Vec<CaptureObject>> {
    let Data::Array(items) = d else {
        return Err(Error::Unexpected {
            expected: "capture_objects array",
            got: d.type_name().into(),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Data::Structure(f) if f.len() == 4 => match (&f[0], &f[1], &f[2], &f[3]) {
                (
                    Data::LongUnsigned(c),
                    Data::OctetString(ln),
                    Data::Integer(a),
                    Data::LongUnsigned(di),
                ) if ln.len() == 6 => {
                    let mut o = [0u8; 6];
                    o.copy_from_slice(ln);
                    Ok(CaptureObject {
                        class_id: *c,
                        logical_name: Obis(o),
                        attribute: *a,
                        data_index: *di,
                    })
                }
                _ => Err(Error::Unexpected {
                    expected:
                        "capture object {long-unsigned, octet-string(6), integer, long-unsigned}",
                    got: format!("element {i}: {item}"),
                }),
            },
            _ => Err(Error::Unexpected {
                expected: "capture object structure of four",
                got: format!("element {i}: {}", item.type_name()),
            }),
        })
        .collect()
}

/// A profile buffer as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileTable {
    /// Column names: from the capture objects, or `column N` when the meter did not give them.
    pub columns: Vec<String>,
    /// Capture objects, when read.
    pub capture_objects: Option<Vec<CaptureObject>>,
    /// One row per entry, one cell per column.
    pub rows: Vec<Vec<Data>>,
}

impl ProfileTable {
    /// Build from the buffer attribute (array of structures) and optionally the capture
    /// objects. Every row must have as many cells as the first (or as capture objects).
    pub fn new(buffer: &Data, capture: Option<Vec<CaptureObject>>) -> Result<Self> {
        let Data::Array(entries) = buffer else {
            return Err(Error::Unexpected {
                expected: "profile buffer array",
                got: buffer.type_name().into(),
            });
        };
        let mut rows = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            match e {
                Data::Structure(cells) => rows.push(cells.clone()),
                other => {
                    return Err(Error::Unexpected {
                        expected: "profile entry structure",
                        got: format!("entry {i}: {}", other.type_name()),
                    })
                }
            }
        }
        let width = capture
            .as_ref()
            .map(Vec::len)
            .or_else(|| rows.first().map(Vec::len))
            .unwrap_or(0);
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
            return Err(Error::Unexpected {
                expected: "entries of equal width",
                got: format!("entry {i} has {} cells, {width} expected", r.len()),
            });
        }
        let columns = match &capture {
            Some(c) => c.iter().map(CaptureObject::column_name).collect(),
            None => (1..=width).map(|i| format!("column {i}")).collect(),
        };
        Ok(Self {
            columns,
            capture_objects: capture,
            rows,
        })
    }
}
