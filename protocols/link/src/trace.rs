//! Traces of meter exchanges: JSON Lines, one header line then one record per
//! frame or event, written by a [`Recorder`] that wraps any [`Transport`].
//!
//! Header: `{"trace":"pqe-meter-trace","version":1,"scheme":…,"uri":…,"start":ISO-8601,"line":"9600/8E1"}`.
//! Record: `{"t":s,"t_end":s,"dir":"tx"|"rx"|"event","hex":"01 03 …","decoded":…,"max_gap_ms":…,"line":…}`;
//! `t` and `t_end` are seconds since the trace start (monotonic clock) at which
//! the first and last byte of the frame were sent or handed over by the
//! operating system; `max_gap_ms` is the longest silence inside a received frame
//! (resolution: the OS's read granularity). Bytes a protocol marks secret are
//! written `**` and never reach the file.

use crate::error::{LinkError, Result};
use crate::serial::LineSettings;
use crate::transport::Transport;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Direction of a frame, seen from PQE (the client/master).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From PQE to the meter.
    Tx,
    /// From the meter to PQE.
    Rx,
}

/// How a protocol cuts received bytes into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// A complete frame of this many bytes starts the buffer.
    Frame(usize),
    /// More bytes are needed.
    NeedMore,
    /// This many leading bytes belong to no frame (noise before a start byte).
    Skip(usize),
}

/// A frame's decoding for a trace: readable text, and the byte ranges that are
/// secret (a password field) and must be masked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Human-readable decoding (must not contain secrets).
    pub text: String,
    /// Byte ranges of the frame to mask.
    pub redact: Vec<Range<usize>>,
}

impl Decoded {
    /// Text only, nothing to mask.
    pub fn text(text: impl Into<String>) -> Self {
        Decoded {
            text: text.into(),
            redact: Vec::new(),
        }
    }
}

/// A protocol's frame splitter and decoder for traces.
pub trait FrameDecoder: Send {
    /// Where the first frame in `bytes` (received so far) ends.
    fn split(&self, bytes: &[u8]) -> Split;
    /// Decodes one frame (or an incomplete remainder) in direction `dir`.
    fn decode(&self, dir: Direction, frame: &[u8]) -> Decoded;
}

/// The decoder of a trace that knows no protocol: every run of received bytes
/// up to the next send is one record.
pub struct RawDecoder;

impl FrameDecoder for RawDecoder {
    fn split(&self, _bytes: &[u8]) -> Split {
        Split::NeedMore
    }
    fn decode(&self, _dir: Direction, _frame: &[u8]) -> Decoded {
        Decoded::default()
    }
}

/// The first line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// Always "pqe-meter-trace".
    pub trace: String,
    /// Format version (1).
    pub version: u32,
    /// The URI scheme, which names the protocol and so the analyser.
    pub scheme: String,
    /// The meter URI (it holds secret references only, never secrets).
    pub uri: String,
    /// Wall-clock start, ISO 8601 UTC.
    pub start: String,
    /// Serial line settings at the start, for serial links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

/// One frame or event of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Seconds since the trace start of the first byte (or of the event).
    pub t: f64,
    /// Seconds since the trace start of the last byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_end: Option<f64>,
    /// "tx", "rx" or "event".
    pub dir: String,
    /// The bytes, two hex digits each separated by spaces, `**` where masked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hex: String,
    /// The protocol's decoding, or the event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decoded: String,
    /// Longest silence inside the frame, milliseconds (received frames).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gap_ms: Option<f64>,
    /// New serial line settings (line events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

impl TraceRecord {
    /// The bytes, `None` where masked. An invalid hex field is an error naming it.
    pub fn bytes(&self) -> std::result::Result<Vec<Option<u8>>, String> {
        self.hex
            .split_ascii_whitespace()
            .map(|h| {
                if h == "**" {
                    Ok(None)
                } else {
                    u8::from_str_radix(h, 16)
                        .map(Some)
                        .map_err(|_| format!("'{h}' is not a hex byte"))
                }
            })
            .collect()
    }

    /// The bytes when none is masked.
    pub fn plain_bytes(&self) -> Option<Vec<u8>> {
        self.bytes().ok()?.into_iter().collect()
    }
}

/// Hex of `bytes` with `redact` ranges written `**`.
pub fn hex_masked(bytes: &[u8], redact: &[Range<usize>]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        if redact.iter().any(|r| r.contains(&i)) {
            s.push_str("**");
        } else {
            s.push_str(&format!("{b:02x}"));
        }
    }
    s
}

struct SinkState {
    out: Box<dyn Write + Send>,
    start: Instant,
    error: Option<std::io::Error>,
}

/// Where trace records go; cheap to clone, shared by the recorder and its owner.
#[derive(Clone)]
pub struct TraceSink(Arc<Mutex<SinkState>>);

impl TraceSink {
    /// Starts a trace on `out` by writing `header` (its `start` is set now).
    pub fn new(
        mut out: Box<dyn Write + Send>,
        scheme: &str,
        uri: &str,
        line: Option<LineSettings>,
    ) -> Result<Self> {
        let header = TraceHeader {
            trace: "pqe-meter-trace".into(),
            version: 1,
            scheme: scheme.into(),
            uri: crate::uri::redact_uri(uri),
            start: iso_now(),
            line: line.map(|l| l.to_string()),
        };
        let text = serde_json::to_string(&header).expect("header serialises");
        writeln!(out, "{text}").map_err(|e| LinkError::io("trace", e))?;
        Ok(TraceSink(Arc::new(Mutex::new(SinkState {
            out,
            start: Instant::now(),
            error: None,
        }))))
    }

    /// Starts a trace in the file `path`.
    pub fn create(
        path: &Path,
        scheme: &str,
        uri: &str,
        line: Option<LineSettings>,
    ) -> Result<Self> {
        let f = std::fs::File::create(path)
            .map_err(|e| LinkError::io(path.display().to_string(), e))?;
        Self::new(Box::new(std::io::BufWriter::new(f)), scheme, uri, line)
    }

    /// Seconds since the trace started.
    pub fn now(&self) -> f64 {
        self.0
            .lock()
            .map(|s| s.start.elapsed().as_secs_f64())
            .unwrap_or(0.0)
    }

    /// Appends a record.
    pub fn write(&self, rec: &TraceRecord) {
        let text = serde_json::to_string(rec).expect("record serialises");
        if let Ok(mut s) = self.0.lock() {
            if s.error.is_none() {
                if let Err(e) = writeln!(s.out, "{text}") {
                    s.error = Some(e);
                }
            }
        }
    }

    /// Flushes the file and reports the first write error, if any.
    pub fn finish(&self) -> Result<()> {
        let mut s = self
            .0
            .lock()
            .map_err(|_| LinkError::io("trace", std::io::Error::other("lock poisoned")))?;
        if let Some(e) = s.error.take() {
            return Err(LinkError::io("trace", e));
        }
        s.out.flush().map_err(|e| LinkError::io("trace", e))
    }
}

fn iso_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A transport wrapper that writes every frame sent and received to a trace.
pub struct Recorder<T: Transport> {
    inner: T,
    sink: TraceSink,
    decoder: Box<dyn FrameDecoder>,
    pending: Vec<u8>,
    times: Vec<f64>,
}

impl<T: Transport> Recorder<T> {
    /// Records `inner`'s traffic into `sink`.
    pub fn new(inner: T, sink: TraceSink) -> Self {
        Recorder {
            inner,
            sink,
            decoder: Box::new(RawDecoder),
            pending: Vec::new(),
            times: Vec::new(),
        }
    }

    fn emit_rx(&mut self, n: usize, complete: bool) {
        let frame: Vec<u8> = self.pending.drain(..n).collect();
        let times: Vec<f64> = self.times.drain(..n).collect();
        let d = self.decoder.decode(Direction::Rx, &frame);
        let max_gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0f64, f64::max);
        let text = if complete || d.text.is_empty() {
            d.text
        } else {
            format!("incomplete frame: {}", d.text)
        };
        self.sink.write(&TraceRecord {
            t: times[0],
            t_end: Some(times[n - 1]),
            dir: "rx".into(),
            hex: hex_masked(&frame, &d.redact),
            decoded: text,
            max_gap_ms: Some((max_gap * 1e6).round() / 1e3),
            line: None,
        });
    }

    fn split_pending(&mut self) {
        while !self.pending.is_empty() {
            match self.decoder.split(&self.pending) {
                Split::Frame(n) if n > 0 && n <= self.pending.len() => self.emit_rx(n, true),
                Split::Skip(n) if n > 0 && n <= self.pending.len() => {
                    let frame: Vec<u8> = self.pending.drain(..n).collect();
                    let times: Vec<f64> = self.times.drain(..n).collect();
                    self.sink.write(&TraceRecord {
                        t: times[0],
                        t_end: Some(times[n - 1]),
                        dir: "rx".into(),
                        hex: hex_masked(&frame, &[]),
                        decoded: "bytes outside any frame".into(),
                        max_gap_ms: None,
                        line: None,
                    });
                }
                _ => break,
            }
        }
    }

    /// Writes out bytes received but not yet cut into a frame.
    pub fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.emit_rx(n, false);
        }
    }
}

impl<T: Transport> Drop for Recorder<T> {
    fn drop(&mut self) {
        self.flush_pending();
    }
}

impl<T: Transport> Transport for Recorder<T> {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.flush_pending();
        let t = self.sink.now();
        let r = self.inner.send(bytes);
        let d = self.decoder.decode(Direction::Tx, bytes);
        self.sink.write(&TraceRecord {
            t,
            t_end: Some(self.sink.now()),
            dir: "tx".into(),
            hex: hex_masked(bytes, &d.redact),
            decoded: d.text,
            max_gap_ms: None,
            line: None,
        });
        r
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        let n = self.inner.recv(buf, deadline)?;
        let t = self.sink.now();
        self.pending.extend_from_slice(&buf[..n]);
        self.times.extend(std::iter::repeat_n(t, n));
        self.split_pending();
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<()> {
        self.inner.discard_input()
    }

    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        self.flush_pending();
        self.inner.set_line(settings)?;
        self.sink.write(&TraceRecord {
            t: self.sink.now(),
            t_end: None,
            dir: "event".into(),
            hex: String::new(),
            decoded: format!("line settings {settings}"),
            max_gap_ms: None,
            line: Some(settings.to_string()),
        });
        Ok(())
    }

    fn line(&self) -> Option<LineSettings> {
        self.inner.line()
    }

    fn set_frame_decoder(&mut self, decoder: Box<dyn FrameDecoder>) {
        self.flush_pending();
        self.decoder = decoder;
    }

    fn note(&mut self, event: &str) {
        self.flush_pending();
        self.sink.write(&TraceRecord {
            t: self.sink.now(),
            t_end: None,
            dir: "event".into(),
            hex: String::new(),
            decoded: event.to_string(),
            max_gap_ms: None,
            line: None,
        });
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// A trace read back: header and records with their 1-based line numbers.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The header (line 1).
    pub header: TraceHeader,
    /// Records with the file line each came from.
    pub records: Vec<(usize, TraceRecord)>,
}

impl Trace {
    /// Reads a trace file; an unreadable line is an error naming it.
    pub fn read(path: &Path) -> Result<Trace> {
        let f =
            std::fs::File::open(path).map_err(|e| LinkError::io(path.display().to_string(), e))?;
        Self::from_reader(std::io::BufReader::new(f), &path.display().to_string())
    }

    /// Reads a trace from `r`; `name` is used in errors.
    pub fn from_reader(r: impl BufRead, name: &str) -> Result<Trace> {
        let mut header = None;
        let mut records = Vec::new();
        for (i, line) in r.lines().enumerate() {
            let line = line.map_err(|e| LinkError::io(format!("{name} line {}", i + 1), e))?;
            if line.trim().is_empty() {
                continue;
            }
            if header.is_none() {
                let h: TraceHeader = serde_json::from_str(&line).map_err(|e| {
                    LinkError::Config(format!(
                        "{name} line {}: not a pqe-meter-trace header ({e})",
                        i + 1
                    ))
                })?;
                if h.trace != "pqe-meter-trace" || h.version != 1 {
                    return Err(LinkError::Config(format!(
                        "{name} line {}: trace '{}' version {} (expected pqe-meter-trace version 1)",
                        i + 1,
                        h.trace,
                        h.version
                    )));
                }
                header = Some(h);
                continue;
            }
            let rec: TraceRecord = serde_json::from_str(&line)
                .map_err(|e| LinkError::Config(format!("{name} line {}: {e}", i + 1)))?;
            if !matches!(rec.dir.as_str(), "tx" | "rx" | "event") {
                return Err(LinkError::Config(format!(
                    "{name} line {}: dir '{}' (expected tx, rx or event)",
                    i + 1,
                    rec.dir
                )));
            }
            rec.bytes()
                .map_err(|e| LinkError::Config(format!("{name} line {}: hex: {e}", i + 1)))?;
            records.push((i + 1, rec));
        }
        let header = header
            .ok_or_else(|| LinkError::Config(format!("{name}: empty trace (no header line)")))?;
        Ok(Trace { header, records })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::memory_pair;
    use std::time::Duration;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Frames of the form LEN BYTES…, with byte 1 secret.
    struct LenDecoder;
    impl FrameDecoder for LenDecoder {
        fn split(&self, b: &[u8]) -> Split {
            match b.first() {
                Some(0xff) => Split::Skip(1),
                Some(&n) if b.len() > n as usize => Split::Frame(n as usize + 1),
                _ => Split::NeedMore,
            }
        }
        fn decode(&self, _dir: Direction, f: &[u8]) -> Decoded {
            Decoded {
                text: format!("{} bytes", f.len()),
                redact: std::iter::once(1..2).collect(),
            }
        }
    }

    #[test]
    fn recorder_cuts_frames_masks_secrets_and_reads_back() {
        let buf = Buf::default();
        let sink = TraceSink::new(
            Box::new(buf.clone()),
            "test",
            "modbus-tcp://h:1?secret=env:X",
            None,
        )
        .unwrap();
        let (a, mut peer) = memory_pair();
        let mut rec = Recorder::new(a, sink.clone());
        rec.set_frame_decoder(Box::new(LenDecoder));
        rec.send(&[2, 0x42, 7]).unwrap();
        peer.send(&[0xff, 3, 0x99, 1]).unwrap();
        let mut b = [0u8; 16];
        let dl = Instant::now() + Duration::from_millis(100);
        rec.recv(&mut b, dl).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        peer.send(&[2, 1, 0]).unwrap();
        rec.recv(&mut b, dl).unwrap();
        rec.note("hand-over");
        drop(rec);
        sink.finish().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let tr = Trace::from_reader(text.as_bytes(), "mem").unwrap();
        assert!(
            tr.records
                .iter()
                .all(|(_, r)| !r.hex.contains("42") && !r.hex.contains("99")),
            "secret byte leaked: {text}"
        );
        assert_eq!(tr.header.scheme, "test");
        let dirs: Vec<(&str, &str)> = tr
            .records
            .iter()
            .map(|(_, r)| (r.dir.as_str(), r.hex.as_str()))
            .collect();
        assert_eq!(
            dirs,
            [
                ("tx", "02 ** 07"),
                ("rx", "ff"),
                ("rx", "03 ** 01 02"),
                ("rx", "01 **"),
                ("event", "")
            ]
        );
        let (line, r) = &tr.records[2];
        assert_eq!(*line, 4);
        assert!(r.max_gap_ms.unwrap() >= 4.0, "{r:?}");
        assert_eq!(r.bytes().unwrap()[1], None);
    }

    #[test]
    fn bad_trace_lines_are_named() {
        let e = Trace::from_reader("{\"trace\":\"pqe-meter-trace\",\"version\":1,\"scheme\":\"x\",\"uri\":\"\",\"start\":\"\"}\n{\"t\":0,\"dir\":\"up\"}\n".as_bytes(), "f.jsonl").unwrap_err().to_string();
        assert!(e.contains("f.jsonl line 2"), "{e}");
        assert!(iso_now().ends_with('Z'));
    }
}
