//! Channel roles: telling PQE what a channel measures when the file's metadata does not.
//!
//! The one parser of role text for every front (`pqe analyze --map`, `pqengine.analyze`'s
//! `channel_map`, settings files, the C ABI). A role is an IEC 61000-4-30 symbol: `U_` (or
//! `V_`) for a voltage, `I_` for a current, then a phase as COMTRADE writes them (`A`, `B`,
//! `C`, `N`, `AB`, `BC`, `CA`, `L1`, `L1-L2`, …), in any letter case; or `ignore` to leave
//! the channel out of the analysis (kind "other").

use crate::{Error, Result};
use pqe_core::{ChannelKind, ChannelSpec, Phase};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a channel measures: a kind and, when it has one, a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Voltage, current, or other (left out).
    pub kind: ChannelKind,
    /// The phase.
    pub phase: Option<Phase>,
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(text: &str) -> Result<Role> {
        let role = text.trim();
        if role.eq_ignore_ascii_case("ignore") {
            return Ok(Role {
                kind: ChannelKind::Other,
                phase: None,
            });
        }
        let Some((k, p)) = role.split_once('_') else {
            return Err(Error::Settings(format!(
                "role '{role}' is not like U_A or I_N (U_ or I_ then a phase, or 'ignore')"
            )));
        };
        let kind = match k.trim().to_ascii_uppercase().as_str() {
            "U" | "V" => ChannelKind::Voltage,
            "I" => ChannelKind::Current,
            _ => {
                return Err(Error::Settings(format!(
                    "role '{role}' must start with U_ or I_ (or be 'ignore')"
                )))
            }
        };
        let phase = Phase::parse_lenient(p).ok_or_else(|| {
            Error::Settings(format!(
                "role '{role}': unknown phase '{p}' (A, B, C, N, AB, BC or CA)"
            ))
        })?;
        Ok(Role {
            kind,
            phase: Some(phase),
        })
    }
}

/// One mapping `FILE_CHANNEL=ROLE` (`--map 'SBUS A V-node=U_A'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRole {
    /// The channel's name in the file (compared without surrounding blanks).
    pub channel: String,
    /// What it measures.
    pub role: Role,
}

impl ChannelRole {
    /// A mapping of `channel` to the role text `role`.
    pub fn new(channel: &str, role: &str) -> Result<ChannelRole> {
        let role = role.parse::<Role>().map_err(|e| {
            Error::Settings(format!("channel '{}': {}", channel.trim(), e.message()))
        })?;
        Ok(ChannelRole {
            channel: channel.trim().to_string(),
            role,
        })
    }
}

impl FromStr for ChannelRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (channel, role) = s.rsplit_once('=').ok_or_else(|| {
            Error::Settings(format!(
                "--map '{s}': expected FILE_CHANNEL=ROLE, e.g. 'VA=U_A'"
            ))
        })?;
        let role = role
            .parse::<Role>()
            .map_err(|e| Error::Settings(format!("--map '{s}': {}", e.message())))?;
        Ok(ChannelRole {
            channel: channel.trim().to_string(),
            role,
        })
    }
}

impl fmt::Display for ChannelRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.role.kind, self.role.phase) {
            (ChannelKind::Voltage, Some(p)) => write!(f, "{}=U_{p}", self.channel),
            (ChannelKind::Current, Some(p)) => write!(f, "{}=I_{p}", self.channel),
            _ => write!(f, "{}=ignore", self.channel),
        }
    }
}

impl Serialize for ChannelRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ChannelRole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Apply mappings to the channels of a recording; a mapping that names no channel is an
/// error that lists the channels there are.
pub fn apply(channels: &mut [ChannelSpec], mappings: &[ChannelRole]) -> Result<()> {
    for m in mappings {
        let Some(ch) = channels.iter_mut().find(|c| c.name.trim() == m.channel) else {
            let names: Vec<&str> = channels.iter().map(|c| c.name.trim()).collect();
            return Err(Error::Settings(format!(
                "--map names channel '{}', but the recording has: {}",
                m.channel,
                names.join(", ")
            )));
        };
        ch.kind = m.role.kind;
        ch.phase = m.role.phase;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_and_rejects_nonsense() {
        let m: ChannelRole = "SBUS A V-node=U_A".parse().unwrap();
        assert_eq!(m.channel, "SBUS A V-node");
        assert_eq!(
            (m.role.kind, m.role.phase),
            (ChannelKind::Voltage, Some(Phase::A))
        );
        let m: ChannelRole = "IN=I_N".parse().unwrap();
        assert_eq!(m.role.phase, Some(Phase::N));
        assert!("x=P_A".parse::<ChannelRole>().is_err());
        assert!("novalue".parse::<ChannelRole>().is_err());
    }

    #[test]
    fn every_spelling_either_front_took_is_taken() {
        // `--map` took V_ and lower case; `channel_map` took COMTRADE phase names.
        for (text, kind, phase) in [
            ("U_A", ChannelKind::Voltage, Some(Phase::A)),
            ("v_b", ChannelKind::Voltage, Some(Phase::B)),
            ("U_L1-L2", ChannelKind::Voltage, Some(Phase::AB)),
            ("I_L3", ChannelKind::Current, Some(Phase::C)),
            ("i_n", ChannelKind::Current, Some(Phase::N)),
            ("ignore", ChannelKind::Other, None),
            ("IGNORE", ChannelKind::Other, None),
        ] {
            let r: Role = text.parse().unwrap();
            assert_eq!((r.kind, r.phase), (kind, phase), "{text}");
        }
        let e = "U_X".parse::<Role>().unwrap_err();
        assert!(e.to_string().contains("unknown phase 'X'"), "{e}");
        let e = ChannelRole::new("VA", "Q_A").unwrap_err();
        assert!(e.to_string().contains("channel 'VA'"), "{e}");
        assert!(e.to_string().contains("U_ or I_"), "{e}");
    }

    #[test]
    fn round_trips_through_text() {
        for text in ["VA=U_A", "x y=I_N", "z=ignore"] {
            let m: ChannelRole = text.parse().unwrap();
            assert_eq!(m.to_string(), text);
        }
    }

    #[test]
    fn unknown_channel_lists_the_real_ones() {
        let mut chans = vec![ChannelSpec::new("VA", "V")];
        let e = apply(&mut chans, &["VX=U_A".parse().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("VA"), "{e}");
    }
}
