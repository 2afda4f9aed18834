//! The IEC 62056-21 client (the "HHU" of the standard) over a pqe-link
//! transport: sign-on at 300 baud 7E1, identification, option select, baud
//! switch-over, readout with partial blocks, programming mode (P1/P2 password,
//! R1, W1, B0) and the mode E hand-over to HDLC.
//!
//! Timing (IEC 62056-21:2002 §6.3.14 and the mode flows of §6.4): the meter
//! answers after the reaction time tr, 200 ms ≤ tr ≤ 1500 ms (20 ms minimum
//! when the manufacturer's third letter is lower case); characters of one
//! message follow each other within ta = 1500 ms. The client keeps the same
//! minimum reaction time before each of its own messages.

use crate::message::{
    self, Identification, Incoming, Mode, ModeControl, ACK, EOT, ETX, NAK, SOH, STX,
};
use crate::trace::IecDecoder;
use pqe_link::{LineSettings, LinkError, Parity, Result, Secret, Transport};
use std::time::{Duration, Instant};

/// The longest a meter may take to answer (tr max).
pub const TR_MAX: Duration = Duration::from_millis(1500);
/// The minimum reaction time (tr min).
pub const TR_MIN: Duration = Duration::from_millis(200);
/// The minimum reaction time of meters with a lower-case third manufacturer letter.
pub const TR_MIN_SHORT: Duration = Duration::from_millis(20);
/// The longest gap between two characters of a message (ta).
pub const TA_MAX: Duration = Duration::from_millis(1500);
/// The largest message the client accepts (a bound on a meter that never stops).
pub const MAX_MESSAGE: usize = 1 << 20;

/// The sign-on line: 300 baud, 7 data bits, even parity, 1 stop bit (§6.2).
pub fn sign_on_line() -> LineSettings {
    LineSettings {
        baud: 300,
        data_bits: 7,
        parity: Parity::Even,
        stop_bits: 1,
    }
}

/// Which password command (§6.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLevel {
    /// P1: the password compared with the stored one.
    P1,
    /// P2: the result of the manufacturer's algorithm applied to the P0 operand.
    P2,
}

/// A readout: the identification and the data sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// The meter's identification.
    pub identification: Identification,
    /// The data sets in order.
    pub data_sets: Vec<message::DataSet>,
    /// Number of blocks it came in (more than 1: partial blocks).
    pub blocks: usize,
}

/// An IEC 62056-21 session with one meter.
pub struct IecClient {
    t: Box<dyn Transport>,
    mode: Mode,
    address: String,
    timeout: Duration,
    retries: u32,
    ident: Option<Identification>,
    last_rx: Option<Instant>,
    programming: bool,
    /// Received bytes not yet cut into a message.
    rxbuf: Vec<u8>,
}

impl IecClient {
    /// A client in `mode` for the meter at `address` ("" for the only one on an optical port).
    /// `timeout` bounds the wait for the first byte of each answer (tr max, 1.5 s, plus margin).
    pub fn new(
        mut t: Box<dyn Transport>,
        mode: Mode,
        address: &str,
        timeout: Duration,
        retries: u32,
    ) -> Result<Self> {
        message::sign_on(address).map_err(LinkError::Config)?;
        t.set_frame_decoder(Box::new(IecDecoder));
        Ok(IecClient {
            t,
            mode,
            address: address.to_string(),
            timeout,
            retries,
            ident: None,
            last_rx: None,
            programming: false,
            rxbuf: Vec::new(),
        })
    }

    fn serial(&self) -> bool {
        self.t.line().is_some()
    }

    fn reaction_min(&self) -> Duration {
        if self
            .ident
            .as_ref()
            .is_some_and(Identification::short_reaction)
        {
            TR_MIN_SHORT
        } else {
            TR_MIN
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(rx) = self.last_rx {
            let wait = self.reaction_min().saturating_sub(rx.elapsed());
            std::thread::sleep(wait);
        }
        self.t.send(bytes)
    }

    /// Waits for one message: the first byte within the timeout, each further
    /// byte within ta; noise before a start character is dropped.
    fn recv_message(&mut self, what: &str) -> Result<Incoming> {
        let start = Instant::now();
        let mut chunk = [0u8; 512];
        let mut deadline = start + self.timeout;
        loop {
            match message::split(&self.rxbuf) {
                Ok(Some((n, msg))) => {
                    // Bytes after the message stay for the next one (modes A, B and
                    // D send the readout right after the identification).
                    self.rxbuf.drain(..n);
                    self.last_rx = Some(Instant::now());
                    return Ok(msg);
                }
                Ok(None) => {}
                Err(noise) => {
                    self.rxbuf.drain(..noise);
                    continue;
                }
            }
            if self.rxbuf.len() > MAX_MESSAGE {
                return Err(LinkError::frame(
                    what,
                    format!("no end after {} bytes", self.rxbuf.len()),
                ));
            }
            match self.t.recv(&mut chunk, deadline) {
                Ok(k) => {
                    self.rxbuf.extend_from_slice(&chunk[..k]);
                    deadline = Instant::now() + TA_MAX;
                }
                Err(LinkError::Timeout { .. }) => {
                    let why = if self.rxbuf.is_empty() {
                        "no answer".to_string()
                    } else {
                        format!(
                            "{} bytes, then silence longer than ta = 1500 ms (§6.3.14)",
                            self.rxbuf.len()
                        )
                    };
                    self.rxbuf.clear();
                    return Err(LinkError::Timeout {
                        what: format!("{what}: {why}"),
                        waited: start.elapsed(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Changes the line to `line` once the `sent` bytes at 300 baud have left
    /// (a write returns when the bytes are queued, not sent).
    fn switch_line(&mut self, line: LineSettings, sent: usize) -> Result<()> {
        if !self.serial() {
            return Ok(());
        }
        let on_wire = self
            .t
            .line()
            .unwrap_or(sign_on_line())
            .char_time()
            .mul_f64(sent as f64 + 1.0);
        std::thread::sleep(on_wire);
        self.t.set_line(line)
    }

    /// Signs on (`/?ADDRESS!`) and reads the identification (§6.3.1, §6.3.2).
    pub fn sign_on(&mut self) -> Result<Identification> {
        if self.serial() {
            self.t.set_line(sign_on_line())?;
        }
        self.t.discard_input()?;
        self.rxbuf.clear();
        self.ident = None;
        self.last_rx = None;
        let req = message::sign_on(&self.address).map_err(LinkError::Config)?;
        self.t.send(&req)?;
        let what = format!("identification after /?{}!", self.address);
        match self.recv_message(&what)? {
            Incoming::Identification(m) => {
                let id =
                    message::parse_identification(&m).map_err(|e| LinkError::frame(&what, e))?;
                self.ident = Some(id.clone());
                Ok(id)
            }
            other => Err(LinkError::frame(
                &what,
                format!("{} instead of an identification", describe(&other)),
            )),
        }
    }

    fn baud(&self, id: &Identification) -> Result<u32> {
        message::baud_for(self.mode, id.baud_char).ok_or_else(|| {
            LinkError::frame(
                "identification",
                format!(
                    "baud character '{}' is not valid in mode {:?} (§6.3.2)",
                    id.baud_char as char, self.mode
                ),
            )
        })
    }

    /// Reads the data message, partial blocks acknowledged with ACK, a block
    /// with a wrong BCC asked again with NAK (at most `retries` times each).
    fn read_data(&mut self, what: &str) -> Result<(Vec<u8>, usize)> {
        let mut data = Vec::new();
        let mut blocks = 0;
        let mut naks = 0;
        loop {
            let msg = self.recv_message(&format!("{what}, block {}", blocks + 1))?;
            match msg {
                Incoming::Block {
                    start: STX,
                    body,
                    end,
                    bcc_ok,
                } => {
                    if !bcc_ok {
                        if naks >= self.retries {
                            return Err(LinkError::frame(
                                format!("{what}, block {}", blocks + 1),
                                format!("BCC wrong after {} repetitions (§6.3)", naks),
                            ));
                        }
                        naks += 1;
                        self.send(&[NAK])?;
                        continue;
                    }
                    naks = 0;
                    blocks += 1;
                    data.extend_from_slice(&body);
                    if end == EOT {
                        self.send(&[ACK])?;
                        continue;
                    }
                    return Ok((data, blocks));
                }
                other => {
                    return Err(LinkError::frame(
                        format!("{what}, block {}", blocks + 1),
                        format!("{} instead of a data block", describe(&other)),
                    ))
                }
            }
        }
    }

    /// The data readout of the mode (§6.4): A at 300 baud, B and D without
    /// acknowledgement, C and E after the option select `ACK 0 Z 0`.
    pub fn readout(&mut self) -> Result<Readout> {
        let id = self.sign_on()?;
        let line7e1 = sign_on_line();
        match self.mode {
            Mode::A => {}
            Mode::B | Mode::D => {
                let baud = self.baud(&id)?;
                self.switch_line(line7e1.with_baud(baud), 0)?;
            }
            Mode::C | Mode::E => {
                let baud = self.baud(&id)?;
                let opt = message::option_select(id.baud_char, ModeControl::Readout);
                self.send(&opt)?;
                self.switch_line(line7e1.with_baud(baud), opt.len())?;
            }
        }
        let (data, blocks) = self.read_data("readout")?;
        let data_sets =
            message::parse_data_sets(&data).map_err(|e| LinkError::frame("readout", e))?;
        Ok(Readout {
            identification: id,
            data_sets,
            blocks,
        })
    }

    /// Enters programming mode (option select `ACK 0 Z 1`), reads the P0
    /// operand and, with a password, sends it with P1 or P2 (§6.3.6). The
    /// password goes on the wire only; errors never quote it.
    pub fn programming(
        &mut self,
        password: Option<&Secret>,
        level: PasswordLevel,
    ) -> Result<String> {
        if !matches!(self.mode, Mode::C | Mode::E) {
            return Err(LinkError::NotImplemented(format!(
                "programming mode needs protocol mode C or E (the URI says mode={:?})",
                self.mode
            )));
        }
        let id = self.sign_on()?;
        let baud = self.baud(&id)?;
        let opt = message::option_select(id.baud_char, ModeControl::Programming);
        self.send(&opt)?;
        self.switch_line(sign_on_line().with_baud(baud), opt.len())?;
        let operand = match self.recv_message("password request P0")? {
            Incoming::Block {
                start: SOH,
                body,
                end: ETX,
                bcc_ok: true,
            } if body.starts_with(b"P0\x02") => {
                let inner = &body[3..];
                String::from_utf8_lossy(
                    inner
                        .strip_prefix(b"(")
                        .and_then(|x| x.strip_suffix(b")"))
                        .unwrap_or(inner),
                )
                .into_owned()
            }
            other => {
                return Err(LinkError::frame(
                    "password request P0",
                    format!("{} instead of SOH P0 STX (…) ETX BCC", describe(&other)),
                ))
            }
        };
        self.programming = true;
        if let Some(pw) = password {
            let mut data = Vec::with_capacity(pw.len() + 2);
            data.push(b'(');
            data.extend_from_slice(pw.expose());
            data.push(b')');
            let mut cmd = message::command(
                if level == PasswordLevel::P1 {
                    b"P1"
                } else {
                    b"P2"
                },
                Some(&data),
            );
            data.iter_mut().for_each(|b| *b = 0);
            let sent = self.send(&cmd);
            cmd.iter_mut().for_each(|b| *b = 0);
            sent?;
            match self.recv_message("answer to the password")? {
                Incoming::Ack => {}
                Incoming::Nak => {
                    return Err(LinkError::Refused {
                        request: format!("password ({level:?})"),
                        reason: "NAK: the meter refused the password".into(),
                    })
                }
                other => {
                    return Err(LinkError::frame(
                        "answer to the password",
                        format!("{} instead of ACK", describe(&other)),
                    ))
                }
            }
        }
        Ok(operand)
    }

    fn check_answer(&self, request: &str, msg: Incoming) -> Result<Vec<message::DataSet>> {
        match msg {
            Incoming::Block {
                start: STX,
                body,
                end: ETX,
                bcc_ok: true,
            } => {
                let sets = message::parse_data_sets(&body)
                    .map_err(|e| LinkError::frame(format!("answer to {request}"), e))?;
                if let Some(err) = sets.iter().find(|s| s.address.is_empty()) {
                    return Err(LinkError::Refused {
                        request: request.to_string(),
                        reason: format!("error message ({})", err.value),
                    });
                }
                Ok(sets)
            }
            Incoming::Block { bcc_ok: false, .. } => Err(LinkError::frame(
                format!("answer to {request}"),
                "BCC is wrong (§6.3)",
            )),
            Incoming::Nak => Err(LinkError::Refused {
                request: request.to_string(),
                reason: "NAK".into(),
            }),
            other => Err(LinkError::frame(
                format!("answer to {request}"),
                format!("{} instead of STX … ETX BCC", describe(&other)),
            )),
        }
    }

    /// R1: reads one register in programming mode (§6.3.6).
    pub fn read_register(&mut self, address: &str) -> Result<message::DataSet> {
        self.require_programming()?;
        let req = format!("R1 {address}");
        let cmd = message::command(b"R1", Some(format!("{address}()").as_bytes()));
        let mut last = None;
        for _ in 0..=self.retries {
            self.send(&cmd)?;
            match self
                .recv_message(&format!("answer to {req}"))
                .and_then(|m| self.check_answer(&req, m))
            {
                Ok(mut sets) if sets.len() == 1 => return Ok(sets.remove(0)),
                Ok(sets) => {
                    return Err(LinkError::frame(
                        format!("answer to {req}"),
                        format!("{} data sets, expected 1", sets.len()),
                    ))
                }
                Err(e) if e.is_retryable() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one try"))
    }

    /// W1: writes one register in programming mode (§6.3.6); the meter answers ACK or NAK.
    pub fn write_register(&mut self, address: &str, value: &str) -> Result<()> {
        self.require_programming()?;
        if value
            .bytes()
            .any(|b| matches!(b, b'(' | b')' | b'/' | b'!') || !(0x20..0x7f).contains(&b))
        {
            return Err(LinkError::Config(format!(
                "value '{value}' holds a character a data set cannot carry (§6.5)"
            )));
        }
        let req = format!("W1 {address}");
        self.send(&message::command(
            b"W1",
            Some(format!("{address}({value})").as_bytes()),
        ))?;
        match self.recv_message(&format!("answer to {req}"))? {
            Incoming::Ack => Ok(()),
            Incoming::Nak => Err(LinkError::Refused {
                request: req,
                reason: "NAK (not writable, or not allowed)".into(),
            }),
            other => self.check_answer(&req, other).map(|_| ()),
        }
    }

    fn require_programming(&self) -> Result<()> {
        if self.programming {
            Ok(())
        } else {
            Err(LinkError::Config(
                "R1/W1 need programming mode: call programming() first".into(),
            ))
        }
    }

    /// B0: ends the session (§6.3.6). The meter does not answer.
    pub fn break_session(&mut self) -> Result<()> {
        self.programming = false;
        self.send(&message::command(b"B0", None))
    }

    /// Mode E: option select `ACK 0 Z 2`, then both sides change to binary
    /// mode at the baud of Z, 8N1 (§6.4.6); the transport is handed over for
    /// DLMS/COSEM over HDLC (IEC 62056-46).
    pub fn handover_to_hdlc(mut self) -> Result<(Identification, Box<dyn Transport>)> {
        if self.mode != Mode::E {
            return Err(LinkError::Config(
                "the hand-over to HDLC needs mode=E".into(),
            ));
        }
        let id = self.sign_on()?;
        if !id.mode_e() {
            return Err(LinkError::Refused {
                request: "mode E".into(),
                reason: format!("the identification '{id}' does not offer \\2 (mode E)"),
            });
        }
        let baud = self.baud(&id)?;
        let opt = message::option_select(id.baud_char, ModeControl::Binary);
        self.send(&opt)?;
        self.switch_line(LineSettings::new_8n1(baud), opt.len())?;
        self.t
            .set_frame_decoder(Box::new(pqe_link::trace::RawDecoder));
        self.t.note(&format!(
            "IEC 62056-21 mode E: hand-over to HDLC at {baud} baud 8N1"
        ));
        Ok((id, self.t))
    }

    /// The identification of the last sign-on.
    pub fn identification(&self) -> Option<&Identification> {
        self.ident.as_ref()
    }
}

fn describe(m: &Incoming) -> String {
    match m {
        Incoming::Identification(_) => "an identification".into(),
        Incoming::Ack => "ACK".into(),
        Incoming::Nak => "NAK".into(),
        Incoming::Block { start, end, .. } => format!(
            "a {} … {} block",
            if *start == SOH { "SOH" } else { "STX" },
            if *end == ETX { "ETX" } else { "EOT" }
        ),
    }
}
