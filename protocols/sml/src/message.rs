//! SML messages (SML v1.04 chapter 5): `SML_Message` = transactionId, groupNo,
//! abortOnError, messageBody (tag + body), crc16, endOfSmlMsg; the bodies a push meter
//! sends (SML_PublicOpen.Res, SML_GetList.Res, SML_PublicClose.Res) decoded, others kept
//! with their tag.

use crate::obis::Obis;
use crate::tl::{self, Kind, Node, TlError};
use crate::transport::X25;
use crate::units::unit_symbol;

/// Message body tags (SML v1.04 table "SML_MessageBody").
pub mod tag {
    pub const OPEN_REQUEST: u32 = 0x0100;
    pub const OPEN_RESPONSE: u32 = 0x0101;
    pub const CLOSE_REQUEST: u32 = 0x0200;
    pub const CLOSE_RESPONSE: u32 = 0x0201;
    pub const GET_LIST_REQUEST: u32 = 0x0700;
    pub const GET_LIST_RESPONSE: u32 = 0x0701;
    pub const ATTENTION_RESPONSE: u32 = 0xFF01;
}

/// SML_Time (SML v1.04 5.1.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmlTime {
    SecIndex(u64),
    Timestamp(u64),
    LocalTimestamp {
        timestamp: u64,
        local_offset_min: i64,
        season_offset_min: i64,
    },
}

/// A value of an SML_ListEntry (SML_Value).
#[derive(Debug, Clone, PartialEq)]
pub enum SmlValue {
    Bool(bool),
    Bytes(Vec<u8>),
    Integer(i64, u8),
    Unsigned(u64, u8),
    Time(SmlTime),
}

/// A known meter fault the decoder can correct, each off unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quirk {
    /// Active power (OBIS C = 16, 36, 56, 76, D = 7) tagged Unsigned but carrying a two's
    /// complement value: an unsigned value with its top bit set is read as negative.
    UnsignedPowerIsSigned,
    /// DZG DVS74 meters of older firmware tag power Integer16 but send it unsigned, so
    /// 327.68–655.35 W (scaler −2) come out negative: an Integer16 power is read as
    /// Unsigned16 (the work-around of libsml, volkszaehler/libsml#59 and #66; newer
    /// DZG firmware encodes correctly, so this is opt-in).
    DzgInteger16IsUnsigned,
    /// EFR SGM-DD / DZG DWSB20.2TH send small negative power as Integer16 without sign
    /// extension (00 C7 for −57 W): an Integer16 power whose high byte is 00h and low
    /// byte ≥ 80h is read as the sign-extended low byte.
    Integer16MissingSignExtension,
}

impl Quirk {
    pub fn name(self) -> &'static str {
        match self {
            Quirk::UnsignedPowerIsSigned => "unsigned-power-is-signed",
            Quirk::DzgInteger16IsUnsigned => "dzg-int16-is-unsigned",
            Quirk::Integer16MissingSignExtension => "int16-missing-sign-extension",
        }
    }
    pub fn from_name(name: &str) -> Option<Quirk> {
        [
            Quirk::UnsignedPowerIsSigned,
            Quirk::DzgInteger16IsUnsigned,
            Quirk::Integer16MissingSignExtension,
        ]
        .into_iter()
        .find(|q| q.name() == name)
    }
}

/// SML_ListEntry of a GetList response (SML v1.04 5.1.9).
#[derive(Debug, Clone, PartialEq)]
pub struct ListEntry {
    /// Offset of the entry's TL byte in the message bytes.
    pub offset: usize,
    pub obis: Obis,
    /// The status word as sent (meaning is manufacturer- or profile-specific; kept raw).
    pub status: Option<u64>,
    pub val_time: Option<SmlTime>,
    /// DLMS unit code (IEC 62056-62 / Blue Book unit enumeration).
    pub unit: Option<u8>,
    pub scaler: Option<i8>,
    pub value: Option<SmlValue>,
    pub signature: Option<Vec<u8>>,
    /// Quirks that changed this entry's value.
    pub quirks_applied: Vec<Quirk>,
}

impl ListEntry {
    /// The unit symbol ("" when none or unknown).
    pub fn unit_symbol(&self) -> &'static str {
        self.unit.map_or("", unit_symbol)
    }

    /// The number with the scaler applied (value · 10^scaler), if the value is numeric.
    pub fn scaled(&self) -> Option<f64> {
        let raw = match self.value.as_ref()? {
            SmlValue::Integer(v, _) => *v as f64,
            SmlValue::Unsigned(v, _) => *v as f64,
            _ => return None,
        };
        let s = self.scaler.unwrap_or(0) as i32;
        // Divide for negative scalers: 12345 · 10^-1 gives 1234.5 exactly this way.
        Some(if s < 0 {
            raw / 10f64.powi(-s)
        } else {
            raw * 10f64.powi(s)
        })
    }

    fn apply_quirks(&mut self, quirks: &[Quirk]) {
        if !self.obis.is_active_power() {
            return;
        }
        for q in quirks {
            let new = match (q, &self.value) {
                (Quirk::UnsignedPowerIsSigned, Some(SmlValue::Unsigned(u, w)))
                    if (*u >> (8 * *w as u32 - 1)) & 1 == 1 =>
                {
                    Some(SmlValue::Integer(tl::sign_extend(*u, *w), *w))
                }
                (Quirk::DzgInteger16IsUnsigned, Some(SmlValue::Integer(i, 2))) if *i < 0 => {
                    Some(SmlValue::Unsigned((*i as u64) & 0xFFFF, 2))
                }
                (Quirk::Integer16MissingSignExtension, Some(SmlValue::Integer(i, 2)))
                    if (0x80..=0xFF).contains(i) =>
                {
                    Some(SmlValue::Integer(*i - 0x100, 2))
                }
                _ => None,
            };
            if let Some(v) = new {
                self.value = Some(v);
                self.quirks_applied.push(*q);
            }
        }
    }
}

/// SML_GetList.Res (SML v1.04 5.3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct GetListResponse {
    pub client_id: Option<Vec<u8>>,
    pub server_id: Vec<u8>,
    pub list_name: Option<Vec<u8>>,
    pub act_sensor_time: Option<SmlTime>,
    pub entries: Vec<ListEntry>,
    pub list_signature: Option<Vec<u8>>,
    pub act_gateway_time: Option<SmlTime>,
}

/// A message body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    OpenResponse {
        codepage: Option<Vec<u8>>,
        client_id: Option<Vec<u8>>,
        req_file_id: Vec<u8>,
        server_id: Vec<u8>,
        ref_time: Option<SmlTime>,
        sml_version: Option<u64>,
    },
    CloseResponse {
        signature: Option<Vec<u8>>,
    },
    GetListResponse(GetListResponse),
    /// Any other body: its tag and the undecoded node.
    Other {
        tag: u32,
        body: Node,
    },
}

/// One SML_Message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Offset of the message's first byte in the message bytes.
    pub offset: usize,
    pub transaction_id: Vec<u8>,
    pub group_no: u64,
    pub abort_on_error: u64,
    pub body: Body,
    /// The crc16 field as sent and whether it matches CRC-16/X-25 over the message bytes
    /// before it (same byte order as the transport CRC).
    pub crc_sent: u16,
    pub crc_ok: bool,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Tl(#[from] TlError),
    #[error("byte {offset}: {what}")]
    Structure { offset: usize, what: String },
}

fn structure(n: &Node, what: impl Into<String>) -> MessageError {
    MessageError::Structure {
        offset: n.offset,
        what: what.into(),
    }
}

fn list<'a>(n: &'a Node, len: usize, name: &str) -> Result<&'a [Node], MessageError> {
    match &n.kind {
        Kind::List(items) if items.len() == len => Ok(items),
        Kind::List(items) => Err(structure(
            n,
            format!("{name}: list of {} entries, {len} expected", items.len()),
        )),
        _ => Err(structure(n, format!("{name}: list expected"))),
    }
}

fn octets(n: &Node, name: &str) -> Result<Vec<u8>, MessageError> {
    match &n.kind {
        Kind::OctetString(b) => Ok(b.clone()),
        _ => Err(structure(n, format!("{name}: octet string expected"))),
    }
}

fn opt_octets(n: &Node, name: &str) -> Result<Option<Vec<u8>>, MessageError> {
    match &n.kind {
        Kind::Absent => Ok(None),
        _ => octets(n, name).map(Some),
    }
}

fn unsigned(n: &Node, name: &str) -> Result<u64, MessageError> {
    match &n.kind {
        Kind::Unsigned(v, _) => Ok(*v),
        // Some meters send small unsigned fields as Integer; accept non-negative ones.
        Kind::Integer(v, _) if *v >= 0 => Ok(*v as u64),
        _ => Err(structure(n, format!("{name}: unsigned expected"))),
    }
}

fn opt_unsigned(n: &Node, name: &str) -> Result<Option<u64>, MessageError> {
    match &n.kind {
        Kind::Absent => Ok(None),
        _ => unsigned(n, name).map(Some),
    }
}

fn integer(n: &Node, name: &str) -> Result<i64, MessageError> {
    match &n.kind {
        Kind::Integer(v, _) => Ok(*v),
        Kind::Unsigned(v, w) => Ok(tl::sign_extend(*v, *w)),
        _ => Err(structure(n, format!("{name}: integer expected"))),
    }
}

fn time(n: &Node) -> Result<Option<SmlTime>, MessageError> {
    if n.kind == Kind::Absent {
        return Ok(None);
    }
    // Some meters send a bare Unsigned32 seconds index instead of the choice.
    if let Kind::Unsigned(v, _) = n.kind {
        return Ok(Some(SmlTime::SecIndex(v)));
    }
    let items = list(n, 2, "SML_Time")?;
    let choice = unsigned(&items[0], "SML_Time choice")?;
    Ok(Some(match choice {
        1 => SmlTime::SecIndex(unsigned(&items[1], "secIndex")?),
        2 => SmlTime::Timestamp(unsigned(&items[1], "timestamp")?),
        3 => {
            let l = list(&items[1], 3, "SML_TimestampLocal")?;
            SmlTime::LocalTimestamp {
                timestamp: unsigned(&l[0], "timestamp")?,
                local_offset_min: integer(&l[1], "localOffset")?,
                season_offset_min: integer(&l[2], "seasonTimeOffset")?,
            }
        }
        c => return Err(structure(&items[0], format!("SML_Time choice {c} unknown"))),
    }))
}

fn value(n: &Node) -> Result<Option<SmlValue>, MessageError> {
    Ok(Some(match &n.kind {
        Kind::Absent => return Ok(None),
        Kind::Bool(b) => SmlValue::Bool(*b),
        Kind::OctetString(b) => SmlValue::Bytes(b.clone()),
        Kind::Integer(v, w) => SmlValue::Integer(*v, *w),
        Kind::Unsigned(v, w) => SmlValue::Unsigned(*v, *w),
        Kind::List(items) if items.len() == 2 => {
            // SML_Value as a list: choice 1 = SML_Time (SML v1.04 5.1.10 extension).
            match time(&items[1])? {
                Some(t) if unsigned(&items[0], "SML_ListType")? == 1 => SmlValue::Time(t),
                _ => return Err(structure(n, "SML_ListType value not supported")),
            }
        }
        _ => return Err(structure(n, "SML_Value: unsupported type")),
    }))
}

fn list_entry(n: &Node, quirks: &[Quirk]) -> Result<ListEntry, MessageError> {
    let f = list(n, 7, "SML_ListEntry")?;
    let obis_bytes = octets(&f[0], "objName")?;
    let obis = Obis::from_bytes(&obis_bytes).ok_or_else(|| {
        structure(
            &f[0],
            format!("objName of {} bytes, 6 expected", obis_bytes.len()),
        )
    })?;
    let scaler = match &f[4].kind {
        Kind::Absent => None,
        _ => {
            let s = integer(&f[4], "scaler")?;
            Some(
                i8::try_from(s)
                    .map_err(|_| structure(&f[4], format!("scaler {s} out of range")))?,
            )
        }
    };
    let unit = match opt_unsigned(&f[3], "unit")? {
        None => None,
        Some(u) => {
            Some(u8::try_from(u).map_err(|_| structure(&f[3], format!("unit {u} out of range")))?)
        }
    };
    let mut e = ListEntry {
        offset: n.offset,
        obis,
        status: opt_unsigned(&f[1], "status")?,
        val_time: time(&f[2])?,
        unit,
        scaler,
        value: value(&f[5])?,
        signature: opt_octets(&f[6], "valueSignature")?,
        quirks_applied: Vec::new(),
    };
    e.apply_quirks(quirks);
    Ok(e)
}

fn body(tag_node: &Node, b: &Node, quirks: &[Quirk]) -> Result<Body, MessageError> {
    let tag = unsigned(tag_node, "message body tag")? as u32;
    Ok(match tag {
        tag::OPEN_RESPONSE => {
            let f = list(b, 6, "SML_PublicOpen.Res")?;
            Body::OpenResponse {
                codepage: opt_octets(&f[0], "codepage")?,
                client_id: opt_octets(&f[1], "clientId")?,
                req_file_id: octets(&f[2], "reqFileId")?,
                server_id: octets(&f[3], "serverId")?,
                ref_time: time(&f[4])?,
                sml_version: opt_unsigned(&f[5], "smlVersion")?,
            }
        }
        tag::CLOSE_RESPONSE => {
            let f = list(b, 1, "SML_PublicClose.Res")?;
            Body::CloseResponse {
                signature: opt_octets(&f[0], "globalSignature")?,
            }
        }
        tag::GET_LIST_RESPONSE => {
            let f = list(b, 7, "SML_GetList.Res")?;
            let entries = match &f[4].kind {
                Kind::List(items) => items
                    .iter()
                    .map(|e| list_entry(e, quirks))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(structure(&f[4], "valList: list expected")),
            };
            Body::GetListResponse(GetListResponse {
                client_id: opt_octets(&f[0], "clientId")?,
                server_id: octets(&f[1], "serverId")?,
                list_name: opt_octets(&f[2], "listName")?,
                act_sensor_time: time(&f[3])?,
                entries,
                list_signature: opt_octets(&f[5], "listSignature")?,
                act_gateway_time: time(&f[6])?,
            })
        }
        tag => Body::Other {
            tag,
            body: b.clone(),
        },
    })
}

/// Decode every SML_Message in the message bytes of one transport frame.
pub fn decode_messages(bytes: &[u8], quirks: &[Quirk]) -> Result<Vec<Message>, MessageError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        // Some meters pad with 00h between messages; skip them (at most 3 at the end are
        // padding of the transport, which the transport decoder already removed).
        if bytes[at] == 0x00 {
            at += 1;
            continue;
        }
        let (node, next) = tl::parse(bytes, at)?;
        let f = list(&node, 6, "SML_Message")?;
        let crc_node = &f[4];
        let crc_sent = unsigned(crc_node, "crc16")? as u16;
        let crc = X25.checksum(&bytes[at..crc_node.offset]);
        let crc_ok = crc_sent == crc.swap_bytes();
        if f[5].kind != Kind::EndOfMessage {
            return Err(structure(&f[5], "endOfSmlMsg (00h) expected"));
        }
        let bl = list(&f[3], 2, "SML_MessageBody")?;
        out.push(Message {
            offset: at,
            transaction_id: octets(&f[0], "transactionId")?,
            group_no: unsigned(&f[1], "groupNo")?,
            abort_on_error: unsigned(&f[2], "abortOnError")?,
            body: body(&bl[0], &bl[1], quirks)?,
            crc_sent,
            crc_ok,
        });
        at = next;
    }
    Ok(out)
}
