//! `--map`: tell PQE what a channel measures when the file's metadata does not.

use anyhow::{bail, Context, Result};
use pqe_core::{ChannelKind, ChannelSpec, Phase};

/// One `--map FILE_CHANNEL=ROLE` option: ROLE is an IEC symbol `U_A`, `U_AB`, `I_N`, … (or
/// `ignore` to leave the channel out of the analysis as kind "other").
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelMapping {
    /// The channel's name in the file.
    pub channel: String,
    /// The kind it measures.
    pub kind: ChannelKind,
    /// The phase, when it has one.
    pub phase: Option<Phase>,
}

impl std::str::FromStr for ChannelMapping {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (channel, role) = s
            .rsplit_once('=')
            .with_context(|| format!("--map '{s}': expected FILE_CHANNEL=ROLE, e.g. 'VA=U_A'"))?;
        let role = role.trim();
        let (kind, phase) = if role.eq_ignore_ascii_case("ignore") {
            (ChannelKind::Other, None)
        } else {
            let (k, p) = role
                .split_once('_')
                .with_context(|| format!("--map '{s}': role '{role}' is not like U_A or I_N"))?;
            let kind = match k.to_ascii_uppercase().as_str() {
                "U" | "V" => ChannelKind::Voltage,
                "I" => ChannelKind::Current,
                _ => bail!("--map '{s}': role '{role}' must start with U_ or I_"),
            };
            let phase = p
                .parse::<Phase>()
                .map_err(|e| anyhow::anyhow!("--map '{s}': {e}"))?;
            (kind, Some(phase))
        };
        Ok(ChannelMapping {
            channel: channel.trim().to_string(),
            kind,
            phase,
        })
    }
}

/// Apply mappings to the channels of a recording; a mapping that names no channel is an error
/// that lists the channels there are.
pub fn apply(channels: &mut [ChannelSpec], mappings: &[ChannelMapping]) -> Result<()> {
    for m in mappings {
        let Some(ch) = channels.iter_mut().find(|c| c.name.trim() == m.channel) else {
            let names: Vec<&str> = channels.iter().map(|c| c.name.trim()).collect();
            bail!(
                "--map names channel '{}', but the recording has: {}",
                m.channel,
                names.join(", ")
            );
        };
        ch.kind = m.kind;
        ch.phase = m.phase;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_and_rejects_nonsense() {
        let m: ChannelMapping = "SBUS A V-node=U_A".parse().unwrap();
        assert_eq!(m.channel, "SBUS A V-node");
        assert_eq!((m.kind, m.phase), (ChannelKind::Voltage, Some(Phase::A)));
        let m: ChannelMapping = "IN=I_N".parse().unwrap();
        assert_eq!(m.phase, Some(Phase::N));
        assert!("x=P_A".parse::<ChannelMapping>().is_err());
        assert!("novalue".parse::<ChannelMapping>().is_err());
    }

    #[test]
    fn unknown_channel_lists_the_real_ones() {
        let mut chans = vec![ChannelSpec::new("VA", "V")];
        let e = apply(&mut chans, &["VX=U_A".parse().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("VA"), "{e}");
    }
}
