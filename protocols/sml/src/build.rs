//! Building SML files: a push meter's telegram (SML_PublicOpen.Res, SML_GetList.Res,
//! SML_PublicClose.Res) for simulators, tests and the fuzz seeds.

use crate::message::tag;
use crate::tl::encode as e;
use crate::transport::{encode, CrcKind, X25};

/// One value to put into a GetList response.
#[derive(Debug, Clone, PartialEq)]
pub struct EntrySpec {
    pub obis: [u8; 6],
    pub status: Option<(u64, usize)>,
    pub unit: Option<u8>,
    pub scaler: Option<i8>,
    /// Value: Integer / Unsigned with width, or octets.
    pub value: ValueSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueSpec {
    Integer(i64, usize),
    Unsigned(u64, usize),
    Octets(Vec<u8>),
}

fn message(out: &mut Vec<u8>, transaction_id: &[u8], body_tag: u32, body: &[u8]) {
    let start = out.len();
    e::list(out, 6);
    e::octets(out, transaction_id);
    e::unsigned(out, 0, 1);
    e::unsigned(out, 0, 1);
    e::list(out, 2);
    e::unsigned(out, body_tag as u64, 4);
    out.extend_from_slice(body);
    let crc = X25.checksum(&out[start..]).swap_bytes();
    e::unsigned(out, crc as u64, 2);
    out.push(0x00);
}

/// The message bytes of a push telegram with the given entries.
pub fn telegram_messages(server_id: &[u8], entries: &[EntrySpec]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut open = Vec::new();
    e::list(&mut open, 6);
    e::absent(&mut open);
    e::absent(&mut open);
    e::octets(&mut open, &[0x00, 0x01, 0x02]);
    e::octets(&mut open, server_id);
    e::absent(&mut open);
    e::absent(&mut open);
    message(&mut out, &[0x01], tag::OPEN_RESPONSE, &open);

    let mut gl = Vec::new();
    e::list(&mut gl, 7);
    e::absent(&mut gl);
    e::octets(&mut gl, server_id);
    e::absent(&mut gl);
    e::absent(&mut gl);
    e::list(&mut gl, entries.len());
    for s in entries {
        e::list(&mut gl, 7);
        e::octets(&mut gl, &s.obis);
        match s.status {
            Some((v, w)) => e::unsigned(&mut gl, v, w),
            None => e::absent(&mut gl),
        }
        e::absent(&mut gl);
        match s.unit {
            Some(u) => e::unsigned(&mut gl, u as u64, 1),
            None => e::absent(&mut gl),
        }
        match s.scaler {
            Some(x) => e::integer(&mut gl, x as i64, 1),
            None => e::absent(&mut gl),
        }
        match &s.value {
            ValueSpec::Integer(v, w) => e::integer(&mut gl, *v, *w),
            ValueSpec::Unsigned(v, w) => e::unsigned(&mut gl, *v, *w),
            ValueSpec::Octets(b) => e::octets(&mut gl, b),
        }
        e::absent(&mut gl);
    }
    e::absent(&mut gl);
    e::absent(&mut gl);
    message(&mut out, &[0x02], tag::GET_LIST_RESPONSE, &gl);

    let mut close = Vec::new();
    e::list(&mut close, 1);
    e::absent(&mut close);
    message(&mut out, &[0x03], tag::CLOSE_RESPONSE, &close);
    out
}

/// A whole transport frame of a push telegram.
pub fn telegram(server_id: &[u8], entries: &[EntrySpec], crc: CrcKind) -> Vec<u8> {
    encode(&telegram_messages(server_id, entries), crc)
}
