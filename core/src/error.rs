//! One error type for the whole engine. Every message names what is wrong and where.

use std::fmt;
use std::path::PathBuf;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in an input something went wrong: a file, and within it a line (text formats,
/// 1-based) or a byte offset (binary formats, 0-based), optionally a field or channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line number in a text file.
    pub line: Option<u64>,
    /// 0-based byte offset in a binary file (or in the data section of a .cff).
    pub byte_offset: Option<u64>,
    /// The field, column or channel at fault, when one can be named.
    pub field: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            ..Self::default()
        }
    }
    /// The same file, at a 1-based line.
    pub fn at_line(&self, line: u64) -> Self {
        Self {
            line: Some(line),
            byte_offset: None,
            ..self.clone()
        }
    }
    /// The same file, at a 0-based byte offset.
    pub fn at_byte(&self, offset: u64) -> Self {
        Self {
            byte_offset: Some(offset),
            line: None,
            ..self.clone()
        }
    }
    /// The same place, naming a field, column or channel.
    pub fn field(&self, field: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(offset) = self.byte_offset {
            write!(f, " (byte {offset})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", {field}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in PQE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read or write.
    ///
    /// The operating system's error is part of the message and not a separate `source()`,
    /// so a chain of contexts does not print it twice.
    #[error("{}: {}", path.display(), io_message(error))]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// An input does not follow its format. `valid_samples` says how much of the data was
    /// good before the fault, where the fault lies in the sample data.
    #[error("{location}: {message}{}", valid_suffix(*.valid_samples))]
    Format {
        /// Where the fault is.
        location: Location,
        /// What is wrong, in the user's words (the format's field names).
        message: String,
        /// Samples read correctly before the fault, when the fault is in the data.
        valid_samples: Option<u64>,
    },
    /// A channel's data or description cannot be used.
    #[error("channel {channel}: {message}")]
    Channel {
        /// The channel's name.
        channel: String,
        /// What is wrong.
        message: String,
    },
    /// A configuration value (command-line option, scenario, system settings) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Something the engine does not implement yet. Never a silent placeholder.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A stream of blocks broke its contract (see [`crate::Source`]): a block that overlaps
    /// the previous one, a push after the stream was finished. Not a configuration error:
    /// the settings were fine, the data arrived wrong.
    #[error("stream error ({kind}): {message}")]
    Stream {
        /// Which rule the stream broke.
        kind: StreamErrorKind,
        /// What happened, naming the block or push at fault.
        message: String,
    },
    /// The run was cancelled through its [`crate::CancelToken`].
    #[error("cancelled")]
    Cancelled,
}

/// The rule a stream of blocks broke ([`Error::Stream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamErrorKind {
    /// A block starts before the previous one ended.
    Overlap,
    /// Data pushed after the stream was finished.
    AfterFinish,
    /// A block whose channels, rate or layout differ from the stream's.
    Mismatch,
}

impl fmt::Display for StreamErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamErrorKind::Overlap => "overlap",
            StreamErrorKind::AfterFinish => "after finish",
            StreamErrorKind::Mismatch => "mismatch",
        })
    }
}

/// What the operating system said, in words a user reads: std's "entity not found" becomes
/// "the file does not exist" (a message given with the error, e.g. which file is missing,
/// is kept as it is).
fn io_message(e: &std::io::Error) -> String {
    if e.get_ref().is_some() {
        return e.to_string();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "the file does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory, not a file".into(),
        _ => e.to_string(),
    }
}

fn valid_suffix(valid: Option<u64>) -> String {
    match valid {
        Some(n) => format!(" ({n} samples before it were read correctly)"),
        None => String::new(),
    }
}

impl Error {
    /// A format error at `location`.
    pub fn format(location: Location, message: impl Into<String>) -> Self {
        Error::Format {
            location,
            message: message.into(),
            valid_samples: None,
        }
    }
    /// A format error in sample data, after `valid_samples` good samples.
    pub fn format_after(
        location: Location,
        message: impl Into<String>,
        valid_samples: u64,
    ) -> Self {
        Error::Format {
            location,
            message: message.into(),
            valid_samples: Some(valid_samples),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }
    /// A stream error of `kind`.
    pub fn stream(kind: StreamErrorKind, message: impl Into<String>) -> Self {
        Error::Stream {
            kind,
            message: message.into(),
        }
    }
    /// A problem with one channel.
    pub fn channel(channel: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Channel {
            channel: channel.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_says_it_does_not_exist() {
        let e = Error::io(
            "rec.cfg",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.to_string(), "rec.cfg: the file does not exist");
        let e = Error::io(
            "rec.dat",
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the .dat of this .cfg is missing",
            ),
        );
        assert_eq!(e.to_string(), "rec.dat: the .dat of this .cfg is missing");
    }

    #[test]
    fn messages_name_file_line_and_field() {
        let loc = Location::file("rec.cfg")
            .at_line(7)
            .field("channel 3 multiplier a");
        let e = Error::format(loc, "'x1' is not a number");
        assert_eq!(
            e.to_string(),
            "rec.cfg:7, channel 3 multiplier a: 'x1' is not a number"
        );
        let e = Error::format_after(
            Location::file("rec.dat").at_byte(90),
            "file ends mid-record",
            5,
        );
        assert_eq!(
            e.to_string(),
            "rec.dat (byte 90): file ends mid-record (5 samples before it were read correctly)"
        );
    }
}
