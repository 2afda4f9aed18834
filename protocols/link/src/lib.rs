//! Meter links: the parts every meter protocol shares.
//!
//! - [`Transport`]: send bytes, receive with a deadline ([`TcpTransport`],
//!   [`SerialTransport`] with `9600/8E1`-style [`LineSettings`] and baud
//!   switch-over, [`EchoSuppressor`] for echoing optical heads and RS-485
//!   converters, in-memory [`memory_pair`] and [`ScriptedTransport`] for tests).
//! - [`MeterLink`]: read values by [`ObisCode`] or register; [`Value`]s carry
//!   the scaler-applied number or text and the unit symbol.
//! - [`MeterUri`]: the URIs of the architecture's contract; [`Registry`]: each
//!   protocol crate registers its link opener and trace analyser.
//! - [`with_retries`]: bounded repetition.
//! - Traces ([`Recorder`], [`TraceSink`], [`Trace`]) and the analyser framework
//!   ([`AnalysisBuilder`], [`ProtocolAnalyser`]).
//! - [`Secret`], [`SecretRef`], [`KeyStore`]: secrets from the environment or an
//!   age-encrypted key store, redacted in every formatting.

pub mod analyse;
pub mod echo;
pub mod error;
pub mod link;
pub mod memory;
pub mod obis;
pub mod retry;
pub mod secret;
pub mod serial;
pub mod tcp;
pub mod trace;
pub mod transport;
pub mod uri;
pub mod value;

pub use analyse::{
    Analysis, AnalysisBuilder, Exchange, Finding, ProtocolAnalyser, Severity, Verdict,
};
pub use echo::EchoSuppressor;
pub use error::{LinkError, Result};
pub use link::{LinkOpener, MeterLink, OpenRequest, Registry};
pub use memory::{memory_pair, MemoryTransport, ScriptStep, ScriptedTransport};
pub use obis::ObisCode;
pub use retry::{with_retries, MAX_RETRIES};
#[cfg(feature = "keystore")]
pub use secret::KeyStore;
pub use secret::{Secret, SecretRef};
pub use serial::{LineSettings, Parity, SerialTransport};
pub use tcp::TcpTransport;
pub use trace::{
    Decoded, Direction, FrameDecoder, Recorder, Split, Trace, TraceHeader, TraceRecord, TraceSink,
};
pub use transport::{recv_byte, recv_exact, remaining, Transport};
pub use uri::{Endpoint, LinkOptions, MeterUri};
pub use value::{Reading, RegisterRef, RegisterTable, RegisterType, Selector, Value};
