//! SVG building blocks: linear and logarithmic scales, "nice" axis ticks, number and time
//! labels, and the min/max envelope that keeps a long series to a few points per pixel
//! column.

use std::fmt::Write;

/// Plot area of a chart inside its SVG, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// Whole SVG width.
    pub width: f64,
    /// Whole SVG height.
    pub height: f64,
    /// Left margin (room for the y labels).
    pub left: f64,
    /// Right margin.
    pub right: f64,
    /// Top margin.
    pub top: f64,
    /// Bottom margin (room for the x labels).
    pub bottom: f64,
}

impl Frame {
    pub fn x0(&self) -> f64 {
        self.left
    }
    pub fn x1(&self) -> f64 {
        self.width - self.right
    }
    pub fn y0(&self) -> f64 {
        self.height - self.bottom
    }
    pub fn y1(&self) -> f64 {
        self.top
    }
    pub fn plot_width(&self) -> f64 {
        self.x1() - self.x0()
    }
}

/// A mapping from data values to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    lo: f64,
    hi: f64,
    p0: f64,
    p1: f64,
    log: bool,
}

impl Scale {
    /// Linear: `lo → p0`, `hi → p1`.
    pub fn linear(lo: f64, hi: f64, p0: f64, p1: f64) -> Scale {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 1.0, lo + 1.0)
        };
        Scale {
            lo,
            hi,
            p0,
            p1,
            log: false,
        }
    }
    /// Base-10 logarithmic (both ends positive).
    pub fn log(lo: f64, hi: f64, p0: f64, p1: f64) -> Scale {
        Scale {
            lo: lo.log10(),
            hi: hi.log10(),
            p0,
            p1,
            log: true,
        }
    }
    /// Pixel of a value (clamped a little outside the plot so stray values stay visible).
    pub fn px(&self, v: f64) -> f64 {
        let v = if self.log { v.max(1e-300).log10() } else { v };
        let f = ((v - self.lo) / (self.hi - self.lo)).clamp(-0.02, 1.02);
        self.p0 + f * (self.p1 - self.p0)
    }
    pub fn lo(&self) -> f64 {
        if self.log {
            10f64.powf(self.lo)
        } else {
            self.lo
        }
    }
    pub fn hi(&self) -> f64 {
        if self.log {
            10f64.powf(self.hi)
        } else {
            self.hi
        }
    }
}

/// Round axis bounds and about `target` ticks between them: steps of 1, 2 or 5 × 10^k.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = if !(lo.is_finite() && hi.is_finite()) {
        (0.0, 1.0)
    } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let exp = raw.log10().floor() as i32;
    // A tick is k·m·10^exp; for exp < 0 dividing by 10^−exp keeps 0.3 from coming out as
    // 0.30000000000000004.
    let scale = |units: f64| {
        if exp < 0 {
            units / 10f64.powi(-exp)
        } else {
            units * 10f64.powi(exp)
        }
    };
    let m = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|m| scale(*m) >= raw)
        .unwrap_or(10.0);
    let step = scale(m);
    let k0 = (lo / step).floor();
    let k1 = (hi / step).ceil();
    let start = scale(k0 * m);
    let end = scale(k1 * m);
    let mut ticks = Vec::new();
    let mut k = k0;
    while k <= k1 && ticks.len() <= 1000 {
        ticks.push(scale(k * m));
        k += 1.0;
    }
    (start, end, ticks)
}

/// Time ticks over `[lo, hi]` seconds: steps of whole seconds, minutes, hours or days.
pub fn time_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    const STEPS: [f64; 22] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 21600.0, 43200.0, 86400.0, 172800.0, 604800.0, 1209600.0, 2419200.0,
    ];
    let span = (hi - lo).max(1e-9);
    if span < 10.0 {
        return nice_ticks(lo, hi, target)
            .2
            .into_iter()
            .filter(|t| *t >= lo - 1e-9 && *t <= hi + 1e-9)
            .collect();
    }
    let raw = span / target.max(1) as f64;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or(2419200.0);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + 1e-9 && out.len() < 100 {
        out.push(v);
        v += step;
    }
    out
}

/// A time label for seconds from the start: `12 s`, `4:30` (m:ss), `3:05` (h:mm), `2 d 04:00`.
pub fn time_label(t: f64, span: f64) -> String {
    if !t.is_finite() {
        return String::new();
    }
    if span < 10.0 {
        return format!("{} s", number(t));
    }
    let s = t.round() as i64;
    if span < 600.0 {
        return format!("{s} s");
    }
    if span < 3.0 * 3600.0 && s < 3600 {
        return format!("{}:{:02}", s / 60, s % 60);
    }
    let days = s / 86400;
    let h = (s % 86400) / 3600;
    let m = (s % 3600) / 60;
    if days > 0 {
        format!("{days} d {h:02}:{m:02}")
    } else {
        format!("{h}:{m:02}")
    }
}

/// The unit a time axis is labelled in, for its title.
pub fn time_axis_title(span: f64) -> &'static str {
    if span < 600.0 {
        "time since start (s)"
    } else if span < 3.0 * 3600.0 {
        "time since start (h:mm or m:ss)"
    } else {
        "time since start (d hh:mm)"
    }
}

/// A short label for a number: up to 4 significant digits, no trailing zeros.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else if a >= 1.0 {
        3
    } else {
        (3.0 - a.log10().floor()).clamp(0.0, 9.0) as usize
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

/// A coordinate with one decimal (keeps the SVG small).
pub fn c(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Pixel columns of a series: for each column the (min, max) of its finite values, or
/// None for an empty column. `x` gives each point's pixel, `y` its pixel.
pub fn envelope(
    points: impl Iterator<Item = (f64, f64)>,
    x0: f64,
    columns: usize,
) -> Vec<Option<(f64, f64)>> {
    let mut cols: Vec<Option<(f64, f64)>> = vec![None; columns];
    for (x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let i = (x - x0).floor();
        if i < 0.0 {
            continue;
        }
        let i = (i as usize).min(columns.saturating_sub(1));
        if let Some(slot) = cols.get_mut(i) {
            *slot = Some(match *slot {
                None => (y, y),
                Some((lo, hi)) => (lo.min(y), hi.max(y)),
            });
        }
    }
    cols
}

/// An SVG path through points, with a new sub-path after each gap (None).
pub fn path_with_gaps(points: &[Option<(f64, f64)>]) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for p in points {
        match p {
            Some((x, y)) => {
                let _ = write!(d, "{}{} {}", if pen_down { "L" } else { "M" }, c(*x), c(*y));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let (lo, hi, t) = nice_ticks(207.3, 252.9, 5);
        assert_eq!((lo, hi), (200.0, 260.0));
        assert_eq!(t, vec![200.0, 210.0, 220.0, 230.0, 240.0, 250.0, 260.0]);
        let (_, _, t) = nice_ticks(0.0, 0.3, 3);
        assert_eq!(t, vec![0.0, 0.1, 0.2, 0.3]);
        let (lo, hi, _) = nice_ticks(5.0, 5.0, 5);
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi, _) = nice_ticks(f64::NAN, 1.0, 5);
        assert_eq!((lo, hi), (0.0, 1.0));
    }

    #[test]
    fn labels() {
        assert_eq!(number(230.04), "230");
        assert_eq!(number(49.95), "49.95");
        assert_eq!(number(0.012), "0.012");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(f64::NAN), "–");
        assert_eq!(time_label(5400.0, 86_400.0), "1:30");
        assert_eq!(time_label(90_000.0, 604_800.0), "1 d 01:00");
        assert_eq!(time_label(150.0, 3600.0), "2:30");
        assert_eq!(time_ticks(0.0, 86_400.0, 8).len(), 9);
    }

    #[test]
    fn envelope_keeps_extremes_per_column() {
        let pts = (0..1000).map(|i| (i as f64 / 100.0, (i % 7) as f64));
        let cols = envelope(pts, 0.0, 10);
        assert_eq!(cols.len(), 10);
        assert!(cols.iter().all(|c| *c == Some((0.0, 6.0))));
        assert_eq!(
            path_with_gaps(&[Some((0.0, 1.0)), None, Some((2.0, 3.25))]),
            "M0 1M2 3.3"
        );
    }
}
