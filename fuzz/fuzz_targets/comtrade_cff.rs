//! A COMTRADE 2013 `.cff` (CFG, INF, HDR and DAT sections in one file): any bytes, read
//! leniently and strictly to the end.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pqe_io::{open_source, OpenOptions};

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join("f.cff");
    std::fs::write(&path, data).unwrap();
    for strict in [false, true] {
        if let Ok(s) = open_source(&path, &OpenOptions { strict }) {
            common::drain(s);
        }
    }
});
