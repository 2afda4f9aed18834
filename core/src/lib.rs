//! # pqe-core
//!
//! The types every PQE crate shares: a [`Block`] of planar samples with its sample rate and
//! absolute start time, the description of each channel ([`ChannelSpec`]) and of the supply
//! ([`SystemConfig`]), what a recording holds ([`RecordingInfo`]), the records the analysis
//! produces ([`record`]), the [`Source`] every input implements (blocks with absolute time,
//! gaps and warnings as events, progress, cancellation) and one error type ([`Error`]) whose messages say what is wrong and
//! where (file, line or byte offset, channel).
//!
//! This crate does no I/O and has no FFI, so it serves embedded callers as well as the
//! command line.

mod block;
mod channel;
mod config;
mod error;
pub mod record;
mod recording;
mod source;
mod time;

pub use block::{Block, BlockBuilder};
pub use channel::{ChannelKind, ChannelSpec, DigitalChannelSpec, LinearScaling, Phase};
pub use config::{NominalFrequency, SystemConfig, Wiring};
pub use error::{Error, Location, Result, StreamErrorKind};
pub use recording::RecordingInfo;
pub use source::{
    block_seconds, CancelToken, ContinuityCheck, Gap, Progress, Source, SourceEvent, SourceWarning,
    VecSource,
};
pub use time::Timestamp;
