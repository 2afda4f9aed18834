//! # pqe-capi: the C ABI of PQE
//!
//! The streaming [`pqe_standards::Analyzer`], the analysis pipeline of `pqe analyze`
//! (`pqe_analysis_*`: its output folder from timestamped pushes) and the COMTRADE reader of
//! `pqe-io` behind opaque handles, for callers in C (and anything that speaks the C ABI). The header
//! `include/pqe.h` is generated from this crate by cbindgen and committed; the test
//! `tests/header.rs` fails with a diff when it is out of date.
//!
//! ## Conventions (they hold for every function unless its documentation says otherwise)
//!
//! - Every entry point returns a [`pqe_status`]: `PQE_OK` (0) on success, `PQE_END` (1)
//!   when a stream has nothing more to give, a negative `PQE_ERR_*` on failure.
//!   The exceptions are the informational functions [`pqe_version`], [`pqe_status_name`],
//!   [`pqe_last_error`] and [`pqe_last_error_message`], which cannot fail.
//! - Every call first clears the calling thread's last error; a failing call sets it to a
//!   message naming the function and the problem (read it with [`pqe_last_error`] or
//!   [`pqe_last_error_message`]).
//! - No Rust panic crosses the boundary: each entry point runs inside `catch_unwind`; a panic
//!   becomes `PQE_ERR_PANIC` with the panic message as last error. A handle whose call
//!   panicked is poisoned: later calls on it return `PQE_ERR_PANIC` until it is freed.
//! - Pointers are checked for NULL (`PQE_ERR_NULL`), struct sizes (`struct_size`) and
//!   lengths are checked (`PQE_ERR_INVALID_ARGUMENT`). Memory the caller passes must be
//!   valid for the length it states: that, the library cannot check.
//! - Handles (`pqe_analyzer*`, `pqe_analysis*`, `pqe_comtrade*`) are opaque tokens, not
//!   addresses: the library never dereferences them. It keeps a registry of the live ones, so a freed handle
//!   (use after free, double free), a handle of another type, or any other value returns
//!   `PQE_ERR_INVALID_HANDLE` instead of undefined behaviour. Tokens come from a 64-bit
//!   counter (on 64-bit targets) and are never reused within a process.
//! - Handles may be used from any thread; calls on one handle are serialised by a lock.
//!   Pointers the library hands out (names, record values) are owned by the handle and
//!   stay valid for the lifetime stated on each function, never past the handle's free.

#![warn(missing_docs)]
#![allow(non_camel_case_types)]

mod analysis;
mod analyzer;
mod comtrade;
mod error;
mod handles;

pub use analysis::*;
pub use analyzer::*;
pub use comtrade::*;
pub use error::{ffi_guard, pqe_last_error, pqe_last_error_message, pqe_status_name};

/// The status every entry point returns. Negative values are errors; the thread's last
/// error message then says more.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pqe_status {
    /// Success.
    PQE_OK = 0,
    /// No more to give: no record available now ([`pqe_analyzer_next_record`]; after
    /// [`pqe_analyzer_finish`] the stream has ended), or the end of a recording
    /// ([`pqe_comtrade_read`]). Not an error: the last error is left empty.
    PQE_END = 1,
    /// A required pointer argument was NULL.
    PQE_ERR_NULL = -1,
    /// An argument is out of range or inconsistent (a length, a `struct_size`, a flag, a
    /// configuration value, a block that does not fit the analyzer).
    PQE_ERR_INVALID_ARGUMENT = -2,
    /// The operating system refused a read (a file missing or unreadable).
    PQE_ERR_IO = -3,
    /// An input file does not follow its format.
    PQE_ERR_FORMAT = -4,
    /// The handle is not a live handle of the expected type (freed, never returned by
    /// this library, or a handle of another type).
    PQE_ERR_INVALID_HANDLE = -5,
    /// A Rust panic was caught at the boundary (a bug in PQE: please report the message).
    PQE_ERR_PANIC = -6,
    /// The input needs something PQE does not implement.
    PQE_ERR_UNSUPPORTED = -7,
    /// The call is not allowed in the handle's current state (samples pushed after
    /// [`pqe_analyzer_finish`]): a fault of the stream, not of the configuration.
    PQE_ERR_STATE = -8,
    /// The samples pushed do not follow each other in time: a block given by
    /// [`pqe_analyzer_push_at`] or [`pqe_analyzer_push_planar_at`] starts before the end
    /// of the previous one (or before the configuration's `start_unix_ns`). A fault of the
    /// stream, not of the configuration; the block is not taken and the analyzer stays
    /// usable.
    PQE_ERR_STREAM = -9,
}

/// The library's version (`MAJOR.MINOR.PATCH`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn pqe_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0")
        .as_ptr()
        .cast::<std::ffi::c_char>()
}

/// A marker type for opaque handles: cbindgen writes a forward declaration for each
/// handle struct, so C sees an incomplete type.
pub(crate) type Opaque = [u8; 0];
