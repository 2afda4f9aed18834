//! `tcp://HOST:PORT?...` and `udp://HOST:PORT?...`: raw sample streams in the packet format
//! of [`crate::stream`].
//!
//! TCP: PQE connects to HOST:PORT and reads packets back to back. UDP: PQE binds HOST:PORT
//! and takes one packet per datagram. Parameters:
//! - `timeout=S` (default 5): the deadline of the connection and of every read, seconds;
//! - `channels=U_A,U_B,...`: channel names (their count must match the packets'; default
//!   `U_A, U_B, U_C, I_A, …`);
//! - `scale=K` or `scale=K1,K2,...`: physical value per integer count (i16/i32);
//! - `max_packet=BYTES` (default 16 MiB): larger packets are refused (memory stays bounded).
//!
//! Lost, late or out-of-order packets become flagged gaps ([`Sequencer`]); a late packet
//! is dropped, never joined. A TCP stream that ends inside a packet, or whose header is
//! malformed, ends the source with an error naming the byte offset; a malformed UDP
//! datagram is dropped and its span flagged as a gap.

use crate::error::{DeviceError, Fault};
use crate::source::{
    channels_from_names, default_channel_names, fault, live_info, Delivery, LiveSource, Placement,
    Sequencer,
};
use crate::stream::{decode_samples, PacketHeader, HEADER_LEN};
use crate::uri::DeviceUri;
use pqe_core::{Block, RecordingInfo, Timestamp};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// Parameters shared by the stream sources.
#[derive(Debug, Clone)]
struct StreamParams {
    timeout: Duration,
    names: Option<Vec<String>>,
    scale: Vec<f64>,
    max_packet: usize,
}

const PARAMS: &[&str] = &["timeout", "channels", "scale", "max_packet"];

impl StreamParams {
    fn from_uri(uri: &DeviceUri) -> Result<Self, DeviceError> {
        uri.check_params(PARAMS)?;
        let timeout: f64 = uri.param_or("timeout", 5.0)?;
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 86_400.0) {
            return Err(uri.error(format!("timeout={timeout}: give 0 < seconds ≤ 86400")));
        }
        let names = uri.param("channels").map(|s| {
            s.split(',')
                .map(|n| n.trim().to_string())
                .collect::<Vec<_>>()
        });
        if let Some(n) = &names {
            if n.iter().any(String::is_empty) {
                return Err(uri.error("channels=: an empty channel name"));
            }
        }
        let scale = match uri.param("scale") {
            None => vec![1.0],
            Some(s) => s
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x != 0.0)
                        .ok_or_else(|| uri.error(format!("scale: '{v}' is not a non-zero number")))
                })
                .collect::<Result<_, _>>()?,
        };
        let max_packet: usize = uri.param_or("max_packet", 16 << 20)?;
        if max_packet < HEADER_LEN {
            return Err(uri.error(format!("max_packet must be at least {HEADER_LEN} bytes")));
        }
        Ok(StreamParams {
            timeout: Duration::from_secs_f64(timeout),
            names,
            scale,
            max_packet,
        })
    }
}

/// The packet-to-block stage both transports share.
struct Assembler {
    driver: &'static str,
    device: String,
    params: StreamParams,
    info: Option<RecordingInfo>,
    channels: u16,
    sequencer: Sequencer,
    values: Vec<f64>,
    first_sample: u64,
}

impl Assembler {
    fn new(driver: &'static str, device: String, params: StreamParams) -> Self {
        Assembler {
            driver,
            device,
            params,
            info: None,
            channels: 0,
            sequencer: Sequencer::new(1.0),
            values: Vec::new(),
            first_sample: 0,
        }
    }

    fn fault(&self, kind: Fault, message: impl Into<String>) -> DeviceError {
        fault(self.driver, &self.device, kind, message)
    }

    /// Turn a decoded packet into deliveries (a gap and a block, a block, or nothing when
    /// dropped).
    fn accept(
        &mut self,
        h: &PacketHeader,
        payload: &[u8],
        out: &mut VecDeque<Delivery>,
    ) -> Result<(), DeviceError> {
        match &self.info {
            None => {
                let names = match &self.params.names {
                    Some(n) => n.clone(),
                    None => default_channel_names(h.channels as usize),
                };
                if names.len() != h.channels as usize {
                    return Err(self.fault(
                        Fault::Discontinuity,
                        format!(
                            "the stream carries {} channels but channels= names {}",
                            h.channels,
                            names.len()
                        ),
                    ));
                }
                if self.params.scale.len() > 1 && self.params.scale.len() != names.len() {
                    return Err(self.fault(
                        Fault::Discontinuity,
                        format!(
                            "scale= gives {} factors for {} channels",
                            self.params.scale.len(),
                            names.len()
                        ),
                    ));
                }
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                self.info = Some(live_info(
                    &self.device,
                    channels_from_names(&refs),
                    h.sample_rate,
                    Timestamp(h.time_ns),
                ));
                self.channels = h.channels;
                self.sequencer = Sequencer::new(h.sample_rate);
            }
            Some(info) => {
                if h.channels != self.channels || h.sample_rate != info.sample_rate {
                    return Err(self.fault(
                        Fault::Discontinuity,
                        format!(
                            "packet {} has {} channels at {} Hz; the stream began with {} at {} Hz",
                            h.sequence, h.channels, h.sample_rate, self.channels, info.sample_rate
                        ),
                    ));
                }
            }
        }
        decode_samples(h, payload, &self.params.scale, &mut self.values)
            .map_err(|m| self.fault(Fault::LyingCount, format!("packet {}: {m}", h.sequence)))?;
        if h.samples == 0 {
            return Ok(());
        }
        let what = format!("{} {}", self.driver, self.device);
        let start = match self
            .sequencer
            .place(h.sequence, h.time_ns, h.samples as u64, &what)
        {
            Placement::Continues { start } => start,
            Placement::AfterGap(gap) => {
                log::warn!("{}", gap.reason);
                let start = gap.to.unwrap_or(Timestamp(h.time_ns));
                let rate = self.sequencer_rate();
                let t0 = self.info.as_ref().map_or(start, |i| i.start);
                self.first_sample = (start.seconds_since(t0) * rate).round().max(0.0) as u64;
                out.push_back(Delivery::Gap(gap));
                start
            }
            Placement::Dropped(why) => {
                log::warn!("{why}");
                return Ok(());
            }
        };
        let rate = self.sequencer_rate();
        let block = Block::from_planar(
            start,
            rate,
            self.first_sample,
            self.channels as usize,
            std::mem::take(&mut self.values),
        )?;
        self.first_sample += h.samples as u64;
        out.push_back(Delivery::Block(block));
        Ok(())
    }

    fn sequencer_rate(&self) -> f64 {
        self.info.as_ref().map_or(1.0, |i| i.sample_rate)
    }
}

/// `tcp://HOST:PORT`: PQE connects and reads packets.
pub struct TcpSource {
    stream: TcpStream,
    asm: Assembler,
    pending: VecDeque<Delivery>,
    offset: u64,
    buf: Vec<u8>,
    ended: bool,
}

fn resolve(uri: &DeviceUri) -> Result<SocketAddr, DeviceError> {
    let (host, port) = uri.host_port()?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| uri.error(format!("cannot resolve {host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| uri.error(format!("{host}:{port} resolves to no address")))
}

impl TcpSource {
    /// Connect (under the deadline) and read the first packet to learn the stream's shape.
    pub fn open(uri: &DeviceUri) -> Result<TcpSource, DeviceError> {
        let params = StreamParams::from_uri(uri)?;
        let addr = resolve(uri)?;
        let device = uri.redacted();
        let stream = TcpStream::connect_timeout(&addr, params.timeout).map_err(|e| {
            fault(
                "tcp",
                &device,
                if e.kind() == ErrorKind::TimedOut {
                    Fault::Timeout
                } else {
                    Fault::Io
                },
                format!("cannot connect to {addr} within {:?}: {e}", params.timeout),
            )
        })?;
        stream
            .set_read_timeout(Some(params.timeout))
            .map_err(|e| fault("tcp", &device, Fault::Io, e.to_string()))?;
        let mut source = TcpSource {
            stream,
            asm: Assembler::new("tcp", device, params),
            pending: VecDeque::new(),
            offset: 0,
            buf: Vec::new(),
            ended: false,
        };
        while source.asm.info.is_none() {
            if !source.read_packet()? {
                return Err(source
                    .asm
                    .fault(Fault::Truncated, "the stream ended before its first packet"));
            }
        }
        Ok(source)
    }

    /// Read exactly `n` bytes into `buf`; Ok(false) on a clean end before the first byte.
    fn fill(&mut self, n: usize, what: &str) -> Result<bool, DeviceError> {
        self.buf.resize(n, 0);
        let mut got = 0;
        while got < n {
            match self.stream.read(&mut self.buf[got..n]) {
                Ok(0) if got == 0 && what == "header" => return Ok(false),
                Ok(0) => {
                    return Err(self.asm.fault(
                        Fault::Truncated,
                        format!(
                        "the stream ended inside a packet {what} at byte {} ({got} of {n} bytes)",
                        self.offset + got as u64
                    ),
                    ))
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(self.asm.fault(
                        Fault::Timeout,
                        format!(
                            "no data within {:?} (waiting at byte {} of the stream)",
                            self.asm.params.timeout,
                            self.offset + got as u64
                        ),
                    ))
                }
                Err(e) => {
                    return Err(self.asm.fault(
                        Fault::Io,
                        format!("at byte {}: {e}", self.offset + got as u64),
                    ))
                }
            }
        }
        self.offset += n as u64;
        Ok(true)
    }

    /// Read one packet into the pending deliveries; Ok(false) at a clean end of stream.
    fn read_packet(&mut self) -> Result<bool, DeviceError> {
        let at = self.offset;
        if !self.fill(HEADER_LEN, "header")? {
            return Ok(false);
        }
        let h = PacketHeader::decode(&self.buf).map_err(|m| {
            self.asm
                .fault(Fault::Malformed, format!("packet at byte {at}: {m}"))
        })?;
        let len = h.payload_len().unwrap_or(usize::MAX);
        if len > self.asm.params.max_packet - HEADER_LEN {
            return Err(self.asm.fault(
                Fault::Oversized,
                format!(
                    "packet {} at byte {at} announces {len} bytes of samples; the limit is max_packet={}",
                    h.sequence, self.asm.params.max_packet
                ),
            ));
        }
        self.fill(len, "payload")?;
        let payload = std::mem::take(&mut self.buf);
        let r = self.asm.accept(&h, &payload, &mut self.pending);
        self.buf = payload;
        r?;
        if h.is_last() {
            self.ended = true;
        }
        Ok(true)
    }
}

impl LiveSource for TcpSource {
    fn info(&self) -> &RecordingInfo {
        self.asm.info.as_ref().expect("opened")
    }
    fn driver(&self) -> &str {
        "tcp"
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        let started = std::time::Instant::now();
        loop {
            if let Some(d) = self.pending.pop_front() {
                return Ok(d);
            }
            if self.ended {
                return Ok(Delivery::End);
            }
            if started.elapsed() > self.asm.params.timeout {
                return Err(self.asm.fault(
                    Fault::Timeout,
                    format!("no usable packet within {:?}", self.asm.params.timeout),
                ));
            }
            if !self.read_packet()? {
                self.ended = true;
            }
        }
    }
    fn stop(&mut self) {
        self.ended = true;
        self.pending.clear();
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// `udp://HOST:PORT`: PQE binds the address and takes one packet per datagram.
pub struct UdpSource {
    socket: UdpSocket,
    asm: Assembler,
    pending: VecDeque<Delivery>,
    buf: Vec<u8>,
    ended: bool,
    /// Datagrams dropped as malformed.
    pub malformed: u64,
}

impl UdpSource {
    /// Bind and wait (under the deadline) for the first packet.
    pub fn open(uri: &DeviceUri) -> Result<UdpSource, DeviceError> {
        let params = StreamParams::from_uri(uri)?;
        let addr = resolve(uri)?;
        let device = uri.redacted();
        let socket = UdpSocket::bind(addr).map_err(|e| {
            fault(
                "udp",
                &device,
                Fault::Io,
                format!("cannot bind {addr}: {e}"),
            )
        })?;
        Self::from_socket(socket, device, params)
    }

    /// A source on an already bound socket (tests bind port 0 and read the port back).
    pub fn from_bound(socket: UdpSocket, uri: &DeviceUri) -> Result<UdpSource, DeviceError> {
        let params = StreamParams::from_uri(uri)?;
        Self::from_socket(socket, uri.redacted(), params)
    }

    fn from_socket(
        socket: UdpSocket,
        device: String,
        params: StreamParams,
    ) -> Result<UdpSource, DeviceError> {
        socket
            .set_read_timeout(Some(params.timeout))
            .map_err(|e| fault("udp", &device, Fault::Io, e.to_string()))?;
        let cap = params.max_packet.min(65_536);
        let mut source = UdpSource {
            socket,
            asm: Assembler::new("udp", device, params),
            pending: VecDeque::new(),
            buf: vec![0; cap],
            ended: false,
            malformed: 0,
        };
        let started = std::time::Instant::now();
        while source.asm.info.is_none() {
            if started.elapsed() > source.asm.params.timeout {
                return Err(source.asm.fault(
                    Fault::Timeout,
                    format!("no usable datagram within {:?}", source.asm.params.timeout),
                ));
            }
            source.read_datagram()?;
        }
        Ok(source)
    }

    fn read_datagram(&mut self) -> Result<(), DeviceError> {
        let n = match self.socket.recv(&mut self.buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(self.asm.fault(
                    Fault::Timeout,
                    format!("no datagram within {:?}", self.asm.params.timeout),
                ))
            }
            Err(e) => return Err(self.asm.fault(Fault::Io, e.to_string())),
        };
        let datagram = &self.buf[..n];
        let h = match PacketHeader::decode(datagram) {
            Ok(h) => h,
            Err(m) => {
                self.malformed += 1;
                log::warn!(
                    "udp {}: datagram of {n} bytes dropped: {m}",
                    self.asm.device
                );
                return Ok(());
            }
        };
        let payload = datagram[HEADER_LEN..].to_vec();
        match self.asm.accept(&h, &payload, &mut self.pending) {
            Ok(()) => {}
            Err(e) if e.fault() == Some(&Fault::LyingCount) => {
                self.malformed += 1;
                log::warn!("{e}; datagram dropped");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        if h.is_last() {
            self.ended = true;
        }
        Ok(())
    }
}

impl LiveSource for UdpSource {
    fn info(&self) -> &RecordingInfo {
        self.asm.info.as_ref().expect("opened")
    }
    fn driver(&self) -> &str {
        "udp"
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        let started = std::time::Instant::now();
        loop {
            if let Some(d) = self.pending.pop_front() {
                return Ok(d);
            }
            if self.ended {
                return Ok(Delivery::End);
            }
            if started.elapsed() > self.asm.params.timeout {
                return Err(self.asm.fault(
                    Fault::Timeout,
                    format!("no usable datagram within {:?}", self.asm.params.timeout),
                ));
            }
            self.read_datagram()?;
        }
    }
    fn stop(&mut self) {
        self.ended = true;
        self.pending.clear();
    }
}
