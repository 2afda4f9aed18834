//! A blocking DLMS/COSEM client over a byte transport: HDLC or wrapper framing, the
//! association of [`crate::session`], GET (with block transfer), GET with-list, SET,
//! ACTION, and release (RLRQ, then DISC on HDLC).
//!
//! Every wait has a deadline ([`ClientConfig::timeout`] per answer) and every retry a
//! bound ([`ClientConfig::retries`]): on HDLC a lost or corrupt answer is re-requested
//! with an RR poll (IEC 62056-46 clause 6.4.4.3) and SNRM is repeated; the wrapper runs
//! over TCP and does not retransmit.
//!
//! Every frame sent or received can be recorded ([`TraceRecord`]): the password of LLS is
//! masked in the recorded bytes, and no key or secret reaches a record or an error.

use crate::axdr::{Data, DateTime};
use crate::cosem::{self, ProfileTable, RegisterValue};
use crate::error::{DecodeError, Error, Result};
use crate::hdlc::{Address, Decoded, FrameDecoder, HdlcClient, HdlcParameters, LinkEvent};
use crate::session::{data_or_error, AssociationStep, Session, SessionConfig};
use crate::wrapper::{Wpdu, WpduDecoder};
use crate::xdlms::{
    AttributeDescriptor, GetDataResult, GetResponse, MethodDescriptor, Obis, SelectiveAccess,
};
use std::io;
use std::time::{Duration, Instant, SystemTime};

/// A byte transport (TCP, serial, in-memory). `recv` must return by `deadline`.
pub trait Transport {
    /// Send all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Receive some bytes into `buf`, waiting at most until `deadline`. `Ok(0)` means the
    /// peer closed; an error of kind `TimedOut` or `WouldBlock` means the deadline passed.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize>;
}

/// A TCP transport.
#[derive(Debug)]
pub struct TcpTransport {
    stream: std::net::TcpStream,
}

impl TcpTransport {
    /// Connect to `addr` within `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> io::Result<Self> {
        use std::net::ToSocketAddrs;
        let mut last = io::Error::new(
            io::ErrorKind::NotFound,
            format!("{addr} resolves to no address"),
        );
        for a in addr.to_socket_addrs()? {
            match std::net::TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(Self { stream });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Transport for TcpTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        self.stream.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        use std::io::Read;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// How APDUs travel.
#[derive(Debug, Clone)]
pub enum Framing {
    /// HDLC (IEC 62056-46).
    Hdlc {
        /// Client SAP (one-byte address).
        client: u8,
        /// Server upper (logical device) address.
        server_logical: u16,
        /// Server lower (physical device) address.
        server_physical: Option<u16>,
        /// Parameters requested in the SNRM.
        parameters: HdlcParameters,
    },
    /// The TCP/UDP wrapper (IEC 62056-47).
    Wrapper {
        /// Client wPort.
        client: u16,
        /// Server wPort (logical device).
        server: u16,
    },
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Framing and addresses.
    pub framing: Framing,
    /// Association settings.
    pub session: SessionConfig,
    /// Deadline for each answer.
    pub timeout: Duration,
    /// Bound on repetitions (SNRM, RR polls after a lost or corrupt HDLC answer).
    pub retries: u32,
    /// Largest APDU (reassembled segments or blocks) accepted from the meter.
    pub max_apdu: usize,
}

impl ClientConfig {
    /// Defaults: 5 s per answer, 2 retries, 1 MiB APDU bound.
    pub fn new(framing: Framing, session: SessionConfig) -> Self {
        Self {
            framing,
            session,
            timeout: Duration::from_secs(5),
            retries: 2,
            max_apdu: 1 << 20,
        }
    }
}

/// Direction of a traced frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to meter.
    Tx,
    /// Meter to client.
    Rx,
}

/// One traced frame: time, direction, bytes (LLS password masked with `*` = 0x2A) and a
/// decoding summary or the error found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// When it was sent or completed.
    pub at: SystemTime,
    /// Direction.
    pub direction: Direction,
    /// The bytes, with any secret masked.
    pub bytes: Vec<u8>,
    /// Whether bytes were masked.
    pub redacted: bool,
    /// What it is ("HDLC I(N(S)=0,N(R)=0) AARQ", "dropped: FCS ...").
    pub summary: String,
}

enum Link {
    Hdlc {
        link: HdlcClient,
        decoder: FrameDecoder,
    },
    Wrapper {
        client: u16,
        server: u16,
        decoder: WpduDecoder,
    },
}

/// A connected, associated client.
pub struct DlmsClient<T: Transport> {
    transport: T,
    link: Link,
    session: Session,
    timeout: Duration,
    retries: u32,
    max_apdu: usize,
    trace: Vec<TraceRecord>,
    closed: bool,
}

impl<T: Transport> std::fmt::Debug for DlmsClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DlmsClient")
            .field("session", &self.session)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

fn apdu_name(apdu: &[u8]) -> &'static str {
    match apdu.first() {
        Some(0x60) => "AARQ",
        Some(0x61) => "AARE",
        Some(0x62) => "RLRQ",
        Some(0x63) => "RLRE",
        Some(0xC0) => "Get-Request",
        Some(0xC1) => "Set-Request",
        Some(0xC3) => "Action-Request",
        Some(0xC4) => "Get-Response",
        Some(0xC5) => "Set-Response",
        Some(0xC7) => "Action-Response",
        Some(0xC8) => "glo-Get-Request",
        Some(0xC9) => "glo-Set-Request",
        Some(0xCB) => "glo-Action-Request",
        Some(0xCC) => "glo-Get-Response",
        Some(0xCD) => "glo-Set-Response",
        Some(0xCF) => "glo-Action-Response",
        Some(0xD8) => "exception-response",
        Some(0xDB) => "general-glo-ciphering",
        _ => "APDU",
    }
}

impl<T: Transport> DlmsClient<T> {
    /// Open the link (SNRM/UA on HDLC) and the association (AARQ/AARE, HLS passes 3–4).
    /// On failure after the link is up, the link is released (DISC) before returning.
    pub fn connect(transport: T, config: ClientConfig) -> Result<Self> {
        let link = match &config.framing {
            Framing::Hdlc {
                client,
                server_logical,
                server_physical,
                parameters,
            } => {
                let mut l = HdlcClient::new(
                    Address::client(*client)?,
                    Address::server(*server_logical, *server_physical)?,
                    *parameters,
                );
                l.max_apdu = config.max_apdu;
                Link::Hdlc {
                    link: l,
                    decoder: FrameDecoder::new(),
                }
            }
            Framing::Wrapper { client, server } => Link::Wrapper {
                client: *client,
                server: *server,
                decoder: WpduDecoder::new(config.max_apdu.min(0xFFFF)),
            },
        };
        let mut c = Self {
            transport,
            link,
            session: Session::new(config.session)?,
            timeout: config.timeout,
            retries: config.retries,
            max_apdu: config.max_apdu,
            trace: Vec::new(),
            closed: false,
        };
        if matches!(c.link, Link::Hdlc { .. }) {
            c.hdlc_connect()?;
        }
        if let Err(e) = c.associate() {
            c.release_link();
            return Err(e);
        }
        Ok(c)
    }

    /// The frames traced so far.
    pub fn trace(&self) -> &[TraceRecord] {
        &self.trace
    }

    /// The association.
    pub fn session(&self) -> &Session {
        &self.session
    }

    fn record(&mut self, direction: Direction, bytes: &[u8], summary: String) {
        let (bytes, redacted) = match (direction, self.session.secret()) {
            (Direction::Tx, Some(s)) if !s.is_empty() => mask(bytes, s.expose()),
            _ => (bytes.to_vec(), false),
        };
        self.trace.push(TraceRecord {
            at: SystemTime::now(),
            direction,
            bytes,
            redacted,
            summary,
        });
    }

    fn send_raw(&mut self, bytes: &[u8], summary: String) -> Result<()> {
        self.record(Direction::Tx, bytes, summary);
        self.transport.send(bytes)?;
        Ok(())
    }

    /// Read more bytes into the link's decoder; `Ok(false)` on deadline.
    fn fill(&mut self, deadline: Instant) -> Result<bool> {
        let mut buf = [0u8; 2048];
        match self.transport.recv(&mut buf, deadline) {
            Ok(0) => Err(Error::Closed("the meter closed the connection".into())),
            Ok(n) => {
                match &mut self.link {
                    Link::Hdlc { decoder, .. } => decoder.push(&buf[..n]),
                    Link::Wrapper { decoder, .. } => decoder.push(&buf[..n]),
                }
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    fn pending(&self) -> usize {
        match &self.link {
            Link::Hdlc { decoder, .. } => decoder.pending(),
            Link::Wrapper { decoder, .. } => decoder.pending(),
        }
    }

    /// The next HDLC item, or `None` at the deadline.
    fn next_hdlc_item(&mut self, deadline: Instant) -> Result<Option<Decoded>> {
        loop {
            let item = match &mut self.link {
                Link::Hdlc { decoder, .. } => decoder.next_item(),
                Link::Wrapper { .. } => unreachable!("HDLC item on a wrapper link"),
            };
            if let Some(item) = item {
                return Ok(Some(item));
            }
            if !self.fill(deadline)? {
                return Ok(None);
            }
        }
    }

    fn timeout_error(&self, waiting_for: &str) -> Error {
        Error::Timeout {
            waiting_for: waiting_for.to_string(),
            millis: self.timeout.as_millis(),
            received: self.pending(),
        }
    }

    fn hdlc(&mut self) -> &mut HdlcClient {
        match &mut self.link {
            Link::Hdlc { link, .. } => link,
            Link::Wrapper { .. } => unreachable!("HDLC state on a wrapper link"),
        }
    }

    /// Send an unnumbered command and wait for its answer frame, repeating it at most
    /// `retries` times when no valid frame arrives.
    fn hdlc_command(&mut self, frame: Vec<u8>, what: &str) -> Result<crate::hdlc::Frame> {
        let mut last_error: Option<DecodeError> = None;
        for _ in 0..=self.retries {
            self.send_raw(&frame, format!("HDLC {what}"))?;
            let deadline = Instant::now() + self.timeout;
            match self.next_hdlc_item(deadline)? {
                Some(Decoded::Frame(f)) => {
                    let raw = f.encode().unwrap_or_default();
                    self.record(Direction::Rx, &raw, format!("HDLC {}", f.control.name()));
                    return Ok(f);
                }
                Some(Decoded::Dropped {
                    offset,
                    count,
                    error,
                }) => {
                    self.record(
                        Direction::Rx,
                        &[],
                        format!("dropped {count} bytes at stream offset {offset}: {error}"),
                    );
                    last_error = Some(error);
                }
                None => {}
            }
        }
        Err(match last_error {
            Some(e) => e.into(),
            None => self.timeout_error(&format!("the answer to {what}")),
        })
    }

    fn hdlc_connect(&mut self) -> Result<()> {
        let snrm = self.hdlc().snrm()?;
        let ua = self.hdlc_command(snrm, "SNRM")?;
        self.hdlc().on_snrm_answer(&ua)?;
        Ok(())
    }

    /// Send one APDU and return the answer APDU.
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        let name = apdu_name(apdu);
        match &self.link {
            Link::Wrapper { client, server, .. } => {
                let w = Wpdu {
                    source: *client,
                    destination: *server,
                    apdu: apdu.to_vec(),
                }
                .encode()?;
                self.send_raw(&w, format!("wrapper {name}"))?;
                let deadline = Instant::now() + self.timeout;
                loop {
                    let item = match &mut self.link {
                        Link::Wrapper { decoder, .. } => decoder.next_wpdu(),
                        Link::Hdlc { .. } => unreachable!(),
                    };
                    match item {
                        Some(Ok(w)) => {
                            let (client, server) = match &self.link {
                                Link::Wrapper { client, server, .. } => (*client, *server),
                                Link::Hdlc { .. } => unreachable!(),
                            };
                            let raw = Wpdu {
                                source: w.source,
                                destination: w.destination,
                                apdu: w.apdu.clone(),
                            }
                            .encode()
                            .unwrap_or_default();
                            self.record(
                                Direction::Rx,
                                &raw,
                                format!("wrapper {}", apdu_name(&w.apdu)),
                            );
                            if w.source != server || w.destination != client {
                                return Err(Error::Unexpected {
                                    expected: "a WPDU from the server wPort to this client's",
                                    got: format!(
                                        "WPDU from wPort {} to wPort {}",
                                        w.source, w.destination
                                    ),
                                });
                            }
                            return Ok(w.apdu);
                        }
                        Some(Err(e)) => {
                            self.record(Direction::Rx, &[], format!("dropped: {e}"));
                            return Err(e.into());
                        }
                        None => {
                            if !self.fill(deadline)? {
                                return Err(self.timeout_error(&format!("the answer to {name}")));
                            }
                        }
                    }
                }
            }
            Link::Hdlc { .. } => self.hdlc_exchange(apdu, name),
        }
    }

    fn hdlc_exchange(&mut self, apdu: &[u8], name: &str) -> Result<Vec<u8>> {
        let first = self.hdlc().send_apdu(apdu)?;
        self.send_raw(&first, format!("HDLC I {name}"))?;
        let mut polls_left = self.retries;
        let mut deadline = Instant::now() + self.timeout;
        let mut last_error: Option<DecodeError> = None;
        loop {
            match self.next_hdlc_item(deadline)? {
                Some(Decoded::Frame(f)) => {
                    let summary = format!(
                        "HDLC {}{}",
                        f.control.name(),
                        if f.segmented { " segment" } else { "" }
                    );
                    self.record(Direction::Rx, &f.encode().unwrap_or_default(), summary);
                    match self.hdlc().on_frame(&f)? {
                        LinkEvent::Send(bytes) => {
                            self.send_raw(&bytes, "HDLC next segment / RR".into())?;
                            deadline = Instant::now() + self.timeout;
                        }
                        LinkEvent::Apdu(a) => return Ok(a),
                        LinkEvent::Busy => {
                            if polls_left == 0 {
                                return Err(Error::Timeout {
                                    waiting_for: format!(
                                        "the meter to become ready (RNR) for {name}"
                                    ),
                                    millis: self.timeout.as_millis(),
                                    received: 0,
                                });
                            }
                            polls_left -= 1;
                            std::thread::sleep(self.timeout / 10);
                            let rr = self.hdlc().rr()?;
                            self.send_raw(&rr, "HDLC RR poll after RNR".into())?;
                            deadline = Instant::now() + self.timeout;
                        }
                        LinkEvent::Nothing => {}
                    }
                }
                Some(Decoded::Dropped {
                    offset,
                    count,
                    error,
                }) => {
                    self.record(
                        Direction::Rx,
                        &[],
                        format!("dropped {count} bytes at stream offset {offset}: {error}"),
                    );
                    if polls_left == 0 {
                        return Err(error.into());
                    }
                    last_error = Some(error);
                }
                None => {
                    if polls_left == 0 {
                        return Err(match last_error {
                            Some(e) => e.into(),
                            None => self.timeout_error(&format!("the answer to {name}")),
                        });
                    }
                    polls_left -= 1;
                    let rr = self.hdlc().rr()?;
                    self.send_raw(&rr, "HDLC RR poll (answer missing)".into())?;
                    deadline = Instant::now() + self.timeout;
                }
            }
        }
    }

    fn associate(&mut self) -> Result<()> {
        let aarq = self.session.aarq()?;
        let aare = self.exchange(&aarq)?;
        match self.session.on_aare(&aare)? {
            AssociationStep::Established => Ok(()),
            AssociationStep::HlsReplyRequired => {
                let req = self.session.hls_reply()?;
                let resp = self.exchange(&req)?;
                self.session.on_hls_reply_response(&resp)
            }
        }
    }

    /// Read one attribute; block transfer is followed to the last block.
    pub fn get(
        &mut self,
        descriptor: AttributeDescriptor,
        access: Option<SelectiveAccess>,
    ) -> Result<Data> {
        let req = self.session.get_request(descriptor, access)?;
        let resp = self.exchange(&req)?;
        match self.session.on_get_response(&resp)? {
            GetResponse::Normal { result, .. } => data_or_error(&descriptor, result),
            GetResponse::Block {
                last, block, raw, ..
            } => self.collect_blocks(descriptor, last, block, raw),
            GetResponse::WithList { .. } => Err(Error::Unexpected {
                expected: "get-response-normal or with-datablock",
                got: "get-response-with-list".into(),
            }),
        }
    }

    fn collect_blocks(
        &mut self,
        descriptor: AttributeDescriptor,
        mut last: bool,
        mut block: u32,
        mut raw: Result<Vec<u8>, u8>,
    ) -> Result<Data> {
        let mut data = Vec::new();
        let mut expected = 1u32;
        loop {
            if block != expected {
                return Err(Error::Unexpected {
                    expected: "the next data block",
                    got: format!("block {block} where block {expected} was due ({descriptor})"),
                });
            }
            let bytes = raw.map_err(|code| Error::Access {
                service: "GET",
                target: format!("{descriptor} block {block}"),
                result: crate::xdlms::data_access_result_name(code),
            })?;
            if data.len() + bytes.len() > self.max_apdu {
                return Err(Error::Config(format!(
                    "block transfer of {descriptor} exceeds {} bytes",
                    self.max_apdu
                )));
            }
            data.extend_from_slice(&bytes);
            if last {
                break;
            }
            let req = self.session.get_next_request(block)?;
            let resp = self.exchange(&req)?;
            match self.session.on_get_response(&resp)? {
                GetResponse::Block {
                    last: l,
                    block: b,
                    raw: r,
                    ..
                } => {
                    last = l;
                    block = b;
                    raw = r;
                }
                other => {
                    return Err(Error::Unexpected {
                        expected: "get-response-with-datablock",
                        got: format!("{other:?}").chars().take(60).collect(),
                    })
                }
            }
            expected += 1;
        }
        Data::from_bytes(&data).map_err(|e| Error::Decode(e.shifted("reassembled data blocks", 0)))
    }

    /// Read several attributes in one exchange (get-request-with-list).
    pub fn get_with_list(&mut self, items: &[AttributeDescriptor]) -> Result<Vec<GetDataResult>> {
        let req = self
            .session
            .get_with_list_request(items.iter().map(|d| (*d, None)).collect())?;
        let resp = self.exchange(&req)?;
        match self.session.on_get_response(&resp)? {
            GetResponse::WithList { results, .. } if results.len() == items.len() => Ok(results),
            GetResponse::WithList { results, .. } => Err(Error::Unexpected {
                expected: "one result per item",
                got: format!("{} results for {} items", results.len(), items.len()),
            }),
            GetResponse::Block { .. } => Err(Error::NotImplemented(
                "get-response-with-list delivered by block transfer".into(),
            )),
            GetResponse::Normal { .. } => Err(Error::Unexpected {
                expected: "get-response-with-list",
                got: "get-response-normal".into(),
            }),
        }
    }

    /// Write one attribute.
    pub fn set(&mut self, descriptor: AttributeDescriptor, value: Data) -> Result<()> {
        let req = self.session.set_request(descriptor, value)?;
        let resp = self.exchange(&req)?;
        let r = self.session.on_set_response(&resp)?;
        if r.result != 0 {
            return Err(Error::Access {
                service: "SET",
                target: descriptor.to_string(),
                result: crate::xdlms::data_access_result_name(r.result),
            });
        }
        Ok(())
    }

    /// Invoke a method; returns its return parameters, if any.
    pub fn action(
        &mut self,
        method: MethodDescriptor,
        parameters: Option<Data>,
    ) -> Result<Option<Data>> {
        let req = self.session.action_request(method, parameters)?;
        let resp = self.exchange(&req)?;
        let r = self.session.on_action_response(&resp)?;
        if r.result != 0 {
            return Err(Error::Access {
                service: "ACTION",
                target: method.to_string(),
                result: crate::xdlms::action_result_name(r.result),
            });
        }
        match r.return_parameters {
            None => Ok(None),
            Some(Ok(d)) => Ok(Some(d)),
            Some(Err(code)) => Err(Error::Access {
                service: "ACTION",
                target: method.to_string(),
                result: crate::xdlms::data_access_result_name(code),
            }),
        }
    }

    /// A Register (class 3): scaler_unit (attribute 3), then value (attribute 2).
    pub fn read_register(&mut self, obis: Obis) -> Result<RegisterValue> {
        let su = self.get(AttributeDescriptor::new(3, obis, 3), None)?;
        let v = self.get(AttributeDescriptor::new(3, obis, 2), None)?;
        RegisterValue::new(v, &su)
    }

    /// The Clock (class 8) time attribute.
    pub fn read_clock(&mut self, obis: Obis) -> Result<DateTime> {
        let d = self.get(AttributeDescriptor::new(8, obis, 2), None)?;
        cosem::clock_time(&d)
    }

    /// A Profile generic (class 7): capture objects (attribute 3, when the meter gives
    /// them; a refusal leaves the columns numbered) and the buffer (attribute 2, with
    /// optional selective access).
    pub fn read_profile(
        &mut self,
        obis: Obis,
        access: Option<SelectiveAccess>,
    ) -> Result<ProfileTable> {
        let capture = match self.get(AttributeDescriptor::new(7, obis, 3), None) {
            Ok(d) => Some(cosem::capture_objects(&d)?),
            Err(Error::Access { .. }) => None,
            Err(e) => return Err(e),
        };
        let buffer = self.get(AttributeDescriptor::new(7, obis, 2), access)?;
        ProfileTable::new(&buffer, capture)
    }

    /// Release the association (RLRQ/RLRE), then the link (DISC on HDLC). Errors of the
    /// release are returned after the link is released anyway.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let rlrq = self.session.rlrq();
        let result = self
            .exchange(&rlrq)
            .and_then(|rlre| self.session.on_rlre(&rlre).map(|_| ()));
        self.release_link();
        result
    }

    /// DISC on HDLC (one bounded attempt); nothing to do on the wrapper.
    fn release_link(&mut self) {
        self.closed = true;
        if matches!(self.link, Link::Hdlc { .. }) && self.hdlc().is_connected() {
            if let Ok(disc) = self.hdlc().disc() {
                let saved = self.retries;
                self.retries = 0;
                if let Ok(ua) = self.hdlc_command(disc, "DISC") {
                    let _ = self.hdlc().on_disc_answer(&ua);
                }
                self.retries = saved;
            }
        }
    }

    /// The transport, e.g. to inspect an in-memory peer after the session.
    pub fn into_transport(self) -> T {
        self.transport
    }
}

/// Mask every occurrence of `secret` in `bytes` with `*`.
fn mask(bytes: &[u8], secret: &[u8]) -> (Vec<u8>, bool) {
    let mut out = bytes.to_vec();
    let mut hit = false;
    if secret.len() <= bytes.len() {
        let mut i = 0;
        while i + secret.len() <= out.len() {
            if &bytes[i..i + secret.len()] == secret {
                out[i..i + secret.len()].fill(b'*');
                hit = true;
                i += secret.len();
            } else {
                i += 1;
            }
        }
    }
    (out, hit)
}
