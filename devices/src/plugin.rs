//! The C-ABI plugin host: loads vendor driver libraries (devices/include/pqe_plugin.h,
//! docs/plugins.md) and runs their devices as [`LiveSource`]s.
//!
//! A library is opened with eager binding (`RTLD_NOW`, so an unresolved symbol fails the
//! load and the error names it), its one entry `pqe_plugin_entry` is called and the table
//! it returns is checked before any other field is read: ABI major equal to the host's,
//! minor not newer, `struct_size` at least the table of its minor version, every function
//! present, name/version/schemes readable. Libraries are never unloaded (a driver may have
//! threads or handlers still registered).
//!
//! Reads run on a thread of their own per device, one read ahead of the consumer, so the
//! host enforces its deadline even on a plugin that ignores `timeout_ms`, and acquisition
//! overlaps analysis. A plugin that reports more samples than the buffer holds, writes past
//! the buffer's end (a guard region is checked after each read), goes back in sample index,
//! or returns an error ends the source with a fault naming the plugin.

use crate::error::{DeviceError, Fault};
use crate::registry::{Driver, DriverInfo, FoundDevice, Origin};
use crate::source::{channels_from_names, fault, live_info, Delivery, Gap, LiveSource};
use crate::uri::DeviceUri;
use pqe_core::{Block, ChannelKind, RecordingInfo, Timestamp};
use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The ABI major version this host speaks.
pub const HOST_ABI_MAJOR: u32 = 1;
/// The newest ABI minor version this host knows.
pub const HOST_ABI_MINOR: u32 = 0;
/// The entry every plugin exports.
pub const ENTRY_NAME: &str = "pqe_plugin_entry";

const OK: i32 = 0;
const END: i32 = 1;
const TIMEOUT: i32 = 2;

/// Opaque device handle of a plugin.
#[repr(C)]
pub struct RawDevice {
    _private: [u8; 0],
}

/// `pqe_plugin_stream_info`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamInfo {
    channels: u32,
    reserved: u32,
    sample_rate: f64,
    start_ns: i64,
}

/// `pqe_plugin_channel_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ChannelInfo {
    name: [c_char; 32],
    unit: [c_char; 16],
}

/// `pqe_plugin_block_info`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct BlockInfo {
    first_sample: u64,
    time_ns: i64,
    samples: u32,
    reserved: u32,
}

type EnumerateFn = unsafe extern "C" fn(*mut c_char, usize, *mut usize) -> i32;
type OpenFn = unsafe extern "C" fn(*const c_char, *mut *mut RawDevice) -> i32;
type ConfigureFn = unsafe extern "C" fn(*mut RawDevice, *const c_char, *const c_char) -> i32;
type StreamInfoFn = unsafe extern "C" fn(*mut RawDevice, *mut StreamInfo) -> i32;
type ChannelInfoFn = unsafe extern "C" fn(*mut RawDevice, u32, *mut ChannelInfo) -> i32;
type DeviceFn = unsafe extern "C" fn(*mut RawDevice) -> i32;
type ReadFn = unsafe extern "C" fn(*mut RawDevice, *mut f64, u32, u32, *mut BlockInfo) -> i32;
type CloseFn = unsafe extern "C" fn(*mut RawDevice);
type LastErrorFn = unsafe extern "C" fn(*mut RawDevice) -> *const c_char;

/// `pqe_plugin_v1`, ABI 1.0.
#[repr(C)]
pub struct TableV1 {
    abi_major: u32,
    abi_minor: u32,
    struct_size: u32,
    reserved: u32,
    name: *const c_char,
    version: *const c_char,
    schemes: *const *const c_char,
    enumerate: Option<EnumerateFn>,
    open: Option<OpenFn>,
    configure: Option<ConfigureFn>,
    stream_info: Option<StreamInfoFn>,
    channel_info: Option<ChannelInfoFn>,
    start: Option<DeviceFn>,
    read: Option<ReadFn>,
    stop: Option<DeviceFn>,
    close: Option<CloseFn>,
    last_error: Option<LastErrorFn>,
}

/// Size of the ABI 1.0 table.
pub const TABLE_V1_0_SIZE: usize = std::mem::size_of::<TableV1>();

/// The checked function table of a loaded plugin (all functions present).
#[derive(Clone, Copy)]
struct Functions {
    enumerate: EnumerateFn,
    open: OpenFn,
    configure: ConfigureFn,
    stream_info: StreamInfoFn,
    channel_info: ChannelInfoFn,
    start: DeviceFn,
    read: ReadFn,
    stop: DeviceFn,
    close: CloseFn,
    last_error: LastErrorFn,
}

// SAFETY: the functions are plain C function pointers into a library that is never
// unloaded; the ABI allows enumerate/open from any thread and device calls from one thread
// at a time, which the host guarantees (one worker thread per device).
unsafe impl Send for Functions {}
unsafe impl Sync for Functions {}

/// A loaded C-ABI plugin: a [`Driver`] for its schemes.
pub struct PluginDriver {
    info: DriverInfo,
    path: PathBuf,
    f: Functions,
}

fn load_error(path: &Path, message: impl Into<String>) -> DeviceError {
    DeviceError::Load {
        file: path.to_path_buf(),
        message: message.into(),
    }
}

/// A C string the plugin owns, read as UTF-8 (lossily).
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string.
unsafe fn c_text(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// Load the plugin library at `path` and check its table.
pub fn load_plugin(path: &Path) -> Result<PluginDriver, DeviceError> {
    // SAFETY: loading a library runs its initialisers; that is what a plugin host does.
    // RTLD_NOW resolves every symbol now, so a missing one fails here with its name.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(path),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL,
        )
    }
    .map_err(|e| load_error(path, format!("cannot load the library: {e}")))?;
    let entry: libloading::os::unix::Symbol<unsafe extern "C" fn() -> *const TableV1> =
        unsafe { lib.get(format!("{ENTRY_NAME}\0").as_bytes()) }.map_err(|e| {
            load_error(
                path,
                format!("missing symbol: the library exports no '{ENTRY_NAME}' ({e})"),
            )
        })?;
    // SAFETY: the entry takes no arguments and returns a pointer to a static table.
    let table = unsafe { entry() };
    if table.is_null() {
        return Err(load_error(path, format!("'{ENTRY_NAME}' returned NULL")));
    }
    // Only the four leading u32 fields may be read before the size is checked.
    let head = table as *const u32;
    // SAFETY: every table version starts with the four u32s of the header.
    let (major, minor, size) = unsafe { (*head, *head.add(1), *head.add(2)) };
    if major != HOST_ABI_MAJOR {
        return Err(load_error(
            path,
            format!(
                "ABI mismatch: plugin ABI major version {major}, this PQE speaks {HOST_ABI_MAJOR}.x"
            ),
        ));
    }
    if minor > HOST_ABI_MINOR {
        return Err(load_error(
            path,
            format!(
                "ABI mismatch: plugin needs ABI {major}.{minor}, newer than this PQE's \
                 {HOST_ABI_MAJOR}.{HOST_ABI_MINOR}; update PQE"
            ),
        ));
    }
    if (size as usize) < TABLE_V1_0_SIZE {
        return Err(load_error(
            path,
            format!(
                "short table: struct_size {size} bytes, ABI {major}.{minor} needs {TABLE_V1_0_SIZE}"
            ),
        ));
    }
    // SAFETY: the plugin states a table of at least the v1.0 size.
    let t: &'static TableV1 = unsafe { &*table };
    let missing = |name: &str| load_error(path, format!("missing function '{name}' in the table"));
    let f = Functions {
        enumerate: t.enumerate.ok_or_else(|| missing("enumerate"))?,
        open: t.open.ok_or_else(|| missing("open"))?,
        configure: t.configure.ok_or_else(|| missing("configure"))?,
        stream_info: t.stream_info.ok_or_else(|| missing("stream_info"))?,
        channel_info: t.channel_info.ok_or_else(|| missing("channel_info"))?,
        start: t.start.ok_or_else(|| missing("start"))?,
        read: t.read.ok_or_else(|| missing("read"))?,
        stop: t.stop.ok_or_else(|| missing("stop"))?,
        close: t.close.ok_or_else(|| missing("close"))?,
        last_error: t.last_error.ok_or_else(|| missing("last_error"))?,
    };
    // SAFETY: name/version are NUL-terminated static strings by contract.
    let name = unsafe { c_text(t.name) }.ok_or_else(|| missing("name (NULL)"))?;
    let version = unsafe { c_text(t.version) }.ok_or_else(|| missing("version (NULL)"))?;
    if t.schemes.is_null() {
        return Err(missing("schemes (NULL)"));
    }
    let mut schemes = Vec::new();
    for i in 0..64 {
        // SAFETY: a NULL-terminated array of C strings, bounded at 64 entries.
        let p = unsafe { *t.schemes.add(i) };
        match unsafe { c_text(p) } {
            None => break,
            Some(s) => schemes.push(s.to_ascii_lowercase()),
        }
    }
    if schemes.is_empty() {
        return Err(load_error(path, "the plugin handles no URI scheme"));
    }
    if let Some(bad) = schemes.iter().find(|s| {
        s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    }) {
        return Err(load_error(
            path,
            format!("scheme '{bad}' is not a URI scheme"),
        ));
    }
    // Never unloaded.
    std::mem::forget(lib);
    Ok(PluginDriver {
        info: DriverInfo {
            name,
            version,
            schemes,
            origin: Origin::Plugin(path.to_path_buf()),
            description: format!("C-ABI plugin (ABI {major}.{minor})"),
        },
        path: path.to_path_buf(),
        f,
    })
}

impl PluginDriver {
    fn label(&self) -> String {
        format!("{} (plugin {})", self.info.name, self.path.display())
    }
}

impl Driver for PluginDriver {
    fn info(&self) -> &DriverInfo {
        &self.info
    }
    fn enumerate(&self, _deadline: Duration) -> Result<Vec<FoundDevice>, DeviceError> {
        let mut cap = 4096usize;
        for _ in 0..3 {
            let mut buf = vec![0 as c_char; cap];
            let mut needed = 0usize;
            // SAFETY: buf holds cap bytes; the plugin writes at most cap and NUL-terminates.
            let rc = unsafe { (self.f.enumerate)(buf.as_mut_ptr(), cap, &mut needed) };
            if rc != OK {
                // SAFETY: last_error(NULL) returns a NUL-terminated string.
                let msg = unsafe { c_text((self.f.last_error)(std::ptr::null_mut())) }
                    .unwrap_or_default();
                return Err(fault(
                    &self.label(),
                    "(enumeration)",
                    Fault::DriverError,
                    msg,
                ));
            }
            if needed > cap {
                if needed > 1 << 20 {
                    return Err(fault(
                        &self.label(),
                        "(enumeration)",
                        Fault::Oversized,
                        format!("device list of {needed} bytes (limit 1 MiB)"),
                    ));
                }
                cap = needed;
                continue;
            }
            buf[cap - 1] = 0;
            // SAFETY: NUL-terminated within buf (forced above).
            let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
            return Ok(text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (uri, d) = l.split_once('\t').unwrap_or((l, ""));
                    FoundDevice {
                        uri: uri.to_string(),
                        description: d.to_string(),
                    }
                })
                .collect());
        }
        Err(fault(
            &self.label(),
            "(enumeration)",
            Fault::LyingCount,
            "the device list kept growing",
        ))
    }
    fn open(&self, uri: &DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError> {
        Ok(Box::new(PluginSource::open(self, uri)?))
    }
}

/// A device handle that may move to the worker thread.
struct DevicePtr(*mut RawDevice);
// SAFETY: the ABI lets a device be used from any one thread at a time; the host hands it
// to exactly one worker thread.
unsafe impl Send for DevicePtr {}

/// Samples the guard region after each buffer holds (a NaN with a payload no arithmetic
/// produces).
const GUARD: u64 = 0x7ff8_dead_beef_cafe;
const GUARD_LEN: usize = 16;

struct ReadReply {
    status: i32,
    info: BlockInfo,
    buffer: Vec<f64>,
    error: String,
}

enum Request {
    Read(Vec<f64>),
    Close,
}

/// A device of a C plugin as a live source.
pub struct PluginSource {
    label: String,
    device: String,
    info: RecordingInfo,
    requests: mpsc::Sender<Request>,
    replies: mpsc::Receiver<ReadReply>,
    /// Reads asked of the reader thread and not yet answered (at most [`READS_AHEAD`]).
    in_flight: usize,
    /// Read buffers not in use (each `channels × max_samples` plus the guard).
    spares: Vec<Vec<f64>>,
    channel_count: usize,
    max_samples: usize,
    timeout: Duration,
    next_index: u64,
    pending: Option<Block>,
    ended: bool,
}

/// Reads the host keeps asked of a plugin at once. With two, the plugin's reader thread
/// always finds its next buffer waiting when a read returns: it never sleeps while the
/// host wakes up, takes the block and asks again, so the plugin acquires without pause
/// (three buffers take turns: two with the plugin, one being copied out).
const READS_AHEAD: usize = 2;

/// How long the host asks for a read's reply without sleeping before it waits asleep
/// ([`PluginSource::poll_reply`]): about one block's time at full speed, so a fast device
/// never has to wake the host, while a paced one (a block every few milliseconds or more)
/// costs at most this much processor time per block.
const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(200);

/// A read buffer of `channels × block` samples followed by the guard region.
fn new_buffer(channels: usize, block: usize) -> Vec<f64> {
    let mut b = vec![0.0; channels * block + GUARD_LEN];
    b[channels * block..].fill(f64::from_bits(GUARD));
    b
}

fn device_error(f: &Functions, dev: *mut RawDevice) -> String {
    // SAFETY: last_error returns a NUL-terminated string valid until the next call.
    unsafe { c_text((f.last_error)(dev)) }.unwrap_or_default()
}

impl PluginSource {
    fn open(driver: &PluginDriver, uri: &DeviceUri) -> Result<PluginSource, DeviceError> {
        let label = driver.label();
        let device = uri.redacted();
        let f = driver.f;
        let err = |kind: Fault, m: String| fault(&label, &device, kind, m);
        let timeout: f64 = uri.param_or("timeout", 5.0)?;
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 86_400.0) {
            return Err(uri.error(format!("timeout={timeout}: give 0 < seconds ≤ 86400")));
        }
        let block: usize = uri.param_or("block", 65_536)?;
        if !(1..=1 << 24).contains(&block) {
            return Err(uri.error("block must be 1 to 16777216 samples"));
        }
        let text = CString::new(uri.as_str()).map_err(|_| uri.error("contains a NUL byte"))?;
        let mut dev: *mut RawDevice = std::ptr::null_mut();
        // SAFETY: text is NUL-terminated; dev receives the handle.
        let rc = unsafe { (f.open)(text.as_ptr(), &mut dev) };
        if rc != OK || dev.is_null() {
            let m = device_error(&f, std::ptr::null_mut());
            return Err(err(Fault::DriverError, format!("open failed: {m}")));
        }
        // From here on the device is closed on every error path.
        let close = |dev: *mut RawDevice| unsafe { (f.close)(dev) };
        for (k, v) in uri.query() {
            if k == "timeout" || k == "block" {
                continue;
            }
            let (ck, cv) = match (CString::new(k.as_str()), CString::new(v.as_str())) {
                (Ok(a), Ok(b)) => (a, b),
                _ => {
                    close(dev);
                    return Err(uri.error("a parameter contains a NUL byte"));
                }
            };
            // SAFETY: NUL-terminated key and value; dev is open.
            if unsafe { (f.configure)(dev, ck.as_ptr(), cv.as_ptr()) } != OK {
                let m = device_error(&f, dev);
                close(dev);
                return Err(err(Fault::DriverError, format!("configure {k}={v}: {m}")));
            }
        }
        let mut si = StreamInfo::default();
        // SAFETY: dev is open; si is a valid out pointer.
        if unsafe { (f.stream_info)(dev, &mut si) } != OK {
            let m = device_error(&f, dev);
            close(dev);
            return Err(err(Fault::DriverError, format!("stream_info: {m}")));
        }
        if si.channels == 0
            || si.channels > 4096
            || !(si.sample_rate.is_finite() && si.sample_rate > 0.0)
        {
            close(dev);
            return Err(err(
                Fault::Malformed,
                format!(
                    "stream_info gives {} channels at {} Hz (1 to 4096 channels, a positive rate)",
                    si.channels, si.sample_rate
                ),
            ));
        }
        let mut names = Vec::new();
        let mut units = Vec::new();
        for c in 0..si.channels {
            let mut ci = ChannelInfo {
                name: [0; 32],
                unit: [0; 16],
            };
            // SAFETY: dev is open; ci is a valid out pointer.
            if unsafe { (f.channel_info)(dev, c, &mut ci) } != OK {
                let m = device_error(&f, dev);
                close(dev);
                return Err(err(Fault::DriverError, format!("channel_info {c}: {m}")));
            }
            ci.name[31] = 0;
            ci.unit[15] = 0;
            // SAFETY: forced NUL termination above.
            names.push(unsafe { c_text(ci.name.as_ptr()) }.unwrap_or_default());
            units.push(unsafe { c_text(ci.unit.as_ptr()) }.unwrap_or_default());
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut specs = channels_from_names(&refs);
        for (s, u) in specs.iter_mut().zip(&units) {
            if !u.is_empty() {
                s.unit = u.clone();
                if ChannelKind::from_unit(u) != ChannelKind::Other {
                    s.kind = ChannelKind::from_unit(u);
                }
            }
        }
        // SAFETY: dev is open and configured.
        if unsafe { (f.start)(dev) } != OK {
            let m = device_error(&f, dev);
            close(dev);
            return Err(err(Fault::DriverError, format!("start: {m}")));
        }
        let (req_tx, req_rx) = mpsc::channel::<Request>();
        let (rep_tx, rep_rx) = mpsc::sync_channel::<ReadReply>(READS_AHEAD);
        let channels = si.channels as usize;
        let timeout_ms = (timeout * 1000.0).ceil() as u32;
        let handle = DevicePtr(dev);
        std::thread::Builder::new()
            .name(format!("pqe-plugin-{}", driver.info.name))
            .spawn(move || {
                let handle = handle;
                let dev = handle.0;
                while let Ok(Request::Read(mut buffer)) = req_rx.recv() {
                    let mut info = BlockInfo::default();
                    // SAFETY: buffer holds channels × block samples plus the guard; dev is
                    // used by this thread only.
                    let status = unsafe {
                        (f.read)(
                            dev,
                            buffer.as_mut_ptr(),
                            block as u32,
                            timeout_ms,
                            &mut info,
                        )
                    };
                    let error = if status < 0 {
                        device_error(&f, dev)
                    } else {
                        String::new()
                    };
                    let stop = status < 0 || status == END;
                    if rep_tx
                        .send(ReadReply {
                            status,
                            info,
                            buffer,
                            error,
                        })
                        .is_err()
                        || stop
                    {
                        break;
                    }
                }
                // SAFETY: dev is open; stop and close end its life.
                unsafe {
                    (f.stop)(dev);
                    (f.close)(dev);
                }
            })
            .map_err(|e| err(Fault::Io, format!("cannot start the reader thread: {e}")))?;
        let info = live_info(&device, specs, si.sample_rate, Timestamp(si.start_ns));
        Ok(PluginSource {
            label,
            device,
            info,
            requests: req_tx,
            replies: rep_rx,
            in_flight: 0,
            spares: Vec::new(),
            channel_count: channels,
            max_samples: block,
            timeout: Duration::from_secs_f64(timeout),
            next_index: 0,
            pending: None,
            ended: false,
        })
    }

    fn fault(&mut self, kind: Fault, message: impl Into<String>) -> DeviceError {
        self.ended = true;
        fault(&self.label, &self.device, kind, message)
    }

    fn request(&mut self) {
        while self.in_flight < READS_AHEAD {
            let buffer = self
                .spares
                .pop()
                .unwrap_or_else(|| new_buffer(self.channel_count, self.max_samples));
            if self.requests.send(Request::Read(buffer)).is_err() {
                // The reader thread has ended: after the end of the stream or an error, both
                // of which are among its replies still queued. Those come first; once they
                // are taken, the closed reply channel reports the thread's end.
                break;
            }
            self.in_flight += 1;
        }
    }

    /// The next reply if it comes within [`POLL_BEFORE_SLEEP`], asked for again and again
    /// without sleeping; `None` when it has not (or the reader thread has ended: the
    /// blocking wait that follows reports that).
    ///
    /// A host asleep on the reply channel must be woken by the plugin's thread, and when
    /// the two threads run on different processors that wake-up (a system call and an
    /// interrupt to the other processor, dearer still in a virtual machine) costs the
    /// plugin more than the block it follows. On this machine (two virtual processors)
    /// the sample plugin's carry rate was about 650–750 M samples/s in some runs and about
    /// 400–470 M in others, as the scheduler placed the two threads; polling first, it was
    /// 840–880 M in five runs out of five.
    fn poll_reply(&self) -> Option<ReadReply> {
        let until = Instant::now() + POLL_BEFORE_SLEEP;
        loop {
            match self.replies.try_recv() {
                Ok(r) => return Some(r),
                Err(mpsc::TryRecvError::Empty) if Instant::now() < until => std::hint::spin_loop(),
                Err(_) => return None,
            }
        }
    }

    fn time_of(&self, index: u64) -> Timestamp {
        Timestamp(self.info.start.0 + (index as f64 * 1e9 / self.info.sample_rate).round() as i64)
    }
}

impl LiveSource for PluginSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }
    fn driver(&self) -> &str {
        &self.label
    }
    fn next(&mut self) -> Result<Delivery, DeviceError> {
        if let Some(b) = self.pending.take() {
            return Ok(Delivery::Block(b));
        }
        let started = Instant::now();
        loop {
            if self.ended {
                return Ok(Delivery::End);
            }
            self.request();
            // Grace beyond the plugin's own timeout_ms for scheduling delays.
            let left =
                (self.timeout + Duration::from_millis(500)).saturating_sub(started.elapsed());
            let reply = match self
                .poll_reply()
                .map_or_else(|| self.replies.recv_timeout(left), Ok)
            {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let t = self.timeout;
                    return Err(self.fault(
                        Fault::Timeout,
                        format!("read did not return within {t:?}; the device is abandoned"),
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.fault(Fault::Crash, "the reader thread has ended"))
                }
            };
            self.in_flight -= 1;
            let ReadReply {
                status,
                info,
                buffer,
                error,
            } = reply;
            let nc = self.info.channels.len();
            let max = self.max_samples;
            if buffer[nc * max..].iter().any(|v| v.to_bits() != GUARD) {
                return Err(self.fault(
                    Fault::LyingCount,
                    format!("read wrote past the end of the {max}-sample buffer"),
                ));
            }
            match status {
                OK => {}
                END => {
                    self.ended = true;
                    return Ok(Delivery::End);
                }
                TIMEOUT => {
                    self.spares.push(buffer);
                    if started.elapsed() >= self.timeout {
                        let t = self.timeout;
                        return Err(self.fault(Fault::Timeout, format!("no samples within {t:?}")));
                    }
                    continue;
                }
                s if s < 0 => return Err(self.fault(Fault::DriverError, error)),
                s => {
                    return Err(self.fault(
                        Fault::Malformed,
                        format!("read returned unknown status {s}"),
                    ))
                }
            }
            let n = info.samples as usize;
            if n > max {
                return Err(self.fault(
                    Fault::LyingCount,
                    format!("read reports {n} samples for a buffer of {max}"),
                ));
            }
            if info.first_sample < self.next_index {
                let (got, want) = (info.first_sample, self.next_index);
                return Err(self.fault(
                    Fault::Discontinuity,
                    format!("block starts at sample {got}, before sample {want} already delivered"),
                ));
            }
            if n == 0 {
                self.spares.push(buffer);
                if started.elapsed() >= self.timeout {
                    let t = self.timeout;
                    return Err(self.fault(Fault::Timeout, format!("no samples within {t:?}")));
                }
                continue;
            }
            // Keep the plugin's reads asked ahead before copying this one out and handing
            // the block on: the plugin acquires while the host copies and the consumer works.
            self.request();
            let data = if n == max {
                // A full buffer is the block as it stands (planar, `max` per channel): it is
                // handed on without a copy, and a fresh buffer takes its turn.
                let mut data = buffer;
                data.truncate(nc * max);
                data
            } else {
                let mut data = Vec::with_capacity(nc * n);
                for c in 0..nc {
                    data.extend_from_slice(&buffer[c * max..c * max + n]);
                }
                self.spares.push(buffer);
                data
            };
            let gap = (info.first_sample > self.next_index).then(|| Gap {
                from: self.time_of(self.next_index),
                to: Some(self.time_of(info.first_sample)),
                reason: format!(
                    "{}: samples {} to {} lost",
                    self.label,
                    self.next_index,
                    info.first_sample - 1
                ),
            });
            let block = Block::from_planar(
                self.time_of(info.first_sample),
                self.info.sample_rate,
                info.first_sample,
                nc,
                data,
            )?;
            self.next_index = info.first_sample + n as u64;
            return Ok(match gap {
                Some(g) => {
                    self.pending = Some(block);
                    Delivery::Gap(g)
                }
                None => Delivery::Block(block),
            });
        }
    }
    fn stop(&mut self) {
        self.ended = true;
    }
}

impl Drop for PluginSource {
    fn drop(&mut self) {
        // The worker stops and closes the device once it sees the request channel close
        // (or after its current read); a stuck worker is left behind, never joined.
        let _ = self.requests.send(Request::Close);
    }
}

/// The plugin folders, in search order: each entry of `PQE_PLUGIN_PATH` (colon-separated),
/// then the versioned folders `$XDG_DATA_HOME/pqe/plugins/abi1` (or
/// `~/.local/share/pqe/plugins/abi1`) and `lib/pqe/plugins/abi1` beside the executable's
/// folder.
pub fn plugin_dirs() -> Vec<PathBuf> {
    let sub = format!("pqe/plugins/abi{HOST_ABI_MAJOR}");
    let mut dirs: Vec<PathBuf> = std::env::var_os("PQE_PLUGIN_PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .filter(|d| !d.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        dirs.push(PathBuf::from(d).join(&sub));
    } else if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".local/share").join(&sub));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            dirs.push(prefix.join("lib").join(&sub));
        }
    }
    dirs
}

/// The shared libraries in `dir` (`*.so`, `*.dylib`), sorted by name.
pub fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("so") | Some("dylib")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Load every plugin of the plugin folders into `registry`; refusals are recorded in
/// `registry.refused` with the file and the mismatch.
pub fn load_plugins_into(registry: &mut crate::Registry, dirs: &[PathBuf]) {
    for dir in dirs {
        for lib in libraries_in(dir) {
            match load_plugin(&lib) {
                Ok(d) => registry.add(Arc::new(d)),
                Err(e) => registry.refused.push(Arc::new(e)),
            }
        }
    }
}
