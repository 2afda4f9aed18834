//! PQE signal processing: kernels and the test-signal generator.
pub mod cascade4;
pub mod fft;
pub mod iir;
pub mod kernels;
pub mod resample;
pub mod symmetrical;
pub mod synth;
pub mod zero_crossing;
