//! The frequency grids of the supraharmonic range: the 200 Hz groups of IEC 61000-4-7
//! Annex B (2–9 kHz), the 2 kHz bins of IEC 61000-4-30 Ed.3 Annex C (9–150 kHz) and the
//! CENELEC bands of EN 50065-1 (3–148.5 kHz).

/// Width of one DFT line of the 0.2-s window, Hz.
pub const LINE_SPACING_HZ: f64 = 5.0;
/// Width of one bin of the 0.5-ms window, Hz.
pub const BIN_SPACING_HZ: f64 = 2000.0;

/// Centres of the 2–9 kHz groups, Hz: 2100, 2300, …, 8900 (IEC 61000-4-7 Annex B, eq. B.1).
pub fn group_centres() -> impl ExactSizeIterator<Item = f64> {
    (0..GROUP_COUNT).map(|j| 2100.0 + 200.0 * j as f64)
}

/// Number of 200 Hz groups between 2 and 9 kHz.
pub const GROUP_COUNT: usize = 35;

/// The 5 Hz lines that make up the group centred on `centre` Hz: from `centre − 95` to
/// `centre + 100` Hz inclusive, 40 lines, as DFT indices of a 0.2-s window. The lower edge
/// line (a harmonic of 50 Hz, e.g. 2000 Hz) belongs to the harmonic range, the upper edge
/// line (2200 Hz) to this group; no line is shared between groups.
pub fn group_lines(centre: f64) -> std::ops::RangeInclusive<usize> {
    let lo = ((centre - 95.0) / LINE_SPACING_HZ).round() as usize;
    let hi = ((centre + 100.0) / LINE_SPACING_HZ).round() as usize;
    lo..=hi
}

/// Centre of the lowest reported 2 kHz bin (the 9–11 kHz band), Hz.
pub const FIRST_BIN_HZ: f64 = 10_000.0;
/// Centre of the highest reported 2 kHz bin (the 147–149 kHz band), Hz. The 149–151 kHz bin
/// reaches past 150 kHz and is not reported.
pub const LAST_BIN_HZ: f64 = 148_000.0;
/// Number of 2 kHz bins from 10 to 148 kHz.
pub const BIN_COUNT: usize = 70;

/// Centres of the reported 2 kHz bins, Hz: 10 000, 12 000, …, 148 000.
pub fn bin_centres() -> impl ExactSizeIterator<Item = f64> {
    (0..BIN_COUNT).map(|j| FIRST_BIN_HZ + BIN_SPACING_HZ * j as f64)
}

/// DFT index of the reported bin `j` in a 0.5-ms window (index = centre / 2 kHz).
pub fn bin_index(j: usize) -> usize {
    5 + j
}

/// The frequency bands of EN 50065-1 for signalling on low-voltage installations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CenelecBand {
    /// 3–95 kHz: network operators and their licensees.
    A,
    /// 95–125 kHz: consumers, no access protocol.
    B,
    /// 125–140 kHz: consumers, CSMA access protocol mandatory.
    C,
    /// 140–148.5 kHz: consumers, no protocol (alarm and security systems).
    D,
}

impl CenelecBand {
    /// All four bands in order.
    pub const ALL: [CenelecBand; 4] = [
        CenelecBand::A,
        CenelecBand::B,
        CenelecBand::C,
        CenelecBand::D,
    ];

    /// The band's letter, as column names use it.
    pub fn letter(self) -> &'static str {
        match self {
            CenelecBand::A => "A",
            CenelecBand::B => "B",
            CenelecBand::C => "C",
            CenelecBand::D => "D",
        }
    }

    /// The band's edges as EN 50065-1 states them, Hz.
    pub fn edges_hz(self) -> (f64, f64) {
        match self {
            CenelecBand::A => (3_000.0, 95_000.0),
            CenelecBand::B => (95_000.0, 125_000.0),
            CenelecBand::C => (125_000.0, 140_000.0),
            CenelecBand::D => (140_000.0, 148_500.0),
        }
    }

    /// The lines, spaced `spacing` Hz, whose centres lie within the band's edges
    /// `[lo, hi)`: a line on an edge belongs to the band above it.
    pub fn lines(self, spacing: f64) -> std::ops::Range<usize> {
        let (lo, hi) = self.edges_hz();
        (lo / spacing).ceil() as usize..(hi / spacing).ceil() as usize
    }
}

/// Converts an RMS voltage to dBµV: `20·log10(U / 1 µV)`.
pub fn dbuv(volts: f64) -> f64 {
    20.0 * (volts / 1e-6).log10()
}

/// Converts a level in dBµV to an RMS voltage in volts.
pub fn volts_from_dbuv(level: f64) -> f64 {
    10f64.powf((level - 120.0) / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_edges_follow_annex_b() {
        // Band 2100: lines 2005…2200 Hz; 2000 Hz (harmonic 40) is not in it, 2205 Hz starts
        // band 2300; the last group ends at 9000 Hz.
        let g = group_lines(2100.0);
        assert_eq!((*g.start(), *g.end()), (401, 440));
        assert_eq!(g.count(), 40);
        assert_eq!(*group_lines(2300.0).start(), 441);
        assert_eq!(*group_lines(8900.0).end(), 1800);
        let centres: Vec<f64> = group_centres().collect();
        assert_eq!(centres.len(), GROUP_COUNT);
        for w in centres.windows(2) {
            assert_eq!(*group_lines(w[0]).end() + 1, *group_lines(w[1]).start());
        }
    }

    #[test]
    fn bins_and_bands_tile_the_range() {
        let c: Vec<f64> = bin_centres().collect();
        assert_eq!(c.first(), Some(&10_000.0));
        assert_eq!(c.last(), Some(&148_000.0));
        assert_eq!(bin_index(0), 5);
        assert_eq!(bin_index(BIN_COUNT - 1), 74);
        // On 200 Hz lines the bands tile 3–148.5 kHz without a gap or a shared line.
        let mut next = 15;
        for band in CenelecBand::ALL {
            let l = band.lines(200.0);
            assert_eq!(l.start, next, "{band:?}");
            next = l.end;
        }
        assert_eq!(next, 743);
        assert_eq!(CenelecBand::B.lines(200.0), 475..625);
    }

    #[test]
    fn dbuv_round_trips_the_reference_table() {
        // SUPRAHARMONICS.md §4: 122 dBµV = 1.26 V, 134 dBµV = 5.01 V, 230 V = 167.2 dBµV.
        assert!((volts_from_dbuv(122.0) - 1.2589).abs() < 1e-4);
        assert!((volts_from_dbuv(134.0) - 5.0119).abs() < 1e-4);
        assert!((dbuv(230.0) - 167.235).abs() < 1e-3);
        assert!((dbuv(volts_from_dbuv(97.3)) - 97.3).abs() < 1e-12);
    }
}
