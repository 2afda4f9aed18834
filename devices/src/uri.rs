//! Device specifications as URIs: the scheme picks the driver, the query configures it.
//!
//! Forms accepted (ARCHITECTURE.md, "Devices"):
//! - `scheme:PATH?key=value&...` — an opaque path, e.g. `replay:rec/demo.cfg?speed=max` or
//!   `synth:datasets/scenarios/demo-hour.toml`;
//! - `scheme://HOST:PORT?...` — a network endpoint, e.g. `tcp://127.0.0.1:5000?timeout=2`;
//! - `scheme:///dev/ttyUSB0?serial=9600/8E1` — a local device path (three slashes).
//!
//! Query values are percent-decoded. Serial line settings are written the way sigrok
//! writes them, `BAUD/DATABITS PARITY STOPBITS`, e.g. `9600/8E1` or `2400/7O2`.
//! Secrets never belong in a URI: a URI names where the secret is (`secret=env:VAR`);
//! [`DeviceUri::redacted`] is what logs and errors show.

use crate::error::DeviceError;
use std::fmt;

/// A parsed device URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUri {
    text: String,
    scheme: String,
    host: Option<String>,
    port: Option<u16>,
    path: String,
    query: Vec<(String, String)>,
}

impl DeviceUri {
    /// Parse `text`; an error says what is wrong with it.
    pub fn parse(text: &str) -> Result<DeviceUri, DeviceError> {
        let bad = |message: String| DeviceError::Uri {
            uri: redact(text),
            message,
        };
        let url = url::Url::parse(text).map_err(|e| {
            bad(match e {
                url::ParseError::RelativeUrlWithoutBase => {
                    "no scheme: a device is named SCHEME:... (e.g. replay:FILE, tcp://HOST:PORT)"
                        .to_string()
                }
                other => other.to_string(),
            })
        })?;
        let scheme = url.scheme().to_ascii_lowercase();
        let host = url.host_str().filter(|h| !h.is_empty()).map(|h| {
            // IPv6 literals come back bracketed; keep them as SocketAddr parsing wants them.
            h.to_string()
        });
        let port = url.port();
        let raw_path = url.path();
        let path = percent_decode(raw_path).map_err(|m| bad(format!("path: {m}")))?;
        let mut query = Vec::new();
        for (k, v) in url.query_pairs() {
            if k.is_empty() {
                return Err(bad("a query parameter has no name".into()));
            }
            if query
                .iter()
                .any(|(q, _): &(String, String)| q == k.as_ref())
            {
                return Err(bad(format!("query parameter '{k}' given twice")));
            }
            query.push((k.into_owned(), v.into_owned()));
        }
        Ok(DeviceUri {
            text: text.to_string(),
            scheme,
            host,
            port,
            path,
            query,
        })
    }

    /// The scheme, lower case (it picks the driver).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    /// The host of a `scheme://HOST:PORT` URI.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    /// The port of a `scheme://HOST:PORT` URI.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// The path: the file of `replay:FILE`, the device of `scheme:///dev/tty...`.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The query parameters in the order written.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }
    /// The value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The URI as written, with secret values replaced (for logs, errors and reports).
    pub fn redacted(&self) -> String {
        redact(&self.text)
    }
    /// The URI exactly as written (may hold a secret reference, never a secret itself).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `HOST:PORT`, both required.
    pub fn host_port(&self) -> Result<(String, u16), DeviceError> {
        match (&self.host, self.port) {
            (Some(h), Some(p)) => Ok((h.clone(), p)),
            _ => Err(self.error(format!(
                "a {}: URI needs HOST:PORT, e.g. {}://127.0.0.1:5000",
                self.scheme, self.scheme
            ))),
        }
    }

    /// Query parameter `key` parsed as `T`, or `default` when absent.
    pub fn param_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, DeviceError>
    where
        T::Err: fmt::Display,
    {
        match self.param(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| self.error(format!("parameter {key}='{v}': {e}"))),
        }
    }

    /// Fail on query parameters the driver does not know (a typo must not pass silently).
    pub fn check_params(&self, known: &[&str]) -> Result<(), DeviceError> {
        for (k, _) in &self.query {
            if !known.contains(&k.as_str()) {
                return Err(self.error(format!(
                    "unknown parameter '{k}'; this driver takes: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    /// A URI error naming this URI.
    pub fn error(&self, message: impl Into<String>) -> DeviceError {
        DeviceError::Uri {
            uri: self.redacted(),
            message: message.into(),
        }
    }
}

impl fmt::Display for DeviceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Query keys whose values are never shown (they should only ever name where a secret is,
/// but a user may still paste the secret itself).
const SECRET_KEYS: &[&str] = &["secret", "password", "key", "token", "passwd", "pass"];

/// `text` with the values of secret-like query keys and any userinfo password replaced.
pub fn redact(text: &str) -> String {
    let (head, query) = match text.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (text, None),
    };
    // userinfo `user:password@` in an authority
    let head = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((user, host)) if user.contains(':') => {
                    let name = user.split(':').next().unwrap_or("");
                    format!("{scheme}://{name}:***@{host}{tail}")
                }
                _ => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    match query {
        None => head,
        Some(q) => {
            let parts: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v))
                        if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str())
                            && !(v.starts_with("env:") || v.starts_with("keystore:")) =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            format!("{head}?{}", parts.join("&"))
        }
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 after percent-decoding".to_string())
}

/// Parity of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit (`N`).
    None,
    /// Even parity (`E`).
    Even,
    /// Odd parity (`O`).
    Odd,
    /// Parity bit always 1 (`M`).
    Mark,
    /// Parity bit always 0 (`S`).
    Space,
}

/// Serial line settings, written `BAUD/DATABITS PARITY STOPBITS` as sigrok writes them
/// (`9600/8N1`, `2400/8E1`, `300/7E1`, `9600/8N1.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SerialSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits: 1, 1.5 or 2.
    pub stop_bits: f32,
}

impl std::str::FromStr for SerialSettings {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let form = "serial settings are written BAUD/DATABITS PARITY STOPBITS, e.g. 9600/8E1";
        let (baud, frame) = s.split_once('/').ok_or_else(|| format!("'{s}': {form}"))?;
        let baud: u32 =
            baud.parse().ok().filter(|b| *b > 0).ok_or_else(|| {
                format!("'{s}': baud rate '{baud}' is not a positive whole number")
            })?;
        let mut chars = frame.chars();
        let data_bits = chars
            .next()
            .and_then(|c| c.to_digit(10))
            .filter(|d| (5..=8).contains(d))
            .ok_or_else(|| format!("'{s}': data bits must be 5 to 8; {form}"))?
            as u8;
        let parity = match chars.next().map(|c| c.to_ascii_uppercase()) {
            Some('N') => Parity::None,
            Some('E') => Parity::Even,
            Some('O') => Parity::Odd,
            Some('M') => Parity::Mark,
            Some('S') => Parity::Space,
            _ => return Err(format!("'{s}': parity must be N, E, O, M or S; {form}")),
        };
        let stop_bits = match chars.as_str() {
            "1" => 1.0,
            "1.5" => 1.5,
            "2" => 2.0,
            other => {
                return Err(format!(
                    "'{s}': stop bits must be 1, 1.5 or 2, not '{other}'; {form}"
                ))
            }
        };
        Ok(SerialSettings {
            baud,
            data_bits,
            parity,
            stop_bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_network_and_device_forms() {
        let u = DeviceUri::parse("replay:dir/rec%20one.cfg?speed=max").unwrap();
        assert_eq!(u.scheme(), "replay");
        assert_eq!(u.path(), "dir/rec one.cfg");
        assert_eq!(u.param("speed"), Some("max"));
        let u = DeviceUri::parse("TCP://127.0.0.1:5000?timeout=2&format=i16").unwrap();
        assert_eq!(u.scheme(), "tcp");
        assert_eq!(u.host_port().unwrap(), ("127.0.0.1".into(), 5000));
        assert_eq!(u.param_or("timeout", 5.0).unwrap(), 2.0);
        let u = DeviceUri::parse("mbus:///dev/ttyUSB0?serial=2400/8E1&address=5").unwrap();
        assert_eq!(u.path(), "/dev/ttyUSB0");
        assert_eq!(u.host(), None);
        let s: SerialSettings = u.param_or("serial", "9600/8N1".parse().unwrap()).unwrap();
        assert_eq!(
            s,
            SerialSettings {
                baud: 2400,
                data_bits: 8,
                parity: Parity::Even,
                stop_bits: 1.0
            }
        );
    }

    #[test]
    fn sigrok_serial_forms_and_errors() {
        let s: SerialSettings = "300/7o1.5".parse().unwrap();
        assert_eq!(
            (s.baud, s.data_bits, s.parity, s.stop_bits),
            (300, 7, Parity::Odd, 1.5)
        );
        for bad in ["9600", "9600/9N1", "9600/8X1", "9600/8N3", "0/8N1", "x/8N1"] {
            let e = bad.parse::<SerialSettings>().unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn errors_name_the_uri_and_hide_secrets() {
        let e = DeviceUri::parse("just-a-file.cfg").unwrap_err();
        assert!(e.to_string().contains("no scheme"), "{e}");
        let u = DeviceUri::parse("dlms+tcp://h:1?secret=hunter2&x=1&x=2");
        let e = u.unwrap_err().to_string();
        assert!(!e.contains("hunter2") && e.contains("given twice"), "{e}");
        assert_eq!(
            redact("dlms+tcp://u:pw@h:1/p?secret=env:PW&token=abc"),
            "dlms+tcp://u:***@h:1/p?secret=env:PW&token=***"
        );
        let u = DeviceUri::parse("tcp://127.0.0.1:1?bogus=1").unwrap();
        let e = u.check_params(&["timeout"]).unwrap_err().to_string();
        assert!(e.contains("bogus") && e.contains("timeout"), "{e}");
    }
}
