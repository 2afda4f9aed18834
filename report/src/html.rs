//! The HTML page: escaping, the stylesheet and the sections in order. The output is also
//! well-formed XML apart from the doctype (void elements self-closed, numeric character
//! references only), so a strict parser can check it.

use super::charts::{self, RefLine, Trend};
use super::svg::number;
use super::{ComplianceTable, CountTable, EventRow, Phasor, ReportData, Series, Spectrum, Verdict};
use std::fmt::Write;

/// Escape text for HTML and SVG content and attribute values: `& < > " '`. Control
/// characters other than tab, newline and carriage return become U+FFFD so the output stays
/// valid.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Events listed in the table at most (the scatter shows all).
const MAX_EVENT_ROWS: usize = 1000;

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5b6472; --line: #d9dde3; --pass: #1e7d45; --pass-bg: #e3f4e9;
  --fail: #b3261e; --fail-bg: #fbe4e2; --na: #5b6472; --na-bg: #eceef1; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
header { border-bottom: 3px solid var(--ink); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 2px; letter-spacing: -0.01em; }
.sub { color: var(--muted); margin: 0 0 14px; }
h2 { font-size: 21px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 4px; }
dl.facts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 6px 24px; margin: 0; }
dl.facts div { border-left: 3px solid var(--line); padding: 2px 10px; }
dl.facts dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.badges { margin: 14px 0 0; display: flex; flex-wrap: wrap; gap: 8px; }
.badge { display: inline-block; padding: 3px 10px; border-radius: 12px; font-size: 13px; font-weight: 600; }
nav { margin: 10px 0 0; font-size: 14px; }
nav a { color: #1f5fbf; margin-right: 14px; text-decoration: none; }
.chart { display: block; max-width: 100%; height: auto; font-size: 12px; }
.chart .tick { fill: #333; font-size: 12px; }
.chart .axis { fill: #222; font-size: 13px; font-weight: 600; }
.chart .legend { fill: #222; font-size: 12.5px; }
.chart .note { fill: #777; font-size: 12px; font-style: italic; }
.chart .plabel { font-size: 13px; font-weight: 700; }
.empty { color: var(--muted); font-style: italic; background: #f7f8fa; border: 1px dashed var(--line);
  padding: 10px 14px; border-radius: 4px; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #b8bec7; }
.verdict { font-weight: 700; text-transform: uppercase; font-size: 12px; letter-spacing: 0.03em; white-space: nowrap; }
.v-pass { color: var(--pass); background: var(--pass-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-not-assessed { color: var(--na); background: var(--na-bg); }
.v-info { color: var(--ink); background: #fff; }
.rownote { color: var(--muted); font-size: 12px; }
.phasors { display: flex; gap: 28px; align-items: flex-start; flex-wrap: wrap; }
.phasors table { width: auto; min-width: 320px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
"#;

/// The whole document.
pub fn render(data: &ReportData) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = if data.title.trim().is_empty() {
        "Power-quality report"
    } else {
        data.title.trim()
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    );
    header(&mut out, title, data);
    trends(&mut out, data);
    flicker(&mut out, data);
    spectra(&mut out, &data.spectra, data.is_off("harmonics"));
    events(
        &mut out,
        &data.events,
        &data.event_tables,
        data.is_off("events"),
    );
    phasors(&mut out, &data.phasors);
    compliance(&mut out, &data.compliance);
    if let Some(section) = &data.supraharmonics {
        crate::supraharmonics::section(&mut out, section);
    }
    if let Some(section) = &data.metering {
        crate::metering::section(&mut out, section);
    }
    if !data.notes.is_empty() {
        out.push_str("<section id=\"notes\"><h2>Notes</h2><ul>");
        for n in &data.notes {
            let _ = write!(out, "<li>{}</li>", escape(n));
        }
        out.push_str("</ul></section>");
    }
    out.push_str(
        "<footer>Generated by PQE. Self-contained: inline styles and SVG, no scripts, \
         nothing fetched. Flagged values (IEC 61000-4-30 4.7) are shaded in the trends and \
         left out of the EN 50160 statistics.</footer></main></body></html>\n",
    );
    out
}

pub(crate) fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "v-pass",
        Verdict::Fail => "v-fail",
        Verdict::NotAssessed => "v-not-assessed",
        Verdict::Info => "v-info",
    }
}

fn header(out: &mut String, title: &str, data: &ReportData) {
    let _ = write!(
        out,
        "<header><h1>{}</h1><p class=\"sub\">Power-quality analysis: IEC 61000-4-30 \
         measurements, EN 50160 and IEEE 519 assessments</p><dl class=\"facts\">",
        escape(title)
    );
    let r = &data.recording;
    let s = &data.system;
    let mut facts: Vec<(String, String)> = Vec::new();
    if !r.source.is_empty() {
        facts.push(("Recording".into(), r.source.clone()));
    }
    if !r.start.is_empty() {
        facts.push(("Start".into(), r.start.clone()));
    }
    if let Some(d) = r.duration_seconds {
        facts.push(("Duration".into(), duration_text(d)));
    }
    if let Some(fs) = r.sample_rate {
        facts.push(("Sample rate".into(), format!("{} Hz", number(fs))));
    }
    facts.push(("Udin".into(), format!("{} V", number(s.udin))));
    facts.push((
        "Nominal frequency".into(),
        format!("{} Hz", number(s.nominal_frequency)),
    ));
    if !s.wiring.is_empty() {
        facts.push(("Wiring".into(), s.wiring.clone()));
    }
    if let Some(il) = s.load_current {
        facts.push(("I_L (max demand)".into(), format!("{} A", number(il))));
    }
    if !r.channels.is_empty() {
        facts.push(("Channels".into(), r.channels.join(", ")));
    }
    let mut counts = [0usize; 4];
    for e in &data.events {
        match e.kind.to_ascii_lowercase().as_str() {
            "dip" => counts[0] += 1,
            "swell" => counts[1] += 1,
            "interruption" => counts[2] += 1,
            _ => counts[3] += 1,
        }
    }
    facts.push((
        "Events".into(),
        if data.events.is_empty() {
            "none".to_string()
        } else {
            [
                (counts[0], "dip", "dips"),
                (counts[1], "swell", "swells"),
                (counts[2], "interruption", "interruptions"),
                (counts[3], "other (RVC)", "others (RVC)"),
            ]
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ")
        },
    ));
    facts.extend(r.extra.iter().cloned());
    for (k, v) in &facts {
        let _ = write!(
            out,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(k),
            escape(v)
        );
    }
    out.push_str("</dl>");
    if !data.compliance.is_empty() {
        out.push_str("<div class=\"badges\">");
        for t in &data.compliance {
            let _ = write!(
                out,
                "<span class=\"badge {}\">{}: {}</span>",
                verdict_class(t.overall),
                escape(&t.title),
                t.overall.as_str()
            );
        }
        out.push_str("</div>");
    }
    out.push_str(
        "<nav><a href=\"#trends\">Trends</a><a href=\"#flicker\">Flicker</a>\
         <a href=\"#harmonics\">Harmonics</a><a href=\"#events\">Events</a>\
         <a href=\"#phasors\">Phasors</a><a href=\"#compliance\">Compliance</a>",
    );
    if data.supraharmonics.is_some() {
        out.push_str("<a href=\"#supraharmonics\">Supraharmonics</a>");
    }
    if data.metering.is_some() {
        out.push_str("<a href=\"#metering\">Energy and demand</a>");
    }
    out.push_str("</nav></header>");
}

fn duration_text(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "unknown".into();
    }
    let s = seconds.round() as i64;
    let (d, h, m, sec) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60, s % 60);
    let clock = if d > 0 {
        format!("{d} d {h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    };
    format!("{clock} ({} s)", number(seconds))
}

pub(crate) fn empty(out: &mut String, text: &str) {
    let _ = write!(out, "<p class=\"empty\">{}</p>", escape(text));
}

/// One trend chart with its heading, or a sentence when there is nothing to draw.
fn trend_block(
    out: &mut String,
    heading: &str,
    series: &[Series],
    y_title: &str,
    lines: Vec<RefLine>,
    when_empty: &str,
) {
    let _ = write!(out, "<h3>{}</h3>", escape(heading));
    let present: Vec<&Series> = series.iter().filter(|s| !s.is_empty()).collect();
    if present.is_empty() {
        empty(out, when_empty);
        return;
    }
    // A trend needs two points in time; fewer would draw an empty axis.
    let points: Vec<(f64, f64, bool)> = present
        .iter()
        .flat_map(|s| {
            s.t.iter()
                .zip(&s.values)
                .enumerate()
                .filter(|(_, (t, v))| t.is_finite() && v.is_finite())
                .map(|(i, (t, v))| (*t, *v, s.is_flagged(i)))
        })
        .collect();
    let first_t = points.first().map(|p| p.0);
    if points.iter().all(|p| Some(p.0) == first_t) {
        let listed: Vec<String> = present
            .iter()
            .flat_map(|s| {
                s.t.iter()
                    .zip(&s.values)
                    .enumerate()
                    .filter(|(_, (t, v))| t.is_finite() && v.is_finite())
                    .map(|(i, (_, v))| {
                        format!(
                            "{} = {}{}",
                            s.name,
                            number(*v),
                            if s.is_flagged(i) { " (flagged)" } else { "" }
                        )
                    })
            })
            .collect();
        let text = match first_t {
            None => format!("{heading}: no value to draw (every value is missing)."),
            Some(t) => format!(
                "{heading}: values at one time only ({} s from the start: {}), too few to \
                 draw a trend; the recording is shorter than two of their periods.",
                number(t),
                listed.join(", ")
            ),
        };
        empty(out, &text);
        return;
    }
    let svg = charts::trend(&Trend {
        series: &present,
        y_title: y_title.to_string(),
        lines,
    });
    if svg.is_empty() {
        empty(out, when_empty);
    } else {
        out.push_str(&svg);
    }
}

fn unit_of(series: &[Series], fallback: &str) -> String {
    series
        .iter()
        .map(|s| s.unit.trim())
        .find(|u| !u.is_empty())
        .unwrap_or(fallback)
        .to_string()
}

fn trends(out: &mut String, data: &ReportData) {
    out.push_str("<section id=\"trends\"><h2>Trends</h2>");
    let _ = write!(
        out,
        "<p class=\"caption\">Shaded: flagged intervals (a dip, swell or interruption, a gap \
         or missing samples). Dashed red: EN 50160 limits. Series longer than the chart \
         is wide are drawn as the minimum–maximum envelope of each pixel column.</p>"
    );
    let s = &data.system;
    let u = s.udin;
    let vu = unit_of(&data.rms_voltage, "V");
    trend_block(
        out,
        "RMS voltage",
        &data.rms_voltage,
        &format!("RMS voltage ({vu})"),
        vec![
            RefLine {
                value: u * 0.9,
                label: format!("Udin ±10 %: {}–{} V", number(u * 0.9), number(u * 1.1)),
            },
            RefLine {
                value: u * 1.1,
                label: String::new(),
            },
        ],
        "no RMS voltage values",
    );
    if !data.rms_current.is_empty() {
        let iu = unit_of(&data.rms_current, "A");
        let mut lines = Vec::new();
        if let Some(il) = s.load_current {
            lines.push(RefLine {
                value: il,
                label: format!("I_L = {} A", number(il)),
            });
        }
        trend_block(
            out,
            "RMS current",
            &data.rms_current,
            &format!("RMS current ({iu})"),
            lines,
            "no RMS current values",
        );
    }
    let fnom = s.nominal_frequency;
    trend_block(
        out,
        "Frequency (10-s values)",
        &data.frequency,
        "frequency (Hz)",
        vec![
            RefLine {
                value: fnom * 0.99,
                label: format!("f ±1 %: {}–{} Hz", number(fnom * 0.99), number(fnom * 1.01)),
            },
            RefLine {
                value: fnom * 1.01,
                label: String::new(),
            },
        ],
        "no frequency values (recording shorter than 10 s, or no fundamental tracked)",
    );
    trend_block(
        out,
        "Total harmonic distortion",
        &data.thd,
        "THD (%)",
        vec![RefLine {
            value: 8.0,
            label: "THD 8 %".to_string(),
        }],
        if data.is_off("harmonics") {
            "harmonics switched off (--no-harmonics): no THD computed"
        } else {
            "no THD values (harmonics not computed, or no interval long enough)"
        },
    );
    out.push_str("</section>");
}

fn flicker(out: &mut String, data: &ReportData) {
    out.push_str("<section id=\"flicker\"><h2>Flicker</h2>");
    if data.is_off("flicker") {
        empty(
            out,
            "flicker switched off (--no-flicker): no Pst or Plt computed",
        );
        out.push_str("</section>");
        return;
    }
    trend_block(
        out,
        "Short-term flicker severity Pst (10 min)",
        &data.pst,
        "Pst",
        vec![RefLine {
            value: 1.0,
            label: "Pst = 1".to_string(),
        }],
        "recording shorter than 10 min: no Pst",
    );
    trend_block(
        out,
        "Long-term flicker severity Plt (2 h)",
        &data.plt,
        "Plt",
        vec![RefLine {
            value: 1.0,
            label: "Plt = 1 (EN 50160 4.2.3.2)".to_string(),
        }],
        "recording shorter than 2 h: no Plt",
    );
    out.push_str("</section>");
}

fn spectra(out: &mut String, spectra: &[Spectrum], switched_off: bool) {
    out.push_str("<section id=\"harmonics\"><h2>Harmonic spectrum</h2>");
    if switched_off {
        empty(
            out,
            "harmonics switched off (--no-harmonics): no spectra computed",
        );
    } else if spectra.is_empty() {
        empty(out, "no harmonic spectra (harmonics not computed)");
    } else {
        out.push_str(
            "<p class=\"caption\">Per order: mean (light) and 95th percentile (dark) over the \
             recording; black marks are the limits; bars above their limit are red.</p>",
        );
    }
    for s in spectra {
        let _ = write!(out, "<h3>{}</h3>", escape(&s.channel));
        let svg = charts::spectrum(s);
        if svg.is_empty() {
            empty(out, "no harmonic values for this channel");
        } else {
            out.push_str(&svg);
        }
    }
    out.push_str("</section>");
}

fn events(out: &mut String, events: &[EventRow], tables: &[CountTable], switched_off: bool) {
    out.push_str("<section id=\"events\"><h2>Events</h2>");
    if switched_off {
        empty(
            out,
            "events switched off (--no-events): dips, swells, interruptions and RVCs were \
             not detected",
        );
    } else if events.is_empty() {
        empty(
            out,
            "no events: no dip, swell, interruption or RVC was detected",
        );
    } else {
        out.push_str(
            "<h3>ITIC (CBEMA) and SEMI F47</h3><p class=\"caption\">Each event at its \
             duration and its residual (dips, interruptions) or peak (swells) voltage in % \
             of Udin. Events below the ITIC lower curve or the SEMI F47 line may trip \
             equipment built to those curves.</p>",
        );
        out.push_str(&charts::itic(events));
        let mut sorted: Vec<&EventRow> = events.iter().collect();
        sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
        // The absolute start column only when some event has one.
        let with_text = sorted.iter().any(|e| !e.start_text.is_empty());
        // The direction column only when the recording had currents to judge it.
        let with_direction = sorted.iter().any(|e| !e.direction.is_empty());
        let _ = write!(
            out,
            "<h3>Event list</h3><table><thead><tr><th class=\"num\">#</th><th>kind</th>\
             <th class=\"num\">start (s)</th>{}<th class=\"num\">duration (s)</th>\
             <th class=\"num\">extreme (% of Udin)</th><th>phases</th>{}</tr></thead>\
             <tbody>",
            if with_text { "<th>start</th>" } else { "" },
            if with_direction {
                "<th title=\"upstream: on the supply side of the measuring point; \
                 downstream: on the load side\">direction</th>"
            } else {
                ""
            }
        );
        for (i, e) in sorted.iter().take(MAX_EVENT_ROWS).enumerate() {
            let text = if with_text {
                format!("<td>{}</td>", escape(&e.start_text))
            } else {
                String::new()
            };
            let direction = if with_direction {
                format!("<td>{}</td>", escape(&e.direction))
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>{text}\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>{direction}</tr>",
                i + 1,
                escape(&e.kind),
                number(e.start),
                number(e.duration),
                number(e.extreme_percent),
                escape(&e.phases)
            );
        }
        out.push_str("</tbody></table>");
        if sorted.len() > MAX_EVENT_ROWS {
            let _ = write!(
                out,
                "<p class=\"caption\">The first {MAX_EVENT_ROWS} of {} events are listed; \
                 the scatter shows them all.</p>",
                sorted.len()
            );
        }
    }
    for t in tables {
        count_table(out, t);
    }
    out.push_str("</section>");
}

fn count_table(out: &mut String, t: &CountTable) {
    let _ = write!(
        out,
        "<h3>{}</h3><table><thead><tr><th>{}</th>",
        escape(&t.title),
        escape(&t.corner)
    );
    for col in &t.columns {
        let _ = write!(out, "<th class=\"num\">{}</th>", escape(col));
    }
    out.push_str("</tr></thead><tbody>");
    for (i, row) in t.rows.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", escape(row));
        for j in 0..t.columns.len() {
            let n = t.counts.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
            let class = if n == 0 { "num zero" } else { "num" };
            let _ = write!(out, "<td class=\"{class}\">{n}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if !t.note.is_empty() {
        let _ = write!(out, "<p class=\"caption\">{}</p>", escape(&t.note));
    }
}

fn phasors(out: &mut String, list: &[Phasor]) {
    out.push_str("<section id=\"phasors\"><h2>Phasors</h2>");
    let usable: Vec<&Phasor> = list
        .iter()
        .filter(|p| p.magnitude.is_finite() && p.angle_degrees.is_finite())
        .collect();
    if usable.is_empty() {
        empty(out, "no fundamental phasors");
        out.push_str("</section>");
        return;
    }
    out.push_str(
        "<p class=\"caption\">Fundamental phasors, angles counter-clockwise from U_A. \
         Voltages (solid) are scaled to the largest voltage, currents (dashed, shorter) to \
         the largest current.</p><div class=\"phasors\">",
    );
    let owned: Vec<Phasor> = usable.iter().map(|p| (*p).clone()).collect();
    out.push_str(&charts::phasors(&owned));
    out.push_str(
        "<table><thead><tr><th>channel</th><th>magnitude</th><th>angle</th></tr></thead><tbody>",
    );
    for p in &usable {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{} {}</td><td class=\"num\">{}°</td></tr>",
            escape(&p.channel),
            number(p.magnitude),
            escape(&p.unit),
            number(p.angle_degrees)
        );
    }
    out.push_str("</tbody></table></div></section>");
}

fn compliance(out: &mut String, tables: &[ComplianceTable]) {
    out.push_str("<section id=\"compliance\"><h2>Compliance</h2>");
    if tables.is_empty() {
        empty(out, "no compliance assessment");
    }
    for t in tables {
        let _ = write!(
            out,
            "<h3>{} <span class=\"badge {}\">{}</span></h3>",
            escape(&t.title),
            verdict_class(t.overall),
            t.overall.as_str()
        );
        for n in &t.notes {
            let _ = write!(out, "<p class=\"caption\">{}</p>", escape(n));
        }
        if t.rows.is_empty() {
            empty(out, "no criteria could be evaluated");
            continue;
        }
        out.push_str(
            "<table><thead><tr><th>criterion</th><th>limit</th><th>measured</th>\
             <th>required</th><th>verdict</th></tr></thead><tbody>",
        );
        for r in &t.rows {
            let note = if r.note.is_empty() {
                String::new()
            } else {
                format!("<div class=\"rownote\">{}</div>", escape(&r.note))
            };
            let _ = write!(
                out,
                "<tr><td>{}{note}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"verdict {}\">{}</td></tr>",
                escape(&r.criterion),
                escape(&r.limit),
                escape(&r.measured),
                escape(&r.required),
                verdict_class(r.verdict),
                r.verdict.as_str()
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}
