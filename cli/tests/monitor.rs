//! `pqe monitor` end to end: a generated supply with a dip, paced in real time through
//! `synth:`, followed over the page's event stream. The dip must reach the stream within
//! two seconds of its end, the values the stream shows must be the analysis' own (the
//! last interval of intervals.csv), and the routes must answer as documented.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = r#"
name = "monitor-test"
sample_rate = 6400
duration = 30.0
channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
[current]
magnitude = [16.0, 15.0, 17.0]
power_factor = 0.9
[[voltage.harmonics]]
order = 5
magnitude = 4.0
[[events]]
kind = "dip"
start = 2.5
duration = 0.2
residual = 60.0
phases = ["A"]
"#;

fn get(address: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(address).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[test]
fn the_monitor_streams_the_analysis_and_an_event_within_two_seconds_of_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("dip.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args([
            "monitor",
            "--source",
            &format!("synth:{}?speed=1&block=320", scenario.display()),
            "--duration",
            "5",
            "--listen",
            "127.0.0.1:0",
            "--exit-when-done",
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });

    let (status, page) = get(&address, "/");
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("new EventSource(\"/events\")"));
    let (status, body) = get(&address, "/report");
    assert!(
        status.contains("404") && body.contains("when the analysis ends"),
        "{status}"
    );
    let (status, _) = get(&address, "/nothing");
    assert!(status.contains("404"), "{status}");

    // Follow the stream until it ends (the monitor exits when the analysis is done).
    let mut s = TcpStream::connect(&address).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    let mut lines = BufReader::new(s);
    let mut states: Vec<(Instant, serde_json::Value)> = Vec::new();
    let mut text = String::new();
    while lines.read_line(&mut text).unwrap_or(0) > 0 {
        if let Some(json) = text.strip_prefix("data: ") {
            states.push((Instant::now(), serde_json::from_str(json.trim()).unwrap()));
        }
        text.clear();
    }
    let status = child.wait().unwrap();
    let log = rest.join().unwrap();
    assert!(status.success(), "{log}");
    assert!(states.len() > 10, "the page got {} states", states.len());

    // The dip, and when it first reached the stream: the samples of recording time r are
    // not delivered before `spawned + r` (the source is paced from its own later start),
    // so the lateness measured from there is an upper bound.
    let (arrived, first) = states
        .iter()
        .find(|(_, s)| s["event_count"].as_u64() > Some(0))
        .expect("the dip reached the stream");
    let dip = &first["events"][0];
    assert_eq!(dip["kind"], "dip");
    assert_eq!(dip["phases"], "A");
    let end = dip["t"].as_f64().unwrap() + dip["duration"].as_f64().unwrap();
    let late = arrived.duration_since(spawned).as_secs_f64() - end;
    assert!(
        late < 2.0,
        "the dip reached the page {late:.2} s after its end"
    );
    let residual = dip["extreme_percent"].as_f64().unwrap();
    assert!((residual - 60.0).abs() < 1.0, "{residual}");

    // The stream ran with the data: recording time grew while states arrived.
    let seconds: Vec<f64> = states
        .iter()
        .filter_map(|(_, s)| s["progress"]["seconds"].as_f64())
        .collect();
    assert!(seconds.windows(2).all(|w| w[1] >= w[0]));
    assert!(
        seconds.first() < Some(&2.0) && seconds.last() > Some(&4.5),
        "{seconds:?}"
    );

    // The last state shows the analysis' last interval, as intervals.csv has it.
    let last = &states.last().unwrap().1;
    assert_eq!(last["status"], "finished", "{last}");
    let values = &last["interval"]["values"];
    let mut r = csv::Reader::from_path(out.join("intervals.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let row = r.records().last().unwrap().unwrap();
    for q in ["t", "f", "U_A", "I_B", "THD_U_A", "PHI_I_A", "P", "Q", "PF"] {
        let k = header.iter().position(|h| h == q).unwrap();
        let csv: f64 = row[k].parse().unwrap();
        let streamed = values[q].as_f64().unwrap();
        assert!(
            (csv - streamed).abs() <= 1e-9 * csv.abs().max(1.0),
            "{q}: intervals.csv {csv}, stream {streamed}"
        );
    }
    // The spectrum of U_A: 4 % fifth harmonic.
    let u_a = last["interval"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "U_A")
        .unwrap();
    let spectrum = u_a["spectrum"].as_array().unwrap();
    let h5 = spectrum[5].as_f64().unwrap() / spectrum[1].as_f64().unwrap();
    assert!((h5 - 0.04).abs() < 0.0005, "{h5}");
    assert!(out.join("report.html").exists());
}
