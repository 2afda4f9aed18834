//! SML (Smart Message Language, BSI TR-03109-1 Anlage IV, v1.04), sans-IO: the transport
//! v1 framing ([`transport`]), the type-length encoding ([`tl`]), the messages a push meter
//! sends ([`message`]: SML_PublicOpen.Res, SML_GetList.Res, SML_PublicClose.Res), OBIS
//! codes ([`obis`]) and DLMS unit symbols ([`units`]). Bytes in, telegrams and values
//! out; no serial port here. The `sml://` meter link and its trace analyser are the
//! module `link` (feature `link`, on by default) over pqe-link transports.

pub mod build;
#[cfg(feature = "link")]
pub mod link;
pub mod message;
pub mod obis;
pub mod tl;
pub mod transport;
pub mod units;

pub use message::{Body, ListEntry, Message, Quirk, SmlValue};
pub use obis::Obis;
pub use transport::{CrcKind, CrcMode, TransportDecoder, TransportError, TransportEvent};

/// One decoded transport frame: its messages, or why they could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Telegram {
    pub frame: transport::TransportFrame,
    pub messages: Result<Vec<Message>, message::MessageError>,
}

impl Telegram {
    /// Every list entry of every GetList response.
    pub fn entries(&self) -> Vec<&ListEntry> {
        let Ok(msgs) = &self.messages else {
            return Vec::new();
        };
        msgs.iter()
            .filter_map(|m| match &m.body {
                Body::GetListResponse(r) => Some(r.entries.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Findings about this telegram (message CRCs, the message sequence): empty when
    /// everything is as SML v1.04 wants it.
    pub fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.messages {
            Err(e) => out.push(format!(
                "frame at byte {}: messages not decodable: {e}",
                self.frame.offset
            )),
            Ok(msgs) => {
                for m in msgs {
                    if !m.crc_ok {
                        out.push(format!(
                            "frame at byte {}, message at byte {}: crc16 {:04X} does not match (SML v1.04 5.1.2)",
                            self.frame.offset, m.offset, m.crc_sent
                        ));
                    }
                }
                let first_open = matches!(
                    msgs.first().map(|m| &m.body),
                    Some(Body::OpenResponse { .. })
                );
                let last_close = matches!(
                    msgs.last().map(|m| &m.body),
                    Some(Body::CloseResponse { .. })
                );
                if !first_open || !last_close {
                    out.push(format!(
                        "frame at byte {}: a file should open with SML_PublicOpen.Res and end with SML_PublicClose.Res (SML v1.04 5.2)",
                        self.frame.offset
                    ));
                }
            }
        }
        out
    }
}

/// Transport and message decoding together (sans-IO).
#[derive(Debug)]
pub struct Reader {
    transport: TransportDecoder,
    quirks: Vec<Quirk>,
}

/// One output of the reader.
#[derive(Debug, Clone, PartialEq)]
pub enum ReaderEvent {
    Telegram(Telegram),
    Error(TransportError),
}

impl Reader {
    pub fn new(mode: CrcMode, quirks: Vec<Quirk>) -> Self {
        Self {
            transport: TransportDecoder::new(mode),
            quirks,
        }
    }
    pub fn push(&mut self, bytes: &[u8]) {
        self.transport.push(bytes);
    }
    fn wrap(&self, e: TransportEvent) -> ReaderEvent {
        match e {
            TransportEvent::Frame(frame) => {
                let messages = message::decode_messages(&frame.messages, &self.quirks);
                ReaderEvent::Telegram(Telegram { frame, messages })
            }
            TransportEvent::Error(e) => ReaderEvent::Error(e),
        }
    }
    pub fn next_event(&mut self) -> Option<ReaderEvent> {
        let e = self.transport.next_event()?;
        Some(self.wrap(e))
    }
    /// At the end of the stream.
    pub fn finish(&mut self) -> Option<ReaderEvent> {
        let e = self.transport.finish()?;
        Some(self.wrap(e))
    }
}

/// Decode a whole byte stream (e.g. a capture file) into events.
pub fn decode_all(bytes: &[u8], mode: CrcMode, quirks: &[Quirk]) -> Vec<ReaderEvent> {
    let mut r = Reader::new(mode, quirks.to_vec());
    r.push(bytes);
    let mut out = Vec::new();
    while let Some(e) = r.next_event() {
        out.push(e);
    }
    while let Some(e) = r.finish() {
        out.push(e);
    }
    out
}

/// A list entry as JSON (`id` = OBIS, `value` scaled or string, `unit` symbol, and the raw
/// parts), the form the `sml_decode` example prints.
pub fn entry_json(e: &ListEntry) -> serde_json::Value {
    use serde_json::json;
    let raw = match &e.value {
        None => json!(null),
        Some(SmlValue::Bool(b)) => json!(b),
        Some(SmlValue::Bytes(b)) => json!(hex(b)),
        Some(SmlValue::Integer(v, _)) => json!(v),
        Some(SmlValue::Unsigned(v, _)) => json!(v),
        Some(SmlValue::Time(t)) => json!(format!("{t:?}")),
    };
    let value = match (e.scaled(), &e.value) {
        (Some(v), _) => json!(v),
        (None, Some(SmlValue::Bytes(b))) => json!(hex(b)),
        (None, _) => raw.clone(),
    };
    json!({
        "id": e.obis.to_string(),
        "obis": hex(&e.obis.0),
        "value": value,
        "unit": e.unit_symbol(),
        "unit_code": e.unit,
        "scaler": e.scaler,
        "raw": raw,
        "status": e.status,
        "quirks": e.quirks_applied.iter().map(|q| q.name()).collect::<Vec<_>>(),
    })
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
