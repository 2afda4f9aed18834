"""An independent numpy/scipy implementation of the IEC 61000-4-30 Class A measurement chain.

Nothing of PQE enters here: the recording is read with the `comtrade` package, and every
method below is written from the standards (IEC 61000-4-30 Ed.3 5.1–5.7, IEC 61000-4-7
Ed.2 5.5–5.6, IEEE 1459-2010), not from PQE's code. test_chain_crosscheck.py compares PQE's
`pqe analyze` tables against it.

Method, in short:

- Fundamental zero crossings (5.1, 5.3): the reference voltage (U_A) goes through a
  zero-phase (forward–backward) Butterworth band-pass around the nominal frequency, which
  removes DC, harmonics and most interharmonics without moving the fundamental's crossings;
  rising crossings are located by linear interpolation and refined with a cubic through
  the four samples around each crossing.
- 10/12-cycle intervals (5.2): gapless runs of exactly 10 (50 Hz) or 12 (60 Hz) cycles
  between rising crossings. At each 10-min tick of the clock the sequence resynchronises:
  the interval that straddles the tick is completed, and the next starts at the first
  crossing at or after the tick (IEC 61000-4-30 4.5.2, "overlap 1").
- Each window is resampled, by a Kaiser-windowed sinc (band-limited interpolation), onto M
  points spaced exactly window/M apart, so the window holds exactly 10/12 cycles on an
  integer grid: the DFT of the M points has 5 Hz lines with harmonic n on line c·n (an
  "exact-frequency" DFT, IEC 61000-4-7 4.4.1), and means over the M points (RMS, DC, P)
  are exact for the band-limited content (Parseval).
- Harmonic subgroups, interharmonic centred subgroups, groups (IEC 61000-4-7 5.5, 5.6), THD
  (components), THDS, THDG (clause 3, orders 2–50), K-factor (orders 1–50, subgroups).
- Power per IEEE 1459: P = mean(u·i); S = U·I; fundamental phasors give P1, Q1 (positive
  lagging), S1; PF = P/S; DPF = P1/S1; 3-phase 4-wire: Ve² = (3ΣU² + ΣU_LL²)/18,
  Ie² = (ΣI² + I_N²)/3, Se = 3·Ve·Ie, PF = P/Se, Q = ΣQ1; S1+ = 3·V1+·conj(I1+).
- Unbalance u2, u0 from the fundamental phasors by symmetrical components (5.7.2).
- 10-s frequency (5.1): for each 10-s period of the clock, the whole cycles (pairs of
  consecutive rising crossings) inside it, counted and divided by their summed duration.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import signal, special


# --------------------------------------------------------------------------- reading


@dataclass
class Recording:
    data: np.ndarray  # (channels, samples), float64, in the channel's unit
    fs: float
    names: list[str]
    start: dt.datetime  # absolute time of sample 0 (naive, UTC)
    line_frequency: float

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[self.names.index(name)]

    @property
    def n(self) -> int:
        return self.data.shape[1]


def read_comtrade(cfg_path) -> Recording:
    """Reads a COMTRADE recording with the independent `comtrade` package (double precision)."""
    import comtrade

    rec = comtrade.Comtrade()
    rec.load(str(cfg_path), use_double_precision=True)
    rates = rec.cfg.sample_rates
    if len(rates) != 1:
        raise ValueError(f"expected one sampling rate, got {rates}")
    data = np.asarray(rec.analog, dtype=np.float64)
    return Recording(
        data=data,
        fs=float(rates[0][0]),
        names=list(rec.analog_channel_ids),
        start=rec.start_timestamp,
        line_frequency=float(rec.frequency),
    )


# --------------------------------------------------------------------- zero crossings


def fundamental_zero_crossings(x: np.ndarray, fs: float, f_nom: float, edge_s: float = 0.5) -> np.ndarray:
    """Rising zero crossings of the fundamental of `x`, as fractional sample indices.

    Interior crossings come from a zero-phase band-pass (forward–backward Butterworth, so
    the fundamental's crossings do not move) with a cubic refinement; a forward–backward
    filter has start-up transients at the ends of the record, so crossings within `edge_s`
    of either end are re-estimated by a least-squares fit of a 4-cycle Fourier model
    (fundamental, harmonics and quarter-order interharmonics to order 15) around each."""
    sos = signal.butter(3, [0.6 * f_nom, 1.45 * f_nom], btype="bandpass", fs=fs, output="sos")
    pad = int(round(20 * fs / f_nom))
    y = signal.sosfiltfilt(sos, x, padtype="odd", padlen=min(pad, len(x) - 1))
    # Hysteresis: a crossing counts only when the signal went below -10 % of its amplitude
    # since the previous one.
    amp = np.sqrt(2.0) * np.sqrt(np.mean(y * y))
    neg = np.nonzero(y < -0.1 * amp)[0]
    idx = np.nonzero((y[:-1] < 0.0) & (y[1:] >= 0.0))[0]
    out = []
    last = -1
    for i in idx:
        j = np.searchsorted(neg, i, side="right") - 1
        if j < 0 or neg[j] <= last or i < 1 or i + 2 >= len(y):
            continue
        frac = -y[i] / (y[i + 1] - y[i])
        p = np.polyfit(np.arange(-1, 3, dtype=float), y[i - 1 : i + 3], 3)
        dp = np.polyder(p)
        for _ in range(4):
            frac -= np.polyval(p, frac) / np.polyval(dp, frac)
        out.append(i + frac)
        last = i
    zc = np.asarray(out)
    edge = edge_s * fs
    near = np.nonzero((zc < edge) | (zc > len(x) - 1 - edge))[0]
    for _ in range(3):  # the local period comes from the neighbours: sweep until settled
        for k in near:
            zc[k] = _refine_crossing_ls(x, zc, k)
    return zc


def _refine_crossing_ls(x: np.ndarray, zc: np.ndarray, k: int, cycles: int = 2) -> float:
    n = len(x)
    lo_k, hi_k = max(k - 2, 0), min(k + 2, len(zc) - 1)
    period = (zc[hi_k] - zc[lo_k]) / (hi_k - lo_k)
    orders = np.arange(0.0, 15.0 + 1e-9, 1.0 / cycles)
    j1 = int(np.nonzero(orders == 1.0)[0][0])
    z = zc[k]
    half = cycles * period / 2
    for _ in range(2):
        lo, hi = z - half, z + half
        if lo < 0:
            lo, hi = 0.0, 2 * half
        if hi > n - 1:
            lo, hi = n - 1 - 2 * half, n - 1.0
        i = np.arange(int(math.ceil(lo)), int(math.floor(hi)) + 1)
        ang = 2 * np.pi * np.outer((i - z) / period, orders)
        a = np.hstack([np.cos(ang), np.sin(ang[:, 1:])])
        c = np.linalg.solve(a.T @ a, a.T @ x[i])  # least squares (well conditioned basis)
        phi = math.atan2(c[j1], c[len(orders) + j1 - 1])  # u ≈ A·sin(2πτ + phi)
        z -= phi / (2 * np.pi) * period
    return z


# ------------------------------------------------------------------------ intervals


def cycles_per_interval(f_nom: float) -> int:
    return 10 if f_nom == 50 else 12


def interval_windows(
    zc: np.ndarray, fs: float, start: dt.datetime, f_nom: float, anchor: int = 0,
    resync_s: float = 600.0,
) -> list[tuple[float, float]]:
    """Gapless windows of 10/12 cycles (start, end in fractional samples), starting at the
    crossing `anchor`, resynchronised at every `resync_s` tick of the clock."""
    c = cycles_per_interval(f_nom)
    t0 = start.hour * 3600 + start.minute * 60 + start.second + start.microsecond * 1e-6
    ticks_done = math.floor(t0 / resync_s)
    windows = []
    k = anchor
    while k + c < len(zc):
        a, b = zc[k], zc[k + c]
        windows.append((a, b))
        k += c
        # the next tick of the clock, in samples from the recording's start
        tick = ((ticks_done + 1) * resync_s - t0) * fs
        if b >= tick:
            # the interval that straddles the tick was completed; restart at the first
            # crossing at or after the tick
            ticks_done = math.floor((t0 + b / fs) / resync_s)
            k = int(np.searchsorted(zc, tick, side="left"))
    return windows


# ------------------------------------------------------------------- resampled windows


class SincResampler:
    """Band-limited interpolation at arbitrary instants: Kaiser-windowed sinc, 2·half taps."""

    def __init__(self, half: int = 40, beta: float = 9.0):
        self.half = half
        self.beta = beta
        self.offsets = np.arange(-half + 1, half + 1)

    def __call__(self, data: np.ndarray, positions: np.ndarray) -> np.ndarray:
        base = np.floor(positions).astype(np.int64)
        frac = positions - base
        idx = base[:, None] + self.offsets[None, :]
        d = self.offsets[None, :] - frac[:, None]  # distance of each tap from the instant
        w = np.sinc(d) * _kaiser(d, self.half, self.beta)
        idx = np.clip(idx, 0, data.shape[-1] - 1)
        return np.einsum("cmt,mt->cm", data[:, idx], w)


def _kaiser(d: np.ndarray, half: int, beta: float) -> np.ndarray:
    r = np.clip(d / half, -1.0, 1.0)
    return special.i0(beta * np.sqrt(1.0 - r * r)) / special.i0(beta)


@dataclass
class ChannelResult:
    rms: float
    dc: float
    peak: float
    lines: np.ndarray  # complex RMS phasors C(k), k = 0 .. M/2 (C(0) = DC)
    c: int  # lines per fundamental cycle... i.e. cycles per window

    def line_rms(self) -> np.ndarray:
        return np.abs(self.lines)

    def subgroups(self, max_order: int = 63) -> np.ndarray:
        m = self.line_rms() ** 2
        c = self.c
        out = np.empty(max_order + 1)
        out[0] = math.sqrt(m[0] + m[1])
        for n in range(1, max_order + 1):
            out[n] = math.sqrt(m[c * n - 1] + m[c * n] + m[c * n + 1])
        return out

    def groups(self, max_order: int = 63) -> np.ndarray:
        m = self.line_rms() ** 2
        c, h = self.c, self.c // 2
        out = np.empty(max_order + 1)
        out[0] = math.sqrt(m[0 : h].sum() + 0.5 * m[h])
        for n in range(1, max_order + 1):
            k = c * n
            out[n] = math.sqrt(m[k - h + 1 : k + h].sum() + 0.5 * (m[k - h] + m[k + h]))
        return out

    def interharmonic_centred_subgroups(self, max_order: int = 63) -> np.ndarray:
        m = self.line_rms() ** 2
        c = self.c
        return np.array([math.sqrt(m[c * n + 2 : c * n + c - 1].sum()) for n in range(max_order + 1)])

    def components(self, max_order: int = 63) -> np.ndarray:
        return np.abs(self.lines[0 : self.c * max_order + 1 : self.c])

    def fundamental(self) -> complex:
        return self.lines[self.c]


def _thd(num: np.ndarray, den: float, H: int = 50) -> float:
    return 100.0 * math.sqrt(float(np.sum(num[2 : H + 1] ** 2))) / den


@dataclass
class IntervalResult:
    start: float  # samples
    end: float
    fs: float
    cycles: int
    channels: dict[str, ChannelResult]
    resampled: dict[str, np.ndarray] = field(repr=False)

    @property
    def t(self) -> float:
        return self.start / self.fs

    @property
    def frequency(self) -> float:
        return self.cycles * self.fs / (self.end - self.start)

    def thd(self, ch: str, H: int = 50) -> float:
        r = self.channels[ch]
        comp = r.components(H)
        return _thd(comp, comp[1], H)

    def thds(self, ch: str, H: int = 50) -> float:
        sg = self.channels[ch].subgroups(H)
        return _thd(sg, sg[1], H)

    def thdg(self, ch: str, H: int = 50) -> float:
        g = self.channels[ch].groups(H)
        return _thd(g, g[1], H)

    def k_factor(self, ch: str, H: int = 50) -> float:
        sg = self.channels[ch].subgroups(H)[1:]
        n = np.arange(1, H + 1)
        return float(np.sum((n * sg) ** 2) / np.sum(sg**2))

    def phase_deg(self, ch: str, ref: str = "U_A") -> float:
        a = np.angle(self.channels[ch].fundamental()) - np.angle(self.channels[ref].fundamental())
        return float(np.degrees(np.angle(np.exp(1j * a))))

    # --- IEEE 1459 per phase
    def phase_power(self, p: str) -> dict[str, float]:
        u, i = self.resampled[f"U_{p}"], self.resampled[f"I_{p}"]
        P = float(np.mean(u * i))
        U, I = self.channels[f"U_{p}"].rms, self.channels[f"I_{p}"].rms
        S = U * I
        s1 = self.channels[f"U_{p}"].fundamental() * np.conj(self.channels[f"I_{p}"].fundamental())
        return {"P": P, "Q1": float(s1.imag), "S": S, "PF": P / S, "DPF": float(s1.real) / abs(s1),
                "P1": float(s1.real), "S1": float(abs(s1))}

    def three_phase_power(self) -> dict[str, float]:
        ph = {p: self.phase_power(p) for p in "ABC"}
        u = {p: self.resampled[f"U_{p}"] for p in "ABC"}
        i = {p: self.resampled[f"I_{p}"] for p in "ABC"}
        rms = lambda x: float(np.sqrt(np.mean(x * x)))  # noqa: E731
        U2 = sum(rms(u[p]) ** 2 for p in "ABC")
        ULL2 = rms(u["A"] - u["B"]) ** 2 + rms(u["B"] - u["C"]) ** 2 + rms(u["C"] - u["A"]) ** 2
        I2 = sum(rms(i[p]) ** 2 for p in "ABC")
        IN2 = rms(i["A"] + i["B"] + i["C"]) ** 2
        Ve = math.sqrt((3 * U2 + ULL2) / 18)
        Ie = math.sqrt((I2 + IN2) / 3)
        P = sum(ph[p]["P"] for p in "ABC")
        Se = 3 * Ve * Ie
        # positive-sequence fundamental powers: S1+ = 3·V1+·conj(I1+)
        a = np.exp(2j * np.pi / 3)
        v = [self.channels[f"U_{p}"].fundamental() for p in "ABC"]
        c = [self.channels[f"I_{p}"].fundamental() for p in "ABC"]
        v1 = (v[0] + a * v[1] + a * a * v[2]) / 3
        i1 = (c[0] + a * c[1] + a * a * c[2]) / 3
        s1p = 3 * v1 * np.conj(i1)
        return {"P": P, "Q": sum(ph[p]["Q1"] for p in "ABC"), "S": Se, "PF": P / Se,
                "Ve": Ve, "Ie": Ie, "S_arith": sum(ph[p]["S"] for p in "ABC"),
                "P1pos": float(s1p.real), "Q1pos": float(s1p.imag), "S1pos": float(abs(s1p))}

    def unbalance(self) -> tuple[float, float]:
        a = np.exp(2j * np.pi / 3)
        va, vb, vc = (self.channels[f"U_{p}"].fundamental() for p in "ABC")
        v1 = (va + a * vb + a * a * vc) / 3
        v2 = (va + a * a * vb + a * vc) / 3
        v0 = (va + vb + vc) / 3
        return 100 * abs(v2) / abs(v1), 100 * abs(v0) / abs(v1)


def analyze_window(rec: Recording, start: float, end: float, cycles: int,
                   resampler: SincResampler, m: int | None = None) -> IntervalResult:
    """One interval: resample [start, end) onto m points and measure every channel."""
    n_raw = end - start
    if m is None:
        m = 1 << int(math.ceil(math.log2(n_raw)))
    pos = start + np.arange(m) * (n_raw / m)
    xs = resampler(rec.data, pos)  # (channels, m)
    spec = np.fft.rfft(xs, axis=1) / m
    spec[:, 1:] *= math.sqrt(2.0)  # RMS phasors (cosine reference at the window start)
    if m % 2 == 0:
        spec[:, -1] /= math.sqrt(2.0)
    # Peak: the largest sample magnitude of the raw samples inside the window.
    lo, hi = int(math.ceil(start)), int(math.floor(end))
    chans = {}
    for ci, name in enumerate(rec.names):
        x = xs[ci]
        chans[name] = ChannelResult(
            rms=float(np.sqrt(np.mean(x * x))),
            dc=float(np.mean(x)),
            peak=float(np.max(np.abs(rec.data[ci, lo : hi + 1]))),
            lines=spec[ci],
            c=cycles,
        )
    return IntervalResult(start=start, end=end, fs=rec.fs, cycles=cycles, channels=chans,
                          resampled={nm: xs[ci] for ci, nm in enumerate(rec.names)})


# ---------------------------------------------------------------------- 10-s frequency


def ten_second_frequency(zc: np.ndarray, fs: float, n_samples: int, start: dt.datetime,
                         period_s: float = 10.0) -> list[dict]:
    """IEC 61000-4-30 5.1: per 10-s period of the clock, whole cycles inside the period
    divided by their summed duration. `t` is the period's start in seconds from the
    recording's start; `complete` tells whether the recording covers the whole period."""
    t0 = start.hour * 3600 + start.minute * 60 + start.second + start.microsecond * 1e-6
    tz = zc / fs  # crossing times from the recording start
    first = math.floor(t0 / period_s)
    last = math.floor((t0 + n_samples / fs) / period_s)
    out = []
    for k in range(first, last + 1):
        a = k * period_s - t0
        b = a + period_s
        inside = tz[(tz >= a) & (tz < b)]
        if len(inside) < 2:
            continue
        cycles = len(inside) - 1
        out.append({
            "t": a,
            "f": cycles / (inside[-1] - inside[0]),
            "cycles": cycles,
            "complete": a >= 0 and b <= n_samples / fs,
        })
    return out
