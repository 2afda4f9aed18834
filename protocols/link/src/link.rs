//! `MeterLink`: reading (and where the protocol allows, writing) values, and the
//! registry through which each protocol crate plugs its links and analysers in.

use crate::analyse::ProtocolAnalyser;
use crate::error::{LinkError, Result};
use crate::serial::LineSettings;
use crate::trace::{Recorder, TraceSink};
use crate::transport::Transport;
use crate::uri::MeterUri;
use crate::value::{Reading, Selector, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// A session with one meter.
pub trait MeterLink: Send {
    /// Everything the meter gives in one exchange (the IEC 62056-21 readout, the
    /// M-Bus records, the SML telegram, the mapped Modbus registers).
    fn read_all(&mut self) -> Result<Vec<Value>>;

    /// The values `selectors` ask for, in their order.
    fn read(&mut self, selectors: &[Selector]) -> Result<Vec<Value>>;

    /// Writes `value` where the protocol allows it.
    fn write(&mut self, selector: &Selector, value: &Reading) -> Result<()> {
        let _ = value;
        Err(LinkError::NotImplemented(format!(
            "writing {selector} on this link"
        )))
    }

    /// Scans the bus for meters (M-Bus): one value per meter found, `id` its
    /// address (`5` or `id:12345678`), `value` a description.
    fn scan(&mut self) -> Result<Vec<Value>> {
        Err(LinkError::NotImplemented(
            "scanning on this link (M-Bus only)".into(),
        ))
    }

    /// Ends the session politely (break, release, disconnect).
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What an opener gets: the URI, a register map asked for, a trace to record into.
pub struct OpenRequest<'a> {
    /// The meter URI.
    pub uri: &'a MeterUri,
    /// `--map NAME|FILE` (Modbus register maps).
    pub map: Option<&'a str>,
    /// Where to record the exchange, if asked.
    pub trace: Option<TraceSink>,
}

impl OpenRequest<'_> {
    /// Opens the URI's transport (see [`MeterUri::open_transport`]) wrapped in a
    /// trace recorder when a trace is asked for.
    pub fn transport(
        &self,
        default_line: LineSettings,
        connect_timeout: Duration,
    ) -> Result<Box<dyn Transport>> {
        let t = self.uri.open_transport(default_line, connect_timeout)?;
        Ok(match &self.trace {
            Some(sink) => Box::new(Recorder::new(t, sink.clone())),
            None => t,
        })
    }
}

/// Opens a link for a URI.
pub type LinkOpener = fn(&OpenRequest<'_>) -> Result<Box<dyn MeterLink>>;

/// Schemes → link openers and trace analysers. Each protocol crate has a
/// `register(&mut Registry)`; the front (CLI, Python) calls them all.
#[derive(Default)]
pub struct Registry {
    links: BTreeMap<String, LinkOpener>,
    analysers: BTreeMap<String, Box<dyn ProtocolAnalyser>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the opener of `scheme`.
    pub fn add_link(&mut self, scheme: &str, opener: LinkOpener) {
        self.links.insert(scheme.to_string(), opener);
    }

    /// Registers the analyser of traces of `scheme`.
    pub fn add_analyser(&mut self, scheme: &str, analyser: Box<dyn ProtocolAnalyser>) {
        self.analysers.insert(scheme.to_string(), analyser);
    }

    /// Schemes with a link.
    pub fn schemes(&self) -> Vec<&str> {
        self.links.keys().map(String::as_str).collect()
    }

    /// Opens a link.
    pub fn open(&self, req: &OpenRequest<'_>) -> Result<Box<dyn MeterLink>> {
        let opener = self.links.get(&req.uri.scheme).ok_or_else(|| {
            LinkError::NotImplemented(format!(
                "no meter link for scheme '{}' in this build (available: {})",
                req.uri.scheme,
                self.schemes().join(", ")
            ))
        })?;
        opener(req)
    }

    /// The analyser of `scheme`.
    pub fn analyser(&self, scheme: &str) -> Result<&dyn ProtocolAnalyser> {
        self.analysers
            .get(scheme)
            .map(|a| a.as_ref())
            .ok_or_else(|| {
                LinkError::NotImplemented(format!(
                    "no communication analyser for scheme '{scheme}' (available: {})",
                    self.analysers
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}
