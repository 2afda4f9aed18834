//! hdf5 (being written)
