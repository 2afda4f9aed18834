//! The thread-local last error, the mapping of engine errors to status codes, and the guard
//! every entry point runs in.

use crate::pqe_status;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why a call failed: a status and a message for the last error.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: pqe_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: pqe_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }
    pub(crate) fn null(argument: &str) -> Self {
        Failure::new(
            pqe_status::PQE_ERR_NULL,
            format!("argument '{argument}' is NULL"),
        )
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(pqe_status::PQE_ERR_INVALID_ARGUMENT, message)
    }
}

/// The status of an engine error: a stream error (a block that overlaps the previous one,
/// samples after the end) keeps its own status, apart from configuration errors.
pub(crate) fn status_of(e: &pqe_core::Error) -> pqe_status {
    use pqe_core::{Error, StreamErrorKind};
    match e {
        Error::Io { .. } => pqe_status::PQE_ERR_IO,
        Error::Format { .. } => pqe_status::PQE_ERR_FORMAT,
        Error::Unsupported(_) => pqe_status::PQE_ERR_UNSUPPORTED,
        Error::Stream {
            kind: StreamErrorKind::AfterFinish,
            ..
        } => pqe_status::PQE_ERR_STATE,
        Error::Stream { .. } => pqe_status::PQE_ERR_STREAM,
        _ => pqe_status::PQE_ERR_INVALID_ARGUMENT,
    }
}

impl From<pqe_core::Error> for Failure {
    fn from(e: pqe_core::Error) -> Self {
        Failure::new(status_of(&e), e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: String) {
    // A message with NUL bytes cannot be a C string: show them as U+FFFD.
    let text = CString::new(message.replace('\0', "\u{fffd}"))
        .unwrap_or_else(|_| CString::from(c"(unprintable error message)"));
    // During thread teardown the slot may be gone; then the message is dropped.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(text);
        }
    });
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = None;
        }
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Run the body of entry point `function` the way every entry point runs: clear the
/// thread's last error, catch any panic (→ `PQE_ERR_PANIC`), and turn a failure into its
/// status with the last error set to "`function`: message".
///
/// Public (but not part of the C ABI) so that tests can check the panic path.
pub fn ffi_guard<F>(function: &str, body: F) -> pqe_status
where
    F: FnOnce() -> Result<pqe_status, String>,
{
    run(function, || {
        body().map_err(|m| Failure::new(pqe_status::PQE_ERR_INVALID_ARGUMENT, m))
    })
}

/// [`ffi_guard`] for the crate's entry points, with a [`Failure`] carrying the status.
pub(crate) fn run<F>(function: &str, body: F) -> pqe_status
where
    F: FnOnce() -> Result<pqe_status, Failure>,
{
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(format!("{function}: {}", failure.message));
            failure.status
        }
        Err(payload) => {
            // Formatting the payload cannot panic for the two payload types std makes; a
            // custom payload type gets a fixed text.
            set_last_error(format!(
                "{function}: internal error (Rust panic caught at the C boundary): {}",
                panic_message(payload.as_ref())
            ));
            pqe_status::PQE_ERR_PANIC
        }
    }
}

/// Copy the calling thread's last error message into `buf` (at most `len` bytes including
/// the terminating NUL; truncated on a UTF-8 character boundary) and return the full
/// message's length in bytes without the NUL, like `snprintf`. A return value `>= len`
/// means the message was truncated. With `buf` NULL or `len` 0 nothing is written (ask for
/// the length first, then allocate). Returns 0 when the last call succeeded. Does not
/// change the last error.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pqe_last_error(buf: *mut c_char, len: usize) -> usize {
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|slot| {
                let slot = slot.try_borrow().ok()?;
                let message = slot.as_ref()?.to_bytes();
                if !buf.is_null() && len > 0 {
                    let mut n = message.len().min(len - 1);
                    // Do not cut a UTF-8 sequence: back up to a character boundary.
                    while n > 0 && n < message.len() && (message[n] & 0xC0) == 0x80 {
                        n -= 1;
                    }
                    // SAFETY: the caller guarantees `buf` is valid for `len` bytes; `n + 1
                    // <= len` and the source is our own message, which cannot overlap it.
                    unsafe {
                        std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                        *buf.add(n) = 0;
                    }
                }
                Some(message.len())
            })
            .ok()
            .flatten()
            .unwrap_or(0)
    })
    .unwrap_or(0)
}

/// The calling thread's last error message as a NUL-terminated string owned by the library
/// (an empty string when the last call succeeded). It stays valid until the next call into
/// the library on this thread (other than this function and [`pqe_last_error`]); copy it
/// to keep it. Never NULL.
#[no_mangle]
pub extern "C" fn pqe_last_error_message() -> *const c_char {
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|slot| {
                // The CString's heap buffer does not move while it stays in the slot.
                let slot = slot.try_borrow().ok()?;
                slot.as_ref().map(|m| m.as_ptr())
            })
            .ok()
            .flatten()
    })
    .ok()
    .flatten()
    .unwrap_or(c"".as_ptr())
}

/// The symbolic name of a status value (`"PQE_ERR_NULL"`, …), a static NUL-terminated
/// string; `"PQE_UNKNOWN_STATUS"` for a value that is not a status.
#[no_mangle]
pub extern "C" fn pqe_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"PQE_OK",
        1 => c"PQE_END",
        -1 => c"PQE_ERR_NULL",
        -2 => c"PQE_ERR_INVALID_ARGUMENT",
        -3 => c"PQE_ERR_IO",
        -4 => c"PQE_ERR_FORMAT",
        -5 => c"PQE_ERR_INVALID_HANDLE",
        -6 => c"PQE_ERR_PANIC",
        -7 => c"PQE_ERR_UNSUPPORTED",
        -8 => c"PQE_ERR_STATE",
        -9 => c"PQE_ERR_STREAM",
        _ => c"PQE_UNKNOWN_STATUS",
    };
    name.as_ptr()
}
