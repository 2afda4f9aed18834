//! What each channel of a recording measures.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a channel measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A voltage (unit V or kV).
    Voltage,
    /// A current (unit A or kA).
    Current,
    /// Anything else (a temperature, a digital-to-analog trace, a control signal).
    #[default]
    Other,
}

impl ChannelKind {
    /// Guess the kind from a unit as COMTRADE and CSV headers write it (`V`, `kV`, `A`, `kA`,
    /// case-insensitive, surrounding blanks ignored).
    pub fn from_unit(unit: &str) -> Self {
        match unit.trim().to_ascii_lowercase().as_str() {
            "v" | "kv" | "mv" => ChannelKind::Voltage,
            "a" | "ka" | "ma" => ChannelKind::Current,
            _ => ChannelKind::Other,
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChannelKind::Voltage => "voltage",
            ChannelKind::Current => "current",
            ChannelKind::Other => "other",
        })
    }
}

impl FromStr for ChannelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "voltage" | "v" | "u" => Ok(ChannelKind::Voltage),
            "current" | "i" | "a" => Ok(ChannelKind::Current),
            "other" | "" => Ok(ChannelKind::Other),
            other => Err(format!(
                "unknown channel kind '{other}' (voltage, current or other)"
            )),
        }
    }
}

/// The conductor or conductor pair a channel is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Phase A (L1, R).
    A,
    /// Phase B (L2, S).
    B,
    /// Phase C (L3, T).
    C,
    /// Neutral.
    N,
    /// Line-to-line A–B.
    AB,
    /// Line-to-line B–C.
    BC,
    /// Line-to-line C–A.
    CA,
}

impl Phase {
    /// The IEC suffix used in column names (`U_A`, `U_AB`, `I_N`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::A => "A",
            Phase::B => "B",
            Phase::C => "C",
            Phase::N => "N",
            Phase::AB => "AB",
            Phase::BC => "BC",
            Phase::CA => "CA",
        }
    }

    /// Read a phase identifier as COMTRADE `ph` fields and CSV headers write it: `A`, `L1`,
    /// `R`, `AB`, `L1-L2`, `N`, … Unknown or empty text gives `None`.
    pub fn parse_lenient(text: &str) -> Option<Phase> {
        let t: String = text
            .trim()
            .to_ascii_uppercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect();
        Some(match t.as_str() {
            "A" | "L1" | "R" | "1" => Phase::A,
            "B" | "L2" | "S" | "2" => Phase::B,
            "C" | "L3" | "T" | "3" => Phase::C,
            "N" | "0" => Phase::N,
            "AB" | "L1L2" | "RS" | "12" => Phase::AB,
            "BC" | "L2L3" | "ST" | "23" => Phase::BC,
            "CA" | "L3L1" | "TR" | "31" => Phase::CA,
            _ => return None,
        })
    }

    /// True for the line-to-line pairs.
    pub fn is_line_to_line(self) -> bool {
        matches!(self, Phase::AB | Phase::BC | Phase::CA)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Phase::parse_lenient(s)
            .ok_or_else(|| format!("unknown phase '{s}' (A, B, C, N, AB, BC, CA)"))
    }
}

/// How stored integers map to values: `value = a·x + b` (COMTRADE's multiplier and offset).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearScaling {
    /// Multiplier.
    pub a: f64,
    /// Offset.
    pub b: f64,
}

/// One analog channel of a recording.
///
/// Sample values in a [`crate::Block`] are in `unit`, on the side of the instrument
/// transformer the recording states (`primary` true: primary values). `ratio_primary` and
/// `ratio_secondary` are the transformer ratio (1 and 1 when there is none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSpec {
    /// The channel's name (COMTRADE `ch_id`, a CSV column header).
    pub name: String,
    /// What it measures.
    pub kind: ChannelKind,
    /// The conductor(s) it is connected to, when known.
    pub phase: Option<Phase>,
    /// Unit of the values (`V`, `kV`, `A`, …).
    pub unit: String,
    /// Circuit component being monitored (COMTRADE `ccbm`), may be empty.
    pub circuit: String,
    /// Instrument-transformer primary rating.
    pub ratio_primary: f64,
    /// Instrument-transformer secondary rating.
    pub ratio_secondary: f64,
    /// Whether values are primary (true) or secondary (false) values.
    pub primary: bool,
    /// Time skew of this channel against the sample time, in microseconds (COMTRADE `skew`).
    pub skew_us: f64,
    /// How a source that stores integers encoded this channel, so a writer of the same
    /// format can reproduce the integers exactly. `None` for floating-point sources.
    pub scaling: Option<LinearScaling>,
    /// The range of the stored integers (COMTRADE `min`, `max`), when the source states one.
    pub raw_range: Option<(f64, f64)>,
}

impl ChannelSpec {
    /// A channel with `name` and `unit`; kind guessed from the unit, no phase, no transformer.
    pub fn new(name: impl Into<String>, unit: impl Into<String>) -> Self {
        let unit = unit.into();
        ChannelSpec {
            name: name.into(),
            kind: ChannelKind::from_unit(&unit),
            phase: None,
            unit,
            circuit: String::new(),
            ratio_primary: 1.0,
            ratio_secondary: 1.0,
            primary: true,
            skew_us: 0.0,
            scaling: None,
            raw_range: None,
        }
    }
    /// The same channel with `phase`.
    pub fn with_phase(mut self, phase: Phase) -> Self {
        self.phase = Some(phase);
        self
    }
    /// The same channel with `kind`.
    pub fn with_kind(mut self, kind: ChannelKind) -> Self {
        self.kind = kind;
        self
    }
    /// Factor that turns this channel's values into primary values.
    pub fn to_primary_factor(&self) -> f64 {
        if self.primary || self.ratio_secondary == 0.0 {
            1.0
        } else {
            self.ratio_primary / self.ratio_secondary
        }
    }
}

/// One digital (status) channel of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitalChannelSpec {
    /// Name (COMTRADE `ch_id`).
    pub name: String,
    /// Phase identifier as written, may be empty.
    pub phase: String,
    /// Circuit component, may be empty.
    pub circuit: String,
    /// Normal state (0 or 1).
    pub normal_state: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_and_kind_are_read_leniently() {
        assert_eq!(Phase::parse_lenient(" l1 "), Some(Phase::A));
        assert_eq!(Phase::parse_lenient("L1-L2"), Some(Phase::AB));
        assert_eq!(Phase::parse_lenient("S"), Some(Phase::B));
        assert_eq!(Phase::parse_lenient("x"), None);
        assert_eq!(ChannelKind::from_unit(" kV"), ChannelKind::Voltage);
        assert_eq!(ChannelKind::from_unit("A"), ChannelKind::Current);
        assert_eq!(ChannelKind::from_unit("none"), ChannelKind::Other);
    }

    #[test]
    fn secondary_values_scale_to_primary() {
        let mut ch = ChannelSpec::new("VA", "V");
        ch.ratio_primary = 20_000.0;
        ch.ratio_secondary = 100.0;
        assert_eq!(ch.to_primary_factor(), 1.0);
        ch.primary = false;
        assert_eq!(ch.to_primary_factor(), 200.0);
    }
}
