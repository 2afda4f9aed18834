//! COMTRADE `.dat` data given a `.cfg`: the input's first line picks one of a few `.cfg`s
//! (ASCII, BINARY, BINARY32, FLOAT32, rate 0, two rates) and the rest is the data file, read
//! leniently and strictly to its end.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use pqe_io::comtrade::ComtradeReader;
use pqe_io::{FileSource, OpenOptions};

const HEAD: &str = "fuzz,rec,2013\r\n3,2A,1D\r\n1,U_A,A,,V,0.5,-1,0,-32767,32767,100,1,P\r\n\
2,I_A,A,,A,0.01,0,0,-32767,32767,1,1,S\r\n1,TRIP,,,0\r\n50\r\n";
const TAIL: &str = "01/02/2024,10:00:00.000000\r\n01/02/2024,10:00:00.500000\r\n";

fn cfg(kind: u8) -> String {
    let (rates, ft, mult) = match kind % 6 {
        0 => ("1\r\n1000,40\r\n", "ASCII", "1"),
        1 => ("1\r\n1000,40\r\n", "BINARY", "1"),
        2 => ("1\r\n1000,40\r\n", "BINARY32", "1"),
        3 => ("1\r\n1000,40\r\n", "FLOAT32", "0.5"),
        4 => ("1\r\n0,40\r\n", "BINARY", "1"),
        _ => ("2\r\n1000,20\r\n500,40\r\n", "ASCII", "1"),
    };
    format!("{HEAD}{rates}{TAIL}{ft}\r\n{mult}\r\n0,0\r\n0,0\r\n")
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, dat)) = data.split_first() else {
        return;
    };
    let dir = common::scratch();
    let cfg_path = dir.join("f.cfg");
    let dat_path = dir.join("f.dat");
    std::fs::write(&cfg_path, cfg(kind)).unwrap();
    std::fs::write(&dat_path, dat).unwrap();
    for strict in [false, true] {
        let options = OpenOptions { strict };
        if let Ok(r) = ComtradeReader::open_pair_with(&cfg_path, &dat_path, &options) {
            common::drain(FileSource::new(Box::new(r)));
        }
    }
});
