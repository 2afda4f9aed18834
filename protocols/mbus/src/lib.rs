//! M-Bus (Meter-Bus, EN 13757-2 link layer and EN 13757-3 application layer), sans-IO:
//! bytes in, events out. No sockets and no serial ports here: a transport feeds received
//! bytes in and sends the bytes the state machines hand out.
//!
//! - [`frame`]: the four frame formats, check sums, a stream decoder with byte offsets;
//! - [`data`] and [`vif`]: the variable and fixed data structures of a RSP_UD;
//! - [`master`]: the master's request/response state machine (SND_NKE, REQ_UD2 with FCB
//!   toggling and multi-telegram readout, primary and secondary addressing);
//! - [`scan`]: the secondary-address wildcard scan;
//! - [`timing`]: the response-window times of EN 13757-2;
//! - [`analyse`]: a trace analyser turning one direction of bytes into frames with
//!   verdicts (check sum, length, addressing, FCB sequence, response timing);
//! - `link` (feature `link`, on by default): the `mbus://` and `mbus+tcp://` meter links
//!   over pqe-link transports, and the trace analyser of `pqe meter analyse`.

pub mod analyse;
pub mod data;
pub mod frame;
#[cfg(feature = "link")]
pub mod link;
pub mod master;
pub mod product;
pub mod scan;
pub mod timing;
pub mod vif;

pub use data::{decode, DataRecord, Header, RawValue, Record, UserData, VariableData};
pub use frame::{Frame, FrameDecoder, FrameError};

/// A secondary address (EN 13757-3 clause 11.4, selection with CI = 52h): identification
/// number (BCD, LSB first, wildcard nibble Fh), manufacturer (wildcard FFFFh), version and
/// medium (wildcard FFh each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecondaryAddress {
    pub id: [u8; 4],
    pub manufacturer: u16,
    pub version: u8,
    pub medium: u8,
}
