//! Meter testing: the arithmetic a meter-test bench runs on.
//!
//! * [`pulse`]: pulse inputs as streams of edge times, debounced, with the minimum pulse
//!   width of an IEC 62053-31 S0 output, and edges from a threshold on an analogue channel.
//! * [`accuracy`]: the meter's error in percent by the pulse-comparison method (gate on N
//!   meter pulses; count the reference standard's pulses or integrate the reference energy
//!   over exactly the gate) and by the time/power method, each with its ±1-count resolution,
//!   and the number of pulses a requested resolution needs.
//! * [`limits`]: class limits as data (IEC 62053-21/-22/-23:2003, EN 50470-3 / MID Annex V),
//!   every row with its source and a `verified` mark; starting-current and no-load (creep)
//!   rules with their editions.
//! * [`sim`]: simulated meters under test (error curve, constant, starting behaviour, creep,
//!   pulse jitter) that emit pulse edges.
//! * [`plan`]: test plans (TOML), checked before a run; faults named by file, line and key.
//! * [`bench`](mod@bench): the bench interface and the simulated bench `sim:`.
//! * [`run`]: the runner, point by point into `results.json`; a bench fault keeps the points
//!   already measured. Register (dial) and function tests read the meters through their
//!   links (pqe-link's `MeterLink`, opened from a `Registry`).
//! * [`wiring`]: the wiring check (phasors, reversed and swapped currents).
//! * [`report`]: the self-contained `report.html`.
//! * [`archive`]: every run in one SQLite file, searchable by serial, date and verdict.
//!
//! The arithmetic ([`pulse`], [`accuracy`], [`limits`], [`wiring`]) is sans-IO: times and
//! counts in, numbers and verdicts out; only [`plan`], [`run`] (writing the outputs) and
//! [`archive`] touch files.

// `!(x > 0.0)` is meant: a NaN must fail every domain check, which `x <= 0.0` would let pass.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod accuracy;
pub mod archive;
pub mod bench;
pub mod limits;
pub mod plan;
pub mod pulse;
pub mod report;
pub mod run;
pub mod sim;
pub mod wiring;

/// What went wrong in the meter-test arithmetic.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// An argument outside its domain (the message names it and its value).
    #[error("{0}")]
    Invalid(String),
    /// Not enough pulses or edges for the requested gate.
    #[error("{0}")]
    NotEnoughPulses(String),
    /// A rule the engine does not implement (the message says which and why).
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Joules in one kilowatt-hour.
pub const JOULES_PER_KWH: f64 = 3.6e6;
