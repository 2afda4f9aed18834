//! Chunk invariance: any sequence of block sizes gives bit-identical samples.

use pqe_dsp::synth::Scenario;

/// Everything at once: frequency law with offset, ramps and wander; unbalance by angle;
/// harmonics, locked and fixed interharmonics; current harmonics; flicker of both shapes;
/// events with point on wave and ramps; phase jumps; noise on every channel; neutral
/// channels.
const BUSY: &str = r#"
sample_rate = 10240
duration = 2.5
seed = 99
channels = ["U_A", "U_B", "U_C", "U_N", "I_A", "I_B", "I_C", "I_N"]

[frequency]
offset = -0.03
[[frequency.ramp]]
start = 0.2
end = 1.1
rate = 0.4
[[frequency.wander]]
amplitude = 0.05
period = 0.9
phase = 12.0

[voltage]
magnitude = [231.0, 228.0, 230.0]
angle = [0.0, 1.0, -0.5]
[[voltage.harmonics]]
order = 5
magnitude = 4.0
phase = 33.0
[[voltage.harmonics]]
order = 23
magnitude = [0.4, 0.5, 0.6]
phases = ["A", "C"]
[[voltage.interharmonics]]
order = 3.3
magnitude = 0.7
[[voltage.interharmonics]]
frequency = 183.3
magnitude = 0.2

[current]
magnitude = [12.0, 9.0, 14.0]
power_factor = 0.85
[[current.harmonics]]
order = 3
magnitude = 25.0
[[current.interharmonics]]
order = 6.5
magnitude = 2.0

[neutral]
voltage = 0.7
angle = 15.0

[[flicker]]
shape = "sine"
depth = 1.5
rate = 8.8
start = 0.1
end = 1.3
[[flicker]]
shape = "rectangular"
depth = 2.0
changes_per_minute = 1620
start = 0.9
phases = ["B"]

[[events]]
kind = "dip"
start = 0.4
duration = 0.15
residual = 30.0
phases = ["A", "B"]
point_on_wave = 45.0
ramp = 0.004
[[events]]
kind = "swell"
start = 1.5
duration = 0.2
residual = 120.0
phases = ["C"]
[[events]]
kind = "interruption"
start = 2.0
duration = 0.3
point_on_wave = 0.0

[[phase_jump]]
time = 0.4
angle = -25.0
phases = ["A", "B"]
[[phase_jump]]
time = 0.55
angle = 25.0
phases = ["A", "B"]

[noise]
voltage_db = -60
current_rms = 0.01
"#;

fn render(s: &Scenario, sizes: &[usize]) -> (Vec<u64>, Vec<u64>) {
    let mut g = s.generator();
    let n_ch = s.channel_names().len();
    let mut chans: Vec<Vec<u64>> = vec![Vec::new(); n_ch];
    let mut next = 0u64;
    let mut times = Vec::new();
    let mut k = 0;
    while let Some(b) = g.next_block(sizes[k % sizes.len()]) {
        assert_eq!(b.first_sample(), next);
        assert_eq!(b.sample_rate(), s.sample_rate());
        times.push(b.start().as_nanos() as u64);
        next += b.len() as u64;
        for (c, ch) in chans.iter_mut().enumerate() {
            ch.extend(b.channel(c).iter().map(|x| x.to_bits()));
        }
        k += 1;
    }
    assert_eq!(next, s.total_samples());
    (chans.concat(), times)
}

#[test]
fn any_block_sizes_give_bit_identical_samples() {
    let s = Scenario::from_toml_str(BUSY).unwrap_or_else(|e| panic!("{e}"));
    let (reference, _) = render(&s, &[65_536]);
    assert_eq!(reference.len() as u64, 8 * s.total_samples());
    for sizes in [&[1][..], &[7], &[1000], &[3, 1, 4096, 17, 65_536, 2]] {
        let (got, _) = render(&s, sizes);
        let first_diff = got.iter().zip(&reference).position(|(a, b)| a != b);
        assert_eq!(first_diff, None, "block sizes {sizes:?}");
    }
}

#[test]
fn block_start_times_follow_the_sample_index() {
    let s = Scenario::from_toml_str(BUSY).unwrap();
    let (_, times) = render(&s, &[1000]);
    let t0 = s.start().as_nanos() as u64;
    for (k, t) in times.iter().enumerate() {
        let want = t0 + (k as u64 * 1000 * 1_000_000_000) / 10_240;
        assert!(t.abs_diff(want) <= 1, "block {k}: {t} vs {want}");
    }
}

#[test]
fn seeking_matches_sequential_generation_without_noise() {
    let quiet = BUSY.replace("[noise]\nvoltage_db = -60\ncurrent_rms = 0.01\n", "");
    let s = Scenario::from_toml_str(&quiet).unwrap();
    let mut g = s.generator();
    let whole = g.next_block(usize::MAX).unwrap();
    let mut h = s.generator();
    h.seek(12_345).unwrap();
    let part = h.next_block(500).unwrap();
    for c in 0..whole.n_channels() {
        let a: Vec<u64> = whole.channel(c)[12_345..12_845]
            .iter()
            .map(|x| x.to_bits())
            .collect();
        let b: Vec<u64> = part.channel(c).iter().map(|x| x.to_bits()).collect();
        assert_eq!(a, b, "channel {c}");
    }
    let noisy = Scenario::from_toml_str(BUSY).unwrap();
    assert!(noisy.generator().seek(10).is_err());
}
