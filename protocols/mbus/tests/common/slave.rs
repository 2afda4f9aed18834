//! A small M-Bus slave simulator (test-only, EN 13757-2/-3 slave behaviour) serving
//! libmbus vector frames over TCP loopback, as an M-Bus TCP gateway does: it answers
//! SND_NKE at its primary address, secondary selection (CI 52h) with wildcards, and
//! REQ_UD2 with FCB handling and multi-telegram readout. Shared by the pqe-mbus link tests
//! and the `pqe meter scan` tests of the CLI (`#[path]` include).

use pqe_mbus::frame::{Frame, FrameDecoder};
use pqe_mbus::SecondaryAddress;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The bytes of a vector `NAME.hex` in `dir` (whitespace-separated hex).
pub fn vector_in(dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(format!("{name}.hex"));
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

/// What the simulated slave does.
#[derive(Clone)]
pub struct Slave {
    pub primary: u8,
    /// RSP_UD frames of a multi-telegram readout, in order.
    pub telegrams: Vec<Frame>,
    /// Answer REQ_UD2 with only this many bytes of the frame, then fall silent.
    pub cut_after: Option<usize>,
    /// REQ_UD2 control bytes received (to check the FCB sequence).
    pub log: Arc<Mutex<Vec<u8>>>,
}

impl Slave {
    pub fn id_digits(&self) -> [u8; 8] {
        match &self.telegrams[0] {
            Frame::Long { data, .. } => SecondaryAddress {
                id: [data[0], data[1], data[2], data[3]],
                manufacturer: 0,
                version: 0,
                medium: 0,
            }
            .id_digits(),
            _ => unreachable!(),
        }
    }

    pub fn serve(self, listener: TcpListener) {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut dec = FrameDecoder::new();
        let mut selected = false;
        let mut next = 0usize;
        let mut last_fcb: Option<bool> = None;
        let mut buf = [0u8; 512];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            dec.push(&buf[..n]);
            while let Some(f) = dec.next_frame() {
                let Ok(f) = f.frame else { continue };
                let answer: Option<Vec<u8>> = match f {
                    Frame::Short {
                        control: 0x40,
                        address,
                    } => {
                        if address == 253 {
                            selected = false;
                            None
                        } else if address == self.primary {
                            last_fcb = None;
                            next = 0;
                            Some(vec![0xE5])
                        } else {
                            None
                        }
                    }
                    Frame::Long {
                        control: 0x53,
                        address: 253,
                        ci: 0x52,
                        data,
                    } => {
                        let mask = SecondaryAddress {
                            id: [data[0], data[1], data[2], data[3]],
                            manufacturer: 0,
                            version: 0,
                            medium: 0,
                        }
                        .id_digits();
                        let me = self.id_digits();
                        selected = me.iter().zip(mask.iter()).all(|(d, m)| *m == 0xF || d == m);
                        selected.then(|| vec![0xE5])
                    }
                    Frame::Short { control, address }
                        if control & 0x4F == 0x4B
                            && (address == self.primary || (address == 253 && selected)) =>
                    {
                        self.log.lock().unwrap().push(control);
                        let fcb = control & 0x20 != 0;
                        // A toggled FCB asks for the next telegram; the same FCB repeats.
                        if let Some(l) = last_fcb {
                            if l != fcb && next + 1 < self.telegrams.len() {
                                next += 1;
                            }
                        }
                        last_fcb = Some(fcb);
                        let bytes = self.telegrams[next].encode();
                        Some(match self.cut_after {
                            Some(k) => bytes[..k].to_vec(),
                            None => bytes,
                        })
                    }
                    _ => None,
                };
                if let Some(a) = answer {
                    thread::sleep(Duration::from_millis(5));
                    s.write_all(&a).unwrap();
                }
            }
        }
    }
}

/// Serves `slave` on a fresh loopback port (one connection), returning the port.
pub fn start(slave: Slave) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || slave.serve(l));
    port
}
