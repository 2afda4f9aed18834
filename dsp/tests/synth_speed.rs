//! Generation speed. Ignored by default (it measures, it does not check); run with
//! `cargo test --release -p pqe-dsp --test synth_speed -- --ignored --nocapture`.

use pqe_dsp::synth::Scenario;
use std::time::Instant;

fn measure(name: &str, text: &str, seconds: f64) {
    let s = Scenario::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let mut g = s.generator();
    let n_ch = s.channel_names().len();
    let want = (seconds * s.sample_rate()) as u64;
    let t0 = Instant::now();
    let mut done = 0u64;
    let mut checksum = 0.0;
    while done < want {
        let Some(b) = g.next_block(65_536) else { break };
        done += b.len() as u64;
        checksum += b.channel(0)[0];
    }
    let dt = t0.elapsed().as_secs_f64();
    let rate = done as f64 / dt;
    let day = 86_400.0 * s.sample_rate() / rate;
    println!(
        "{name}: {done} samples × {n_ch} channels in {dt:.2} s: {:.2} M samples/s per channel, \
         {:.1} M channel-samples/s; 24 h would take {day:.0} s ({checksum:.3})",
        rate / 1e6,
        rate * n_ch as f64 / 1e6,
    );
}

#[test]
#[ignore = "measurement; prints the generator's samples per second"]
fn generation_speed() {
    let demo = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../datasets/scenarios/demo-hour.toml"),
    )
    .unwrap();
    measure("clean 3V+3I", "duration = 86400.0\n", 600.0);
    measure(
        "clean 3V+3I with noise",
        "duration = 86400.0\n[noise]\nvoltage_db = -70\ncurrent_db = -60\n",
        600.0,
    );
    measure(
        "two frequency wanders",
        "duration = 86400.0\n[[frequency.wander]]\namplitude = 0.03\nperiod = 600.0\n\
         [[frequency.wander]]\namplitude = 0.01\nperiod = 97.0\n",
        600.0,
    );
    measure(
        "fixed-frequency interharmonic",
        "duration = 86400.0\n[[voltage.interharmonics]]\nfrequency = 183.3\nmagnitude = 0.3\n",
        600.0,
    );
    measure(
        "harmonics to order 13",
        "duration = 86400.0\n[[voltage.harmonics]]\norder = 13\nmagnitude = 1\n\
         [[current.harmonics]]\norder = 13\nmagnitude = 1\n",
        600.0,
    );
    measure("demo-hour", &demo, 600.0);
}
