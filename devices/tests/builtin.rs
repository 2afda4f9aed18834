//! The built-in live sources: replay:, synth:, tcp:// and udp:// (loopback only). Each
//! live analysis must equal the file analysis of the same samples, a gap must give the
//! same flagged intervals as a file with the same gap, and every fault must end within its
//! deadline with an error naming the driver and the fault.

mod common;

use common::*;
use pqe_core::{Block, Timestamp};
use pqe_devices::builtin::UdpSource;
use pqe_devices::stream::{encode_packet, PacketHeader, SampleFormat, FLAG_LAST};
use pqe_devices::{DeviceUri, Fault, LiveSource, Registry};
use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

#[test]
fn replay_at_max_speed_analyses_as_the_file_does() {
    let (info, blocks) = scenario_blocks(4096);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.cff");
    let mut w = pqe_io::create(&path, &info, pqe_io::WriteOptions::default()).unwrap();
    for b in &blocks {
        w.write_block(b).unwrap();
    }
    w.finish().unwrap();
    // the file analysis, read by pqe-io
    let mut reader = pqe_io::open(&path).unwrap();
    let file_info = reader.info().clone();
    let mut file_blocks = Vec::new();
    while let Some(b) = reader.read_block(65_536).unwrap() {
        file_blocks.push(b);
    }
    let reference = analyze(&file_info, &file_blocks);
    assert!(
        reference.iter().any(|r| r.contains("Dip")),
        "the scenario's dip is found"
    );

    let uri = format!("replay:{}?speed=max&block=777", path.display());
    let mut src = Registry::builtin().open(&uri).unwrap();
    assert_eq!(src.driver(), "replay");
    let d = drain(src.as_mut());
    assert!(d.error.is_none() && d.gaps.is_empty());
    assert_eq!(d.blocks[0].len(), 777);
    assert_eq!(analyze(src.info(), &d.blocks), reference);
}

#[test]
fn replay_paced_in_real_time_takes_the_recording_time() {
    let (info, blocks) = scenario_blocks(1024);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.csv");
    let mut w = pqe_io::create(&path, &info, pqe_io::WriteOptions::default()).unwrap();
    // 0.4 s of the recording
    for b in blocks.iter().take(4) {
        w.write_block(b).unwrap();
    }
    w.finish().unwrap();
    let t = Instant::now();
    let mut src = Registry::builtin()
        .open(&format!("replay:{}?block=1024", path.display()))
        .unwrap();
    let d = drain(src.as_mut());
    assert_eq!(samples(&d.blocks), 4096);
    // 4096 samples at 10.24 kHz are due 0.4 s after the first block started
    assert!(
        t.elapsed() >= Duration::from_millis(380),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let mut fast = Registry::builtin()
        .open(&format!("replay:{}?speed=4&block=1024", path.display()))
        .unwrap();
    drain(fast.as_mut());
    assert!(
        t.elapsed() >= Duration::from_millis(95),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn synth_source_equals_the_generator() {
    let (info, blocks) = scenario_blocks(65_536);
    let reference = analyze(&info, &blocks);
    let uri = format!("synth:{}?speed=max&block=1000", scenario_path().display());
    let mut src = Registry::builtin().open(&uri).unwrap();
    let d = drain(src.as_mut());
    assert!(d.error.is_none());
    assert_eq!(samples(&d.blocks), 40_960);
    assert_eq!(analyze(src.info(), &d.blocks), reference);
}

/// The scenario as packets of `per` samples, and the blocks a receiver decodes from them
/// (the values after the format's rounding).
fn packetise(format: SampleFormat, scale: f64, per: usize) -> (Vec<Vec<u8>>, Vec<Block>) {
    let (info, blocks) = scenario_blocks(per);
    let rate = info.sample_rate;
    let mut packets = Vec::new();
    let mut decoded = Vec::new();
    let n = blocks.len();
    for (i, b) in blocks.iter().enumerate() {
        let h = PacketHeader {
            format,
            channels: b.n_channels() as u16,
            samples: b.len() as u32,
            flags: if i + 1 == n { FLAG_LAST } else { 0 },
            sequence: 1000 + i as u64,
            time_ns: info.start.0 + (b.first_sample() as f64 * 1e9 / rate).round() as i64,
            sample_rate: rate,
        };
        let mut bytes = Vec::new();
        encode_packet(&h, b.planar(), scale, &mut bytes);
        let values: Vec<f64> = b
            .planar()
            .iter()
            .map(|&v| match format {
                SampleFormat::F32 => v as f32 as f64,
                SampleFormat::I16 => (v / scale).round() as i16 as f64 * scale,
                SampleFormat::I32 => (v / scale).round() as i32 as f64 * scale,
            })
            .collect();
        decoded.push(
            Block::from_planar(b.start(), rate, b.first_sample(), b.n_channels(), values).unwrap(),
        );
        packets.push(bytes);
    }
    (packets, decoded)
}

fn tcp_server(packets: Vec<Vec<u8>>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        for p in packets {
            if s.write_all(&p).is_err() {
                return;
            }
        }
    });
    (port, h)
}

#[test]
fn tcp_stream_analyses_as_the_same_samples_in_every_format() {
    let names = "channels=U_A,U_B,U_C,I_A,I_B,I_C";
    for (format, scale) in [
        (SampleFormat::F32, 1.0),
        (SampleFormat::I16, 0.02),
        (SampleFormat::I32, 1e-4),
    ] {
        let (packets, decoded) = packetise(format, scale, 1280);
        let (info, _) = scenario_blocks(1);
        let reference = analyze(&info, &decoded);
        let (port, server) = tcp_server(packets);
        let uri = format!("tcp://127.0.0.1:{port}?timeout=5&{names}&scale={scale}");
        let mut src = Registry::builtin().open(&uri).unwrap();
        assert_eq!(src.info().start, info.start);
        assert_eq!(src.info().channels.len(), 6);
        let d = drain(src.as_mut());
        server.join().unwrap();
        assert!(d.error.is_none(), "{:?}", d.error);
        assert!(d.gaps.is_empty());
        assert_eq!(channel(&d.blocks, 3), channel(&decoded, 3), "{format:?}");
        assert_eq!(analyze(src.info(), &d.blocks), reference, "{format:?}");
    }
}

#[test]
fn lost_tcp_packets_are_a_flagged_gap_as_in_a_file_with_the_same_gap() {
    let (mut packets, mut decoded) = packetise(SampleFormat::F32, 1.0, 1024);
    // packets 20..23 (2.0 s to 2.3 s) never arrive
    packets.drain(20..23);
    decoded.drain(20..23);
    let (info, _) = scenario_blocks(1);
    let reference = analyze(&info, &decoded);
    assert!(
        reference.iter().any(|r| r.contains("after_gap: true")),
        "the file with the gap flags the interval after it"
    );
    let (port, server) = tcp_server(packets);
    let mut src = Registry::builtin()
        .open(&format!("tcp://127.0.0.1:{port}"))
        .unwrap();
    let d = drain(src.as_mut());
    server.join().unwrap();
    assert!(d.error.is_none(), "{:?}", d.error);
    assert_eq!(d.gaps.len(), 1);
    let g = &d.gaps[0];
    assert!(
        g.reason
            .contains("3 packet(s) lost (sequence 1020 to 1022)"),
        "{}",
        g.reason
    );
    assert_eq!(g.from, info.start.add_seconds(2.0));
    assert_eq!(g.to, Some(info.start.add_seconds(2.3)));
    assert_eq!(analyze(src.info(), &d.blocks), reference);
}

#[test]
fn udp_late_and_lost_datagrams_become_gaps_never_joined() {
    let (packets, decoded) = packetise(SampleFormat::F32, 1.0, 256);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    // 160 datagrams of 256 samples × 6 channels; 31 is late (after 32), 60 lost, 90 garbage
    let mut order: Vec<usize> = (0..packets.len()).filter(|&i| i != 60).collect();
    let p31 = order.iter().position(|&i| i == 31).unwrap();
    order.swap(p31, p31 + 1);
    let sender = std::thread::spawn(move || {
        let out = UdpSocket::bind("127.0.0.1:0").unwrap();
        for (k, i) in order.into_iter().enumerate() {
            if i == 90 {
                out.send_to(
                    b"not a packet at all, 40 bytes or more....",
                    ("127.0.0.1", port),
                )
                .unwrap();
                continue;
            }
            out.send_to(&packets[i], ("127.0.0.1", port)).unwrap();
            // keep the loopback receive buffer from overflowing
            if k % 8 == 7 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    let uri = DeviceUri::parse(&format!("udp://127.0.0.1:{port}?timeout=5")).unwrap();
    let mut src = UdpSource::from_bound(socket, &uri).unwrap();
    let d = drain(&mut src);
    sender.join().unwrap();
    assert!(d.error.is_none(), "{:?}", d.error);
    assert_eq!(src.malformed, 1);
    // 31 arrived after 32: dropped; its span, 60's and 90's are gaps
    assert_eq!(d.gaps.len(), 3, "{:?}", d.gaps);
    let expected: Vec<Block> = decoded
        .into_iter()
        .enumerate()
        .filter(|(i, _)| ![31, 60, 90].contains(i))
        .map(|(_, b)| b)
        .collect();
    let (info, _) = scenario_blocks(1);
    assert_eq!(analyze(src.info(), &d.blocks), analyze(&info, &expected));
}

fn tcp_fault(bytes: Vec<u8>, params: &str) -> (pqe_devices::DeviceError, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(&bytes);
        // hold the connection open a while (the timeout test needs silence, not a close)
        std::thread::sleep(Duration::from_millis(1500));
    });
    let t = Instant::now();
    let r: Result<(), _> = Registry::builtin()
        .open(&format!("tcp://127.0.0.1:{port}?{params}"))
        .and_then(|mut s| {
            let d = drain(s.as_mut());
            Err(d.error.expect("a fault"))
        });
    let e = r.err().unwrap();
    let took = t.elapsed();
    server.join().unwrap();
    (e, took)
}

#[test]
fn tcp_faults_are_named_and_bounded() {
    let (packets, _) = packetise(SampleFormat::F32, 1.0, 1024);
    // truncated: the second packet is cut
    let mut b = packets[0].clone();
    b.extend_from_slice(&packets[1][..500]);
    let (e, _) = tcp_fault(b, "timeout=5");
    assert_eq!(e.fault(), Some(&Fault::Truncated), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("driver tcp") && m.contains("inside a packet payload"),
        "{m}"
    );
    // oversized against max_packet
    let (e, _) = tcp_fault(packets[0].clone(), "max_packet=10000");
    assert_eq!(e.fault(), Some(&Fault::Oversized), "{e}");
    assert!(e.to_string().contains("max_packet=10000"), "{e}");
    // garbage header
    let mut b = packets[0].clone();
    b.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n and some more bytes to fill a header");
    let (e, _) = tcp_fault(b, "");
    assert_eq!(e.fault(), Some(&Fault::Malformed), "{e}");
    assert!(e.to_string().contains("packet at byte 24616"), "{e}");
    // silence: the read deadline ends it
    let (e, took) = tcp_fault(packets[0].clone(), "timeout=0.3");
    assert_eq!(e.fault(), Some(&Fault::Timeout), "{e}");
    assert!(took < Duration::from_millis(1400), "{took:?}");
    // a channel count the URI does not name
    let (e, _) = tcp_fault(packets[0].clone(), "channels=U_A,U_B");
    assert!(e.to_string().contains("carries 6 channels"), "{e}");
}

#[test]
fn connection_refused_and_unknown_parameters_are_errors() {
    // a port nobody listens on
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = Registry::builtin()
        .open(&format!("tcp://127.0.0.1:{port}?timeout=1"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("cannot connect"), "{e}");
    let e = Registry::builtin()
        .open("tcp://127.0.0.1:1?speed=max")
        .err()
        .unwrap();
    assert!(e.to_string().contains("unknown parameter 'speed'"), "{e}");
    let e = Registry::builtin().open("nosuch://x").err().unwrap();
    assert!(
        e.to_string().contains("no driver for scheme 'nosuch:'"),
        "{e}"
    );
    assert!(e.to_string().contains("replay, synth, tcp, udp"), "{e}");
    let e = Registry::builtin()
        .open("replay:/no/such/file.cfg")
        .err()
        .unwrap();
    assert!(e.to_string().contains("/no/such/file.cfg"), "{e}");
}

#[test]
fn enumeration_runs_in_parallel_under_a_deadline() {
    use pqe_devices::{Driver, DriverInfo, FoundDevice, Origin};
    use std::sync::Arc;
    struct Slow(DriverInfo);
    impl Driver for Slow {
        fn info(&self) -> &DriverInfo {
            &self.0
        }
        fn enumerate(&self, _: Duration) -> Result<Vec<FoundDevice>, pqe_devices::DeviceError> {
            std::thread::sleep(Duration::from_secs(30));
            Ok(Vec::new())
        }
        fn open(&self, u: &DeviceUri) -> Result<Box<dyn LiveSource>, pqe_devices::DeviceError> {
            Err(u.error("not a real device"))
        }
    }
    let mut r = Registry::builtin();
    r.add(Arc::new(Slow(DriverInfo {
        name: "slow".into(),
        version: "0".into(),
        schemes: vec!["slow".into()],
        origin: Origin::BuiltIn,
        description: "never answers".into(),
    })));
    let t = Instant::now();
    let e = r.enumerate_all(Duration::from_millis(300));
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(e.len(), 5);
    assert!(e[0].found.as_ref().unwrap().is_empty());
    let slow = e[4].found.as_ref().unwrap_err();
    assert_eq!(slow.fault(), Some(&Fault::Timeout));
    assert!(slow.to_string().contains("slow"), "{slow}");
    let _ = Timestamp(0);
}
