//! COMTRADE reading behind `pqe_comtrade*`.

use crate::analyzer::{
    pqe_channel, PQE_CHANNEL_CURRENT, PQE_CHANNEL_OTHER, PQE_CHANNEL_VOLTAGE, PQE_PHASE_A,
    PQE_PHASE_AB, PQE_PHASE_B, PQE_PHASE_BC, PQE_PHASE_C, PQE_PHASE_CA, PQE_PHASE_N,
    PQE_PHASE_NONE,
};
use crate::error::{run, Failure};
use crate::{handles, pqe_status, Opaque};
use pqe_core::{Block, ChannelKind, Phase};
use pqe_io::comtrade::ComtradeReader;
use pqe_io::RecordingReader;
use std::ffi::{c_char, CStr, CString};
use std::mem::size_of;

/// An opaque COMTRADE reader (a token, see the header's introduction). Made by
/// [`pqe_comtrade_open`], released by [`pqe_comtrade_close`].
pub struct pqe_comtrade {
    _opaque: Opaque,
}

/// What a COMTRADE recording holds, filled by [`pqe_comtrade_info`]. Set
/// `struct_size = sizeof(pqe_recording_info)` before the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pqe_recording_info {
    /// `sizeof(pqe_recording_info)` as the caller compiled it (input).
    pub struct_size: usize,
    /// Analog channels (the values [`pqe_comtrade_read`] gives per sample).
    pub n_channels: usize,
    /// Digital (status) channels (not read through this API).
    pub n_digital: usize,
    /// Samples per second; 0 when the samples carry their own time stamps (rate 0). With
    /// several rates (`n_rate_segments > 1`) the first rate.
    pub sample_rate: f64,
    /// Number of sampling-rate segments the file declares.
    pub n_rate_segments: usize,
    /// Samples per channel in the recording; 0 when unknown.
    pub total_samples: u64,
    /// Time of the first sample, nanoseconds since 1970-01-01T00:00:00 in the file's clock.
    pub start_unix_ns: i64,
    /// Nominal line frequency the file states, Hz (0 when not stated).
    pub line_frequency: f64,
}

/// Everything behind a `pqe_comtrade*`.
pub(crate) struct ComtradeState {
    reader: ComtradeReader,
    info: pqe_recording_info,
    /// The channel descriptions handed to C; their strings point into `strings`.
    channels: Vec<pqe_channel>,
    /// Owns the names and units `channels` points to (heap buffers that never move).
    _strings: Vec<CString>,
    done: bool,
}

// SAFETY: the raw pointers in `channels` point only into `_strings`, which this state owns
// and never mutates; moving the state to another thread moves both together.
unsafe impl Send for ComtradeState {}

fn token(r: *const pqe_comtrade) -> usize {
    r as usize
}

fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

fn phase_code(p: Option<Phase>) -> i32 {
    match p {
        None => PQE_PHASE_NONE,
        Some(Phase::A) => PQE_PHASE_A,
        Some(Phase::B) => PQE_PHASE_B,
        Some(Phase::C) => PQE_PHASE_C,
        Some(Phase::N) => PQE_PHASE_N,
        Some(Phase::AB) => PQE_PHASE_AB,
        Some(Phase::BC) => PQE_PHASE_BC,
        Some(Phase::CA) => PQE_PHASE_CA,
    }
}

impl ComtradeState {
    fn new(reader: ComtradeReader) -> Self {
        let ri = reader.info().clone();
        let mut strings = Vec::with_capacity(2 * ri.channels.len());
        let mut channels = Vec::with_capacity(ri.channels.len());
        for c in &ri.channels {
            let name = to_cstring(&c.name);
            let unit = to_cstring(c.unit.trim());
            channels.push(pqe_channel {
                name: name.as_ptr(),
                kind: match c.kind {
                    ChannelKind::Voltage => PQE_CHANNEL_VOLTAGE,
                    ChannelKind::Current => PQE_CHANNEL_CURRENT,
                    ChannelKind::Other => PQE_CHANNEL_OTHER,
                },
                phase: phase_code(c.phase),
                unit: unit.as_ptr(),
            });
            strings.push(name);
            strings.push(unit);
        }
        let info = pqe_recording_info {
            struct_size: size_of::<pqe_recording_info>(),
            n_channels: ri.channels.len(),
            n_digital: ri.digital_channels.len(),
            sample_rate: ri.sample_rate,
            n_rate_segments: ri.rate_segments.len(),
            total_samples: ri.total_samples.unwrap_or(0),
            start_unix_ns: ri.start.as_nanos(),
            line_frequency: ri.line_frequency,
        };
        ComtradeState {
            reader,
            info,
            channels,
            _strings: strings,
            done: false,
        }
    }

    /// The next block of at most `max` samples, `None` at the end.
    fn next_block(&mut self, max: usize) -> Result<Option<Block>, Failure> {
        if self.done {
            return Ok(None);
        }
        if self.info.n_channels == 0 {
            return Err(Failure::new(
                pqe_status::PQE_ERR_UNSUPPORTED,
                "the recording has no analog channel to read",
            ));
        }
        let block = self.reader.read_block(max)?;
        if block.is_none() {
            self.done = true;
        }
        Ok(block)
    }
}

/// Open a COMTRADE recording (a `.cfg` with its `.dat` beside it, or a `.cff`) and store
/// the reader's handle in `*out` (NULL on failure). Values are read in the channels' units
/// (`a·x + b` applied), missing values as NaN.
///
/// Errors: `PQE_ERR_NULL`, `PQE_ERR_INVALID_ARGUMENT` (path not UTF-8), `PQE_ERR_IO` (file
/// missing or unreadable), `PQE_ERR_FORMAT` (the .cfg does not follow COMTRADE; the last
/// error names file, line and field).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_comtrade_open(
    path: *const c_char,
    out: *mut *mut pqe_comtrade,
) -> pqe_status {
    run("pqe_comtrade_open", || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        if path.is_null() {
            return Err(Failure::null("path"));
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let path = unsafe { CStr::from_ptr(path) }
            .to_str()
            .map_err(|_| Failure::invalid("path is not valid UTF-8"))?;
        let reader = ComtradeReader::open(path)?;
        let token = handles::register(ComtradeState::new(reader));
        // SAFETY: as above.
        unsafe { out.write(token as *mut pqe_comtrade) };
        Ok(pqe_status::PQE_OK)
    })
}

/// Fill `*out` with what the recording holds (`out->struct_size` must be set to
/// `sizeof(pqe_recording_info)`).
///
/// # Safety
/// `out` is NULL or points to a writable `pqe_recording_info` of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn pqe_comtrade_info(
    r: *mut pqe_comtrade,
    out: *mut pqe_recording_info,
) -> pqe_status {
    run("pqe_comtrade_info", || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL; the caller guarantees a readable, aligned struct that starts
        // with its size.
        let size = unsafe { out.cast::<usize>().read() };
        let expected = size_of::<pqe_recording_info>();
        if size < expected || size > 1 << 16 {
            return Err(Failure::invalid(format!(
                "out->struct_size is {size}, expected {expected} (set it to \
                 sizeof(pqe_recording_info))"
            )));
        }
        handles::with(token(r), "r", |s: &mut ComtradeState| {
            // SAFETY: non-NULL and writable for at least `expected` bytes (checked above).
            unsafe { out.write(s.info) };
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// The analog channels as a `pqe_channel` array of `*n` entries into `*channels` (name,
/// kind and phase from the file's unit and phase fields, unit), owned by the reader and
/// valid until [`pqe_comtrade_close`]. It can serve directly as `pqe_config.channels`.
///
/// # Safety
/// `channels` and `n` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_comtrade_channels(
    r: *mut pqe_comtrade,
    channels: *mut *const pqe_channel,
    n: *mut usize,
) -> pqe_status {
    run("pqe_comtrade_channels", || {
        if channels.is_null() {
            return Err(Failure::null("channels"));
        }
        if n.is_null() {
            return Err(Failure::null("n"));
        }
        handles::with(token(r), "r", |s: &mut ComtradeState| {
            // SAFETY: both non-NULL and writable per the contract; the array lives in the
            // state, whose Vec is never changed after the reader was opened.
            unsafe {
                channels.write(s.channels.as_ptr());
                n.write(s.channels.len());
            }
            Ok(pqe_status::PQE_OK)
        })
    })
}

fn read_checked(
    r: *mut pqe_comtrade,
    out_null: bool,
    max_samples: usize,
    n_read: *mut usize,
    precheck: impl FnOnce(usize) -> Result<(), Failure>,
    write: impl FnOnce(&Block, usize) -> Result<(), Failure>,
) -> Result<pqe_status, Failure> {
    if n_read.is_null() {
        return Err(Failure::null("n_read"));
    }
    // SAFETY: non-NULL and writable per the contract of the callers.
    unsafe { n_read.write(0) };
    if out_null {
        return Err(Failure::null("out"));
    }
    if max_samples == 0 {
        return Err(Failure::invalid("max_samples is 0"));
    }
    handles::with(token(r), "r", |s: &mut ComtradeState| {
        let n_ch = s.info.n_channels;
        max_samples.checked_mul(n_ch).ok_or_else(|| {
            Failure::invalid(format!(
                "max_samples {max_samples} × {n_ch} channels overflows size_t"
            ))
        })?;
        // Checked before reading, so a bad argument loses no samples.
        precheck(n_ch)?;
        let Some(block) = s.next_block(max_samples)? else {
            return Ok(pqe_status::PQE_END);
        };
        let n = block.len();
        write(&block, n_ch)?;
        // SAFETY: as above.
        unsafe { n_read.write(n) };
        Ok(pqe_status::PQE_OK)
    })
}

/// Read up to `max_samples` samples of every analog channel into `out`, interleaved
/// frame by frame as [`pqe_analyzer_push`](crate::pqe_analyzer_push) takes them:
/// `out[i * n_channels + c]` is sample `i` of channel `c`; `out` must hold
/// `max_samples * n_channels` doubles. `*n_read` receives the samples per channel read
/// (at most `max_samples`, possibly fewer before the end or at a change of sampling rate).
/// Returns `PQE_END` with `*n_read = 0` at the end of the recording.
///
/// Errors: `PQE_ERR_NULL`, `PQE_ERR_INVALID_HANDLE`, `PQE_ERR_INVALID_ARGUMENT`
/// (`max_samples` 0 or overflowing), `PQE_ERR_FORMAT` (the data file is damaged; the last
/// error names the byte or line; later reads fail too), `PQE_ERR_IO`.
///
/// # Safety
/// `out` is NULL or points to `max_samples * n_channels` writable doubles; `n_read` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_comtrade_read(
    r: *mut pqe_comtrade,
    out: *mut f64,
    max_samples: usize,
    n_read: *mut usize,
) -> pqe_status {
    run("pqe_comtrade_read", || {
        let no_check = |_| Ok(());
        read_checked(
            r,
            out.is_null(),
            max_samples,
            n_read,
            no_check,
            |block, n_ch| {
                let n = block.len();
                // SAFETY: non-NULL; `n * n_ch <= max_samples * n_ch` doubles are writable.
                let dst = unsafe { std::slice::from_raw_parts_mut(out, n * n_ch) };
                for (c, src) in block.channels().enumerate() {
                    for (i, &x) in src.iter().enumerate() {
                        dst[i * n_ch + c] = x;
                    }
                }
                Ok(())
            },
        )
    })
}

/// Read up to `max_samples` samples of every analog channel, planar: `out[c]` points to
/// room for `max_samples` doubles of channel `c`, for each of the `n_channels` channels.
/// Otherwise as [`pqe_comtrade_read`].
///
/// # Safety
/// `out` is NULL or points to `n_channels` pointers, each NULL or pointing to
/// `max_samples` writable doubles; `n_read` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_comtrade_read_planar(
    r: *mut pqe_comtrade,
    out: *const *mut f64,
    max_samples: usize,
    n_read: *mut usize,
) -> pqe_status {
    run("pqe_comtrade_read_planar", || {
        let precheck = |n_ch| {
            // SAFETY: non-NULL (checked first); the caller guarantees `n_channels` pointers.
            let pointers = unsafe { std::slice::from_raw_parts(out, n_ch) };
            match pointers.iter().position(|p| p.is_null()) {
                Some(c) => Err(Failure::null(&format!("out[{c}]"))),
                None => Ok(()),
            }
        };
        read_checked(
            r,
            out.is_null(),
            max_samples,
            n_read,
            precheck,
            |block, n_ch| {
                // SAFETY: non-NULL; the caller guarantees `n_channels` pointers (checked for
                // NULL entries before reading).
                let pointers = unsafe { std::slice::from_raw_parts(out, n_ch) };
                for (src, &p) in block.channels().zip(pointers) {
                    // SAFETY: non-NULL, room for `max_samples >= src.len()` doubles.
                    let dst = unsafe { std::slice::from_raw_parts_mut(p, src.len()) };
                    dst.copy_from_slice(src);
                }
                Ok(())
            },
        )
    })
}

/// Close a reader. The handle is invalid afterwards (any further use, a second close
/// included, returns `PQE_ERR_INVALID_HANDLE`); the channel array of
/// [`pqe_comtrade_channels`] is released with it. NULL returns `PQE_ERR_NULL`.
#[no_mangle]
pub extern "C" fn pqe_comtrade_close(r: *mut pqe_comtrade) -> pqe_status {
    run("pqe_comtrade_close", || {
        handles::remove::<ComtradeState>(token(r), "r")?;
        Ok(pqe_status::PQE_OK)
    })
}
