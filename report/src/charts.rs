//! The report's charts, drawn as inline SVG: time trends, harmonic spectrum bars, the
//! ITIC (CBEMA) / SEMI F47 event scatter and the phasor diagram.

use super::html::escape;
use super::svg::{self, c, envelope, nice_ticks, number, path_with_gaps, Frame, Scale};
use super::{EventRow, Phasor, Series, Spectrum};
use std::fmt::Write;

/// Series colours, in order (colour-blind-safe-ish, distinct in print).
const PALETTE: [&str; 8] = [
    "#1f5fbf", "#d1495b", "#2a9d57", "#8e5bc2", "#e08a1e", "#1aa3b3", "#8c564b", "#c2417e",
];

/// The colour of a channel: by its phase suffix when it has one (A, B, C, N; AB, BC, CA),
/// else by its position.
pub fn channel_colour(name: &str, index: usize) -> &'static str {
    let upper = name.to_ascii_uppercase();
    let suffix = upper.rsplit('_').next().unwrap_or("");
    let by_phase = match suffix {
        "A" | "AB" | "L1" | "1" => Some(0),
        "B" | "BC" | "L2" | "2" => Some(1),
        "C" | "CA" | "L3" | "3" => Some(2),
        "N" => Some(3),
        _ => None,
    };
    PALETTE[by_phase.unwrap_or(index) % PALETTE.len()]
}

/// A horizontal reference line on a trend (e.g. a limit).
pub struct RefLine {
    pub value: f64,
    pub label: String,
}

/// Everything a trend chart needs.
pub struct Trend<'a> {
    pub series: &'a [&'a Series],
    pub y_title: String,
    pub lines: Vec<RefLine>,
}

const TREND_FRAME: Frame = Frame {
    width: 1100.0,
    height: 300.0,
    left: 70.0,
    right: 20.0,
    top: 34.0,
    bottom: 48.0,
};

/// A time trend of one or more series, with flagged stretches shaded and reference lines
/// dashed. Long series are drawn as min/max envelopes per pixel column.
pub fn trend(spec: &Trend<'_>) -> String {
    let f = TREND_FRAME;
    let (mut t_lo, mut t_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut v_lo, mut v_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    // Flagged values (IEC 61000-4-30 4.7: a dip, an interruption, a gap) do not set the
    // scale: one interruption's 1,000 % THD would flatten an hour of 3 % values. They are
    // drawn clipped to the frame and marked; the scale falls back to them only when every
    // value is flagged.
    let (mut f_lo, mut f_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in spec.series {
        for (i, (t, v)) in s.t.iter().zip(&s.values).enumerate() {
            if t.is_finite() {
                t_lo = t_lo.min(*t);
                t_hi = t_hi.max(*t);
            }
            if v.is_finite() && t.is_finite() {
                if s.is_flagged(i) {
                    f_lo = f_lo.min(*v);
                    f_hi = f_hi.max(*v);
                } else {
                    v_lo = v_lo.min(*v);
                    v_hi = v_hi.max(*v);
                }
            }
        }
    }
    if !v_lo.is_finite() {
        (v_lo, v_hi) = (f_lo, f_hi);
    }
    if !(t_lo.is_finite() && v_lo.is_finite()) {
        return String::new();
    }
    if t_hi <= t_lo {
        t_hi = t_lo + 1.0;
    }
    // Reference lines close to the data widen the range so they are seen; far ones do not
    // squash the data (they are listed in the legend either way).
    let span = (v_hi - v_lo).max(v_hi.abs() * 0.02).max(1e-9);
    for line in &spec.lines {
        if line.value.is_finite()
            && line.value >= v_lo - 1.5 * span
            && line.value <= v_hi + 1.5 * span
        {
            v_lo = v_lo.min(line.value);
            v_hi = v_hi.max(line.value);
        }
    }
    let (y_lo, y_hi, y_ticks) = nice_ticks(v_lo, v_hi, 5);
    let xs = Scale::linear(t_lo, t_hi, f.x0(), f.x1());
    let ys = Scale::linear(y_lo, y_hi, f.y0(), f.y1());
    let mut out = svg_open(f.width, f.height, "trend");
    // Flagged stretches, merged over all series and pixel columns.
    let shaded = flagged_spans(spec.series, &xs);
    for (a, b) in &shaded {
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#f6d7a7" opacity="0.7"/>"##,
            c(*a),
            c(f.y1()),
            c((b - a).max(2.0)),
            c(f.y0() - f.y1())
        );
    }
    grid_y(&mut out, &f, &ys, &y_ticks);
    let x_ticks = svg::time_ticks(t_lo, t_hi, 8);
    let tspan = t_hi - t_lo;
    for t in &x_ticks {
        let x = xs.px(*t);
        // Labels at the plot's ends stay inside the picture.
        let anchor = if x > f.x1() - 30.0 {
            "end"
        } else if x < f.x0() + 20.0 && x > f.x0() + 1.0 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y5}" stroke="#555"/><text x="{x}" y="{yl}" text-anchor="{anchor}" class="tick">{label}</text>"##,
            x = c(x),
            y0 = c(f.y0()),
            y5 = c(f.y0() + 5.0),
            yl = c(f.y0() + 18.0),
            label = escape(&svg::time_label(*t, tspan))
        );
    }
    axes(&mut out, &f, &spec.y_title, svg::time_axis_title(tspan));
    for line in &spec.lines {
        if line.value.is_finite() && line.value >= y_lo && line.value <= y_hi {
            let y = ys.px(line.value);
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#b22" stroke-width="1.2" stroke-dasharray="6 4"><title>{}</title></line>"##,
                c(f.x0()),
                c(f.x1()),
                escape(&line.label),
                y = c(y)
            );
        }
    }
    // The series.
    let columns = f.plot_width().ceil() as usize;
    let mut off_scale = false;
    for (i, s) in spec.series.iter().enumerate() {
        let colour = channel_colour(&s.name, i);
        let clipped = clip_to(s, y_lo, y_hi);
        let pts = series_points(clipped.as_ref().unwrap_or(s), &xs, &ys, columns, f.x0());
        let _ = write!(
            out,
            r##"<path d="{}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-linejoin="round"><title>{}</title></path>"##,
            pts,
            escape(&s.name)
        );
        off_scale |= off_scale_marks(&mut out, s, &xs, &f, y_lo, y_hi, colour);
    }
    // Legend along the top.
    let mut x = f.x0();
    for (i, s) in spec.series.iter().enumerate() {
        let colour = channel_colour(&s.name, i);
        legend_line(&mut out, &mut x, colour, "", &s.name);
    }
    if !spec.lines.is_empty() {
        let text = spec
            .lines
            .iter()
            .map(|l| l.label.as_str())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        legend_line(&mut out, &mut x, "#b22", "6 4", &text);
    }
    if !shaded.is_empty() {
        let _ = write!(
            out,
            r##"<rect x="{}" y="12" width="18" height="12" fill="#f6d7a7"/><text x="{}" y="22" class="legend">flagged</text>"##,
            c(x),
            c(x + 24.0)
        );
        x += 24.0 + 7.0 * "flagged".len() as f64 + 18.0;
    }
    if off_scale {
        let _ = write!(
            out,
            r##"<path d="M{} 24 l5 -9 l5 9 Z" fill="#555"/><text x="{}" y="22" class="legend">flagged, beyond the scale</text>"##,
            c(x),
            c(x + 16.0)
        );
    }
    out.push_str("</svg>");
    out
}

/// A copy of `s` with its flagged values outside `lo..=hi` clipped to the nearer end (the
/// scale is set by the unflagged values); `None` when nothing needs clipping.
fn clip_to(s: &Series, lo: f64, hi: f64) -> Option<Series> {
    let beyond = |i: usize, v: f64| v.is_finite() && (v < lo || v > hi) && s.is_flagged(i);
    if !s.values.iter().enumerate().any(|(i, v)| beyond(i, *v)) {
        return None;
    }
    let mut out = s.clone();
    for (i, v) in out.values.iter_mut().enumerate() {
        if beyond(i, *v) {
            *v = v.clamp(lo, hi);
        }
    }
    Some(out)
}

/// Triangles on the frame's edge above (or below) flagged values beyond the scale, one per
/// pixel column, titled with the values. Returns whether any was drawn.
fn off_scale_marks(
    out: &mut String,
    s: &Series,
    xs: &Scale,
    f: &Frame,
    lo: f64,
    hi: f64,
    colour: &str,
) -> bool {
    let mut last: Option<(i64, bool)> = None;
    let mut any = false;
    for (i, (t, v)) in s.t.iter().zip(&s.values).enumerate() {
        if !(t.is_finite() && v.is_finite() && s.is_flagged(i)) || (*v >= lo && *v <= hi) {
            continue;
        }
        let above = *v > hi;
        let x = xs.px(*t);
        let column = x.round() as i64;
        if last == Some((column, above)) {
            continue;
        }
        last = Some((column, above));
        any = true;
        let (y, dy) = if above { (f.y1(), 7.0) } else { (f.y0(), -7.0) };
        let _ = write!(
            out,
            r##"<path d="M{} {} l4 {} l-8 0 Z" fill="{colour}"><title>{} (flagged) = {}</title></path>"##,
            c(x),
            c(y),
            c(dy),
            escape(&s.name),
            svg::number(*v)
        );
    }
    any
}

/// The path of a series: every point when there are few, else a min/max envelope per pixel
/// column. Gaps (NaN, or a jump in time of more than 3 typical steps) break the line.
fn series_points(s: &Series, xs: &Scale, ys: &Scale, columns: usize, x0: f64) -> String {
    let n = s.t.len().min(s.values.len());
    if n <= 2 * columns {
        let typical = if n > 1 {
            let (a, b) = (s.t[0], s.t[n - 1]);
            (b - a) / (n - 1) as f64
        } else {
            0.0
        };
        let mut pts: Vec<Option<(f64, f64)>> = Vec::with_capacity(n);
        let mut last_t = f64::NAN;
        for i in 0..n {
            let (t, v) = (s.t[i], s.values[i]);
            if !(t.is_finite() && v.is_finite()) {
                pts.push(None);
                continue;
            }
            if typical > 0.0 && t - last_t > 3.0 * typical {
                pts.push(None);
            }
            pts.push(Some((xs.px(t), ys.px(v))));
            last_t = t;
        }
        return path_with_gaps(&pts);
    }
    let cols = envelope(
        s.t.iter()
            .zip(&s.values)
            .map(|(t, v)| (xs.px(*t), ys.px(*v))),
        x0,
        columns,
    );
    let mut pts: Vec<Option<(f64, f64)>> = Vec::with_capacity(2 * columns);
    for (i, col) in cols.iter().enumerate() {
        match col {
            Some((lo, hi)) => {
                let x = x0 + i as f64 + 0.5;
                pts.push(Some((x, *lo)));
                if (hi - lo).abs() >= 0.1 {
                    pts.push(Some((x, *hi)));
                }
            }
            None => pts.push(None),
        }
    }
    path_with_gaps(&pts)
}

/// Pixel spans where any series is flagged, merged.
fn flagged_spans(series: &[&Series], xs: &Scale) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for s in series {
        let n = s.t.len();
        let mut i = 0;
        while i < n {
            if !s.is_flagged(i) {
                i += 1;
                continue;
            }
            let start = s.t[i];
            let mut j = i;
            while j + 1 < n && s.is_flagged(j + 1) {
                j += 1;
            }
            // The stretch lasts until the next value starts (or one step past the last).
            let end = if j + 1 < n {
                s.t[j + 1]
            } else if j > 0 {
                s.t[j] + (s.t[j] - s.t[j - 1])
            } else {
                s.t[j]
            };
            if start.is_finite() && end.is_finite() {
                spans.push((xs.px(start), xs.px(end)));
            }
            i = j + 1;
        }
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1.0 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

const SPECTRUM_FRAME: Frame = Frame {
    width: 1100.0,
    height: 280.0,
    left: 70.0,
    right: 20.0,
    top: 34.0,
    bottom: 48.0,
};

/// Harmonic spectrum bars per order (mean and 95th percentile) with limit markers.
pub fn spectrum(s: &Spectrum) -> String {
    let f = SPECTRUM_FRAME;
    let finite = |v: &&(usize, f64)| v.0 >= 2 && v.1.is_finite();
    let last = s
        .mean
        .iter()
        .chain(&s.p95)
        .filter(finite)
        .filter(|v| v.1 > 0.0)
        .map(|v| v.0)
        .chain(s.limits.iter().filter(finite).map(|v| v.0))
        .max()
        .unwrap_or(0);
    if last < 2 {
        return String::new();
    }
    let last = last.clamp(25, 63);
    let orders = last - 1; // orders 2..=last
    let top = s
        .mean
        .iter()
        .chain(&s.p95)
        .chain(&s.limits)
        .filter(|v| v.0 >= 2 && v.0 <= last && v.1.is_finite())
        .map(|v| v.1)
        .fold(0.0, f64::max);
    let (_, y_hi, y_ticks) = nice_ticks(0.0, if top > 0.0 { top * 1.08 } else { 1.0 }, 5);
    let ys = Scale::linear(0.0, y_hi, f.y0(), f.y1());
    let slot = f.plot_width() / orders as f64;
    let x_of = |order: usize| f.x0() + (order - 2) as f64 * slot;
    let mut out = svg_open(f.width, f.height, "spectrum");
    grid_y(&mut out, &f, &ys, &y_ticks);
    let value_at = |list: &[(usize, f64)], order: usize| {
        list.iter()
            .find(|(o, v)| *o == order && v.is_finite())
            .map(|(_, v)| *v)
    };
    for order in 2..=last {
        let x = x_of(order);
        let limit = value_at(&s.limits, order);
        let mean = value_at(&s.mean, order);
        let p95 = value_at(&s.p95, order);
        let bar_w = (slot * 0.36).max(1.0);
        for (k, value, colour, what) in [
            (0.0, mean, "#7fa7e0", "mean"),
            (1.0, p95, "#1f5fbf", "95th percentile"),
        ] {
            if let Some(v) = value {
                let over = limit.is_some_and(|l| v > l);
                let fill = if over { "#d1495b" } else { colour };
                let y = ys.px(v.max(0.0));
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>H{order} {what}: {} %</title></rect>"##,
                    c(x + slot * 0.12 + k * bar_w),
                    c(y),
                    c(bar_w),
                    c((f.y0() - y).max(0.0)),
                    number(v)
                );
            }
        }
        if let Some(l) = limit {
            let y = ys.px(l);
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#111" stroke-width="2"><title>H{order} limit: {} %</title></line>"##,
                c(x + slot * 0.04),
                c(x + slot * 0.96),
                number(l),
                y = c(y)
            );
        }
        let label_every = if orders <= 30 { 1 } else { 5 };
        if order % label_every == 0 || orders <= 30 {
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" text-anchor="middle" class="tick">{order}</text>"##,
                c(x + slot / 2.0),
                c(f.y0() + 16.0)
            );
        }
    }
    let y_title = if s.reference.is_empty() {
        "%".to_string()
    } else {
        s.reference.clone()
    };
    axes(&mut out, &f, &y_title, "harmonic order");
    let mut x = f.x0();
    legend_box(&mut out, &mut x, "#7fa7e0", "mean");
    legend_box(&mut out, &mut x, "#1f5fbf", "95th percentile");
    legend_box(&mut out, &mut x, "#d1495b", "above the limit");
    if !s.limits.is_empty() {
        let label = if s.limit_source.is_empty() {
            "limit".to_string()
        } else {
            format!("limit ({})", s.limit_source)
        };
        legend_line(&mut out, &mut x, "#111", "", &label);
    }
    out.push_str("</svg>");
    out
}

const ITIC_FRAME: Frame = Frame {
    width: 1100.0,
    height: 380.0,
    left: 70.0,
    right: 20.0,
    top: 34.0,
    bottom: 48.0,
};

/// The ITIC (CBEMA) curve of the Information Technology Industry Council (2000), as
/// (duration s, % of nominal) corners: the upper (overvoltage) and lower (undervoltage)
/// boundaries of the no-interruption region, from 1 ms on.
const ITIC_UPPER: [(f64, f64); 7] = [
    (0.001, 200.0),
    (0.001, 140.0),
    (0.003, 140.0),
    (0.003, 120.0),
    (0.5, 120.0),
    (0.5, 110.0),
    (100.0, 110.0),
];
const ITIC_LOWER: [(f64, f64); 8] = [
    (0.001, 0.0),
    (0.02, 0.0),
    (0.02, 70.0),
    (0.5, 70.0),
    (0.5, 80.0),
    (10.0, 80.0),
    (10.0, 90.0),
    (100.0, 90.0),
];
/// SEMI F47 ride-through: 50 % for 20–200 ms, 70 % to 0.5 s, 80 % to 1 s.
const SEMI_F47: [(f64, f64); 6] = [
    (0.02, 50.0),
    (0.2, 50.0),
    (0.2, 70.0),
    (0.5, 70.0),
    (0.5, 80.0),
    (1.0, 80.0),
];

/// The event scatter: duration (log) against residual or peak voltage (% of Udin), with
/// the ITIC and SEMI F47 curves.
pub fn itic(events: &[EventRow]) -> String {
    let f = ITIC_FRAME;
    let xs = Scale::log(0.001, 100.0, f.x0(), f.x1());
    let y_top = events
        .iter()
        .map(|e| e.extreme_percent)
        .filter(|v| v.is_finite())
        .fold(200.0, f64::max)
        .min(500.0);
    let (_, y_hi, y_ticks) = nice_ticks(0.0, y_top, 8);
    let ys = Scale::linear(0.0, y_hi, f.y0(), f.y1());
    let mut out = svg_open(f.width, f.height, "itic");
    grid_y(&mut out, &f, &ys, &y_ticks);
    for (k, label) in [
        (-3, "1 ms"),
        (-2, "10 ms"),
        (-1, "0.1 s"),
        (0, "1 s"),
        (1, "10 s"),
        (2, "100 s"),
    ] {
        let d = 10f64.powi(k);
        let x = xs.px(d);
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle" class="tick">{label}</text>"##,
            c(f.y1()),
            c(f.y0() + 5.0),
            c(f.y0() + 18.0),
            x = c(x)
        );
        for m in 2..10 {
            let x = xs.px(d * m as f64);
            if k < 2 {
                let _ = write!(
                    out,
                    r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#555"/>"##,
                    c(f.y0()),
                    c(f.y0() + 3.0),
                    x = c(x)
                );
            }
        }
    }
    axes(
        &mut out,
        &f,
        "voltage (% of Udin)",
        "duration (s, log scale)",
    );
    let curve = |pts: &[(f64, f64)]| -> String {
        let p: Vec<Option<(f64, f64)>> = pts
            .iter()
            .map(|(d, v)| Some((xs.px(*d), ys.px(*v))))
            .collect();
        path_with_gaps(&p)
    };
    let _ = write!(
        out,
        r##"<path d="{}" fill="none" stroke="#222" stroke-width="2"><title>ITIC upper</title></path><path d="{}" fill="none" stroke="#222" stroke-width="2"><title>ITIC lower</title></path><path d="{}" fill="none" stroke="#2a9d57" stroke-width="2.2" stroke-dasharray="7 4"><title>SEMI F47</title></path>"##,
        curve(&ITIC_UPPER),
        curve(&ITIC_LOWER),
        curve(&SEMI_F47)
    );
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" class="note">prohibited region</text><text x="{}" y="{}" class="note">no-damage region</text><text x="{}" y="{}" class="note">no-interruption region</text>"##,
        c(xs.px(0.004)),
        c(ys.px(y_hi.min(190.0)) + 4.0),
        c(xs.px(2.5)),
        c(ys.px(20.0)),
        c(xs.px(2.0)),
        c(ys.px(100.0) + 4.0)
    );
    for e in events {
        if !(e.duration.is_finite() && e.extreme_percent.is_finite()) {
            continue;
        }
        let x = xs.px(e.duration.clamp(0.001, 100.0));
        let y = ys.px(e.extreme_percent);
        let title = format!(
            "{} at {} s: {} s, {} % ({})",
            e.kind,
            number(e.start),
            number(e.duration),
            number(e.extreme_percent),
            e.phases
        );
        let shape = match e.kind.to_ascii_lowercase().as_str() {
            "swell" => format!(
                r##"<path d="M{} {}L{} {}L{} {}Z" fill="#e08a1e" stroke="#7a4a0c">"##,
                c(x),
                c(y - 6.0),
                c(x - 5.5),
                c(y + 4.0),
                c(x + 5.5),
                c(y + 4.0)
            ),
            "interruption" => format!(
                r##"<rect x="{}" y="{}" width="10" height="10" fill="#d1495b" stroke="#6b1d27">"##,
                c(x - 5.0),
                c(y - 5.0)
            ),
            "rvc" => format!(
                r##"<circle cx="{}" cy="{}" r="4" fill="none" stroke="#666" stroke-width="1.5">"##,
                c(x),
                c(y)
            ),
            _ => format!(
                r##"<circle cx="{}" cy="{}" r="5" fill="#1f5fbf" stroke="#0d2b57">"##,
                c(x),
                c(y)
            ),
        };
        let closing = if shape.starts_with("<path") {
            "</path>"
        } else if shape.starts_with("<rect") {
            "</rect>"
        } else {
            "</circle>"
        };
        let _ = write!(out, "{shape}<title>{}</title>{closing}", escape(&title));
    }
    let mut x = f.x0();
    legend_line(&mut out, &mut x, "#222", "", "ITIC (CBEMA)");
    legend_line(&mut out, &mut x, "#2a9d57", "7 4", "SEMI F47");
    legend_box(&mut out, &mut x, "#1f5fbf", "dip");
    legend_box(&mut out, &mut x, "#e08a1e", "swell");
    legend_box(&mut out, &mut x, "#d1495b", "interruption");
    legend_box(&mut out, &mut x, "#999", "RVC");
    out.push_str("</svg>");
    out
}

/// The phasor diagram: voltages scaled to the largest voltage, currents to the largest
/// current (drawn shorter and dashed), angles counter-clockwise from U_A.
pub fn phasors(list: &[Phasor]) -> String {
    let size = 440.0;
    let (cx, cy, r) = (size / 2.0, size / 2.0 + 6.0, 165.0);
    let is_current = |p: &Phasor| {
        p.unit.eq_ignore_ascii_case("A") || p.channel.to_ascii_uppercase().starts_with('I')
    };
    let max_of = |current: bool| {
        list.iter()
            .filter(|p| is_current(p) == current && p.magnitude.is_finite())
            .map(|p| p.magnitude.abs())
            .fold(0.0, f64::max)
    };
    let (vmax, imax) = (max_of(false), max_of(true));
    let mut out = svg_open(size, size + 12.0, "phasor");
    for k in [0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            out,
            r##"<circle cx="{}" cy="{}" r="{}" fill="none" stroke="{}"/>"##,
            c(cx),
            c(cy),
            c(r * k),
            if k == 1.0 { "#999" } else { "#e3e3e3" }
        );
    }
    for deg in (0..360).step_by(30) {
        let a = (deg as f64).to_radians();
        let (x, y) = (cx + r * a.cos(), cy - r * a.sin());
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#eee"/>"##,
            c(cx),
            c(cy),
            c(x),
            c(y)
        );
        if deg % 90 == 0 {
            let label = if deg > 180 { deg - 360 } else { deg };
            // Beside the axis line rather than on it, so a phasor label along the axis
            // does not sit on the degree label.
            let (lx, ly) = match deg {
                0 => (cx + r + 16.0, cy + 18.0),
                180 => (cx - r - 16.0, cy + 18.0),
                90 => (cx + 22.0, cy - r - 6.0),
                _ => (cx + 22.0, cy + r + 16.0),
            };
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" text-anchor="middle" class="tick">{label}°</text>"##,
                c(lx),
                c(ly)
            );
        }
    }
    for (i, p) in list.iter().enumerate() {
        if !(p.magnitude.is_finite() && p.angle_degrees.is_finite()) {
            continue;
        }
        let current = is_current(p);
        let full = if current { imax } else { vmax };
        if full <= 0.0 {
            continue;
        }
        let len = p.magnitude.abs() / full * if current { r * 0.62 } else { r };
        let a = p.angle_degrees.to_radians();
        let (ux, uy) = (a.cos(), -a.sin());
        let (tx, ty) = (cx + len * ux, cy + len * uy);
        let colour = channel_colour(&p.channel, i);
        let dash = if current {
            r#" stroke-dasharray="6 3""#
        } else {
            ""
        };
        let head = 11.0_f64.min(len * 0.4);
        let (bx, by) = (tx - head * ux, ty - head * uy);
        let (nx, ny) = (-uy * head * 0.45, ux * head * 0.45);
        let _ = write!(
            out,
            r##"<g><title>{name}: {mag} {unit} ∠ {ang}°</title><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="{w}"{dash}/><path d="M{} {}L{} {}L{} {}Z" fill="{colour}"/></g>"##,
            c(cx),
            c(cy),
            c(bx),
            c(by),
            c(tx),
            c(ty),
            c(bx + nx),
            c(by + ny),
            c(bx - nx),
            c(by - ny),
            name = escape(&p.channel),
            mag = number(p.magnitude),
            unit = escape(&p.unit),
            ang = number(p.angle_degrees),
            w = if current { 2.0 } else { 2.6 }
        );
        let (lx, ly) = (cx + (len + 14.0) * ux, cy + (len + 14.0) * uy + 4.0);
        let anchor = if ux > 0.3 {
            "start"
        } else if ux < -0.3 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="{anchor}" class="plabel" fill="{colour}">{}</text>"##,
            c(lx),
            c(ly),
            escape(&p.channel)
        );
    }
    out.push_str("</svg>");
    out
}

fn svg_open(width: f64, height: f64, class: &str) -> String {
    format!(
        r##"<svg class="chart {class}" viewBox="0 0 {} {}" width="{}" height="{}" role="img">"##,
        c(width),
        c(height),
        c(width),
        c(height)
    )
}

/// Horizontal grid lines with their labels.
fn grid_y(out: &mut String, f: &Frame, ys: &Scale, ticks: &[f64]) {
    for v in ticks {
        if *v < ys.lo() - 1e-9 || *v > ys.hi() + 1e-9 {
            continue;
        }
        let y = ys.px(*v);
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#e6e6e6"/><text x="{}" y="{}" text-anchor="end" class="tick">{}</text>"##,
            c(f.x0()),
            c(f.x1()),
            c(f.x0() - 7.0),
            c(y + 4.0),
            number(*v),
            y = c(y)
        );
    }
}

/// The plot frame and the axis titles.
fn axes(out: &mut String, f: &Frame, y_title: &str, x_title: &str) {
    let _ = write!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#555"/><text x="{}" y="{}" text-anchor="middle" class="axis">{}</text><text transform="translate(16 {}) rotate(-90)" text-anchor="middle" class="axis">{}</text>"##,
        c(f.x0()),
        c(f.y1()),
        c(f.plot_width()),
        c(f.y0() - f.y1()),
        c((f.x0() + f.x1()) / 2.0),
        c(f.height - 8.0),
        escape(x_title),
        c((f.y0() + f.y1()) / 2.0),
        escape(y_title)
    );
}

fn legend_line(out: &mut String, x: &mut f64, colour: &str, dash: &str, label: &str) {
    let dash = if dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{dash}""#)
    };
    let _ = write!(
        out,
        r##"<line x1="{}" y1="18" x2="{}" y2="18" stroke="{colour}" stroke-width="2.4"{dash}/><text x="{}" y="22" class="legend">{}</text>"##,
        c(*x),
        c(*x + 22.0),
        c(*x + 28.0),
        escape(label)
    );
    *x += 42.0 + 7.2 * label.chars().count() as f64;
}

fn legend_box(out: &mut String, x: &mut f64, colour: &str, label: &str) {
    let _ = write!(
        out,
        r##"<rect x="{}" y="12" width="12" height="12" fill="{colour}"/><text x="{}" y="22" class="legend">{}</text>"##,
        c(*x),
        c(*x + 17.0),
        escape(label)
    );
    *x += 32.0 + 7.2 * label.chars().count() as f64;
}
