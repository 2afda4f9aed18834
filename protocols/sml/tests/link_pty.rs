//! The SML link over a real serial line: a socat pty pair (a fresh pair per test); a
//! thread plays a push meter writing telegrams (with line noise and one corrupt frame)
//! into one end, the link opened from `sml://PTY?serial=9600/8N1` reads the other.
#![cfg(feature = "link")]

use pqe_link::{MeterLink, MeterUri, ObisCode, OpenRequest, Reading, Registry, Selector};
use pqe_sml::build::{telegram, EntrySpec, ValueSpec};
use pqe_sml::CrcKind;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct PtyPair {
    child: Child,
    a: PathBuf,
    b: PathBuf,
    _dir: tempdir::Dir,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pty_pair(tag: &str) -> PtyPair {
    let dir = std::env::temp_dir().join(format!("pqe-sml-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("meter"), dir.join("pqe"));
    let child = Command::new("socat")
        .args([
            "-d",
            "-d",
            &format!("pty,raw,echo=0,link={}", a.display()),
            &format!("pty,raw,echo=0,link={}", b.display()),
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (installed by scripts/setup.sh) starts");
    let t0 = Instant::now();
    while !(a.exists() && b.exists()) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "socat made no pty pair"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    PtyPair {
        child,
        a,
        b,
        _dir: tempdir::Dir(dir),
    }
}

fn entries() -> Vec<EntrySpec> {
    vec![
        EntrySpec {
            obis: [1, 0, 1, 8, 0, 255],
            status: Some((0x0182, 2)),
            unit: Some(30),
            scaler: Some(-1),
            value: ValueSpec::Unsigned(123_456_789, 5),
        },
        EntrySpec {
            obis: [1, 0, 16, 7, 0, 255],
            status: None,
            unit: Some(27),
            scaler: Some(0),
            value: ValueSpec::Integer(-250, 2),
        },
        EntrySpec {
            obis: [1, 0, 96, 50, 1, 1],
            status: None,
            unit: None,
            scaler: None,
            value: ValueSpec::Octets(b"EMH".to_vec()),
        },
    ]
}

fn push_meter(path: &Path, crc: CrcKind) -> std::thread::JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let good = telegram(
            &[0x0A, 0x01, 0x45, 0x4D, 0x48, 0, 0, 0, 0, 1],
            &entries(),
            crc,
        );
        let mut bad = good.clone();
        bad[30] ^= 0x10;
        // Joining mid-stream: the tail of a telegram, then a corrupt one, then good ones.
        let _ = f.write_all(&good[good.len() / 2..]);
        let _ = f.write_all(&bad);
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(200));
            if f.write_all(&good).is_err() {
                return;
            }
        }
    })
}

fn open(uri: &str) -> Box<dyn MeterLink> {
    let mut reg = Registry::new();
    pqe_sml::link::register(&mut reg);
    let uri: MeterUri = uri.parse().unwrap();
    reg.open(&OpenRequest {
        uri: &uri,
        map: None,
        trace: None,
    })
    .unwrap()
}

#[test]
fn reads_a_push_telegram_over_a_pty() {
    for crc in [CrcKind::X25, CrcKind::Kermit] {
        let pair = pty_pair(crc.name().trim_start_matches("CRC-16/"));
        let mut link = open(&format!(
            "sml://{}?serial=9600/8N1&timeout_ms=5000",
            pair.b.display()
        ));
        let meter = push_meter(&pair.a, crc);
        let all = link.read_all().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].id, "1-0:1.8.0*255");
        assert_eq!(
            (all[0].value.clone(), all[0].unit.as_str()),
            (Reading::Number(12_345_678.9), "Wh")
        );
        assert_eq!(
            (all[1].value.clone(), all[1].unit.as_str()),
            (Reading::Number(-250.0), "W")
        );
        assert_eq!(all[2].value, Reading::Text("EMH".into()));
        let one = link
            .read(&[Selector::Obis("16.7.0".parse::<ObisCode>().unwrap())])
            .unwrap();
        assert_eq!(one[0].value, Reading::Number(-250.0));
        meter.join().unwrap();
    }
}

#[test]
fn a_silent_meter_times_out() {
    let pair = pty_pair("silent");
    let mut link = open(&format!(
        "sml://{}?serial=9600/8N1&timeout_ms=300",
        pair.b.display()
    ));
    let t0 = Instant::now();
    let e = link.read_all().unwrap_err().to_string();
    assert!(e.contains("timeout") && e.contains("SML telegram"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let _ = &pair.a;
}
