//! # pqe-devices
//!
//! Live acquisition for PQE: devices named by URIs (the scheme picks the driver, the query
//! configures it), the built-in sources (`replay:`, `synth:`, `tcp://`, `udp://`), and the
//! plugin host for vendor drivers. Every read has a deadline; lost data becomes a flagged
//! [`Gap`], never zero-filled or joined; a driver's fault names the driver and its kind.
//!
//! - [`uri`]: [`DeviceUri`] and sigrok-style serial settings (`serial=9600/8E1`).
//! - [`registry`]: [`Registry`] of [`Driver`]s, parallel enumeration under a deadline.
//! - [`stream`]: the raw sample packet format of `tcp://`, `udp://` and adapter frames.
//! - [`source`]: [`LiveSource`], [`Delivery`], and the [`Sequencer`] that places packets.
//! - [`feed`]: [`DeviceSource`], a live device as the pipeline's `pqe_core::Source`.
//!
//! - [`plugin`]: the C-ABI plugin host (devices/include/pqe_plugin.h).
//! - [`adapter`], [`protocol`]: out-of-process adapters over stdio.
//!
//! The protocols for plugin authors are documented in docs/plugins.md.

pub mod adapter;
pub mod builtin;
pub mod error;
pub mod feed;
pub mod plugin;
pub mod protocol;
pub mod registry;
pub mod source;
pub mod stream;
pub mod uri;

pub use error::{DeviceError, Fault};
pub use feed::{DeviceSource, Ending, Outcome, StopSignal};
pub use registry::{Driver, DriverInfo, Enumeration, FoundDevice, Origin, Registry};
pub use source::{Delivery, Gap, LiveSource, Placement, Sequencer};
pub use uri::{DeviceUri, Parity, SerialSettings};
