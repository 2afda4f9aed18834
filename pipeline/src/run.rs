//! The run loop: a recording's blocks → the [`Analyzer`] → the sinks (tables, captures,
//! report, compliance, summary), with progress and cancellation.

use crate::capture::CaptureRecorder;
use crate::compliance::{ComplianceSettings, ReportCollector};
use crate::direction::DirectionAssessor;
use crate::metering::{MeteringSettings, MeteringSink};
use crate::outputs::{write_statistics, Outputs};
use crate::settings::{AnalysisSettings, NominalVoltage, ValidSettings};
use crate::summary::{summary_json, SummaryInputs};
use crate::supraharmonics::SupraharmonicSink;
use crate::{fit, Error, Result};
use anyhow::Context;
use pqe_core::record::Record;
use pqe_core::record::{ChannelStatistics, ChannelStatisticsAccumulator};
use pqe_core::{Block, RecordingInfo};
use pqe_core::{Gap, Source, SourceEvent};
use pqe_io::RecordingReader;
use pqe_standards::Analyzer;
use std::path::Path;
use std::sync::{mpsc, Arc};

pub use pqe_core::CancelToken;

/// Samples per channel read at a time: large enough to amortise per-block work, small enough
/// to keep memory bounded on any recording.
pub const BLOCK_SAMPLES: usize = 65_536;

/// How far a run has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Samples per channel analysed.
    pub samples: u64,
    /// Recording time analysed, seconds from its start.
    pub seconds: f64,
    /// Samples per channel in all, when the source knows.
    pub total_samples: Option<u64>,
    /// Bytes of sample data read so far and in all, when the source counts bytes.
    pub bytes: Option<(u64, u64)>,
}

/// What a front is told while a run goes on, and how it stops one. Every method has a
/// default that does nothing.
pub trait Observer {
    /// Called after each block.
    fn progress(&mut self, _progress: &Progress) {}
    /// A warning about the recording or the settings (the run goes on).
    fn warning(&mut self, _message: &str) {}
    /// Information worth showing (a value chosen from the data).
    fn info(&mut self, _message: &str) {}
    /// Polled between blocks: true stops the run with [`Error::Cancelled`].
    fn cancelled(&self) -> bool {
        false
    }
    /// Each record as the analysis completes it, before the sinks write it (a live view).
    /// Events have no direction yet: the sinks judge it from the samples they hold.
    fn record(&mut self, _record: &Record) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;
impl Observer for Quiet {}

/// Analyse the recording file `input` into the folder `out` and return the summary (also
/// written as summary.json). Without `--strict`, input that is not whole (a COMTRADE data
/// file that ends early, rows missing from an absolute time column) is read as far as it
/// goes: the missing span is a gap, flagged in the tables and listed in summary.json.
pub fn analyze_file(
    input: &Path,
    out: &Path,
    settings: &AnalysisSettings,
    observer: &mut dyn Observer,
) -> Result<serde_json::Value> {
    let valid = settings.validate()?;
    let options = pqe_io::OpenOptions {
        strict: valid.settings.strict,
    };
    let source = pqe_io::open_source(input, &options)
        .with_context(|| format!("cannot read {}", input.display()))?;
    analyze_source(Box::new(source), input, out, &valid, observer)
}

/// Analyse what `reader` yields (named `input` in messages and summary.json) into `out`.
pub fn analyze_reader(
    reader: Box<dyn RecordingReader>,
    input: &Path,
    out: &Path,
    valid: &ValidSettings,
    observer: &mut dyn Observer,
) -> Result<serde_json::Value> {
    let source = pqe_io::FileSource::new(reader);
    analyze_source(Box::new(source), input, out, valid, observer)
}

/// Analyse any [`Source`] — a file, a numpy array, a C caller's pushes, a device — into
/// `out` (named `input` in messages and summary.json). The source's gaps are flagged by the
/// analysis (the intervals they touch) and listed in summary.json (`gaps`); its warnings
/// reach `observer` and the report's notes.
pub fn analyze_source(
    source: Box<dyn Source>,
    input: &Path,
    out: &Path,
    valid: &ValidSettings,
    observer: &mut dyn Observer,
) -> Result<serde_json::Value> {
    let cancel = CancelToken::new();
    let mut blocks = BlockStream::new(source, cancel);
    let info = blocks
        .wait_for_info(observer)
        .map_err(|e| add_context(e, || format!("reading {}", input.display())))?;
    let mut info = info.ok_or_else(|| {
        Error::Other(anyhow::anyhow!(
            "{}: the source ended before it described its channels (no data)",
            input.display()
        ))
    })?;
    let args = &valid.settings;
    let switches = valid.switches;
    crate::roles::apply(&mut info.channels, &args.map)?;
    check_rate(&info, input)?;
    // The first seconds, looked at before the analysis: do the settings fit the data?
    blocks
        .look_ahead((fit::LOOK_AHEAD_SECONDS * info.sample_rate).ceil() as u64)
        .map_err(|e| add_context(e, || format!("analysing {}", input.display())))?;
    let held: Vec<Block> = blocks
        .pending
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Block(b) => Some(b.clone()),
            _ => None,
        })
        .collect();
    let observed = fit::observe(&held, &info.channels, info.sample_rate);
    drop(held);
    let udin = match args.nominal_voltage {
        NominalVoltage::Volts(v) => v,
        NominalVoltage::Auto => {
            let Some(seen) = observed.voltage else {
                return Err(Error::Settings(format!(
                    "--nominal-voltage auto: the first {:.1} s of {} show no voltage to go \
                     by (no voltage channel, or no signal); give --nominal-voltage in volts",
                    observed.seconds,
                    input.display()
                )));
            };
            let chosen = fit::nearest_nominal_voltage(seen, args.wiring);
            let unit_volts = info
                .channels
                .iter()
                .find(|c| c.kind == pqe_core::ChannelKind::Voltage)
                .map_or(1.0, |c| fit::volts_per_unit(&c.unit));
            observer.info(&format!(
                "--nominal-voltage auto: the voltage channels read {seen:.1} V RMS in the \
                 first {:.1} s; Udin = {chosen:.1} V, the nearest standard nominal",
                observed.seconds
            ));
            chosen / unit_volts
        }
    };
    let fit_warnings = fit::warnings(
        &observed,
        valid.nominal_frequency,
        udin * info
            .channels
            .iter()
            .find(|c| c.kind == pqe_core::ChannelKind::Voltage)
            .map_or(1.0, |c| fit::volts_per_unit(&c.unit)),
        info.line_frequency,
    );
    for w in &fit_warnings {
        observer.warning(w);
    }
    let config = valid.system_config(udin)?;
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        config.clone(),
        valid.analyzer.clone(),
    )
    .with_context(|| format!("cannot analyze {}", input.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (supraharmonics, why_off) = SupraharmonicSink::start(
        out,
        &info,
        analyzer.columns(),
        switches.supraharmonics,
        args.format,
    )?;
    if let Some(message) = &why_off {
        observer.info(message);
    }

    let capture_cycles = args.capture_pre_cycles + args.capture_post_cycles;
    let captures = CaptureRecorder::new(
        out,
        &info,
        capture_cycles / config.nominal_frequency.hz(),
        args.max_captures,
    );
    let mut report = ReportCollector::new(
        analyzer.columns(),
        &info.channels,
        &config,
        info.start,
        switches,
    );
    for w in fit_warnings {
        report.note(format!("Settings: {w}."));
    }
    // Limit learning needs a day; a file that is known to be shorter is refused up front
    // (a live source's length is seen at its end, and a short one gets a warning then).
    if let (Some(file), Some(seconds)) = (&valid.metering.learn_limits, info.duration_seconds()) {
        if seconds < pqe_standards::limit_learning::MIN_SECONDS {
            return Err(Error::Settings(format!(
                "--learn-limits {}: limit learning needs a recording of at least 24 h (a \
                 daily load cycle); this one lasts {:.2} h",
                file.display(),
                seconds / 3600.0
            )));
        }
    }
    let outputs = Outputs::new(
        out,
        args.format,
        analyzer.columns().to_vec(),
        args.half_cycle,
        captures,
        report,
    )
    .with_direction(DirectionAssessor::new(
        &info.channels,
        config.wiring,
        info.sample_rate,
        config.nominal_frequency.hz(),
        config.load_current,
    ));
    let mut sinks = Sinks {
        outputs,
        stats: vec![ChannelStatisticsAccumulator::new(); info.channels.len()],
        captures: switches.events,
        supraharmonics,
        metering: Metering::Waiting(Box::new(MeteringStart {
            dir: out.to_path_buf(),
            format: args.format,
            info: info.clone(),
            udin,
            settings: valid.metering.clone(),
            thd_order: args.thd_order,
        })),
    };
    let mut seen = Seen::default();
    let samples = if args.threads == 1 {
        blocks.run_inline(&info, &mut analyzer, &mut sinks, &mut seen, observer)
    } else {
        blocks.run_threaded(&info, &mut analyzer, &mut sinks, &mut seen, observer)
    }
    .map_err(|e| add_context(e, || format!("analysing {}", input.display())))?;
    let Sinks {
        outputs,
        stats: acc,
        supraharmonics,
        metering,
        ..
    } = sinks;
    if let Some(declared) = info.total_samples.filter(|&n| args.strict && samples < n) {
        return Err(Error::Other(anyhow::anyhow!(
            "{}: the recording declares {declared} samples per channel but holds {samples}; \
             refused (--strict)",
            input.display()
        )));
    }
    let stats: Vec<ChannelStatistics> = acc
        .iter()
        .zip(analyzer.columns())
        .zip(&info.channels)
        .map(|((a, col), c)| a.finish(col, c.unit.trim()))
        .collect();
    write_statistics(out, args.format, &stats)?;
    let (mut tables, mut report) = outputs.finish()?;
    for w in &seen.warnings {
        report.note(format!("Input: {w}."));
    }
    for g in &seen.gaps {
        report.note(format!(
            "Gap in the input: {g}; the intervals it touches are flagged."
        ));
    }
    let supraharmonics = supraharmonics.map(SupraharmonicSink::finish).transpose()?;
    if let Some(s) = &supraharmonics {
        tables.files.extend(s.files.iter().cloned());
        s.warnings.iter().for_each(|w| observer.warning(w));
    }
    let metering = match metering {
        Metering::Running(sink) => Some(sink.finish()?),
        Metering::Waiting(_) => None,
    };
    if let Some(m) = &metering {
        tables.files.extend(m.files.iter().cloned());
        m.warnings.iter().for_each(|w| observer.warning(w));
    }
    let duration = samples as f64 / info.sample_rate;
    let compliance_settings = ComplianceSettings {
        ieee519_edition: valid.ieee519_edition,
        short_circuit_current: args.short_circuit_current,
        allow_short_observation: args.allow_short_observation,
    };
    let source = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (mut report_data, compliance) =
        report.finish(&source, duration, info.sample_rate, &compliance_settings)?;
    report_data.supraharmonics = supraharmonics.as_ref().map(|s| s.report.clone());
    report_data.metering = metering.as_ref().map(|m| m.report.clone());
    let path = out.join("report.html");
    std::fs::write(&path, crate::compliance::render(&report_data))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let path = out.join("compliance.json");
    std::fs::write(&path, to_json(&compliance)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut summary = summary_json(&SummaryInputs {
        input,
        config: &config,
        info: &info,
        samples,
        columns: analyzer.columns(),
        stats: &stats,
        tables: &tables,
        switches,
        gaps: &seen.gaps,
    });
    summary["supraharmonics"] = supraharmonics.map_or_else(
        || crate::supraharmonics::not_measured(why_off.as_deref()),
        |s| s.summary,
    );
    summary["metering"] = metering.map_or_else(
        || serde_json::json!({"measured": false, "reason": "no 10/12-cycle interval completed"}),
        |m| m.summary,
    );
    let path = out.join("summary.json");
    std::fs::write(&path, to_json(&summary)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(summary)
}

fn to_json(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// The analysis needs one constant sampling rate.
fn check_rate(info: &RecordingInfo, input: &Path) -> Result<()> {
    if info.sample_rate <= 0.0 || info.rate_segments.len() > 1 {
        return Err(Error::Other(anyhow::anyhow!(
            "{}: the analysis needs one constant sampling rate; this recording is {}",
            input.display(),
            if info.sample_rate <= 0.0 {
                "timed sample by sample (rate 0)".to_string()
            } else {
                format!("sampled at {} rates", info.rate_segments.len())
            }
        )));
    }
    Ok(())
}

fn add_context(e: Error, what: impl FnOnce() -> String) -> Error {
    match e {
        Error::Other(e) => Error::Other(e.context(what())),
        Error::Engine(e) => Error::Other(anyhow::Error::from(e).context(what())),
        other => other,
    }
}

/// What the source said besides its blocks: its warnings and gaps, in stream order.
#[derive(Debug, Default)]
struct Seen {
    warnings: Vec<String>,
    gaps: Vec<Gap>,
}

impl Seen {
    /// Take a non-block event: tell the observer and keep it for the report and summary.
    fn take(&mut self, event: SourceEvent, observer: &mut dyn Observer) {
        match event {
            SourceEvent::Gap(g) => {
                observer.warning(&format!("gap in the input: {g}"));
                self.gaps.push(g);
            }
            SourceEvent::Warning(w) => {
                let text = w.to_string();
                observer.warning(&text);
                self.warnings.push(text);
            }
            SourceEvent::Block(_) => {}
        }
    }
}

/// The source's events, with the ones looked at ahead held until the analysis takes them.
struct BlockStream {
    source: Box<dyn Source>,
    cancel: CancelToken,
    pending: std::collections::VecDeque<SourceEvent>,
}

impl BlockStream {
    fn new(source: Box<dyn Source>, cancel: CancelToken) -> Self {
        BlockStream {
            source,
            cancel,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Read events until the source describes itself (at once for files, with the first
    /// block for live sources); `None` when it ends without doing so.
    fn wait_for_info(&mut self, observer: &mut dyn Observer) -> Result<Option<RecordingInfo>> {
        loop {
            if let Some(info) = self.source.info() {
                return Ok(Some(info.clone()));
            }
            if observer.cancelled() {
                return Err(Error::Cancelled);
            }
            match self.source.next_event(BLOCK_SAMPLES, &self.cancel)? {
                Some(e) => self.pending.push_back(e),
                None => return Ok(None),
            }
        }
    }

    /// Read events until `samples` per channel of blocks are held (or the source ends).
    fn look_ahead(&mut self, samples: u64) -> Result<()> {
        let block_len = |e: &SourceEvent| match e {
            SourceEvent::Block(b) => b.len() as u64,
            _ => 0,
        };
        let mut held: u64 = self.pending.iter().map(block_len).sum();
        while held < samples {
            let Some(event) = self.source.next_event(BLOCK_SAMPLES, &self.cancel)? else {
                break;
            };
            held += block_len(&event);
            self.pending.push_back(event);
        }
        Ok(())
    }

    /// The next event: a held one, else a new one from the source, with the source's
    /// progress in bytes after it.
    fn next(&mut self) -> Result<Option<Item>> {
        let event = match self.pending.pop_front() {
            Some(e) => Some(e),
            None => self.source.next_event(BLOCK_SAMPLES, &self.cancel)?,
        };
        let p = self.source.progress();
        let bytes = p.bytes.zip(p.total_bytes);
        Ok(event.map(|e| match e {
            SourceEvent::Block(b) => Item::Block(Fed {
                block: Arc::new(b),
                bytes,
            }),
            other => Item::Other(other),
        }))
    }

    /// Everything on the calling thread: read a block, analyse it, write its records.
    /// Returns the samples per channel analysed.
    fn run_inline(
        mut self,
        info: &RecordingInfo,
        analyzer: &mut Analyzer,
        sinks: &mut Sinks,
        seen: &mut Seen,
        observer: &mut dyn Observer,
    ) -> Result<u64> {
        let mut samples = 0u64;
        loop {
            if observer.cancelled() {
                return Err(Error::Cancelled);
            }
            let fed = match self.next()? {
                None => break,
                Some(Item::Other(e)) => {
                    seen.take(e, observer);
                    continue;
                }
                Some(Item::Block(fed)) => fed,
            };
            let records = analyse(analyzer, &fed.block)?;
            records.iter().for_each(|r| observer.record(r));
            sinks.take(Some(&fed.block), records)?;
            samples += fed.block.len() as u64;
            observer.progress(&progress(info, samples, fed.bytes));
        }
        analyzer.finish();
        let records: Vec<Record> = analyzer.drain().collect();
        records.iter().for_each(|r| observer.record(r));
        sinks.take(None, records)?;
        Ok(samples)
    }

    /// Three stages on three threads joined by bounded channels: reading and decoding,
    /// analysis (this thread, which also talks to `observer`), and writing (tables,
    /// captures, statistics, the report's collector). Each stage sees the blocks and
    /// records in the same order as [`Self::run_inline`], so the outputs are the same bytes.
    fn run_threaded(
        self,
        info: &RecordingInfo,
        analyzer: &mut Analyzer,
        sinks: &mut Sinks,
        seen: &mut Seen,
        observer: &mut dyn Observer,
    ) -> Result<u64> {
        /// Blocks in flight between two stages: enough to ride out uneven block times,
        /// few enough to keep memory bounded (a block is at most BLOCK_SAMPLES per
        /// channel).
        const IN_FLIGHT: usize = 4;
        let cancel = self.cancel.clone();
        let mut stream = self;
        std::thread::scope(|scope| -> Result<u64> {
            let (block_tx, block_rx) = mpsc::sync_channel::<Result<Item>>(IN_FLIGHT);
            let (record_tx, record_rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
            let reader_cancel = cancel.clone();
            scope.spawn(move || loop {
                if reader_cancel.is_cancelled() {
                    break;
                }
                let item = stream.next().transpose();
                let last = !matches!(item, Some(Ok(_)));
                if let Some(item) = item {
                    if block_tx.send(item).is_err() {
                        break;
                    }
                }
                if last {
                    break;
                }
            });
            let writer = scope.spawn(move || -> Result<()> {
                for (block, records) in record_rx {
                    sinks.take(block.as_ref(), records)?;
                }
                Ok(())
            });
            let analysed = (|| -> Result<u64> {
                let mut samples = 0u64;
                for item in &block_rx {
                    if observer.cancelled() {
                        return Err(Error::Cancelled);
                    }
                    let fed = match item? {
                        Item::Other(e) => {
                            seen.take(e, observer);
                            continue;
                        }
                        Item::Block(fed) => fed,
                    };
                    let records = analyse(analyzer, &fed.block)?;
                    records.iter().for_each(|r| observer.record(r));
                    samples += fed.block.len() as u64;
                    if record_tx
                        .send((Some(Arc::clone(&fed.block)), records))
                        .is_err()
                    {
                        // The writer stopped; its error is reported below.
                        return Ok(samples);
                    }
                    observer.progress(&progress(info, samples, fed.bytes));
                }
                analyzer.finish();
                let records: Vec<Record> = analyzer.drain().collect();
                records.iter().for_each(|r| observer.record(r));
                let _ = record_tx.send((None, records));
                Ok(samples)
            })();
            cancel.cancel();
            drop(block_rx);
            drop(record_tx);
            let written = writer.join().unwrap_or_else(|_| {
                Err(Error::Other(anyhow::anyhow!("the writer thread panicked")))
            });
            let samples = analysed?;
            written?;
            Ok(samples)
        })
    }
}

fn progress(info: &RecordingInfo, samples: u64, bytes: Option<(u64, u64)>) -> Progress {
    Progress {
        samples,
        seconds: samples as f64 / info.sample_rate,
        total_samples: info.total_samples,
        bytes,
    }
}

/// One event of the source as the analysis takes it.
enum Item {
    Block(Fed),
    /// A gap or a warning.
    Other(SourceEvent),
}

/// A block read, with the source's progress in bytes after it.
struct Fed {
    block: Arc<Block>,
    bytes: Option<(u64, u64)>,
}

/// What the analysis hands the writer: the block (for captures and statistics; `None`
/// after the last) and the records it completed.
type Batch = (Option<Arc<Block>>, Vec<Record>);

/// Push one block into the analyzer and take the records it completed.
fn analyse(analyzer: &mut Analyzer, block: &Block) -> Result<Vec<Record>> {
    analyzer.push(block)?;
    Ok(analyzer.drain().collect())
}

/// The writing stage: statistics over the samples, event captures, and the record sinks.
struct Sinks {
    outputs: Outputs,
    stats: Vec<ChannelStatisticsAccumulator>,
    captures: bool,
    supraharmonics: Option<SupraharmonicSink>,
    metering: Metering,
}

/// The meter quantities' sink, started by the first interval record (it takes its columns
/// from it).
enum Metering {
    Waiting(Box<MeteringStart>),
    Running(Box<MeteringSink>),
}

/// What the meter quantities' sink is started with.
struct MeteringStart {
    dir: std::path::PathBuf,
    format: crate::TableFormat,
    info: RecordingInfo,
    udin: f64,
    settings: MeteringSettings,
    thd_order: usize,
}

impl Metering {
    fn push(&mut self, r: &pqe_core::record::IntervalRecord) -> Result<()> {
        if let Metering::Waiting(w) = self {
            let sink = MeteringSink::start(
                &w.dir,
                w.format,
                &w.info,
                w.udin,
                &w.settings,
                w.thd_order,
                r,
            )?;
            *self = Metering::Running(Box::new(sink));
        }
        match self {
            Metering::Running(sink) => sink.push(r),
            Metering::Waiting(_) => Ok(()),
        }
    }
}

impl Sinks {
    /// Take a block (in the order the analyzer was fed) and the records it completed.
    fn take(&mut self, block: Option<&Arc<Block>>, records: Vec<Record>) -> Result<()> {
        if let Some(b) = block {
            for (a, ch) in self.stats.iter_mut().zip(b.channels()) {
                a.push(ch);
            }
            if self.captures {
                self.outputs.captures.push(Arc::clone(b))?;
            }
            if let Some(s) = &mut self.supraharmonics {
                s.push(b)?;
            }
        }
        for r in records {
            if let Record::Interval(interval) = &r {
                self.metering.push(interval)?;
            }
            self.outputs.write(r)?;
        }
        Ok(())
    }
}
