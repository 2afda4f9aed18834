//! Echo suppression: optical heads and some RS-485 converters hear their own
//! transmitter, so every byte sent comes back before the meter's answer.

use crate::error::{LinkError, Result};
use crate::serial::LineSettings;
use crate::trace::FrameDecoder;
use crate::transport::Transport;
use std::time::Instant;

/// Wraps a transport whose line echoes what is sent: after each send, the same
/// bytes are read back and dropped before any answer is returned. A byte that
/// differs from what was sent is an [`LinkError::Echo`] naming its position.
pub struct EchoSuppressor<T: Transport> {
    inner: T,
    expected: Vec<u8>,
    matched: usize,
}

impl<T: Transport> EchoSuppressor<T> {
    /// Suppresses the echo on `inner`.
    pub fn new(inner: T) -> Self {
        EchoSuppressor {
            inner,
            expected: Vec::new(),
            matched: 0,
        }
    }

    /// The wrapped transport.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: Transport> Transport for EchoSuppressor<T> {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.expected.extend_from_slice(bytes);
        self.inner.send(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        let mut scratch = [0u8; 256];
        while self.matched < self.expected.len() {
            let want = (self.expected.len() - self.matched).min(scratch.len());
            let n = self
                .inner
                .recv(&mut scratch[..want], deadline)
                .map_err(|e| match e {
                    LinkError::Timeout { what, waited } => LinkError::Timeout {
                        what: format!(
                            "echo of sent bytes ({} of {} back): {what}",
                            self.matched,
                            self.expected.len()
                        ),
                        waited,
                    },
                    e => e,
                })?;
            for (k, &b) in scratch[..n].iter().enumerate() {
                let pos = self.matched + k;
                if self.expected[pos] != b {
                    let e = LinkError::Echo(format!(
                        "byte {pos} of the echo is {b:02x}, {:02x} was sent ({})",
                        self.expected[pos],
                        self.inner.describe()
                    ));
                    self.expected.clear();
                    self.matched = 0;
                    return Err(e);
                }
            }
            self.matched += n;
        }
        self.expected.clear();
        self.matched = 0;
        self.inner.recv(buf, deadline)
    }

    fn discard_input(&mut self) -> Result<()> {
        self.expected.clear();
        self.matched = 0;
        self.inner.discard_input()
    }

    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        self.inner.set_line(settings)
    }

    fn line(&self) -> Option<LineSettings> {
        self.inner.line()
    }

    fn set_frame_decoder(&mut self, decoder: Box<dyn FrameDecoder>) {
        self.inner.set_frame_decoder(decoder)
    }

    fn note(&mut self, event: &str) {
        self.inner.note(event)
    }

    fn describe(&self) -> String {
        format!("{} (echo suppressed)", self.inner.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::memory_pair;
    use std::time::Duration;

    #[test]
    fn drops_echo_and_flags_a_wrong_one() {
        let (a, mut peer) = memory_pair();
        let mut link = EchoSuppressor::new(a);
        link.send(b"/?!\r\n").unwrap();
        peer.send(b"/?!\r\n/ABC5\r\n").unwrap();
        let mut buf = [0u8; 32];
        let n = link
            .recv(&mut buf, Instant::now() + Duration::from_millis(100))
            .unwrap();
        assert_eq!(&buf[..n], b"/ABC5\r\n");
        link.send(b"XY").unwrap();
        peer.send(b"XZ").unwrap();
        let e = link
            .recv(&mut buf, Instant::now() + Duration::from_millis(100))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("byte 1 of the echo is 5a, 59 was sent"),
            "{e}"
        );
    }
}
