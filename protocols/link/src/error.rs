//! The error type every meter link returns.

use std::time::Duration;

/// What went wrong on a meter link. Every variant names the frame, device or
/// parameter at fault; none carries a secret (secrets are [`crate::Secret`]s,
/// whose text is never formatted).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Nothing (or not enough) arrived before the deadline.
    #[error("timeout: {what} (waited {} ms)", waited.as_millis())]
    Timeout {
        /// What was awaited, e.g. "Modbus RTU response to FC03, 5 of 9 bytes".
        what: String,
        /// How long the link waited.
        waited: Duration,
    },
    /// The operating system refused an operation on the transport.
    #[error("{target}: {source}")]
    Io {
        /// The device or address, e.g. "/dev/ttyUSB0" or "127.0.0.1:502".
        target: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The peer closed the connection.
    #[error("{0}: connection closed by the peer")]
    Closed(String),
    /// A meter URI or a selector that cannot be understood.
    #[error("{0}")]
    Config(String),
    /// A frame that breaks the protocol (checksum, length, address, sequence).
    #[error("{frame}: {message}")]
    Frame {
        /// Which frame, e.g. "response to FC03 (transaction 7)" or "readout byte 112".
        frame: String,
        /// What is wrong with it.
        message: String,
    },
    /// The meter answered with a protocol-level refusal (Modbus exception, IEC 62056-21 error message, …).
    #[error("meter refused {request}: {reason}")]
    Refused {
        /// The request refused.
        request: String,
        /// The meter's reason, decoded.
        reason: String,
    },
    /// A bytes sent were not echoed back as the link expects.
    #[error("echo mismatch: {0}")]
    Echo(String),
    /// A secret could not be resolved (the text never contains the secret itself).
    #[error("secret: {0}")]
    Secret(String),
    /// The protocol or link does not implement the operation.
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

impl LinkError {
    /// A frame error.
    pub fn frame(frame: impl Into<String>, message: impl Into<String>) -> Self {
        LinkError::Frame {
            frame: frame.into(),
            message: message.into(),
        }
    }

    /// An I/O error on `target`.
    pub fn io(target: impl Into<String>, source: std::io::Error) -> Self {
        LinkError::Io {
            target: target.into(),
            source,
        }
    }

    /// Whether repeating the request may help: timeouts and damaged frames, not
    /// refusals, configuration errors or a closed connection.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LinkError::Timeout { .. } | LinkError::Frame { .. } | LinkError::Echo(_)
        )
    }
}

/// Result with [`LinkError`].
pub type Result<T, E = LinkError> = std::result::Result<T, E>;
