//! PQE signal processing: kernels and the test-signal generator.
pub mod fft;
pub mod resample;
pub mod symmetrical;
