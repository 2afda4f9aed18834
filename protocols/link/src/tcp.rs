//! TCP transport (Modbus TCP, the DLMS/COSEM wrapper, IEC 62056-21 or M-Bus through a
//! serial-to-Ethernet gateway).

use crate::error::{LinkError, Result};
use crate::transport::{remaining, timeout_error, Transport};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A connected TCP stream with deadline-bounded reads.
pub struct TcpTransport {
    stream: TcpStream,
    peer: String,
}

impl TcpTransport {
    /// Connects to `host:port`, trying each resolved address, each within `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self> {
        let peer = format!("{host}:{port}");
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| LinkError::io(&peer, e))?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream
                        .set_nodelay(true)
                        .map_err(|e| LinkError::io(&peer, e))?;
                    stream
                        .set_write_timeout(Some(timeout))
                        .map_err(|e| LinkError::io(&peer, e))?;
                    return Ok(TcpTransport { stream, peer });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(LinkError::io(
            peer,
            last.unwrap_or_else(|| {
                std::io::Error::new(ErrorKind::NotFound, "host name resolves to no address")
            }),
        ))
    }

    /// Wraps an already connected stream (a test fixture's accepted connection).
    pub fn from_stream(stream: TcpStream) -> Result<Self> {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "tcp".into());
        stream
            .set_nodelay(true)
            .map_err(|e| LinkError::io(&peer, e))?;
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| LinkError::io(&peer, e))?;
        Ok(TcpTransport { stream, peer })
    }
}

impl Transport for TcpTransport {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .map_err(|e| LinkError::io(&self.peer, e))
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        let start = Instant::now();
        loop {
            // A zero timeout means "block forever" to the OS: never pass it.
            let left = remaining(deadline).max(Duration::from_micros(100));
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| LinkError::io(&self.peer, e))?;
            match self.stream.read(buf) {
                Ok(0) => return Err(LinkError::Closed(self.peer.clone())),
                Ok(n) => return Ok(n),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        return Err(timeout_error(format!("data from {}", self.peer), start));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(LinkError::io(&self.peer, e)),
            }
        }
    }

    fn describe(&self) -> String {
        self.peer.clone()
    }
}
