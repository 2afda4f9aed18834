//! Do the settings fit the data? A look at the first seconds of a recording, before the
//! analyzer is built: the frequency and the voltage the signal shows, compared with the
//! nominal ones, and `--nominal-voltage auto`.
//!
//! How `auto` decides: over the first [`LOOK_AHEAD_SECONDS`] of the recording (all of it
//! when shorter), the RMS of every voltage channel is taken over the whole stretch (many
//! cycles, so the window's phase does not matter); their median (robust to one faulted
//! phase) is compared with the standard nominal voltages of [`STANDARD_NOMINALS_V`] —
//! phase-to-neutral values for wye and single-phase wiring, line-to-line values for delta —
//! and the nearest on a logarithmic scale (the smallest ratio) is Udin. A recording that
//! starts inside an interruption has no voltage to go by; `auto` then refuses and asks for
//! the value.
//!
//! The frequency is the mean rate of rising zero crossings of the first voltage channel
//! (interpolated between samples) over the same stretch. A frequency nearer the other
//! nominal (60 Hz data analysed as 50 Hz, or the reverse) or a voltage outside half to
//! twice Udin is warned about, naming the option that fixes it.

use pqe_core::{Block, ChannelKind, ChannelSpec, NominalFrequency, Wiring};

/// Seconds of the recording looked at before the analysis starts.
pub const LOOK_AHEAD_SECONDS: f64 = 2.0;

/// Nominal system voltages, volts, line-to-line (IEC 60038:2009 Tables 1–4 for 50 Hz and
/// 60 Hz systems, with the North American distribution voltages of ANSI C84.1). The
/// phase-to-neutral candidates for wye wiring are these divided by √3, with the LV
/// phase-to-neutral values 120, 127, 220, 230, 240, 277 and 347 V.
pub const STANDARD_NOMINALS_V: [f64; 27] = [
    208.0, 220.0, 230.0, 240.0, 380.0, 400.0, 415.0, 440.0, 480.0, 600.0, 690.0, 1000.0, 2400.0,
    3300.0, 4160.0, 6600.0, 11000.0, 12470.0, 13200.0, 13800.0, 20000.0, 22000.0, 24940.0, 33000.0,
    34500.0, 66000.0, 110000.0,
];

/// LV phase-to-neutral nominals (IEC 60038 Table 1, ANSI C84.1).
const PHASE_NOMINALS_V: [f64; 7] = [120.0, 127.0, 220.0, 230.0, 240.0, 277.0, 347.0];

/// What the first seconds show.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Median RMS of the voltage channels, in volts (None without voltage channels or
    /// without signal).
    pub voltage: Option<f64>,
    /// Frequency of the first voltage channel, Hz (None when fewer than three crossings).
    pub frequency: Option<f64>,
    /// Seconds looked at.
    pub seconds: f64,
}

/// Volts per unit of a channel's values (`kV` → 1000).
pub fn volts_per_unit(unit: &str) -> f64 {
    if unit.trim().starts_with(['k', 'K']) {
        1000.0
    } else {
        1.0
    }
}

/// Look at `blocks` (the first seconds, in order, contiguous) of a recording with
/// `channels` sampled at `sample_rate`.
pub fn observe(blocks: &[Block], channels: &[ChannelSpec], sample_rate: f64) -> Observed {
    let voltages: Vec<usize> = channels
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ChannelKind::Voltage)
        .map(|(i, _)| i)
        .collect();
    let samples: usize = blocks.iter().map(Block::len).sum();
    let seconds = samples as f64 / sample_rate;
    let mut rms: Vec<f64> = voltages
        .iter()
        .filter_map(|&c| {
            let (mut sum, mut n) = (0.0, 0u64);
            for b in blocks {
                for &x in b.channel(c) {
                    if x.is_finite() {
                        sum += x * x;
                        n += 1;
                    }
                }
            }
            let v = (sum / n as f64).sqrt() * volts_per_unit(&channels[c].unit);
            (n > 0 && v > 0.0 && v.is_finite()).then_some(v)
        })
        .collect();
    rms.sort_by(f64::total_cmp);
    let voltage = match rms.len() {
        0 => None,
        n if n % 2 == 1 => Some(rms[n / 2]),
        n => Some(0.5 * (rms[n / 2 - 1] + rms[n / 2])),
    };
    let frequency = voltages
        .first()
        .and_then(|&c| crossing_frequency(blocks, c, sample_rate));
    Observed {
        voltage,
        frequency,
        seconds,
    }
}

/// Mean frequency from rising zero crossings (after removing the mean), interpolated.
fn crossing_frequency(blocks: &[Block], c: usize, sample_rate: f64) -> Option<f64> {
    let x: Vec<f64> = blocks
        .iter()
        .flat_map(|b| b.channel(c).iter().copied())
        .collect();
    let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 3 {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    let peak = finite.iter().map(|v| (v - mean).abs()).fold(0.0, f64::max);
    // A hysteresis of 10 % of the peak keeps noise from adding crossings.
    let band = 0.1 * peak;
    let mut armed = false;
    let mut crossings = Vec::new();
    for i in 1..x.len() {
        let (a, b) = (x[i - 1] - mean, x[i] - mean);
        if !(a.is_finite() && b.is_finite()) {
            armed = false;
            continue;
        }
        if b < -band {
            armed = true;
        }
        if armed && a < 0.0 && b >= 0.0 {
            crossings.push((i - 1) as f64 + a / (a - b));
            armed = false;
        }
    }
    if crossings.len() < 3 {
        return None;
    }
    let span = crossings[crossings.len() - 1] - crossings[0];
    Some((crossings.len() - 1) as f64 * sample_rate / span)
}

/// The standard nominal Udin nearest (by ratio) to `volts` for `wiring`.
pub fn nearest_nominal_voltage(volts: f64, wiring: Wiring) -> f64 {
    let candidates: Vec<f64> = match wiring {
        Wiring::Delta => STANDARD_NOMINALS_V.to_vec(),
        // LV phase-to-neutral nominals are listed as such (230 V, not 400/√3 = 230.9 V);
        // above 1 kV a system is named by its line-to-line value.
        Wiring::Wye | Wiring::Single => PHASE_NOMINALS_V
            .iter()
            .copied()
            .chain(
                STANDARD_NOMINALS_V
                    .iter()
                    .filter(|&&v| v > 1000.0)
                    .map(|v| v / 3f64.sqrt()),
            )
            .collect(),
    };
    candidates
        .into_iter()
        .min_by(|a, b| (volts / a).ln().abs().total_cmp(&(volts / b).ln().abs()))
        .expect("candidates")
}

/// Warnings about settings that do not fit what was observed, each naming the option
/// that fixes it.
pub fn warnings(
    observed: &Observed,
    nominal_frequency: NominalFrequency,
    udin: f64,
    file_line_frequency: f64,
) -> Vec<String> {
    let mut out = Vec::new();
    let nominal = nominal_frequency.hz();
    if let Some(f) = observed.frequency {
        let other = if nominal == 50.0 { 60.0 } else { 50.0 };
        if (f - other).abs() < (f - nominal).abs() {
            out.push(format!(
                "the signal's frequency is about {f:.1} Hz but the nominal frequency is \
                 {nominal} Hz (intervals of {} cycles): give --nominal-frequency {other}",
                nominal_frequency.cycles_per_interval()
            ));
        } else if (f - nominal).abs() > 0.15 * nominal {
            out.push(format!(
                "the signal's frequency is about {f:.1} Hz, far from the nominal {nominal} Hz: \
                 check --nominal-frequency"
            ));
        }
    } else if file_line_frequency > 0.0 && (file_line_frequency - nominal).abs() > 1.0 {
        out.push(format!(
            "the recording says its line frequency is {file_line_frequency} Hz but the \
             analysis uses {nominal} Hz: give --nominal-frequency {file_line_frequency}"
        ));
    }
    if let Some(u) = observed.voltage {
        if !(0.5 * udin..=2.0 * udin).contains(&u) {
            out.push(format!(
                "the voltage channels read about {} V RMS in the first {:.1} s, far from the \
                 nominal {udin} V: give --nominal-voltage with the declared voltage, or \
                 --nominal-voltage auto",
                round_sig(u),
                observed.seconds
            ));
        }
    }
    out
}

fn round_sig(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(2 - v.log10().floor() as i32);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use pqe_core::Timestamp;

    fn sine_blocks(f: f64, amplitude: f64, rate: f64, seconds: f64) -> Vec<Block> {
        let n = (rate * seconds) as usize;
        let x: Vec<f64> = (0..n)
            .map(|i| amplitude * (2.0 * std::f64::consts::PI * f * i as f64 / rate + 0.3).sin())
            .collect();
        vec![Block::from_channels(Timestamp::from_nanos(0), rate, 0, vec![x]).unwrap()]
    }

    fn voltage(unit: &str) -> Vec<ChannelSpec> {
        let mut c = ChannelSpec::new("VA", unit);
        c.kind = ChannelKind::Voltage;
        vec![c]
    }

    #[test]
    fn sees_a_60_hz_2_4_kv_signal_and_names_the_options() {
        let rms = 2400.0;
        let blocks = sine_blocks(60.0, rms * 2f64.sqrt(), 10_000.0, 0.4);
        let o = observe(&blocks, &voltage("V"), 10_000.0);
        assert!((o.frequency.unwrap() - 60.0).abs() < 0.01, "{o:?}");
        assert!((o.voltage.unwrap() - rms).abs() < 1.0, "{o:?}");
        let w = warnings(&o, NominalFrequency::Hz50, 230.0, 50.0);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("--nominal-frequency 60"), "{}", w[0]);
        assert!(w[1].contains("--nominal-voltage"), "{}", w[1]);
        // 2.4 kV phase-to-neutral is the 4.16 kV system.
        let auto = nearest_nominal_voltage(o.voltage.unwrap(), Wiring::Wye);
        assert!((auto - 4160.0 / 3f64.sqrt()).abs() < 1e-9, "{auto}");
        assert!(warnings(&o, NominalFrequency::Hz60, auto, 50.0).is_empty());
    }

    #[test]
    fn nearest_nominals_of_common_supplies() {
        assert_eq!(nearest_nominal_voltage(231.0, Wiring::Wye), 230.0);
        assert_eq!(nearest_nominal_voltage(118.0, Wiring::Single), 120.0);
        assert_eq!(nearest_nominal_voltage(402.0, Wiring::Delta), 400.0);
        assert_eq!(nearest_nominal_voltage(11_200.0, Wiring::Delta), 11_000.0);
        assert_eq!(volts_per_unit(" kV"), 1000.0);
    }

    #[test]
    fn a_fitting_supply_gives_no_warning() {
        let blocks = sine_blocks(50.02, 230.0 * 2f64.sqrt(), 10_240.0, 2.0);
        let o = observe(&blocks, &voltage("V"), 10_240.0);
        assert!(warnings(&o, NominalFrequency::Hz50, 230.0, 50.0).is_empty());
    }
}
