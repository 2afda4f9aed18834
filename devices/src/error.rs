//! Errors of the device layer: each names the URI, driver, plugin file or adapter at fault.

use std::fmt;
use std::path::PathBuf;

/// What went wrong with a driver while it ran (the analysis reports it with the driver's
/// name and flags the gap it leaves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No data (or no reply, or no heartbeat) within the deadline.
    Timeout,
    /// The adapter process exited.
    Crash,
    /// Bytes that are not the protocol: garbage before or after the handshake.
    Garbage,
    /// A frame or packet that does not follow its format.
    Malformed,
    /// The stream ended inside a frame or packet.
    Truncated,
    /// A frame or packet larger than the configured maximum.
    Oversized,
    /// A frame whose sample count disagrees with the bytes it carries or the buffer given.
    LyingCount,
    /// The driver itself reported an error.
    DriverError,
    /// Data that does not continue the stream: an overlap, a changed rate or channel count.
    Discontinuity,
    /// The connection or file failed at the operating-system level.
    Io,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::Timeout => "timeout",
            Fault::Crash => "crash",
            Fault::Garbage => "garbage",
            Fault::Malformed => "malformed frame",
            Fault::Truncated => "truncated frame",
            Fault::Oversized => "oversized frame",
            Fault::LyingCount => "sample count does not match the data",
            Fault::DriverError => "driver error",
            Fault::Discontinuity => "discontinuity",
            Fault::Io => "I/O error",
        })
    }
}

/// Everything that can go wrong in pqe-devices.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The device URI cannot be used.
    #[error("device URI {uri}: {message}")]
    Uri {
        /// The URI, secrets redacted.
        uri: String,
        /// What is wrong.
        message: String,
    },
    /// No driver handles the URI's scheme.
    #[error("no driver for scheme '{scheme}:' (known: {known})")]
    UnknownScheme {
        /// The scheme asked for.
        scheme: String,
        /// The schemes the registry knows.
        known: String,
    },
    /// A plugin library or adapter program was refused at load.
    #[error("plugin {}: {message}", file.display())]
    Load {
        /// The library or program.
        file: PathBuf,
        /// The mismatch or failure.
        message: String,
    },
    /// A driver failed while running.
    #[error("driver {driver} ({device}): {fault}: {message}")]
    Driver {
        /// The driver's name (and, for plugins, where it was loaded from).
        driver: String,
        /// The device URI, secrets redacted.
        device: String,
        /// What kind of fault.
        fault: Fault,
        /// The details.
        message: String,
    },
    /// An error from the core or a recording reader (replay).
    #[error(transparent)]
    Core(#[from] pqe_core::Error),
}

impl DeviceError {
    /// The fault kind, for a running driver's error.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            DeviceError::Driver { fault, .. } => Some(fault),
            _ => None,
        }
    }
}

impl From<DeviceError> for pqe_core::Error {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::Core(e) => e,
            DeviceError::Uri { .. } | DeviceError::UnknownScheme { .. } => {
                pqe_core::Error::Config(e.to_string())
            }
            other => pqe_core::Error::format(
                pqe_core::Location::file(match &other {
                    DeviceError::Load { file, .. } => file.clone(),
                    DeviceError::Driver { device, .. } => PathBuf::from(device),
                    _ => PathBuf::new(),
                }),
                other.to_string(),
            ),
        }
    }
}
