//! IEC 62056-21 (the optical port of electricity meters, modes A–E).
//!
//! - [`message`]: sans-IO messages, BCC, identification, data sets;
//! - [`client`]: the client over any [`pqe_link::Transport`]: sign-on, baud
//!   switch-over, readout with partial blocks, programming mode (P1/P2, R1, W1,
//!   B0), mode E hand-over to HDLC;
//! - [`link`]: the [`pqe_link::MeterLink`] for `iec62056-21://` and `iec62056-21+tcp://`;
//! - [`trace`], [`analyse`]: traces (passwords masked) and the communication analyser.

pub mod analyse;
pub mod client;
pub mod link;
pub mod message;
pub mod trace;

pub use client::{IecClient, PasswordLevel, Readout};
pub use message::Mode;

/// Registers the IEC 62056-21 links and analysers.
pub fn register(reg: &mut pqe_link::Registry) {
    for scheme in ["iec62056-21", "iec62056-21+tcp"] {
        reg.add_link(scheme, link::open);
        reg.add_analyser(scheme, Box::new(analyse::IecAnalyser));
    }
}
