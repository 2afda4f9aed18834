//! # pqe-pipeline
//!
//! The application layer between the measurement chain ([`pqe_standards::Analyzer`]) and
//! the fronts (`pqe`, `pqengine`, `libpqe`): everything needed to turn a recording and a
//! set of settings into PQE's output folder, so that every front gives the same files.
//!
//! ## Public API
//!
//! - Settings: [`AnalysisSettings`] (one struct for CLI options — with the `clap` feature
//!   it *is* the option set —, Python keyword arguments, the C config struct and TOML
//!   files via [`AnalysisSettings::from_toml_file`]), checked once by
//!   [`AnalysisSettings::validate`] into [`ValidSettings`]; [`Switches`] and [`Part`] say
//!   which parts of the analysis run; [`NominalVoltage`] (`auto` or volts) and
//!   [`TableFormat`] (CSV or Parquet).
//! - Channel roles: [`ChannelRole`] / [`Role`] parse `FILE_CHANNEL=U_A` and `U_A`, the only
//!   parser of role text; [`roles::apply`] sets them on a recording's channels.
//! - The run loop: [`analyze_source`] (any [`pqe_core::Source`]: a file, a numpy array, a
//!   C caller's pushes, a device), [`analyze_file`] (a path, read leniently unless
//!   `strict`) and [`analyze_reader`] (any [`pqe_io::RecordingReader`]) read blocks, feed the analyzer, and stream its records to
//!   the sinks; an [`Observer`] receives [`Progress`] and warnings and may cancel
//!   ([`CancelToken`]). Both return the summary document (`summary.json`).
//! - Sinks ([`outputs`], [`capture`], [`compliance`], [`summary`]): result tables, event
//!   captures as COMTRADE, the EN 50160 / IEEE 519 assessment (`compliance.json`), the HTML
//!   report and `summary.json` (schema [`SUMMARY_SCHEMA`]); the supraharmonics, 2–150 kHz
//!   ([`supraharmonics`], tables `supraharmonics_<channel>.csv`) when the rate allows.
//! - Batches ([`batch`]): finding recordings, naming their folders, and the summary table
//!   rows ([`batch::BatchTable`]) that `pqe batch` and `pqengine.dask` write.
//!
//! Errors are [`Error`]: [`Error::is_settings`] tells a bad setting (a usage error) from a
//! bad recording or a failed write.

pub mod batch;
pub mod capture;
pub mod compliance;
pub mod direction;
mod error;
pub mod fit;
pub mod metering;
pub mod outputs;
pub mod roles;
mod run;
pub mod settings;
pub mod summary;
pub mod supraharmonics;
pub mod table;

pub use error::{Error, Result};
pub use roles::{ChannelRole, Role};
pub use run::{
    analyze_file, analyze_reader, analyze_source, CancelToken, Observer, Progress, Quiet,
    BLOCK_SAMPLES,
};
pub use settings::{AnalysisSettings, NominalVoltage, Part, Switches, TableFormat, ValidSettings};
pub use summary::{one_line, SUMMARY_SCHEMA};
