//! HDF5 recordings: planar sample datasets under one group, metadata as attributes.
//!
//! # Layout (`pqe-recording/1`)
//!
//! ```text
//! /recording                       group
//!   @pqe_format      str           "pqe-recording/1"               (required)
//!   @sample_rate     float64       Hz; 0 when samples are timed    (required)
//!   @start_ns        int64         first sample, ns since 1970-01-01T00:00:00 (required,
//!                                  unless @start is given)
//!   @start           str           the same instant, ISO 8601 with ns
//!   @station, @device str          may be empty
//!   @line_frequency  float64       nominal Hz, 0 when unknown
//!   @trigger_ns, @trigger          int64 / str, when the recording has a trigger
//!   @time_code       str           offset of the clock to UTC, when stated
//!   @rate_segment_rates float64[S], @rate_segment_ends uint64[S]
//!                                  COMTRADE's rate list (rate, last sample number), when given
//!   analog           float64 (channels, samples)   chunks (1, 8192), maxshape (None, None)
//!     @names         str[channels]                 (required)
//!     @units, @kinds, @phases, @circuits            str[channels]
//!     @ratio_primary, @ratio_secondary, @skew_us    float64[channels]
//!     @primary       uint8[channels]                1: primary values
//!     @scale_a, @scale_b, @raw_min, @raw_max        float64[channels], NaN for none
//!   digital          uint8 (channels, samples)     only with digital channels
//!     @names (required), @phases, @circuits  str[channels]; @normal_state uint8[channels]
//!   time_ns          int64 (samples,)              only when samples are timed
//!                                                  individually or at several rates
//! ```
//!
//! Strings are variable-length UTF-8 (h5py's `h5py.string_dtype()`); the reader also takes
//! fixed-length and ASCII strings. Missing samples are NaN. Numbers convert on reading
//! (an integer `sample_rate`, a float32 `analog` are accepted).
//!
//! The writer ([`Hdf5Writer`]) streams: it holds at most one chunk (8192 samples) per
//! channel and grows the datasets chunk by chunk. The reader ([`Hdf5Reader`]) reads
//! hyperslabs of at most a chunk's width (or the block asked for, if wider), so memory stays
//! bounded by the block size whatever the file's length.
//!
//! From Python:
//!
//! ```python
//! import h5py
//! with h5py.File("rec.h5", "r") as f:
//!     rec = f["recording"]
//!     fs = rec.attrs["sample_rate"]
//!     names = list(rec["analog"].attrs["names"])
//!     u_a = rec["analog"][names.index("U_A"), :]   # one channel, float64
//! ```

mod attrs;
mod reader;
mod writer;

pub use reader::Hdf5Reader;
pub use writer::Hdf5Writer;

/// The value of `/recording@pqe_format` this crate writes and reads.
pub const FORMAT: &str = "pqe-recording/1";

/// Samples per chunk along the time axis (each chunk holds one channel).
pub const CHUNK_SAMPLES: usize = 8192;

/// The group holding a recording.
const GROUP: &str = "recording";
/// Dataset names inside [`GROUP`].
const ANALOG: &str = "analog";
const DIGITAL: &str = "digital";
const TIME_NS: &str = "time_ns";
