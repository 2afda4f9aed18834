//! Modbus RTU and TCP client for meter links.
//!
//! - [`frame`]: sans-IO PDUs and ADUs (bytes in, requests/responses out), CRC-16/MODBUS,
//!   MBAP header;
//! - [`client`]: the client over any [`pqe_link::Transport`] (t3.5 silence on RTU,
//!   transaction ids on TCP, bounded retries, exceptions as errors);
//! - [`values`]: u16/i16/u32/i32/u64/f32/f64 in either word order;
//! - [`map`]: register maps as TOML data files (built in: `sdm630`);
//! - [`link`]: the [`pqe_link::MeterLink`] for `modbus-tcp://` and `modbus-rtu://`;
//! - [`analyse`]: the communication analyser of Modbus traces.

pub mod analyse;
pub mod client;
pub mod frame;
pub mod link;
pub mod map;
pub mod trace;
pub mod values;

pub use client::{Framing, ModbusClient};
pub use link::ModbusLink;
pub use map::RegisterMap;
pub use values::WordOrder;

/// Registers the Modbus links and analysers.
pub fn register(reg: &mut pqe_link::Registry) {
    reg.add_link("modbus-tcp", link::open);
    reg.add_link("modbus-rtu", link::open);
    reg.add_analyser("modbus-tcp", Box::new(analyse::TcpAnalyser));
    reg.add_analyser("modbus-rtu", Box::new(analyse::RtuAnalyser));
}
