//! The meter section: energy over the recording, maximum demand with its coincident
//! values, min/max, alarms, and the NEMA MG 1 motor derating curves with the supply's
//! operating points.

use super::html::{empty, escape};
use super::svg::{c, nice_ticks, number, Frame, Scale};
use super::{MeteringSection, MotorDerating};
use std::fmt::Write;

const FRAME: Frame = Frame {
    width: 520.0,
    height: 300.0,
    left: 58.0,
    right: 16.0,
    top: 14.0,
    bottom: 46.0,
};

/// The unit of an interval quantity, from its column name.
fn unit_of(quantity: &str) -> &'static str {
    let head = quantity.split('_').next().unwrap_or("");
    match head {
        "P" => "W",
        "Q" | "Q1" => "var",
        "S" => "VA",
        "U" => "V",
        "I" => "A",
        "f" => "Hz",
        "THD" | "u2" | "u0" => "%",
        _ => "",
    }
}

/// The whole section.
pub fn section(out: &mut String, s: &MeteringSection) {
    out.push_str("<section id=\"metering\"><h2>Energy, demand, min/max and alarms</h2>");
    energy(out, s);
    demand(out, s);
    alarms(out, s);
    minmax(out, s);
    if let Some(m) = &s.motor {
        motor(out, m);
    }
    for n in &s.notes {
        let _ = write!(out, "<p class=\"caption\">{}</p>", escape(n));
    }
    out.push_str("</section>");
}

fn energy(out: &mut String, s: &MeteringSection) {
    out.push_str("<h3>Energy</h3>");
    if s.energy.is_empty() {
        empty(
            out,
            "no power was measured (no voltage and current of one phase)",
        );
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Phase</th><th class=\"num\">Active imported, kWh</th>\
         <th class=\"num\">Active exported, kWh</th><th class=\"num\">Active net, kWh</th>\
         <th class=\"num\">Reactive Q I+II, kvarh</th><th class=\"num\">Reactive Q III+IV, \
         kvarh</th><th class=\"num\">Apparent, kVAh</th><th class=\"num\">Hours</th></tr>\
         </thead><tbody>",
    );
    for r in &s.energy {
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&r.channel),
            number(r.active_delivered_kwh),
            number(r.active_received_kwh),
            number(r.active_delivered_kwh - r.active_received_kwh),
            number(r.reactive_positive_kvarh),
            number(r.reactive_negative_kvarh),
            number(r.apparent_kvah),
            number(r.hours)
        );
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"caption\">Four-quadrant registers integrated over every \
         10/12-cycle interval (import: P &gt; 0; reactive energy from the fundamental \
         reactive power Q1 of IEEE 1459, as IEC 62053-24 meters count it). The table \
         energy gives them per {} min of the clock.</p>",
        number(s.energy_period_s / 60.0)
    );
}

fn demand(out: &mut String, s: &MeteringSection) {
    out.push_str("<h3>Maximum demand</h3>");
    if s.demand.is_empty() {
        empty(
            out,
            "no complete demand interval in the recording (it is shorter than one interval, \
             or gaps cut every one)",
        );
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Quantity</th><th class=\"num\">Maximum demand</th>\
         <th>Interval ending</th><th>Coincident demand</th></tr></thead><tbody>",
    );
    for d in &s.demand {
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=\"num\">{} {}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.quantity),
            number(d.value),
            unit_of(&d.quantity),
            escape(&d.end),
            escape(&d.coincident)
        );
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"caption\">{}, intervals aligned on the clock; an \
         interval not fully covered by data is left out of the maximum.</p>",
        escape(&s.demand_description)
    );
}

fn alarms(out: &mut String, s: &MeteringSection) {
    out.push_str("<h3>Alarms</h3>");
    if s.alarm_setpoints == 0 {
        empty(
            out,
            "no alarm setpoint configured (--alarm QUANTITY>PICKUP[/DROPOUT], or alarm = [...] \
             in the settings file)",
        );
        return;
    }
    if s.alarms.is_empty() {
        empty(
            out,
            &format!("none of the {} setpoints picked up", s.alarm_setpoints),
        );
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Alarm</th><th>Quantity</th><th>Priority</th><th>Start</th>\
         <th>End</th><th class=\"num\">Duration, s</th><th class=\"num\">Extreme</th></tr>\
         </thead><tbody>",
    );
    for a in &s.alarms {
        let _ = write!(
            out,
            "<tr class=\"alarm-{}\"><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{} {}</td></tr>",
            escape(&a.priority),
            escape(&a.name),
            escape(&a.quantity),
            escape(&a.priority),
            escape(&a.start),
            a.end.as_deref().map_or("still active".to_string(), escape),
            a.duration.map_or("–".to_string(), number),
            number(a.extreme),
            unit_of(&a.quantity)
        );
    }
    out.push_str("</tbody></table>");
}

fn minmax(out: &mut String, s: &MeteringSection) {
    out.push_str("<h3>Minimum and maximum</h3>");
    if s.minmax.is_empty() {
        empty(out, "no interval value");
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Quantity</th><th class=\"num\">Minimum</th><th>at</th>\
         <th class=\"num\">Maximum</th><th>at</th></tr></thead><tbody>",
    );
    for m in &s.minmax {
        let u = unit_of(&m.quantity);
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=\"num\">{} {u}</td><td>{}</td><td class=\"num\">{} {u}</td>\
             <td>{}</td></tr>",
            escape(&m.quantity),
            number(m.min),
            escape(&m.min_at),
            number(m.max),
            escape(&m.max_at)
        );
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"caption\">Extremes of the 10/12-cycle values over the \
         recording, flagged intervals included (a dip's depth shows here). The table minmax \
         has every quantity per {} min of the clock.</p>",
        number(s.minmax_period_s / 60.0)
    );
}

fn motor(out: &mut String, m: &MotorDerating) {
    out.push_str("<h3>Motor derating (NEMA MG 1)</h3><div class=\"charts-row\">");
    let unbalance: Vec<f64> = m.points.iter().map(|p| p.unbalance_percent).collect();
    out.push_str(&derating_chart(
        &m.unbalance_curve,
        &unbalance,
        (0.0, 5.0),
        "percent voltage unbalance, %",
        false,
    ));
    let hvf: Vec<f64> = m.points.iter().map(|p| p.hvf).collect();
    out.push_str(&derating_chart(
        &m.hvf_curve_unverified,
        &hvf,
        (0.0, 0.12),
        "harmonic voltage factor (HVF)",
        true,
    ));
    out.push_str("</div>");
    let factor = |f: Option<f64>| f.map_or("none given (operation not recommended)".into(), number);
    let _ = write!(
        out,
        "<p class=\"caption\">Each dot is one logging period's mean. Largest unbalance {} % \
         ({}): derating factor {}. Largest HVF {}: derating factor {} from the HVF curve, \
         which is <strong>unverified</strong> (recalled, not read from the standard's \
         figure). Unbalance per NEMA MG 1: the largest deviation of a line-to-line voltage \
         from their mean, over the mean; here from {}; the unbalance curve is read from the \
         figure of MG 1 Part 14 and interpolated linearly.</p>",
        m.worst_unbalance_percent.map_or("–".into(), number),
        if m.from_delta {
            "measured line to line"
        } else {
            "computed"
        },
        factor(m.unbalance_derating),
        m.worst_hvf.map_or("–".into(), number),
        factor(m.hvf_derating_unverified),
        if m.from_delta {
            "the measured line-to-line fundamentals"
        } else {
            "the line-to-line fundamentals computed from the phase voltages' phasors"
        }
    );
}

/// Linear interpolation on `curve`; 1 before its first point, `None` past its end.
fn on_curve(curve: &[(f64, f64)], x: f64) -> Option<f64> {
    let &(x0, y0) = curve.first()?;
    if x <= x0 {
        return Some(y0);
    }
    curve.windows(2).find_map(|w| {
        let ((a, fa), (b, fb)) = (w[0], w[1]);
        (x <= b).then(|| fa + (fb - fa) * (x - a) / (b - a))
    })
}

/// A derating curve (factor against `x`) with the operating points on it.
fn derating_chart(
    curve: &[(f64, f64)],
    points: &[f64],
    (x_lo, x_hi): (f64, f64),
    x_title: &str,
    unverified: bool,
) -> String {
    let f = FRAME;
    let x_max = points
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(x_hi, f64::max);
    let (xl, xh, xticks) = nice_ticks(x_lo, x_max, 6);
    let (yl, yh, yticks) = nice_ticks(0.7, 1.0, 4);
    let xs = Scale::linear(xl, xh, f.x0(), f.x1());
    let ys = Scale::linear(yl, yh, f.y0(), f.y1());
    let mut out = format!(
        r##"<svg class="chart derating" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">"##,
        w = c(f.width),
        h = c(f.height)
    );
    for &v in &yticks {
        let y = ys.px(v);
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e3e3e3"/><text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>"##,
            c(f.x0()),
            c(y),
            c(f.x1()),
            c(y),
            c(f.x0() - 6.0),
            c(y + 4.0),
            number(v)
        );
    }
    for &v in &xticks {
        let x = xs.px(v);
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#eee"/><text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>"##,
            c(x),
            c(f.y0()),
            c(x),
            c(f.y1()),
            c(x),
            c(f.y0() + 16.0),
            number(v)
        );
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle" font-size="12">derating factor</text>"##,
        c((f.x0() + f.x1()) / 2.0),
        c(f.height - 8.0),
        escape(x_title),
        c((f.y0() + f.y1()) / 2.0),
        c((f.y0() + f.y1()) / 2.0)
    );
    let mut path = String::new();
    if let Some(&(x0, y0)) = curve.first() {
        let _ = write!(path, "M{} {}", c(xs.px(xl.max(0.0))), c(ys.px(y0)));
        let _ = write!(path, " L{} {}", c(xs.px(x0)), c(ys.px(y0)));
    }
    for &(x, y) in curve {
        let _ = write!(path, " L{} {}", c(xs.px(x)), c(ys.px(y)));
    }
    let _ = write!(
        out,
        r##"<path d="{path}" fill="none" stroke="#333" stroke-width="2"{}/>"##,
        if unverified {
            r##" stroke-dasharray="6 4""##
        } else {
            ""
        }
    );
    if unverified {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#a33">curve unverified</text>"##,
            c(f.x1() - 4.0),
            c(f.y1() + 14.0)
        );
    }
    for &x in points.iter().filter(|v| v.is_finite()) {
        let (y, colour) = match on_curve(curve, x) {
            Some(y) => (y, "#1f77b4"),
            // Past the curve's end: drawn on the axis, in red.
            None => (yl, "#d62728"),
        };
        let _ = write!(
            out,
            r##"<circle cx="{}" cy="{}" r="3.5" fill="{colour}" fill-opacity="0.7"/>"##,
            c(xs.px(x)),
            c(ys.px(y))
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_interpolation() {
        let curve = [(1.0, 1.0), (2.0, 0.9), (3.0, 0.8)];
        assert_eq!(on_curve(&curve, 0.5), Some(1.0));
        assert!((on_curve(&curve, 1.5).unwrap() - 0.95).abs() < 1e-12);
        assert_eq!(on_curve(&curve, 3.5), None);
    }

    #[test]
    fn units_follow_the_column_names() {
        assert_eq!(unit_of("P"), "W");
        assert_eq!(unit_of("I_A"), "A");
        assert_eq!(unit_of("THD_U_A"), "%");
        assert_eq!(unit_of("Q"), "var");
    }
}
