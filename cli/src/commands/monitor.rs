//! `pqe monitor --source URI [--listen 127.0.0.1:8080] [--out DIR] [--duration D]`: analyse
//! a live source and serve a local web page that follows it — RMS, frequency, THD, powers,
//! a phasor diagram, the harmonic spectrum, flicker and the event list as events happen —
//! plus the analysis' report once it is written.
//!
//! The page is one self-contained HTML file (no CDN, works offline) fed by server-sent
//! events: each message is the whole current state (the latest interval, the 10-s
//! frequency, the flicker values, the events so far), sent when it changes and at most
//! every [`MIN_SEND_INTERVAL`]. The server is plain HTTP/1.1 on a socket, one thread per
//! connection, at most [`MAX_CONNECTIONS`] at once, every read and write with a deadline.
//! It listens on the loopback address unless told otherwise: the page has no
//! authentication. The analysis writes the same folder `pqe analyze --source` writes.
//!
//! Routes: `/` the page, `/events` the event stream, `/state` the state as JSON, `/report`
//! the report (once the analysis has ended).

use crate::commands::analyze::SettingsArgs;
use crate::commands::devices::{ending, open_live_with_stop, LiveArgs};
use anyhow::{Context, Result};
use clap::ArgMatches;
use pqe_core::record::Record;
use pqe_pipeline::{Observer, Progress};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The page.
const PAGE: &str = include_str!("monitor.html");
/// Least time between two messages to one page (changes in between are merged).
const MIN_SEND_INTERVAL: Duration = Duration::from_millis(150);
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 32;
/// Events kept in the state (the newest; the count says how many there were).
const MAX_EVENTS: usize = 500;
/// Deadline of every read and write on a connection.
const IO_DEADLINE: Duration = Duration::from_secs(10);

/// Arguments of `pqe monitor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub live: LiveArgs,
    /// Address to serve the page on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// Folder for the analysis' results (default: a new folder in the temporary directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit when the analysis ends instead of serving the page until Ctrl-C.
    #[arg(long)]
    pub exit_when_done: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// Run `pqe monitor`.
pub fn run(args: Args, matches: Option<&ArgMatches>) -> Result<()> {
    let settings = args.settings.resolve(matches)?;
    let valid = settings.validate()?;
    let uri = args
        .live
        .source
        .clone()
        .context("give --source URI (the device to monitor)")?;
    let name = pqe_devices::uri::redact(&uri);
    let out = args.out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("pqe-monitor-{}", std::process::id()))
    });
    let listener = TcpListener::bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let (source, stop) = open_live_with_stop(&args.live)?;
    let outcome = source.outcome();

    let hub = Arc::new(Hub::new(&name, &out));
    let server = {
        let hub = Arc::clone(&hub);
        let out = out.clone();
        std::thread::spawn(move || serve(listener, hub, out))
    };
    eprintln!(
        "pqe: monitor on http://{address}/ (results in {})",
        out.display()
    );

    let mut observer = Monitor {
        hub: Arc::clone(&hub),
        last_progress: None,
        held: None,
    };
    let result = pqe_pipeline::analyze_source(
        Box::new(source),
        Path::new(&name),
        &out,
        &valid,
        &mut observer,
    );
    let status = match &result {
        Ok(summary) => {
            let outcome = outcome.lock().unwrap_or_else(|e| e.into_inner());
            match ending(&outcome, &out) {
                Ok(how) => Ok(format!("{} ({how})", pqe_pipeline::one_line(summary))),
                Err(e) => Err(format!("{e:#}")),
            }
        }
        Err(e) => Err(format!("{e:#}")),
    };
    if let Some(value) = observer.held.take() {
        hub.update(|s| s.progress = value);
    }
    hub.finish(&status);
    match &status {
        Ok(line) => eprintln!("pqe: {line} → {}", out.display()),
        Err(e) => eprintln!("pqe: error: {e}"),
    }
    if !args.exit_when_done && !stop.is_stopped() {
        eprintln!("pqe: the analysis has ended; the page stays up until Ctrl-C");
        while !stop.is_stopped() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    hub.close();
    drop(server);
    status.map(|_| ()).map_err(|e| anyhow::anyhow!(e))
}

/// The state the pages show, and who waits for it to change.
struct Hub {
    state: Mutex<State>,
    changed: Condvar,
    /// Event streams open.
    streams: AtomicUsize,
}

struct State {
    /// Bumped at every change.
    version: u64,
    /// No more changes: pages get the last state and the stream ends.
    closed: bool,
    source: String,
    out: String,
    status: &'static str,
    message: String,
    progress: Value,
    interval: Value,
    frequency: Value,
    flicker: BTreeMap<String, Value>,
    events: VecDeque<Value>,
    event_count: u64,
    notes: VecDeque<String>,
}

impl Hub {
    fn new(source: &str, out: &Path) -> Self {
        Hub {
            state: Mutex::new(State {
                version: 0,
                closed: false,
                source: source.to_string(),
                out: out.display().to_string(),
                status: "running",
                message: String::new(),
                progress: Value::Null,
                interval: Value::Null,
                frequency: Value::Null,
                flicker: BTreeMap::new(),
                events: VecDeque::new(),
                event_count: 0,
                notes: VecDeque::new(),
            }),
            changed: Condvar::new(),
            streams: AtomicUsize::new(0),
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        s.version += 1;
        self.changed.notify_all();
    }

    fn finish(&self, status: &std::result::Result<String, String>) {
        self.update(|s| match status {
            Ok(line) => {
                s.status = "finished";
                s.message = line.clone();
            }
            Err(e) => {
                s.status = "failed";
                s.message = e.clone();
            }
        });
    }

    /// No more changes: the streams send the last state and end (waited for up to 2 s).
    fn close(&self) {
        self.update(|s| s.closed = true);
        let until = Instant::now() + Duration::from_secs(2);
        while self.streams.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The state as JSON, with its version.
    fn snapshot(&self) -> (u64, bool, String) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let doc = json!({
            "source": s.source,
            "out": s.out,
            "status": s.status,
            "message": s.message,
            "progress": s.progress,
            "interval": s.interval,
            "frequency": s.frequency,
            "flicker": s.flicker,
            "events": s.events,
            "event_count": s.event_count,
            "notes": s.notes,
        });
        (s.version, s.closed, doc.to_string())
    }

    /// The version of the state.
    fn version(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).version
    }

    /// Wait until the version differs from `seen`, the hub closes, or `timeout` passes.
    fn wait(&self, seen: u64, timeout: Duration) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .changed
            .wait_timeout_while(s, timeout, |s| s.version == seen && !s.closed);
    }
}

/// The observer that feeds the hub from the analysis.
struct Monitor {
    hub: Arc<Hub>,
    last_progress: Option<Instant>,
    /// The latest progress not yet shown.
    held: Option<Value>,
}

impl Observer for Monitor {
    fn progress(&mut self, p: &Progress) {
        // Progress alone changes the page at most four times a second.
        let value = json!({"samples": p.samples, "seconds": p.seconds});
        if self
            .last_progress
            .is_some_and(|t| t.elapsed() < Duration::from_millis(250))
        {
            self.held = Some(value);
            return;
        }
        self.last_progress = Some(Instant::now());
        self.held = None;
        self.hub.update(|s| s.progress = value);
    }

    fn warning(&mut self, message: &str) {
        eprintln!("pqe: warning: {message}");
        let note = format!("warning: {message}");
        self.hub.update(|s| push_note(s, note));
    }

    fn info(&mut self, message: &str) {
        eprintln!("pqe: {message}");
        let note = message.to_string();
        self.hub.update(|s| push_note(s, note));
    }

    fn record(&mut self, record: &Record) {
        match record {
            Record::Interval(r) => {
                let mut values = Map::new();
                for (name, v) in r.columns() {
                    values.insert(name, number(v));
                }
                let channels: Vec<Value> = r
                    .channels
                    .iter()
                    .map(|c| {
                        let kind = match c.column.chars().next() {
                            Some('U') => "U",
                            Some('I') => "I",
                            _ => "",
                        };
                        json!({
                            "column": c.column,
                            "kind": kind,
                            "spectrum": c.harmonics.as_ref().map(|h| {
                                h.subgroups.iter().map(|v| number(*v)).collect::<Vec<_>>()
                            }),
                        })
                    })
                    .collect();
                let value = json!({
                    "t": r.t,
                    "start": r.start.to_string(),
                    "flagged": r.flagged,
                    "values": values,
                    "channels": channels,
                });
                self.hub.update(|s| s.interval = value);
            }
            Record::Frequency(r) => {
                let value = json!({"t": r.t, "f": number(r.frequency), "flagged": r.flagged});
                self.hub.update(|s| s.frequency = value);
            }
            Record::Flicker(r) => {
                let severity = match r.severity {
                    pqe_core::record::FlickerSeverity::Pst => "Pst",
                    pqe_core::record::FlickerSeverity::Plt => "Plt",
                };
                let key = format!("{severity}_{}", r.column);
                let value = json!({
                    "t": r.t,
                    "value": number(r.value),
                    "flagged": r.flagged,
                });
                self.hub.update(|s| {
                    s.flicker.insert(key, value);
                });
            }
            Record::Event(e) => {
                let value = json!({
                    "index": e.index,
                    "kind": e.kind.as_str(),
                    "t": e.t,
                    "start": e.start.to_string(),
                    "duration": e.duration,
                    "extreme": number(e.extreme),
                    "extreme_percent": number(100.0 * e.extreme / e.reference),
                    "phases": e.phases_label(),
                    "incomplete": e.incomplete,
                });
                self.hub.update(|s| {
                    s.events.push_back(value);
                    s.event_count += 1;
                    while s.events.len() > MAX_EVENTS {
                        s.events.pop_front();
                    }
                });
            }
            _ => {}
        }
    }
}

fn push_note(s: &mut State, note: String) {
    s.notes.push_back(note);
    while s.notes.len() > 20 {
        s.notes.pop_front();
    }
}

/// A number for JSON: NaN and infinities become null.
fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Accept connections until the process ends; each on its own thread.
fn serve(listener: TcpListener, hub: Arc<Hub>, out: PathBuf) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(IO_DEADLINE));
            let _ = respond(
                &mut stream,
                "503 Service Unavailable",
                "text/plain",
                b"busy\n",
            );
            continue;
        }
        let (hub, out, open) = (Arc::clone(&hub), out.clone(), Arc::clone(&open));
        std::thread::spawn(move || {
            let _ = handle(stream, &hub, &out);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Serve one request.
fn handle(mut stream: TcpStream, hub: &Hub, out: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_DEADLINE))?;
    stream.set_write_timeout(Some(IO_DEADLINE))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // The headers are read and ignored (at most 64 lines).
    for _ in 0..64 {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        );
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/" | "/index.html" => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        "/state" => {
            let (_, _, doc) = hub.snapshot();
            respond(&mut stream, "200 OK", "application/json", doc.as_bytes())
        }
        "/report" => match std::fs::read(out.join("report.html")) {
            Ok(html) => respond(&mut stream, "200 OK", "text/html; charset=utf-8", &html),
            Err(_) => respond(
                &mut stream,
                "404 Not Found",
                "text/plain; charset=utf-8",
                "The report is written when the analysis ends.\n".as_bytes(),
            ),
        },
        "/events" => {
            hub.streams.fetch_add(1, Ordering::SeqCst);
            let result = stream_events(&mut stream, hub);
            hub.streams.fetch_sub(1, Ordering::SeqCst);
            result
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// The event stream: the state now, then again whenever it changes (a comment line every
/// 15 s keeps idle connections open), until the page goes or the hub closes.
fn stream_events(stream: &mut TcpStream, hub: &Hub) -> std::io::Result<()> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
          Connection: keep-alive\r\n\r\nretry: 1000\n\n",
    )?;
    let mut seen = u64::MAX;
    loop {
        let (version, closed, doc) = hub.snapshot();
        if version != seen {
            write!(stream, "data: {doc}\n\n")?;
            stream.flush()?;
            seen = version;
        }
        if closed {
            return Ok(());
        }
        std::thread::sleep(MIN_SEND_INTERVAL);
        hub.wait(seen, Duration::from_secs(15));
        if hub.version() == seen {
            stream.write_all(b": idle\n\n")?;
            stream.flush()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_json_cannot_hold_become_null() {
        assert_eq!(number(f64::NAN), Value::Null);
        assert_eq!(number(1.5), json!(1.5));
    }

    #[test]
    fn the_page_is_self_contained() {
        // No script, style or image from elsewhere: the page works offline.
        for bad in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(!PAGE.contains(bad), "{bad}");
        }
        assert!(PAGE.contains("new EventSource(\"/events\")"));
    }
}
