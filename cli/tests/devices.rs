//! `pqe devices list`: built-in drivers, a C plugin and an adapter from PQE_PLUGIN_PATH,
//! each with where it came from and what it finds; a refused plugin is reported.

use std::path::PathBuf;
use std::process::Command;

fn devices_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../devices")
}

#[test]
fn devices_list_shows_builtins_plugins_and_adapters() {
    let dir = tempfile::tempdir().unwrap();
    let build = |name: &str, defines: &[&str]| {
        let st = Command::new("cc")
            .args(["-shared", "-fPIC", "-O2", "-Wno-unused-function", "-I"])
            .arg(devices_dir().join("include"))
            .args(defines)
            .arg("-o")
            .arg(dir.path().join(name))
            .arg(devices_dir().join("plugins/simdaq/simdaq.c"))
            .arg("-lm")
            .status()
            .expect("cc (build-essential) must be installed");
        assert!(st.success());
    };
    build("libsimdaq.so", &[]);
    build("libold.so", &["-DSIMDAQ_ABI_MAJOR=0"]);
    let script = devices_dir().join("adapters/sim_adapter.py");
    std::fs::write(
        dir.path().join("simpy.adapter.json"),
        format!(
            r#"{{"name": "simpy", "schemes": ["simpy"], "command": ["python3", "{}"]}}"#,
            script.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(["devices", "list", "--json", "--deadline", "20"])
        .env("PQE_PLUGIN_PATH", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let drivers = v["drivers"].as_array().unwrap();
    let names: Vec<&str> = drivers
        .iter()
        .map(|d| d["driver"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["replay", "synth", "tcp", "udp", "simdaq", "simpy"]);
    let sim = &drivers[4];
    assert_eq!(sim["driver"]["origin"]["kind"], "plugin");
    assert!(sim["driver"]["origin"]["path"]
        .as_str()
        .unwrap()
        .ends_with("libsimdaq.so"));
    assert_eq!(sim["found"]["devices"][0]["uri"], "simdaq://card0");
    let simpy = &drivers[5];
    assert_eq!(simpy["driver"]["origin"]["kind"], "adapter");
    assert_eq!(simpy["found"]["devices"][0]["uri"], "simpy://meter0");
    let refused = v["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].as_str().unwrap().contains("libold.so"));
    assert!(refused[0].as_str().unwrap().contains("major version 0"));
    // the text form names the same
    let out = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(["devices", "list"])
        .env("PQE_PLUGIN_PATH", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("simdaq://card0") && text.contains("refused: plugin"),
        "{text}"
    );
}

#[test]
fn a_hanging_driver_does_not_stall_the_listing_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let script = devices_dir().join("adapters/sim_adapter.py");
    for (name, extra) in [("simpy", ""), ("stuck", r#", "--hang-before""#)] {
        std::fs::write(
            dir.path().join(format!("{name}.adapter.json")),
            format!(
                r#"{{"name": "{name}", "schemes": ["{name}"], "command": ["python3", "{}"{extra}]}}"#,
                script.display()
            ),
        )
        .unwrap();
    }
    let t = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(["devices", "list", "--json", "--deadline", "3"])
        .env("PQE_PLUGIN_PATH", dir.path())
        .output()
        .unwrap();
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The stuck adapter never answers: the listing ends at its deadline, not later.
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let drivers = v["drivers"].as_array().unwrap();
    let by_name = |n: &str| {
        drivers
            .iter()
            .find(|d| d["driver"]["name"] == n)
            .unwrap_or_else(|| panic!("{n} not listed: {v}"))
    };
    assert_eq!(
        by_name("simpy")["found"]["devices"][0]["uri"],
        "simpy://meter0"
    );
    let stuck = by_name("stuck")["found"]["error"].as_str().unwrap();
    assert!(
        stuck.contains("stuck") && stuck.contains("timeout"),
        "{stuck}"
    );
    assert!(by_name("replay")["found"]["devices"]
        .as_array()
        .unwrap()
        .is_empty());
}
