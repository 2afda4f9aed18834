//! Interharmonics land in the right centred subgroup (issue 3 "Done means"), at nominal and
//! off-nominal fundamental, for both 10- and 12-cycle windows; and the mains signalling
//! voltage of IEC 61000-4-30 5.10.

mod spectral_support;

use pqe_core::NominalFrequency;
use spectral_support::*;

/// An interharmonic at `(n + m/c)·f1` for every order `n` 0..=62 and line offsets `m` from 2
/// to `c − 2` (all lines of a centred subgroup): its centred subgroup `n` holds it within
/// the harmonic limits, every other centred subgroup and every harmonic subgroup but the
/// fundamental stay below 0.005 % of Unom.
fn sweep(nominal: NominalFrequency, freqs: &[f64]) {
    let c = nominal.cycles_per_interval();
    let mut chain = Chain::new(nominal);
    let mut worst_rel = Worst::default();
    let mut worst_leak = Worst::default();
    for &f1 in freqs {
        for n in 0..=62usize {
            for m in [2, c / 2, c - 2] {
                let ih = 0.02 * UNOM;
                let order = n as f64 + m as f64 / c as f64;
                let s = chain.run(
                    FS,
                    f1,
                    &[
                        Tone::new(UNOM, 1.0, 0.4),
                        Tone::new(ih, order, 1.0 + n as f64),
                    ],
                );
                let case = || format!("{nominal}, f1 {f1}, interharmonic {order:.3}");
                worst_rel.see((s.interharmonic_centred_subgroup(n) - ih).abs() / ih, case);
                for k in 0..=63 {
                    if k != n {
                        worst_leak.see(s.interharmonic_centred_subgroup(k) / UNOM, || {
                            format!("{} IH{k}", case())
                        });
                    }
                    if k != 1 {
                        worst_leak
                            .see(s.harmonic_subgroup(k) / UNOM, || format!("{} H{k}", case()));
                    }
                }
                // The group contains the centred subgroup.
                assert!(
                    s.interharmonic_group(n) >= s.interharmonic_centred_subgroup(n) * (1.0 - 1e-12)
                );
            }
        }
    }
    worst_rel.report("centred subgroup relative error");
    worst_leak.report("leak into other subgroups, fraction of Unom");
    assert!(worst_rel.value <= 0.005, "{worst_rel:?}");
    assert!(worst_leak.value <= 0.000_05, "{worst_leak:?}");
}

#[test]
fn interharmonics_land_in_their_centred_subgroup_50_hz() {
    sweep(NominalFrequency::Hz50, &[49.2, 50.0, 50.8]);
}

#[test]
fn interharmonics_land_in_their_centred_subgroup_60_hz() {
    sweep(NominalFrequency::Hz60, &[59.2, 60.0, 60.8]);
}

/// A ripple-control signal on a line is measured exactly; off a line (the fundamental is
/// off nominal, the signalling frequency is fixed) the four nearest lines hold most of it,
/// as the standard's method intends.
#[test]
fn mains_signalling_voltage() {
    let mut chain = Chain::new(NominalFrequency::Hz50);
    let level = 0.03 * UNOM;
    let s = chain.run(
        FS,
        50.0,
        &[
            Tone::new(UNOM, 1.0, 0.0),
            Tone::new(level, 175.0 / 50.0, 0.3),
        ],
    );
    let got = s.signalling_voltage(175.0, 50.0);
    assert!((got - level).abs() < 1e-6 * level, "{got}");
    for f1 in [49.2, 50.8] {
        let s = chain.run(
            FS,
            f1,
            &[
                Tone::new(UNOM, 1.0, 0.0),
                Tone::new(level, 316.67 / f1, 0.3),
            ],
        );
        let got = s.signalling_voltage(316.67, f1);
        assert!(
            got > 0.94 * level && got <= 1.0001 * level,
            "f1 {f1}: {got}"
        );
    }
    assert!(s.signalling_voltage(f64::NAN, 50.0).is_nan());
    assert!(s.signalling_voltage(1e6, 50.0).is_nan());
}
