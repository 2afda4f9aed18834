//! Meter URIs: the scheme picks the protocol, the authority or path the endpoint,
//! the query configures it (PQE architecture, "Meter links"):
//! `modbus-tcp://HOST:PORT?unit=N`, `modbus-rtu:///dev/ttyUSB0?serial=9600/8N1&unit=N`,
//! `iec62056-21:///dev/ttyUSB0?mode=C&address=…`, `iec62056-21+tcp://HOST:PORT?…`,
//! `dlms+tcp://HOST:PORT?client=16&server=1&auth=…&secret=env:VAR`, `dlms+hdlc:///dev/…`,
//! `mbus:///dev/…?serial=2400/8E1&address=5`, `mbus+tcp://HOST:PORT?address=id:12345678`,
//! `sml:///dev/…?serial=9600/8N1`.

use crate::echo::EchoSuppressor;
use crate::error::{LinkError, Result};
use crate::secret::SecretRef;
use crate::serial::{LineSettings, SerialTransport};
use crate::tcp::TcpTransport;
use crate::transport::Transport;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The schemes of the architecture's contract, each with its endpoint kind and
/// default TCP port (IEC 62056-47 wrapper: 4059; Modbus TCP: 502).
pub const SCHEMES: &[(&str, Option<u16>)] = &[
    ("modbus-tcp", Some(502)),
    ("modbus-rtu", None),
    ("iec62056-21", None),
    ("iec62056-21+tcp", Some(0)),
    ("dlms+tcp", Some(4059)),
    ("dlms+hdlc", None),
    ("mbus", None),
    ("mbus+tcp", Some(0)),
    ("sml", None),
    ("sml+tcp", Some(0)),
];

/// Where the meter is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP peer.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A serial device path (`/dev/ttyUSB0`, a pty).
    Serial {
        /// The device path.
        path: String,
    },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Serial { path } => f.write_str(path),
        }
    }
}

/// A parsed meter URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterUri {
    /// The scheme, e.g. "modbus-tcp".
    pub scheme: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Query parameters in order of their names (a repeated key is an error).
    pub params: BTreeMap<String, String>,
    text: String,
}

impl MeterUri {
    /// The parameter `key`, if given.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// The parameter `key` parsed as `T`, or `default` when absent; the error
    /// names the key and the text.
    pub fn param_or<T: FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.param(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                LinkError::Config(format!("{}: parameter {key}={v} is not valid", self.scheme))
            }),
        }
    }

    /// Fails naming the first parameter not in `allowed` (with the common ones:
    /// `timeout_ms`, `retries`, `echo`, `serial`), so a typo is not silently ignored.
    pub fn check_params(&self, allowed: &[&str]) -> Result<()> {
        const COMMON: &[&str] = &["timeout_ms", "retries", "echo", "serial"];
        for k in self.params.keys() {
            if !allowed.contains(&k.as_str()) && !COMMON.contains(&k.as_str()) {
                let mut all: Vec<&str> = allowed.iter().chain(COMMON).copied().collect();
                all.sort_unstable();
                return Err(LinkError::Config(format!(
                    "{}: unknown parameter '{k}' (known: {})",
                    self.scheme,
                    all.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The secret reference `secret=env:VAR|keystore:NAME`, if given.
    pub fn secret(&self) -> Result<Option<SecretRef>> {
        self.param("secret").map(str::parse).transpose()
    }

    /// Serial line settings from `serial=`, else `default`.
    pub fn line(&self, default: LineSettings) -> Result<LineSettings> {
        match self.param("serial") {
            None => Ok(default),
            Some(s) => s.parse(),
        }
    }

    /// The common link options (`timeout_ms`, `retries`, `echo`).
    pub fn options(&self, default_timeout: Duration) -> Result<LinkOptions> {
        let timeout_ms: u64 = self.param_or("timeout_ms", default_timeout.as_millis() as u64)?;
        if timeout_ms == 0 || timeout_ms > 600_000 {
            return Err(LinkError::Config(format!(
                "{}: timeout_ms={timeout_ms} must be 1..600000",
                self.scheme
            )));
        }
        let retries: u32 = self.param_or("retries", 2)?;
        if retries > 10 {
            return Err(LinkError::Config(format!(
                "{}: retries={retries} must be 0..10",
                self.scheme
            )));
        }
        let echo = match self.param("echo") {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(v) => {
                return Err(LinkError::Config(format!(
                    "{}: echo={v} must be 0 or 1",
                    self.scheme
                )))
            }
        };
        Ok(LinkOptions {
            timeout: Duration::from_millis(timeout_ms),
            retries,
            echo,
        })
    }

    /// Opens the transport the URI names: TCP, or the serial device with
    /// `serial=` (else `default_line`), echo-suppressed when `echo=1`.
    pub fn open_transport(
        &self,
        default_line: LineSettings,
        connect_timeout: Duration,
    ) -> Result<Box<dyn Transport>> {
        let opts = self.options(connect_timeout)?;
        let t: Box<dyn Transport> = match &self.endpoint {
            Endpoint::Tcp { host, port } => {
                Box::new(TcpTransport::connect(host, *port, connect_timeout)?)
            }
            Endpoint::Serial { path } => {
                Box::new(SerialTransport::open(path, self.line(default_line)?)?)
            }
        };
        Ok(if opts.echo {
            Box::new(EchoSuppressor::new(t))
        } else {
            t
        })
    }
}

/// Options every link takes from its URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkOptions {
    /// Response timeout per request (`timeout_ms`).
    pub timeout: Duration,
    /// Repetitions of a failed request after the first try (`retries`, at most 10).
    pub retries: u32,
    /// Whether the line echoes what is sent (`echo=1`).
    pub echo: bool,
}

impl fmt::Display for MeterUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for MeterUri {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self> {
        let shown = redact_uri(s);
        let bad = |why: String| LinkError::Config(format!("meter URI '{shown}': {why}"));
        let (scheme, _) = s
            .split_once("://")
            .ok_or_else(|| bad("no scheme (e.g. modbus-tcp://HOST:PORT)".into()))?;
        let scheme = scheme.to_ascii_lowercase();
        let Some(&(_, tcp)) = SCHEMES.iter().find(|(n, _)| *n == scheme) else {
            let known: Vec<&str> = SCHEMES.iter().map(|(n, _)| *n).collect();
            return Err(bad(format!(
                "unknown scheme '{scheme}' (known: {})",
                known.join(", ")
            )));
        };
        let url = url::Url::parse(s).map_err(|e| bad(e.to_string()))?;
        let endpoint = match tcp {
            Some(default_port) => {
                let host = url
                    .host_str()
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| bad("no host (expected SCHEME://HOST:PORT)".into()))?;
                let host = host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string();
                let port = match url.port() {
                    Some(p) => p,
                    None if default_port != 0 => default_port,
                    None => return Err(bad("no port (expected SCHEME://HOST:PORT)".into())),
                };
                if !(url.path().is_empty() || url.path() == "/") {
                    return Err(bad(format!(
                        "a TCP URI has no path, found '{}'",
                        url.path()
                    )));
                }
                Endpoint::Tcp { host, port }
            }
            None => {
                if url.host_str().is_some_and(|h| !h.is_empty()) {
                    return Err(bad(
                        "the device is a path: write three slashes, e.g. mbus:///dev/ttyUSB0?…"
                            .into(),
                    ));
                }
                let path = percent_decode(url.path());
                if path.is_empty() || path == "/" {
                    return Err(bad("no device path".into()));
                }
                Endpoint::Serial { path }
            }
        };
        let mut params = BTreeMap::new();
        for (k, v) in url.query_pairs() {
            if params.insert(k.to_string(), v.to_string()).is_some() {
                return Err(bad(format!("parameter '{k}' given twice")));
            }
        }
        let uri = MeterUri {
            scheme,
            endpoint,
            params,
            text: s.to_string(),
        };
        // A secret must be a reference; a plain value would end up in shell
        // histories and traces. The value itself is never quoted.
        for name in SECRET_PARAMS {
            if let Some(v) = uri.param(name) {
                v.parse::<SecretRef>()
                    .map_err(|e| bad(format!("{name}: {e}")))?;
            }
        }
        Ok(uri)
    }
}

/// Parameters whose value is a secret or a reference to one: the LLS password or HLS
/// secret (`secret`), the DLMS ciphering keys (`ek`, `ak`).
pub const SECRET_PARAMS: [&str; 3] = ["secret", "ek", "ak"];

/// `uri` with the value of every secret parameter ([`SECRET_PARAMS`]) that is not a
/// reference (`env:…`, `keystore:…`) replaced by `***`, for messages and traces.
pub fn redact_uri(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v))
                if SECRET_PARAMS.contains(&k)
                    && !(v.starts_with("env:") || v.starts_with("keystore:")) =>
            {
                format!("{k}=***")
            }
            _ => kv.to_string(),
        })
        .collect();
    format!("{head}?{}", parts.join("&"))
}

fn percent_decode(p: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", p.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_contract_scheme() {
        let u: MeterUri = "modbus-tcp://127.0.0.1:1502?unit=3".parse().unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 1502
            }
        );
        assert_eq!(u.param("unit"), Some("3"));
        let u: MeterUri = "modbus-tcp://meter.local?unit=3".parse().unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Tcp {
                host: "meter.local".into(),
                port: 502
            }
        );
        let u: MeterUri = "modbus-rtu:///dev/ttyUSB0?serial=9600/8N1&unit=1"
            .parse()
            .unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Serial {
                path: "/dev/ttyUSB0".into()
            }
        );
        assert_eq!(
            u.line(LineSettings::new_8n1(19200)).unwrap().to_string(),
            "9600/8N1"
        );
        let u: MeterUri = "iec62056-21:///dev/ttyUSB1?mode=C&address=12345678"
            .parse()
            .unwrap();
        assert_eq!(u.param("address"), Some("12345678"));
        let u: MeterUri = "iec62056-21+tcp://10.0.0.5:8000?mode=C".parse().unwrap();
        assert_eq!(u.endpoint.to_string(), "10.0.0.5:8000");
        let u: MeterUri = "dlms+tcp://127.0.0.1?client=16&server=1&auth=lls&secret=env:PQE_LLS"
            .parse()
            .unwrap();
        assert_eq!(u.endpoint.to_string(), "127.0.0.1:4059");
        assert!(u.secret().unwrap().is_some());
        "dlms+hdlc:///dev/ttyUSB0?client=16&server=1"
            .parse::<MeterUri>()
            .unwrap();
        "mbus:///dev/ttyUSB0?serial=2400/8E1&address=5"
            .parse::<MeterUri>()
            .unwrap();
        let u: MeterUri = "mbus+tcp://127.0.0.1:10001?address=id:12345678"
            .parse()
            .unwrap();
        assert_eq!(u.param("address"), Some("id:12345678"));
        "sml:///dev/ttyUSB0?serial=9600/8N1"
            .parse::<MeterUri>()
            .unwrap();
        let u: MeterUri = "modbus-tcp://[::1]:502".parse().unwrap();
        assert_eq!(
            u.endpoint,
            Endpoint::Tcp {
                host: "::1".into(),
                port: 502
            }
        );
    }

    #[test]
    fn rejects_bad_uris_clearly() {
        for (uri, says) in [
            ("modbus-rtu://dev/ttyUSB0", "three slashes"),
            ("foo://x", "unknown scheme 'foo'"),
            ("mbus+tcp://h?address=1", "no port"),
            ("modbus-tcp://h:502?unit=1&unit=2", "given twice"),
            ("modbus-tcp:/h", "no scheme"),
        ] {
            let e = uri.parse::<MeterUri>().unwrap_err().to_string();
            assert!(e.contains(says), "{uri}: {e}");
        }
        let u: MeterUri = "modbus-tcp://h:502?unti=1".parse().unwrap();
        let e = u.check_params(&["unit"]).unwrap_err().to_string();
        assert!(e.contains("unknown parameter 'unti'"), "{e}");
        let e = "dlms+tcp://h?secret=hunter2"
            .parse::<MeterUri>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("env:VAR"), "{e}");
        // Keys are secrets too: a plain key is refused without being quoted.
        let key = "000102030405060708090A0B0C0D0E0F";
        let e = format!("dlms+tcp://h?auth=hls-gmac&ek={key}&ak=env:AK&title=4142434445464748")
            .parse::<MeterUri>()
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains(key) && e.contains("ek: ") && e.contains("ek=***"),
            "{e}"
        );
        assert_eq!(
            redact_uri("dlms+tcp://h?ak=s3cr3t&ek=env:EK&secret=keystore:m1&title=41"),
            "dlms+tcp://h?ak=***&ek=env:EK&secret=keystore:m1&title=41"
        );
    }
}
