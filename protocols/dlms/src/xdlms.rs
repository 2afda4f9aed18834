//! xDLMS services with logical name referencing: GET (normal, next data block,
//! with-list), SET (normal), ACTION (normal), and the exception-response
//! (IEC 62056-5-3 clause 9.3 services, clause 9.5 A-XDR encodings of the APDUs).

use crate::axdr::{write_length, Data, Reader};
use crate::error::DecodeError;
use std::fmt;
use std::str::FromStr;

/// APDU tags (IEC 62056-5-3 clause 9.5, xDLMS-APDU CHOICE).
pub mod tag {
    /// get-request.
    pub const GET_REQUEST: u8 = 0xC0;
    /// set-request.
    pub const SET_REQUEST: u8 = 0xC1;
    /// action-request.
    pub const ACTION_REQUEST: u8 = 0xC3;
    /// get-response.
    pub const GET_RESPONSE: u8 = 0xC4;
    /// set-response.
    pub const SET_RESPONSE: u8 = 0xC5;
    /// action-response.
    pub const ACTION_RESPONSE: u8 = 0xC7;
    /// glo-get-request.
    pub const GLO_GET_REQUEST: u8 = 0xC8;
    /// glo-set-request.
    pub const GLO_SET_REQUEST: u8 = 0xC9;
    /// glo-action-request.
    pub const GLO_ACTION_REQUEST: u8 = 0xCB;
    /// glo-get-response.
    pub const GLO_GET_RESPONSE: u8 = 0xCC;
    /// glo-set-response.
    pub const GLO_SET_RESPONSE: u8 = 0xCD;
    /// glo-action-response.
    pub const GLO_ACTION_RESPONSE: u8 = 0xCF;
    /// glo-initiateRequest.
    pub const GLO_INITIATE_REQUEST: u8 = 0x21;
    /// glo-initiateResponse.
    pub const GLO_INITIATE_RESPONSE: u8 = 0x28;
    /// glo-confirmedServiceError.
    pub const GLO_CONFIRMED_SERVICE_ERROR: u8 = 0x2E;
    /// confirmedServiceError.
    pub const CONFIRMED_SERVICE_ERROR: u8 = 0x0E;
    /// exception-response.
    pub const EXCEPTION_RESPONSE: u8 = 0xD8;
    /// general-glo-ciphering.
    pub const GENERAL_GLO_CIPHERING: u8 = 0xDB;
}

/// An OBIS code (IEC 62056-6-1): six value groups A-B:C.D.E*F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Obis(pub [u8; 6]);

impl fmt::Display for Obis {
    /// The standard notation `A-B:C.D.E*F`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(f, "{}-{}:{}.{}.{}*{}", o[0], o[1], o[2], o[3], o[4], o[5])
    }
}

impl FromStr for Obis {
    type Err = String;

    /// `A-B:C.D.E*F`, `A-B:C.D.E` (F = 255), `C.D.E` (A = 1, B = 0, F = 255), or six
    /// dotted groups `A.B.C.D.E.F`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("OBIS code {s:?}: expected A-B:C.D.E*F, C.D.E or A.B.C.D.E.F");
        let num = |t: &str| t.trim().parse::<u8>().map_err(|_| bad());
        let (ab, rest) = match s.split_once(':') {
            Some((ab, rest)) => {
                let (a, b) = ab.split_once('-').ok_or_else(bad)?;
                (Some((num(a)?, num(b)?)), rest)
            }
            None => (None, s),
        };
        let (cde, f) = match rest.split_once('*') {
            Some((cde, f)) => (cde, Some(num(f)?)),
            None => (rest, None),
        };
        let parts: Vec<&str> = cde.split('.').collect();
        match (ab, parts.len()) {
            (None, 6) if f.is_none() => {
                let mut o = [0u8; 6];
                for (i, p) in parts.iter().enumerate() {
                    o[i] = num(p)?;
                }
                Ok(Self(o))
            }
            (ab, 3) => {
                let (a, b) = ab.unwrap_or((1, 0));
                Ok(Self([
                    a,
                    b,
                    num(parts[0])?,
                    num(parts[1])?,
                    num(parts[2])?,
                    f.unwrap_or(255),
                ]))
            }
            _ => Err(bad()),
        }
    }
}

/// Cosem-Attribute-Descriptor: class, logical name, attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDescriptor {
    /// Interface class id (3 Register, 8 Clock, 7 Profile generic, ...).
    pub class_id: u16,
    /// Logical name.
    pub instance: Obis,
    /// Attribute index.
    pub attribute: i8,
}

impl AttributeDescriptor {
    /// A descriptor.
    pub fn new(class_id: u16, instance: Obis, attribute: i8) -> Self {
        Self {
            class_id,
            instance,
            attribute,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.class_id.to_be_bytes());
        out.extend_from_slice(&self.instance.0);
        out.push(self.attribute as u8);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let class_id = r.u16("class-id")?;
        let mut o = [0u8; 6];
        o.copy_from_slice(r.take(6, "instance-id")?);
        let attribute = r.u8("attribute-id")? as i8;
        Ok(Self {
            class_id,
            instance: Obis(o),
            attribute,
        })
    }
}

impl fmt::Display for AttributeDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (class {}) attribute {}",
            self.instance, self.class_id, self.attribute
        )
    }
}

/// Selective access: selector and its parameters (IEC 62056-5-3 clause 9.3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectiveAccess {
    /// access-selector.
    pub selector: u8,
    /// access-parameters.
    pub parameters: Data,
}

fn encode_access(out: &mut Vec<u8>, a: &Option<SelectiveAccess>) {
    match a {
        None => out.push(0),
        Some(s) => {
            out.extend_from_slice(&[1, s.selector]);
            s.parameters.encode(out);
        }
    }
}

fn decode_access(r: &mut Reader<'_>) -> Result<Option<SelectiveAccess>, DecodeError> {
    Ok(match r.u8("access-selection presence")? {
        0 => None,
        _ => {
            let selector = r.u8("access-selector")?;
            Some(SelectiveAccess {
                selector,
                parameters: Data::decode(r)?,
            })
        }
    })
}

/// invoke-id-and-priority (IEC 62056-5-3 clause 9.5): bits 0–3 invoke-id, bit 6 service
/// class (1 confirmed), bit 7 priority (1 high).
pub fn invoke_byte(invoke_id: u8, high_priority: bool) -> u8 {
    (invoke_id & 0x0F) | 0x40 | if high_priority { 0x80 } else { 0 }
}

/// A GET request.
#[derive(Debug, Clone, PartialEq)]
pub enum GetRequest {
    /// get-request-normal.
    Normal {
        /// invoke-id-and-priority.
        invoke: u8,
        /// What to read.
        descriptor: AttributeDescriptor,
        /// Optional selective access.
        access: Option<SelectiveAccess>,
    },
    /// get-request-next (acknowledges block `block` and asks for the next).
    Next {
        /// invoke-id-and-priority.
        invoke: u8,
        /// Number of the last block received.
        block: u32,
    },
    /// get-request-with-list.
    WithList {
        /// invoke-id-and-priority.
        invoke: u8,
        /// What to read.
        items: Vec<(AttributeDescriptor, Option<SelectiveAccess>)>,
    },
}

impl GetRequest {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![tag::GET_REQUEST];
        match self {
            Self::Normal {
                invoke,
                descriptor,
                access,
            } => {
                out.extend_from_slice(&[1, *invoke]);
                descriptor.encode(&mut out);
                encode_access(&mut out, access);
            }
            Self::Next { invoke, block } => {
                out.extend_from_slice(&[2, *invoke]);
                out.extend_from_slice(&block.to_be_bytes());
            }
            Self::WithList { invoke, items } => {
                out.extend_from_slice(&[3, *invoke]);
                write_length(&mut out, items.len());
                for (d, a) in items {
                    d.encode(&mut out);
                    encode_access(&mut out, a);
                }
            }
        }
        out
    }

    /// Decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Get-Request", bytes);
        if r.u8("tag")? != tag::GET_REQUEST {
            return Err(r.error_at(0, "not a get-request (0xC0)"));
        }
        let at = r.offset();
        let choice = r.u8("choice")?;
        let invoke = r.u8("invoke-id-and-priority")?;
        let req = match choice {
            1 => {
                let descriptor = AttributeDescriptor::decode(&mut r)?;
                Self::Normal {
                    invoke,
                    descriptor,
                    access: decode_access(&mut r)?,
                }
            }
            2 => Self::Next {
                invoke,
                block: r.u32("block-number")?,
            },
            3 => {
                let n = r.length("item count")?;
                if n > r.remaining() {
                    return Err(
                        r.error(format!("{n} items announced, {} bytes left", r.remaining()))
                    );
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let d = AttributeDescriptor::decode(&mut r)?;
                    items.push((d, decode_access(&mut r)?));
                }
                Self::WithList { invoke, items }
            }
            c => return Err(r.error_at(at, format!("Get-Request choice {c}"))),
        };
        r.finish("the Get-Request")?;
        Ok(req)
    }
}

/// Data-Access-Result enumeration (IEC 62056-5-3 clause 9.5).
pub fn data_access_result_name(code: u8) -> String {
    let n = match code {
        0 => "success",
        1 => "hardware-fault",
        2 => "temporary-failure",
        3 => "read-write-denied",
        4 => "object-undefined",
        9 => "object-class-inconsistent",
        11 => "object-unavailable",
        12 => "type-unmatched",
        13 => "scope-of-access-violated",
        14 => "data-block-unavailable",
        15 => "long-get-aborted",
        16 => "no-long-get-in-progress",
        17 => "long-set-aborted",
        18 => "no-long-set-in-progress",
        19 => "data-block-number-invalid",
        250 => "other-reason",
        _ => "unknown",
    };
    format!("{n} ({code})")
}

/// Action-Result enumeration (IEC 62056-5-3 clause 9.5).
pub fn action_result_name(code: u8) -> String {
    let n = match code {
        0 => "success",
        1 => "hardware-fault",
        2 => "temporary-failure",
        3 => "read-write-denied",
        4 => "object-undefined",
        9 => "object-class-inconsistent",
        11 => "object-unavailable",
        12 => "type-unmatched",
        13 => "scope-of-access-violated",
        14 => "data-block-unavailable",
        15 => "long-action-aborted",
        16 => "no-long-action-in-progress",
        250 => "other-reason",
        _ => "unknown",
    };
    format!("{n} ({code})")
}

/// Get-Data-Result: the value, or a Data-Access-Result code.
pub type GetDataResult = Result<Data, u8>;

fn decode_get_data_result(r: &mut Reader<'_>) -> Result<GetDataResult, DecodeError> {
    let at = r.offset();
    match r.u8("Get-Data-Result choice")? {
        0 => Ok(Ok(Data::decode(r)?)),
        1 => Ok(Err(r.u8("data-access-result")?)),
        c => Err(r.error_at(
            at,
            format!("Get-Data-Result choice {c} (0 data, 1 data-access-result)"),
        )),
    }
}

fn encode_get_data_result(out: &mut Vec<u8>, g: &GetDataResult) {
    match g {
        Ok(d) => {
            out.push(0);
            d.encode(out);
        }
        Err(c) => out.extend_from_slice(&[1, *c]),
    }
}

/// A GET response.
#[derive(Debug, Clone, PartialEq)]
pub enum GetResponse {
    /// get-response-normal.
    Normal {
        /// invoke-id-and-priority.
        invoke: u8,
        /// Result.
        result: GetDataResult,
    },
    /// get-response-with-datablock.
    Block {
        /// invoke-id-and-priority.
        invoke: u8,
        /// last-block.
        last: bool,
        /// block-number.
        block: u32,
        /// raw-data, or a data-access-result.
        raw: Result<Vec<u8>, u8>,
    },
    /// get-response-with-list.
    WithList {
        /// invoke-id-and-priority.
        invoke: u8,
        /// One result per item.
        results: Vec<GetDataResult>,
    },
}

impl GetResponse {
    /// The invoke-id-and-priority byte.
    pub fn invoke(&self) -> u8 {
        match self {
            Self::Normal { invoke, .. }
            | Self::Block { invoke, .. }
            | Self::WithList { invoke, .. } => *invoke,
        }
    }

    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![tag::GET_RESPONSE];
        match self {
            Self::Normal { invoke, result } => {
                out.extend_from_slice(&[1, *invoke]);
                encode_get_data_result(&mut out, result);
            }
            Self::Block {
                invoke,
                last,
                block,
                raw,
            } => {
                out.extend_from_slice(&[2, *invoke, u8::from(*last)]);
                out.extend_from_slice(&block.to_be_bytes());
                match raw {
                    Ok(b) => {
                        out.push(0);
                        write_length(&mut out, b.len());
                        out.extend_from_slice(b);
                    }
                    Err(c) => out.extend_from_slice(&[1, *c]),
                }
            }
            Self::WithList { invoke, results } => {
                out.extend_from_slice(&[3, *invoke]);
                write_length(&mut out, results.len());
                for g in results {
                    encode_get_data_result(&mut out, g);
                }
            }
        }
        out
    }

    /// Decode; errors name the byte of the APDU at fault.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Get-Response", bytes);
        if r.u8("tag")? != tag::GET_RESPONSE {
            return Err(r.error_at(
                0,
                format!("tag 0x{:02X} is not get-response (0xC4)", bytes[0]),
            ));
        }
        let at = r.offset();
        let choice = r.u8("choice")?;
        let invoke = r.u8("invoke-id-and-priority")?;
        let resp = match choice {
            1 => Self::Normal {
                invoke,
                result: decode_get_data_result(&mut r)?,
            },
            2 => {
                let last = r.u8("last-block")? != 0;
                let block = r.u32("block-number")?;
                let cat = r.offset();
                let raw = match r.u8("DataBlock-G result choice")? {
                    0 => Ok(r.counted("raw-data")?.to_vec()),
                    1 => Err(r.u8("data-access-result")?),
                    c => return Err(r.error_at(cat, format!("DataBlock-G result choice {c}"))),
                };
                Self::Block {
                    invoke,
                    last,
                    block,
                    raw,
                }
            }
            3 => {
                let n = r.length("result count")?;
                if n > r.remaining() {
                    return Err(r.error(format!(
                        "{n} results announced, {} bytes left",
                        r.remaining()
                    )));
                }
                let mut results = Vec::with_capacity(n);
                for _ in 0..n {
                    results.push(decode_get_data_result(&mut r)?);
                }
                Self::WithList { invoke, results }
            }
            c => {
                return Err(r.error_at(
                    at,
                    format!("Get-Response choice {c} (1 normal, 2 with-datablock, 3 with-list)"),
                ))
            }
        };
        r.finish("the Get-Response")?;
        Ok(resp)
    }
}

/// set-request-normal.
#[derive(Debug, Clone, PartialEq)]
pub struct SetRequest {
    /// invoke-id-and-priority.
    pub invoke: u8,
    /// What to write.
    pub descriptor: AttributeDescriptor,
    /// Optional selective access.
    pub access: Option<SelectiveAccess>,
    /// The value.
    pub value: Data,
}

impl SetRequest {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![tag::SET_REQUEST, 1, self.invoke];
        self.descriptor.encode(&mut out);
        encode_access(&mut out, &self.access);
        self.value.encode(&mut out);
        out
    }
}

/// set-response-normal: invoke and Data-Access-Result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetResponse {
    /// invoke-id-and-priority.
    pub invoke: u8,
    /// Data-Access-Result.
    pub result: u8,
}

impl SetResponse {
    /// Decode (set-response-normal only; other choices are reported as not implemented).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Set-Response", bytes);
        if r.u8("tag")? != tag::SET_RESPONSE {
            return Err(r.error_at(0, "not a set-response (0xC5)"));
        }
        let at = r.offset();
        let choice = r.u8("choice")?;
        if choice != 1 {
            return Err(r.error_at(
                at,
                format!(
                    "Set-Response choice {choice}: only set-response-normal (1) is implemented"
                ),
            ));
        }
        let invoke = r.u8("invoke-id-and-priority")?;
        let result = r.u8("data-access-result")?;
        r.finish("the Set-Response")?;
        Ok(Self { invoke, result })
    }

    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        vec![tag::SET_RESPONSE, 1, self.invoke, self.result]
    }
}

/// Cosem-Method-Descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodDescriptor {
    /// Interface class id.
    pub class_id: u16,
    /// Logical name.
    pub instance: Obis,
    /// Method index.
    pub method: i8,
}

impl fmt::Display for MethodDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (class {}) method {}",
            self.instance, self.class_id, self.method
        )
    }
}

/// action-request-normal.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRequest {
    /// invoke-id-and-priority.
    pub invoke: u8,
    /// The method.
    pub method: MethodDescriptor,
    /// Optional method-invocation-parameters.
    pub parameters: Option<Data>,
}

impl ActionRequest {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![tag::ACTION_REQUEST, 1, self.invoke];
        out.extend_from_slice(&self.method.class_id.to_be_bytes());
        out.extend_from_slice(&self.method.instance.0);
        out.push(self.method.method as u8);
        match &self.parameters {
            None => out.push(0),
            Some(d) => {
                out.push(1);
                d.encode(&mut out);
            }
        }
        out
    }
}

/// action-response-normal.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionResponse {
    /// invoke-id-and-priority.
    pub invoke: u8,
    /// Action-Result.
    pub result: u8,
    /// Optional return parameters.
    pub return_parameters: Option<GetDataResult>,
}

impl ActionResponse {
    /// Decode (action-response-normal only; other choices are reported as not implemented).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Action-Response", bytes);
        if r.u8("tag")? != tag::ACTION_RESPONSE {
            return Err(r.error_at(0, "not an action-response (0xC7)"));
        }
        let at = r.offset();
        let choice = r.u8("choice")?;
        if choice != 1 {
            return Err(r.error_at(at, format!("Action-Response choice {choice}: only action-response-normal (1) is implemented")));
        }
        let invoke = r.u8("invoke-id-and-priority")?;
        let result = r.u8("action-result")?;
        let return_parameters = match r.u8("return-parameters presence")? {
            0 => None,
            _ => Some(decode_get_data_result(&mut r)?),
        };
        r.finish("the Action-Response")?;
        Ok(Self {
            invoke,
            result,
            return_parameters,
        })
    }

    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![tag::ACTION_RESPONSE, 1, self.invoke, self.result];
        match &self.return_parameters {
            None => out.push(0),
            Some(g) => {
                out.push(1);
                encode_get_data_result(&mut out, g);
            }
        }
        out
    }
}

/// exception-response (IEC 62056-5-3 clause 9.5): state-error and service-error, the
/// latter with the expected invocation counter when it is invocation-counter-error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionResponse {
    /// state-error: 1 service-not-allowed, 2 service-unknown.
    pub state_error: u8,
    /// service-error.
    pub service_error: u8,
    /// For invocation-counter-error (6): the counter the server expects.
    pub invocation_counter: Option<u32>,
}

impl ExceptionResponse {
    /// Decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("exception-response", bytes);
        if r.u8("tag")? != tag::EXCEPTION_RESPONSE {
            return Err(r.error_at(0, "not an exception-response (0xD8)"));
        }
        let state_error = r.u8("state-error")?;
        let service_error = r.u8("service-error")?;
        let invocation_counter = if service_error == 6 && r.remaining() >= 4 {
            Some(r.u32("invocation-counter")?)
        } else {
            None
        };
        r.finish("the exception-response")?;
        Ok(Self {
            state_error,
            service_error,
            invocation_counter,
        })
    }
}

impl fmt::Display for ExceptionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state_error {
            1 => "service-not-allowed",
            2 => "service-unknown",
            _ => "state-error",
        };
        let service = match self.service_error {
            1 => "operation-not-possible",
            2 => "service-not-supported",
            3 => "other-reason",
            4 => "pdu-too-long",
            5 => "deciphering-error",
            6 => "invocation-counter-error",
            _ => "service-error",
        };
        write!(
            f,
            "exception-response {state} ({}), {service} ({})",
            self.state_error, self.service_error
        )?;
        if let Some(ic) = self.invocation_counter {
            write!(f, ", the meter expects invocation counter {ic}")?;
        }
        Ok(())
    }
}
