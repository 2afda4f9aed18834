//! The supply being measured: nominal frequency, declared voltage, wiring, load current.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Nominal supply frequency (IEC 61000-4-30 distinguishes 50 Hz and 60 Hz systems:
/// 10-cycle and 12-cycle intervals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum NominalFrequency {
    /// 50 Hz systems: 10-cycle intervals.
    #[default]
    #[serde(rename = "50")]
    Hz50,
    /// 60 Hz systems: 12-cycle intervals.
    #[serde(rename = "60")]
    Hz60,
}

impl NominalFrequency {
    /// The frequency in hertz.
    pub fn hz(self) -> f64 {
        match self {
            NominalFrequency::Hz50 => 50.0,
            NominalFrequency::Hz60 => 60.0,
        }
    }
    /// Cycles per basic measurement interval (IEC 61000-4-30 5.2: 10 at 50 Hz, 12 at 60 Hz).
    pub fn cycles_per_interval(self) -> usize {
        match self {
            NominalFrequency::Hz50 => 10,
            NominalFrequency::Hz60 => 12,
        }
    }
    /// From a frequency in hertz; only 50 and 60 are nominal frequencies.
    pub fn from_hz(hz: f64) -> Result<Self> {
        if (hz - 50.0).abs() < 1e-9 {
            Ok(NominalFrequency::Hz50)
        } else if (hz - 60.0).abs() < 1e-9 {
            Ok(NominalFrequency::Hz60)
        } else {
            Err(Error::Config(format!(
                "nominal frequency must be 50 or 60 Hz, not {hz}"
            )))
        }
    }
}

impl fmt::Display for NominalFrequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", self.hz())
    }
}

/// How the measured system is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Wiring {
    /// Three-phase four-wire (star), phase-to-neutral voltages measured.
    #[default]
    Wye,
    /// Three-phase three-wire (delta), line-to-line voltages measured.
    Delta,
    /// Single phase.
    Single,
}

impl FromStr for Wiring {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wye" | "star" | "3p4w" => Ok(Wiring::Wye),
            "delta" | "3p3w" => Ok(Wiring::Delta),
            "single" | "1p2w" => Ok(Wiring::Single),
            other => Err(Error::Config(format!(
                "unknown wiring '{other}' (wye, delta or single)"
            ))),
        }
    }
}

impl fmt::Display for Wiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wiring::Wye => "wye",
            Wiring::Delta => "delta",
            Wiring::Single => "single",
        })
    }
}

/// The supply a recording was taken on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemConfig {
    /// Nominal frequency.
    pub nominal_frequency: NominalFrequency,
    /// Declared input voltage Udin in volts (IEC 61000-4-30 3.9): the phase-to-neutral
    /// voltage for wye and single wiring, the line-to-line voltage for delta.
    pub udin: f64,
    /// Wiring.
    pub wiring: Wiring,
    /// Maximum demand load current I_L in amperes (IEEE 519), for TDD.
    pub load_current: Option<f64>,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            nominal_frequency: NominalFrequency::Hz50,
            udin: 230.0,
            wiring: Wiring::Wye,
            load_current: None,
        }
    }
}

impl SystemConfig {
    /// Check that the values describe a real supply.
    pub fn validate(&self) -> Result<()> {
        if !(self.udin.is_finite() && self.udin > 0.0) {
            return Err(Error::Config(format!(
                "Udin must be a positive voltage, not {}",
                self.udin
            )));
        }
        if let Some(il) = self.load_current {
            if !(il.is_finite() && il > 0.0) {
                return Err(Error::Config(format!(
                    "I_L must be a positive current, not {il}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_frequency_sets_interval_length() {
        assert_eq!(
            NominalFrequency::from_hz(50.0)
                .unwrap()
                .cycles_per_interval(),
            10
        );
        assert_eq!(
            NominalFrequency::from_hz(60.0)
                .unwrap()
                .cycles_per_interval(),
            12
        );
        assert!(NominalFrequency::from_hz(55.0).is_err());
    }

    #[test]
    fn invalid_udin_is_rejected_with_its_value() {
        let cfg = SystemConfig {
            udin: -1.0,
            ..SystemConfig::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("-1"));
        assert_eq!("Delta".parse::<Wiring>().unwrap(), Wiring::Delta);
    }
}
