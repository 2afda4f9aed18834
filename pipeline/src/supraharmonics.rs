//! The supraharmonics sink: every block of the run through
//! [`SupraharmonicAnalyzer`](pqe_standards::supraharmonics::SupraharmonicAnalyzer), each
//! 0.2-s record written to its channel's table `supraharmonics_<channel>.csv` (columns:
//! [`SupraharmonicRecord::columns`]), and what the report shows gathered in bounded
//! memory: a spectrogram per channel (at most [`MAX_COLUMNS`] time columns, each the
//! maximum of the intervals it covers) and the CENELEC band levels of the voltage channels
//! against the EN 50065-1 limits.
//!
//! The part runs when the sample rate allows (2–9 kHz groups from 20 kHz, 9–150 kHz bins
//! and PLC bands from 300 kHz, IEC 61000-4-7 Annex B and IEC 61000-4-30 Annex C) and
//! `--no-supraharmonics` is not given; below the rate [`SupraharmonicSink::start`] says
//! why. The values do not depend on how the recording is cut into blocks (the analyzer
//! keeps its own interval grid).

use crate::table::{file_safe, ResultTable};
use crate::Result;
use pqe_core::{Block, ChannelKind, RecordingInfo};
use pqe_io::table::TableFormat;
use pqe_report::{PlcBandRow, Spectrogram, SupraharmonicSection, Verdict};
use pqe_standards::supraharmonics::{
    availability, bands, check_plc_limit, Carrier, PlcBandReading, SupraharmonicAnalyzer,
    SupraharmonicOptions, SupraharmonicRecord, INTERVAL_SECONDS,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Most time columns of a report spectrogram; longer recordings merge pairs of columns.
pub const MAX_COLUMNS: usize = 300;
/// Most analyzer notices (gaps, non-finite samples) passed on one by one; the rest are
/// counted.
const MAX_NOTICES: usize = 20;

/// The `supraharmonics` object of summary.json when the part did not run: why (the
/// message of [`SupraharmonicSink::start`], or the switch).
pub fn not_measured(why: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "measured": false,
        "reason": why.unwrap_or("switched off (--no-supraharmonics)"),
    })
}

/// The supraharmonic part of a run.
pub struct SupraharmonicSink {
    dir: PathBuf,
    format: TableFormat,
    analyzer: SupraharmonicAnalyzer,
    channels: Vec<SinkChannel>,
    /// Which parts run: 2–9 kHz groups, 9–150 kHz bins, PLC bands.
    parts: (bool, bool, bool),
    /// Why a part is off (the rate).
    off: Vec<String>,
    notices: Vec<String>,
    notices_dropped: usize,
    intervals: u64,
}

/// What the sink leaves when the run ends.
#[derive(Debug)]
pub struct SupraharmonicOutcome {
    /// Tables written, relative to the output folder.
    pub files: Vec<String>,
    /// The report section.
    pub report: SupraharmonicSection,
    /// Warnings for the run's observer (gaps, non-finite samples, an interval cut short).
    pub warnings: Vec<String>,
    /// The `supraharmonics` object of summary.json.
    pub summary: serde_json::Value,
}

struct SinkChannel {
    name: String,
    kind: ChannelKind,
    /// Channel unit → V or A.
    scale: f64,
    table: Option<ResultTable>,
    spectrogram: SpectrogramColumns,
    bands: Vec<BandSummary>,
}

/// The spectrogram's columns on a grid of `span` intervals: column `key` covers
/// `[key·span·0.2 s, (key+1)·span·0.2 s)`; when there are more than [`MAX_COLUMNS`] the
/// span doubles and neighbours merge (maximum).
struct SpectrogramColumns {
    span: u64,
    columns: Vec<(u64, Vec<f64>)>,
}

impl SpectrogramColumns {
    fn push(&mut self, t: f64, values: impl Iterator<Item = f64>) {
        let interval = (t / INTERVAL_SECONDS + 1e-6).floor().max(0.0) as u64;
        let key = interval / self.span;
        match self.columns.last_mut() {
            Some((k, col)) if *k == key => {
                for (c, v) in col.iter_mut().zip(values) {
                    *c = c.max(v);
                }
            }
            _ => self.columns.push((key, values.collect())),
        }
        if self.columns.len() > MAX_COLUMNS {
            self.span *= 2;
            let old = std::mem::take(&mut self.columns);
            for (k, col) in old {
                let key = k / 2;
                match self.columns.last_mut() {
                    Some((k2, c2)) if *k2 == key => {
                        for (a, b) in c2.iter_mut().zip(col) {
                            *a = a.max(b);
                        }
                    }
                    _ => self.columns.push((key, col)),
                }
            }
        }
    }
}

/// One CENELEC band of one voltage channel over the run.
struct BandSummary {
    /// The reading with the highest level while active (NaN level: never active).
    loudest: Option<PlcBandReading>,
    peak: f64,
    active_sum: f64,
    intervals: u64,
    signals: BTreeSet<&'static str>,
    carriers: Vec<Carrier>,
}

impl BandSummary {
    fn new() -> Self {
        BandSummary {
            loudest: None,
            peak: 0.0,
            active_sum: 0.0,
            intervals: 0,
            signals: BTreeSet::new(),
            carriers: Vec::new(),
        }
    }

    fn add(&mut self, r: &PlcBandReading) {
        self.intervals += 1;
        self.active_sum += r.active_fraction;
        self.peak = self.peak.max(r.peak);
        if let Some(s) = r.signal {
            self.signals.insert(s.as_str());
        }
        if r.level.is_finite() && self.loudest.as_ref().is_none_or(|l| l.level < r.level) {
            self.loudest = Some(r.clone());
        }
        if r.level.is_finite() {
            for c in &r.carriers {
                match self
                    .carriers
                    .iter_mut()
                    .find(|k| (k.frequency - c.frequency).abs() < 1.0)
                {
                    Some(k) => k.rms = k.rms.max(c.rms),
                    None => self.carriers.push(*c),
                }
            }
            self.carriers.sort_by(|a, b| {
                b.rms
                    .total_cmp(&a.rms)
                    .then(a.frequency.total_cmp(&b.frequency))
            });
            self.carriers.truncate(4);
        }
    }
}

impl SupraharmonicSink {
    /// The sink for a recording described by `info` whose channels are named `columns`,
    /// writing into `dir`; `None` when the part is switched off (`on` false), the rate does
    /// not allow it or there is no voltage or current channel. The second value is a
    /// message for the user when the rate switches the part (or some of it) off.
    pub fn start(
        dir: &Path,
        info: &RecordingInfo,
        columns: &[String],
        on: bool,
        format: TableFormat,
    ) -> Result<(Option<Self>, Option<String>)> {
        if !on {
            return Ok((None, None));
        }
        let avail = availability(info.sample_rate);
        let groups = avail.groups_2_9khz.is_ok();
        let high = groups && avail.bins_9_150khz.is_ok();
        let mut off = Vec::new();
        if let Err(why) = &avail.groups_2_9khz {
            off.push(why.clone());
        }
        if let Err(why) = &avail.bins_9_150khz {
            off.push(why.clone());
        }
        if !groups {
            return Ok((
                None,
                Some(format!(
                    "supraharmonics (2–150 kHz) are off: {}",
                    off.join("; ")
                )),
            ));
        }
        if !info
            .channels
            .iter()
            .any(|c| matches!(c.kind, ChannelKind::Voltage | ChannelKind::Current))
        {
            return Ok((
                None,
                Some("supraharmonics are off: no voltage or current channel".into()),
            ));
        }
        let message = (!high).then(|| {
            format!(
                "supraharmonics: the 2–9 kHz groups only; {}",
                off.join("; ")
            )
        });
        // The PLC activity floor, 1 mV, in the first voltage channel's unit.
        let volts = info
            .channels
            .iter()
            .find(|c| c.kind == ChannelKind::Voltage)
            .map_or(1.0, |c| crate::fit::volts_per_unit(&c.unit));
        let options = SupraharmonicOptions {
            activity_floor: 1e-3 / volts,
            ..SupraharmonicOptions::default()
        };
        let analyzer = SupraharmonicAnalyzer::new(info.sample_rate, info.channels.len(), &options)?;
        let channels = info
            .channels
            .iter()
            .zip(columns)
            .map(|(c, name)| SinkChannel {
                name: name.clone(),
                kind: c.kind,
                scale: crate::fit::volts_per_unit(&c.unit),
                table: None,
                spectrogram: SpectrogramColumns {
                    span: 1,
                    columns: Vec::new(),
                },
                bands: (0..4).map(|_| BandSummary::new()).collect(),
            })
            .collect();
        Ok((
            Some(SupraharmonicSink {
                dir: dir.to_path_buf(),
                format,
                analyzer,
                channels,
                parts: (true, high, high),
                off,
                notices: Vec::new(),
                notices_dropped: 0,
                intervals: 0,
            }),
            message,
        ))
    }

    /// Take the run's next block (blocks in recording order, any length).
    pub fn push(&mut self, block: &Block) -> Result<()> {
        self.analyzer.push(block)?;
        self.drain()
    }

    fn drain(&mut self) -> Result<()> {
        while let Some(r) = self.analyzer.next_record() {
            self.write(&r)?;
        }
        for n in self.analyzer.take_notices() {
            if self.notices.len() < MAX_NOTICES {
                self.notices
                    .push(format!("supraharmonics at t = {:.3} s: {}", n.t, n.message));
            } else {
                self.notices_dropped += 1;
            }
        }
        Ok(())
    }

    fn write(&mut self, r: &SupraharmonicRecord) -> Result<()> {
        let Some(ch) = self.channels.get_mut(r.channel) else {
            return Ok(());
        };
        if !matches!(ch.kind, ChannelKind::Voltage | ChannelKind::Current) {
            return Ok(());
        }
        if r.channel == 0 {
            self.intervals += 1;
        }
        let row = r.columns();
        if ch.table.is_none() {
            let stem = format!("supraharmonics_{}", file_safe(&ch.name));
            let cols: Vec<String> = row.iter().map(|(c, _)| c.clone()).collect();
            ch.table = Some(ResultTable::numeric(&self.dir, &stem, &cols, self.format)?);
        }
        ch.table.as_mut().expect("opened above").write_named(&row)?;
        let scale = ch.scale;
        ch.spectrogram.push(
            r.t,
            r.groups
                .iter()
                .chain(&r.bins_max)
                .map(|v| bands::dbuv(v * scale)),
        );
        if ch.kind == ChannelKind::Voltage {
            for (b, reading) in ch.bands.iter_mut().zip(&r.plc) {
                b.add(&PlcBandReading {
                    level: reading.level * scale,
                    peak: reading.peak * scale,
                    rms: reading.rms * scale,
                    carriers: reading
                        .carriers
                        .iter()
                        .map(|c| Carrier {
                            frequency: c.frequency,
                            rms: c.rms * scale,
                        })
                        .collect(),
                    ..reading.clone()
                });
            }
        }
        Ok(())
    }

    /// End of the run: close the tables and hand back the files, the report section, the
    /// warnings and the summary.
    pub fn finish(mut self) -> Result<SupraharmonicOutcome> {
        self.drain()?;
        self.analyzer.finish();
        // The interval the recording ends in: said in the report, not warned about (almost
        // every recording ends inside one).
        let ending: Vec<String> = self
            .analyzer
            .take_notices()
            .into_iter()
            .map(|n| format!("Supraharmonics at t = {:.3} s: {}.", n.t, n.message))
            .collect();
        let mut files = Vec::new();
        let mut tables = serde_json::Map::new();
        let mut section = SupraharmonicSection::default();
        let (groups, bins, plc) = self.parts;
        let mut frequencies: Vec<f64> = Vec::new();
        if groups {
            frequencies.extend(bands::group_centres());
        }
        if bins {
            frequencies.extend(bands::bin_centres());
        }
        for ch in self.channels {
            let Some(table) = ch.table else { continue };
            let file = table.file_name().to_string();
            let rows = table.finish()?;
            tables.insert(
                ch.name.clone(),
                serde_json::json!({ "file": file, "rows": rows }),
            );
            files.push(file);
            let column_seconds = ch.spectrogram.span as f64 * INTERVAL_SECONDS;
            let (t, levels) = ch
                .spectrogram
                .columns
                .into_iter()
                .map(|(k, col)| (k as f64 * column_seconds, col))
                .unzip();
            section.spectrograms.push(Spectrogram {
                channel: ch.name.clone(),
                unit: if ch.kind == ChannelKind::Voltage {
                    "dBµV".into()
                } else {
                    "dBµA".into()
                },
                frequencies: frequencies.clone(),
                t,
                column_seconds,
                levels,
                combine: if ch.spectrogram.span == 1 {
                    "each column one 0.2-s interval".into()
                } else {
                    format!(
                        "each column the maximum of {} 0.2-s intervals",
                        ch.spectrogram.span
                    )
                },
            });
            if ch.kind != ChannelKind::Voltage || !plc {
                continue;
            }
            for (band, b) in bands::CenelecBand::ALL.iter().zip(ch.bands) {
                let (lo, hi) = band.edges_hz();
                let limit = pqe_standards::supraharmonics::plc::limit(*band);
                let (level_dbuv, verdict) = match &b.loudest {
                    Some(r) => {
                        let check = check_plc_limit(r);
                        (
                            check.level_dbuv,
                            if check.within {
                                Verdict::Pass
                            } else {
                                Verdict::Fail
                            },
                        )
                    }
                    None => (f64::NAN, Verdict::Info),
                };
                section.bands.push(PlcBandRow {
                    channel: ch.name.clone(),
                    band: band.letter().into(),
                    range: format!("{}–{} kHz", lo / 1000.0, hi / 1000.0),
                    level_dbuv,
                    peak_dbuv: bands::dbuv(b.peak),
                    active_percent: if b.intervals > 0 {
                        100.0 * b.active_sum / b.intervals as f64
                    } else {
                        0.0
                    },
                    signal: b.signals.into_iter().collect::<Vec<_>>().join(", "),
                    carriers: b
                        .carriers
                        .iter()
                        .map(|c| {
                            format!(
                                "{} kHz ({:.1} dBµV)",
                                c.frequency / 1000.0,
                                bands::dbuv(c.rms)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    limit_dbuv: limit.max_dbuv,
                    limit_source: format!("{}; {}", limit.class, limit.source),
                    limit_verified: limit.verified,
                    verdict,
                });
            }
        }
        section
            .notes
            .extend(self.off.iter().map(|why| format!("Not measured: {why}.")));
        let mut warnings = self.notices;
        if self.notices_dropped > 0 {
            warnings.push(format!(
                "supraharmonics: {} more notices like these not shown",
                self.notices_dropped
            ));
        }
        section.notes.extend(warnings.iter().cloned());
        section.notes.extend(ending);
        let summary = serde_json::json!({
            "measured": true,
            "groups_2_9khz": groups,
            "bins_9_150khz": bins,
            "plc_bands": plc,
            "not_measured": self.off,
            "intervals": self.intervals,
            "tables": tables,
        });
        Ok(SupraharmonicOutcome {
            files,
            report: section,
            warnings,
            summary,
        })
    }
}
