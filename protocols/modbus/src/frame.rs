//! Sans-IO Modbus frames: PDUs (Modbus Application Protocol Specification
//! V1.1b3), the RTU ADU (Modbus over Serial Line V1.02 §2.5.1: address, PDU,
//! CRC-16 low byte first) and the TCP ADU (Modbus Messaging on TCP/IP
//! Implementation Guide V1.0b §3.1.3: the MBAP header).

use crc::{Crc, CRC_16_MODBUS};
use std::fmt;

const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);

/// CRC-16/MODBUS of `bytes` (Modbus over Serial Line §6.2.2; check value 0x4B37).
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC16.checksum(bytes)
}

/// Most registers one read may ask for (MAP V1.1b3 §6.3, §6.4).
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most registers one FC16 write may carry (MAP V1.1b3 §6.12).
pub const MAX_WRITE_REGISTERS: u16 = 123;

/// A client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// FC03 Read Holding Registers.
    ReadHolding {
        /// First register (0-based PDU address).
        address: u16,
        /// Number of registers, 1..=125.
        count: u16,
    },
    /// FC04 Read Input Registers.
    ReadInput {
        /// First register.
        address: u16,
        /// Number of registers, 1..=125.
        count: u16,
    },
    /// FC06 Write Single Register.
    WriteSingle {
        /// Register.
        address: u16,
        /// Value.
        value: u16,
    },
    /// FC16 Write Multiple Registers.
    WriteMultiple {
        /// First register.
        address: u16,
        /// Values, 1..=123.
        values: Vec<u16>,
    },
}

impl Request {
    /// The function code.
    pub fn function(&self) -> u8 {
        match self {
            Request::ReadHolding { .. } => 0x03,
            Request::ReadInput { .. } => 0x04,
            Request::WriteSingle { .. } => 0x06,
            Request::WriteMultiple { .. } => 0x10,
        }
    }

    /// The PDU bytes.
    pub fn pdu(&self) -> Vec<u8> {
        let mut p = vec![self.function()];
        match self {
            Request::ReadHolding { address, count } | Request::ReadInput { address, count } => {
                p.extend(address.to_be_bytes());
                p.extend(count.to_be_bytes());
            }
            Request::WriteSingle { address, value } => {
                p.extend(address.to_be_bytes());
                p.extend(value.to_be_bytes());
            }
            Request::WriteMultiple { address, values } => {
                p.extend(address.to_be_bytes());
                p.extend((values.len() as u16).to_be_bytes());
                p.push((values.len() * 2) as u8);
                for v in values {
                    p.extend(v.to_be_bytes());
                }
            }
        }
        p
    }

    /// Decodes a request PDU (for the analyser and test fixtures).
    pub fn from_pdu(pdu: &[u8]) -> Result<Request, String> {
        let fc = *pdu.first().ok_or("empty PDU")?;
        let word = |i: usize| -> Result<u16, String> {
            pdu.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| {
                    format!(
                        "FC{fc:02X} request: PDU of {} bytes is too short",
                        pdu.len()
                    )
                })
        };
        let exact = |n: usize| -> Result<(), String> {
            if pdu.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "FC{fc:02X} request: PDU of {} bytes, expected {n}",
                    pdu.len()
                ))
            }
        };
        match fc {
            0x03 | 0x04 => {
                exact(5)?;
                let (address, count) = (word(1)?, word(3)?);
                if !(1..=MAX_READ_REGISTERS).contains(&count) {
                    return Err(format!(
                        "FC{fc:02X} request: quantity {count} is outside 1..125 (MAP §6.3)"
                    ));
                }
                Ok(if fc == 3 {
                    Request::ReadHolding { address, count }
                } else {
                    Request::ReadInput { address, count }
                })
            }
            0x06 => {
                exact(5)?;
                Ok(Request::WriteSingle {
                    address: word(1)?,
                    value: word(3)?,
                })
            }
            0x10 => {
                let (address, count) = (word(1)?, word(3)?);
                let n = *pdu.get(5).ok_or("FC10 request: no byte count")? as usize;
                if !(1..=MAX_WRITE_REGISTERS).contains(&count) || n != count as usize * 2 {
                    return Err(format!(
                        "FC10 request: quantity {count} with byte count {n} (MAP §6.12)"
                    ));
                }
                exact(6 + n)?;
                Ok(Request::WriteMultiple {
                    address,
                    values: (0..count as usize)
                        .map(|i| word(6 + 2 * i).unwrap_or(0))
                        .collect(),
                })
            }
            _ => Err(format!("function code {fc:#04x} is not one PQE sends")),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::ReadHolding { address, count } => {
                write!(f, "FC03 read holding {address}+{count}")
            }
            Request::ReadInput { address, count } => write!(f, "FC04 read input {address}+{count}"),
            Request::WriteSingle { address, value } => write!(f, "FC06 write {address}={value}"),
            Request::WriteMultiple { address, values } => {
                write!(f, "FC16 write {address}+{}", values.len())
            }
        }
    }
}

/// Modbus exception codes (MAP V1.1b3 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionCode(pub u8);

impl ExceptionCode {
    /// The standard's name and meaning.
    pub fn describe(&self) -> &'static str {
        match self.0 {
            1 => "illegal function (the meter does not support this function code)",
            2 => "illegal data address (no such register at this address)",
            3 => "illegal data value (quantity or value not accepted)",
            4 => "server device failure",
            5 => "acknowledge (long operation accepted, poll later)",
            6 => "server device busy",
            8 => "memory parity error",
            0x0A => "gateway path unavailable",
            0x0B => "gateway target device failed to respond",
            _ => "exception code not defined by the standard",
        }
    }
}

impl fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exception {:02} {}", self.0, self.describe())
    }
}

/// A server response PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Registers read (FC03/FC04).
    Registers(Vec<u16>),
    /// Echo of a write (FC06: address, value; FC16: address, quantity).
    Written {
        /// Address.
        address: u16,
        /// Value (FC06) or quantity (FC16).
        value: u16,
    },
    /// An exception (function code | 0x80).
    Exception(ExceptionCode),
}

/// Length of a response PDU once enough of it is known: `Ok(None)` when more
/// bytes are needed, `Err` when the first bytes already break the standard.
pub fn response_pdu_len(pdu: &[u8]) -> Result<Option<usize>, String> {
    let Some(&fc) = pdu.first() else {
        return Ok(None);
    };
    match fc {
        0x03 | 0x04 => match pdu.get(1) {
            None => Ok(None),
            Some(&n) if n % 2 == 0 && n > 0 && n as u16 <= 2 * MAX_READ_REGISTERS => {
                Ok(Some(2 + n as usize))
            }
            Some(&n) => Err(format!(
                "FC{fc:02X} response: byte count {n} is not an even number 2..250 (MAP §6.3)"
            )),
        },
        0x06 | 0x10 => Ok(Some(5)),
        0x83 | 0x84 | 0x86 | 0x90 => Ok(Some(2)),
        fc if fc & 0x80 != 0 => Ok(Some(2)),
        _ => Err(format!("function code {fc:#04x} in a response")),
    }
}

/// Decodes the response PDU to `req`, checking function code, byte count and
/// the echo of writes. The error text names what is wrong.
pub fn parse_response(req: &Request, pdu: &[u8]) -> Result<Response, String> {
    let fc = *pdu.first().ok_or("empty response PDU")?;
    if fc == req.function() | 0x80 {
        if pdu.len() != 2 {
            return Err(format!(
                "exception response of {} bytes, expected 2 (MAP §7)",
                pdu.len()
            ));
        }
        return Ok(Response::Exception(ExceptionCode(pdu[1])));
    }
    if fc != req.function() {
        return Err(format!(
            "function code {fc:#04x} answers a request with FC{:02X}",
            req.function()
        ));
    }
    match req {
        Request::ReadHolding { count, .. } | Request::ReadInput { count, .. } => {
            let n = *pdu.get(1).ok_or("response without byte count")? as usize;
            if n != *count as usize * 2 {
                return Err(format!(
                    "byte count {n} for {count} registers asked (MAP §6.3)"
                ));
            }
            if pdu.len() != 2 + n {
                return Err(format!(
                    "PDU of {} bytes, byte count says {}",
                    pdu.len(),
                    2 + n
                ));
            }
            Ok(Response::Registers(
                pdu[2..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            ))
        }
        Request::WriteSingle { address, value } => {
            if pdu.len() != 5 {
                return Err(format!("FC06 response of {} bytes, expected 5", pdu.len()));
            }
            let (a, v) = (
                u16::from_be_bytes([pdu[1], pdu[2]]),
                u16::from_be_bytes([pdu[3], pdu[4]]),
            );
            if (a, v) != (*address, *value) {
                return Err(format!(
                    "FC06 echo {a}={v} differs from the request {address}={value} (MAP §6.6)"
                ));
            }
            Ok(Response::Written {
                address: a,
                value: v,
            })
        }
        Request::WriteMultiple { address, values } => {
            if pdu.len() != 5 {
                return Err(format!("FC16 response of {} bytes, expected 5", pdu.len()));
            }
            let (a, q) = (
                u16::from_be_bytes([pdu[1], pdu[2]]),
                u16::from_be_bytes([pdu[3], pdu[4]]),
            );
            if (a, q as usize) != (*address, values.len()) {
                return Err(format!(
                    "FC16 echo {a}+{q} differs from the request {address}+{} (MAP §6.12)",
                    values.len()
                ));
            }
            Ok(Response::Written {
                address: a,
                value: q,
            })
        }
    }
}

/// An RTU ADU: `unit`, `pdu`, CRC low byte first.
pub fn rtu_encode(unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(pdu.len() + 3);
    f.push(unit);
    f.extend_from_slice(pdu);
    let crc = crc16(&f);
    f.extend(crc.to_le_bytes());
    f
}

/// Whether an RTU frame's CRC is right.
pub fn rtu_crc_ok(frame: &[u8]) -> bool {
    frame.len() >= 4 && {
        let n = frame.len() - 2;
        crc16(&frame[..n]).to_le_bytes() == [frame[n], frame[n + 1]]
    }
}

/// Length of the RTU response frame at the start of `bytes` (`Ok(None)`: need more).
pub fn rtu_response_len(bytes: &[u8]) -> Result<Option<usize>, String> {
    if bytes.len() < 2 {
        return Ok(None);
    }
    Ok(response_pdu_len(&bytes[1..])?.map(|n| 1 + n + 2))
}

/// Length of the RTU request frame at the start of `bytes` (for the analyser).
pub fn rtu_request_len(bytes: &[u8]) -> Option<usize> {
    match *bytes.get(1)? {
        0x03 | 0x04 | 0x06 => Some(8),
        0x10 => bytes.get(6).map(|&n| 9 + n as usize),
        _ => None,
    }
}

/// A decoded RTU frame: unit and PDU, after the CRC check.
pub fn rtu_decode(frame: &[u8]) -> Result<(u8, &[u8]), String> {
    if frame.len() < 4 {
        return Err(format!(
            "RTU frame of {} bytes is shorter than 4 (address, function, CRC)",
            frame.len()
        ));
    }
    if !rtu_crc_ok(frame) {
        let n = frame.len() - 2;
        return Err(format!(
            "CRC {:02x} {:02x} is wrong, expected {:02x} {:02x} (Modbus over Serial Line §2.5.1.2)",
            frame[n],
            frame[n + 1],
            crc16(&frame[..n]) as u8,
            (crc16(&frame[..n]) >> 8) as u8
        ));
    }
    Ok((frame[0], &frame[1..frame.len() - 2]))
}

/// The MBAP header (Messaging on TCP/IP §3.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mbap {
    /// Transaction identifier.
    pub transaction: u16,
    /// Protocol identifier (0 = Modbus).
    pub protocol: u16,
    /// Byte count of unit + PDU.
    pub length: u16,
    /// Unit identifier.
    pub unit: u8,
}

/// A TCP ADU.
pub fn tcp_encode(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(7 + pdu.len());
    f.extend(transaction.to_be_bytes());
    f.extend(0u16.to_be_bytes());
    f.extend(((pdu.len() + 1) as u16).to_be_bytes());
    f.push(unit);
    f.extend_from_slice(pdu);
    f
}

/// Decodes the MBAP header of `bytes` (at least 7 bytes), checking protocol id and length.
pub fn mbap_decode(bytes: &[u8]) -> Result<Mbap, String> {
    if bytes.len() < 7 {
        return Err(format!("MBAP header needs 7 bytes, have {}", bytes.len()));
    }
    let h = Mbap {
        transaction: u16::from_be_bytes([bytes[0], bytes[1]]),
        protocol: u16::from_be_bytes([bytes[2], bytes[3]]),
        length: u16::from_be_bytes([bytes[4], bytes[5]]),
        unit: bytes[6],
    };
    if h.protocol != 0 {
        return Err(format!(
            "MBAP protocol identifier {} (Modbus is 0; TCP guide §3.1.3)",
            h.protocol
        ));
    }
    if !(2..=254).contains(&h.length) {
        return Err(format!(
            "MBAP length {} is outside 2..254 (TCP guide §3.1.3)",
            h.length
        ));
    }
    Ok(h)
}

/// Length of the TCP ADU at the start of `bytes` (`Ok(None)`: need more).
pub fn tcp_adu_len(bytes: &[u8]) -> Result<Option<usize>, String> {
    if bytes.len() < 7 {
        return Ok(None);
    }
    Ok(Some(6 + mbap_decode(bytes)?.length as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x4B37);
    }

    #[test]
    fn requests_round_trip() {
        for r in [
            Request::ReadHolding {
                address: 0,
                count: 2,
            },
            Request::ReadInput {
                address: 0x156,
                count: 2,
            },
            Request::WriteSingle {
                address: 100,
                value: 0xBEEF,
            },
            Request::WriteMultiple {
                address: 100,
                values: vec![1, 2, 3],
            },
        ] {
            assert_eq!(Request::from_pdu(&r.pdu()).unwrap(), r);
        }
    }

    #[test]
    fn response_errors_name_the_fault() {
        let r = Request::ReadHolding {
            address: 0,
            count: 2,
        };
        assert_eq!(
            parse_response(&r, &[0x83, 0x02]).unwrap(),
            Response::Exception(ExceptionCode(2))
        );
        assert!(parse_response(&r, &[0x03, 2, 0, 1])
            .unwrap_err()
            .contains("byte count 2 for 2 registers"));
        assert!(parse_response(&r, &[0x04, 4, 0, 1, 0, 2])
            .unwrap_err()
            .contains("answers a request with FC03"));
        let w = Request::WriteSingle {
            address: 1,
            value: 2,
        };
        assert!(parse_response(&w, &[6, 0, 1, 0, 3])
            .unwrap_err()
            .contains("echo"));
        assert!(rtu_decode(&[1, 3, 0, 0]).unwrap_err().contains("CRC"));
        assert!(mbap_decode(&[0, 1, 0, 5, 0, 6, 1])
            .unwrap_err()
            .contains("protocol identifier 5"));
    }
}
