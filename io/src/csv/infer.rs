//! What a CSV without sidecar leaves to guess: each channel's kind, phase and unit from its
//! name, and the sample rate from the `t` column.

use pqe_core::{ChannelKind, ChannelSpec, Phase};

/// A channel described by its column name alone.
///
/// `U_A`, `V_A`, `UA`, `VA`, `U_L1` → voltage in V, phase A; `U_AB`, `V_L1-L2` → line-to-line;
/// `I_A`, `IA`, `I_N` → current in A; a bare `U`, `V` or `I` → that kind without phase. A unit
/// in square brackets or parentheses at the end (`U_A [kV]`, `I_N (mA)`) replaces the
/// default unit and sets the kind. Any other name is an `other` channel without unit.
pub(crate) fn channel_from_name(name: &str) -> ChannelSpec {
    let (base, unit) = split_unit(name);
    let (kind, phase) = kind_and_phase(base);
    let unit = match (unit, kind) {
        (Some(u), _) => u.to_string(),
        (None, ChannelKind::Voltage) => "V".to_string(),
        (None, ChannelKind::Current) => "A".to_string(),
        (None, ChannelKind::Other) => String::new(),
    };
    let kind = match ChannelKind::from_unit(&unit) {
        ChannelKind::Other => kind,
        from_unit => from_unit,
    };
    let mut spec = ChannelSpec::new(name, unit).with_kind(kind);
    spec.phase = phase;
    spec
}

/// Estimate a constant sample rate from the first rows' times.
///
/// `times` are `(t, decimals)`: each value and the number of decimal places it was written
/// with. The median interval finds the nominal period, robust to a glitch; the rate is then
/// measured over the leading run of rows whose intervals agree with it. When an integer rate
/// reproduces every one of those times to the precision the column was written with, the
/// integer is returned, so a `t` column printed with a few decimals does not yield
/// 12 800.3 Hz. `None` when fewer than two rows or no positive interval exist.
pub(crate) fn estimate_rate(times: &[(f64, u32)]) -> Option<f64> {
    let mut intervals: Vec<f64> = times
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0.0 && d.is_finite())
        .collect();
    if intervals.is_empty() {
        return None;
    }
    intervals.sort_by(f64::total_cmp);
    let median = intervals[intervals.len() / 2];
    // The column's printing precision, but never so coarse that it hides a missing sample.
    let resolution = resolution(times.iter().map(|t| t.1).max().unwrap_or(0)).min(0.05 * median);
    let t0 = times[0].0;
    let run = times
        .windows(2)
        .position(|w| ((w[1].0 - w[0].0) - median).abs() > 0.1 * median + 2.0 * resolution)
        .unwrap_or(times.len() - 1);
    if run == 0 {
        return Some(1.0 / median);
    }
    let span = times[run].0 - t0;
    let rate = run as f64 / span;
    // The integers the printed precision cannot tell from the measured rate, nearest first.
    let uncertainty = rate * (4.0 * resolution / span) + 1e-9 * rate;
    let explains = |r: f64| {
        times[..=run].iter().enumerate().all(|(k, (t, _))| {
            (t - t0 - k as f64 / r).abs() <= 2.0 * resolution + 1e-12 * t.abs().max(1.0)
        })
    };
    let mut candidates: Vec<f64> = ((rate - uncertainty).ceil().max(1.0) as u64
        ..=(rate + uncertainty).floor().max(0.0) as u64)
        .take(1000)
        .map(|r| r as f64)
        .collect();
    candidates.sort_by(|a, b| (a - rate).abs().total_cmp(&(b - rate).abs()));
    Some(
        candidates
            .into_iter()
            .find(|r| explains(*r))
            .unwrap_or(rate),
    )
}

/// Half a unit in the last place of a number written with `decimals` decimal places.
pub(crate) fn resolution(decimals: u32) -> f64 {
    0.5 * 10f64.powi(-(decimals.min(300) as i32))
}

/// The decimal places of a number as written: `0.25` → 2, `1.5e-3` → 4, `12` → 0.
pub(crate) fn decimals(text: &str) -> u32 {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let fraction = mantissa
        .find(['.', ','])
        .map_or(0, |i| mantissa.len() - i - 1) as i64;
    (fraction - exponent).clamp(0, 400) as u32
}

/// Split `U_A [kV]` into `U_A` and `kV`.
fn split_unit(name: &str) -> (&str, Option<&str>) {
    let trimmed = name.trim();
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(body) = trimmed.strip_suffix(close) {
            if let Some(i) = body.rfind(open) {
                let unit = body[i + 1..].trim();
                if !unit.is_empty() {
                    return (body[..i].trim(), Some(unit));
                }
            }
        }
    }
    (trimmed, None)
}

/// Kind and phase from a base name such as `U_A`, `ia` or `V_L1-L2`.
fn kind_and_phase(base: &str) -> (ChannelKind, Option<Phase>) {
    let mut chars = base.chars();
    let kind = match chars.next().map(|c| c.to_ascii_uppercase()) {
        Some('U' | 'V') => ChannelKind::Voltage,
        Some('I') => ChannelKind::Current,
        _ => return (ChannelKind::Other, None),
    };
    let rest = chars.as_str().trim_start_matches(['_', '-', ' ', '.']);
    if rest.is_empty() {
        return (kind, None);
    }
    match Phase::parse_lenient(rest) {
        Some(phase) => (kind, Some(phase)),
        None => (ChannelKind::Other, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_kind_phase_and_unit() {
        let c = channel_from_name("U_A");
        assert_eq!(
            (c.kind, c.phase, c.unit.as_str()),
            (ChannelKind::Voltage, Some(Phase::A), "V")
        );
        let c = channel_from_name("VAB");
        assert_eq!((c.kind, c.phase), (ChannelKind::Voltage, Some(Phase::AB)));
        let c = channel_from_name("I_N");
        assert_eq!(
            (c.kind, c.phase, c.unit.as_str()),
            (ChannelKind::Current, Some(Phase::N), "A")
        );
        let c = channel_from_name("ic");
        assert_eq!((c.kind, c.phase), (ChannelKind::Current, Some(Phase::C)));
        let c = channel_from_name("U_L1-L2 [kV]");
        assert_eq!(
            (c.kind, c.phase, c.unit.as_str()),
            (ChannelKind::Voltage, Some(Phase::AB), "kV")
        );
        assert_eq!(c.name, "U_L1-L2 [kV]");
        let c = channel_from_name("Index");
        assert_eq!(
            (c.kind, c.phase, c.unit.as_str()),
            (ChannelKind::Other, None, "")
        );
        let c = channel_from_name("temperature (degC)");
        assert_eq!((c.kind, c.unit.as_str()), (ChannelKind::Other, "degC"));
    }

    #[test]
    fn decimals_count_fraction_and_exponent() {
        assert_eq!(decimals("0.25"), 2);
        assert_eq!(decimals("1.5e-3"), 4);
        assert_eq!(decimals("12"), 0);
        assert_eq!(decimals("7.8125E-5"), 9);
        assert_eq!(decimals("1e3"), 0);
    }

    #[test]
    fn rate_is_snapped_to_an_integer_only_when_it_explains_the_times() {
        let printed: Vec<(f64, u32)> = (0..100)
            .map(|k| {
                let text = format!("{:.6}", k as f64 / 12_800.0);
                (text.parse().unwrap(), decimals(&text))
            })
            .collect();
        assert_eq!(estimate_rate(&printed), Some(12_800.0));
        let exact: Vec<(f64, u32)> = (0..100).map(|k| (k as f64 / 1000.5, 17)).collect();
        let r = estimate_rate(&exact).unwrap();
        assert!((r - 1000.5).abs() < 1e-9, "{r}");
        assert_eq!(estimate_rate(&[(0.0, 0)]), None);
    }
}
