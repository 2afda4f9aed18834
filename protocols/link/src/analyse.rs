//! The communication-analyser framework: a protocol analyser reads a trace and
//! reports findings, each naming the trace line (the frame) and the clause of
//! the standard it breaks; an exchange (a request and what follows until the
//! next request) fails on its first deviation.

use crate::serial::LineSettings;
use crate::trace::{Trace, TraceRecord};
use serde::Serialize;

/// Pass or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No deviation.
    Pass,
    /// At least one deviation.
    Fail,
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks the specification: the exchange fails.
    Deviation,
    /// Worth knowing, not a failure (e.g. a masked password whose BCC cannot be checked).
    Note,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The trace line of the frame at fault (the header is line 1).
    pub line: usize,
    /// The clause, e.g. "Modbus over serial line v1.02 §2.5.1.1".
    pub clause: String,
    /// Deviation or note.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

/// One exchange and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    /// 1-based exchange number.
    pub exchange: usize,
    /// Trace lines of its frames.
    pub lines: Vec<usize>,
    /// The first frame's decoding (usually the request).
    pub summary: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Its findings.
    pub findings: Vec<Finding>,
}

/// An analysis of a whole trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The protocol analysed (the trace's scheme).
    pub protocol: String,
    /// Fail when any exchange fails or the trace has none.
    pub verdict: Verdict,
    /// Exchanges in order.
    pub exchanges: Vec<Exchange>,
    /// Findings about the trace as a whole (no exchange at all, …).
    pub findings: Vec<Finding>,
}

/// A protocol's analyser.
pub trait ProtocolAnalyser: Send + Sync {
    /// Analyses `trace` (its header's scheme is one this analyser was registered for).
    fn analyse(&self, trace: &Trace) -> Analysis;
}

/// Collects findings and cuts a trace into exchanges: each "tx" record starts
/// one; "rx" and "event" records join the current one (records before the first
/// "tx", e.g. a push meter's telegrams, each form an exchange of their own).
pub struct AnalysisBuilder {
    protocol: String,
    exchanges: Vec<Exchange>,
    trace_findings: Vec<Finding>,
}

impl AnalysisBuilder {
    /// Cuts `trace` into exchanges.
    pub fn new(trace: &Trace) -> Self {
        let mut exchanges: Vec<Exchange> = Vec::new();
        let mut open = false;
        for (line, r) in &trace.records {
            let start_new = match r.dir.as_str() {
                "tx" => true,
                "rx" => !open,
                _ => exchanges.is_empty(),
            };
            if start_new {
                exchanges.push(Exchange {
                    exchange: exchanges.len() + 1,
                    lines: Vec::new(),
                    summary: r.decoded.clone(),
                    verdict: Verdict::Pass,
                    findings: Vec::new(),
                });
                open = r.dir == "tx";
            }
            exchanges
                .last_mut()
                .expect("pushed above")
                .lines
                .push(*line);
        }
        AnalysisBuilder {
            protocol: trace.header.scheme.clone(),
            exchanges,
            trace_findings: Vec::new(),
        }
    }

    /// Adds a deviation at trace line `line`.
    pub fn deviation(&mut self, line: usize, clause: &str, message: impl Into<String>) {
        self.add(Finding {
            line,
            clause: clause.into(),
            severity: Severity::Deviation,
            message: message.into(),
        });
    }

    /// Adds a note at trace line `line`.
    pub fn note(&mut self, line: usize, clause: &str, message: impl Into<String>) {
        self.add(Finding {
            line,
            clause: clause.into(),
            severity: Severity::Note,
            message: message.into(),
        });
    }

    fn add(&mut self, f: Finding) {
        match self
            .exchanges
            .iter_mut()
            .find(|e| e.lines.contains(&f.line))
        {
            Some(e) => e.findings.push(f),
            None => self.trace_findings.push(f),
        }
    }

    /// The verdicts.
    pub fn finish(mut self) -> Analysis {
        if self.exchanges.is_empty() {
            self.trace_findings.push(Finding {
                line: 1,
                clause: "trace".into(),
                severity: Severity::Deviation,
                message: "the trace holds no exchange".into(),
            });
        }
        let fails = |fs: &[Finding]| fs.iter().any(|f| f.severity == Severity::Deviation);
        for e in &mut self.exchanges {
            e.findings.sort_by_key(|f| f.line);
            if fails(&e.findings) {
                e.verdict = Verdict::Fail;
            }
        }
        let verdict = if fails(&self.trace_findings)
            || self.exchanges.iter().any(|e| e.verdict == Verdict::Fail)
        {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        Analysis {
            protocol: self.protocol,
            verdict,
            exchanges: self.exchanges,
            findings: self.trace_findings,
        }
    }
}

/// The line settings in force at each record: the header's, then each line event's.
pub fn line_settings_at(trace: &Trace) -> Vec<Option<LineSettings>> {
    let mut cur: Option<LineSettings> = trace.header.line.as_deref().and_then(|l| l.parse().ok());
    trace
        .records
        .iter()
        .map(|(_, r): &(usize, TraceRecord)| {
            if let Some(l) = r.line.as_deref().and_then(|l| l.parse().ok()) {
                cur = Some(l);
            }
            cur
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Trace;

    #[test]
    fn exchanges_and_verdicts() {
        let text = r#"{"trace":"pqe-meter-trace","version":1,"scheme":"x","uri":"","start":"","line":"9600/8N1"}
{"t":0,"dir":"tx","hex":"01","decoded":"req 1"}
{"t":0.1,"dir":"rx","hex":"02"}
{"t":0.2,"dir":"event","decoded":"line settings 300/7E1","line":"300/7E1"}
{"t":0.3,"dir":"tx","hex":"03","decoded":"req 2"}
"#;
        let tr = Trace::from_reader(text.as_bytes(), "t").unwrap();
        let mut b = AnalysisBuilder::new(&tr);
        b.deviation(3, "§1", "bad");
        b.note(5, "§2", "fine");
        let a = b.finish();
        assert_eq!(a.exchanges.len(), 2);
        assert_eq!(a.exchanges[0].lines, [2, 3, 4]);
        assert_eq!(a.exchanges[0].verdict, Verdict::Fail);
        assert_eq!(a.exchanges[1].verdict, Verdict::Pass);
        assert_eq!(a.verdict, Verdict::Fail);
        let ls = line_settings_at(&tr);
        assert_eq!(ls[0].unwrap().baud, 9600);
        assert_eq!(ls[3].unwrap().baud, 300);
        let empty = Trace::from_reader(text.lines().next().unwrap().as_bytes(), "t").unwrap();
        assert_eq!(AnalysisBuilder::new(&empty).finish().verdict, Verdict::Fail);
    }
}
