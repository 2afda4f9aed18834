//! IEC 61000-4-30 Ed.3 Class A: the streaming part of the measurement chain.
//!
//! - [`FundamentalTracker`] finds the cycles of the fundamental on a reference channel
//!   (zero crossings of a band-pass filtered signal, put back onto the unfiltered
//!   fundamental by the filter's phase delay), the basis of every synchronised quantity.
//! - [`TenSecondFrequency`] turns those cycles into the 10-s frequency values of 5.1,
//!   aligned to the clock.
//! - [`IntervalScheduler`] groups cycles into the 10/12-cycle basic intervals of 4.4,
//!   gapless and non-overlapping, resynchronised on the 10-min ticks of the clock.
//! - [`roles`] decides which channel plays which role: the phase and line voltages and
//!   currents, the reference channel, the event channels (5.4.1), the declared voltages.
//! - [`window`] computes the time-domain quantities of one interval or cycle — RMS (5.2),
//!   peak, crest factor, DC — by integrating over the fractional window, and the
//!   Urms(1/2) values of 5.4.2 ([`HalfCycleSeries`]).
//!
//! All positions are fractional sample indices of the recording (sample 0 is the first
//! sample); every stage takes its input one sample or one cycle at a time, so results do
//! not depend on how the recording was cut into blocks.

pub mod aggregation;
mod frequency;
pub mod roles;
mod scheduler;
mod tracker;
pub mod window;

pub use frequency::TenSecondFrequency;
pub use scheduler::{IntervalScheduler, IntervalWindow};
pub use tracker::{CycleBoundary, FundamentalTracker, TrackerSettings};
pub use window::{HalfCycleSeries, HalfCycleWindow, WindowEnds, WindowMoments, WindowSamples};
