//! Power-line communication in the CENELEC bands: band levels while a transmitter is
//! active, the dominant carriers, recognition of G1 (IEC 61334-5-1 S-FSK) and G3-PLC
//! (ITU-T G.9903 OFDM) signals, and the transmit-level limits of EN 50065-1 as data.
//!
//! A band's level is measured on gapless 5-ms Hann windows (200 Hz lines), 40 per 0.2-s
//! interval: short enough to follow PLC bursts (Linky network-supervision bursts last about
//! 0.1 s, G3 frames tens of ms), fine enough to keep the bands apart (a rectangular 0.5-ms
//! window, as Annex C uses, leaks a G3 signal ending at 90.6 kHz into band B at −20 dB;
//! the Hann window's sidelobes are far below that 20 lines away). Each window's band power
//! is the sum of its line powers over the lines whose centres lie in the band's edges
//! `[lo, hi)`, normalised by the window's energy (`Σ w²`), which makes it the band's mean
//! square for any signal inside the band. A window is *active* when its band power is at
//! least a tenth (−10 dB) of the interval's largest and the activity floor; the band's
//! level is the RMS over its active windows, i.e. the level of the signal while it is on.

use super::bands::CenelecBand;

/// What kind of PLC signal a band carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlcSignalKind {
    /// G3-PLC, CENELEC-A band plan: OFDM over 36 carriers, indices 23…58 at
    /// 1.5625 kHz (35.9–90.6 kHz), ITU-T G.9903.
    G3Ofdm,
    /// G1 / IEC 61334-5-1 S-FSK: space tone 63.3 kHz, mark tone 74 kHz (the exact tones are
    /// marked unverified in the reference sheet).
    G1Sfsk,
}

impl PlcSignalKind {
    /// The name tables and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            PlcSignalKind::G3Ofdm => "G3-OFDM",
            PlcSignalKind::G1Sfsk => "G1-SFSK",
        }
    }
}

/// A spectral line that stands out in a band: frequency (Hz, on the 5 Hz grid of the 0.2-s
/// window) and RMS over the interval (V).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carrier {
    /// Frequency, Hz.
    pub frequency: f64,
    /// RMS of the line over the whole interval, in the channel's unit.
    pub rms: f64,
}

/// One CENELEC band of one channel over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct PlcBandReading {
    /// The band.
    pub band: CenelecBand,
    /// RMS over the active windows (the signal's level while it transmits); NaN when no
    /// window was active.
    pub level: f64,
    /// The largest 5-ms window RMS of the band.
    pub peak: f64,
    /// RMS of the band over the whole interval (every window).
    pub rms: f64,
    /// Share of the interval's windows that were active, 0…1.
    pub active_fraction: f64,
    /// The strongest lines of the band, strongest first (at most [`MAX_CARRIERS`]).
    pub carriers: Vec<Carrier>,
    /// The PLC system recognised in the band, if any.
    pub signal: Option<PlcSignalKind>,
}

/// How many carriers a band reading lists at most.
pub const MAX_CARRIERS: usize = 8;

/// A transmit-level limit of EN 50065-1 with where it comes from and whether it was checked
/// against a primary source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlcLimit {
    /// The band it applies to.
    pub band: CenelecBand,
    /// Maximum transmitter output, dBµV.
    pub max_dbuv: f64,
    /// The equipment class the limit belongs to.
    pub class: &'static str,
    /// Where the number comes from.
    pub source: &'static str,
    /// Whether the number was seen in a primary source (see the reference sheet).
    pub verified: bool,
}

/// The EN 50065-1 maximum transmitter output levels PQE checks against. EN 50065-1 measures
/// them across the CISPR 16-1-2 artificial network with its own detector; a level measured
/// at a supply's terminals is an indication, not a conformity test.
pub const EN50065_1_LIMITS: [PlcLimit; 4] = [
    PlcLimit {
        band: CenelecBand::A,
        max_dbuv: 134.0,
        class: "band A narrowband (at 9 kHz; the older curve falls to 120 dBµV at 95 kHz)",
        source: "EN 50065-1 as quoted by secondary sources; standard text not seen",
        verified: false,
    },
    PlcLimit {
        band: CenelecBand::B,
        max_dbuv: 122.0,
        class: "Class 122",
        source: "KNX System Specification 3/2/3 Communication Medium Powerline v02.02.02 (2013), PL110 Fig. 1 note c, citing EN 50065-1",
        verified: true,
    },
    PlcLimit {
        band: CenelecBand::C,
        max_dbuv: 122.0,
        class: "Class 122",
        source: "KNX System Specification 3/2/3 Communication Medium Powerline v02.02.02 (2013), PL110 Fig. 1 note c, citing EN 50065-1",
        verified: true,
    },
    PlcLimit {
        band: CenelecBand::D,
        max_dbuv: 122.0,
        class: "Class 122",
        source: "KNX System Specification 3/2/3 Communication Medium Powerline v02.02.02 (2013), PL110 Fig. 1 note c, citing EN 50065-1",
        verified: true,
    },
];

/// The limit of one band.
pub fn limit(band: CenelecBand) -> &'static PlcLimit {
    EN50065_1_LIMITS
        .iter()
        .find(|l| l.band == band)
        .expect("every band has a limit row")
}

/// G3-PLC CENELEC-A occupies 35.9–90.6 kHz.
const G3_SPAN_HZ: (f64, f64) = (35_800.0, 90_800.0);
/// G1 S-FSK: ±1 kHz around the space (63.3 kHz) and mark (74 kHz) tones.
const G1_SPACE_HZ: (f64, f64) = (62_300.0, 64_300.0);
const G1_MARK_HZ: (f64, f64) = (73_000.0, 75_000.0);

/// Sum of `power` over the lines (spaced `spacing` Hz) whose centres lie in `[lo, hi)`.
fn span_power(power: &[f64], spacing: f64, (lo, hi): (f64, f64)) -> f64 {
    let a = (lo / spacing).ceil() as usize;
    let b = ((hi / spacing).ceil() as usize).min(power.len());
    power[a.min(b)..b].iter().sum()
}

/// Recognise the PLC system in band A from the mean line powers over the active windows
/// (`power[k]` for the line at `k · spacing` Hz, V²). Only band A holds G1 and G3
/// CENELEC-A.
pub(crate) fn classify(band: CenelecBand, power: &[f64], spacing: f64) -> Option<PlcSignalKind> {
    if band != CenelecBand::A {
        return None;
    }
    let total = span_power(power, spacing, band.edges_hz());
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let space = span_power(power, spacing, G1_SPACE_HZ) / total;
    let mark = span_power(power, spacing, G1_MARK_HZ) / total;
    if space + mark >= 0.8 && space >= 0.15 && mark >= 0.15 {
        return Some(PlcSignalKind::G1Sfsk);
    }
    // OFDM spreads its power evenly over its carriers: most of the band's power in
    // 35.9–90.6 kHz, and nearly every 2 kHz cell from 36 to 90 kHz within 10 dB of the
    // strongest.
    if span_power(power, spacing, G3_SPAN_HZ) / total >= 0.8 {
        let cells: Vec<f64> = (0..27)
            .map(|j| {
                let lo = 36_000.0 + 2000.0 * j as f64;
                span_power(power, spacing, (lo, lo + 2000.0))
            })
            .collect();
        let max = cells.iter().copied().fold(0.0, f64::max);
        let strong = cells.iter().filter(|&&c| c >= 0.1 * max).count();
        if strong * 10 >= cells.len() * 8 {
            return Some(PlcSignalKind::G3Ofdm);
        }
    }
    None
}

/// Local maxima of the line RMS values `rms[k]` (5 Hz grid) within `lo..=hi` that reach at
/// least a tenth of the strongest line there and `floor`, strongest first.
pub(crate) fn carriers(rms: &[f64], lo: usize, hi: usize, floor: f64) -> Vec<Carrier> {
    let hi = hi.min(rms.len().saturating_sub(2));
    if lo < 1 || lo > hi {
        return Vec::new();
    }
    let max = rms[lo..=hi].iter().copied().fold(0.0, f64::max);
    let threshold = (0.1 * max).max(floor);
    let mut found: Vec<Carrier> = (lo..=hi)
        .filter(|&k| rms[k] >= threshold && rms[k] > rms[k - 1] && rms[k] >= rms[k + 1])
        .map(|k| Carrier {
            frequency: k as f64 * super::bands::LINE_SPACING_HZ,
            rms: rms[k],
        })
        .collect();
    found.sort_by(|a, b| b.rms.total_cmp(&a.rms));
    found.truncate(MAX_CARRIERS);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_band_has_one_limit_and_unverified_ones_say_so() {
        for band in CenelecBand::ALL {
            assert_eq!(
                EN50065_1_LIMITS.iter().filter(|l| l.band == band).count(),
                1
            );
        }
        assert!(!limit(CenelecBand::A).verified);
        assert!(limit(CenelecBand::B).verified);
    }

    #[test]
    fn classification_needs_the_right_shape() {
        // Lines 200 Hz apart up to 150 kHz.
        let mut p = vec![0.0; 751];
        p[316] = 1.0; // 63.2 kHz
        p[370] = 1.0; // 74 kHz
        assert_eq!(
            classify(CenelecBand::A, &p, 200.0),
            Some(PlcSignalKind::G1Sfsk)
        );
        assert_eq!(classify(CenelecBand::B, &p, 200.0), None);
        p[370] = 0.0;
        assert_eq!(
            classify(CenelecBand::A, &p, 200.0),
            None,
            "one tone is not S-FSK"
        );
        let mut q = vec![0.0; 751];
        for k in 23..=58 {
            // G3 carriers at k · 1.5625 kHz.
            q[(k as f64 * 1562.5 / 200.0).round() as usize] = 1.0;
        }
        assert_eq!(
            classify(CenelecBand::A, &q, 200.0),
            Some(PlcSignalKind::G3Ofdm)
        );
        for x in q.iter_mut().take(300) {
            *x = 0.0;
        }
        assert_eq!(
            classify(CenelecBand::A, &q, 200.0),
            None,
            "half the carriers missing"
        );
    }

    #[test]
    fn carriers_are_local_maxima_above_a_tenth() {
        let mut r = vec![0.0; 100];
        r[10] = 1.0;
        r[11] = 0.5;
        r[30] = 0.2;
        r[50] = 0.05;
        let c = carriers(&r, 1, 98, 0.0);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].frequency, 50.0);
        assert_eq!(c[1].frequency, 150.0);
        assert!(carriers(&r, 1, 98, 0.5).len() == 1);
    }
}
