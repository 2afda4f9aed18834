//! PQE signal processing: kernels and the test-signal generator.
pub mod iir;
pub mod kernels;
pub mod zero_crossing;
pub mod fft;
pub mod resample;
pub mod symmetrical;
pub mod synth;
