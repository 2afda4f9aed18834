//! Real peers for the Modbus tests: the pymodbus 3.16 server (tests/peers/modbus_server.py,
//! run by the repository's .venv) over TCP, and over a fresh socat pty pair for RTU.
//! A missing peer fails the test: `scripts/setup.sh` installs them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A child process killed when dropped.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> PathBuf {
    let p = repo().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup.sh (installs pymodbus from tests/requirements.txt)",
        p.display()
    );
    p
}

/// Starts the pymodbus TCP server; returns it and its port.
pub fn modbus_tcp_server() -> (Peer, u16) {
    let mut child = Command::new(python())
        .arg(repo().join("tests/peers/modbus_server.py"))
        .arg("tcp")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the pymodbus server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!("pymodbus server did not start (said {line:?}); is pymodbus installed in .venv?")
        });
    let peer = Peer(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "pymodbus server not listening on {port} after 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (peer, port)
}

/// A fresh pty pair from socat: (socat, end A, end B).
pub fn pty_pair(dir: &Path) -> (Peer, PathBuf, PathBuf) {
    let a = dir.join("pty-a");
    let b = dir.join("pty-b");
    let child = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is missing: run scripts/setup.sh");
    let peer = Peer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.exists() && b.exists()) {
        assert!(Instant::now() < deadline, "socat made no pty pair in 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    (peer, a, b)
}

/// The pymodbus RTU server on `pty`; waits until it has opened the port.
pub fn modbus_rtu_server(pty: &Path, line: &str) -> Peer {
    let mut child = Command::new(python())
        .arg(repo().join("tests/peers/modbus_server.py"))
        .args(["rtu", pty.to_str().unwrap(), line])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the pymodbus server");
    let mut l = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut l)
        .unwrap();
    assert_eq!(l.trim(), "READY", "pymodbus RTU server did not start");
    // It opens the port after printing; give it the time to.
    std::thread::sleep(Duration::from_millis(1500));
    Peer(child)
}
