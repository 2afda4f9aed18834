//! The pipeline's error: a bad setting (a front shows it as a usage error, Python as
//! `ValueError`), an engine error with its kind, a cancelled run, or anything else with its
//! chain of context (file, channel, what was being done).

use std::fmt;

/// Result with the pipeline's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop an analysis.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid or does not fit the recording; the message names the option.
    Settings(String),
    /// The engine refused something (its kind tells a configuration error from a file's).
    Engine(pqe_core::Error),
    /// The run was cancelled through its [`crate::CancelToken`].
    Cancelled,
    /// Reading, analysing or writing failed; the message carries the context chain.
    Other(anyhow::Error),
}

impl Error {
    /// True for errors of the caller's settings (options, arguments, configuration).
    pub fn is_settings(&self) -> bool {
        matches!(
            self,
            Error::Settings(_) | Error::Engine(pqe_core::Error::Config(_))
        )
    }

    /// The message without a prefix.
    pub fn message(&self) -> String {
        match self {
            Error::Settings(m) => m.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Settings(m) => f.write_str(m),
            Error::Engine(e) => write!(f, "{e}"),
            Error::Cancelled => f.write_str("the analysis was cancelled"),
            Error::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<pqe_core::Error> for Error {
    fn from(e: pqe_core::Error) -> Self {
        Error::Engine(e)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        // A pipeline or engine error that travelled through anyhow keeps its kind when it
        // carries no added context.
        if e.chain().count() > 1 {
            return Error::Other(e);
        }
        match e.downcast::<Error>() {
            Ok(inner) => inner,
            Err(e) => match e.downcast::<pqe_core::Error>() {
                Ok(inner) => Error::Engine(inner),
                Err(e) => Error::Other(e),
            },
        }
    }
}
