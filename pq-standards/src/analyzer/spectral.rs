//! The spectral part of an interval (IEC 61000-4-7, IEEE 1459, IEC 61000-4-30 5.7):
//! the synchronised resampling of every channel, the spectra, and the harmonic values,
//! powers and unbalance that rest on them.

use super::ChannelInterval;
use crate::iec61000_4_30::roles::Roles;
use crate::iec61000_4_30::window::WindowSamples;
use crate::iec61000_4_7::{HarmonicAnalyzer, Spectrum, MAX_ORDER};
use crate::ieee1459::{self, PhasePower, ThreePhaseInputs, ThreePhasePower};
use crate::unbalance::Unbalance;
use num_complex::Complex64;
use pqe_core::record::{HarmonicValues, Quantity, QuantityKey};
use pqe_core::{ChannelKind, Phase, Result, SystemConfig, Wiring};
use pqe_dsp::resample::{check_resampled, SyncResampler};

/// What the spectral part needs to know of the channels and the options, fixed when the
/// analyzer is made.
#[derive(Debug, Clone)]
pub(super) struct SpectralSetup {
    /// Kind of each channel.
    pub kinds: Vec<ChannelKind>,
    /// Which channel plays which role.
    pub roles: Roles,
    /// The channel whose fundamental the phase angles are measured against.
    pub reference: usize,
    /// Highest order in THD sums.
    pub thd_max_order: usize,
    /// Mains signalling frequency to report (IEC 61000-4-30 5.10).
    pub signalling_frequency: Option<f64>,
}

/// The spectral part of an interval: resampling, spectra, and what rests on them.
#[derive(Debug)]
pub(super) struct Spectral {
    setup: SpectralSetup,
    wiring: Wiring,
    load_current: Option<f64>,
    resampler: SyncResampler,
    analyzer: HarmonicAnalyzer,
    synced: Vec<Vec<f64>>,
    spectra: Vec<Spectrum>,
}

impl Spectral {
    pub(super) fn new(
        config: &SystemConfig,
        points_per_cycle: usize,
        setup: SpectralSetup,
    ) -> Result<Self> {
        let n_channels = setup.kinds.len();
        let cycles = config.nominal_frequency.cycles_per_interval();
        let resampler = SyncResampler::new(cycles, points_per_cycle);
        let analyzer = HarmonicAnalyzer::new(config.nominal_frequency, points_per_cycle)?;
        let spectra = (0..n_channels).map(|_| analyzer.new_spectrum()).collect();
        Ok(Spectral {
            setup,
            wiring: config.wiring,
            load_current: config.load_current,
            synced: vec![vec![0.0; resampler.output_len()]; n_channels],
            resampler,
            analyzer,
            spectra,
        })
    }

    /// The samples [`Spectral::analyze`] reads of the window `w`: `first..last`, the window
    /// and the resampler's margins (as sample indices; `first` may lie before sample 0).
    pub(super) fn span_read(w: &WindowSamples<'_>) -> (f64, f64) {
        let margin = SyncResampler::margin() as f64;
        let first = w.start.floor() - margin - 1.0;
        let last = w.end.ceil() + margin + 1.0;
        (first, last)
    }

    /// The harmonic values of every channel (into `channels`) and the powers and unbalance
    /// (into `quantities`) of the interval `w` of `cycles` cycles, whose fundamental
    /// frequency is `f1`.
    pub(super) fn analyze(
        &mut self,
        w: &WindowSamples,
        cycles: usize,
        f1: f64,
        channels: &mut [ChannelInterval],
        quantities: &mut Vec<(QuantityKey, f64)>,
    ) {
        let (first, last) = Self::span_read(w);
        // The slices start at an absolute sample, so the fractional start does not depend on
        // how the buffers were trimmed.
        let local = w.start - first;
        let xs: Vec<&[f64]> = (0..channels.len())
            .map(|c| w.span(c, first as u64, last as u64))
            .collect();
        // Every channel over the same window (IEC 61000-4-7 5.2) in one pass; should one
        // channel's window be unusable, each is resampled on its own instead (same result).
        let mut outs: Vec<&mut [f64]> = self.synced.iter_mut().map(|s| s.as_mut_slice()).collect();
        let batched = self
            .resampler
            .resample_many(&xs, local, w.length(), &mut outs)
            .is_ok();
        let mut valid = vec![false; channels.len()];
        for (c, ok) in valid.iter_mut().enumerate() {
            let resampled = if batched {
                check_resampled(xs[c], local, w.length(), &self.synced[c])
            } else {
                self.resampler
                    .resample(xs[c], local, w.length(), &mut self.synced[c])
            };
            *ok = channels[c].rms.is_finite()
                && resampled.is_ok()
                && self
                    .analyzer
                    .analyze_into(&self.synced[c], &mut self.spectra[c])
                    .is_ok();
        }
        let samples_per_cycle = w.length() / cycles as f64;
        let max_order = self.resampler.max_accurate_order(samples_per_cycle);
        let reference = self.setup.reference;
        let reference_angle = if valid[reference] {
            self.spectra[reference].fundamental().arg()
        } else {
            f64::NAN
        };
        let thd_order = self.setup.thd_max_order;
        for (c, ch) in channels.iter_mut().enumerate() {
            let kind = self.setup.kinds[c];
            ch.harmonics = Some(if valid[c] {
                harmonic_values(
                    &self.spectra[c],
                    kind,
                    max_order,
                    thd_order,
                    reference_angle,
                    self.load_current,
                )
            } else {
                missing_harmonics(kind)
            });
            if let (Some(fs), ChannelKind::Voltage) = (self.setup.signalling_frequency, kind) {
                ch.signalling = Some(if valid[c] {
                    self.spectra[c].signalling_voltage(fs, f1)
                } else {
                    f64::NAN
                });
            }
        }
        self.powers(&valid, quantities);
    }

    /// Unbalance (IEC 61000-4-30 5.7) and powers (IEEE 1459) from the synchronised windows.
    fn powers(&self, valid: &[bool], quantities: &mut Vec<(QuantityKey, f64)>) {
        let roles = &self.setup.roles;
        let phasor = |c: usize| -> Complex64 {
            if valid[c] {
                self.spectra[c].fundamental()
            } else {
                Complex64::new(f64::NAN, f64::NAN)
            }
        };
        let wiring = self.wiring;
        let phases = [Phase::A, Phase::B, Phase::C];
        let lines = [Phase::AB, Phase::BC, Phase::CA];
        let ph_v: Option<Vec<usize>> = phases.iter().map(|&p| roles.voltage(p)).collect();
        let ll_v: Option<Vec<usize>> = lines.iter().map(|&p| roles.voltage(p)).collect();
        let ph_i: Option<Vec<usize>> = phases.iter().map(|&p| roles.current(p)).collect();
        // Unbalance.
        if wiring != Wiring::Single {
            // Phase-to-neutral phasors give u2 and u0; line-to-line ones (delta) u2 only.
            let three = |v: &[usize]| [phasor(v[0]), phasor(v[1]), phasor(v[2])];
            let unbalance = match (&ph_v, &ll_v) {
                (Some(v), ll) if wiring == Wiring::Wye || ll.is_none() => {
                    let [a, b, c] = three(v);
                    Some(Unbalance::from_phase_phasors(a, b, c))
                }
                (_, Some(v)) => {
                    let [ab, bc, ca] = three(v);
                    Some(Unbalance::from_line_to_line(ab, bc, ca))
                }
                _ => None,
            };
            if let Some(u) = unbalance {
                quantities.push((
                    QuantityKey::system(Quantity::NegativeSequenceUnbalance),
                    u.u2,
                ));
                quantities.push((QuantityKey::system(Quantity::ZeroSequenceUnbalance), u.u0));
            }
        }
        // Per-phase powers against the neutral (wye, single) or the artificial neutral
        // (delta with line-to-line voltages only).
        let mut per_phase: Vec<(Phase, PhasePower)> = Vec::new();
        let artificial: Option<[Vec<f64>; 3]> = match (&ll_v, wiring, &ph_v) {
            (Some(v), Wiring::Delta, _) => {
                let n = self.resampler.output_len();
                let mut out = [vec![0.0; n], vec![0.0; n], vec![0.0; n]];
                let [o0, o1, o2] = &mut out;
                let out_refs = [o0.as_mut_slice(), o1.as_mut_slice(), o2.as_mut_slice()];
                let line = [
                    self.synced[v[0]].as_slice(),
                    &self.synced[v[1]],
                    &self.synced[v[2]],
                ];
                ieee1459::artificial_neutral(line, out_refs)
                    .ok()
                    .map(|_| out)
            }
            _ => None,
        };
        let artificial_phasors = ll_v.as_ref().map(|v| {
            ieee1459::artificial_neutral_phasors(phasor(v[0]), phasor(v[1]), phasor(v[2]))
        });
        for (k, &p) in phases.iter().enumerate() {
            let Some(ic) = roles.current(p) else { continue };
            let i1 = phasor(ic);
            let power = match (&artificial, &artificial_phasors, roles.voltage(p)) {
                (Some(v), Some(z), _) => PhasePower::from_synced(&v[k], &self.synced[ic], z[k], i1),
                (_, _, Some(vc)) => {
                    PhasePower::from_synced(&self.synced[vc], &self.synced[ic], phasor(vc), i1)
                }
                _ => continue,
            };
            if let Ok(power) = power {
                per_phase.push((p, power));
            }
        }
        for (p, pw) in &per_phase {
            quantities.extend(pw.quantities(*p));
        }
        // System totals.
        let three_phase = match &ph_i {
            Some(ic) if per_phase.len() == 3 && wiring != Wiring::Single => Some(ic.clone()),
            _ => None,
        };
        if let Some(ic) = three_phase {
            let phases_power = [per_phase[0].1, per_phase[1].1, per_phase[2].1];
            let line_to_line_rms = match (&ll_v, &ph_v) {
                (Some(v), _) if wiring == Wiring::Delta => [
                    rms(&self.synced[v[0]]),
                    rms(&self.synced[v[1]]),
                    rms(&self.synced[v[2]]),
                ],
                (_, Some(v)) => ieee1459::line_to_line_rms_all(
                    &self.synced[v[0]],
                    &self.synced[v[1]],
                    &self.synced[v[2]],
                ),
                (Some(v), _) => [
                    rms(&self.synced[v[0]]),
                    rms(&self.synced[v[1]]),
                    rms(&self.synced[v[2]]),
                ],
                _ => [f64::NAN; 3],
            };
            let neutral = roles.current(Phase::N);
            let neutral_rms = match neutral {
                Some(n) => rms(&self.synced[n]),
                None => ieee1459::neutral_current_rms(
                    &self.synced[ic[0]],
                    &self.synced[ic[1]],
                    &self.synced[ic[2]],
                ),
            };
            let voltage_phasors = match (wiring, &ll_v, &ph_v) {
                (Wiring::Delta, Some(v), _) => [phasor(v[0]), phasor(v[1]), phasor(v[2])],
                (Wiring::Delta, None, Some(v)) => {
                    ieee1459::line_to_line_phasors(phasor(v[0]), phasor(v[1]), phasor(v[2]))
                }
                (_, _, Some(v)) => [phasor(v[0]), phasor(v[1]), phasor(v[2])],
                _ => [Complex64::new(f64::NAN, f64::NAN); 3],
            };
            let current_phasors = [phasor(ic[0]), phasor(ic[1]), phasor(ic[2])];
            let neutral_phasor = match neutral {
                Some(n) => phasor(n),
                None => -(current_phasors[0] + current_phasors[1] + current_phasors[2]),
            };
            let inputs = ThreePhaseInputs {
                wiring,
                phases: phases_power,
                line_to_line_rms,
                neutral_current_rms: neutral_rms,
                voltage_phasors,
                current_phasors,
                neutral_current_phasor: neutral_phasor,
            };
            if let Ok(t) = ThreePhasePower::compute(&inputs) {
                quantities.extend(t.quantities());
            }
        } else if let Some((_, pw)) = per_phase.first() {
            if wiring == Wiring::Single || per_phase.len() == 1 {
                quantities.extend(pw.single_phase_totals());
            }
        }
    }
}

fn rms(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    (pqe_dsp::kernels::sum_of_squares(x) / x.len() as f64).sqrt()
}

/// One channel's harmonic values (IEC 61000-4-7 5.5, 5.6 and clause 3) from its spectrum:
/// every order's groupings and phase angle in one pass ([`Spectrum::order_values`]), orders
/// above `max_order` reported as NaN, and the distortion ratios from the same values.
fn harmonic_values(
    s: &Spectrum,
    kind: ChannelKind,
    max_order: usize,
    thd_order: usize,
    reference_angle: f64,
    load_current: Option<f64>,
) -> HarmonicValues {
    let thd_order = thd_order.min(max_order);
    let current = kind == ChannelKind::Current;
    let v = s.order_values(reference_angle);
    let (thds, thdg) = (v.thds(thd_order), v.thdg(thd_order));
    let tdd = current.then(|| load_current.map_or(f64::NAN, |il| v.tdd(thd_order, il)));
    let k_factor = current.then(|| v.k_factor(thd_order));
    // Orders the resampled window does not reproduce exactly are reported as NaN.
    let within = |mut values: Vec<f64>| -> Vec<f64> {
        for x in values.iter_mut().skip(max_order + 1) {
            *x = f64::NAN;
        }
        values
    };
    HarmonicValues {
        subgroups: within(v.subgroups),
        interharmonic_subgroups: within(v.interharmonic_centred_subgroups),
        groups: within(v.groups),
        interharmonic_groups: within(v.interharmonic_groups),
        phases: within(v.phases_deg),
        thd: s.thd(thd_order),
        thds,
        thdg,
        tdd,
        k_factor,
    }
}

fn missing_harmonics(kind: ChannelKind) -> HarmonicValues {
    let nan = vec![f64::NAN; MAX_ORDER + 1];
    let current = kind == ChannelKind::Current;
    HarmonicValues {
        subgroups: nan.clone(),
        interharmonic_subgroups: nan.clone(),
        groups: nan.clone(),
        interharmonic_groups: nan.clone(),
        phases: nan,
        thd: f64::NAN,
        thds: f64::NAN,
        thdg: f64::NAN,
        tdd: current.then_some(f64::NAN),
        k_factor: current.then_some(f64::NAN),
    }
}
