//! The M-Bus meter link over a pqe-link [`Transport`]: `mbus://DEVICE?serial=2400/8E1&address=5`,
//! `mbus+tcp://HOST:PORT?address=5`, secondary addressing `address=id:12345678`.
//!
//! The link drives the sans-IO state machines of [`crate::master`] and [`crate::scan`]:
//! it sends what they ask, reads the answer with a deadline from [`crate::timing`] (the
//! response window plus the answer's transmission time, or the URI's `timeout_ms` when
//! longer, e.g. behind a TCP gateway), and hands back what came.

use crate::analyse::{self, Recorded};
use crate::data::{DataRecord, RawValue, Record, UserData};
use crate::frame::{Frame, FrameDecoder as StreamDecoder};
use crate::master::{Addressing, Expect, MasterConfig, ReadoutMachine, Reply, Step};
use crate::scan::{Found, PrimaryScan, ScanStep, SecondaryScan};
use crate::{timing, SecondaryAddress};
use pqe_link::trace::{Decoded, Direction, FrameDecoder, Split};
use pqe_link::{
    Analysis, AnalysisBuilder, LineSettings, LinkError, MeterLink, OpenRequest, ProtocolAnalyser,
    Reading, Result, Selector, Trace, Transport, Value,
};
use std::time::{Duration, Instant};

/// Registers `mbus` and `mbus+tcp` links and their trace analysers.
pub fn register(reg: &mut pqe_link::Registry) {
    reg.add_link("mbus", open);
    reg.add_link("mbus+tcp", open);
    reg.add_analyser("mbus", Box::new(MbusAnalyser));
    reg.add_analyser("mbus+tcp", Box::new(MbusAnalyser));
}

/// Default line: 2400 Bd 8E1 (EN 13757-2 physical layer; 300 and 9600 Bd also exist).
pub fn default_line() -> LineSettings {
    "2400/8E1".parse().expect("valid line settings")
}

/// Parse the `address` parameter: a primary address 0–254 or `id:` and 8 digits (F =
/// wildcard).
pub fn parse_address(s: &str) -> Result<Addressing> {
    if let Some(id) = s.strip_prefix("id:") {
        return SecondaryAddress::parse_id(id)
            .map(Addressing::Secondary)
            .ok_or_else(|| {
                LinkError::Config(format!(
                    "M-Bus address '{s}': id: needs 8 digits 0-9 (F as wildcard)"
                ))
            });
    }
    match s.parse::<u8>() {
        Ok(a) if a <= 250 || a == 254 => Ok(Addressing::Primary(a)),
        _ => Err(LinkError::Config(format!(
            "M-Bus address '{s}': a primary address 0-250 (254 = the only slave) or id:NNNNNNNN"
        ))),
    }
}

fn open(req: &OpenRequest<'_>) -> Result<Box<dyn MeterLink>> {
    let uri = req.uri;
    uri.check_params(&["address"])?;
    let addressing = match uri.param("address") {
        Some(a) => Some(parse_address(a)?),
        None => None,
    };
    let line = uri.line(default_line())?;
    let opts = uri.options(Duration::from_millis(1000))?;
    let mut transport = req.transport(default_line(), Duration::from_secs(5))?;
    transport.set_frame_decoder(Box::new(MbusTraceDecoder));
    Ok(Box::new(MbusLink {
        transport,
        addressing,
        baud: line.baud,
        timeout: opts.timeout,
        config: MasterConfig {
            retries: opts.retries.min(10) as u8,
            ..MasterConfig::default()
        },
    }))
}

/// An M-Bus master session.
pub struct MbusLink {
    transport: Box<dyn Transport>,
    addressing: Option<Addressing>,
    baud: u32,
    timeout: Duration,
    config: MasterConfig,
}

impl MbusLink {
    /// A link over any transport (tests, in-memory pairs).
    pub fn new(
        transport: Box<dyn Transport>,
        addressing: Option<Addressing>,
        baud: u32,
        timeout: Duration,
        config: MasterConfig,
    ) -> Self {
        Self {
            transport,
            addressing,
            baud,
            timeout,
            config,
        }
    }

    fn deadline(&self, expect: Expect) -> Duration {
        let bytes = match expect {
            Expect::Nothing | Expect::Ack => 1,
            Expect::UserData => timing::MAX_FRAME_BYTES,
        };
        let own = timing::answer_deadline(self.baud, bytes) + timing::chars(self.baud, 8);
        own.max(self.timeout)
    }

    /// Send one frame and collect the answer within the deadline.
    pub fn exchange(&mut self, frame: &Frame, expect: Expect) -> Result<Reply> {
        self.transport.discard_input()?;
        let bytes = frame.encode();
        self.transport.send(&bytes)?;
        // The request itself takes this long on the line.
        let on_line = timing::chars(self.baud, bytes.len() as u32);
        let start = Instant::now();
        let deadline = start + on_line + self.deadline(expect);
        let quiet = timing::chars(self.baud, 3).max(Duration::from_millis(20));
        let mut dec = StreamDecoder::new();
        let mut frames = Vec::new();
        let mut buf = [0u8; 512];
        let mut got_any = false;
        loop {
            // After a complete frame, wait only a short quiet time for a second answer
            // (a collision); with `Expect::Nothing` wait the whole window.
            let until = if !frames.is_empty() && expect != Expect::Nothing {
                (Instant::now() + quiet).min(deadline)
            } else {
                deadline
            };
            match self.transport.recv(&mut buf, until) {
                Ok(n) => {
                    got_any |= n > 0;
                    dec.push(&buf[..n]);
                    while let Some(f) = dec.next_frame() {
                        frames.push(f);
                    }
                }
                Err(LinkError::Timeout { .. }) => break,
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        while let Some(f) = dec.finish() {
            frames.push(f);
        }
        Ok(match frames.len() {
            0 if !got_any => Reply::Timeout,
            0 => Reply::Timeout,
            1 => match frames.pop().expect("one frame").frame {
                Ok(f) => Reply::Frame(f),
                Err(e) => Reply::Corrupt(e),
            },
            n => {
                if let Some(Err(e)) = frames.iter().map(|f| f.frame.clone()).find(|f| f.is_err()) {
                    Reply::Corrupt(e)
                } else {
                    Reply::Several(n)
                }
            }
        })
    }

    fn readout(&mut self) -> Result<Vec<UserData>> {
        let addressing = self.addressing.ok_or_else(|| {
            LinkError::Config("mbus: the URI needs address=N or address=id:NNNNNNNN to read".into())
        })?;
        let mut m = ReadoutMachine::new(addressing, self.config);
        let mut step = m.start();
        loop {
            match step {
                Step::Send { frame, expect } => {
                    let reply = self.exchange(&frame, expect)?;
                    step = m.on_reply(reply);
                }
                Step::Done(Ok(r)) => return Ok(r.telegrams),
                Step::Done(Err(e)) => {
                    return Err(LinkError::Frame {
                        frame: format!("M-Bus readout of {}", self.describe_target()),
                        message: e.to_string(),
                    })
                }
            }
        }
    }

    fn describe_target(&self) -> String {
        match self.addressing {
            Some(Addressing::Primary(a)) => format!("primary address {a}"),
            Some(Addressing::Secondary(s)) => format!("secondary address {s}"),
            None => "no address".into(),
        }
    }
}

/// The name of a data record in values: its index, quantity and where it is stored,
/// e.g. `3:Energy` or `7:Volume/storage=1/tariff=2/subunit=1`.
pub fn record_id(index: usize, r: &DataRecord) -> String {
    let q = r.vib.quantity();
    let mut id = format!("{index}:{}", q.name);
    if r.dib.storage_number != 0 {
        id += &format!("/storage={}", r.dib.storage_number);
    }
    if let Some(t) = r.dib.tariff.filter(|t| *t != 0) {
        id += &format!("/tariff={t}");
    }
    if let Some(s) = r.dib.subunit.filter(|s| *s != 0) {
        id += &format!("/subunit={s}");
    }
    match r.dib.function {
        crate::data::Function::Instantaneous => {}
        f => id += &format!("/{}", f.name()),
    }
    id
}

/// The values of a readout (records of every telegram, numbered across telegrams).
pub fn values(telegrams: &[UserData]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut index = 0;
    for t in telegrams {
        match t {
            UserData::Variable(v) => {
                for r in &v.records {
                    if let Record::Data(d) = r {
                        let (q, scaled) = d.scaled();
                        let value = match (&d.value, scaled) {
                            (_, Some(x)) => Reading::Number(x),
                            (RawValue::Date(dt), _) => Reading::Text(dt.to_string()),
                            (RawValue::Text(s), _) => Reading::Text(s.clone()),
                            (RawValue::Bytes(b), _) | (RawValue::InvalidBcd(b), _) => {
                                Reading::Text(b.iter().map(|x| format!("{x:02X}")).collect())
                            }
                            (RawValue::None, _) => Reading::Text(String::new()),
                            (other, None) => Reading::Text(format!("{other:?}")),
                        };
                        out.push(Value {
                            id: record_id(index, d),
                            value,
                            unit: q.unit.to_string(),
                        });
                    }
                    index += 1;
                }
            }
            UserData::Fixed(f) => {
                for c in &f.counters {
                    out.push(Value {
                        id: format!("{index}:counter"),
                        value: Reading::Number(c.value as f64),
                        unit: crate::vif::fixed_unit(c.unit_code).to_string(),
                    });
                    index += 1;
                }
            }
        }
    }
    out
}

impl MeterLink for MbusLink {
    fn read_all(&mut self) -> Result<Vec<Value>> {
        let t = self.readout()?;
        Ok(values(&t))
    }

    fn read(&mut self, selectors: &[Selector]) -> Result<Vec<Value>> {
        let all = self.read_all()?;
        selectors
            .iter()
            .map(|s| match s {
                Selector::Name(n) => all
                    .iter()
                    .find(|v| v.id == *n || v.id.split_once(':').map(|x| x.1) == Some(n.as_str()))
                    .cloned()
                    .ok_or_else(|| {
                        LinkError::Config(format!(
                            "M-Bus record '{n}' not in the readout (records: {})",
                            all.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    }),
                other => Err(LinkError::NotImplemented(format!(
                    "selector {other} on M-Bus: records are named (e.g. '0:Energy'), not OBIS-coded or registers"
                ))),
            })
            .collect()
    }

    fn scan(&mut self) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut p = PrimaryScan::new(0, 250, self.config.retries.min(1));
        let mut step = p.start();
        let found_primary = loop {
            match step {
                ScanStep::Send { frame, expect } => {
                    let r = self.exchange(&frame, expect)?;
                    step = p.on_reply(r);
                }
                ScanStep::Done(f) => break f,
            }
        };
        let mut s = SecondaryScan::new();
        let mut step = s.start();
        let found_secondary = loop {
            match step {
                ScanStep::Send { frame, expect } => {
                    let r = self.exchange(&frame, expect)?;
                    step = s.on_reply(r);
                }
                ScanStep::Done(f) => break f,
            }
        };
        for f in found_primary.into_iter().chain(found_secondary) {
            out.push(match f {
                Found::Primary(a) => Value::text(a.to_string(), "slave answers SND_NKE", ""),
                Found::Secondary(sa) => {
                    let digits: String = sa.id_digits().iter().map(|d| format!("{d:X}")).collect();
                    Value::text(format!("id:{digits}"), sa.to_string(), "")
                }
                Found::Unresolved { mask, reason } => {
                    Value::text(format!("unresolved:{mask}"), reason, "")
                }
            });
        }
        Ok(out)
    }
}

/// Cuts M-Bus frames out of received bytes for traces.
pub struct MbusTraceDecoder;

impl FrameDecoder for MbusTraceDecoder {
    fn split(&self, bytes: &[u8]) -> Split {
        match Frame::parse(bytes) {
            Ok((_, n)) => Split::Frame(n),
            Err(crate::frame::FrameError::Incomplete { .. }) => Split::NeedMore,
            Err(crate::frame::FrameError::BadStart { .. }) => Split::Skip(
                bytes
                    .iter()
                    .skip(1)
                    .position(|b| matches!(*b, 0xE5 | 0x10 | 0x68))
                    .map_or(bytes.len(), |p| p + 1),
            ),
            // A structurally bad frame: hand it over whole as far as it claims.
            Err(e) => Split::Frame(e.offset().map_or(bytes.len(), |o| (o + 1).min(bytes.len()))),
        }
    }

    fn decode(&self, _dir: Direction, frame: &[u8]) -> Decoded {
        Decoded::text(match Frame::parse(frame) {
            Ok((f, _)) => f.to_string(),
            Err(e) => format!("invalid: {e}"),
        })
    }
}

/// The communication analyser of `mbus` / `mbus+tcp` traces.
pub struct MbusAnalyser;

impl ProtocolAnalyser for MbusAnalyser {
    fn analyse(&self, trace: &Trace) -> Analysis {
        let mut b = AnalysisBuilder::new(trace);
        let baud = trace
            .header
            .line
            .as_deref()
            .and_then(|l| l.parse::<LineSettings>().ok())
            .map_or(2400, |l| l.baud);
        let mut records = Vec::new();
        for (line, r) in &trace.records {
            let from_master = match r.dir.as_str() {
                "tx" => true,
                "rx" => false,
                _ => continue,
            };
            let Some(bytes) = r.plain_bytes() else {
                b.note(*line, "trace", "masked bytes: not checked");
                continue;
            };
            records.push(Recorded {
                line: *line,
                t: r.t,
                t_end: r.t_end,
                from_master,
                bytes,
            });
        }
        let tcp = trace.header.scheme == "mbus+tcp";
        for d in analyse::analyse(&records, baud).deviations {
            // Behind a TCP gateway the line timing is not seen: a note, not a failure.
            if tcp && d.clause == analyse::TIMING {
                b.note(
                    d.line,
                    &d.clause,
                    format!("{} (seen through a TCP gateway)", d.message),
                );
            } else {
                b.deviation(d.line, &d.clause, d.message);
            }
        }
        b.finish()
    }
}
