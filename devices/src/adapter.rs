//! The out-of-process adapter host: runs a driver written in any language as a child
//! process speaking the protocol of [`crate::protocol`] over its stdin and stdout
//! (docs/plugins.md, "Out-of-process adapters").
//!
//! - Handshake: the child gets the cookie and the protocol versions PQE offers in its
//!   environment and must write its handshake line within `start_timeout` (default 10 s).
//! - Requests (configure, start, enumerate) each have a deadline (`timeout`, default 5 s);
//!   while streaming, a frame (samples or a heartbeat) must arrive within `timeout`, and
//!   the adapter is asked for heartbeats every `timeout / 3`.
//! - stderr goes to PQE's log (`log` target `pqe::adapter`), the last lines are kept for
//!   fault reports.
//! - The child is killed when its source is dropped, and, on Linux, by the kernel when
//!   PQE dies (`PR_SET_PDEATHSIG`, set from one long-lived spawner thread because the
//!   signal follows the thread that forked).
//! - A fault (crash, hang, garbage, a malformed, truncated or oversized frame, a lying
//!   sample count) ends the session; with `restart=N` the adapter is restarted up to N times
//!   with a backoff doubling from 0.2 s to at most 5 s, and the span lost is a flagged gap.
//!   Without restarts left the source ends with an error naming the adapter and the fault.
//! - Memory is bounded: one frame of at most `max_frame` bytes (default 16 MiB) is parsed
//!   at a time and at most four wait in the queue.

use crate::error::{DeviceError, Fault};
use crate::protocol::{self, kind, Decoder, Event};
use crate::registry::{Driver, DriverInfo, FoundDevice, Origin};
use crate::source::{
    channels_from_names, fault, live_info, Delivery, Gap, LiveSource, Placement, Sequencer,
};
use crate::stream::{decode_samples, PacketHeader, HEADER_LEN};
use crate::uri::DeviceUri;
use pqe_core::{Block, ChannelKind, RecordingInfo, Timestamp};
use serde::Deserialize;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How to run an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSpec {
    /// The driver's name.
    pub name: String,
    /// The URI schemes it handles.
    pub schemes: Vec<String>,
    /// Program and arguments.
    pub command: Vec<String>,
    /// Working folder (the manifest's folder).
    pub dir: Option<PathBuf>,
    /// The manifest it came from.
    pub manifest: PathBuf,
    /// Restarts allowed after a fault (default 0).
    pub restart: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    schemes: Vec<String>,
    command: Vec<String>,
    #[serde(default)]
    restart: u32,
}

impl AdapterSpec {
    /// Read an adapter manifest (`NAME.adapter.json`): `{"name", "schemes", "command",
    /// "restart"}`; a relative program path is taken from the manifest's folder.
    pub fn from_manifest(path: &Path) -> Result<AdapterSpec, DeviceError> {
        let err = |m: String| DeviceError::Load {
            file: path.to_path_buf(),
            message: m,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        if m.command.is_empty() {
            return Err(err("command is empty".into()));
        }
        if m.schemes.is_empty() {
            return Err(err("schemes is empty".into()));
        }
        let dir = path.parent().map(Path::to_path_buf);
        Ok(AdapterSpec {
            name: m.name,
            schemes: m.schemes.iter().map(|s| s.to_ascii_lowercase()).collect(),
            command: m.command,
            dir,
            manifest: path.to_path_buf(),
            restart: m.restart,
        })
    }
}

/// An adapter program as a [`Driver`].
pub struct AdapterDriver {
    info: DriverInfo,
    spec: AdapterSpec,
}

impl AdapterDriver {
    /// Open `uri` as an [`AdapterSource`] (what [`Driver::open`] does, with the concrete
    /// type: its restarts and child process id).
    pub fn open_adapter(&self, uri: &DeviceUri) -> Result<AdapterSource, DeviceError> {
        AdapterSource::open(&self.spec, uri)
    }

    /// A driver running `spec`.
    pub fn new(spec: AdapterSpec) -> Self {
        AdapterDriver {
            info: DriverInfo {
                name: spec.name.clone(),
                version: String::new(),
                schemes: spec.schemes.clone(),
                origin: Origin::Adapter(spec.manifest.clone()),
                description: format!("out-of-process adapter: {}", spec.command.join(" ")),
            },
            spec,
        }
    }
}

impl Driver for AdapterDriver {
    fn info(&self) -> &DriverInfo {
        &self.info
    }
    fn enumerate(&self, deadline: Duration) -> Result<Vec<FoundDevice>, DeviceError> {
        let settings = Settings {
            start_timeout: deadline,
            timeout: deadline,
            max_frame: protocol::DEFAULT_MAX_FRAME,
        };
        let mut s = Session::spawn(&self.spec, &settings, "(enumeration)")?;
        s.send(kind::ENUMERATE, b"")?;
        let body = s.expect_reply(kind::DEVICES, "enumerate")?;
        #[derive(Deserialize)]
        struct Found {
            uri: String,
            #[serde(default)]
            description: String,
        }
        let list: Vec<Found> = serde_json::from_slice(&body)
            .map_err(|e| s.fault(Fault::Malformed, format!("DEVICES reply: {e}")))?;
        Ok(list
            .into_iter()
            .map(|f| FoundDevice {
                uri: f.uri,
                description: f.description,
            })
            .collect())
    }
    fn open(&self, uri: &DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError> {
        Ok(Box::new(AdapterSource::open(&self.spec, uri)?))
    }
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    start_timeout: Duration,
    timeout: Duration,
    max_frame: usize,
}

/// A child process killed and reaped when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type SpawnReply = mpsc::Sender<std::io::Result<Child>>;

/// Spawns children from one thread that lives as long as the process: on Linux the
/// parent-death signal is sent when the *thread* that forked ends, so forking from a
/// short-lived thread would kill the adapter with it.
fn spawn_child(cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<(Command, SpawnReply)>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<(Command, SpawnReply)>();
        std::thread::Builder::new()
            .name("pqe-adapter-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    });
    let (rtx, rrx) = mpsc::channel();
    tx.lock()
        .map_err(|_| std::io::Error::other("spawner poisoned"))?
        .send((cmd, rtx))
        .map_err(|_| std::io::Error::other("spawner thread ended"))?;
    rrx.recv()
        .map_err(|_| std::io::Error::other("spawner thread ended"))?
}

enum Incoming {
    Event(Event),
    Fault(protocol::ProtocolFault),
    Eof,
}

/// One run of the adapter process.
struct Session {
    label: String,
    device: String,
    child: ChildGuard,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Incoming>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    settings: Settings,
}

const STDERR_TAIL: usize = 8;

/// Between fork and exec: mark every descriptor above standard error close-on-exec, so
/// the adapter inherits only its three pipes. Rust opens its own files close-on-exec, but
/// C libraries in the same process need not: libhdf5 opens a recording without the flag
/// and locks it, and an adapter holding that descriptor kept the lock after PQE closed the
/// file. `close_range` (Linux 5.11) does it in one call; older kernels get a loop of
/// `fcntl` up to the descriptor limit. Both are async-signal-safe.
#[cfg(target_os = "linux")]
fn keep_descriptors_from_exec() {
    // SAFETY: system calls on descriptor numbers only; nothing allocated or locked.
    unsafe {
        let done = libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        ) == 0;
        if !done {
            mark_close_on_exec_one_by_one();
        }
    }
}

/// The fallback of [`keep_descriptors_from_exec`] for kernels without `close_range`.
#[cfg(target_os = "linux")]
fn mark_close_on_exec_one_by_one() {
    // SAFETY: as above.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1 << 16) as libc::c_int
        } else {
            1024
        };
        for fd in 3..max {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

impl Session {
    fn spawn(
        spec: &AdapterSpec,
        settings: &Settings,
        device: &str,
    ) -> Result<Session, DeviceError> {
        let label = format!("{} (adapter {})", spec.name, spec.manifest.display());
        let mut cmd = Command::new(&spec.command[0]);
        cmd.args(&spec.command[1..])
            .env(protocol::COOKIE_KEY, protocol::COOKIE_VALUE)
            .env(
                protocol::VERSIONS_KEY,
                protocol::VERSIONS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(d) = &spec.dir {
            cmd.current_dir(d);
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    // PQE died between fork and prctl: do not outlive it.
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                    keep_descriptors_from_exec();
                    Ok(())
                });
            }
        }
        let mut child = spawn_child(cmd).map_err(|e| DeviceError::Load {
            file: PathBuf::from(&spec.command[0]),
            message: format!("cannot start adapter {}: {e}", spec.name),
        })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let child = ChildGuard(child);
        let (tx, rx) = mpsc::sync_channel::<Incoming>(4);
        let max_frame = settings.max_frame;
        std::thread::Builder::new()
            .name(format!("pqe-adapter-{}-out", spec.name))
            .spawn(move || read_stdout(stdout, max_frame, tx))
            .map_err(|e| fault(&label, device, Fault::Io, e.to_string()))?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail2 = Arc::clone(&tail);
        let name = spec.name.clone();
        std::thread::Builder::new()
            .name(format!("pqe-adapter-{}-err", spec.name))
            .spawn(move || forward_stderr(stderr, &name, &tail2))
            .map_err(|e| fault(&label, device, Fault::Io, e.to_string()))?;
        let mut s = Session {
            label,
            device: device.to_string(),
            child,
            stdin,
            incoming: rx,
            stderr_tail: tail,
            settings: *settings,
        };
        match s.receive(settings.start_timeout, "the handshake")? {
            Event::Handshake { .. } => Ok(s),
            Event::Frame { .. } => Err(s.fault(Fault::Garbage, "a frame before the handshake")),
        }
    }

    fn fault(&mut self, kind: Fault, message: impl Into<String>) -> DeviceError {
        let mut message = message.into();
        let tail: Vec<String> = self
            .stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if !tail.is_empty() {
            message.push_str(&format!("; its last stderr: {}", tail.join(" | ")));
        }
        fault(&self.label, &self.device, kind, message)
    }

    /// The exit status, if the child has exited (waits up to 0.2 s for it).
    fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + Duration::from_millis(200);
        loop {
            if let Ok(Some(s)) = self.child.0.try_wait() {
                return Some(s);
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn receive(&mut self, within: Duration, what: &str) -> Result<Event, DeviceError> {
        match self.incoming.recv_timeout(within) {
            Ok(Incoming::Event(e)) => Ok(e),
            Ok(Incoming::Fault(f)) => Err(self.fault(f.fault, f.message)),
            Ok(Incoming::Eof) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.exit_status();
                let m = match status {
                    Some(s) => format!("the adapter exited ({s}) while PQE waited for {what}"),
                    None => format!("the adapter closed its output while PQE waited for {what}"),
                };
                Err(self.fault(Fault::Crash, m))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(self.fault(
                Fault::Timeout,
                format!("no answer within {within:?} while PQE waited for {what} (hung; killed)"),
            )),
        }
    }

    fn send(&mut self, k: u8, body: &[u8]) -> Result<(), DeviceError> {
        let frame = protocol::encode_frame(k, body);
        if let Err(e) = self
            .stdin
            .write_all(&frame)
            .and_then(|_| self.stdin.flush())
        {
            let status = self.exit_status();
            return Err(self.fault(
                Fault::Crash,
                match status {
                    Some(s) => format!("the adapter exited ({s})"),
                    None => format!("cannot write to the adapter: {e}"),
                },
            ));
        }
        Ok(())
    }

    /// Wait for a reply of type `want` to a request (heartbeats are skipped; an ERROR reply
    /// is a driver error).
    fn expect_reply(&mut self, want: u8, request: &str) -> Result<Vec<u8>, DeviceError> {
        let until = Instant::now() + self.settings.timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.receive(left, &format!("the reply to {request}"))? {
                Event::Frame { kind: k, body } if k == want => return Ok(body),
                Event::Frame {
                    kind: kind::HEARTBEAT,
                    ..
                } => {}
                Event::Frame {
                    kind: kind::ERROR,
                    body,
                } => {
                    let m = error_message(&body);
                    return Err(self.fault(Fault::DriverError, format!("{request}: {m}")));
                }
                Event::Frame { kind: k, .. } => {
                    return Err(self.fault(
                        Fault::Malformed,
                        format!("frame type {k:#04x} in reply to {request} (expected {want:#04x})"),
                    ))
                }
                Event::Handshake { .. } => unreachable!("one handshake per session"),
            }
        }
    }
}

fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct E {
        message: String,
    }
    serde_json::from_slice::<E>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

fn read_stdout(mut out: impl Read, max_frame: usize, tx: mpsc::SyncSender<Incoming>) {
    let mut decoder = Decoder::new(max_frame);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match out.read(&mut buf) {
            Ok(0) | Err(_) => {
                let last = match decoder.finish() {
                    Some(f) => Incoming::Fault(f),
                    None => Incoming::Eof,
                };
                let _ = tx.send(last);
                return;
            }
            Ok(n) => n,
        };
        decoder.feed(&buf[..n]);
        while let Some(ev) = decoder.next_event() {
            let stop = ev.is_err();
            let msg = match ev {
                Ok(e) => Incoming::Event(e),
                Err(f) => Incoming::Fault(f),
            };
            if tx.send(msg).is_err() || stop {
                return;
            }
        }
    }
}

fn forward_stderr(err: impl Read, name: &str, tail: &Mutex<VecDeque<String>>) {
    let mut reader = BufReader::new(err);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Lines are cut at 4 KiB so a child writing without newlines cannot grow memory.
        match (&mut reader).take(4096).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            continue;
        }
        log::info!(target: "pqe::adapter", "[{name}] {text}");
        if let Ok(mut t) = tail.lock() {
            if t.len() == STDERR_TAIL {
                t.pop_front();
            }
            t.push_back(text);
        }
    }
}

#[derive(Deserialize)]
struct WireChannel {
    name: String,
    #[serde(default)]
    unit: String,
}

#[derive(Deserialize)]
struct WireStreamInfo {
    channels: Vec<WireChannel>,
    sample_rate: f64,
    start_ns: i64,
}

/// A device served by an adapter, as a live source.
pub struct AdapterSource {
    spec: AdapterSpec,
    uri: DeviceUri,
    settings: Settings,
    label: String,
    device: String,
    session: Option<Session>,
    info: RecordingInfo,
    scale: Vec<f64>,
    sequencer: Sequencer,
    /// After a restart: the time the next sample was due before the fault.
    resume_after: Option<(Timestamp, String)>,
    restarts_left: u32,
    restarts_done: u32,
    pending: VecDeque<Delivery>,
    values: Vec<f64>,
    last_heartbeat: Instant,
    ended: bool,
}

const HOST_PARAMS: &[&str] = &["timeout", "start_timeout", "max_frame", "restart"];

impl AdapterSource {
    fn open(spec: &AdapterSpec, uri: &DeviceUri) -> Result<AdapterSource, DeviceError> {
        let secs = |key: &str, default: f64| -> Result<Duration, DeviceError> {
            let v: f64 = uri.param_or(key, default)?;
            if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
                return Err(uri.error(format!("{key}={v}: give 0 < seconds ≤ 86400")));
            }
            Ok(Duration::from_secs_f64(v))
        };
        let settings = Settings {
            start_timeout: secs("start_timeout", 10.0)?,
            timeout: secs("timeout", 5.0)?,
            max_frame: uri.param_or("max_frame", protocol::DEFAULT_MAX_FRAME)?,
        };
        if settings.max_frame < HEADER_LEN + 1 {
            return Err(uri.error(format!(
                "max_frame must be at least {} bytes",
                HEADER_LEN + 1
            )));
        }
        let restarts: u32 = uri.param_or("restart", spec.restart)?;
        let label = format!("{} (adapter {})", spec.name, spec.manifest.display());
        let device = uri.redacted();
        let (session, info) = Self::start_session(spec, uri, &settings)?;
        Ok(AdapterSource {
            spec: spec.clone(),
            uri: uri.clone(),
            settings,
            label,
            device,
            session: Some(session),
            sequencer: Sequencer::new(info.sample_rate),
            scale: vec![1.0],
            info,
            resume_after: None,
            restarts_left: restarts.min(100),
            restarts_done: 0,
            pending: VecDeque::new(),
            values: Vec::new(),
            last_heartbeat: Instant::now(),
            ended: false,
        })
    }

    fn start_session(
        spec: &AdapterSpec,
        uri: &DeviceUri,
        settings: &Settings,
    ) -> Result<(Session, RecordingInfo), DeviceError> {
        let device = uri.redacted();
        let mut s = Session::spawn(spec, settings, &device)?;
        let params: serde_json::Map<String, serde_json::Value> = uri
            .query()
            .iter()
            .filter(|(k, _)| !HOST_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let configure = serde_json::json!({
            "uri": uri.as_str(),
            "params": params,
            "heartbeat_ms": (settings.timeout.as_millis() / 3).max(1) as u64,
        });
        s.send(kind::CONFIGURE, configure.to_string().as_bytes())?;
        let body = s.expect_reply(kind::STREAM_INFO, "configure")?;
        let wire: WireStreamInfo = serde_json::from_slice(&body)
            .map_err(|e| s.fault(Fault::Malformed, format!("STREAM_INFO: {e}")))?;
        if wire.channels.is_empty()
            || wire.channels.len() > u16::MAX as usize
            || !(wire.sample_rate.is_finite() && wire.sample_rate > 0.0)
        {
            return Err(s.fault(
                Fault::Malformed,
                format!(
                    "STREAM_INFO gives {} channels at {} Hz",
                    wire.channels.len(),
                    wire.sample_rate
                ),
            ));
        }
        let names: Vec<&str> = wire.channels.iter().map(|c| c.name.as_str()).collect();
        let mut specs = channels_from_names(&names);
        for (sp, c) in specs.iter_mut().zip(&wire.channels) {
            if !c.unit.is_empty() {
                sp.unit = c.unit.clone();
                if ChannelKind::from_unit(&c.unit) != ChannelKind::Other {
                    sp.kind = ChannelKind::from_unit(&c.unit);
                }
            }
        }
        s.send(kind::START, b"")?;
        s.expect_reply(kind::OK, "start")?;
        let info = live_info(&device, specs, wire.sample_rate, Timestamp(wire.start_ns));
        Ok((s, info))
    }

    /// End the session after `err`; restart if allowed (returning the gap), else the error.
    fn recover(&mut self, err: DeviceError) -> Result<Delivery, DeviceError> {
        self.session = None; // kills the child
        if self.restarts_left == 0 {
            self.ended = true;
            return Err(err);
        }
        self.restarts_left -= 1;
        self.restarts_done += 1;
        let backoff = Duration::from_millis(200 * (1u64 << (self.restarts_done - 1).min(5)))
            .min(Duration::from_secs(5));
        log::warn!(
            "{err}; restarting in {backoff:?} ({} restart(s) left)",
            self.restarts_left
        );
        std::thread::sleep(backoff);
        let from = self.sequencer.expected_time().unwrap_or(self.info.start);
        let reason = format!("{err}; adapter restarted");
        match Self::start_session(&self.spec, &self.uri, &self.settings) {
            Ok((s, info)) => {
                if info.channels.len() != self.info.channels.len()
                    || info.sample_rate != self.info.sample_rate
                {
                    self.ended = true;
                    return Err(fault(
                        &self.label,
                        &self.device,
                        Fault::Discontinuity,
                        "after the restart the adapter reports other channels or another rate",
                    ));
                }
                self.session = Some(s);
                self.sequencer = Sequencer::new(self.info.sample_rate);
                self.resume_after = Some((from, reason.clone()));
                self.last_heartbeat = Instant::now();
                Ok(Delivery::Gap(Gap {
                    from,
                    to: None,
                    reason,
                }))
            }
            Err(e) => self.recover(e),
        }
    }

    fn on_samples(&mut self, body: &[u8]) -> Result<(), DeviceError> {
        let h = PacketHeader::decode(body).map_err(|m| {
            fault(
                &self.label,
                &self.device,
                Fault::Malformed,
                format!("SAMPLES frame: {m}"),
            )
        })?;
        if h.channels as usize != self.info.channels.len() || h.sample_rate != self.info.sample_rate
        {
            return Err(fault(
                &self.label,
                &self.device,
                Fault::Discontinuity,
                format!(
                    "packet {} has {} channels at {} Hz; the stream has {} at {} Hz",
                    h.sequence,
                    h.channels,
                    h.sample_rate,
                    self.info.channels.len(),
                    self.info.sample_rate
                ),
            ));
        }
        decode_samples(&h, &body[HEADER_LEN..], &self.scale, &mut self.values).map_err(|m| {
            fault(
                &self.label,
                &self.device,
                Fault::LyingCount,
                format!("packet {}: {m}", h.sequence),
            )
        })?;
        if h.samples == 0 {
            return Ok(());
        }
        let what = self.label.clone();
        let placed = self
            .sequencer
            .place(h.sequence, h.time_ns, h.samples as u64, &what);
        let start = match placed {
            Placement::Continues { start } => {
                if let Some((from, reason)) = self.resume_after.take() {
                    if start <= from {
                        return Err(fault(
                            &self.label,
                            &self.device,
                            Fault::Discontinuity,
                            format!("after the restart the stream starts at {start}, before {from} already delivered"),
                        ));
                    }
                    let _ = reason;
                }
                start
            }
            Placement::AfterGap(g) => {
                log::warn!("{}", g.reason);
                let t = g.to.unwrap_or(Timestamp(h.time_ns));
                self.pending.push_back(Delivery::Gap(g));
                t
            }
            Placement::Dropped(why) => {
                log::warn!("{why}");
                return Ok(());
            }
        };
        let first = (start.seconds_since(self.info.start) * self.info.sample_rate)
            .round()
            .max(0.0) as u64;
        let block = Block::from_planar(
            start,
            self.info.sample_rate,
            first,
            h.channels as usize,
            std::mem::take(&mut self.values),
        )?;
        self.pending.push_back(Delivery::Block(block));
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Delivery>, DeviceError> {
        let timeout = self.settings.timeout;
        let session = self.session.as_mut().expect("session");
        if self.last_heartbeat.elapsed() >= timeout / 3 {
            session.send(kind::HEARTBEAT, b"")?;
            self.last_heartbeat = Instant::now();
        }
        match session.receive(timeout, "samples or a heartbeat")? {
            Event::Frame {
                kind: kind::SAMPLES,
                body,
            } => {
                self.on_samples(&body)?;
                Ok(None)
            }
            Event::Frame {
                kind: kind::HEARTBEAT | kind::OK,
                ..
            } => Ok(None),
            Event::Frame {
                kind: kind::END, ..
            } => {
                self.ended = true;
                Ok(Some(Delivery::End))
            }
            Event::Frame {
                kind: kind::ERROR,
                body,
            } => {
                let m = error_message(&body);
                Err(session.fault(Fault::DriverError, m))
            }
            Event::Frame { kind: k, .. } => Err(session.fault(
                Fault::Malformed,
                format!("unexpected frame type {k:#04x} while streaming"),
            )),
            Event::Handshake { .. } => unreachable!("one handshake per session"),
        }
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.restarts_done
    }

    /// The adapter's process id (for tests of the no-orphan guarantee).
    pub fn child_id(&self) -> Option<u32> {
        self.session.as_ref().map(|s| s.child.0.id())
    }
}

impl LiveSource for AdapterSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }
    fn driver(&self) -> &str {
        &self.label
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        loop {
            if let Some(d) = self.pending.pop_front() {
                return Ok(d);
            }
            if self.ended {
                return Ok(Delivery::End);
            }
            match self.step() {
                Ok(Some(d)) => return Ok(d),
                Ok(None) => {}
                Err(e) => {
                    self.pending.clear();
                    return self.recover(e);
                }
            }
        }
    }
    fn stop(&mut self) {
        if let Some(s) = self.session.as_mut() {
            let _ = s.send(kind::STOP, b"");
        }
        self.session = None;
        self.ended = true;
    }
}

/// The adapter manifests (`*.adapter.json`) in `dir`, sorted.
pub fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".adapter.json"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{keep_descriptors_from_exec, mark_close_on_exec_one_by_one};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// Whether a child started with (or without) the adapter's pre-exec step still has
    /// descriptor `fd` open.
    fn child_sees(fd: i32, step: Option<fn()>) -> String {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!(
            "if [ -e /proc/self/fd/{fd} ]; then echo open; else echo closed; fi"
        ));
        if let Some(step) = step {
            // SAFETY: the steps make only async-signal-safe calls.
            unsafe {
                cmd.pre_exec(move || {
                    step();
                    Ok(())
                });
            }
        }
        let out = cmd.output().expect("run /bin/sh");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn an_inheritable_descriptor_does_not_reach_the_adapter() {
        // A descriptor as a C library opens it: without close-on-exec (dup clears the flag).
        let file = tempfile::tempfile().unwrap();
        let fd = unsafe { libc::dup(std::os::fd::AsRawFd::as_raw_fd(&file)) };
        assert!(fd > 2);
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert_eq!(
            flags & libc::FD_CLOEXEC,
            0,
            "dup gives an inheritable descriptor"
        );
        let plain = child_sees(fd, None);
        let guarded = child_sees(fd, Some(keep_descriptors_from_exec));
        let fallback = child_sees(fd, Some(mark_close_on_exec_one_by_one));
        unsafe { libc::close(fd) };
        assert_eq!(plain, "open", "without the step the child inherits it");
        assert_eq!(guarded, "closed", "with the step it must not");
        assert_eq!(
            fallback, "closed",
            "nor with the fallback for older kernels"
        );
    }
}
