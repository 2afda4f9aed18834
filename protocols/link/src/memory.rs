//! In-memory transports for tests: a connected pair, and a scripted peer that
//! checks every byte a client sends against a recorded session.

use crate::error::{LinkError, Result};
use crate::transport::{timeout_error, Transport};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

#[derive(Default)]
struct Pipe {
    bytes: VecDeque<u8>,
    closed: bool,
}

type Shared = Arc<(Mutex<Pipe>, Condvar)>;

/// One end of an in-memory byte pipe pair; what one end sends the other receives.
pub struct MemoryTransport {
    inbound: Shared,
    outbound: Shared,
    name: String,
}

/// Two connected ends: `(client, peer)`.
pub fn memory_pair() -> (MemoryTransport, MemoryTransport) {
    let a: Shared = Arc::default();
    let b: Shared = Arc::default();
    (
        MemoryTransport {
            inbound: a.clone(),
            outbound: b.clone(),
            name: "memory:client".into(),
        },
        MemoryTransport {
            inbound: b,
            outbound: a,
            name: "memory:peer".into(),
        },
    )
}

impl Drop for MemoryTransport {
    fn drop(&mut self) {
        let (lock, cv) = &*self.outbound;
        if let Ok(mut p) = lock.lock() {
            p.closed = true;
        }
        cv.notify_all();
    }
}

impl Transport for MemoryTransport {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let (lock, cv) = &*self.outbound;
        let mut p = lock.lock().expect("memory pipe lock");
        p.bytes.extend(bytes);
        cv.notify_all();
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        let start = Instant::now();
        let (lock, cv) = &*self.inbound;
        let mut p = lock.lock().expect("memory pipe lock");
        loop {
            if !p.bytes.is_empty() {
                let n = buf.len().min(p.bytes.len());
                for (slot, b) in buf.iter_mut().zip(p.bytes.drain(..n)) {
                    *slot = b;
                }
                return Ok(n);
            }
            if p.closed {
                return Err(LinkError::Closed(self.name.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(timeout_error(format!("data on {}", self.name), start));
            }
            p = cv
                .wait_timeout(p, deadline - now)
                .expect("memory pipe lock")
                .0;
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// One step of a recorded session, seen from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptStep {
    /// The client must send exactly these bytes next.
    Expect(Vec<u8>),
    /// The peer answers with these bytes.
    Reply(Vec<u8>),
}

/// A peer that plays a recorded session: each send must equal the next
/// `Expect` step byte for byte (else a frame error names the step and the first
/// differing byte); receives return the `Reply` steps; when the script has no
/// reply left, receives time out at their deadline (immediately: nothing will come).
pub struct ScriptedTransport {
    steps: VecDeque<ScriptStep>,
    pending_reply: VecDeque<u8>,
    step_no: usize,
    partial_expect: Vec<u8>,
}

impl ScriptedTransport {
    /// A peer playing `steps` in order.
    pub fn new(steps: Vec<ScriptStep>) -> Self {
        ScriptedTransport {
            steps: steps.into(),
            pending_reply: VecDeque::new(),
            step_no: 0,
            partial_expect: Vec::new(),
        }
    }

    /// Whether every step has been played.
    pub fn finished(&self) -> bool {
        self.steps.is_empty() && self.pending_reply.is_empty() && self.partial_expect.is_empty()
    }

    fn pull_replies(&mut self) {
        while let Some(ScriptStep::Reply(_)) = self.steps.front() {
            if let Some(ScriptStep::Reply(r)) = self.steps.pop_front() {
                self.step_no += 1;
                self.pending_reply.extend(r);
            }
        }
    }
}

impl Transport for ScriptedTransport {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        // A client may send one expected frame in several writes.
        self.partial_expect.extend_from_slice(bytes);
        loop {
            let Some(ScriptStep::Expect(exp)) = self.steps.front() else {
                return Err(LinkError::frame(
                    format!("script step {}", self.step_no + 1),
                    format!(
                        "client sent {} bytes where the session has none",
                        self.partial_expect.len()
                    ),
                ));
            };
            let n = exp.len().min(self.partial_expect.len());
            if let Some(i) = (0..n).find(|&i| exp[i] != self.partial_expect[i]) {
                return Err(LinkError::frame(
                    format!("script step {}", self.step_no + 1),
                    format!(
                        "byte {i}: client sent {:02x}, session has {:02x}",
                        self.partial_expect[i], exp[i]
                    ),
                ));
            }
            if self.partial_expect.len() < exp.len() {
                return Ok(());
            }
            let rest = self.partial_expect.split_off(exp.len());
            self.partial_expect = rest;
            self.steps.pop_front();
            self.step_no += 1;
            if self.partial_expect.is_empty() {
                return Ok(());
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8], _deadline: Instant) -> Result<usize> {
        if self.pending_reply.is_empty() && self.partial_expect.is_empty() {
            self.pull_replies();
        }
        if self.pending_reply.is_empty() {
            return Err(timeout_error(
                format!("script step {}: no reply in the session", self.step_no + 1),
                Instant::now(),
            ));
        }
        let n = buf.len().min(self.pending_reply.len());
        for (slot, b) in buf.iter_mut().zip(self.pending_reply.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn describe(&self) -> String {
        "scripted session".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pair_carries_bytes_and_times_out() {
        let (mut a, mut b) = memory_pair();
        a.send(b"abc").unwrap();
        let mut buf = [0u8; 8];
        let n = b
            .recv(&mut buf, Instant::now() + Duration::from_millis(50))
            .unwrap();
        assert_eq!(&buf[..n], b"abc");
        let t0 = Instant::now();
        let e = b
            .recv(&mut buf, Instant::now() + Duration::from_millis(30))
            .unwrap_err();
        assert!(matches!(e, LinkError::Timeout { .. }));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        drop(a);
        assert!(matches!(
            b.recv(&mut buf, Instant::now()).unwrap_err(),
            LinkError::Closed(_)
        ));
    }

    #[test]
    fn script_checks_bytes() {
        let mut s = ScriptedTransport::new(vec![
            ScriptStep::Expect(b"hi".to_vec()),
            ScriptStep::Reply(b"yo".to_vec()),
        ]);
        s.send(b"h").unwrap();
        s.send(b"i").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s.recv(&mut buf, Instant::now()).unwrap(), 2);
        assert!(s.finished());
        let mut s = ScriptedTransport::new(vec![ScriptStep::Expect(b"hi".to_vec())]);
        let e = s.send(b"ho").unwrap_err().to_string();
        assert!(e.contains("byte 1"), "{e}");
    }
}
