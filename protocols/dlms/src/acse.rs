//! Association control (ACSE) APDUs in BER: AARQ, AARE, RLRQ, RLRE (IEC 62056-5-3
//! clause 8 / ISO/IEC 8650-1 as profiled by DLMS UA 1000-2 "Green Book" clause 9.4), and
//! the xDLMS InitiateRequest/InitiateResponse they carry in user-information (A-XDR,
//! IEC 62056-5-3 clause 9.5).

use crate::axdr::{write_length, Reader};
use crate::error::DecodeError;

/// Object identifier prefix of DLMS UA names: joint-iso-ccitt(2) country(16) country-name(756)
/// identified-organization(5) DLMS-UA(8).
const DLMS_UA: [u8; 5] = [0x60, 0x85, 0x74, 0x05, 0x08];

/// Application context names (IEC 62056-5-3 clause 8.1: {... application-context(1) n}).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationContext {
    /// 1: logical name referencing, no ciphering.
    LogicalName,
    /// 2: short name referencing, no ciphering.
    ShortName,
    /// 3: logical name referencing with ciphering.
    LogicalNameCiphered,
    /// 4: short name referencing with ciphering.
    ShortNameCiphered,
}

impl ApplicationContext {
    fn id(self) -> u8 {
        match self {
            Self::LogicalName => 1,
            Self::ShortName => 2,
            Self::LogicalNameCiphered => 3,
            Self::ShortNameCiphered => 4,
        }
    }

    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            1 => Self::LogicalName,
            2 => Self::ShortName,
            3 => Self::LogicalNameCiphered,
            4 => Self::ShortNameCiphered,
            _ => return None,
        })
    }
}

/// Authentication mechanism names (IEC 62056-5-3 clause 8.2: {... authentication-mechanism-name(2) n}).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// 0: lowest level security (no authentication).
    None,
    /// 1: low level security (password).
    Low,
    /// 2: HLS, manufacturer specific (here: AES-128 ECB of the challenge, see `security`).
    HighAes,
    /// 3: HLS with MD5.
    HighMd5,
    /// 4: HLS with SHA-1.
    HighSha1,
    /// 5: HLS with GMAC.
    HighGmac,
    /// 6: HLS with SHA-256.
    HighSha256,
    /// 7: HLS with ECDSA.
    HighEcdsa,
}

impl Mechanism {
    /// The mechanism id (last arc of the name).
    pub fn id(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Low => 1,
            Self::HighAes => 2,
            Self::HighMd5 => 3,
            Self::HighSha1 => 4,
            Self::HighGmac => 5,
            Self::HighSha256 => 6,
            Self::HighEcdsa => 7,
        }
    }

    /// The mechanism of an id.
    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::None,
            1 => Self::Low,
            2 => Self::HighAes,
            3 => Self::HighMd5,
            4 => Self::HighSha1,
            5 => Self::HighGmac,
            6 => Self::HighSha256,
            7 => Self::HighEcdsa,
            _ => return None,
        })
    }

    /// Whether this is a high level security (4-pass) mechanism.
    pub fn is_high(self) -> bool {
        self.id() >= 2
    }
}

/// The 24-bit xDLMS conformance block (IEC 62056-5-3 clause 9.4.6.1, bit 0 = most
/// significant bit of the 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conformance(pub u32);

impl Conformance {
    /// general-protection (bit 1).
    pub const GENERAL_PROTECTION: u32 = 1 << 22;
    /// general-block-transfer (bit 2).
    pub const GENERAL_BLOCK_TRANSFER: u32 = 1 << 21;
    /// block-transfer-with-get-or-read (bit 11).
    pub const BLOCK_TRANSFER_WITH_GET: u32 = 1 << 12;
    /// block-transfer-with-set-or-write (bit 12).
    pub const BLOCK_TRANSFER_WITH_SET: u32 = 1 << 11;
    /// block-transfer-with-action (bit 13).
    pub const BLOCK_TRANSFER_WITH_ACTION: u32 = 1 << 10;
    /// multiple-references (bit 14).
    pub const MULTIPLE_REFERENCES: u32 = 1 << 9;
    /// access (bit 17).
    pub const ACCESS: u32 = 1 << 6;
    /// get (bit 19).
    pub const GET: u32 = 1 << 4;
    /// set (bit 20).
    pub const SET: u32 = 1 << 3;
    /// selective-access (bit 21).
    pub const SELECTIVE_ACCESS: u32 = 1 << 2;
    /// action (bit 23).
    pub const ACTION: u32 = 1;

    /// What this client proposes by default: GET, SET, ACTION, selective access, block
    /// transfer with GET/SET/ACTION, multiple references (0x001E1D).
    pub const DEFAULT_PROPOSED: Self = Self(
        Self::BLOCK_TRANSFER_WITH_GET
            | Self::BLOCK_TRANSFER_WITH_SET
            | Self::BLOCK_TRANSFER_WITH_ACTION
            | Self::MULTIPLE_REFERENCES
            | Self::GET
            | Self::SET
            | Self::SELECTIVE_ACCESS
            | Self::ACTION,
    );

    /// Whether every bit of `bits` is set.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    fn encode(self, out: &mut Vec<u8>) {
        // [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)): 5F 1F, length 4, 0 unused bits.
        out.extend_from_slice(&[0x5F, 0x1F, 0x04, 0x00]);
        out.extend_from_slice(&self.0.to_be_bytes()[1..]);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let h = r.take(4, "conformance header")?;
        if h != [0x5F, 0x1F, 0x04, 0x00] {
            return Err(r.error_at(
                at,
                format!("conformance header {h:02X?} (5F 1F 04 00 expected)"),
            ));
        }
        let b = r.take(3, "conformance bits")?;
        Ok(Self(u32::from_be_bytes([0, b[0], b[1], b[2]])))
    }
}

/// xDLMS InitiateRequest (IEC 62056-5-3 clause 9.5, tag 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateRequest {
    /// Dedicated key (ciphered associations only).
    pub dedicated_key: Option<Vec<u8>>,
    /// response-allowed (DEFAULT TRUE; encoded only when false).
    pub response_allowed: bool,
    /// proposed-quality-of-service.
    pub quality_of_service: Option<i8>,
    /// proposed-dlms-version-number (6).
    pub dlms_version: u8,
    /// proposed-conformance.
    pub conformance: Conformance,
    /// client-max-receive-pdu-size (0 = no limit stated).
    pub client_max_receive_pdu_size: u16,
}

impl InitiateRequest {
    /// Tag of InitiateRequest.
    pub const TAG: u8 = 0x01;

    /// Encode with its tag.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![Self::TAG];
        match &self.dedicated_key {
            Some(k) => {
                out.push(1);
                write_length(&mut out, k.len());
                out.extend_from_slice(k);
            }
            None => out.push(0),
        }
        if self.response_allowed {
            out.push(0);
        } else {
            out.extend_from_slice(&[1, 0]);
        }
        match self.quality_of_service {
            Some(q) => out.extend_from_slice(&[1, q as u8]),
            None => out.push(0),
        }
        out.push(self.dlms_version);
        self.conformance.encode(&mut out);
        out.extend_from_slice(&self.client_max_receive_pdu_size.to_be_bytes());
        out
    }

    /// Decode (tag included).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("InitiateRequest", bytes);
        let tag = r.u8("tag")?;
        if tag != Self::TAG {
            return Err(r.error_at(0, format!("tag 0x{tag:02X} (0x01 expected)")));
        }
        let dedicated_key = match r.u8("dedicated-key presence")? {
            0 => None,
            _ => Some(r.counted("dedicated-key")?.to_vec()),
        };
        let response_allowed = match r.u8("response-allowed presence")? {
            0 => true,
            _ => r.u8("response-allowed")? != 0,
        };
        let quality_of_service = match r.u8("quality-of-service presence")? {
            0 => None,
            _ => Some(r.u8("quality-of-service")? as i8),
        };
        let dlms_version = r.u8("dlms-version-number")?;
        let conformance = Conformance::decode(&mut r)?;
        let client_max_receive_pdu_size = r.u16("client-max-receive-pdu-size")?;
        r.finish("InitiateRequest")?;
        Ok(Self {
            dedicated_key,
            response_allowed,
            quality_of_service,
            dlms_version,
            conformance,
            client_max_receive_pdu_size,
        })
    }
}

/// xDLMS InitiateResponse (IEC 62056-5-3 clause 9.5, tag 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateResponse {
    /// negotiated-quality-of-service.
    pub quality_of_service: Option<i8>,
    /// negotiated-dlms-version-number.
    pub dlms_version: u8,
    /// negotiated-conformance.
    pub conformance: Conformance,
    /// server-max-receive-pdu-size.
    pub server_max_receive_pdu_size: u16,
    /// vaa-name (0x0007 for logical name referencing).
    pub vaa_name: u16,
}

impl InitiateResponse {
    /// Tag of InitiateResponse.
    pub const TAG: u8 = 0x08;

    /// Encode with its tag.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![Self::TAG];
        match self.quality_of_service {
            Some(q) => out.extend_from_slice(&[1, q as u8]),
            None => out.push(0),
        }
        out.push(self.dlms_version);
        self.conformance.encode(&mut out);
        out.extend_from_slice(&self.server_max_receive_pdu_size.to_be_bytes());
        out.extend_from_slice(&self.vaa_name.to_be_bytes());
        out
    }

    /// Decode (tag included).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("InitiateResponse", bytes);
        let tag = r.u8("tag")?;
        if tag != Self::TAG {
            return Err(r.error_at(0, format!("tag 0x{tag:02X} (0x08 expected)")));
        }
        let quality_of_service = match r.u8("quality-of-service presence")? {
            0 => None,
            _ => Some(r.u8("quality-of-service")? as i8),
        };
        let dlms_version = r.u8("dlms-version-number")?;
        let conformance = Conformance::decode(&mut r)?;
        let server_max_receive_pdu_size = r.u16("server-max-receive-pdu-size")?;
        let vaa_name = r.u16("vaa-name")?;
        r.finish("InitiateResponse")?;
        Ok(Self {
            quality_of_service,
            dlms_version,
            conformance,
            server_max_receive_pdu_size,
            vaa_name,
        })
    }
}

/// AARQ (IEC 62056-5-3 clause 8, [APPLICATION 0]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aarq {
    /// application-context-name [1].
    pub context: ApplicationContext,
    /// calling-AP-title [6] (the client system title in ciphered contexts).
    pub calling_ap_title: Option<Vec<u8>>,
    /// mechanism-name [11]; with anything but `None`, sender-acse-requirements [10] is
    /// sent with the authentication bit.
    pub mechanism: Mechanism,
    /// calling-authentication-value [12] (password or challenge CtoS).
    pub authentication_value: Option<Vec<u8>>,
    /// user-information [30]: an InitiateRequest (or its ciphered form) as bytes.
    pub user_information: Option<Vec<u8>>,
}

/// AARE (IEC 62056-5-3 clause 8, [APPLICATION 1]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aare {
    /// application-context-name [1].
    pub context: ApplicationContext,
    /// result [2]: 0 accepted, 1 rejected-permanent, 2 rejected-transient.
    pub result: u8,
    /// result-source-diagnostic [3]: source (1 = acse-service-user, 2 = acse-service-provider) and value.
    pub diagnostic: (u8, u8),
    /// responding-AP-title [4] (server system title).
    pub responding_ap_title: Option<Vec<u8>>,
    /// mechanism-name [9] (with responder-acse-requirements [8]).
    pub mechanism: Option<Mechanism>,
    /// responding-authentication-value [10] (challenge StoC).
    pub authentication_value: Option<Vec<u8>>,
    /// user-information [30]: InitiateResponse, its ciphered form or a ConfirmedServiceError.
    pub user_information: Option<Vec<u8>>,
    /// Encoding deviations tolerated while decoding (for the communication analysis).
    pub notes: Vec<String>,
}

fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    write_length(out, content.len());
    out.extend_from_slice(content);
}

fn oid(kind: u8, id: u8) -> Vec<u8> {
    let mut v = DLMS_UA.to_vec();
    v.extend_from_slice(&[kind, id]);
    v
}

fn parse_oid(r: &Reader<'_>, at: usize, bytes: &[u8], kind: u8) -> Result<u8, DecodeError> {
    if bytes.len() != 7 || bytes[..5] != DLMS_UA || bytes[5] != kind {
        return Err(r.error_at(
            at,
            format!("object identifier {bytes:02X?} is not a DLMS UA name of kind {kind}"),
        ));
    }
    Ok(bytes[6])
}

/// Read the TLVs inside an [APPLICATION n] APDU; returns (tag, offset of content, content).
type Elements<'a> = (Reader<'a>, Vec<(u8, usize, &'a [u8])>, Vec<String>);

fn elements<'a>(
    unit: &'static str,
    bytes: &'a [u8],
    app_tag: u8,
) -> Result<Elements<'a>, DecodeError> {
    let mut r = Reader::new(unit, bytes);
    let tag = r.u8("APDU tag")?;
    if tag != app_tag {
        return Err(r.error_at(0, format!("tag 0x{tag:02X} (0x{app_tag:02X} expected)")));
    }
    let content = r.counted("APDU length")?;
    let base = r.offset() - content.len();
    r.finish(unit)?;
    let mut inner = Reader::with_base(unit, content, base);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    while inner.remaining() > 0 {
        let at = inner.offset();
        let t = inner.u8("element tag")?;
        if t & 0x1F == 0x1F {
            return Err(inner.error_at(at, "multi-byte BER tag not used by DLMS"));
        }
        let len_at = inner.offset();
        let n = inner.length("element length")?;
        // Tolerated encoder fault: an authentication value whose outer length repeats the
        // inner one (`AA 10 80 10 <16 bytes>`, as a gurux-based simulator sends it). The
        // element is taken as the inner TLV and the deviation is noted.
        let rest = &bytes_after(&inner);
        let quirk = (t == 0xAA || t == 0xAC)
            && rest.len() >= n + 2
            && rest.first() == Some(&0x80)
            && rest.get(1).map(|&b| usize::from(b)) == Some(n);
        let take = if quirk {
            notes.push(format!("byte {len_at}: element 0x{t:02X} length {n} excludes its inner tag and length (should be {})", n + 2));
            n + 2
        } else {
            n
        };
        if take > inner.remaining() {
            return Err(inner.error_at(
                len_at,
                format!(
                    "element 0x{t:02X} length {n} but only {} bytes left",
                    inner.remaining()
                ),
            ));
        }
        let c = inner.take(take, "element")?;
        out.push((t, inner.offset() - c.len(), c));
    }
    Ok((inner, out, notes))
}

fn bytes_after<'a>(r: &Reader<'a>) -> &'a [u8] {
    let mut c = r.clone();
    let n = c.remaining();
    c.take(n, "rest").unwrap_or(&[])
}

/// Unwrap `[n] { inner-tag len value }` (an explicit tag around one primitive).
fn explicit<'a>(
    r: &Reader<'_>,
    at: usize,
    content: &'a [u8],
    inner: u8,
    what: &str,
) -> Result<&'a [u8], DecodeError> {
    let mut x = Reader::with_base("ACSE", content, at);
    let t = x.u8(what)?;
    if t != inner {
        return Err(r.error_at(
            at,
            format!("{what}: inner tag 0x{t:02X} (0x{inner:02X} expected)"),
        ));
    }
    let v = x.counted(what)?;
    x.finish(what)?;
    Ok(v)
}

fn integer_value(r: &Reader<'_>, at: usize, v: &[u8], what: &str) -> Result<u8, DecodeError> {
    match v {
        [x] => Ok(*x),
        _ => Err(r.error_at(at, format!("{what}: {} bytes (one expected)", v.len()))),
    }
}

impl Aarq {
    /// Tag [APPLICATION 0].
    pub const TAG: u8 = 0x60;

    /// Encode in the order of the ASN.1 definition.
    pub fn encode(&self) -> Vec<u8> {
        let mut c = Vec::new();
        let mut ctx = vec![0x06, 0x07];
        ctx.extend_from_slice(&oid(1, self.context.id()));
        tlv(&mut c, 0xA1, &ctx);
        if let Some(t) = &self.calling_ap_title {
            let mut v = vec![0x04];
            write_length(&mut v, t.len());
            v.extend_from_slice(t);
            tlv(&mut c, 0xA6, &v);
        }
        if self.mechanism != Mechanism::None {
            tlv(&mut c, 0x8A, &[0x07, 0x80]);
            tlv(&mut c, 0x8B, &oid(2, self.mechanism.id()));
        }
        if let Some(a) = &self.authentication_value {
            let mut v = vec![0x80];
            write_length(&mut v, a.len());
            v.extend_from_slice(a);
            tlv(&mut c, 0xAC, &v);
        }
        if let Some(u) = &self.user_information {
            let mut v = vec![0x04];
            write_length(&mut v, u.len());
            v.extend_from_slice(u);
            tlv(&mut c, 0xBE, &v);
        }
        let mut out = Vec::new();
        tlv(&mut out, Self::TAG, &c);
        out
    }

    /// Decode (used by tests and the communication analysis of recorded sessions).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (r, els, _notes) = elements("AARQ", bytes, Self::TAG)?;
        let mut a = Self {
            context: ApplicationContext::LogicalName,
            calling_ap_title: None,
            mechanism: Mechanism::None,
            authentication_value: None,
            user_information: None,
        };
        let mut have_context = false;
        for (t, at, v) in els {
            match t {
                0x80 => {}
                0xA1 => {
                    let o = explicit(&r, at, v, 0x06, "application-context-name")?;
                    a.context = ApplicationContext::from_id(parse_oid(&r, at, o, 1)?)
                        .ok_or_else(|| r.error_at(at, "unknown application context"))?;
                    have_context = true;
                }
                0xA6 => {
                    a.calling_ap_title =
                        Some(explicit(&r, at, v, 0x04, "calling-AP-title")?.to_vec())
                }
                0x8A => {}
                0x8B => {
                    a.mechanism = Mechanism::from_id(parse_oid(&r, at, v, 2)?)
                        .ok_or_else(|| r.error_at(at, "unknown mechanism name"))?;
                }
                0xAC => {
                    a.authentication_value =
                        Some(explicit(&r, at, v, 0x80, "calling-authentication-value")?.to_vec())
                }
                0xBE => {
                    a.user_information =
                        Some(explicit(&r, at, v, 0x04, "user-information")?.to_vec())
                }
                0xA2..=0xA5 | 0xA7..=0xA9 | 0xBD => {}
                _ => return Err(r.error_at(at - 2, format!("unknown AARQ element tag 0x{t:02X}"))),
            }
        }
        if !have_context {
            return Err(r.error_at(0, "no application-context-name"));
        }
        Ok(a)
    }
}

impl Aare {
    /// Tag [APPLICATION 1].
    pub const TAG: u8 = 0x61;

    /// Encode in the order of the ASN.1 definition.
    pub fn encode(&self) -> Vec<u8> {
        let mut c = Vec::new();
        let mut ctx = vec![0x06, 0x07];
        ctx.extend_from_slice(&oid(1, self.context.id()));
        tlv(&mut c, 0xA1, &ctx);
        tlv(&mut c, 0xA2, &[0x02, 0x01, self.result]);
        let diag_tag = if self.diagnostic.0 == 2 { 0xA2 } else { 0xA1 };
        tlv(
            &mut c,
            0xA3,
            &[diag_tag, 0x03, 0x02, 0x01, self.diagnostic.1],
        );
        if let Some(t) = &self.responding_ap_title {
            let mut v = vec![0x04];
            write_length(&mut v, t.len());
            v.extend_from_slice(t);
            tlv(&mut c, 0xA4, &v);
        }
        if let Some(m) = self.mechanism {
            tlv(&mut c, 0x88, &[0x07, 0x80]);
            tlv(&mut c, 0x89, &oid(2, m.id()));
        }
        if let Some(a) = &self.authentication_value {
            let mut v = vec![0x80];
            write_length(&mut v, a.len());
            v.extend_from_slice(a);
            tlv(&mut c, 0xAA, &v);
        }
        if let Some(u) = &self.user_information {
            let mut v = vec![0x04];
            write_length(&mut v, u.len());
            v.extend_from_slice(u);
            tlv(&mut c, 0xBE, &v);
        }
        let mut out = Vec::new();
        tlv(&mut out, Self::TAG, &c);
        out
    }

    /// Decode; every error names the byte of the AARE at fault.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (r, els, notes) = elements("AARE", bytes, Self::TAG)?;
        let mut a = Self {
            context: ApplicationContext::LogicalName,
            result: 255,
            diagnostic: (0, 0),
            responding_ap_title: None,
            mechanism: None,
            authentication_value: None,
            user_information: None,
            notes,
        };
        let (mut have_context, mut have_result, mut have_diag) = (false, false, false);
        for (t, at, v) in els {
            match t {
                0x80 => {}
                0xA1 => {
                    let o = explicit(&r, at, v, 0x06, "application-context-name")?;
                    a.context = ApplicationContext::from_id(parse_oid(&r, at, o, 1)?)
                        .ok_or_else(|| r.error_at(at, "unknown application context"))?;
                    have_context = true;
                }
                0xA2 => {
                    a.result =
                        integer_value(&r, at, explicit(&r, at, v, 0x02, "result")?, "result")?;
                    have_result = true;
                }
                0xA3 => {
                    let Some(&source) = v.first() else {
                        return Err(r.error_at(at, "empty result-source-diagnostic"));
                    };
                    if source != 0xA1 && source != 0xA2 {
                        return Err(r.error_at(
                            at,
                            format!("result-source-diagnostic choice 0x{source:02X}"),
                        ));
                    }
                    let inner = explicit(&r, at, v, source, "result-source-diagnostic")?;
                    let d = integer_value(
                        &r,
                        at + 2,
                        explicit(&r, at + 2, inner, 0x02, "diagnostic")?,
                        "diagnostic",
                    )?;
                    a.diagnostic = (source - 0xA0, d);
                    have_diag = true;
                }
                0xA4 => {
                    a.responding_ap_title =
                        Some(explicit(&r, at, v, 0x04, "responding-AP-title")?.to_vec())
                }
                0x88 => {}
                0x89 => {
                    a.mechanism = Some(
                        Mechanism::from_id(parse_oid(&r, at, v, 2)?)
                            .ok_or_else(|| r.error_at(at, "unknown mechanism name"))?,
                    );
                }
                0xAA => {
                    a.authentication_value =
                        Some(explicit(&r, at, v, 0x80, "responding-authentication-value")?.to_vec())
                }
                0xBE => {
                    a.user_information =
                        Some(explicit(&r, at, v, 0x04, "user-information")?.to_vec())
                }
                0xA5..=0xA7 | 0xBD => {}
                _ => {
                    return Err(r.error_at(
                        at.saturating_sub(2),
                        format!("unknown AARE element tag 0x{t:02X}"),
                    ))
                }
            }
        }
        if !have_context || !have_result || !have_diag {
            return Err(r.error_at(
                0,
                "AARE lacks application-context-name, result or result-source-diagnostic",
            ));
        }
        Ok(a)
    }

    /// The result as text.
    pub fn result_name(&self) -> String {
        match self.result {
            0 => "accepted".into(),
            1 => "rejected-permanent".into(),
            2 => "rejected-transient".into(),
            r => format!("result {r}"),
        }
    }

    /// The diagnostic as text (acse-service-user / acse-service-provider values).
    pub fn diagnostic_name(&self) -> String {
        let (source, d) = self.diagnostic;
        let name = if source == 1 {
            match d {
                0 => "null",
                1 => "no-reason-given",
                2 => "application-context-name-not-supported",
                3 => "calling-AP-title-not-recognized",
                4 => "calling-AP-invocation-identifier-not-recognized",
                5 => "calling-AE-qualifier-not-recognized",
                6 => "calling-AE-invocation-identifier-not-recognized",
                7 => "called-AP-title-not-recognized",
                8 => "called-AP-invocation-identifier-not-recognized",
                9 => "called-AE-qualifier-not-recognized",
                10 => "called-AE-invocation-identifier-not-recognized",
                11 => "authentication-mechanism-name-not-recognised",
                12 => "authentication-mechanism-name-required",
                13 => "authentication-failure",
                14 => "authentication-required",
                _ => "unknown",
            }
        } else {
            match d {
                0 => "null",
                1 => "no-reason-given",
                2 => "no-common-acse-version",
                _ => "unknown",
            }
        };
        format!(
            "{} {d} ({name})",
            if source == 1 {
                "acse-service-user"
            } else {
                "acse-service-provider"
            }
        )
    }
}

/// RLRQ (release request, [APPLICATION 2]) with reason and optional user-information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rlrq {
    /// reason [0]: 0 normal, 1 urgent, 30 user-defined.
    pub reason: Option<u8>,
    /// user-information [30].
    pub user_information: Option<Vec<u8>>,
}

/// RLRE (release response, [APPLICATION 3]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rlre {
    /// reason [0]: 0 normal, 1 not-finished, 30 user-defined.
    pub reason: Option<u8>,
    /// user-information [30].
    pub user_information: Option<Vec<u8>>,
}

fn release_encode(tag: u8, reason: Option<u8>, ui: &Option<Vec<u8>>) -> Vec<u8> {
    let mut c = Vec::new();
    if let Some(r) = reason {
        tlv(&mut c, 0x80, &[r]);
    }
    if let Some(u) = ui {
        let mut v = vec![0x04];
        write_length(&mut v, u.len());
        v.extend_from_slice(u);
        tlv(&mut c, 0xBE, &v);
    }
    let mut out = Vec::new();
    tlv(&mut out, tag, &c);
    out
}

fn release_decode(
    unit: &'static str,
    bytes: &[u8],
    tag: u8,
) -> Result<(Option<u8>, Option<Vec<u8>>), DecodeError> {
    let (r, els, _notes) = elements(unit, bytes, tag)?;
    let (mut reason, mut ui) = (None, None);
    for (t, at, v) in els {
        match t {
            0x80 => reason = Some(integer_value(&r, at, v, "reason")?),
            0xBE => ui = Some(explicit(&r, at, v, 0x04, "user-information")?.to_vec()),
            _ => {
                return Err(r.error_at(
                    at.saturating_sub(2),
                    format!("unknown {unit} element tag 0x{t:02X}"),
                ))
            }
        }
    }
    Ok((reason, ui))
}

impl Rlrq {
    /// Tag [APPLICATION 2].
    pub const TAG: u8 = 0x62;
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        release_encode(Self::TAG, self.reason, &self.user_information)
    }
    /// Decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (reason, user_information) = release_decode("RLRQ", bytes, Self::TAG)?;
        Ok(Self {
            reason,
            user_information,
        })
    }
}

impl Rlre {
    /// Tag [APPLICATION 3].
    pub const TAG: u8 = 0x63;
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        release_encode(Self::TAG, self.reason, &self.user_information)
    }
    /// Decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (reason, user_information) = release_decode("RLRE", bytes, Self::TAG)?;
        Ok(Self {
            reason,
            user_information,
        })
    }
}

/// Describe a ConfirmedServiceError (tag 0x0E, IEC 62056-5-3 clause 9.5) found in AARE
/// user-information: e.g. `0E 01 06 01` = initiateError, initiate: dlms-version-too-low.
pub fn describe_confirmed_service_error(bytes: &[u8]) -> String {
    let service = match bytes.get(1) {
        Some(1) => "initiateError",
        Some(2) => "getStatus",
        Some(3) => "getNameList",
        Some(5) => "read",
        Some(6) => "write",
        _ => "service",
    };
    let detail = match (bytes.get(2), bytes.get(3)) {
        (Some(6), Some(v)) => format!(
            "initiate: {}",
            match v {
                0 => "other",
                1 => "dlms-version-too-low",
                2 => "incompatible-conformance",
                3 => "pdu-size-too-short",
                4 => "refused-by-the-VDE-Handler",
                _ => "unknown",
            }
        ),
        (Some(c), Some(v)) => format!("error class {c} value {v}"),
        _ => "truncated".into(),
    };
    format!("confirmed-service-error {service}, {detail}")
}
