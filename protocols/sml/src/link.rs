//! The SML meter link: `sml://DEVICE?serial=9600/8N1` (optional `crc=x25|kermit|either`,
//! `quirks=NAME,NAME`, `timeout_ms`). An SML meter pushes a telegram every second or few;
//! the link listens until one telegram decodes (bounded by `timeout_ms`, default 10 s)
//! and returns its GetList entries.

use crate::{
    message::Quirk, obis::Obis, CrcMode, ListEntry, Reader, ReaderEvent, SmlValue, Telegram,
    TransportError,
};
use pqe_link::trace::{Decoded, Direction, FrameDecoder, Split};
use pqe_link::{
    Analysis, AnalysisBuilder, LineSettings, LinkError, MeterLink, ObisCode, OpenRequest,
    ProtocolAnalyser, Reading, Result, Selector, Trace, Transport, Value,
};
use std::time::{Duration, Instant};

/// Registers the `sml` link and its trace analyser.
pub fn register(reg: &mut pqe_link::Registry) {
    reg.add_link("sml", open);
    reg.add_analyser("sml", Box::new(SmlAnalyser));
}

/// Parse the `crc` parameter.
pub fn parse_crc(s: &str) -> Result<CrcMode> {
    match s {
        "x25" => Ok(CrcMode::X25),
        "kermit" => Ok(CrcMode::Kermit),
        "either" => Ok(CrcMode::Either),
        _ => Err(LinkError::Config(format!(
            "sml: crc={s} (expected x25, kermit or either)"
        ))),
    }
}

/// Parse the `quirks` parameter (comma-separated quirk names).
pub fn parse_quirks(s: &str) -> Result<Vec<Quirk>> {
    s.split(',')
        .filter(|q| !q.is_empty())
        .map(|q| {
            Quirk::from_name(q).ok_or_else(|| {
                LinkError::Config(format!(
                    "sml: unknown quirk '{q}' (known: unsigned-power-is-signed, dzg-int16-is-unsigned, int16-missing-sign-extension)"
                ))
            })
        })
        .collect()
}

fn open(req: &OpenRequest<'_>) -> Result<Box<dyn MeterLink>> {
    let uri = req.uri;
    uri.check_params(&["crc", "quirks"])?;
    let mode = uri.param("crc").map_or(Ok(CrcMode::Either), parse_crc)?;
    let quirks = uri.param("quirks").map_or(Ok(Vec::new()), parse_quirks)?;
    let opts = uri.options(Duration::from_secs(10))?;
    let line: LineSettings = "9600/8N1".parse().expect("valid line settings");
    let mut transport = req.transport(line, Duration::from_secs(5))?;
    transport.set_frame_decoder(Box::new(SmlTraceDecoder));
    Ok(Box::new(SmlLink::new(
        transport,
        mode,
        quirks,
        opts.timeout,
    )))
}

/// A session with an SML push meter.
pub struct SmlLink {
    transport: Box<dyn Transport>,
    mode: CrcMode,
    quirks: Vec<Quirk>,
    timeout: Duration,
}

impl SmlLink {
    pub fn new(
        transport: Box<dyn Transport>,
        mode: CrcMode,
        quirks: Vec<Quirk>,
        timeout: Duration,
    ) -> Self {
        Self {
            transport,
            mode,
            quirks,
            timeout,
        }
    }

    /// Listen until one telegram with a GetList response decodes. Transport errors on
    /// the way (CRC, garbage before the first start sequence) are skipped but counted in
    /// the timeout error if no good telegram comes.
    pub fn next_telegram(&mut self) -> Result<Telegram> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut reader = Reader::new(self.mode, self.quirks.clone());
        let mut errors: Vec<TransportError> = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            while let Some(ev) = reader.next_event() {
                match ev {
                    ReaderEvent::Telegram(t) if t.messages.is_ok() && !t.entries().is_empty() => {
                        return Ok(t)
                    }
                    ReaderEvent::Telegram(t) => {
                        if let Err(e) = &t.messages {
                            return Err(LinkError::Frame {
                                frame: format!("SML telegram at stream byte {}", t.frame.offset),
                                message: e.to_string(),
                            });
                        }
                    }
                    // Noise before the first start sequence is normal when joining a
                    // running push stream; other errors are kept for the report.
                    ReaderEvent::Error(TransportError::Garbage { .. }) if errors.is_empty() => {}
                    ReaderEvent::Error(e) => errors.push(e),
                }
            }
            match self.transport.recv(&mut buf, deadline) {
                Ok(n) => reader.push(&buf[..n]),
                Err(LinkError::Timeout { .. }) => {
                    let what = if errors.is_empty() {
                        format!("an SML telegram from {}", self.transport.describe())
                    } else {
                        format!(
                            "an SML telegram from {} ({} bad frames: {})",
                            self.transport.describe(),
                            errors.len(),
                            errors[0]
                        )
                    };
                    return Err(LinkError::Timeout {
                        what,
                        waited: start.elapsed(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn to_obis_code(o: &Obis) -> ObisCode {
    ObisCode(o.0)
}

/// The value of one list entry.
pub fn entry_value(e: &ListEntry) -> Value {
    let value = match (e.scaled(), &e.value) {
        (Some(x), _) => Reading::Number(x),
        (None, Some(SmlValue::Bytes(b))) => Reading::Text(
            if !b.is_empty() && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                String::from_utf8_lossy(b).into_owned()
            } else {
                crate::hex(b)
            },
        ),
        (None, Some(SmlValue::Bool(b))) => Reading::Text(b.to_string()),
        (None, Some(SmlValue::Time(t))) => Reading::Text(format!("{t:?}")),
        (None, _) => Reading::Text(String::new()),
    };
    Value {
        id: e.obis.to_string(),
        value,
        unit: e.unit_symbol().to_string(),
    }
}

impl MeterLink for SmlLink {
    fn read_all(&mut self) -> Result<Vec<Value>> {
        let t = self.next_telegram()?;
        Ok(t.entries().into_iter().map(entry_value).collect())
    }

    fn read(&mut self, selectors: &[Selector]) -> Result<Vec<Value>> {
        let t = self.next_telegram()?;
        let entries = t.entries();
        selectors
            .iter()
            .map(|s| {
                let Selector::Obis(code) = s else {
                    return Err(LinkError::NotImplemented(format!(
                        "selector {s} on SML: values are named by OBIS codes"
                    )));
                };
                entries
                    .iter()
                    .find(|e| to_obis_code(&e.obis) == *code)
                    .map(|e| entry_value(e))
                    .ok_or_else(|| {
                        LinkError::Config(format!(
                            "OBIS {s} is not in the meter's telegram (it sends: {})",
                            entries
                                .iter()
                                .map(|e| e.obis.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })
            })
            .collect()
    }
}

/// Cuts SML transport frames out of received bytes for traces.
pub struct SmlTraceDecoder;

impl FrameDecoder for SmlTraceDecoder {
    fn split(&self, bytes: &[u8]) -> Split {
        let mut d = crate::TransportDecoder::new(CrcMode::Either);
        d.push(bytes);
        match d.next_event() {
            None => Split::NeedMore,
            Some(crate::TransportEvent::Frame(f)) => Split::Frame(f.raw.len()),
            Some(crate::TransportEvent::Error(e)) => match e {
                TransportError::Garbage { len, .. } => Split::Skip(len as usize),
                TransportError::Crc { offset, .. } => Split::Frame(offset as usize + 2),
                TransportError::Padding { offset, .. } => Split::Frame(offset as usize + 3),
                TransportError::Alignment { len, .. } => Split::Frame(len as usize),
                TransportError::UnknownEscape { offset, .. } => Split::Frame(offset as usize + 8),
                TransportError::Restarted { len, .. } | TransportError::Incomplete { len, .. } => {
                    Split::Frame(len as usize)
                }
            },
        }
    }

    fn decode(&self, _dir: Direction, frame: &[u8]) -> Decoded {
        let events = crate::decode_all(frame, CrcMode::Either, &[]);
        let text = events
            .iter()
            .map(|e| match e {
                ReaderEvent::Telegram(t) => format!(
                    "SML telegram ({}): {}",
                    t.frame.crc.name(),
                    t.entries()
                        .iter()
                        .map(|e| {
                            let v = entry_value(e);
                            format!("{}={} {}", v.id, v.value, v.unit)
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ReaderEvent::Error(e) => format!("invalid: {e}"),
            })
            .collect::<Vec<_>>()
            .join("; ");
        Decoded::text(text)
    }
}

/// The communication analyser of `sml` traces: transport CRC, padding and alignment,
/// escape sequences, message CRCs and the open/list/close sequence of each telegram.
pub struct SmlAnalyser;

impl ProtocolAnalyser for SmlAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        for (line, r) in &trace.records {
            if r.dir == "tx" {
                b.deviation(*line, "SML v1.04 (push)", "PQE sent bytes to a push meter");
                continue;
            }
            if r.dir != "rx" {
                continue;
            }
            let Some(bytes) = r.plain_bytes() else {
                b.note(*line, "trace", "masked bytes: not checked");
                continue;
            };
            for ev in crate::decode_all(&bytes, CrcMode::Either, &[]) {
                match ev {
                    ReaderEvent::Error(e) => {
                        b.deviation(*line, "SML v1.04 chapter 8 (transport v1)", e.to_string())
                    }
                    ReaderEvent::Telegram(t) => {
                        for f in t.findings() {
                            b.deviation(*line, "SML v1.04 chapter 5", f);
                        }
                    }
                }
            }
        }
        b.finish()
    }
}
