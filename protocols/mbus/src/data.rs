//! The application layer of a response (EN 13757-3): the fixed data header, the variable
//! data blocks (DIB = DIF + DIFEs, VIB = VIF + VIFEs, data) and the fixed data structure.

use crate::vif::{self, Correction, Quantity};
use std::fmt;

/// Why user data could not be decoded. `offset` counts from the first user-data byte
/// (the byte after the CI-field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("user data byte {offset}: {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("user data byte {offset}: {what}")]
    Invalid { offset: usize, what: String },
    #[error("CI-field {ci:#04x}: this application layer is not implemented (only 72h/76h variable and 73h/77h fixed responses)")]
    UnsupportedCi { ci: u8 },
}

/// The 12-byte fixed data header of a variable data response (EN 13757-3 clause 6.1,
/// CI = 72h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Identification number: the 8 BCD digits as read, as a hexadecimal number
    /// (12345678h for the ID 12345678), so wildcard or corrupt digits (A–F) stay visible;
    /// [`Header::id_decimal`] gives the number when every digit is decimal.
    pub id: u32,
    /// The raw manufacturer field (EN 13757-3 clause 6.3: three letters of 5 bits).
    pub manufacturer: u16,
    pub version: u8,
    /// Device type (medium), EN 13757-3 table 3.
    pub medium: u8,
    pub access_number: u8,
    pub status: u8,
    pub signature: u16,
    /// The raw four identification bytes (LSB first as on the wire).
    pub id_bytes: [u8; 4],
}

impl Header {
    /// The identification number when all its digits are decimal.
    pub fn id_decimal(&self) -> Option<u32> {
        bcd(&self.id_bytes).map(|v| v as u32)
    }
    /// The manufacturer's three-letter code (EN 62056-21 FLAG code).
    pub fn manufacturer_code(&self) -> String {
        manufacturer_code(self.manufacturer)
    }
    /// The device type's name.
    pub fn medium_name(&self) -> &'static str {
        vif::medium_name(self.medium)
    }
    /// The secondary address (ID, manufacturer, version, medium) as it is selected
    /// with SND_UD / CI = 52h.
    pub fn secondary_address(&self) -> crate::SecondaryAddress {
        crate::SecondaryAddress {
            id: self.id_bytes,
            manufacturer: self.manufacturer,
            version: self.version,
            medium: self.medium,
        }
    }
}

/// The three letters of a manufacturer field.
pub fn manufacturer_code(m: u16) -> String {
    [(m >> 10) & 0x1F, (m >> 5) & 0x1F, m & 0x1F]
        .iter()
        .map(|c| (*c as u8 + 64) as char)
        .collect()
}

/// Decode BCD digits stored least significant byte first. A top nibble Fh marks a
/// negative number (EN 13757-3 annex A, type A). Returns `None` on a non-decimal digit.
pub fn bcd(bytes: &[u8]) -> Option<i64> {
    let mut value: i64 = 0;
    let mut negative = false;
    for (i, b) in bytes.iter().enumerate().rev() {
        let (hi, lo) = (b >> 4, b & 0x0F);
        let hi = if i == bytes.len() - 1 && hi == 0x0F {
            negative = true;
            0
        } else {
            hi
        };
        if hi > 9 || lo > 9 {
            return None;
        }
        value = value * 100 + (hi as i64) * 10 + lo as i64;
    }
    Some(if negative { -value } else { value })
}

/// Function field of the DIF (EN 13757-3 table 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Instantaneous,
    Maximum,
    Minimum,
    ErrorState,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Instantaneous => "Instantaneous value",
            Function::Maximum => "Maximum value",
            Function::Minimum => "Minimum value",
            Function::ErrorState => "Value during error state",
        }
    }
}

/// Data field coding of the DIF (EN 13757-3 table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    NoData,
    Integer(usize),
    Real32,
    SelectionForReadout,
    Bcd(usize),
    VariableLength,
    /// DIF xFh with x ≠ 0, 1, 2, 7 (not a defined special function).
    Special,
}

impl Coding {
    fn from_dif(dif: u8) -> Coding {
        match dif & 0x0F {
            0x0 => Coding::NoData,
            0x1 => Coding::Integer(1),
            0x2 => Coding::Integer(2),
            0x3 => Coding::Integer(3),
            0x4 => Coding::Integer(4),
            0x5 => Coding::Real32,
            0x6 => Coding::Integer(6),
            0x7 => Coding::Integer(8),
            0x8 => Coding::SelectionForReadout,
            0x9 => Coding::Bcd(1),
            0xA => Coding::Bcd(2),
            0xB => Coding::Bcd(3),
            0xC => Coding::Bcd(4),
            0xD => Coding::VariableLength,
            0xE => Coding::Bcd(6),
            _ => Coding::Special,
        }
    }
}

/// A data information block: DIF and DIFEs (EN 13757-3 clause 6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dib {
    pub dif: u8,
    pub difes: Vec<u8>,
    pub function: Function,
    pub coding: Coding,
    /// Storage number: DIF bit 6 and 4 bits per DIFE (0 = current value).
    pub storage_number: u64,
    /// Tariff (2 bits per DIFE); `None` when the record has no DIFE.
    pub tariff: Option<u32>,
    /// Subunit (device unit, 1 bit per DIFE); `None` when the record has no DIFE.
    pub subunit: Option<u32>,
}

/// A value information block: VIF, VIFEs and the plain-text unit of VIF 7Ch/FCh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vib {
    pub vif: u8,
    pub vifes: Vec<u8>,
    /// The unit string of a plain-text VIF (characters in reading order).
    pub plain_text: Option<String>,
}

impl Vib {
    /// What the block names: quantity, unit and factor (without VIFE corrections).
    pub fn quantity(&self) -> Quantity {
        let unknown = |code: &str| Quantity {
            name: format!("Unknown VIF {code}"),
            unit: "",
            factor: 1.0,
        };
        match self.vif {
            0xFD => match self.vifes.first() {
                Some(v) => vif::extension_fd(*v).unwrap_or_else(|| unknown("FDh")),
                None => unknown("FDh without VIFE"),
            },
            0xFB => match self.vifes.first() {
                Some(v) => vif::extension_fb(*v).unwrap_or_else(|| unknown("FBh")),
                None => unknown("FBh without VIFE"),
            },
            0x7C | 0xFC => Quantity {
                name: self.plain_text.clone().unwrap_or_default(),
                unit: "-",
                factor: 1.0,
            },
            v => vif::primary(v).unwrap_or_else(|| unknown(&format!("{v:#04x}"))),
        }
    }

    /// The VIFEs that qualify the value (the first VIFE of FDh/FBh is the code itself).
    pub fn combinable_vifes(&self) -> &[u8] {
        match self.vif {
            0xFD | 0xFB => self.vifes.get(1..).unwrap_or(&[]),
            _ => &self.vifes,
        }
    }

    /// Multiplicative and additive corrections the combinable VIFEs apply (EN 13757-3
    /// table 15). VIFEs after a manufacturer-specific VIFE (FFh/7Fh) are not interpreted;
    /// nor are those of a manufacturer-specific VIF.
    pub fn corrections(&self) -> Vec<Correction> {
        if self.vif & 0x7F == 0x7F {
            return Vec::new();
        }
        self.combinable_vifes()
            .iter()
            .take_while(|v| **v & 0x7F != 0x7F)
            .filter_map(|v| vif::correction(*v))
            .collect()
    }

    fn is(&self, code: u8) -> bool {
        self.vif & 0x7F == code
    }

    fn is_fd(&self, code: u8) -> bool {
        self.vif == 0xFD && self.vifes.first().is_some_and(|v| v & 0x7F == code)
    }
}

/// A date (EN 13757-3 annex A, type G) or date and time (types F and I).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Type G carries no time.
    pub has_time: bool,
    /// The "time invalid" bit (IV) of types F and I.
    pub invalid: bool,
    /// The summer-time bit (SU).
    pub summer_time: bool,
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if self.has_time {
            write!(
                f,
                "T{:02}:{:02}:{:02}Z",
                self.hour, self.minute, self.second
            )?;
        }
        Ok(())
    }
}

/// The year of types F, G and I: 7 bits, 3 in the day byte and 4 in the month byte. The
/// standard codes years 0–99 with an implied century; years 0–80 are taken as 2000–2080
/// and 81–99 as 1981–1999 (the window libmbus uses, so a meter's 96 reads 1996). Codes
/// 100–127 are undefined and read 1900 + code (127, all bits set, reads 2027).
fn year(day_byte: u8, month_byte: u8) -> u16 {
    let y = (((day_byte & 0xE0) >> 5) | ((month_byte & 0xF0) >> 1)) as u16;
    if y <= 80 {
        2000 + y
    } else {
        1900 + y
    }
}

/// Type G: compound CP16 date.
pub fn date_g(b: [u8; 2]) -> DateTime {
    DateTime {
        year: year(b[0], b[1]),
        month: b[1] & 0x0F,
        day: b[0] & 0x1F,
        hour: 0,
        minute: 0,
        second: 0,
        has_time: false,
        invalid: false,
        summer_time: false,
    }
}

/// Type F: compound CP32 date and time (minutes resolution).
pub fn date_time_f(b: [u8; 4]) -> DateTime {
    DateTime {
        year: year(b[2], b[3]),
        month: b[3] & 0x0F,
        day: b[2] & 0x1F,
        hour: b[1] & 0x1F,
        minute: b[0] & 0x3F,
        second: 0,
        has_time: true,
        invalid: b[0] & 0x80 != 0,
        summer_time: b[1] & 0x80 != 0,
    }
}

/// Type I: compound CP48 date and time (seconds resolution).
pub fn date_time_i(b: [u8; 6]) -> DateTime {
    DateTime {
        year: year(b[3], b[4]),
        month: b[4] & 0x0F,
        day: b[3] & 0x1F,
        hour: b[2] & 0x1F,
        minute: b[1] & 0x3F,
        second: b[0] & 0x3F,
        has_time: true,
        invalid: b[1] & 0x80 != 0,
        summer_time: b[0] & 0x40 != 0,
    }
}

/// The value of a data record, decoded according to its DIF (and, for dates, its VIF).
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    None,
    Integer(i64),
    Real(f64),
    /// BCD digits that are all decimal (a top nibble Fh is the minus sign).
    Bcd(i64),
    /// BCD field with a non-decimal digit (e.g. an error indication): the raw bytes.
    InvalidBcd(Vec<u8>),
    Date(DateTime),
    Text(String),
    /// Binary LVAR data (most significant byte first).
    Bytes(Vec<u8>),
}

impl RawValue {
    /// The numeric value, if the value is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            RawValue::Integer(v) | RawValue::Bcd(v) => Some(*v as f64),
            RawValue::Real(v) => Some(*v),
            _ => None,
        }
    }
}

/// One data record of a variable data response.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A data record (DIB, VIB, value).
    Data(DataRecord),
    /// DIF 0Fh (manufacturer-specific data to the end) or 1Fh (the same, and more
    /// records follow in the next telegram), with the bytes that follow.
    ManufacturerData {
        offset: usize,
        more_records_follow: bool,
        bytes: Vec<u8>,
    },
}

/// A data record with its position in the user data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRecord {
    /// Offset of the DIF from the first user-data byte.
    pub offset: usize,
    pub dib: Dib,
    pub vib: Vib,
    pub value: RawValue,
}

impl DataRecord {
    /// Quantity, unit and the value scaled into the unit (VIF exponent and the
    /// combinable VIFEs' correction factors applied). Non-numeric values give `None`.
    pub fn scaled(&self) -> (Quantity, Option<f64>) {
        let quantity = self.vib.quantity();
        let value = self.value.as_f64().map(|raw| {
            let mut v = raw * quantity.factor;
            for c in self.vib.corrections() {
                match c {
                    Correction::Multiply(f) => v *= f,
                    Correction::Add(a) => v += a,
                }
            }
            v
        });
        (quantity, value)
    }
}

/// A decoded variable data response (CI = 72h / 76h).
#[derive(Debug, Clone, PartialEq)]
pub struct VariableData {
    pub header: Header,
    pub records: Vec<Record>,
}

impl VariableData {
    /// True if the last record is DIF 1Fh: the slave has more records for the next
    /// REQ_UD2 (EN 13757-3 clause 6.5, multi-telegram readout).
    pub fn more_records_follow(&self) -> bool {
        matches!(
            self.records.last(),
            Some(Record::ManufacturerData {
                more_records_follow: true,
                ..
            })
        )
    }
}

/// A counter of the fixed data structure (CI = 73h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedCounter {
    /// Unit code (6 bits) and its symbol with decade, e.g. "10 kWh".
    pub unit_code: u8,
    pub value: i64,
}

/// A decoded fixed data response (EN 13757-3 annex "fixed data structure").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedData {
    pub id: u32,
    pub access_number: u8,
    pub status: u8,
    /// Medium from the top two bits of both unit bytes (4 bits).
    pub medium: u8,
    /// Status bit 6: the counters are historic (stored) values.
    pub stored: bool,
    pub counters: [FixedCounter; 2],
}

impl FixedData {
    pub fn medium_name(&self) -> &'static str {
        [
            "Other",
            "Oil",
            "Electricity",
            "Gas",
            "Heat",
            "Steam",
            "Hot Water",
            "Water",
            "H.C.A.",
            "Reserved",
            "Gas Mode 2",
            "Heat Mode 2",
            "Hot Water Mode 2",
            "Water Mode 2",
            "H.C.A. Mode 2",
            "Reserved",
        ][(self.medium & 0x0F) as usize]
    }
    pub fn function_name(&self) -> &'static str {
        if self.stored {
            "Stored value"
        } else {
            "Actual value"
        }
    }
}

/// The application layer of a RSP_UD.
#[derive(Debug, Clone, PartialEq)]
pub enum UserData {
    Variable(VariableData),
    Fixed(FixedData),
}

/// Decode the user data of a RSP_UD by its CI-field.
pub fn decode(ci: u8, data: &[u8]) -> Result<UserData, DataError> {
    match ci {
        0x72 => decode_variable(data, false).map(UserData::Variable),
        0x76 => decode_variable(data, true).map(UserData::Variable),
        0x73 | 0x77 => decode_fixed(data, ci == 0x77).map(UserData::Fixed),
        ci => Err(DataError::UnsupportedCi { ci }),
    }
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn bcd_id(b: [u8; 4]) -> u32 {
    u32::from_le_bytes(b)
}

fn ordered(bytes: &[u8], msb_first: bool) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if msb_first {
        v.reverse();
    }
    v
}

/// Decode the fixed data structure (CI 73h, or 77h MSB first).
pub fn decode_fixed(data: &[u8], msb_first: bool) -> Result<FixedData, DataError> {
    if data.len() < 16 {
        return Err(DataError::Truncated {
            offset: data.len(),
            what: "fixed data structure needs 16 bytes",
        });
    }
    let id_b: Vec<u8> = ordered(&data[0..4], msb_first);
    let id_bytes = [id_b[0], id_b[1], id_b[2], id_b[3]];
    let status = data[5];
    let (t1, t2) = (data[6], data[7]);
    let binary = status & 0x80 != 0;
    let counter = |at: usize| -> Result<i64, DataError> {
        let b = ordered(&data[at..at + 4], msb_first);
        if binary {
            Ok(le_u32(&b) as i32 as i64)
        } else {
            bcd(&b).ok_or(DataError::Invalid {
                offset: at,
                what: format!(
                    "counter BCD digits {:02X?} are not decimal",
                    &data[at..at + 4]
                ),
            })
        }
    };
    Ok(FixedData {
        id: bcd_id(id_bytes),
        access_number: data[4],
        status,
        medium: ((t1 & 0xC0) >> 6) | ((t2 & 0xC0) >> 4),
        stored: status & 0x40 != 0,
        counters: [
            FixedCounter {
                unit_code: t1 & 0x3F,
                value: counter(8)?,
            },
            FixedCounter {
                unit_code: t2 & 0x3F,
                value: counter(12)?,
            },
        ],
    })
}

/// Decode a variable data response: the 12-byte header and the data records.
pub fn decode_variable(data: &[u8], msb_first: bool) -> Result<VariableData, DataError> {
    if data.len() < 12 {
        return Err(DataError::Truncated {
            offset: data.len(),
            what: "variable data header needs 12 bytes",
        });
    }
    let id_b = ordered(&data[0..4], msb_first);
    let id_bytes = [id_b[0], id_b[1], id_b[2], id_b[3]];
    let m = ordered(&data[4..6], msb_first);
    let s = ordered(&data[10..12], msb_first);
    let header = Header {
        id: bcd_id(id_bytes),
        manufacturer: u16::from_le_bytes([m[0], m[1]]),
        version: data[6],
        medium: data[7],
        access_number: data[8],
        status: data[9],
        signature: u16::from_le_bytes([s[0], s[1]]),
        id_bytes,
    };
    let records = decode_records(data, 12, msb_first)?;
    Ok(VariableData { header, records })
}

/// Decode data records from `data[start..]` (offsets in errors and records count from
/// the start of `data`).
pub fn decode_records(
    data: &[u8],
    start: usize,
    msb_first: bool,
) -> Result<Vec<Record>, DataError> {
    let mut records = Vec::new();
    let mut at = start;
    while at < data.len() {
        let offset = at;
        let dif = data[at];
        at += 1;
        match dif {
            0x2F => continue, // idle filler (EN 13757-3 table 6)
            0x0F | 0x1F => {
                records.push(Record::ManufacturerData {
                    offset,
                    more_records_follow: dif == 0x1F,
                    bytes: data[at..].to_vec(),
                });
                break;
            }
            0x7F => {
                return Err(DataError::Invalid {
                    offset,
                    what: "DIF 7Fh (global readout request) in a response".into(),
                })
            }
            _ => {}
        }
        if dif & 0x0F == 0x0F {
            return Err(DataError::Invalid {
                offset,
                what: format!("DIF {dif:#04x} is a reserved special function"),
            });
        }
        // DIFEs: at most 10 (EN 13757-3 clause 6.3.3).
        let mut difes = Vec::new();
        let mut ext = dif & 0x80 != 0;
        while ext {
            let b = *data.get(at).ok_or(DataError::Truncated {
                offset: at,
                what: "DIFE expected",
            })?;
            if difes.len() == 10 {
                return Err(DataError::Invalid {
                    offset: at,
                    what: "more than 10 DIFEs".into(),
                });
            }
            difes.push(b);
            ext = b & 0x80 != 0;
            at += 1;
        }
        let mut storage = ((dif >> 6) & 1) as u64;
        let (mut tariff, mut subunit) = (0u32, 0u32);
        for (i, d) in difes.iter().enumerate() {
            storage |= ((d & 0x0F) as u64) << (1 + 4 * i);
            tariff |= (((d >> 4) & 3) as u32) << (2 * i);
            subunit |= (((d >> 6) & 1) as u32) << i;
        }
        let dib = Dib {
            dif,
            function: [
                Function::Instantaneous,
                Function::Maximum,
                Function::Minimum,
                Function::ErrorState,
            ][((dif >> 4) & 3) as usize],
            coding: Coding::from_dif(dif),
            storage_number: storage,
            tariff: (!difes.is_empty()).then_some(tariff),
            subunit: (!difes.is_empty()).then_some(subunit),
            difes,
        };
        // VIF, plain text, VIFEs (at most 10).
        let vif = *data.get(at).ok_or(DataError::Truncated {
            offset: at,
            what: "VIF expected",
        })?;
        at += 1;
        let mut plain_text = None;
        if vif & 0x7F == 0x7C {
            // Plain-text VIF: a length byte and the characters, directly after the VIF
            // (as the meters of the libmbus vectors send it), last character first.
            let len = *data.get(at).ok_or(DataError::Truncated {
                offset: at,
                what: "plain-text VIF length expected",
            })? as usize;
            at += 1;
            let text = data.get(at..at + len).ok_or(DataError::Truncated {
                offset: at,
                what: "plain-text VIF characters",
            })?;
            plain_text = Some(text.iter().rev().map(|b| *b as char).collect());
            at += len;
        }
        let mut vifes = Vec::new();
        let mut ext = vif & 0x80 != 0;
        while ext {
            let b = *data.get(at).ok_or(DataError::Truncated {
                offset: at,
                what: "VIFE expected",
            })?;
            if vifes.len() == 10 {
                return Err(DataError::Invalid {
                    offset: at,
                    what: "more than 10 VIFEs".into(),
                });
            }
            vifes.push(b);
            ext = b & 0x80 != 0;
            at += 1;
        }
        let vib = Vib {
            vif,
            vifes,
            plain_text,
        };
        let (value, next) = decode_value(data, at, &dib, &vib, msb_first)?;
        at = next;
        records.push(Record::Data(DataRecord {
            offset,
            dib,
            vib,
            value,
        }));
    }
    Ok(records)
}

fn take<'a>(
    data: &'a [u8],
    at: usize,
    n: usize,
    what: &'static str,
) -> Result<&'a [u8], DataError> {
    data.get(at..at + n)
        .ok_or(DataError::Truncated { offset: at, what })
}

fn signed_le(b: &[u8]) -> i64 {
    let mut v: i64 = 0;
    for (i, x) in b.iter().enumerate() {
        v |= (*x as i64) << (8 * i);
    }
    let bits = 8 * b.len() as u32;
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        v -= 1 << bits;
    }
    v
}

fn decode_value(
    data: &[u8],
    at: usize,
    dib: &Dib,
    vib: &Vib,
    msb_first: bool,
) -> Result<(RawValue, usize), DataError> {
    let value_err = "data field shorter than its DIF says";
    Ok(match dib.coding {
        Coding::NoData | Coding::SelectionForReadout => (RawValue::None, at),
        Coding::Integer(n) => {
            let b = ordered(take(data, at, n, value_err)?, msb_first);
            let v = if n == 2 && vib.is(0x6C) {
                RawValue::Date(date_g([b[0], b[1]]))
            } else if n == 4 && (vib.is(0x6D) || vib.is_fd(0x30) || vib.is_fd(0x70)) {
                RawValue::Date(date_time_f([b[0], b[1], b[2], b[3]]))
            } else if n == 6 && (vib.is(0x6D) || vib.is_fd(0x30) || vib.is_fd(0x70)) {
                RawValue::Date(date_time_i([b[0], b[1], b[2], b[3], b[4], b[5]]))
            } else {
                RawValue::Integer(signed_le(&b))
            };
            (v, at + n)
        }
        Coding::Real32 => {
            let b = ordered(take(data, at, 4, value_err)?, msb_first);
            (
                RawValue::Real(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
                at + 4,
            )
        }
        Coding::Bcd(n) => {
            let b = ordered(take(data, at, n, value_err)?, msb_first);
            let v = match bcd(&b) {
                Some(v) => RawValue::Bcd(v),
                None => RawValue::InvalidBcd(b),
            };
            (v, at + n)
        }
        Coding::VariableLength => {
            // LVAR (EN 13757-3 table 7).
            let lvar = *data.get(at).ok_or(DataError::Truncated {
                offset: at,
                what: "LVAR byte expected",
            })?;
            let at = at + 1;
            let (len, kind) = match lvar {
                0x00..=0xBF => (lvar as usize, 0),
                0xC0..=0xC9 => ((lvar - 0xC0) as usize, 1),
                0xD0..=0xD9 => ((lvar - 0xD0) as usize, 2),
                0xE0..=0xEF => ((lvar - 0xE0) as usize, 3),
                0xF0..=0xF4 => (4 * (lvar - 0xEC) as usize, 3),
                0xF5 => (48, 3),
                0xF6 => (64, 3),
                _ => {
                    return Err(DataError::Invalid {
                        offset: at - 1,
                        what: format!("LVAR {lvar:#04x} is reserved"),
                    })
                }
            };
            let b = take(
                data,
                at,
                len,
                "variable-length data shorter than its LVAR says",
            )?;
            let v = match kind {
                0 => RawValue::Text(b.iter().rev().map(|c| *c as char).collect()),
                1 | 2 => match bcd(b) {
                    Some(v) => RawValue::Bcd(if kind == 2 { -v } else { v }),
                    None => RawValue::InvalidBcd(b.to_vec()),
                },
                // A binary number, sent least significant byte first: given most
                // significant byte first, the order it is read as a number.
                _ => RawValue::Bytes(b.iter().rev().copied().collect()),
            };
            (v, at + len)
        }
        Coding::Special => unreachable!("special DIFs are handled before the value"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_digits_and_sign() {
        assert_eq!(bcd(&[0x78, 0x56, 0x34, 0x12]), Some(12345678));
        assert_eq!(bcd(&[0x01, 0xF0]), Some(-1));
        assert_eq!(bcd(&[0x0A]), None);
    }

    #[test]
    fn integers_are_twos_complement() {
        assert_eq!(signed_le(&[0xFF, 0xFF]), -1);
        assert_eq!(signed_le(&[0x00, 0x80, 0x00]), 0x8000);
        assert_eq!(signed_le(&[0xFF; 8]), -1);
    }

    #[test]
    fn manufacturer_letters() {
        // "ABB" = (1 << 10) | (2 << 5) | 2 = 0x0442.
        assert_eq!(manufacturer_code(0x0442), "ABB");
    }

    #[test]
    fn truncated_record_names_the_byte() {
        let mut d = vec![0u8; 12];
        d.extend_from_slice(&[0x04, 0x13, 0x01]);
        assert_eq!(
            decode_variable(&d, false).unwrap_err(),
            DataError::Truncated {
                offset: 14,
                what: "data field shorter than its DIF says"
            }
        );
    }
}
