//! PQE signal processing: kernels and the test-signal generator.
