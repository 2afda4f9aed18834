//! Secrets (LLS passwords, HLS secrets, DLMS keys, IEC 62056-21 passwords): they
//! come from the environment or from a key store encrypted at rest with age
//! (scrypt passphrase recipient), never from a URI or a command line, and their
//! Debug and Display print `Secret(***)`.

use crate::error::{LinkError, Result};
#[cfg(feature = "keystore")]
use std::collections::BTreeMap;
use std::fmt;
#[cfg(feature = "keystore")]
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// Secret bytes. Formatting redacts; the memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// The bytes, for the one place that puts them on the wire or into a cipher.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret is: `env:VAR` or `keystore:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The environment variable `VAR` (its text, as bytes; `hex:` prefix for binary keys).
    Env(String),
    /// Entry `NAME` of the key store.
    KeyStore(String),
}

impl FromStr for SecretRef {
    type Err = LinkError;
    /// Parses the reference. A plain value is refused without quoting it.
    fn from_str(s: &str) -> Result<Self> {
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        };
        if let Some(v) = s.strip_prefix("env:") {
            if valid_name(v) {
                return Ok(SecretRef::Env(v.to_string()));
            }
        } else if let Some(n) = s.strip_prefix("keystore:") {
            if valid_name(n) {
                return Ok(SecretRef::KeyStore(n.to_string()));
            }
        }
        Err(LinkError::Secret(
            "secret= must name where the secret is: env:VAR or keystore:NAME (a secret's value never goes into a URI)"
                .into(),
        ))
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(v) => write!(f, "env:{v}"),
            SecretRef::KeyStore(n) => write!(f, "keystore:{n}"),
        }
    }
}

/// Decodes a stored secret's text: `hex:0011…` gives bytes, anything else its UTF-8 bytes.
fn decode_text(text: &str, origin: &str) -> Result<Secret> {
    match text.strip_prefix("hex:") {
        Some(h) => {
            let h = h.trim();
            if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(LinkError::Secret(format!(
                    "{origin}: hex: value is not an even number of hex digits"
                )));
            }
            Ok(Secret::new(
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
                    .collect(),
            ))
        }
        None => Ok(Secret::new(text.as_bytes().to_vec())),
    }
}

impl SecretRef {
    /// Resolves the secret: from the environment, or from the key store at
    /// `PQE_KEYSTORE` (default `~/.local/share/pqe/keystore.age`) opened with the
    /// passphrase in `PQE_KEYSTORE_PASSPHRASE`.
    pub fn resolve(&self) -> Result<Secret> {
        match self {
            SecretRef::Env(var) => {
                let v = std::env::var(var).map_err(|_| {
                    LinkError::Secret(format!(
                        "environment variable {var} is not set (or not UTF-8)"
                    ))
                })?;
                decode_text(&v, &format!("environment variable {var}"))
            }
            #[cfg(not(feature = "keystore"))]
            SecretRef::KeyStore(name) => Err(LinkError::NotImplemented(format!(
                "keystore:{name}: this build of pqe-link has no key store (feature \"keystore\")"
            ))),
            #[cfg(feature = "keystore")]
            SecretRef::KeyStore(name) => {
                let path = KeyStore::default_path()?;
                let pass = std::env::var("PQE_KEYSTORE_PASSPHRASE").map_err(|_| {
                    LinkError::Secret(format!(
                        "keystore:{name}: PQE_KEYSTORE_PASSPHRASE is not set (the key store {} is encrypted)",
                        path.display()
                    ))
                })?;
                let store = KeyStore::open(&path, &Secret::new(pass.into_bytes()))?;
                store.get(name)
            }
        }
    }
}

#[cfg(feature = "keystore")]
/// A key store: named secrets in one age-encrypted file (scrypt passphrase).
pub struct KeyStore {
    entries: BTreeMap<String, String>,
}

#[cfg(feature = "keystore")]
impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("names", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(feature = "keystore")]
impl KeyStore {
    /// `PQE_KEYSTORE`, else `$XDG_DATA_HOME/pqe/keystore.age`, else `~/.local/share/pqe/keystore.age`.
    pub fn default_path() -> Result<PathBuf> {
        if let Ok(p) = std::env::var("PQE_KEYSTORE") {
            return Ok(PathBuf::from(p));
        }
        if let Ok(d) = std::env::var("XDG_DATA_HOME") {
            return Ok(Path::new(&d).join("pqe/keystore.age"));
        }
        let home = std::env::var("HOME").map_err(|_| {
            LinkError::Secret("no PQE_KEYSTORE and no HOME to find the key store in".into())
        })?;
        Ok(Path::new(&home).join(".local/share/pqe/keystore.age"))
    }

    /// An empty store.
    pub fn new() -> Self {
        KeyStore {
            entries: BTreeMap::new(),
        }
    }

    /// Opens and decrypts the store at `path`.
    pub fn open(path: &Path, passphrase: &Secret) -> Result<Self> {
        let data = std::fs::read(path)
            .map_err(|e| LinkError::Secret(format!("key store {}: {e}", path.display())))?;
        let pass = String::from_utf8(passphrase.expose().to_vec())
            .map_err(|_| LinkError::Secret("key store passphrase is not UTF-8".into()))?;
        let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(pass));
        let plain = Zeroizing::new(age::decrypt(&identity, &data).map_err(|e| {
            LinkError::Secret(format!(
                "key store {}: cannot decrypt ({e})",
                path.display()
            ))
        })?);
        let text = std::str::from_utf8(&plain).map_err(|_| {
            LinkError::Secret(format!(
                "key store {}: content is not UTF-8",
                path.display()
            ))
        })?;
        let entries: BTreeMap<String, String> = toml::from_str(text).map_err(|_| {
            LinkError::Secret(format!(
                "key store {}: content is not a NAME = \"…\" table",
                path.display()
            ))
        })?;
        Ok(KeyStore { entries })
    }

    /// Encrypts the store to `path` (scrypt work factor `log_n`; age picks ~1 s of
    /// work when `None`).
    pub fn save(&self, path: &Path, passphrase: &Secret, log_n: Option<u8>) -> Result<()> {
        let pass = String::from_utf8(passphrase.expose().to_vec())
            .map_err(|_| LinkError::Secret("key store passphrase is not UTF-8".into()))?;
        let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(pass));
        if let Some(n) = log_n {
            recipient.set_work_factor(n);
        }
        let text = Zeroizing::new(
            toml::to_string(&self.entries)
                .map_err(|e| LinkError::Secret(format!("key store: {e}")))?,
        );
        let data = age::encrypt(&recipient, text.as_bytes()).map_err(|e| {
            LinkError::Secret(format!(
                "key store {}: cannot encrypt ({e})",
                path.display()
            ))
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                LinkError::Secret(format!("key store folder {}: {e}", dir.display()))
            })?;
        }
        std::fs::write(path, data)
            .map_err(|e| LinkError::Secret(format!("key store {}: {e}", path.display())))
    }

    /// Stores `secret` under `name` (as `hex:` text).
    pub fn set(&mut self, name: &str, secret: &Secret) {
        let hex: String = secret.expose().iter().map(|b| format!("{b:02x}")).collect();
        self.entries.insert(name.to_string(), format!("hex:{hex}"));
    }

    /// The secret `name`.
    pub fn get(&self, name: &str) -> Result<Secret> {
        let text = self
            .entries
            .get(name)
            .ok_or_else(|| LinkError::Secret(format!("key store has no entry '{name}'")))?;
        decode_text(text, &format!("key store entry '{name}'"))
    }

    /// The names stored.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

#[cfg(feature = "keystore")]
impl Default for KeyStore {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_formatting_redacts() {
        let s = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.expose(), b"hunter2");
    }

    #[test]
    fn refs_parse_and_plain_values_are_refused_unquoted() {
        assert_eq!(
            "env:PQE_PW".parse::<SecretRef>().unwrap(),
            SecretRef::Env("PQE_PW".into())
        );
        assert_eq!(
            "keystore:meter-7".parse::<SecretRef>().unwrap(),
            SecretRef::KeyStore("meter-7".into())
        );
        for plain in ["hunter2", "Tr0ub4dor&3"] {
            let e = plain.parse::<SecretRef>().unwrap_err().to_string();
            assert!(!e.contains(plain), "{e}");
        }
        for malformed in ["env:", "keystore:a b", "env:$(x)"] {
            assert!(malformed.parse::<SecretRef>().is_err(), "{malformed}");
        }
    }

    #[test]
    fn env_secret_resolves_hex_and_text() {
        std::env::set_var("PQE_LINK_TEST_SECRET_HEX", "hex:00ff10");
        let s = SecretRef::Env("PQE_LINK_TEST_SECRET_HEX".into())
            .resolve()
            .unwrap();
        assert_eq!(s.expose(), &[0, 0xff, 0x10]);
        let e = SecretRef::Env("PQE_LINK_TEST_SECRET_UNSET".into())
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(e.contains("PQE_LINK_TEST_SECRET_UNSET is not set"), "{e}");
    }

    #[cfg(feature = "keystore")]
    #[test]
    fn key_store_round_trips_encrypted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.age");
        let pass = Secret::new(b"correct horse".to_vec());
        let mut ks = KeyStore::new();
        ks.set("lls", &Secret::new(b"12345678".to_vec()));
        ks.save(&path, &pass, Some(10)).unwrap();
        let raw = std::fs::read(&path).unwrap();
        assert!(raw.starts_with(b"age-encryption.org/v1"));
        assert!(
            !raw.windows(8).any(|w| w == b"12345678" || w == b"31323334"),
            "stored in clear"
        );
        let back = KeyStore::open(&path, &pass).unwrap();
        assert_eq!(back.get("lls").unwrap().expose(), b"12345678");
        let e = KeyStore::open(&path, &Secret::new(b"wrong".to_vec()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot decrypt"), "{e}");
        assert!(back
            .get("nope")
            .unwrap_err()
            .to_string()
            .contains("no entry 'nope'"));
    }
}
