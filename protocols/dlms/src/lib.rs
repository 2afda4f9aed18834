//! DLMS/COSEM client for meter links (IEC 62056-46 HDLC, IEC 62056-47 TCP wrapper,
//! IEC 62056-5-3 ACSE and xDLMS, IEC 62056-6-2 interface classes, security suite 0).
//!
//! The protocol cores are sans-IO — bytes in, frames/APDUs/events out:
//! [`hdlc`] (frames, link state), [`wrapper`] (WPDUs), [`acse`] (AARQ/AARE/RLRQ/RLRE),
//! [`xdlms`] (GET/SET/ACTION), [`axdr`] (the Data CHOICE, date-time, units),
//! [`security`] (secrets, HLS, AES-GCM), [`session`] (the association state machine).
//! [`client`] drives them over a [`client::Transport`] with deadlines and bounded retries.

#![warn(missing_docs)]

pub mod acse;
pub mod axdr;
pub mod client;
pub mod cosem;
pub mod error;
pub mod hdlc;
pub mod security;
pub mod session;
pub mod wrapper;
pub mod xdlms;

pub use error::{DecodeError, Error, Result};
#[cfg(feature = "link")]
pub mod analyse;
#[cfg(feature = "link")]
pub mod link;
