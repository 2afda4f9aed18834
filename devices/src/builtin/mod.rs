//! The drivers compiled into PQE: `replay:`, `synth:`, `tcp://` and `udp://`.

mod file;
mod net;

pub use file::{Pacer, ReplaySource, Speed, SynthSource};
pub use net::{TcpSource, UdpSource};
