//! Render the HTML report from synthetic data (a day of a three-phase LV supply with
//! harmonics, flicker and events), for the headless-browser check and for a look by eye.
//!
//! ```text
//! cargo run -p pqe-report --example render_report -- OUT.html [HOURS] [STEP_SECONDS] [--lower]
//!     [--supraharmonics]
//! ```
//! HOURS defaults to 24, STEP_SECONDS (spacing of the RMS values) to 3. `--lower` leaves
//! out the trends and spectra, so the events, phasors and compliance sections fit a
//! 1280 × 4000 screenshot (and the empty-section sentences are seen). `--supraharmonics`
//! keeps only the header and the supraharmonics section (spectrograms and band table).

#[path = "../tests/report_support/mod.rs"]
mod support;

use pqe_report::Report;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!(
            "usage: render_report OUT.html [HOURS] [STEP_SECONDS] [--lower] [--supraharmonics]"
        );
        return ExitCode::from(2);
    };
    let hours = args
        .get(1)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(24.0);
    let step = args
        .get(2)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    if !(hours > 0.0 && step > 0.0) {
        eprintln!("HOURS and STEP_SECONDS must be positive");
        return ExitCode::from(2);
    }
    let mut data = support::sample_data(hours, step);
    if args.iter().any(|a| a == "--lower") {
        data.rms_voltage.clear();
        data.rms_current.clear();
        data.frequency.clear();
        data.thd.clear();
        data.pst.clear();
        data.plt.clear();
        data.spectra.clear();
    }
    if args.iter().any(|a| a == "--supraharmonics") {
        // Only the header and the supraharmonics section (spectrograms, band table).
        let supra = data.supraharmonics.take();
        data = pqe_report::ReportData {
            title: data.title,
            recording: data.recording,
            system: data.system,
            supraharmonics: supra,
            ..Default::default()
        };
    }
    let html = Report::render_html(&data);
    if let Err(e) = std::fs::write(out, &html) {
        eprintln!("cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {out} ({} bytes)", html.len());
    ExitCode::SUCCESS
}
