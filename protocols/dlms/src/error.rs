//! Errors of the DLMS/COSEM client.
//!
//! Every decoding error names the byte at fault (its offset in the frame, APDU or received
//! stream, as stated in the message); no error ever carries a password, key or
//! authentication value.

use std::fmt;

/// A decoding failure at a byte offset inside one unit (frame, APDU, stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What was being decoded ("HDLC frame", "AARE", "Get-Response", "A-XDR Data", ...).
    pub unit: &'static str,
    /// Offset of the byte at fault from the start of that unit.
    pub offset: usize,
    /// What is wrong there.
    pub reason: String,
}

impl DecodeError {
    /// A decoding error in `unit` at `offset`.
    pub fn new(unit: &'static str, offset: usize, reason: impl Into<String>) -> Self {
        Self {
            unit,
            offset,
            reason: reason.into(),
        }
    }

    /// The same error moved by `base` bytes (a field decoded inside a larger unit).
    #[must_use]
    pub fn shifted(mut self, unit: &'static str, base: usize) -> Self {
        self.reason = format!("{} byte {}: {}", self.unit, self.offset, self.reason);
        self.offset += base;
        self.unit = unit;
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} byte {}: {}", self.unit, self.offset, self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// Errors of the DLMS client (link, association, services).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes received from the meter that do not decode.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// A frame or APDU of the wrong kind at this point of the exchange.
    #[error("unexpected {got} while waiting for {expected}")]
    Unexpected {
        /// What the protocol state expected.
        expected: &'static str,
        /// What arrived.
        got: String,
    },
    /// HDLC N(S)/N(R) out of sequence (IEC 62056-46 clause 6.4.4.3).
    #[error("HDLC sequence error: {0}")]
    Sequence(String),
    /// A response whose invoke-id is not the one of the outstanding request (a stale or
    /// foreign answer, IEC 62056-5-3 clause 9.3 invoke-id-and-priority).
    #[error("response invoke-id {got} does not match the request's {expected} (stale or foreign response)")]
    InvokeId {
        /// The invoke-id sent.
        expected: u8,
        /// The invoke-id received.
        got: u8,
    },
    /// The meter refused the association (AARE result not accepted).
    #[error("association refused: {result}, diagnostic {diagnostic}")]
    Rejected {
        /// AARE result.
        result: String,
        /// AARE result-source-diagnostic.
        diagnostic: String,
    },
    /// The meter answered with an exception-response or confirmed-service-error.
    #[error("meter exception: {0}")]
    Exception(String),
    /// A GET/SET/ACTION answered with a failure result.
    #[error("{service} {target}: {result}")]
    Access {
        /// GET, SET or ACTION.
        service: &'static str,
        /// The object and attribute or method.
        target: String,
        /// The Data-Access-Result or Action-Result named.
        result: String,
    },
    /// Authentication failed (the meter did not prove it knows the secret, or a GCM tag
    /// did not verify). Never carries the secret or the digests.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// No (complete) answer before the deadline.
    #[error(
        "timeout after {millis} ms waiting for {waiting_for} ({received} bytes of it received)"
    )]
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// Deadline in milliseconds.
        millis: u128,
        /// Bytes of the awaited unit received before the deadline.
        received: usize,
    },
    /// The transport failed.
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
    /// A configuration or URI error.
    #[error("configuration: {0}")]
    Config(String),
    /// A feature this client does not implement.
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// The meter closed the link (DM, DISC, connection closed).
    #[error("link closed: {0}")]
    Closed(String),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
