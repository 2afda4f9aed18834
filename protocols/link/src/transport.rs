//! Byte transports: send bytes, receive with a deadline. No method waits forever.

use crate::error::{LinkError, Result};
use crate::serial::LineSettings;
use crate::trace::FrameDecoder;
use std::time::{Duration, Instant};

/// A byte pipe to a meter (TCP socket, serial port, in-memory pair, …).
///
/// Every receive takes a deadline; an implementation returns
/// [`LinkError::Timeout`] when nothing arrived by then, never blocks past it.
pub trait Transport: Send {
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> Result<()>;

    /// Receives at least one byte into `buf` (as many as are ready, up to its
    /// length), waiting at most until `deadline`.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize>;

    /// Drops whatever has arrived and is not read yet.
    fn discard_input(&mut self) -> Result<()> {
        let mut buf = [0u8; 256];
        loop {
            match self.recv(&mut buf, Instant::now()) {
                Ok(_) => continue,
                Err(LinkError::Timeout { .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Changes the serial line settings (IEC 62056-21 baud switch-over).
    /// Transports without a line (TCP, memory) refuse.
    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        Err(LinkError::NotImplemented(format!(
            "{}: line settings ({settings}) apply to serial ports only",
            self.describe()
        )))
    }

    /// The current serial line settings, if the transport has a line.
    fn line(&self) -> Option<LineSettings> {
        None
    }

    /// Tells a trace recorder how to cut and decode this protocol's frames.
    /// Plain transports ignore it.
    fn set_frame_decoder(&mut self, _decoder: Box<dyn FrameDecoder>) {}

    /// Notes a protocol event (e.g. "mode E: hand-over to HDLC") in a trace.
    /// Plain transports ignore it.
    fn note(&mut self, _event: &str) {}

    /// A short name of the peer for messages, e.g. "127.0.0.1:502" or "/dev/ttyUSB0".
    fn describe(&self) -> String;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        (**self).recv(buf, deadline)
    }
    fn discard_input(&mut self) -> Result<()> {
        (**self).discard_input()
    }
    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        (**self).set_line(settings)
    }
    fn line(&self) -> Option<LineSettings> {
        (**self).line()
    }
    fn set_frame_decoder(&mut self, decoder: Box<dyn FrameDecoder>) {
        (**self).set_frame_decoder(decoder)
    }
    fn note(&mut self, event: &str) {
        (**self).note(event)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Reads exactly `buf.len()` bytes or fails with a timeout naming `what` and how
/// many bytes had arrived.
pub fn recv_exact(
    t: &mut dyn Transport,
    buf: &mut [u8],
    deadline: Instant,
    what: &str,
) -> Result<()> {
    let start = Instant::now();
    let mut got = 0;
    while got < buf.len() {
        match t.recv(&mut buf[got..], deadline) {
            Ok(n) => got += n,
            Err(LinkError::Timeout { .. }) => {
                return Err(LinkError::Timeout {
                    what: format!("{what}: {got} of {} bytes from {}", buf.len(), t.describe()),
                    waited: start.elapsed(),
                })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one byte, waiting until `deadline`.
pub fn recv_byte(t: &mut dyn Transport, deadline: Instant, what: &str) -> Result<u8> {
    let mut b = [0u8; 1];
    recv_exact(t, &mut b, deadline, what)?;
    Ok(b[0])
}

/// The time left until `deadline` (zero when past), for APIs that take a timeout.
pub fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// A timeout error for `what` on `peer`, waited since `start`.
pub fn timeout_error(what: impl Into<String>, start: Instant) -> LinkError {
    LinkError::Timeout {
        what: what.into(),
        waited: start.elapsed(),
    }
}
