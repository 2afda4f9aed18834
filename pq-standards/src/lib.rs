//! # pqe-standards
//!
//! The methods of each power-quality standard, one module per standard, and the composed
//! streaming `Analyzer` that turns [`pqe_core::Block`]s into records.
pub mod alarms;
pub mod analyzer;
pub mod demand;
pub mod direction;
pub mod distortion;
pub mod en50160;
pub mod energy;
pub mod events;
pub mod iec61000_4_15;
pub mod iec61000_4_30;
pub mod iec61000_4_7;
pub mod ieee1459;
pub mod ieee519;
pub mod limit_learning;
pub mod limits;
pub mod minmax;
pub mod nema_mg1;
pub mod supraharmonics;
pub mod unbalance;
pub use analyzer::{Analyzer, AnalyzerOptions};
