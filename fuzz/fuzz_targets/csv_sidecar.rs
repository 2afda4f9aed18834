//! A CSV recording with its JSON sidecar: the input is the CSV, then (after the first
//! `\0\0`, when there is one) the sidecar `<file>.csv.json`; read leniently and strictly.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pqe_io::{open_source, OpenOptions};

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    let csv = dir.join("f.csv");
    let sidecar = pqe_io::csv::sidecar_path(&csv);
    let split = data.windows(2).position(|w| w == [0, 0]);
    match split {
        Some(i) => {
            std::fs::write(&csv, &data[..i]).unwrap();
            std::fs::write(&sidecar, &data[i + 2..]).unwrap();
        }
        None => {
            std::fs::write(&csv, data).unwrap();
            let _ = std::fs::remove_file(&sidecar);
        }
    }
    for strict in [false, true] {
        if let Ok(s) = open_source(&csv, &OpenOptions { strict }) {
            common::drain(s);
        }
    }
});
