//! The drivers compiled into PQE: `replay:`, `synth:`, `tcp://` and `udp://`.

mod file;
mod net;
#[cfg(feature = "replay")]
mod replay;

pub use file::{Pacer, Speed, SynthSource};
pub use net::{TcpSource, UdpSource};
#[cfg(feature = "replay")]
pub use replay::ReplaySource;
