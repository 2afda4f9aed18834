//! The supraharmonics section: a spectrogram per channel (band level over time, the
//! 2–9 kHz groups of IEC 61000-4-7 Annex B below the 9–150 kHz bins of IEC 61000-4-30
//! Annex C) and the CENELEC band table with the EN 50065-1 transmit limits and verdicts.

use super::html::{empty, escape, verdict_class};
use super::svg::{c, number, time_axis_title, time_label, time_ticks, Frame, Scale};
use super::{PlcBandRow, Spectrogram, SupraharmonicSection, Verdict};
use std::fmt::Write;

const FRAME: Frame = Frame {
    width: 1100.0,
    height: 380.0,
    left: 70.0,
    right: 110.0,
    top: 16.0,
    bottom: 48.0,
};

/// Dynamic range of the colour scale, dB, in steps of [`STEP_DB`].
const RANGE_DB: f64 = 80.0;
/// Width of one colour step, dB.
const STEP_DB: f64 = 5.0;

/// Colour anchors from the lowest to the highest level (dark blue, teal, green, yellow).
const ANCHORS: [(f64, f64, f64); 4] = [
    (0x1b as f64, 0x1f as f64, 0x4b as f64),
    (0x1f as f64, 0x8a as f64, 0x8a as f64),
    (0x8c as f64, 0xc8 as f64, 0x3f as f64),
    (0xfd as f64, 0xe7 as f64, 0x25 as f64),
];

/// The colour of step `k` of `steps` (0 = lowest).
fn colour(k: usize, steps: usize) -> String {
    let x = k as f64 / (steps.max(2) - 1) as f64 * (ANCHORS.len() - 1) as f64;
    let i = (x.floor() as usize).min(ANCHORS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round().clamp(0.0, 255.0) as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The whole section.
pub fn section(out: &mut String, s: &SupraharmonicSection) {
    out.push_str("<section id=\"supraharmonics\"><h2>Supraharmonics, 2–150 kHz</h2>");
    if s.spectrograms.is_empty() {
        empty(out, "no supraharmonic interval was measured");
    }
    for sg in &s.spectrograms {
        let _ = write!(
            out,
            "<h3>{}</h3><p class=\"caption\">Level per band in {} over time ({}). Rows: \
             the 200-Hz groups 2.1–8.9 kHz (IEC 61000-4-7 Annex B) below the 2-kHz bins \
             10–148 kHz (IEC 61000-4-30 Annex C, maximum of the 0.5-ms windows); the \
             frequency axis changes scale at 9 kHz. Dashed lines: CENELEC band edges.</p>",
            escape(&sg.channel),
            escape(&sg.unit),
            escape(&sg.combine)
        );
        out.push_str(&spectrogram(sg));
    }
    band_table(out, &s.bands);
    for n in &s.notes {
        let _ = write!(out, "<p class=\"caption\">{}</p>", escape(n));
    }
    out.push_str("</section>");
}

/// Fractional row index of frequency `f` among the ascending row centres (clamped).
fn row_position(freqs: &[f64], f: f64) -> f64 {
    if freqs.is_empty() {
        return 0.0;
    }
    if f <= freqs[0] {
        return 0.0;
    }
    for i in 1..freqs.len() {
        if f <= freqs[i] {
            return (i - 1) as f64 + (f - freqs[i - 1]) / (freqs[i] - freqs[i - 1]);
        }
    }
    (freqs.len() - 1) as f64
}

/// One spectrogram as SVG: a rectangle per run of equal colour in each row.
pub fn spectrogram(sg: &Spectrogram) -> String {
    let f = FRAME;
    let rows = sg.frequencies.len();
    let hi = sg
        .levels
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut svg = String::with_capacity(32 * 1024);
    let _ = write!(
        svg,
        "<svg class=\"chart spectrogram\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" \
         role=\"img\" aria-label=\"supraharmonic spectrogram of {}\">",
        f.width,
        f.height,
        f.width,
        f.height,
        escape(&sg.channel)
    );
    let _ = write!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#eceff3\"/>",
        c(f.x0()),
        c(f.y1()),
        c(f.plot_width()),
        c(f.y0() - f.y1())
    );
    if rows == 0 || sg.t.is_empty() || !hi.is_finite() {
        svg.push_str("</svg>");
        return svg;
    }
    let top = (hi / 10.0).ceil() * 10.0;
    let bottom = top - RANGE_DB;
    let steps = (RANGE_DB / STEP_DB) as usize;
    let step_of =
        |v: f64| -> usize { (((v - bottom) / STEP_DB).floor().max(0.0) as usize).min(steps - 1) };
    let t_lo = sg.t[0];
    let t_hi = sg.t[sg.t.len() - 1] + sg.column_seconds;
    let xs = Scale::linear(t_lo, t_hi, f.x0(), f.x1());
    let row_h = (f.y0() - f.y1()) / rows as f64;
    let y_of_row = |r: f64| f.y0() - (r + 0.5) * row_h;
    for r in 0..rows {
        let y = f.y0() - (r as f64 + 1.0) * row_h;
        let mut i = 0;
        while i < sg.t.len() {
            let v = sg.levels[i].get(r).copied().unwrap_or(f64::NAN);
            if !v.is_finite() {
                i += 1;
                continue;
            }
            let k = step_of(v);
            let mut j = i + 1;
            while j < sg.t.len() {
                let w = sg.levels[j].get(r).copied().unwrap_or(f64::NAN);
                let contiguous = (sg.t[j] - sg.t[j - 1] - sg.column_seconds).abs()
                    <= 1e-6 * sg.column_seconds.max(1.0);
                if !w.is_finite() || step_of(w) != k || !contiguous {
                    break;
                }
                j += 1;
            }
            let x0 = xs.px(sg.t[i]);
            let x1 = xs.px(sg.t[j - 1] + sg.column_seconds);
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                c(x0),
                c(y),
                c((x1 - x0).max(0.6)),
                c(row_h + 0.3),
                colour(k, steps)
            );
            i = j;
        }
    }
    // Frequency labels and the change of scale at 9 kHz.
    let labels = [
        2100.0, 5100.0, 8900.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0, 100_000.0, 120_000.0,
        148_000.0,
    ];
    for l in labels {
        if l < sg.frequencies[0] || l > sg.frequencies[rows - 1] {
            continue;
        }
        let y = y_of_row(row_position(&sg.frequencies, l));
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}</text>\
             <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>",
            c(f.x0() - 7.0),
            c(y + 4.0),
            number(l / 1000.0),
            c(f.x0() - 4.0),
            c(y),
            c(f.x0()),
            c(y)
        );
    }
    for r in 1..rows {
        let below = sg.frequencies[r - 1] - if r >= 2 { sg.frequencies[r - 2] } else { 0.0 };
        let step = sg.frequencies[r] - sg.frequencies[r - 1];
        if r >= 2 && (step - below).abs() > 0.5 * below {
            let y = f.y0() - r as f64 * row_h;
            let _ = write!(
                svg,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#fff\" \
                 stroke-width=\"1.5\"/>",
                c(f.x0()),
                c(y),
                c(f.x1()),
                c(y)
            );
        }
    }
    for (edge, name) in [
        (95_000.0, "A | B"),
        (125_000.0, "B | C"),
        (140_000.0, "C | D"),
    ] {
        if edge <= sg.frequencies[0] || edge >= sg.frequencies[rows - 1] {
            continue;
        }
        let y = y_of_row(row_position(&sg.frequencies, edge));
        let _ = write!(
            svg,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#fff\" \
             stroke-dasharray=\"5 4\" stroke-opacity=\"0.8\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#333\">{}</text>",
            c(f.x0()),
            c(y),
            c(f.x1()),
            c(y),
            c(f.x1() + 4.0),
            c(y + 3.5),
            name
        );
    }
    let _ = write!(
        svg,
        "<text x=\"14\" y=\"{}\" font-size=\"12\" fill=\"#333\" \
         transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">frequency (kHz)</text>",
        c((f.y0() + f.y1()) / 2.0),
        c((f.y0() + f.y1()) / 2.0)
    );
    // Time axis.
    let span = t_hi - t_lo;
    for t in time_ticks(t_lo, t_hi, 8) {
        let x = xs.px(t);
        let _ = write!(
            svg,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            c(x),
            c(f.y0()),
            c(x),
            c(f.y0() + 4.0),
            c(x),
            c(f.y0() + 17.0),
            escape(&time_label(t, span))
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
        c((f.x0() + f.x1()) / 2.0),
        c(f.height - 8.0),
        time_axis_title(span)
    );
    // Colour legend.
    let lx = f.x1() + 44.0;
    let lh = (f.y0() - f.y1()) / steps as f64;
    for k in 0..steps {
        let y = f.y0() - (k as f64 + 1.0) * lh;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"{}\" fill=\"{}\"/>",
            c(lx),
            c(y),
            c(lh + 0.3),
            colour(k, steps)
        );
    }
    for k in (0..=steps).step_by(4) {
        let y = f.y0() - k as f64 * lh;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#333\">{}</text>",
            c(lx + 18.0),
            c(y + 3.5),
            number(bottom + k as f64 * STEP_DB)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#333\">{}</text></svg>",
        c(lx - 4.0),
        c(f.y1() - 4.0),
        escape(&sg.unit)
    );
    svg
}

fn db_text(v: f64) -> String {
    if v.is_finite() {
        format!("{} dBµV", number(v))
    } else {
        "–".into()
    }
}

/// The CENELEC band table.
fn band_table(out: &mut String, rows: &[PlcBandRow]) {
    out.push_str("<h3>CENELEC bands (EN 50065-1)</h3>");
    if rows.is_empty() {
        empty(
            out,
            "no CENELEC band measured (needs a voltage channel sampled at 300 kHz or more)",
        );
        return;
    }
    out.push_str(
        "<p class=\"caption\">Per voltage channel and band: the highest 0.2-s level while a \
         transmitter was active (RMS over the active 5-ms windows), the largest 5-ms window, \
         the share of windows active, the PLC systems recognised and the strongest carriers, \
         against the EN 50065-1 maximum transmitter output. EN 50065-1 measures across an \
         artificial mains network; a level at supply terminals is an indication, not a \
         conformity test. Limits marked unverified were not seen in the standard's text.</p>",
    );
    out.push_str(
        "<table class=\"bands\"><thead><tr><th>channel</th><th>band</th>\
         <th class=\"num\">level while active</th><th class=\"num\">peak 5 ms</th>\
         <th class=\"num\">active</th><th>signal</th><th>carriers</th><th>limit</th>\
         <th>verdict</th></tr></thead><tbody>",
    );
    for r in rows {
        let limit = format!(
            "{} dBµV{}",
            number(r.limit_dbuv),
            if r.limit_verified {
                ""
            } else {
                " (unverified)"
            }
        );
        let verdict = if r.level_dbuv.is_finite() {
            r.verdict
        } else {
            Verdict::Info
        };
        let verdict_text = if r.level_dbuv.is_finite() {
            r.verdict.as_str().to_string()
        } else {
            "no transmission".to_string()
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} <span class=\"rownote\">{}</span></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} %</td>\
             <td>{}</td><td>{}</td><td>{}<div class=\"rownote\">{}</div></td>\
             <td class=\"verdict {}\">{}</td></tr>",
            escape(&r.channel),
            escape(&r.band),
            escape(&r.range),
            db_text(r.level_dbuv),
            db_text(r.peak_dbuv),
            number(r.active_percent),
            escape(if r.signal.is_empty() {
                "–"
            } else {
                &r.signal
            }),
            escape(if r.carriers.is_empty() {
                "–"
            } else {
                &r.carriers
            }),
            escape(&limit),
            escape(&r.limit_source),
            verdict_class(verdict),
            escape(&verdict_text)
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_dark_to_light() {
        assert_eq!(colour(0, 16), "#1b1f4b");
        assert_eq!(colour(15, 16), "#fde725");
    }

    #[test]
    fn rows_are_found_between_centres() {
        let f = [2100.0, 2300.0, 10_000.0, 12_000.0];
        assert_eq!(row_position(&f, 2200.0), 0.5);
        assert_eq!(row_position(&f, 11_000.0), 2.5);
        assert_eq!(row_position(&f, 1.0), 0.0);
        assert_eq!(row_position(&f, 1e6), 3.0);
    }
}
