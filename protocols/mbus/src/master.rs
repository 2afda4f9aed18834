//! The M-Bus master's side of a readout, sans-IO (EN 13757-2 link layer, EN 13757-3
//! application layer): the state machine says which frame to send and what answer to
//! wait for; the transport sends it, waits at most the deadline the [`crate::timing`]
//! module gives, and hands back what came ([`Reply`]). Every wait is bounded and every
//! repetition counted.
//!
//! Primary addressing: `SND_NKE` (answer E5h) then `REQ_UD2` (answer RSP_UD).
//! Secondary addressing (EN 13757-3 clause 11.4): `SND_NKE` to address 253 deselects every
//! slave (no answer is awaited), `SND_UD` with CI = 52h and the secondary address selects
//! one (answer E5h), then `REQ_UD2` to address 253.
//!
//! FCB (frame count bit, EN 13757-2 link layer): after `SND_NKE` the first `REQ_UD2` with
//! FCV = 1 carries FCB = 1; each following request of a new telegram toggles it; a
//! repetition after a missing or corrupt answer keeps it, so the slave repeats its last
//! telegram. A telegram whose last record is DIF 1Fh announces more records: the next
//! `REQ_UD2` (FCB toggled) fetches them (multi-telegram readout, EN 13757-3 clause 6.5).

use crate::data::{self, DataError, UserData};
use crate::frame::{address, ci, control, Frame, FrameError};
use crate::SecondaryAddress;

/// How a slave is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// Primary address 0–250 (254 broadcast with reply, for a single slave on the bus).
    Primary(u8),
    /// Secondary address, selected first.
    Secondary(SecondaryAddress),
}

/// Bounds of a readout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterConfig {
    /// Repetitions of a request after a missing or corrupt answer.
    pub retries: u8,
    /// Most telegrams of a multi-telegram readout.
    pub max_telegrams: usize,
    /// Send SND_NKE first (primary) / deselect first (secondary).
    pub initialise: bool,
}

impl Default for MasterConfig {
    fn default() -> Self {
        Self {
            retries: 2,
            max_telegrams: 16,
            initialise: true,
        }
    }
}

/// What answer the transport waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing: wait the response window and report what came (deselect broadcast).
    Nothing,
    /// The single character E5h.
    Ack,
    /// A RSP_UD long frame.
    UserData,
}

/// What came back within the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Nothing within the response window.
    Timeout,
    /// One complete frame.
    Frame(Frame),
    /// Bytes that are no valid frame (check sum, length, garbage), e.g. a collision.
    Corrupt(FrameError),
    /// More than one frame (several slaves answered).
    Several(usize),
}

/// Why a readout failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterError {
    #[error("{request} to {target}: no answer after {attempts} attempts")]
    NoAnswer {
        request: &'static str,
        target: String,
        attempts: u8,
    },
    #[error("{request} to {target}: corrupt answer after {attempts} attempts: {last}")]
    Corrupt {
        request: &'static str,
        target: String,
        attempts: u8,
        last: String,
    },
    #[error("{request} to {target}: unexpected answer {answer}")]
    Unexpected {
        request: &'static str,
        target: String,
        answer: String,
    },
    #[error("telegram {telegram} from {target}: {error}")]
    Data {
        telegram: usize,
        target: String,
        error: DataError,
    },
    #[error("{target}: more than {max} telegrams announced (DIF 1Fh); readout stopped")]
    TooManyTelegrams { target: String, max: usize },
}

/// The decoded telegrams of a readout.
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    pub telegrams: Vec<UserData>,
}

/// One step: send a frame and wait for an answer, or the end.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Send { frame: Frame, expect: Expect },
    Done(Result<Readout, MasterError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Initialise,
    Select,
    Request,
    Finished,
}

/// A readout of one slave (sans-IO state machine).
#[derive(Debug, Clone)]
pub struct ReadoutMachine {
    addressing: Addressing,
    config: MasterConfig,
    phase: Phase,
    attempts: u8,
    fcb: bool,
    telegrams: Vec<UserData>,
    last: Option<Frame>,
}

impl ReadoutMachine {
    pub fn new(addressing: Addressing, config: MasterConfig) -> Self {
        Self {
            addressing,
            config,
            phase: Phase::Start,
            attempts: 0,
            fcb: true,
            telegrams: Vec::new(),
            last: None,
        }
    }

    fn target(&self) -> String {
        match self.addressing {
            Addressing::Primary(a) => format!("primary address {a}"),
            Addressing::Secondary(s) => format!("secondary address {}", s),
        }
    }

    fn link_address(&self) -> u8 {
        match self.addressing {
            Addressing::Primary(a) => a,
            Addressing::Secondary(_) => address::NETWORK_LAYER,
        }
    }

    fn send(&mut self, phase: Phase, frame: Frame, expect: Expect) -> Step {
        self.phase = phase;
        self.last = Some(frame.clone());
        Step::Send { frame, expect }
    }

    fn request(&mut self) -> Step {
        let c = control::REQ_UD2 | if self.fcb { control::FCB } else { 0 };
        let f = Frame::Short {
            control: c,
            address: self.link_address(),
        };
        self.send(Phase::Request, f, Expect::UserData)
    }

    fn select(&mut self) -> Step {
        let Addressing::Secondary(s) = self.addressing else {
            unreachable!("select only for secondary addressing")
        };
        let f = Frame::Long {
            control: control::SND_UD,
            address: address::NETWORK_LAYER,
            ci: ci::SELECT,
            data: s.to_bytes().to_vec(),
        };
        self.send(Phase::Select, f, Expect::Ack)
    }

    /// The first step.
    pub fn start(&mut self) -> Step {
        self.attempts = 0;
        if self.config.initialise {
            let f = Frame::Short {
                control: control::SND_NKE,
                address: self.link_address(),
            };
            let expect = match self.addressing {
                Addressing::Primary(_) => Expect::Ack,
                Addressing::Secondary(_) => Expect::Nothing,
            };
            return self.send(Phase::Initialise, f, expect);
        }
        self.fcb = true;
        match self.addressing {
            Addressing::Primary(_) => self.request(),
            Addressing::Secondary(_) => self.select(),
        }
    }

    fn name(&self) -> &'static str {
        match self.phase {
            Phase::Initialise => "SND_NKE",
            Phase::Select => "SND_UD (select)",
            _ => "REQ_UD2",
        }
    }

    fn finish(&mut self, r: Result<Readout, MasterError>) -> Step {
        self.phase = Phase::Finished;
        Step::Done(r)
    }

    fn retry_or_fail(&mut self, reply: &Reply) -> Step {
        self.attempts += 1;
        if self.attempts <= self.config.retries {
            let f = self.last.clone().expect("a request was sent");
            let expect = match self.phase {
                Phase::Request => Expect::UserData,
                _ => Expect::Ack,
            };
            return Step::Send { frame: f, expect };
        }
        let (request, target, attempts) = (self.name(), self.target(), self.attempts);
        let err = match reply {
            Reply::Timeout => MasterError::NoAnswer {
                request,
                target,
                attempts,
            },
            Reply::Corrupt(e) => MasterError::Corrupt {
                request,
                target,
                attempts,
                last: e.to_string(),
            },
            Reply::Several(n) => MasterError::Corrupt {
                request,
                target,
                attempts,
                last: format!("{n} frames (several slaves answered)"),
            },
            Reply::Frame(f) => MasterError::Unexpected {
                request,
                target,
                answer: f.to_string(),
            },
        };
        self.finish(Err(err))
    }

    /// Feed what came back for the last step.
    pub fn on_reply(&mut self, reply: Reply) -> Step {
        match self.phase {
            Phase::Start | Phase::Finished => self.finish(Err(MasterError::Unexpected {
                request: "none",
                target: self.target(),
                answer: "a reply without a request".into(),
            })),
            Phase::Initialise => {
                if let Addressing::Primary(_) = self.addressing {
                    match reply {
                        Reply::Frame(Frame::Ack) => {}
                        other => return self.retry_or_fail(&other),
                    }
                }
                // Deselect broadcast: whatever came is not an answer to wait for.
                self.attempts = 0;
                self.fcb = true;
                match self.addressing {
                    Addressing::Primary(_) => self.request(),
                    Addressing::Secondary(_) => self.select(),
                }
            }
            Phase::Select => match reply {
                Reply::Frame(Frame::Ack) => {
                    self.attempts = 0;
                    self.request()
                }
                other => self.retry_or_fail(&other),
            },
            Phase::Request => match reply {
                Reply::Frame(Frame::Long {
                    control: c,
                    address: a,
                    ci,
                    data,
                }) if c & 0x4F == control::RSP_UD => {
                    if let Addressing::Primary(p) = self.addressing {
                        if p != a && p != address::BROADCAST_REPLY {
                            return self.finish(Err(MasterError::Unexpected {
                                request: "REQ_UD2",
                                target: self.target(),
                                answer: format!("RSP_UD from address {a}"),
                            }));
                        }
                    }
                    let ud = match data::decode(ci, &data) {
                        Ok(ud) => ud,
                        Err(error) => {
                            let telegram = self.telegrams.len() + 1;
                            let target = self.target();
                            return self.finish(Err(MasterError::Data {
                                telegram,
                                target,
                                error,
                            }));
                        }
                    };
                    let more = matches!(&ud, UserData::Variable(v) if v.more_records_follow());
                    self.telegrams.push(ud);
                    if !more {
                        let telegrams = std::mem::take(&mut self.telegrams);
                        return self.finish(Ok(Readout { telegrams }));
                    }
                    if self.telegrams.len() >= self.config.max_telegrams {
                        let target = self.target();
                        let max = self.config.max_telegrams;
                        return self.finish(Err(MasterError::TooManyTelegrams { target, max }));
                    }
                    self.attempts = 0;
                    self.fcb = !self.fcb;
                    self.request()
                }
                other => self.retry_or_fail(&other),
            },
        }
    }
}

impl SecondaryAddress {
    /// The 8 bytes of a selection (EN 13757-3 clause 11.4): ID LSB first, manufacturer,
    /// version, medium.
    pub fn to_bytes(&self) -> [u8; 8] {
        let m = self.manufacturer.to_le_bytes();
        [
            self.id[0],
            self.id[1],
            self.id[2],
            self.id[3],
            m[0],
            m[1],
            self.version,
            self.medium,
        ]
    }

    /// An address selecting by ID only (manufacturer, version, medium wildcards).
    pub fn from_id_digits(digits: &[u8; 8]) -> SecondaryAddress {
        // digits[0] is the most significant; wildcard digit = 0xF.
        let mut id = [0u8; 4];
        for (i, pair) in digits.chunks(2).enumerate() {
            id[3 - i] = (pair[0] << 4) | pair[1];
        }
        SecondaryAddress {
            id,
            manufacturer: 0xFFFF,
            version: 0xFF,
            medium: 0xFF,
        }
    }

    /// Parse the `id:12345678` form of a URI (8 hex digits; F is a wildcard).
    pub fn parse_id(s: &str) -> Option<SecondaryAddress> {
        if s.len() != 8 {
            return None;
        }
        let mut d = [0u8; 8];
        for (i, c) in s.chars().enumerate() {
            let v = c.to_digit(16)? as u8;
            if v > 9 && v != 0xF {
                return None;
            }
            d[i] = v;
        }
        Some(Self::from_id_digits(&d))
    }

    /// The ID digits, most significant first (Fh = wildcard).
    pub fn id_digits(&self) -> [u8; 8] {
        let mut d = [0u8; 8];
        for i in 0..4 {
            d[2 * i] = self.id[3 - i] >> 4;
            d[2 * i + 1] = self.id[3 - i] & 0x0F;
        }
        d
    }
}

impl std::fmt::Display for SecondaryAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in self.id_digits() {
            write!(f, "{d:X}")?;
        }
        write!(
            f,
            "/{}/{:02X}/{:02X}",
            if self.manufacturer == 0xFFFF {
                "*".to_string()
            } else {
                crate::data::manufacturer_code(self.manufacturer)
            },
            self.version,
            self.medium
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsp(address: u8, more: bool, access: u8) -> Frame {
        let mut data = vec![
            0x78, 0x56, 0x34, 0x12, 0x42, 0x04, 0x01, 0x02, access, 0x00, 0x00, 0x00,
        ];
        data.extend_from_slice(&[0x04, 0x03, 0x10, 0x00, 0x00, 0x00]);
        if more {
            data.push(0x1F);
        }
        Frame::Long {
            control: 0x08,
            address,
            ci: 0x72,
            data,
        }
    }

    #[test]
    fn primary_readout_with_multi_telegram_and_fcb() {
        let mut m = ReadoutMachine::new(Addressing::Primary(5), MasterConfig::default());
        let Step::Send { frame, expect } = m.start() else {
            panic!()
        };
        assert_eq!(frame.encode(), vec![0x10, 0x40, 0x05, 0x45, 0x16]);
        assert_eq!(expect, Expect::Ack);
        let Step::Send { frame, .. } = m.on_reply(Reply::Frame(Frame::Ack)) else {
            panic!()
        };
        assert_eq!(
            frame.control(),
            Some(0x7B),
            "first REQ_UD2 after SND_NKE has FCB = 1"
        );
        // A lost answer: the repetition keeps FCB.
        let Step::Send { frame, .. } = m.on_reply(Reply::Timeout) else {
            panic!()
        };
        assert_eq!(frame.control(), Some(0x7B));
        let Step::Send { frame, .. } = m.on_reply(Reply::Frame(rsp(5, true, 1))) else {
            panic!()
        };
        assert_eq!(frame.control(), Some(0x5B), "next telegram: FCB toggled");
        match m.on_reply(Reply::Frame(rsp(5, false, 2))) {
            Step::Done(Ok(r)) => assert_eq!(r.telegrams.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retries_are_bounded() {
        let mut m = ReadoutMachine::new(Addressing::Primary(7), MasterConfig::default());
        m.start();
        let mut steps = 0;
        loop {
            match m.on_reply(Reply::Timeout) {
                Step::Send { .. } => steps += 1,
                Step::Done(Err(MasterError::NoAnswer { attempts, .. })) => {
                    assert_eq!(attempts, 3);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(steps, 2);
    }

    #[test]
    fn secondary_select_then_request() {
        let sec = SecondaryAddress::parse_id("12345678").unwrap();
        assert_eq!(
            sec.to_bytes(),
            [0x78, 0x56, 0x34, 0x12, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        let mut m = ReadoutMachine::new(Addressing::Secondary(sec), MasterConfig::default());
        let Step::Send { frame, expect } = m.start() else {
            panic!()
        };
        assert_eq!((frame.address(), expect), (Some(253), Expect::Nothing));
        let Step::Send { frame, .. } = m.on_reply(Reply::Timeout) else {
            panic!()
        };
        assert_eq!(frame.ci(), Some(0x52));
        let Step::Send { frame, .. } = m.on_reply(Reply::Frame(Frame::Ack)) else {
            panic!()
        };
        assert_eq!(frame.address(), Some(253));
        assert!(matches!(
            m.on_reply(Reply::Frame(rsp(0, false, 1))),
            Step::Done(Ok(_))
        ));
    }

    #[test]
    fn endless_more_records_follow_is_bounded() {
        let cfg = MasterConfig {
            max_telegrams: 3,
            ..Default::default()
        };
        let mut m = ReadoutMachine::new(Addressing::Primary(1), cfg);
        m.start();
        m.on_reply(Reply::Frame(Frame::Ack));
        let mut n = 0;
        loop {
            match m.on_reply(Reply::Frame(rsp(1, true, n))) {
                Step::Send { .. } => n += 1,
                Step::Done(r) => {
                    assert!(matches!(
                        r,
                        Err(MasterError::TooManyTelegrams { max: 3, .. })
                    ));
                    break;
                }
            }
        }
    }
}
