//! `report.html`: one self-contained page (no scripts, no external resources) with the run's
//! verdicts per meter, every point's error against its limit (unverified limits marked as
//! such), the wiring check's phasor diagram as inline SVG and a warning for each wiring finding.

use crate::limits::Verdict;
use crate::run::RunResults;
use crate::run::WiringResult;
use crate::wiring::Phasor;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) => format!("{x:+.digits$}"),
        None => "–".into(),
    }
}

/// The phasor diagram of U1–U3 and I1–I3 (each kind scaled to its largest magnitude) as SVG.
pub fn phasor_svg(w: &WiringResult) -> String {
    let size = 320.0;
    let c = size / 2.0;
    let r = c - 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="phasors" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="phasor diagram of the wiring check"><circle cx="{c}" cy="{c}" r="{r}" fill="none" stroke="#ccc"/><line x1="{x0}" y1="{c}" x2="{x1}" y2="{c}" stroke="#eee"/><line x1="{c}" y1="{x0}" x2="{c}" y2="{x1}" stroke="#eee"/><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>"##,
        x0 = c - r,
        x1 = c + r
    );
    let colours = ["#b5651d", "#222222", "#6a5acd"];
    let draw = |s: &mut String, set: &[Phasor], scale: f64, label: &str, dash: &str| {
        let max = set.iter().map(|p| p.magnitude).fold(0.0, f64::max);
        for (i, p) in set.iter().enumerate() {
            let len = if max > 0.0 {
                scale * r * p.magnitude / max
            } else {
                0.0
            };
            let a = p.angle_deg.to_radians();
            let (x, y) = (c + len * a.cos(), c - len * a.sin());
            let _ = write!(
                s,
                r#"<line class="phasor" data-name="{label}{n}" x1="{c}" y1="{c}" x2="{x:.1}" y2="{y:.1}" stroke="{col}" stroke-width="2.5" stroke-dasharray="{dash}" marker-end="url(#arrow)"/><text x="{tx:.1}" y="{ty:.1}" font-size="13" fill="{col}">{label}{n}</text>"#,
                n = i + 1,
                col = colours[i % 3],
                tx = c + (len + 12.0) * a.cos() - 8.0,
                ty = c - (len + 12.0) * a.sin() + 4.0,
            );
        }
    };
    draw(&mut s, &w.measurement.voltages, 1.0, "U", "");
    draw(&mut s, &w.measurement.currents, 0.6, "I", "5,3");
    s.push_str("</svg>");
    s
}

/// The whole report page.
pub fn render(r: &RunResults) -> String {
    let mut h = String::new();
    let title = format!("Meter test: {}", esc(&r.plan));
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}}
table{{border-collapse:collapse;margin:0.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}}
td.l,th.l{{text-align:left}}.pass{{color:#176317;font-weight:600}}.fail{{color:#b00020;font-weight:600}}
.incomplete{{color:#a65f00;font-weight:600}}.warn{{background:#fff3cd;border:1px solid #e0b000;padding:0.6em 1em;margin:0.5em 0}}
.unverified{{color:#a65f00;font-size:0.85em}}
</style></head><body>
<h1>{title}</h1>
<p>Bench <code>{bench}</code>, started {started} (UTC). Method: {method}. Reference: {reference}.</p>
"#,
        bench = esc(&r.bench),
        started = esc(&r.started),
        method = r.method.describe(),
        reference = esc(&r.reference),
    );
    if !r.complete {
        let _ = write!(
            h,
            r#"<div class="warn" id="fault"><strong>The run did not complete.</strong> {} The points measured before the fault are kept below.</div>"#,
            esc(r.fault.as_deref().unwrap_or("unknown fault"))
        );
    }
    h.push_str("<h2>Wiring check</h2>\n");
    match &r.wiring {
        Some(w) => {
            for f in &w.findings {
                let _ = write!(
                    h,
                    r#"<div class="warn wiring-warning" data-kind="{}"><strong>Wiring: {}</strong> — {}</div>"#,
                    esc(&f.kind),
                    esc(&f.kind),
                    esc(&f.message)
                );
            }
            if w.findings.is_empty() {
                h.push_str(
                    "<p class=\"pass\">Every current lies with its own voltage: wiring right.</p>",
                );
            }
            h.push_str(&phasor_svg(w));
            h.push_str("<table><tr><th class=l>phasor</th><th>magnitude</th><th>angle °</th></tr>");
            for (set, label, unit) in [
                (&w.measurement.voltages, "U", "V"),
                (&w.measurement.currents, "I", "A"),
            ] {
                for (i, p) in set.iter().enumerate() {
                    let _ =
                        write!(
                        h,
                        "<tr><td class=l>{label}{}</td><td>{:.3} {unit}</td><td>{:.1}</td></tr>",
                        i + 1,
                        p.magnitude,
                        // No "-0.0" for an angle that rounds to zero.
                        if p.angle_deg.abs() < 0.05 { 0.0 } else { p.angle_deg }
                    );
                }
            }
            h.push_str("</table>");
        }
        None => h.push_str("<p class=\"fail\">No wiring check was made.</p>"),
    }
    h.push_str("<h2>Meters</h2>\n<table><tr><th class=l>serial</th><th class=l>verdict</th><th>points</th><th>failed</th></tr>");
    for m in &r.meters {
        let failed = m
            .points
            .iter()
            .filter(|p| p.verdict == Verdict::Fail)
            .count();
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td class=\"l {v}\">{v}</td><td>{}</td><td>{failed}</td></tr>",
            esc(&m.serial),
            m.points.len(),
            v = esc(&m.verdict)
        );
    }
    h.push_str("</table>");
    for m in &r.meters {
        let _ = write!(
            h,
            "<h3>Meter {} — <span class=\"{v}\">{v}</span></h3>",
            esc(&m.serial),
            v = esc(&m.verdict)
        );
        h.push_str("<table><tr><th>#</th><th class=l>point</th><th>error %</th><th>± resolution %</th><th>limit ± %</th><th>pulses</th><th class=l>verdict</th><th class=l>limit source</th></tr>");
        for p in &m.points {
            let v = match p.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "fail",
            };
            let limit = match (p.limit, &p.pulses_required) {
                (None, _) if p.kind == "function" => match (p.expected, p.tolerance) {
                    (Some(e), Some(t)) => format!("= {e} ± {t}"),
                    _ => "–".into(),
                },
                (Some(l), _) => format!("{l}"),
                (None, Some(n)) if p.kind == "no-load" => format!("≤ {n} pulse(s)"),
                (None, Some(n)) => format!("≥ {n} pulses"),
                _ => "–".into(),
            };
            let unverified = if p.limit_verified {
                ""
            } else {
                " <span class=\"unverified\">(unverified)</span>"
            };
            let note = p
                .note
                .as_deref()
                .map(|n| format!("<br><small>{}</small>", esc(n)))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=l>{}{note}</td><td>{}</td><td>{}</td><td>{limit}{unverified}</td><td>{}</td><td class=\"l {v}\">{v}</td><td class=l><small>{}</small></td></tr>",
                p.index,
                esc(&p.name),
                num(p.error, 4),
                p.resolution.map(|x| format!("{x:.4}")).unwrap_or_else(|| "–".into()),
                p.pulses,
                esc(&p.limit_source)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<p><small>Limits marked unverified come from secondary sources and were not read from the standard itself; see each row's source.</small></p></body></html>\n");
    h
}
