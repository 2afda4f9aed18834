//! Which channel plays which role in the measurement: the phase and line voltages and
//! currents, the reference channel the fundamental is tracked on (4.4, 5.1), the voltage
//! channels events are detected on (5.4.1), and the declared voltage each voltage channel
//! is judged against (5.12).

use pqe_core::record::channel_column;
use pqe_core::{ChannelKind, ChannelSpec, Phase, SystemConfig, Wiring};

/// Which channel (index into the recording's channels) plays which role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    voltages: Vec<(Phase, usize)>,
    currents: Vec<(Phase, usize)>,
}

impl Roles {
    /// Roles from each channel's kind and phase, with the column name of each channel
    /// (`U_A` … `U_CA`, `I_A` … `I_N`, [`channel_column`]): the first channel of a kind
    /// and phase takes the role; a second one claiming it, and a channel without kind or
    /// phase, keeps its own name.
    pub fn assign(channels: &[ChannelSpec]) -> (Vec<String>, Roles) {
        let mut roles = Roles::default();
        let columns = channels
            .iter()
            .enumerate()
            .map(|(c, spec)| {
                let list = match spec.kind {
                    ChannelKind::Voltage => &mut roles.voltages,
                    ChannelKind::Current => &mut roles.currents,
                    ChannelKind::Other => return spec.name.clone(),
                };
                match spec.phase {
                    Some(p) if !list.iter().any(|(q, _)| *q == p) => {
                        list.push((p, c));
                        channel_column(spec.kind, p).unwrap_or_else(|| spec.name.clone())
                    }
                    _ => spec.name.clone(),
                }
            })
            .collect();
        (columns, roles)
    }

    /// The voltage channel of `phase` (`Phase::AB` for U_AB).
    pub fn voltage(&self, phase: Phase) -> Option<usize> {
        self.voltages
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, c)| *c)
    }

    /// The current channel of `phase`.
    pub fn current(&self, phase: Phase) -> Option<usize> {
        self.currents
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, c)| *c)
    }

    /// The reference channel the fundamental is tracked on: U_A, else the first voltage
    /// channel, else the first current channel; `None` without either.
    pub fn reference(&self, channels: &[ChannelSpec]) -> Option<usize> {
        self.voltage(Phase::A)
            .or_else(|| channels.iter().position(|c| c.kind == ChannelKind::Voltage))
            .or_else(|| channels.iter().position(|c| c.kind == ChannelKind::Current))
    }

    /// The voltage channels events are detected on (IEC 61000-4-30 Ed.3 5.4.1):
    /// phase-to-neutral for wye and single wiring, line-to-line for delta; when the
    /// recording lacks those, the other kind; failing both, every voltage channel that is
    /// not a neutral.
    pub fn event_channels(&self, channels: &[ChannelSpec], wiring: Wiring) -> Vec<usize> {
        let of = |phases: [Phase; 3]| -> Vec<usize> {
            phases.iter().filter_map(|&p| self.voltage(p)).collect()
        };
        let phase = of([Phase::A, Phase::B, Phase::C]);
        let line = of([Phase::AB, Phase::BC, Phase::CA]);
        let (first, second) = match wiring {
            Wiring::Delta => (line, phase),
            _ => (phase, line),
        };
        if !first.is_empty() {
            return first;
        }
        if !second.is_empty() {
            return second;
        }
        channels
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == ChannelKind::Voltage && s.phase != Some(Phase::N))
            .map(|(c, _)| c)
            .collect()
    }
}

/// The declared voltage a voltage channel of `phase` is judged against (under- and
/// over-deviation, 5.12; event thresholds, 5.4): Udin for the quantity the wiring declares
/// it for (phase-to-neutral for wye and single, line-to-line for delta), scaled by √3 for
/// the other kind.
pub fn declared_voltage(config: &SystemConfig, phase: Option<Phase>) -> f64 {
    let udin = config.udin;
    let line_to_line = phase.is_some_and(Phase::is_line_to_line);
    match (config.wiring, line_to_line) {
        (Wiring::Delta, false) => udin / 3f64.sqrt(),
        (Wiring::Wye | Wiring::Single, true) => udin * 3f64.sqrt(),
        _ => udin,
    }
}
