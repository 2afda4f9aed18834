//! In-memory transports for the tests: a replay of a recorded session (the server side
//! answers in order and every client frame is checked byte for byte) and a scripted peer.
#![allow(dead_code)]

use pqe_dlms::client::Transport;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

/// Path of a vector file copied into this crate.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

/// Hex to bytes (spaces allowed).
pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len() % 2 == 0, "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Bytes to lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One recorded line.
#[derive(Debug, Clone)]
pub enum Step {
    /// The client must send exactly these bytes.
    Tx(Vec<u8>),
    /// The server sends these bytes.
    Rx(Vec<u8>),
}

/// Read a trace file (`TX hex` / `RX hex` lines; others ignored).
pub fn load_trace(name: &str) -> Vec<Step> {
    let text = std::fs::read_to_string(vector_path(name)).expect("trace file");
    text.lines()
        .filter_map(|l| {
            let (d, h) = l.split_once(' ')?;
            match d {
                "TX" => Some(Step::Tx(unhex(h))),
                "RX" => Some(Step::Rx(unhex(h))),
                _ => None,
            }
        })
        .collect()
}

/// Plays the server side of a recorded session; a client frame that differs from the
/// recording fails with the first differing byte.
pub struct Replay {
    steps: Vec<Step>,
    next: usize,
    /// Whether sent bytes are compared with the recording.
    pub check_tx: bool,
    /// Mismatches found (frame index, description).
    pub mismatches: Vec<String>,
    /// Every byte sent by the client.
    pub sent: Vec<Vec<u8>>,
}

impl Replay {
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            steps,
            next: 0,
            check_tx: true,
            mismatches: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// Whether every recorded step was played.
    pub fn finished(&self) -> bool {
        self.next == self.steps.len()
    }

    pub fn position(&self) -> usize {
        self.next
    }
}

impl Transport for Replay {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sent.push(bytes.to_vec());
        match self.steps.get(self.next) {
            Some(Step::Tx(expected)) => {
                self.next += 1;
                if self.check_tx && expected != bytes {
                    let at = expected
                        .iter()
                        .zip(bytes)
                        .position(|(a, b)| a != b)
                        .unwrap_or(expected.len().min(bytes.len()));
                    let m = format!(
                        "step {}: client frame differs from the recording at byte {at}\n  recorded {}\n  sent     {}",
                        self.next - 1,
                        hex(expected),
                        hex(bytes)
                    );
                    self.mismatches.push(m.clone());
                    return Err(io::Error::new(io::ErrorKind::InvalidData, m));
                }
                Ok(())
            }
            other => {
                let m = format!(
                    "step {}: client sent {} but the recording has {:?}",
                    self.next,
                    hex(bytes),
                    other.map(|_| "a server frame next")
                );
                self.mismatches.push(m.clone());
                Err(io::Error::new(io::ErrorKind::InvalidData, m))
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        if let Some(Step::Rx(bytes)) = self.steps.get_mut(self.next) {
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            bytes.drain(..n);
            if bytes.is_empty() {
                self.next += 1;
            }
            return Ok(n);
        }
        // Nothing to say: stay silent until the deadline.
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        Err(io::Error::new(io::ErrorKind::TimedOut, "replay: silent"))
    }
}

/// A peer answering each client send with a scripted reply (or silence with `None`).
pub struct Scripted {
    pub replies: std::collections::VecDeque<Option<Vec<u8>>>,
    pending: Vec<u8>,
    pub sent: Vec<Vec<u8>>,
}

impl Scripted {
    pub fn new(replies: Vec<Option<Vec<u8>>>) -> Self {
        Self {
            replies: replies.into(),
            pending: Vec::new(),
            sent: Vec::new(),
        }
    }
}

impl Transport for Scripted {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sent.push(bytes.to_vec());
        if let Some(Some(r)) = self.replies.pop_front() {
            self.pending.extend_from_slice(&r);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        Err(io::Error::new(io::ErrorKind::TimedOut, "scripted: silent"))
    }
}
