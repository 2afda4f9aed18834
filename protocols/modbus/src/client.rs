//! The Modbus client over a pqe-link transport: RTU (inter-frame silence of
//! 3.5 characters, Modbus over Serial Line V1.02 §2.5.1.1) or TCP (MBAP
//! transaction identifiers; stale or mismatched answers are rejected).

use crate::frame::{self, Request, Response};
use crate::trace::{RtuDecoder, TcpDecoder};
use pqe_link::{with_retries, LineSettings, LinkError, RegisterTable, Result, Transport};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// RTU or TCP framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Modbus RTU on a serial line.
    Rtu,
    /// Modbus TCP (MBAP header).
    Tcp,
}

/// A Modbus client for one unit.
pub struct ModbusClient {
    t: Box<dyn Transport>,
    framing: Framing,
    unit: u8,
    timeout: Duration,
    retries: u32,
    next_transaction: u16,
    /// Transaction ids sent and not answered (a late answer to one is stale).
    outstanding: VecDeque<u16>,
    last_frame_end: Option<Instant>,
    /// Stale answers dropped so far.
    pub stale_dropped: usize,
}

/// The inter-frame silence t3.5 of Modbus over Serial Line §2.5.1.1: 3.5
/// character times, fixed at 1.75 ms above 19200 baud.
pub fn t35(line: &LineSettings) -> Duration {
    if line.baud > 19200 {
        Duration::from_micros(1750)
    } else {
        line.char_time().mul_f64(3.5)
    }
}

/// The inter-character limit t1.5 (§2.5.1.1): 1.5 character times, 750 µs above 19200 baud.
pub fn t15(line: &LineSettings) -> Duration {
    if line.baud > 19200 {
        Duration::from_micros(750)
    } else {
        line.char_time().mul_f64(1.5)
    }
}

impl ModbusClient {
    /// A client for `unit` over `t`.
    pub fn new(
        mut t: Box<dyn Transport>,
        framing: Framing,
        unit: u8,
        timeout: Duration,
        retries: u32,
    ) -> Self {
        match framing {
            Framing::Rtu => t.set_frame_decoder(Box::new(RtuDecoder)),
            Framing::Tcp => t.set_frame_decoder(Box::new(TcpDecoder)),
        }
        ModbusClient {
            t,
            framing,
            unit,
            timeout,
            retries,
            next_transaction: 1,
            outstanding: VecDeque::new(),
            last_frame_end: None,
            stale_dropped: 0,
        }
    }

    /// Sends `req` and returns the answer, repeating timeouts and damaged
    /// frames up to the retry bound. An exception is a [`LinkError::Refused`]
    /// naming the code and its meaning.
    pub fn transact(&mut self, req: &Request) -> Result<Response> {
        let retries = self.retries;
        let resp = with_retries(retries, |_| match self.framing {
            Framing::Rtu => self.transact_rtu(req),
            Framing::Tcp => self.transact_tcp(req),
        })?;
        if let Response::Exception(code) = resp {
            return Err(LinkError::Refused {
                request: format!("{req} (unit {})", self.unit),
                reason: code.to_string(),
            });
        }
        Ok(resp)
    }

    /// Reads `count` registers from `table` at the 0-based `address`.
    pub fn read_registers(
        &mut self,
        table: RegisterTable,
        address: u16,
        count: u16,
    ) -> Result<Vec<u16>> {
        if count == 0 || count > frame::MAX_READ_REGISTERS || address as u32 + count as u32 > 65536
        {
            return Err(LinkError::Config(format!(
                "read of {count} registers at {address}: 1..125 registers within 0..65535"
            )));
        }
        let req = match table {
            RegisterTable::Holding => Request::ReadHolding { address, count },
            RegisterTable::Input => Request::ReadInput { address, count },
        };
        match self.transact(&req)? {
            Response::Registers(r) => Ok(r),
            other => Err(LinkError::frame(
                req.to_string(),
                format!("unexpected answer {other:?}"),
            )),
        }
    }

    /// Writes holding registers from the 0-based `address` (FC06 for one, FC16 for more).
    pub fn write_registers(&mut self, address: u16, values: &[u16]) -> Result<()> {
        if values.is_empty() || values.len() > frame::MAX_WRITE_REGISTERS as usize {
            return Err(LinkError::Config(format!(
                "write of {} registers: 1..123",
                values.len()
            )));
        }
        let req = if values.len() == 1 {
            Request::WriteSingle {
                address,
                value: values[0],
            }
        } else {
            Request::WriteMultiple {
                address,
                values: values.to_vec(),
            }
        };
        self.transact(&req).map(|_| ())
    }

    fn transact_rtu(&mut self, req: &Request) -> Result<Response> {
        let line = self.t.line().unwrap_or(LineSettings::new_8n1(9600));
        if let Some(end) = self.last_frame_end {
            let quiet = t35(&line);
            let since = end.elapsed();
            if since < quiet {
                std::thread::sleep(quiet - since);
            }
        }
        // Bytes still arriving from an earlier, timed-out answer would be
        // taken for this one's.
        self.t.discard_input()?;
        let adu = frame::rtu_encode(self.unit, &req.pdu());
        self.t.send(&adu)?;
        let start = Instant::now();
        let deadline = start + self.timeout;
        let what = format!("{req} to unit {}", self.unit);
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 256];
        let result = loop {
            let need = frame::rtu_response_len(&buf)
                .map_err(|e| LinkError::frame(format!("answer to {what}"), e))?;
            if let Some(n) = need {
                if buf.len() >= n {
                    break Ok(n);
                }
            }
            match self.t.recv(&mut chunk, deadline) {
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
                Err(LinkError::Timeout { .. }) => {
                    break Err(LinkError::Timeout {
                        what: format!(
                            "answer to {what}: {} bytes of {} received",
                            buf.len(),
                            need.map_or("?".into(), |n| n.to_string())
                        ),
                        waited: start.elapsed(),
                    })
                }
                Err(e) => break Err(e),
            }
        };
        self.last_frame_end = Some(Instant::now());
        let n = result?;
        let frame_bytes = &buf[..n];
        let (unit, pdu) = frame::rtu_decode(frame_bytes)
            .map_err(|e| LinkError::frame(format!("answer to {what}"), e))?;
        if unit != self.unit {
            return Err(LinkError::frame(
                format!("answer to {what}"),
                format!("comes from unit {unit}"),
            ));
        }
        if buf.len() > n {
            return Err(LinkError::frame(
                format!("answer to {what}"),
                format!("{} bytes after the frame's CRC", buf.len() - n),
            ));
        }
        frame::parse_response(req, pdu)
            .map_err(|e| LinkError::frame(format!("answer to {what}"), e))
    }

    fn transact_tcp(&mut self, req: &Request) -> Result<Response> {
        let tid = self.next_transaction;
        self.next_transaction = self.next_transaction.wrapping_add(1);
        let adu = frame::tcp_encode(tid, self.unit, &req.pdu());
        self.t.send(&adu)?;
        self.outstanding.push_back(tid);
        while self.outstanding.len() > 16 {
            self.outstanding.pop_front();
        }
        let start = Instant::now();
        let deadline = start + self.timeout;
        let what = format!("{req} to unit {} (transaction {tid})", self.unit);
        loop {
            let mut head = [0u8; 7];
            pqe_link::recv_exact(
                self.t.as_mut(),
                &mut head,
                deadline,
                &format!("MBAP header of the answer to {what}"),
            )?;
            let h = frame::mbap_decode(&head)
                .map_err(|e| LinkError::frame(format!("answer to {what}"), e))?;
            let mut pdu = vec![0u8; h.length as usize - 1];
            pqe_link::recv_exact(
                self.t.as_mut(),
                &mut pdu,
                deadline,
                &format!("PDU of the answer to {what}"),
            )?;
            if h.transaction != tid {
                if self.outstanding.contains(&h.transaction) {
                    // A late answer to an earlier (timed-out) request: drop it, keep waiting.
                    self.outstanding.retain(|&t| t != h.transaction);
                    self.stale_dropped += 1;
                    continue;
                }
                return Err(LinkError::frame(
                    format!("answer to {what}"),
                    format!(
                        "transaction id {} was never sent (TCP guide §3.1.3)",
                        h.transaction
                    ),
                ));
            }
            self.outstanding.retain(|&t| t != tid);
            if h.unit != self.unit {
                return Err(LinkError::frame(
                    format!("answer to {what}"),
                    format!("unit identifier {} (asked {})", h.unit, self.unit),
                ));
            }
            return frame::parse_response(req, &pdu)
                .map_err(|e| LinkError::frame(format!("answer to {what}"), e));
        }
    }

    /// The transport (for notes and hand-over).
    pub fn transport(&mut self) -> &mut dyn Transport {
        self.t.as_mut()
    }
}
