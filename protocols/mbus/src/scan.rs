//! Finding slaves, sans-IO.
//!
//! - Primary scan: `SND_NKE` to each primary address; an E5h answer means a slave.
//! - Secondary scan (EN 13757-3 clause 11.4 wildcard selection; the collision-driven
//!   depth-first search every M-Bus master uses): select with the ID digits fixed from
//!   the left and the rest wildcards (Fh). No answer: nobody matches, try the next digit.
//!   One clean E5h: exactly one slave matches; a `REQ_UD2` to address 253 reads its full
//!   secondary address. A collision (corrupt bytes, several frames): more than one slave
//!   matches, fix the next digit and search below. With all 8 digits fixed a collision
//!   means slaves that share an ID and differ in manufacturer, version or medium: reported
//!   as such, never silently dropped.

use crate::data::{self, UserData};
use crate::frame::{address, ci, control, Frame};
use crate::master::{Expect, Reply};
use crate::SecondaryAddress;

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Primary(u8),
    Secondary(SecondaryAddress),
    /// Several slaves answer to this fully specified ID (differing manufacturer, version
    /// or medium), or a slave answered the selection but not the readout.
    Unresolved {
        mask: SecondaryAddress,
        reason: String,
    },
}

/// One step of a scan.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanStep {
    Send { frame: Frame, expect: Expect },
    Done(Vec<Found>),
}

/// Primary scan over an address range.
#[derive(Debug, Clone)]
pub struct PrimaryScan {
    next: u16,
    last: u8,
    retries: u8,
    attempts: u8,
    found: Vec<Found>,
}

impl PrimaryScan {
    /// Scan `first..=last` (at most 0..=250), repeating an unanswered ping `retries` times.
    pub fn new(first: u8, last: u8, retries: u8) -> Self {
        Self {
            next: first as u16,
            last: last.min(address::PRIMARY_MAX),
            retries,
            attempts: 0,
            found: Vec::new(),
        }
    }

    fn ping(&self) -> ScanStep {
        ScanStep::Send {
            frame: Frame::Short {
                control: control::SND_NKE,
                address: self.next as u8,
            },
            expect: Expect::Ack,
        }
    }

    pub fn start(&mut self) -> ScanStep {
        if self.next > self.last as u16 {
            return ScanStep::Done(std::mem::take(&mut self.found));
        }
        self.ping()
    }

    pub fn on_reply(&mut self, reply: Reply) -> ScanStep {
        match reply {
            Reply::Frame(Frame::Ack) => self.found.push(Found::Primary(self.next as u8)),
            Reply::Timeout if self.attempts < self.retries => {
                self.attempts += 1;
                return self.ping();
            }
            Reply::Timeout => {}
            // Something answered, but garbled: report the address rather than drop it.
            Reply::Corrupt(e) => self.found.push(Found::Unresolved {
                mask: SecondaryAddress::from_id_digits(&[0xF; 8]),
                reason: format!("primary address {}: corrupt answer ({e})", self.next),
            }),
            Reply::Several(n) => self.found.push(Found::Unresolved {
                mask: SecondaryAddress::from_id_digits(&[0xF; 8]),
                reason: format!(
                    "primary address {}: {n} answers (address used twice?)",
                    self.next
                ),
            }),
            Reply::Frame(f) => self.found.push(Found::Unresolved {
                mask: SecondaryAddress::from_id_digits(&[0xF; 8]),
                reason: format!("primary address {}: unexpected answer {f}", self.next),
            }),
        }
        self.attempts = 0;
        self.next += 1;
        self.start()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Select,
    Read,
}

/// The secondary-address wildcard scan (collision-driven depth-first search).
#[derive(Debug, Clone)]
pub struct SecondaryScan {
    /// The digits being tried: `digits[..=depth]` fixed, the rest wildcards.
    digits: [u8; 8],
    depth: usize,
    probe: Probe,
    found: Vec<Found>,
    /// Selections sent so far (bounded by 10 · 8 per branch level).
    pub selections: usize,
}

impl Default for SecondaryScan {
    fn default() -> Self {
        Self::new()
    }
}

impl SecondaryScan {
    pub fn new() -> Self {
        let mut digits = [0xF; 8];
        digits[0] = 0;
        Self {
            digits,
            depth: 0,
            probe: Probe::Select,
            found: Vec::new(),
            selections: 0,
        }
    }

    /// The current selection mask.
    pub fn mask(&self) -> SecondaryAddress {
        SecondaryAddress::from_id_digits(&self.digits)
    }

    fn select(&mut self) -> ScanStep {
        self.probe = Probe::Select;
        self.selections += 1;
        ScanStep::Send {
            frame: Frame::Long {
                control: control::SND_UD,
                address: address::NETWORK_LAYER,
                ci: ci::SELECT,
                data: self.mask().to_bytes().to_vec(),
            },
            expect: Expect::Ack,
        }
    }

    pub fn start(&mut self) -> ScanStep {
        self.select()
    }

    /// Move to the next digit at this depth, climbing up when a level is exhausted.
    fn advance(&mut self) -> ScanStep {
        loop {
            if self.digits[self.depth] < 9 {
                self.digits[self.depth] += 1;
                return self.select();
            }
            self.digits[self.depth] = 0xF;
            if self.depth == 0 {
                return ScanStep::Done(std::mem::take(&mut self.found));
            }
            self.depth -= 1;
        }
    }

    pub fn on_reply(&mut self, reply: Reply) -> ScanStep {
        match self.probe {
            Probe::Select => match reply {
                Reply::Timeout => self.advance(),
                Reply::Frame(Frame::Ack) => {
                    self.probe = Probe::Read;
                    ScanStep::Send {
                        frame: Frame::Short {
                            control: control::REQ_UD2 | control::FCB,
                            address: address::NETWORK_LAYER,
                        },
                        expect: Expect::UserData,
                    }
                }
                // Collision: descend one digit, or report at full depth.
                _ if self.depth < 7 => {
                    self.depth += 1;
                    self.digits[self.depth] = 0;
                    self.select()
                }
                other => {
                    self.found.push(Found::Unresolved {
                        mask: self.mask(),
                        reason: format!(
                            "several slaves share ID {} ({other:?}): select with manufacturer, version or medium",
                            self.mask()
                        ),
                    });
                    self.advance()
                }
            },
            Probe::Read => {
                let found = match &reply {
                    Reply::Frame(Frame::Long { ci, data, .. }) => match data::decode(*ci, data) {
                        Ok(UserData::Variable(v)) => Found::Secondary(v.header.secondary_address()),
                        Ok(UserData::Fixed(f)) => Found::Secondary(SecondaryAddress {
                            id: f.id.to_le_bytes(),
                            manufacturer: 0xFFFF,
                            version: 0xFF,
                            medium: 0xFF,
                        }),
                        Err(e) => Found::Unresolved {
                            mask: self.mask(),
                            reason: format!("selected, but its answer does not decode: {e}"),
                        },
                    },
                    other => Found::Unresolved {
                        mask: self.mask(),
                        reason: format!("selected, but REQ_UD2 got {other:?}"),
                    },
                };
                self.found.push(found);
                self.advance()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slaves on a simulated bus, answering selections by wildcard match.
    fn bus_reply(ids: &[[u8; 8]], frame: &Frame, selected: &mut Option<usize>) -> Reply {
        match frame {
            Frame::Long { ci: 0x52, data, .. } => {
                let mask = SecondaryAddress {
                    id: [data[0], data[1], data[2], data[3]],
                    manufacturer: 0xFFFF,
                    version: 0xFF,
                    medium: 0xFF,
                }
                .id_digits();
                let hits: Vec<usize> = ids
                    .iter()
                    .enumerate()
                    .filter(|(_, id)| id.iter().zip(mask.iter()).all(|(d, m)| *m == 0xF || d == m))
                    .map(|(i, _)| i)
                    .collect();
                match hits.len() {
                    0 => Reply::Timeout,
                    1 => {
                        *selected = Some(hits[0]);
                        Reply::Frame(Frame::Ack)
                    }
                    _ => Reply::Corrupt(crate::frame::FrameError::BadStart {
                        offset: 0,
                        byte: 0xC5,
                    }),
                }
            }
            Frame::Short { .. } => {
                let id = SecondaryAddress::from_id_digits(&ids[selected.unwrap()]).id;
                let mut data = id.to_vec();
                data.extend_from_slice(&[0x42, 0x04, 0x01, 0x02, 0, 0, 0, 0]);
                Reply::Frame(Frame::Long {
                    control: 8,
                    address: 0,
                    ci: 0x72,
                    data,
                })
            }
            _ => Reply::Timeout,
        }
    }

    #[test]
    fn wildcard_scan_finds_every_slave() {
        let ids = [
            [1, 2, 3, 4, 5, 6, 7, 8],
            [1, 2, 3, 4, 5, 6, 7, 9],
            [1, 2, 9, 9, 0, 0, 0, 1],
            [8, 0, 0, 0, 0, 0, 0, 0],
        ];
        let mut scan = SecondaryScan::new();
        let mut step = scan.start();
        let mut selected = None;
        let found = loop {
            match step {
                ScanStep::Send { frame, .. } => {
                    step = scan.on_reply(bus_reply(&ids, &frame, &mut selected));
                }
                ScanStep::Done(f) => break f,
            }
        };
        let mut got: Vec<String> = found
            .iter()
            .map(|f| match f {
                Found::Secondary(s) => s.id_digits().iter().map(|d| format!("{d}")).collect(),
                other => panic!("{other:?}"),
            })
            .collect();
        got.sort();
        assert_eq!(got, vec!["12345678", "12345679", "12990001", "80000000"]);
        assert!(scan.selections < 200, "{} selections", scan.selections);
    }

    #[test]
    fn primary_scan_pings_each_address() {
        let mut s = PrimaryScan::new(1, 3, 0);
        let mut step = s.start();
        let found = loop {
            match step {
                ScanStep::Send { frame, .. } => {
                    let reply = if frame.address() == Some(2) {
                        Reply::Frame(Frame::Ack)
                    } else {
                        Reply::Timeout
                    };
                    step = s.on_reply(reply);
                }
                ScanStep::Done(f) => break f,
            }
        };
        assert_eq!(found, vec![Found::Primary(2)]);
    }
}
