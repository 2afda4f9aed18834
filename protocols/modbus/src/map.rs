//! Register maps: which registers of a meter hold which quantity, as TOML data
//! files (`maps/*.toml`, built in by name, or any file).
//!
//! ```toml
//! name = "…"            # the meter
//! source = "…"          # the vendor document the registers come from
//! verified = false      # whether the map was checked against a real meter
//! word_order = "big"    # or "little"
//! [[value]]
//! name = "U_L1"         # the value's id
//! register = 30001      # Modicon number: 3xxxx input, 4xxxx holding, 1-based
//! # or: table = "ir", address = 0x0000 (0-based PDU address)
//! type = "f32"
//! scale = 1.0           # value = raw × scale
//! unit = "V"
//! obis = "32.7.0"       # optional: lets --obis find it
//! ```

use crate::values::WordOrder;
use pqe_link::{LinkError, ObisCode, RegisterRef, RegisterTable, RegisterType};
use serde::Deserialize;

/// Maps shipped with PQE: (name, TOML text).
pub const BUILTIN: &[(&str, &str)] = &[("sdm630", include_str!("../maps/sdm630.toml"))];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    name: String,
    source: String,
    verified: bool,
    #[serde(default)]
    word_order: Option<String>,
    value: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    name: String,
    register: Option<u32>,
    table: Option<String>,
    address: Option<u16>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "one")]
    scale: f64,
    #[serde(default)]
    unit: String,
    obis: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// One mapped value.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// Its id.
    pub name: String,
    /// Where it is.
    pub register: RegisterRef,
    /// Raw × scale = value in `unit`.
    pub scale: f64,
    /// Unit symbol.
    pub unit: String,
    /// OBIS code of the quantity, if given.
    pub obis: Option<ObisCode>,
}

/// A register map.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterMap {
    /// The meter.
    pub name: String,
    /// The vendor document.
    pub source: String,
    /// Checked against a real meter.
    pub verified: bool,
    /// Word order of multi-register values.
    pub word_order: WordOrder,
    /// The values in file order.
    pub entries: Vec<MapEntry>,
}

impl RegisterMap {
    /// A built-in map by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Self, LinkError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, name_or_path);
        }
        let text = std::fs::read_to_string(name_or_path).map_err(|e| {
            LinkError::Config(format!(
                "register map '{name_or_path}': not a built-in map ({}) and not a readable file ({e})",
                BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))
        })?;
        Self::parse(&text, name_or_path)
    }

    /// Parses map TOML; errors name `origin` and the entry.
    pub fn parse(text: &str, origin: &str) -> Result<Self, LinkError> {
        let f: MapFile = toml::from_str(text)
            .map_err(|e| LinkError::Config(format!("register map {origin}: {e}")))?;
        let word_order = match f.word_order.as_deref() {
            None => WordOrder::HighFirst,
            Some(w) => w
                .parse()
                .map_err(|e| LinkError::Config(format!("register map {origin}: {e}")))?,
        };
        let mut entries = Vec::new();
        for (i, e) in f.value.into_iter().enumerate() {
            let bad = |why: String| {
                LinkError::Config(format!(
                    "register map {origin}: value {} ('{}'): {why}",
                    i + 1,
                    e.name
                ))
            };
            let kind: RegisterType = e.kind.parse().map_err(|x: LinkError| bad(x.to_string()))?;
            let (table, address) = match (e.register, &e.table, e.address) {
                (Some(r), None, None) => match r {
                    30001..=39999 => (RegisterTable::Input, (r - 30001) as u16),
                    40001..=49999 => (RegisterTable::Holding, (r - 40001) as u16),
                    300001..=365536 => (RegisterTable::Input, (r - 300001) as u16),
                    400001..=465536 => (RegisterTable::Holding, (r - 400001) as u16),
                    _ => {
                        return Err(bad(format!(
                            "register {r} is not a Modicon input (3xxxx) or holding (4xxxx) number"
                        )))
                    }
                },
                (None, Some(t), Some(a)) => (
                    match t.as_str() {
                        "ir" => RegisterTable::Input,
                        "hr" => RegisterTable::Holding,
                        _ => return Err(bad(format!("table '{t}' (expected ir or hr)"))),
                    },
                    a,
                ),
                _ => {
                    return Err(bad(
                        "give either register = 3xxxx/4xxxx or table and address".into(),
                    ))
                }
            };
            if address as u32 + kind.words() as u32 > 65536 {
                return Err(bad("runs past register 65535".into()));
            }
            let obis = e
                .obis
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|x: LinkError| bad(x.to_string()))?;
            entries.push(MapEntry {
                name: e.name.clone(),
                register: RegisterRef {
                    table,
                    address,
                    kind,
                },
                scale: e.scale,
                unit: e.unit,
                obis,
            });
        }
        if entries.is_empty() {
            return Err(LinkError::Config(format!(
                "register map {origin}: no [[value]]"
            )));
        }
        Ok(RegisterMap {
            name: f.name,
            source: f.source,
            verified: f.verified,
            word_order,
            entries,
        })
    }
}

/// Reads covering `regs`: one per run of adjacent or overlapping registers of
/// the same table, at most 125 registers each (MAP §6.3). Gaps are not read
/// across (a meter may refuse unmapped addresses).
pub fn plan_reads(regs: &[RegisterRef]) -> Vec<(RegisterTable, u16, u16)> {
    let mut spans: Vec<(RegisterTable, u32, u32)> = regs
        .iter()
        .map(|r| {
            (
                r.table,
                r.address as u32,
                r.address as u32 + r.kind.words() as u32,
            )
        })
        .collect();
    spans.sort_by_key(|&(t, a, _)| (t == RegisterTable::Input, a));
    let mut out: Vec<(RegisterTable, u32, u32)> = Vec::new();
    for (t, a, e) in spans {
        match out.last_mut() {
            Some((lt, la, le))
                if *lt == t
                    && a <= *le
                    && e.max(*le) - *la <= crate::frame::MAX_READ_REGISTERS as u32 =>
            {
                *le = e.max(*le);
            }
            _ => out.push((t, a, e)),
        }
    }
    out.into_iter()
        .map(|(t, a, e)| (t, a as u16, (e - a) as u16))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_map_loads() {
        let m = RegisterMap::load("sdm630").unwrap();
        assert!(!m.verified);
        let u1 = &m.entries[0];
        assert_eq!(
            (u1.name.as_str(), u1.register.address, u1.unit.as_str()),
            ("U_L1", 0, "V")
        );
        let e = m.entries.iter().find(|e| e.name == "E_total").unwrap();
        assert_eq!(e.register.address, 0x156);
        let plan = plan_reads(&m.entries.iter().map(|e| e.register).collect::<Vec<_>>());
        assert!(plan.iter().all(|p| p.2 <= 125));
        assert_eq!(plan[0], (RegisterTable::Input, 0, 36));
    }

    #[test]
    fn bad_maps_are_named() {
        let e = RegisterMap::parse("name='x'\nsource='y'\nverified=false\n[[value]]\nname='a'\nregister=20001\ntype='f32'\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml: value 1 ('a')"), "{e}");
        let e = RegisterMap::load("/nonexistent.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sdm630"), "{e}");
    }
}
