"""Supraharmonics: `pqe analyze`'s supraharmonics_<channel>.csv against an independent
numpy/scipy implementation of the same methods, on a 500 kHz recording made here with numpy
(a 230 V supply at 49.8 Hz with its 5th harmonic, tones in the 2–9 kHz and 9–150 kHz
ranges, an on-off keyed 74 kHz carrier, a 36-carrier multitone burst in CENELEC band A, a
band B tone, and noise).

The reference follows the documented methods, written from their description and not from
PQE's code:
- pre-filter: 8th-order Butterworth high-pass (scipy.signal.butter, bilinear with
  prewarping) at 1.2 kHz for the 2–9 kHz groups and the PLC bands, at 6 kHz for the
  9–150 kHz bins, started at rest; every line or bin divided by the filter's gain at its
  centre; the grid starts 20 ms after the first sample, 0.2-s intervals;
- 2–9 kHz: rectangular 0.2-s DFT, groups of 5 Hz lines from b − 95 to b + 100 Hz;
- 9–150 kHz: 32 rectangular 0.5-ms windows at ⌊j·N/32⌋, bins 10…148 kHz, maximum and RMS;
- PLC: gapless 5-ms periodic-Hann windows, line powers normalised by Σw², band power over
  the lines with centres in [lo, hi), active windows ≥ max(1 mV², max/10), level = RMS over
  them.
Agreement is required within 0.1 % (the issue's bound) wherever the value is above the
noise.
"""

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

FS = 500_000
SECONDS = 1.3
BANDS = {"A": (3_000, 95_000), "B": (95_000, 125_000), "C": (125_000, 140_000), "D": (140_000, 148_500)}


def make_recording(path: Path) -> np.ndarray:
    rng = np.random.default_rng(7)
    n = int(FS * SECONDS)
    t = np.arange(n) / FS
    x = 230 * math.sqrt(2) * np.sin(2 * np.pi * 49.8 * t)
    x += 11.5 * math.sqrt(2) * np.sin(2 * np.pi * 5 * 49.8 * t + 0.4)
    for f, rms, ph in [(2100, 0.8, 0.1), (4402.5, 0.3, 1.0), (7700, 0.05, 2.0), (40_000, 0.1, 0.3), (101_000, 0.2, 0.9)]:
        x += rms * math.sqrt(2) * np.sin(2 * np.pi * f * t + ph)
    # A 36-carrier multitone burst (G3-like carriers, fixed phases) from 0.3 to 0.7 s.
    burst = np.zeros(n)
    for k in range(23, 59):
        burst += math.sqrt(2 / 36) * 0.9 * np.cos(2 * np.pi * k * 1562.5 * t + rng.uniform(0, 2 * np.pi))
    gate = (t >= 0.3) & (t < 0.7)
    x += np.where(gate, burst, 0.0)
    # On-off keyed 74 kHz carrier, 0.35 V, 50 ms on / 50 ms off.
    x += np.where((t % 0.1) < 0.05, 0.35 * math.sqrt(2) * np.sin(2 * np.pi * 74_000 * t), 0.0)
    x += 0.02 * math.sqrt(2) * np.sin(2 * np.pi * 110_000 * t)
    x += rng.normal(0, 0.002, n)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "U_A"])
        for ti, xi in zip(t, x):
            w.writerow([repr(float(ti)), repr(float(xi))])
    return x


def reference(x: np.ndarray) -> list[dict]:
    sos_b = signal.butter(8, 1200, "highpass", fs=FS, output="sos")
    sos_c = signal.butter(8, 6000, "highpass", fs=FS, output="sos")
    yb = signal.sosfilt(sos_b, x)
    yc = signal.sosfilt(sos_c, x)

    def gain(sos, f):
        _, h = signal.sosfreqz(sos, worN=np.atleast_1d(np.asarray(f, dtype=float)), fs=FS)
        return np.abs(h)

    n = int(0.2 * FS)
    m = int(0.5e-3 * FS)
    L = int(5e-3 * FS)
    settle = math.ceil(0.02 * FS)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(L) / L)
    line_f = np.arange(n // 2 + 1) * 5.0
    gain_lines = gain(sos_b, line_f[1:1801])
    bin_idx = np.arange(5, 75)
    gain_bins = gain(sos_c, bin_idx * 2000.0)
    plc_lines = np.arange(743)
    gain_plc = gain(sos_b, np.maximum(plc_lines, 1) * 200.0)
    rows = []
    start = settle
    while start + n <= len(x):
        row = {"t": start / FS}
        seg = yb[start : start + n]
        X = np.fft.rfft(seg)
        p = np.abs(X[1:1801]) ** 2 * 2 / n**2 / gain_lines**2  # lines 1..1800
        for j in range(35):
            b = 2100 + 200 * j
            lo, hi = (b - 95) // 5, (b + 100) // 5
            row[f"G{b}"] = math.sqrt(p[lo - 1 : hi].sum())
        segc = yc[start : start + n]
        win = []
        for j in range(32):
            o = j * n // 32
            Y = np.fft.rfft(segc[o : o + m])
            win.append(np.abs(Y[bin_idx]) ** 2 * 2 / m**2 / gain_bins**2)
        win = np.array(win)
        for i, k in enumerate(bin_idx):
            c = k * 2
            row[f"B{c}k"] = math.sqrt(win[:, i].max())
            row[f"B{c}k_rms"] = math.sqrt(win[:, i].mean())
        powers = []
        for w in range(n // L):
            Z = np.fft.rfft(seg[w * L : (w + 1) * L] * hann)
            lp = np.abs(Z[:743]) ** 2 * 2 / (L * (hann**2).sum()) / gain_plc**2
            lp[0] = 0.0
            powers.append(lp)
        powers = np.array(powers)
        for band, (lo, hi) in BANDS.items():
            a, b = math.ceil(lo / 200), math.ceil(hi / 200)
            bp = powers[:, a:b].sum(axis=1)
            thr = max(1e-6, 0.1 * bp.max())
            active = bp[(bp >= thr) & (bp > 0)]
            row[f"PLC_{band}"] = math.sqrt(active.mean()) if len(active) else float("nan")
            row[f"PLC_{band}_peak"] = math.sqrt(bp.max())
            row[f"PLC_{band}_rms"] = math.sqrt(bp.mean())
            row[f"PLC_{band}_active"] = len(active) / len(bp)
        rows.append(row)
        start += n
    return rows


def test_supraharmonics_agree_with_numpy(tmp_path, run_pqe):
    rec = tmp_path / "supra.csv"
    x = make_recording(rec)
    out = tmp_path / "out"
    run_pqe("analyze", rec, "--out", out, "--wiring", "single", "--no-flicker")
    table = out / "supraharmonics_U_A.csv"
    assert table.is_file(), sorted(p.name for p in out.iterdir())
    with table.open() as f:
        got = list(csv.DictReader(f))
    want = reference(x)
    assert len(got) == len(want) == 6, (len(got), len(want))
    checked = 0
    for g, w in zip(got, want):
        assert abs(float(g["t"]) - w["t"]) < 1e-9
        for key, ref in w.items():
            if key == "t" or key.endswith("_active"):
                continue
            value = float(g[key]) if g[key] != "" else float("nan")
            if math.isnan(ref):
                assert math.isnan(value), (g["t"], key, value)
                continue
            if ref < 1e-3:  # the noise floor: absolute agreement
                assert abs(value - ref) < 1e-5, (g["t"], key, value, ref)
                continue
            assert abs(value / ref - 1) < 1e-3, (g["t"], key, value, ref)
            checked += 1
        for band in BANDS:
            assert abs(float(g[f"PLC_{band}_active"]) - w[f"PLC_{band}_active"]) < 1e-12
    assert checked > 100, checked
    # The comparison tells the methods apart: where a carrier is keyed on and off inside an
    # interval (74 kHz, 50 ms on / 50 ms off), the maximum of the 32 windows (Annex C) and
    # their RMS differ by far more than the 0.1 % bound, and both were checked above; the
    # G3-like burst and the keyed 74 kHz carrier make band A's level while active differ from
    # its interval RMS (the steady 40 kHz tone is kept below a tenth of their power, so the
    # windows without them are not active).
    assert min(w["B74k"] / w["B74k_rms"] for w in want) > 1.2
    burst = [w for w in want if 0 < w["PLC_A_active"] < 1]
    assert burst and all(w["PLC_A"] / w["PLC_A_rms"] > 1.05 for w in burst)
    # The tones sit where they should.
    first = got[0]
    assert abs(float(first["G2100"]) / 0.8 - 1) < 1e-3
    assert abs(float(first["B40k_rms"]) / 0.1 - 1) < 5e-3
