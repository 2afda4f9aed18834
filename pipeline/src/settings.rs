//! [`AnalysisSettings`]: how to analyse a recording, in one place for every front.
//!
//! The same struct is filled from the `pqe` options (with the `clap` feature), from
//! `pqengine.analyze`'s keyword arguments, from the C ABI's config struct, or from a TOML
//! file (`pqe analyze --config FILE`, keys spelled as the long options with underscores:
//! `nominal_voltage = 400`, `no_flicker = true`, `map = ["VA=U_A"]`). It is checked once by
//! [`AnalysisSettings::validate`], which gives the engine's option structs.

use crate::roles::ChannelRole;
use crate::{Error, Result};
use pqe_core::{NominalFrequency, SystemConfig, Wiring};
use pqe_standards::events::EventOptions;
use pqe_standards::iec61000_4_15::Lamp;
use pqe_standards::ieee519::Edition;
use pqe_standards::AnalyzerOptions;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The default of every setting, shared by the command line's help and [`Default`].
pub mod defaults {
    /// Udin, V.
    pub const NOMINAL_VOLTAGE: f64 = 230.0;
    /// Hz.
    pub const NOMINAL_FREQUENCY: f64 = 50.0;
    /// Wiring.
    pub const WIRING: &str = "wye";
    /// Highest order in THD sums.
    pub const THD_ORDER: usize = 50;
    /// % of Udin.
    pub const DIP_THRESHOLD: f64 = 90.0;
    /// % of Udin.
    pub const SWELL_THRESHOLD: f64 = 110.0;
    /// % of Udin.
    pub const INTERRUPTION_THRESHOLD: f64 = 10.0;
    /// % of Udin.
    pub const HYSTERESIS: f64 = 2.0;
    /// % of Udin.
    pub const RVC_THRESHOLD: f64 = 3.0;
    /// Cycles.
    pub const CAPTURE_PRE_CYCLES: f64 = 10.0;
    /// Cycles.
    pub const CAPTURE_POST_CYCLES: f64 = 10.0;
    /// Files.
    pub const MAX_CAPTURES: usize = 200;
    /// Year.
    pub const IEEE519_EDITION: u16 = 2022;
}

/// Udin: a number of volts, or `auto` — the standard nominal voltage nearest to what the
/// recording shows (see [`crate::fit::nearest_nominal_voltage`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NominalVoltage {
    /// Declared by the user, V.
    Volts(f64),
    /// Chosen from the data.
    Auto,
}

impl Default for NominalVoltage {
    fn default() -> Self {
        NominalVoltage::Volts(defaults::NOMINAL_VOLTAGE)
    }
}

impl fmt::Display for NominalVoltage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NominalVoltage::Volts(v) => write!(f, "{v}"),
            NominalVoltage::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for NominalVoltage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") {
            return Ok(NominalVoltage::Auto);
        }
        s.parse::<f64>().map(NominalVoltage::Volts).map_err(|_| {
            Error::Settings(format!(
                "nominal voltage '{s}': expected a number of volts or 'auto'"
            ))
        })
    }
}

impl Serialize for NominalVoltage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            NominalVoltage::Volts(v) => s.serialize_f64(*v),
            NominalVoltage::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for NominalVoltage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(v) => Ok(NominalVoltage::Volts(v)),
            Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

pub use pqe_io::table::TableFormat;

/// How to analyse: the supply, the channels, the thresholds, the outputs. Every front fills
/// this one struct; [`AnalysisSettings::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSettings {
    /// Declared input voltage Udin in volts (phase-to-neutral for wye/single, line-to-line
    /// for delta), or `auto`: the standard nominal nearest to the RMS of the first seconds.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = NominalVoltage::default()))]
    pub nominal_voltage: NominalVoltage,
    /// Nominal frequency: 50 or 60 Hz.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::NOMINAL_FREQUENCY))]
    pub nominal_frequency: f64,
    /// Wiring: wye, delta or single.
    #[cfg_attr(feature = "clap", arg(long, default_value = defaults::WIRING))]
    pub wiring: Wiring,
    /// Maximum demand load current I_L in amperes (IEEE 519 TDD).
    #[cfg_attr(feature = "clap", arg(long))]
    pub load_current: Option<f64>,
    /// What a channel measures, when the file does not say: FILE_CHANNEL=ROLE, ROLE an IEC
    /// symbol such as U_A, U_AB, I_N (or `ignore`). Repeat for several channels.
    #[cfg_attr(feature = "clap", arg(long = "map"))]
    pub map: Vec<ChannelRole>,
    /// Highest harmonic order in THD sums (IEC 61000-4-7 uses 40 or 50).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::THD_ORDER))]
    pub thd_order: usize,
    /// Mains signalling frequency to measure (IEC 61000-4-30 5.10), in hertz.
    #[cfg_attr(feature = "clap", arg(long))]
    pub signalling_frequency: Option<f64>,
    /// Flickermeter lamp (IEC 61000-4-15): 230V or 120V (default: the nominal frequency's,
    /// 230 V at 50 Hz, 120 V at 60 Hz).
    #[cfg_attr(feature = "clap", arg(long))]
    pub flicker_lamp: Option<String>,
    /// Skip harmonics, interharmonics, THD, phase angles, the phasor powers (Q1, DPF,
    /// positive sequence) and unbalance; P, S and PF are then integrated in the time
    /// domain (the basic chain).
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_harmonics: bool,
    /// Skip flicker (IEC 61000-4-15): no Pst, no Plt, no flicker.csv.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_flicker: bool,
    /// Skip dips, swells, interruptions and RVCs (IEC 61000-4-30 5.4, 5.5): no events.csv,
    /// no captures, and no value is flagged for them (4.7).
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_events: bool,
    /// Skip the Urms(1/2) values (5.4.2). Events are detected on them, so this needs
    /// --no-events as well.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_half_cycle: bool,
    /// Skip the 150/180-cycle, 10-min and 2-h aggregates (4.5): no aggregates_*.csv.
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_aggregation: bool,
    /// Skip the supraharmonics, 2–150 kHz (IEC 61000-4-7 Annex B, IEC 61000-4-30 Annex C,
    /// EN 50065-1 bands): no supraharmonics_*.csv. They are off anyway below 20 kHz
    /// sampling (the 9–150 kHz part below 300 kHz).
    #[cfg_attr(feature = "clap", arg(long))]
    pub no_supraharmonics: bool,
    /// The basic chain, RMS, power, frequency and aggregates only: the same as
    /// --no-harmonics --no-flicker --no-events --no-half-cycle --no-supraharmonics.
    #[cfg_attr(feature = "clap", arg(long))]
    pub basic: bool,
    /// Also write the Urms(1/2) series (urms_half_cycle.csv).
    #[cfg_attr(feature = "clap", arg(long, conflicts_with_all = ["no_half_cycle", "basic"]))]
    pub half_cycle: bool,
    /// Dip threshold in % of Udin (IEC 61000-4-30 5.4.2).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::DIP_THRESHOLD))]
    pub dip_threshold: f64,
    /// Swell threshold in % of Udin (5.4.3).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::SWELL_THRESHOLD))]
    pub swell_threshold: f64,
    /// Interruption threshold in % of Udin (5.4.4).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::INTERRUPTION_THRESHOLD))]
    pub interruption_threshold: f64,
    /// Hysteresis of the dip, swell and interruption thresholds, in % of Udin.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::HYSTERESIS))]
    pub hysteresis: f64,
    /// Judge dips and swells against the sliding reference voltage instead of Udin (5.4.4
    /// option for MV/HV).
    #[cfg_attr(feature = "clap", arg(long))]
    pub sliding_reference: bool,
    /// RVC threshold in % of Udin (5.5).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::RVC_THRESHOLD))]
    pub rvc_threshold: f64,
    /// Cycles captured before each event's start.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::CAPTURE_PRE_CYCLES))]
    pub capture_pre_cycles: f64,
    /// Cycles captured after each event's end.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::CAPTURE_POST_CYCLES))]
    pub capture_post_cycles: f64,
    /// Most event captures written (the rest are counted in summary.json).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::MAX_CAPTURES))]
    pub max_captures: usize,
    /// IEEE 519 edition: 2014 or 2022.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::IEEE519_EDITION))]
    pub ieee519_edition: u16,
    /// Short-circuit current at the point of common coupling, in amperes (IEEE 519 Isc/I_L
    /// with --load-current).
    #[cfg_attr(feature = "clap", arg(long))]
    pub short_circuit_current: Option<f64>,
    /// Give EN 50160 and IEEE 519 verdicts for observations shorter than their week (day).
    #[cfg_attr(feature = "clap", arg(long))]
    pub allow_short_observation: bool,
    /// File format of the result tables: csv or parquet (summary.json, compliance.json,
    /// the report and the captures are the same either way).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TableFormat::Csv))]
    pub format: TableFormat,
    /// Threads of one analysis: 1 runs reading, analysis and writing one after the other
    /// on the calling thread; 0 (the default) runs them as three overlapped stages and
    /// shares the spectral part of the analysis between two threads. The outputs are the
    /// same bytes either way.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub threads: usize,
    /// Refuse a recording that is not whole (a COMTRADE .dat that ends before the .cfg's
    /// sample count) instead of analysing what there is.
    #[cfg_attr(feature = "clap", arg(long))]
    pub strict: bool,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            nominal_voltage: NominalVoltage::default(),
            nominal_frequency: defaults::NOMINAL_FREQUENCY,
            wiring: Wiring::Wye,
            load_current: None,
            map: Vec::new(),
            thd_order: defaults::THD_ORDER,
            signalling_frequency: None,
            flicker_lamp: None,
            no_harmonics: false,
            no_flicker: false,
            no_events: false,
            no_half_cycle: false,
            no_aggregation: false,
            no_supraharmonics: false,
            basic: false,
            half_cycle: false,
            dip_threshold: defaults::DIP_THRESHOLD,
            swell_threshold: defaults::SWELL_THRESHOLD,
            interruption_threshold: defaults::INTERRUPTION_THRESHOLD,
            hysteresis: defaults::HYSTERESIS,
            sliding_reference: false,
            rvc_threshold: defaults::RVC_THRESHOLD,
            capture_pre_cycles: defaults::CAPTURE_PRE_CYCLES,
            capture_post_cycles: defaults::CAPTURE_POST_CYCLES,
            max_captures: defaults::MAX_CAPTURES,
            ieee519_edition: defaults::IEEE519_EDITION,
            short_circuit_current: None,
            allow_short_observation: false,
            format: TableFormat::Csv,
            threads: 0,
            strict: false,
        }
    }
}

/// The parts of the analysis switched on (all by default); see [`AnalysisSettings::switches`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    /// Harmonics, interharmonics, THD, phasor powers, unbalance.
    pub harmonics: bool,
    /// Flicker (Pst, Plt).
    pub flicker: bool,
    /// Dips, swells, interruptions, RVCs, event flagging, captures.
    pub events: bool,
    /// Urms(1/2) values.
    pub half_cycle: bool,
    /// 150/180-cycle, 10-min and 2-h aggregates.
    pub aggregation: bool,
    /// Supraharmonics, 2–150 kHz (when the sample rate allows).
    pub supraharmonics: bool,
}

/// A part of the analysis that a switch turns off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `--no-harmonics`.
    Harmonics,
    /// `--no-flicker`.
    Flicker,
    /// `--no-events`.
    Events,
    /// `--no-half-cycle`.
    HalfCycle,
    /// `--no-aggregation`.
    Aggregation,
    /// `--no-supraharmonics`.
    Supraharmonics,
}

impl Part {
    /// Every part, in the order of the options.
    pub const ALL: [Part; 6] = [
        Part::Harmonics,
        Part::Flicker,
        Part::Events,
        Part::HalfCycle,
        Part::Aggregation,
        Part::Supraharmonics,
    ];

    /// Its name in summary.json and compliance.json (`harmonics`, `half_cycle`, …).
    pub fn key(self) -> &'static str {
        match self {
            Part::Harmonics => "harmonics",
            Part::Flicker => "flicker",
            Part::Events => "events",
            Part::HalfCycle => "half_cycle",
            Part::Aggregation => "aggregation",
            Part::Supraharmonics => "supraharmonics",
        }
    }

    /// Its name in sentences.
    pub fn words(self) -> &'static str {
        match self {
            Part::Harmonics => "harmonics",
            Part::Flicker => "flicker",
            Part::Events => "events",
            Part::HalfCycle => "Urms(1/2)",
            Part::Aggregation => "aggregation",
            Part::Supraharmonics => "supraharmonics",
        }
    }

    /// The option that switches it off.
    pub fn flag(self) -> &'static str {
        match self {
            Part::Harmonics => "--no-harmonics",
            Part::Flicker => "--no-flicker",
            Part::Events => "--no-events",
            Part::HalfCycle => "--no-half-cycle",
            Part::Aggregation => "--no-aggregation",
            Part::Supraharmonics => "--no-supraharmonics",
        }
    }
}

impl Switches {
    /// Whether `part` is computed.
    pub fn on(&self, part: Part) -> bool {
        match part {
            Part::Harmonics => self.harmonics,
            Part::Flicker => self.flicker,
            Part::Events => self.events,
            Part::HalfCycle => self.half_cycle,
            Part::Aggregation => self.aggregation,
            Part::Supraharmonics => self.supraharmonics,
        }
    }

    /// The parts switched off, in option order.
    pub fn off(&self) -> Vec<Part> {
        Part::ALL.into_iter().filter(|&p| !self.on(p)).collect()
    }

    /// `not assessed (harmonics and aggregation switched off)` when any of `needs` is off.
    pub fn not_assessed(&self, needs: &[Part]) -> Option<String> {
        let off: Vec<&str> = needs
            .iter()
            .filter(|&&p| !self.on(p))
            .map(|p| p.words())
            .collect();
        if off.is_empty() {
            return None;
        }
        Some(format!("not assessed ({} switched off)", off.join(" and ")))
    }
}

/// Settings checked by [`AnalysisSettings::validate`]: the engine's option structs, ready
/// to build an [`pqe_standards::Analyzer`] once Udin is known.
#[derive(Debug, Clone)]
pub struct ValidSettings {
    /// The settings as given.
    pub settings: AnalysisSettings,
    /// What is computed.
    pub switches: Switches,
    /// The nominal frequency.
    pub nominal_frequency: NominalFrequency,
    /// The analyzer's options (events, harmonics, flicker …).
    pub analyzer: AnalyzerOptions,
    /// The IEEE 519 edition judged against.
    pub ieee519_edition: Edition,
}

impl ValidSettings {
    /// The supply description with `udin` volts (the declared one, or the one chosen from
    /// the data with `--nominal-voltage auto`), checked.
    pub fn system_config(&self, udin: f64) -> Result<SystemConfig> {
        let config = SystemConfig {
            nominal_frequency: self.nominal_frequency,
            udin,
            wiring: self.settings.wiring,
            load_current: self.settings.load_current,
        };
        config.validate()?;
        Ok(config)
    }
}

impl AnalysisSettings {
    /// What to compute, from `--basic` and the `--no-…` options. `--no-half-cycle` without
    /// `--no-events` is an error (events are detected on the Urms(1/2) values); `--basic`
    /// implies both.
    pub fn switches(&self) -> Result<Switches> {
        let switches = Switches {
            harmonics: !(self.no_harmonics || self.basic),
            flicker: !(self.no_flicker || self.basic),
            events: !(self.no_events || self.basic),
            half_cycle: !(self.no_half_cycle || self.basic),
            aggregation: !self.no_aggregation,
            supraharmonics: !(self.no_supraharmonics || self.basic),
        };
        if switches.events && !switches.half_cycle {
            return Err(Error::Settings(
                "--no-half-cycle needs --no-events as well: dips, swells, interruptions and \
                 RVCs are detected on the Urms(1/2) values (or use --basic, which turns both \
                 off)"
                    .into(),
            ));
        }
        Ok(switches)
    }

    /// Check every setting once and build the engine's options. Errors are
    /// [`Error::Settings`] naming the option.
    pub fn validate(&self) -> Result<ValidSettings> {
        let switches = self.switches()?;
        if self.half_cycle && !switches.half_cycle {
            return Err(Error::Settings(
                "--half-cycle writes the Urms(1/2) values, which --no-half-cycle or --basic \
                 switch off"
                    .into(),
            ));
        }
        let nominal_frequency = NominalFrequency::from_hz(self.nominal_frequency)?;
        if let NominalVoltage::Volts(v) = self.nominal_voltage {
            // The supply description's own checks, with the declared voltage.
            SystemConfig {
                nominal_frequency,
                udin: v,
                wiring: self.wiring,
                load_current: self.load_current,
            }
            .validate()?;
        }
        let ieee519_edition = match self.ieee519_edition {
            2014 => Edition::E2014,
            2022 => Edition::E2022,
            other => {
                return Err(Error::Settings(format!(
                    "--ieee519-edition must be 2014 or 2022, not {other}"
                )))
            }
        };
        let defaults = EventOptions::default();
        let events = EventOptions {
            dip_threshold: self.dip_threshold,
            dip_hysteresis: self.hysteresis,
            swell_threshold: self.swell_threshold,
            swell_hysteresis: self.hysteresis,
            interruption_threshold: self.interruption_threshold,
            interruption_hysteresis: self.hysteresis,
            sliding_reference: self.sliding_reference,
            rvc_threshold: self.rvc_threshold,
            rvc_hysteresis: (self.rvc_threshold / 2.0).min(defaults.rvc_hysteresis),
            capture_pre_cycles: self.capture_pre_cycles,
            capture_post_cycles: self.capture_post_cycles,
            enabled: switches.events,
            ..defaults
        };
        events.validate()?;
        let flicker_lamp = self.flicker_lamp.as_deref().map(lamp).transpose()?;
        let analyzer = AnalyzerOptions {
            harmonics: switches.harmonics,
            // Urms(1/2) feeds the event detector; it is written only on request.
            half_cycle: switches.half_cycle,
            thd_max_order: self.thd_order,
            signalling_frequency: self.signalling_frequency,
            events,
            aggregation: switches.aggregation,
            flicker: switches.flicker,
            flicker_lamp,
            parallel: self.threads != 1,
            ..AnalyzerOptions::default()
        };
        Ok(ValidSettings {
            settings: self.clone(),
            switches,
            nominal_frequency,
            analyzer,
            ieee519_edition,
        })
    }

    /// Settings from a TOML file: every key optional (the defaults fill the rest), unknown
    /// keys refused with the file's name.
    pub fn from_toml_file(path: &Path) -> Result<AnalysisSettings> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Settings(format!("cannot read settings file {}: {e}", path.display()))
        })?;
        Self::from_toml_str(&text)
            .map_err(|e| Error::Settings(format!("{}: {}", path.display(), e.message())))
    }

    /// Settings from TOML text.
    pub fn from_toml_str(text: &str) -> std::result::Result<AnalysisSettings, toml::de::Error> {
        toml::from_str(text)
    }

    /// These settings over `base`: the fields for which `given(field)` is true (the options
    /// typed on the command line) replace `base`'s, the others keep `base`'s value (a
    /// settings file's, or the defaults). Field names are the struct's (`nominal_voltage`).
    pub fn over(&self, base: &AnalysisSettings, given: impl Fn(&str) -> bool) -> Result<Self> {
        let mine = serde_json::to_value(self).map_err(|e| Error::Settings(e.to_string()))?;
        let mut merged = serde_json::to_value(base).map_err(|e| Error::Settings(e.to_string()))?;
        if let (Some(mine), Some(merged)) = (mine.as_object(), merged.as_object_mut()) {
            for (k, v) in mine {
                if given(k) {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
        serde_json::from_value(merged).map_err(|e| Error::Settings(e.to_string()))
    }
}

/// A flickermeter lamp from `"230V"`/`"230"` or `"120V"`/`"120"`.
pub fn lamp(text: &str) -> Result<Lamp> {
    match text.trim().trim_end_matches(['V', 'v']) {
        "230" => Ok(Lamp::V230),
        "120" => Ok(Lamp::V120),
        _ => Err(Error::Settings(format!(
            "flicker lamp must be '230V' or '120V', not '{text}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_keys_are_the_option_names_and_defaults_fill_the_rest() {
        let s = AnalysisSettings::from_toml_str(
            "nominal_voltage = 400\nwiring = \"delta\"\nno_flicker = true\nmap = [\"VA=U_A\"]\n",
        )
        .unwrap();
        assert_eq!(s.nominal_voltage, NominalVoltage::Volts(400.0));
        assert_eq!(s.wiring, Wiring::Delta);
        assert!(s.no_flicker);
        assert_eq!(s.map[0].channel, "VA");
        assert_eq!(s.dip_threshold, 90.0);
        let auto = AnalysisSettings::from_toml_str("nominal_voltage = \"auto\"").unwrap();
        assert_eq!(auto.nominal_voltage, NominalVoltage::Auto);
        let e = AnalysisSettings::from_toml_str("nominal_voltag = 1").unwrap_err();
        assert!(e.to_string().contains("nominal_voltag"), "{e}");
    }

    #[test]
    fn given_options_replace_the_file_and_the_rest_stays() {
        let file =
            AnalysisSettings::from_toml_str("nominal_voltage = 400\nno_flicker = true").unwrap();
        let cli = AnalysisSettings {
            nominal_frequency: 60.0,
            ..AnalysisSettings::default()
        };
        let merged = cli.over(&file, |k| k == "nominal_frequency").unwrap();
        assert_eq!(merged.nominal_frequency, 60.0);
        assert_eq!(merged.nominal_voltage, NominalVoltage::Volts(400.0));
        assert!(merged.no_flicker);
    }

    #[test]
    fn validation_names_the_option_at_fault() {
        let bad = AnalysisSettings {
            ieee519_edition: 2000,
            ..AnalysisSettings::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("2014 or 2022"));
        let bad = AnalysisSettings {
            no_half_cycle: true,
            ..AnalysisSettings::default()
        };
        let e = bad.validate().unwrap_err();
        assert!(matches!(e, Error::Settings(_)));
        assert!(e.to_string().contains("--no-events"), "{e}");
        let bad = AnalysisSettings {
            nominal_frequency: 55.0,
            ..AnalysisSettings::default()
        };
        assert!(bad.validate().is_err());
        assert!(AnalysisSettings::default().validate().is_ok());
    }
}
