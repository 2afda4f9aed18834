//! Secrets, high level security (HLS) authentication functions and security suite 0
//! ciphering (DLMS UA 1000-2 "Green Book" clauses 9.2.2 (authentication mechanisms) and
//! 9.2.3–9.2.7 (cryptographic protection); IEC 62056-5-3 clause 5).
//!
//! What is implemented, per mechanism (f = the function applied to a challenge):
//! - mechanism 2 (HLS, "manufacturer specific"): f(C) = AES-128-ECB(key = HLS secret,
//!   C zero-padded to a multiple of 16 bytes). The Green Book leaves mechanism 2 to the
//!   manufacturer; this is the AES variant most clients implement. The secret must be
//!   16 bytes.
//! - mechanism 3 (MD5): f(C) = MD5(C ‖ HLS secret).
//! - mechanism 4 (SHA-1): f(C) = SHA-1(C ‖ HLS secret).
//! - mechanism 5 (GMAC): f(C) = SC ‖ IC ‖ GMAC(key EK, IV = own system title ‖ IC,
//!   AAD = SC ‖ AK ‖ C), SC = 0x10 (authentication only, suite 0), 12-byte tag.
//! - mechanism 6 (SHA-256): f(StoC) = SHA-256(secret ‖ title-C ‖ title-S ‖ StoC ‖ CtoS) and
//!   f(CtoS) = SHA-256(secret ‖ title-S ‖ title-C ‖ CtoS ‖ StoC).
//! - mechanism 7 (ECDSA) is not implemented (an error says so).
//!
//! Suite 0 (AES-GCM-128) with global unicast keys: an APDU is protected as
//! `glo-tag ‖ length ‖ SC ‖ IC ‖ ciphertext ‖ tag(12)`, SC = 0x30 (authenticated and
//! encrypted), IV = sender's system title ‖ IC, AAD = SC ‖ AK.

use crate::acse::Mechanism;
use crate::error::{Error, Result};
use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::AeadInPlace;
use std::fmt;
use zeroize::Zeroizing;

type Gcm = aes_gcm::AesGcm<aes::Aes128, U12, U12>;

/// A password, HLS secret or key. Its bytes never appear in `Debug` or `Display`, and
/// are wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wrap secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    /// Parse a hexadecimal key; the error never quotes the input.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let h = hex.trim();
        if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Config(format!(
                "a key in hex must have an even number of hex digits ({} characters given)",
                h.len()
            )));
        }
        let bytes = (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
            .collect::<Vec<u8>>();
        Ok(Self::new(bytes))
    }

    /// The secret bytes. Only the protocol code uses them; never print them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The HLS function of mechanisms 2, 3 and 4 applied to `challenge`.
pub fn hls_digest(mechanism: Mechanism, secret: &Secret, challenge: &[u8]) -> Result<Vec<u8>> {
    use md5::Digest as _;
    match mechanism {
        Mechanism::HighAes => {
            let cipher = aes::Aes128::new_from_slice(secret.expose()).map_err(|_| {
                Error::Config(format!(
                    "HLS mechanism 2 (AES) needs a 16-byte secret, {} bytes given",
                    secret.len()
                ))
            })?;
            let mut data = challenge.to_vec();
            data.resize(challenge.len().div_ceil(16).max(1) * 16, 0);
            for block in data.chunks_mut(16) {
                cipher.encrypt_block(GenericArray::from_mut_slice(block));
            }
            Ok(data)
        }
        Mechanism::HighMd5 => {
            let mut h = md5::Md5::new();
            h.update(challenge);
            h.update(secret.expose());
            Ok(h.finalize().to_vec())
        }
        Mechanism::HighSha1 => {
            let mut h = sha1::Sha1::new();
            h.update(challenge);
            h.update(secret.expose());
            Ok(h.finalize().to_vec())
        }
        m => Err(Error::Config(format!(
            "mechanism {} is not a challenge-digest mechanism",
            m.id()
        ))),
    }
}

/// The SHA-256 HLS function (mechanism 6): SHA-256(secret ‖ own title ‖ peer title ‖
/// challenge received ‖ challenge sent).
pub fn hls_sha256(
    secret: &Secret,
    first_title: &[u8],
    second_title: &[u8],
    first_challenge: &[u8],
    second_challenge: &[u8],
) -> Vec<u8> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(secret.expose());
    h.update(first_title);
    h.update(second_title);
    h.update(first_challenge);
    h.update(second_challenge);
    h.finalize().to_vec()
}

/// Compare in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Security control byte: authenticated and encrypted, suite 0.
pub const SC_AUTH_ENC: u8 = 0x30;
/// Security control byte: authenticated only, suite 0.
pub const SC_AUTH: u8 = 0x10;
/// Length of the truncated GCM tag.
pub const TAG_LEN: usize = 12;

/// Suite-0 keys and counters of one association (global unicast key set).
#[derive(Clone)]
pub struct Suite0 {
    /// Global unicast encryption key (16 bytes).
    pub encryption_key: Secret,
    /// Authentication key (16 bytes).
    pub authentication_key: Secret,
    /// This client's system title (8 bytes).
    pub client_title: [u8; 8],
    /// The server's system title (from the AARE).
    pub server_title: Option<[u8; 8]>,
    /// Next invocation counter this client sends.
    pub invocation_counter: u32,
    /// Highest invocation counter received from the server (replay check).
    pub last_server_counter: Option<u32>,
}

impl fmt::Debug for Suite0 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suite0")
            .field("encryption_key", &self.encryption_key)
            .field("authentication_key", &self.authentication_key)
            .field("client_title", &hex(&self.client_title))
            .field("server_title", &self.server_title.map(|t| hex(&t)))
            .field("invocation_counter", &self.invocation_counter)
            .finish()
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Map a ciphered (glo-) tag to the plain tag it protects.
pub fn unprotected_tag(glo: u8) -> Option<u8> {
    Some(match glo {
        0x21 => 0x01,
        0x28 => 0x08,
        0x2E => 0x0E,
        0xC8..=0xCF => glo - 8,
        _ => return None,
    })
}

/// Map a plain tag to its glo- tag.
pub fn protected_tag(plain: u8) -> Option<u8> {
    Some(match plain {
        0x01 => 0x21,
        0x08 => 0x28,
        0x0E => 0x2E,
        0xC0..=0xC7 => plain + 8,
        _ => return None,
    })
}

impl Suite0 {
    /// Keys for a client with `client_title`, counters starting at `invocation_counter`.
    pub fn new(
        encryption_key: Secret,
        authentication_key: Secret,
        client_title: [u8; 8],
        invocation_counter: u32,
    ) -> Result<Self> {
        if encryption_key.len() != 16 || authentication_key.len() != 16 {
            return Err(Error::Config(format!(
                "suite 0 needs 16-byte keys (encryption key {} bytes, authentication key {} bytes given)",
                encryption_key.len(),
                authentication_key.len()
            )));
        }
        Ok(Self {
            encryption_key,
            authentication_key,
            client_title,
            server_title: None,
            invocation_counter,
            last_server_counter: None,
        })
    }

    fn cipher(&self) -> Gcm {
        Gcm::new(GenericArray::from_slice(self.encryption_key.expose()))
    }

    fn next_counter(&mut self) -> Result<u32> {
        let ic = self.invocation_counter;
        self.invocation_counter = ic.checked_add(1).ok_or_else(|| {
            Error::Config("invocation counter exhausted: the key must be changed".into())
        })?;
        Ok(ic)
    }

    fn nonce(title: &[u8; 8], ic: u32) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(title);
        n[8..].copy_from_slice(&ic.to_be_bytes());
        n
    }

    /// Protect a plain APDU (its first byte the plain tag) as `glo-tag ‖ len ‖ SC ‖ IC ‖
    /// ciphertext ‖ tag`.
    pub fn protect(&mut self, plain: &[u8]) -> Result<Vec<u8>> {
        let first = *plain
            .first()
            .ok_or_else(|| Error::Config("empty APDU to protect".into()))?;
        let glo = protected_tag(first)
            .ok_or_else(|| Error::NotImplemented(format!("ciphering of APDU tag 0x{first:02X}")))?;
        let ic = self.next_counter()?;
        let mut aad = vec![SC_AUTH_ENC];
        aad.extend_from_slice(self.authentication_key.expose());
        let mut buf = plain.to_vec();
        let tag = self
            .cipher()
            .encrypt_in_place_detached(
                GenericArray::from_slice(&Self::nonce(&self.client_title, ic)),
                &aad,
                &mut buf,
            )
            .map_err(|_| Error::Authentication("AES-GCM encryption failed".into()))?;
        let mut content = vec![SC_AUTH_ENC];
        content.extend_from_slice(&ic.to_be_bytes());
        content.extend_from_slice(&buf);
        content.extend_from_slice(&tag);
        let mut out = vec![glo];
        crate::axdr::write_length(&mut out, content.len());
        out.extend_from_slice(&content);
        Ok(out)
    }

    /// Remove protection from a glo- or general-glo-ciphering APDU received from the
    /// server; returns the plain APDU. Refuses weaker protection than authenticated and
    /// encrypted, a replayed or decreasing invocation counter and a tag that does not
    /// verify.
    pub fn unprotect(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        let mut r = crate::axdr::Reader::new("ciphered APDU", apdu);
        let glo = r.u8("tag")?;
        let (plain_tag, title) = if glo == crate::xdlms::tag::GENERAL_GLO_CIPHERING {
            let t = r.counted("system-title")?;
            let title: [u8; 8] = t.try_into().map_err(|_| {
                r.error_at(1, format!("system-title of {} bytes (8 expected)", t.len()))
            })?;
            (None, title)
        } else {
            let p = unprotected_tag(glo).ok_or_else(|| {
                r.error_at(0, format!("tag 0x{glo:02X} is not a glo-ciphered APDU"))
            })?;
            let title = self.server_title.ok_or_else(|| Error::Unexpected {
                expected: "the server system title (AARE responding-AP-title)",
                got: "a ciphered APDU before it".into(),
            })?;
            (Some(p), title)
        };
        let at = r.offset();
        let content = r.counted("ciphered content")?;
        r.finish("the ciphered APDU")?;
        if content.len() < 5 + TAG_LEN {
            return Err(r
                .error_at(
                    at,
                    format!(
                        "ciphered content of {} bytes is shorter than header and tag",
                        content.len()
                    ),
                )
                .into());
        }
        let sc = content[0];
        if sc & 0x0F != 0 || sc & 0x80 != 0 {
            return Err(Error::NotImplemented(format!(
                "security control 0x{sc:02X}: only suite 0 without compression is implemented"
            )));
        }
        if sc & 0x30 != 0x30 {
            return Err(Error::Authentication(format!(
                "security control 0x{sc:02X} is weaker than the association's authenticated and encrypted (0x30)"
            )));
        }
        let ic = u32::from_be_bytes([content[1], content[2], content[3], content[4]]);
        if let Some(last) = self.last_server_counter {
            if ic <= last {
                return Err(Error::Authentication(format!("server invocation counter {ic} not above the last one received ({last}): replay")));
            }
        }
        let body = &content[5..];
        let (ct, tag) = body.split_at(body.len() - TAG_LEN);
        let mut aad = vec![sc];
        aad.extend_from_slice(self.authentication_key.expose());
        let mut buf = ct.to_vec();
        self.cipher()
            .decrypt_in_place_detached(GenericArray::from_slice(&Self::nonce(&title, ic)), &aad, &mut buf, GenericArray::from_slice(tag))
            .map_err(|_| Error::Authentication(format!("GCM tag of the APDU with invocation counter {ic} does not verify (wrong keys or altered APDU)")))?;
        if let Some(p) = plain_tag {
            if buf.first() != Some(&p) {
                return Err(Error::Unexpected {
                    expected: "plain APDU of the glo- tag",
                    got: format!("{:02X?}", buf.first()),
                });
            }
        }
        self.last_server_counter = Some(ic);
        Ok(buf)
    }

    /// HLS-GMAC f(StoC) of this client (mechanism 5): `SC ‖ IC ‖ GMAC`.
    pub fn gmac_proof(&mut self, challenge: &[u8]) -> Result<Vec<u8>> {
        let ic = self.next_counter()?;
        let tag = self.gmac(&self.client_title, ic, challenge)?;
        let mut out = vec![SC_AUTH];
        out.extend_from_slice(&ic.to_be_bytes());
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Verify the server's f(CtoS) (mechanism 5).
    pub fn verify_server_gmac(&mut self, challenge: &[u8], proof: &[u8]) -> Result<()> {
        let title = self.server_title.ok_or_else(|| {
            Error::Authentication("no server system title to verify the HLS-GMAC reply with".into())
        })?;
        if proof.len() != 5 + TAG_LEN || proof[0] != SC_AUTH {
            return Err(Error::Authentication(format!(
                "HLS-GMAC reply of {} bytes with security control {:02X?} (17 bytes, 0x10 expected)",
                proof.len(),
                proof.first()
            )));
        }
        let ic = u32::from_be_bytes([proof[1], proof[2], proof[3], proof[4]]);
        let expected = self.gmac(&title, ic, challenge)?;
        if !constant_time_eq(&expected, &proof[5..]) {
            return Err(Error::Authentication(
                "the meter's HLS-GMAC reply does not verify: it does not hold the same keys".into(),
            ));
        }
        self.last_server_counter = Some(self.last_server_counter.map_or(ic, |l| l.max(ic)));
        Ok(())
    }

    fn gmac(&self, title: &[u8; 8], ic: u32, challenge: &[u8]) -> Result<Vec<u8>> {
        let mut aad = vec![SC_AUTH];
        aad.extend_from_slice(self.authentication_key.expose());
        aad.extend_from_slice(challenge);
        let mut empty: [u8; 0] = [];
        let tag = self
            .cipher()
            .encrypt_in_place_detached(
                GenericArray::from_slice(&Self::nonce(title, ic)),
                &aad,
                &mut empty,
            )
            .map_err(|_| Error::Authentication("GMAC computation failed".into()))?;
        Ok(tag.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    /// References computed with Python's hashlib and pyca/cryptography (AES-ECB), not
    /// with this code: the recorded session's StoC and the secret "Gurux".
    #[test]
    fn hls_functions_match_independent_references() {
        let stoc = unhex("5849eb56c3272a9b6d03b3c4b4b7fe99");
        let ctos = unhex("29dcb1289a3fe3b96c5bf7dc60dd1ca9");
        let gurux = Secret::new(b"Gurux".to_vec());
        let sha1 = hls_digest(Mechanism::HighSha1, &gurux, &stoc).unwrap();
        assert_eq!(hex(&sha1), "94E20483669673371E3633AB568B6FB133D5CFE4");
        let md5 = hls_digest(Mechanism::HighMd5, &gurux, &stoc).unwrap();
        assert_eq!(hex(&md5), "2036395A69A474B1A97E0E7EA9819244");
        let s256 = hls_sha256(&gurux, b"CLI\0\0\0\0\x01", b"MMM\0\0\xBCaN", &stoc, &ctos);
        assert_eq!(
            hex(&s256),
            "E79DC8C08F9AC246298D2E6EA424F1C9B2C4E37C52F261F3CAF3DDEB6FB86DA4"
        );
        // Mechanism 2: a 21-byte challenge zero-padded to two AES blocks.
        let key = Secret::new(unhex("000102030405060708090a0b0c0d0e0f"));
        let mut c = stoc.clone();
        c.extend_from_slice(&[1, 2, 3, 4, 5]);
        let aes = hls_digest(Mechanism::HighAes, &key, &c).unwrap();
        assert_eq!(
            hex(&aes),
            "0ED91B0D5097BA46E45A5D79D74F6D2C04A3D3402CC60C377760F21F007F4A4E"
        );
        assert!(hls_digest(Mechanism::HighAes, &gurux, &c)
            .unwrap_err()
            .to_string()
            .contains("16-byte"));
    }

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new(b"hunter2".to_vec());
        assert!(!format!("{s:?}{s}").contains("hunter2"));
        let e = Secret::from_hex("zz-not-hex").unwrap_err().to_string();
        assert!(!e.contains("zz-not-hex"), "{e}");
    }
}
