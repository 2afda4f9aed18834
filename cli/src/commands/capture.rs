//! `pqe capture --source URI --out REC [--duration D]`: record a live source into a
//! recording file (COMTRADE `.cfg`/`.cff`, `.h5`, `.csv`; the extension chooses), with the
//! gaps the source announces marked.
//!
//! A gap is never zeros, never joined. In CSV, whose rows carry their own time, the gap's
//! rows are left out: the reader reports the jump in the time column as a gap, so the
//! recording re-analyses to the tables of the live analysis, gap included. COMTRADE and
//! HDF5 keep one sample clock, so the gap is written as missing samples, the way each
//! format marks a missing value (NaN in float32 COMTRADE and HDF5; the reserved code
//! `0x8000`/`99999` in integer and ASCII COMTRADE since the 1999 revision, IEEE C37.111-1999
//! §7.1); re-analysing such a recording flags the intervals that read them, on the
//! recording's unbroken interval timeline (a live analysis restarts its intervals after a
//! gap, so the flagged rows differ there). The gaps are listed on stderr and in the sidecar
//! `REC.gaps.json`.

use crate::commands::convert::{parse_format, parse_revision};
use crate::commands::devices::{ending, open_live, LiveArgs};
use anyhow::{bail, Context, Result};
use pqe_core::{Block, CancelToken, Source, SourceEvent};
use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
use std::path::PathBuf;

/// The longest gap written as missing samples; a longer one ends the recording (a file of
/// mostly missing samples helps nobody).
const MAX_GAP_SECONDS: f64 = 600.0;

/// Arguments of `pqe capture`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub live: LiveArgs,
    /// The recording to write; its extension chooses the format (.cfg writes .cfg + .dat,
    /// .cff one COMTRADE file, .h5, .csv).
    #[arg(long)]
    pub out: PathBuf,
    /// COMTRADE data format (float32 keeps f32 streams exact).
    #[arg(long, default_value = "float32", value_parser = parse_format)]
    pub comtrade_format: DataFormat,
    /// COMTRADE revision.
    #[arg(long, default_value = "2013", value_parser = parse_revision)]
    pub revision: Revision,
    /// Replace the output if it exists.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// Run `pqe capture`.
pub fn run(args: Args) -> Result<()> {
    if args.live.source.is_none() {
        bail!("give --source URI (the device to record)");
    }
    if args.out.exists() && !args.force {
        bail!("{} exists (use --force to replace it)", args.out.display());
    }
    let mut source = open_live(&args.live)?;
    let outcome = source.outcome();
    let info = source
        .info()
        .cloned()
        .context("the source did not describe its channels")?;
    let options = pqe_io::WriteOptions {
        comtrade: ComtradeWriteOptions {
            format: args.comtrade_format,
            revision: args.revision,
        },
    };
    let mut writer = pqe_io::create(&args.out, &info, options)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    // CSV rows carry their time: a gap is left out there and read back as a gap.
    let rows_carry_time = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let cancel = CancelToken::new();
    let rate = info.sample_rate;
    let mut written: u64 = 0;
    let mut gaps = Vec::new();
    let pb = crate::progress::bar(None, "recording");
    while let Some(event) = source.next_event(pqe_pipeline::BLOCK_SAMPLES, &cancel)? {
        match event {
            SourceEvent::Block(b) => {
                writer.write_block(&b)?;
                written += b.len() as u64;
                pb.set_position(written);
            }
            SourceEvent::Gap(g) => {
                pb.suspend(|| eprintln!("pqe: warning: gap in the input: {g}"));
                let n = g
                    .missing_samples
                    .unwrap_or_else(|| (g.seconds() * rate).round() as u64);
                if g.seconds() > MAX_GAP_SECONDS {
                    pb.suspend(|| {
                        eprintln!(
                            "pqe: warning: the gap is longer than {MAX_GAP_SECONDS} s: the \
                             recording ends before it"
                        )
                    });
                    gaps.push(gap_json(&g, written, 0));
                    break;
                }
                if rows_carry_time {
                    gaps.push(gap_json(&g, written, 0));
                } else {
                    write_missing(writer.as_mut(), &info, g.start, written, n)?;
                    gaps.push(gap_json(&g, written, n));
                    written += n;
                }
            }
            SourceEvent::Warning(w) => pb.suspend(|| eprintln!("pqe: warning: {w}")),
        }
    }
    pb.finish_and_clear();
    writer
        .finish()
        .with_context(|| format!("finishing {}", args.out.display()))?;
    if !gaps.is_empty() {
        let mut side = args.out.clone().into_os_string();
        side.push(".gaps.json");
        let v = serde_json::json!({ "source": pqe_devices::uri::redact(args.live.source.as_deref().unwrap_or_default()), "gaps": gaps });
        std::fs::write(&side, serde_json::to_string_pretty(&v)? + "\n")
            .with_context(|| format!("cannot write {}", PathBuf::from(&side).display()))?;
    }
    let outcome = outcome.lock().unwrap_or_else(|e| e.into_inner());
    let how = ending(&outcome, &args.out)?;
    eprintln!(
        "pqe: recorded {written} samples per channel ({:.3} s, {} gap(s) marked {}; {how}) → {}",
        written as f64 / rate,
        gaps.len(),
        if rows_carry_time {
            "by the rows left out"
        } else {
            "as missing samples"
        },
        args.out.display()
    );
    Ok(())
}

/// Write `n` missing (NaN) samples per channel starting at `start`, the recording's sample
/// `first`, in blocks of bounded size.
fn write_missing(
    writer: &mut dyn pqe_io::RecordingWriter,
    info: &pqe_core::RecordingInfo,
    start: pqe_core::Timestamp,
    first: u64,
    n: u64,
) -> Result<()> {
    let channels = info.channels.len();
    let mut done = 0u64;
    while done < n {
        let len = (n - done).min(pqe_pipeline::BLOCK_SAMPLES as u64) as usize;
        let block = Block::from_planar(
            start.add_seconds(done as f64 / info.sample_rate),
            info.sample_rate,
            first + done,
            channels,
            vec![f64::NAN; channels * len],
        )?;
        if !info.digital_channels.is_empty() {
            bail!(
                "a gap of {n} samples cannot be marked in the {} status channel(s): a status \
                 sample has no missing value (not implemented)",
                info.digital_channels.len()
            );
        }
        writer.write_block(&block)?;
        done += len as u64;
    }
    Ok(())
}

fn gap_json(g: &pqe_core::Gap, first: u64, written: u64) -> serde_json::Value {
    serde_json::json!({
        "start": g.start.to_string(),
        "end": g.end.to_string(),
        "seconds": g.seconds(),
        "first_sample": first,
        "samples_marked_missing": written,
        "reason": g.reason,
    })
}
