//! DLMS/COSEM as a `pqe-link` meter link: the URIs
//! `dlms+tcp://HOST:PORT?client=16&server=1&auth=...&secret=...` (wrapper, IEC 62056-47)
//! and `dlms+hdlc://DEVICE?client=16&server=1&physical=17&...` (HDLC, IEC 62056-46),
//! the trace frame decoder (with the LLS password masked) and the communication analyser.
//!
//! URI parameters:
//! - `client` client SAP (default 16), `server` server logical device (default 1),
//!   `physical` HDLC lower address (HDLC only; default none = one-byte server address),
//! - `auth=none|lls|hls-aes|hls-md5|hls-sha1|hls-sha256|hls-gmac` (default none),
//! - `secret=env:VAR|keystore:NAME`: the LLS password or the HLS secret,
//! - `ek=…`, `ak=…` (secret references, 16 bytes, hex text or raw) and `title=HEX` (the
//!   client system title, 8 bytes), `ic=N` (first invocation counter, default 1): suite-0
//!   ciphering, required by `hls-gmac` and allowed with every mechanism,
//! - `max_pdu=N` (client-max-receive-pdu-size, default 65535), and the common
//!   `timeout_ms`, `retries`, `serial`, `echo`.

use crate::acse::Mechanism;
use crate::axdr::{Data, DateTime};
use crate::client::{ClientConfig, DlmsClient, Framing, Transport};
use crate::hdlc::HdlcParameters;
use crate::security::{Secret, Suite0};
use crate::session::SessionConfig;
use crate::xdlms::{AttributeDescriptor, Obis};
use crate::Error;
use pqe_link::{LinkError, MeterLink, OpenRequest, Reading, Registry, Selector, Value};
use std::io;
use std::time::{Duration, Instant};

/// Registers the `dlms+tcp` and `dlms+hdlc` links and their trace analysers.
pub fn register(registry: &mut Registry) {
    registry.add_link("dlms+tcp", open);
    registry.add_link("dlms+hdlc", open);
    registry.add_analyser(
        "dlms+tcp",
        Box::new(crate::analyse::DlmsAnalyser { hdlc: false }),
    );
    registry.add_analyser(
        "dlms+hdlc",
        Box::new(crate::analyse::DlmsAnalyser { hdlc: true }),
    );
}

/// A `pqe-link` transport used by this crate's client.
pub struct LinkTransport(pub Box<dyn pqe_link::Transport>);

impl Transport for LinkTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.send(bytes).map_err(to_io)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        match self.0.recv(buf, deadline) {
            Ok(n) => Ok(n),
            Err(LinkError::Closed(_)) => Ok(0),
            Err(e) => Err(to_io(e)),
        }
    }
}

fn to_io(e: LinkError) -> io::Error {
    match e {
        LinkError::Timeout { what, .. } => io::Error::new(io::ErrorKind::TimedOut, what),
        LinkError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}

/// This crate's error as a link error (none carries a secret).
pub fn link_error(e: Error) -> LinkError {
    match e {
        Error::Timeout {
            waiting_for,
            millis,
            received,
        } => LinkError::Timeout {
            what: format!("DLMS {waiting_for} ({received} bytes of it received)"),
            waited: Duration::from_millis(millis as u64),
        },
        Error::Decode(d) => LinkError::frame(d.unit, format!("byte {}: {}", d.offset, d.reason)),
        Error::Sequence(m) => LinkError::frame("HDLC", m),
        e @ Error::InvokeId { .. } => LinkError::frame("xDLMS response", e.to_string()),
        Error::Unexpected { expected, got } => LinkError::frame(
            "DLMS",
            format!("unexpected {got} while waiting for {expected}"),
        ),
        Error::Rejected { result, diagnostic } => LinkError::Refused {
            request: "the association (AARQ)".into(),
            reason: format!("{result}, {diagnostic}"),
        },
        Error::Exception(m) => LinkError::Refused {
            request: "the request".into(),
            reason: m,
        },
        Error::Access {
            service,
            target,
            result,
        } => LinkError::Refused {
            request: format!("{service} {target}"),
            reason: result,
        },
        Error::Authentication(m) => LinkError::Refused {
            request: "authentication".into(),
            reason: m,
        },
        Error::Io(e) => LinkError::io("DLMS link", e),
        Error::Config(m) => LinkError::Config(m),
        Error::NotImplemented(m) => LinkError::NotImplemented(m),
        Error::Closed(m) => LinkError::Closed(m),
    }
}

fn mechanism(auth: &str) -> pqe_link::Result<Mechanism> {
    Ok(match auth {
        "none" => Mechanism::None,
        "lls" => Mechanism::Low,
        "hls-aes" => Mechanism::HighAes,
        "hls-md5" => Mechanism::HighMd5,
        "hls-sha1" => Mechanism::HighSha1,
        "hls-sha256" => Mechanism::HighSha256,
        "hls-gmac" => Mechanism::HighGmac,
        other => {
            return Err(LinkError::Config(format!(
                "dlms: auth={other} (expected none, lls, hls-aes, hls-md5, hls-sha1, hls-sha256 or hls-gmac)"
            )))
        }
    })
}

/// A key from a secret reference: 32 hex digits, or 16 raw bytes.
fn key(reference: &str, name: &str) -> pqe_link::Result<Secret> {
    let r: pqe_link::SecretRef = reference.parse()?;
    let s = r.resolve()?;
    let bytes = s.expose();
    if bytes.len() == 16 {
        return Ok(Secret::new(bytes.to_vec()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| LinkError::Secret(format!("dlms: {name} is neither 16 bytes nor hex text")))?;
    let k = Secret::from_hex(text).map_err(|_| {
        LinkError::Secret(format!(
            "dlms: {name} is neither 16 bytes nor 32 hex digits"
        ))
    })?;
    if k.len() != 16 {
        return Err(LinkError::Secret(format!(
            "dlms: {name} has {} bytes (16 needed)",
            k.len()
        )));
    }
    Ok(k)
}

/// The client configuration a URI asks for (secrets resolved).
pub fn config_from_uri(uri: &pqe_link::MeterUri) -> pqe_link::Result<ClientConfig> {
    uri.check_params(&[
        "client", "server", "physical", "auth", "secret", "ek", "ak", "title", "ic", "max_pdu",
    ])?;
    let hdlc = match uri.scheme.as_str() {
        "dlms+tcp" => false,
        "dlms+hdlc" => true,
        s => return Err(LinkError::Config(format!("not a DLMS scheme: {s}"))),
    };
    let client: u16 = uri.param_or("client", 16)?;
    let server: u16 = uri.param_or("server", 1)?;
    let m = mechanism(uri.param("auth").unwrap_or("none"))?;
    let secret = match uri.secret()? {
        Some(r) => Some(Secret::new(r.resolve()?.expose().to_vec())),
        None => None,
    };
    let ciphering = match (uri.param("ek"), uri.param("ak"), uri.param("title")) {
        (Some(ek), Some(ak), Some(title)) => {
            let t = Secret::from_hex(title).map_err(link_error)?;
            let title: [u8; 8] = t.expose().try_into().map_err(|_| {
                LinkError::Config(format!("dlms: title has {} bytes (8 needed)", t.len()))
            })?;
            let ic: u32 = uri.param_or("ic", 1)?;
            Some(Suite0::new(key(ek, "ek")?, key(ak, "ak")?, title, ic).map_err(link_error)?)
        }
        (None, None, None) => None,
        _ => {
            return Err(LinkError::Config(
                "dlms: ciphering needs all of ek, ak and title".into(),
            ))
        }
    };
    let session = SessionConfig {
        mechanism: m,
        secret,
        ciphering,
        max_receive_pdu: uri.param_or("max_pdu", 0xFFFF)?,
        ..Default::default()
    };
    let framing = if hdlc {
        let client = u8::try_from(client)
            .map_err(|_| LinkError::Config(format!("dlms+hdlc: client={client} must be 0..127")))?;
        let physical: Option<u16> = match uri.param("physical") {
            Some(p) => Some(p.parse().map_err(|_| {
                LinkError::Config(format!("dlms+hdlc: physical={p} is not a number"))
            })?),
            None => None,
        };
        Framing::Hdlc {
            client,
            server_logical: server,
            server_physical: physical,
            parameters: HdlcParameters::default(),
        }
    } else {
        Framing::Wrapper { client, server }
    };
    let opts = uri.options(Duration::from_secs(5))?;
    let mut cfg = ClientConfig::new(framing, session);
    cfg.timeout = opts.timeout;
    cfg.retries = opts.retries;
    Ok(cfg)
}

fn open(req: &OpenRequest<'_>) -> pqe_link::Result<Box<dyn MeterLink>> {
    let cfg = config_from_uri(req.uri)?;
    let hdlc = matches!(cfg.framing, Framing::Hdlc { .. });
    let mut transport = req.transport(pqe_link::LineSettings::new_8n1(9600), cfg.timeout)?;
    transport.set_frame_decoder(Box::new(crate::analyse::DlmsFrameDecoder { hdlc }));
    let client = DlmsClient::connect(LinkTransport(transport), cfg).map_err(link_error)?;
    Ok(Box::new(DlmsLink { client }))
}

/// A DLMS/COSEM meter link.
pub struct DlmsLink<T: Transport> {
    /// The client.
    pub client: DlmsClient<T>,
}

impl<T: Transport> DlmsLink<T> {
    /// Wrap a connected client.
    pub fn new(client: DlmsClient<T>) -> Self {
        Self { client }
    }
}

/// The interface class an OBIS code is read with: Clock (8) for 0-0:1.0.0, Profile
/// generic (7) for C = 98/99, Register (3) for electricity quantities (A = 1, C = 1..=89),
/// else Data (1).
pub fn class_of(o: Obis) -> u16 {
    let [a, _, c, ..] = o.0;
    match (a, c) {
        (0, 1) if o.0[3] == 0 => 8,
        (_, 98 | 99) => 7,
        (1, 1..=89) => 3,
        _ => 1,
    }
}

fn reading(d: &Data) -> Reading {
    match d {
        Data::VisibleString(b) => Reading::Text(String::from_utf8_lossy(b).into_owned()),
        Data::Utf8String(s) => Reading::Text(s.clone()),
        Data::OctetString(b)
            if b.len() == 12 && DateTime::from_slice(b).is_some_and(|t| t.is_valid()) =>
        {
            Reading::Text(
                DateTime::from_slice(b)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            )
        }
        // Identifiers (logical device names, serial numbers) are octet-strings of
        // printable characters: shown as text; anything else in hex.
        Data::OctetString(b) if !b.is_empty() && b.iter().all(|c| (0x20..0x7F).contains(c)) => {
            Reading::Text(String::from_utf8_lossy(b).into_owned())
        }
        Data::Boolean(b) => Reading::Number(f64::from(u8::from(*b))),
        other => other
            .as_f64()
            .map_or_else(|| Reading::Text(other.to_string()), Reading::Number),
    }
}

impl<T: Transport + Send> DlmsLink<T> {
    fn read_one(&mut self, obis: Obis, id: &str, out: &mut Vec<Value>) -> crate::Result<()> {
        match class_of(obis) {
            3 => {
                let r = self.client.read_register(obis)?;
                let value = r.value.map_or_else(|| reading(&r.raw), Reading::Number);
                out.push(Value {
                    id: id.to_string(),
                    value,
                    unit: r.unit,
                });
            }
            8 => {
                let t = self.client.read_clock(obis)?;
                out.push(Value::text(id, t.to_string(), ""));
            }
            7 => {
                let table = self.client.read_profile(obis, None)?;
                for (i, row) in table.rows.iter().enumerate() {
                    for (col, cell) in table.columns.iter().zip(row) {
                        out.push(Value {
                            id: format!("{id}[{}]/{col}", i + 1),
                            value: reading(cell),
                            unit: String::new(),
                        });
                    }
                }
            }
            class => {
                let d = self
                    .client
                    .get(AttributeDescriptor::new(class, obis, 2), None)?;
                out.push(Value {
                    id: id.to_string(),
                    value: reading(&d),
                    unit: String::new(),
                });
            }
        }
        Ok(())
    }

    /// `CLASS/OBIS/ATTR` (e.g. `3/1-0:1.8.0*255/2`).
    fn named(name: &str) -> pqe_link::Result<AttributeDescriptor> {
        let bad = || {
            LinkError::Config(format!(
                "dlms: '{name}' is not CLASS/OBIS/ATTRIBUTE (e.g. 3/1-0:1.8.0*255/2)"
            ))
        };
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let class: u16 = parts[0].parse().map_err(|_| bad())?;
        let obis: Obis = parts[1].parse().map_err(|_| bad())?;
        let attr: i8 = parts[2].parse().map_err(|_| bad())?;
        Ok(AttributeDescriptor::new(class, obis, attr))
    }
}

impl<T: Transport + Send> MeterLink for DlmsLink<T> {
    /// Every value of the association's object list (Association LN 0-0:40.0.0*255
    /// attribute 2): Data, Register, Extended register and Clock objects.
    fn read_all(&mut self) -> pqe_link::Result<Vec<Value>> {
        let list = self
            .client
            .get(AttributeDescriptor::new(15, crate::session::CURRENT_ASSOCIATION, 2), None)
            .map_err(|e| match e {
                Error::Access { result, .. } => LinkError::NotImplemented(format!(
                    "this meter does not give its object list ({result}): name the OBIS codes to read"
                )),
                other => link_error(other),
            })?;
        let Data::Array(items) = list else {
            return Err(LinkError::frame("object_list", "not an array"));
        };
        let mut out = Vec::new();
        for item in items {
            let Data::Structure(f) = &item else { continue };
            let (Some(Data::LongUnsigned(class)), Some(Data::OctetString(ln))) =
                (f.first(), f.get(2))
            else {
                continue;
            };
            let Ok(ln) = <[u8; 6]>::try_from(ln.as_slice()) else {
                continue;
            };
            let obis = Obis(ln);
            let id = obis.to_string();
            match class {
                3 | 4 => {
                    let r = self.client.read_register(obis).map_err(link_error)?;
                    out.push(Value {
                        id,
                        value: r.value.map_or_else(|| reading(&r.raw), Reading::Number),
                        unit: r.unit,
                    });
                }
                8 => out.push(Value::text(
                    id,
                    self.client
                        .read_clock(obis)
                        .map_err(link_error)?
                        .to_string(),
                    "",
                )),
                1 => {
                    let d = self
                        .client
                        .get(AttributeDescriptor::new(1, obis, 2), None)
                        .map_err(link_error)?;
                    out.push(Value {
                        id,
                        value: reading(&d),
                        unit: String::new(),
                    });
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn read(&mut self, selectors: &[Selector]) -> pqe_link::Result<Vec<Value>> {
        let mut out = Vec::new();
        for s in selectors {
            match s {
                Selector::Obis(code) => {
                    let obis = Obis(code.0);
                    self.read_one(obis, &code.to_string(), &mut out)
                        .map_err(link_error)?;
                }
                Selector::Name(n) => {
                    let d = Self::named(n)?;
                    let v = self.client.get(d, None).map_err(link_error)?;
                    out.push(Value {
                        id: n.clone(),
                        value: reading(&v),
                        unit: String::new(),
                    });
                }
                Selector::Register(r) => {
                    return Err(LinkError::Config(format!(
                        "dlms: {r} is a Modbus register; DLMS reads OBIS codes"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// SET: the attribute is read first and the new value encoded in its type.
    fn write(&mut self, selector: &Selector, value: &Reading) -> pqe_link::Result<()> {
        let d = match selector {
            Selector::Obis(code) => {
                let obis = Obis(code.0);
                AttributeDescriptor::new(class_of(obis), obis, 2)
            }
            Selector::Name(n) => Self::named(n)?,
            Selector::Register(r) => {
                return Err(LinkError::Config(format!("dlms: {r} is a Modbus register")))
            }
        };
        let current = self.client.get(d, None).map_err(link_error)?;
        let new = like(&current, value).ok_or_else(|| {
            LinkError::Config(format!(
                "dlms: {value} does not fit {} of type {}",
                d,
                current.type_name()
            ))
        })?;
        self.client.set(d, new).map_err(link_error)
    }

    fn close(&mut self) -> pqe_link::Result<()> {
        self.client.close().map_err(link_error)
    }
}

/// `value` encoded in the type of `current`, when it fits.
fn like(current: &Data, value: &Reading) -> Option<Data> {
    let n = match value {
        Reading::Number(x) => Some(*x),
        Reading::Text(t) => t.trim().parse::<f64>().ok(),
    };
    let int = n.filter(|x| x.fract() == 0.0);
    Some(match (current, value) {
        (Data::VisibleString(_), Reading::Text(t)) => Data::VisibleString(t.as_bytes().to_vec()),
        (Data::Utf8String(_), Reading::Text(t)) => Data::Utf8String(t.clone()),
        (Data::OctetString(_), Reading::Text(t)) => {
            Data::OctetString(Secret::from_hex(t).ok()?.expose().to_vec())
        }
        (Data::Boolean(_), _) => Data::Boolean(int? != 0.0),
        (Data::DoubleLong(_), _) => Data::DoubleLong(i32::try_from(int? as i64).ok()?),
        (Data::DoubleLongUnsigned(_), _) => {
            Data::DoubleLongUnsigned(u32::try_from(int? as i64).ok()?)
        }
        (Data::Integer(_), _) => Data::Integer(i8::try_from(int? as i64).ok()?),
        (Data::Long(_), _) => Data::Long(i16::try_from(int? as i64).ok()?),
        (Data::Unsigned(_), _) => Data::Unsigned(u8::try_from(int? as i64).ok()?),
        (Data::LongUnsigned(_), _) => Data::LongUnsigned(u16::try_from(int? as i64).ok()?),
        (Data::Long64(_), _) => Data::Long64(int? as i64),
        (Data::Long64Unsigned(_), _) if int? >= 0.0 => Data::Long64Unsigned(int? as u64),
        (Data::Enum(_), _) => Data::Enum(u8::try_from(int? as i64).ok()?),
        (Data::Float32(_), _) => Data::Float32(n? as f32),
        (Data::Float64(_), _) => Data::Float64(n?),
        _ => return None,
    })
}
