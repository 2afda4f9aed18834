"""Cross-check of PQE's IEC 61000-4-30 Class A chain against an independent implementation.

The recording is a realistic one from the scenario generator (tests/data/scenarios/
crosscheck-50hz.toml and crosscheck-60hz.toml: 3 U + 3 I wye supply, off-nominal wandering
frequency, harmonics, interharmonics, u2/u0 unbalance, a PF 0.9 load with its own
harmonics, noise, a 10-min clock tick inside the recording). `pqe analyze` measures it;
tests/python/reference_pq.py recomputes every interval from the samples as read by the
`comtrade` package, finding its own zero crossings and windows, and every PQE interval
(every row, not a sample) must agree within the issue's tolerances, the Class A / Class I
limits divided by ten:

| quantity | tolerance |
|---|---|
| 10-s frequency, interval frequency | ±1 mHz |
| 10/12-cycle RMS (and DC, peak) | ±0.01 % of Udin (currents: of Inom) |
| under/over-deviation | ±0.01 percentage point |
| harmonic subgroups, interharmonic centred subgroups | ±0.5 % of reading when ≥ 1 % Unom (currents ≥ 3 % Inom), else ±0.005 % Unom (currents ±0.015 % Inom) |
| fundamental phase angles | ±0.5° |
| THD, THDS, THDG, TDD, K-factor | ±0.5 % of reading (they are ratios of subgroups) |
| crest factor | ±0.02 % of reading (peak and RMS errors add) |
| P, Q1, S, PF, DPF (per phase and 3-phase) | ±0.01 % of reading |
| u2, u0 | ±0.015 % absolute |

Inom is taken as the mean configured fundamental load current, I_L (for TDD) as 1.25 × Inom.
Peak is the largest |raw sample| inside the window, compared with the RMS tolerance.

pqopen-lib (PyPI, tests marked with its name) is compared where it has the quantity; its
methods are documented at `run_pqopen` with the tolerances they justify.

The default run does the 50 Hz and the 60 Hz recordings; a 5-minute 50 Hz variant is
marked slow.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import reference_pq as ref

import comtrade  # noqa: F401  (installed by tests/requirements.txt)
import scipy  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "tests" / "data" / "scenarios"

# worst |deviation| / tolerance per quantity, reported at the end of the module
WORST: dict[str, tuple[float, str]] = {}


# ------------------------------------------------------------------------- the cases


@dataclass
class Case:
    name: str
    scenario: dict
    f_nom: float
    udin: float
    inom: float
    rec: ref.Recording
    zc: np.ndarray
    out: Path
    intervals: dict[str, np.ndarray]
    frequency: dict[str, np.ndarray]
    harmonics: dict[str, dict[str, np.ndarray]]
    ref_windows: list[tuple[float, float]] = field(default_factory=list)
    results: list[ref.IntervalResult] = field(default_factory=list)

    @property
    def cycles(self) -> int:
        return ref.cycles_per_interval(self.f_nom)

    def nominal(self, ch: str) -> float:
        return self.udin if ch.startswith("U") else self.inom


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    cols = {}
    for j, name in enumerate(head):
        cols[name] = np.array([float(r[j]) if r[j] != "" else math.nan for r in body])
    return cols


# I_L for TDD (IEEE 519): the maximum demand load current, here 1.25 × Inom
LOAD_CURRENT_FACTOR = 1.25

CASES = {
    "50hz": ("crosscheck-50hz.toml", None),
    "60hz": ("crosscheck-60hz.toml", None),
    "50hz-5min": ("crosscheck-50hz.toml", 300.0),
}


def _build_case(name: str, tmp: Path, run_pqe) -> Case:
    toml_name, duration = CASES[name]
    text = (SCEN / toml_name).read_text()
    if duration is not None:
        lines = [f"duration = {duration}" if ln.startswith("duration =") else ln for ln in text.splitlines()]
        text = "\n".join(lines) + "\n"
    scen_path = tmp / f"{name}.toml"
    scen_path.write_text(text)
    scenario = tomllib.loads(text)
    cfg = tmp / f"{name}.cfg"
    run_pqe("generate", "-f", scen_path, cfg)
    out = tmp / f"{name}-out"
    f_nom = float(scenario["nominal_frequency"])
    udin = float(scenario["udin"])
    inom = float(np.mean(scenario["current"]["magnitude"]))
    run_pqe("analyze", cfg, "--out", out, "--nominal-voltage", udin, "--nominal-frequency", int(f_nom),
            "--wiring", "wye", "--load-current", LOAD_CURRENT_FACTOR * inom)
    rec = ref.read_comtrade(cfg)
    zc = ref.fundamental_zero_crossings(rec["U_A"], rec.fs, f_nom)
    harmonics = {ch: _read_csv(out / f"harmonics_{ch}.csv") for ch in rec.names}
    return Case(
        name=name, scenario=scenario, f_nom=f_nom, udin=udin,
        inom=inom,
        rec=rec, zc=zc, out=out,
        intervals=_read_csv(out / "intervals.csv"),
        frequency=_read_csv(out / "frequency.csv"),
        harmonics=harmonics,
    )


@pytest.fixture(
    scope="module",
    params=["50hz", "60hz", pytest.param("50hz-5min", marks=pytest.mark.slow)],
)
def case(request, tmp_path_factory, run_pqe) -> Case:
    c = _build_case(request.param, tmp_path_factory.mktemp(request.param), run_pqe)
    # The reference's own windows, anchored at the crossing where PQE's first interval starts
    # (PQE may let its tracker settle for a few cycles first): from there on the sequence,
    # gapless and resynchronised at the 10-min tick, is the reference's.
    fs = c.rec.fs
    t0 = c.intervals["t"][0] * fs
    anchor = int(np.argmin(np.abs(c.zc - t0)))
    assert abs(c.zc[anchor] - t0) < 0.25, (
        f"PQE's first interval starts at sample {t0:.4f}, no fundamental zero crossing there "
        f"(nearest {c.zc[anchor]:.4f})")
    # PQE may skip the first cycles while its tracker settles, but not whole intervals' worth
    assert anchor <= 2 * c.cycles, f"PQE's first interval starts only at crossing {anchor}"
    c.ref_windows = ref.interval_windows(c.zc, fs, c.rec.start, c.f_nom, anchor=anchor)
    rs = ref.SincResampler()
    c.results = [ref.analyze_window(c.rec, a, b, c.cycles, rs) for a, b in c.ref_windows]
    return c


def _record(key: str, ratio: float, where: str):
    if key not in WORST or ratio > WORST[key][0]:
        WORST[key] = (ratio, where)


def _check(case: Case, key: str, pqe: np.ndarray, refv: np.ndarray, tol: np.ndarray | float, unit="",
           names=("pqe", "ref")):
    """Every |pqe − ref| ≤ tol; records the worst ratio; fails listing the worst rows."""
    pqe = np.asarray(pqe, float)
    refv = np.asarray(refv, float)
    tol = np.broadcast_to(np.asarray(tol, float), refv.shape)
    assert np.all(np.isfinite(pqe)), f"{case.name} {key}: {names[0]} gives non-finite values"
    d = np.abs(pqe - refv)
    ratio = d / tol
    i = int(np.argmax(ratio))
    _record(f"{case.name} {key}", float(ratio[i]),
            f"{names[0]} {pqe.flat[i]:.9g} {names[1]} {refv.flat[i]:.9g} tol {tol.flat[i]:.3g}{unit}")
    bad = np.nonzero(ratio > 1)[0]
    assert len(bad) == 0, (
        f"{case.name} {key}: {len(bad)} of {len(d)} values out of tolerance; worst: "
        + "; ".join(f"[{j}] {names[0]} {pqe[j]:.9g} {names[1]} {refv[j]:.9g} (Δ {pqe[j] - refv[j]:.3g}, tol {tol[j]:.3g}{unit})"
                    for j in bad[np.argsort(-ratio[bad])][:5]))


# ----------------------------------------------------------------- the reference itself


def _truth_phase_cycles(case: Case, t: np.ndarray) -> np.ndarray:
    """The scenario's U_A fundamental phase in cycles (docs/scenarios.md signal model)."""
    s = case.scenario
    fr = s.get("frequency", {})
    th = (case.f_nom + fr.get("offset", 0.0)) * t
    for w in fr.get("wander", []):
        ph = math.radians(w.get("phase", 0.0))
        th += -w["amplitude"] * w["period"] / (2 * math.pi) * (
            np.cos(2 * math.pi * t / w["period"] + ph) - math.cos(ph))
    v = s["voltage"]
    ua = 1 + v.get("u2", 0) / 100 * np.exp(1j * math.radians(v.get("u2_angle", 0))) \
        + v.get("u0", 0) / 100 * np.exp(1j * math.radians(v.get("u0_angle", 0)))
    return th + np.angle(ua) / (2 * math.pi)


def test_reference_zero_crossings_match_analytic_truth(case):
    """The reference's crossings sit on the scenario's analytic fundamental (its own check)."""
    t = case.zc / case.rec.fs
    ph = _truth_phase_cycles(case, t)
    err_samples = (ph - np.round(ph)) / (case.f_nom) * case.rec.fs
    assert np.max(np.abs(err_samples)) < 0.1, np.max(np.abs(err_samples))
    # and there is one crossing per cycle, none missed
    assert np.all(np.diff(np.round(ph)) == 1)


def test_reference_rms_matches_analytic_truth(case):
    """The reference's interval RMS of the voltages, against the scenario's components:
    fundamental of the phase (positive sequence + u2 + u0), harmonics and interharmonics in
    % of it, and noise. The median over the intervals stays within the RMS tolerance (the
    non-synchronous tone leaves a small beat in single intervals)."""
    s = case.scenario
    v = s["voltage"]
    a = np.exp(2j * np.pi / 3)
    rot = {"A": 1, "B": a * a, "C": a}  # positive-sequence angles 0°, −120°, +120°
    pct2 = sum(c["magnitude"] ** 2 for c in v.get("harmonics", []) + v.get("interharmonics", [])) / 1e4
    noise = case.udin * 10 ** (s["noise"]["voltage_db"] / 20)
    for p in "ABC":
        # negative sequence rotates the other way, zero sequence not at all
        u1 = v["magnitude"] * abs(
            rot[p] + v["u2"] / 100 * np.exp(1j * math.radians(v["u2_angle"])) * np.conj(rot[p])
            + v["u0"] / 100 * np.exp(1j * math.radians(v["u0_angle"])))
        truth = math.sqrt(u1**2 * (1 + pct2) + noise**2)
        got = np.median([r.channels[f"U_{p}"].rms for r in case.results])
        assert abs(got - truth) < 1e-4 * case.udin, (p, got, truth)
        h1 = np.median([r.channels[f"U_{p}"].subgroups(1)[1] for r in case.results])
        assert abs(h1 - u1) < 1e-4 * case.udin, (p, h1, u1)


# ------------------------------------------------------------------- interval sequence


def test_intervals_are_the_reference_windows(case):
    """Every PQE interval is a reference window (start within 0.25 sample, same length),
    in order, gapless except the 10-min resynchronisation, none missing, none flagged."""
    fs = case.rec.fs
    t = case.intervals["t"]
    f = case.intervals["f"]
    starts = np.array([a for a, _ in case.ref_windows])
    n = len(t)
    assert n >= len(starts) - 1, f"PQE has {n} intervals, the reference {len(starts)}"
    n = min(n, len(starts))
    dstart = t[:n] * fs - starts[:n]
    assert np.max(np.abs(dstart)) < 0.25, (
        f"interval starts differ by up to {np.max(np.abs(dstart)):.3f} samples "
        f"(first at row {int(np.argmax(np.abs(dstart) > 0.25))})")
    assert len(t) <= len(starts), f"PQE has {len(t) - len(starts)} intervals after the reference's last"
    assert not np.any(case.intervals["flagged"] != 0), "a clean recording has flagged intervals"
    _record(f"{case.name} interval start (samples)", float(np.max(np.abs(dstart))) / 0.25, "tol 0.25 sample")
    # the reference's frequency for the window, cycles / duration
    _check(case, "interval f", f[:n], [r.frequency for r in case.results[:n]], 1e-3, " Hz")


# ------------------------------------------------------------------------- frequency


def test_ten_second_frequency(case):
    fs = case.rec.fs
    ours = ref.ten_second_frequency(case.zc, fs, case.rec.n, case.rec.start)
    fq = case.frequency
    assert len(fq["t"]) == len(ours), (list(fq["t"]), [o["t"] for o in ours])
    for k, o in enumerate(ours):
        assert abs(fq["t"][k] - o["t"]) < 1e-6
        assert bool(fq["flagged"][k]) == (not o["complete"]), (
            f"period at t={o['t']}: flagged={fq['flagged'][k]} but complete={o['complete']}")
    complete = np.array([o["complete"] for o in ours])
    assert complete.sum() >= 2
    _check(case, "10-s f", fq["f"][complete], np.array([o["f"] for o in ours])[complete], 1e-3, " Hz")


# ---------------------------------------------------------------------- RMS and kin


def _n(case):
    return min(len(case.intervals["t"]), len(case.results))


@pytest.mark.parametrize("ch", ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"])
def test_rms_dc_peak(case, ch):
    n = _n(case)
    res = case.results[:n]
    iv = case.intervals
    tol = 1e-4 * case.nominal(ch)
    _check(case, f"RMS {ch}", iv[ch][:n], [r.channels[ch].rms for r in res], tol)
    _check(case, f"DC {ch}", iv[f"DC_{ch}"][:n], [r.channels[ch].dc for r in res], tol)
    # Peak: the largest |sample| inside the window (no interpolation between samples: the
    # samples are what the instrument saw). Both take the raw samples.
    _check(case, f"PK {ch}", iv[f"PK_{ch}"][:n], [r.channels[ch].peak for r in res], tol)
    cf = np.array([r.channels[ch].peak / r.channels[ch].rms for r in res])
    _check(case, f"CF {ch}", iv[f"CF_{ch}"][:n], cf, 2e-4 * cf)
    if ch.startswith("U"):
        u = np.array([r.channels[ch].rms for r in res])
        under = (case.udin - np.minimum(u, case.udin)) / case.udin * 100
        over = (np.maximum(u, case.udin) - case.udin) / case.udin * 100
        _check(case, f"UNDER {ch}", iv[f"UNDER_{ch}"][:n], under, 0.01, " %")
        _check(case, f"OVER {ch}", iv[f"OVER_{ch}"][:n], over, 0.01, " %")


# ------------------------------------------------------------------------ harmonics


def _harmonic_tol(case: Case, ch: str, refv: np.ndarray) -> np.ndarray:
    nom = case.nominal(ch)
    if ch.startswith("U"):
        return np.where(refv >= 0.01 * nom, 0.005 * refv, 5e-5 * nom)
    return np.where(refv >= 0.03 * nom, 0.005 * refv, 1.5e-4 * nom)


@pytest.mark.parametrize("ch", ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"])
def test_harmonic_and_interharmonic_subgroups(case, ch):
    """H0…H63 and IH0…IH63 of every interval (every order, every row)."""
    n = _n(case)
    res = case.results[:n]
    h = case.harmonics[ch]
    assert np.allclose(h["t"][:n], case.intervals["t"][:n], rtol=0, atol=1e-9)
    sg = np.array([r.channels[ch].subgroups(63) for r in res])
    ih = np.array([r.channels[ch].interharmonic_centred_subgroups(63) for r in res])
    pqe_sg = np.column_stack([h[f"H{k}"][:n] for k in range(64)])
    pqe_ih = np.column_stack([h[f"IH{k}"][:n] for k in range(64)])
    _check(case, f"H subgroups {ch}", pqe_sg.ravel(), sg.ravel(), _harmonic_tol(case, ch, sg).ravel())
    _check(case, f"IH centred subgroups {ch}", pqe_ih.ravel(), ih.ravel(), _harmonic_tol(case, ch, ih).ravel())


@pytest.mark.parametrize("ch", ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"])
def test_distortion_ratios_and_phase(case, ch):
    n = _n(case)
    res = case.results[:n]
    iv = case.intervals
    for key, fn in [("THD", ref.IntervalResult.thd), ("THDS", ref.IntervalResult.thds),
                    ("THDG", ref.IntervalResult.thdg)]:
        v = np.array([fn(r, ch) for r in res])
        _check(case, f"{key} {ch}", iv[f"{key}_{ch}"][:n], v, 0.005 * v, " %")
    if ch.startswith("I"):
        k = np.array([r.k_factor(ch) for r in res])
        _check(case, f"K {ch}", iv[f"K_{ch}"][:n], k, 0.005 * k)
        i_l = LOAD_CURRENT_FACTOR * case.inom
        tdd = np.array([100 * math.sqrt(float(np.sum(r.channels[ch].subgroups(50)[2:] ** 2))) / i_l for r in res])
        _check(case, f"TDD {ch}", iv[f"TDD_{ch}"][:n], tdd, 0.005 * tdd, " %")
    phi = np.array([r.phase_deg(ch) for r in res])
    d = (iv[f"PHI_{ch}"][:n] - phi + 180) % 360 - 180
    _check(case, f"PHI {ch}", phi + d, phi, 0.5, "°")


# ---------------------------------------------------------------------------- power


@pytest.mark.parametrize("p", ["A", "B", "C"])
def test_phase_power(case, p):
    n = _n(case)
    pw = [r.phase_power(p) for r in case.results[:n]]
    iv = case.intervals
    for key, col in [("P", f"P_{p}"), ("Q1", f"Q1_{p}"), ("S", f"S_{p}"), ("PF", f"PF_{p}"), ("DPF", f"DPF_{p}")]:
        v = np.array([x[key] for x in pw])
        _check(case, col, iv[col][:n], v, 1e-4 * np.abs(v))


def test_three_phase_power(case):
    n = _n(case)
    pw = [r.three_phase_power() for r in case.results[:n]]
    iv = case.intervals
    for key in ["P", "Q", "S", "PF", "S_arith", "Ve", "Ie", "P1pos", "Q1pos", "S1pos"]:
        if key in ("P", "Q", "S", "PF"):
            assert key in iv, f"intervals.csv has no {key} column"
        elif key not in iv:
            continue
        v = np.array([x[key] for x in pw])
        _check(case, key, iv[key][:n], v, 1e-4 * np.abs(v))


def test_unbalance(case):
    n = _n(case)
    ub = np.array([r.unbalance() for r in case.results[:n]])
    _check(case, "u2", case.intervals["u2"][:n], ub[:, 0], 0.015, " %")
    _check(case, "u0", case.intervals["u0"][:n], ub[:, 1], 0.015, " %")
    # and the reference agrees with the scenario's configured unbalance
    v = case.scenario["voltage"]
    assert abs(np.median(ub[:, 0]) - v.get("u2", 0)) < 0.02
    assert abs(np.median(ub[:, 1]) - v.get("u0", 0)) < 0.02


# ------------------------------------------------------------------------- pqopen-lib


def run_pqopen(case: Case) -> dict:
    """Runs pqopen-lib's PowerSystem over the recording and returns its multi-period values.

    What pqopen-lib 0.10.5 computes (read from pqopen/powersystem.py, powerquality.py,
    zcd.py) and how it differs from IEC 61000-4-30 Class A:
    - zero crossings of U_A after a 2nd-order Butterworth low-pass at the nominal frequency,
      with the filter's delay at the cut-off removed, located to a fraction of a sample
      (per-cycle frequency 'Freq' uses the fractions);
    - the 10/12-cycle window runs between crossings ROUNDED TO WHOLE SAMPLES, so its length
      is off by up to one sample (plus the crossing error): RMS, P and the spectrum are those
      of a window up to ~1/2000 longer or shorter than 10 cycles;
    - RMS and P = mean over those raw samples;
    - harmonics: the window LINEARLY INTERPOLATED to 2^k points (voltage 2048, current 1024
      here), real FFT, subgroups of 3 lines; no anti-aliasing; linear interpolation
      attenuates order h by up to (2π·h·f/fs)²/8, 1.3 % at order 13 for 10.24 kHz;
    - u2, u0 by symmetrical components of the fundamental lines (same method as 5.7.2);
    - Q per phase ('Q{A}_H1') from the fundamental lines: the same quantity as IEEE 1459 Q1;
      its 'Q{A}_t' is √(S² − P²) (IEEE 1459's N), not compared;
    - no 10-s frequency record: it is rebuilt here from the per-cycle 'Freq' values with the
      IEC rule (whole cycles inside the 10-s period / their summed duration);
    - with `enable_nper_abs_time_sync` it resynchronises at the 10-min tick like 4.5.2.
    Not compared: interharmonics (its IH takes lines 2..8 after each harmonic: the centred
    subgroup at 50 Hz, but not at 60 Hz where it should be 2..10; and its window-length
    error leaks ~0.1 % of the fundamental into the lines next to it, the size of the
    interharmonics themselves); THD (subgroups to order 40 over H1 only; THDS/THDG/K/TDD
    absent); harmonics of currents (resampled to 1024 points only); S, PF, DPF, Ve/Ie/Se,
    peak, crest factor, DC (not computed per interval).
    """
    from daqopen.channelbuffer import AcqBuffer
    from pqopen.powersystem import PowerSystem

    rec = case.rec
    fs, n = rec.fs, rec.n
    bufs = {nm: AcqBuffer(size=n + 16, dtype=np.float64, name=nm) for nm in rec.names}
    tbuf = AcqBuffer(size=n + 16, dtype=np.float64, name="time")
    epoch_us = (rec.start.replace(tzinfo=dt.timezone.utc).timestamp()) * 1e6
    ps = PowerSystem(zcd_channel=bufs["U_A"], input_samplerate=fs, zcd_cutoff_freq=case.f_nom,
                     zcd_threshold=0.01 * case.udin, nominal_frequency=case.f_nom, nper=case.cycles)
    for p in "ABC":
        ps.add_phase(u_channel=bufs[f"U_{p}"], i_channel=bufs[f"I_{p}"], name=p)
    ps.enable_harmonic_calculation(50)
    ps.enable_nper_abs_time_sync(tbuf, interval_sec=600)
    block = int(fs)
    parts: dict[str, list] = {}
    done = 0  # values stamped before this sample index were read already
    for s in range(0, n, block):
        e = min(n, s + block)
        for ci, nm in enumerate(rec.names):
            bufs[nm].put_data(rec.data[ci, s:e])
        tbuf.put_data(epoch_us + np.arange(s, e) * 1e6 / fs)
        ps.process()
        # drain after every block: pqopen's result buffers are rings (5000 values). A crossing
        # near the end of a block is found with the next one, so leave the last cycles.
        upto = n + 1 if e == n else e - int(3 * fs / case.f_nom)
        for name, chan in ps.output_channels.items():
            data, sidx = chan.read_data_by_acq_sidx(done, upto)
            parts.setdefault(name, []).append((np.asarray(data, dtype=np.float64), np.asarray(sidx, dtype=np.float64)))
        done = upto
    out = {}
    for name, chunks in parts.items():
        data = [d for d, _ in chunks if len(d)]
        sidx = [i for d, i in chunks if len(d)]
        if data:
            out[name] = (np.concatenate(data), np.concatenate(sidx))
    return out


@pytest.fixture(scope="module")
def pqopen_out(case):
    return run_pqopen(case)


def _pqopen_match(case: Case, sidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs PQE rows with pqopen values by the interval's end (pqopen stamps its value at the
    rounded end sample): rows whose ends agree within 1.5 samples."""
    fs = case.rec.fs
    end = (case.intervals["t"] + case.cycles / case.intervals["f"]) * fs
    j = np.searchsorted(sidx, end)
    j = np.clip(j, 1, len(sidx) - 1)
    j = np.where(np.abs(sidx[j - 1] - end) < np.abs(sidx[j] - end), j - 1, j)
    ok = np.abs(sidx[j] - end) < 1.5
    return np.nonzero(ok)[0], j[ok]


def _window_edge_bound(case: Case, n_samples: float, excursion: np.ndarray) -> np.ndarray:
    """Relative error bound of a mean over a window whose two ends are each off by up to
    0.5 sample (rounding) + 0.1 sample (crossing error): Σ|δ|·max|x/mean − 1| / N."""
    return 1.2 * excursion / n_samples


def _first_tick(case: Case, period_s: float = 600.0) -> float:
    s = case.rec.start
    t0 = s.hour * 3600 + s.minute * 60 + s.second + s.microsecond * 1e-6
    return math.ceil(t0 / period_s) * period_s - t0


def test_pqopen_rms_power(case, pqopen_out):
    rows, j = _pqopen_match(case, pqopen_out["UA_rms"][1])
    # Before the first 10-min tick pqopen's 10/12-cycle sequence starts at its own first
    # crossings and PQE's at its own, so windows pair only by chance; from the tick on both
    # resynchronise (IEC 61000-4-30 4.5.2) and every interval must pair.
    after = np.nonzero(case.intervals["t"] >= _first_tick(case))[0]
    missing = np.setdiff1d(after[:-1], rows)
    assert len(missing) == 0, f"PQE intervals at t={case.intervals['t'][missing][:5]} have no pqopen twin"
    iv = case.intervals
    n_win = case.cycles * case.rec.fs / iv["f"][rows]
    for p in "ABC":
        for q, col in [("U", f"U_{p}"), ("I", f"I_{p}")]:
            cf = iv[f"CF_{col}"][rows]
            # mean square: |x²/MS − 1| ≤ CF² − 1 (or 1 at a zero); RMS error is half of it
            bound = 0.5 * _window_edge_bound(case, n_win, np.maximum(1.0, cf**2 - 1))
            v = pqopen_out[f"{q}{p}_rms"][0][j]
            _check(case, f"pqopen RMS {col}", v, iv[col][rows], bound * iv[col][rows] + 1e-4 * case.nominal(col), names=("pqopen", "pqe"))
        # p(t)/P ≤ CF_U·CF_I·S/P
        exc = iv[f"CF_U_{p}"][rows] * iv[f"CF_I_{p}"][rows] / iv[f"PF_{p}"][rows] + 1
        bound = _window_edge_bound(case, n_win, exc)
        v = pqopen_out[f"P{p}"][0][j]
        _check(case, f"pqopen P_{p}", v, iv[f"P_{p}"][rows], (bound + 1e-4) * np.abs(iv[f"P_{p}"][rows]), names=("pqopen", "pqe"))


def test_pqopen_fundamental_unbalance_q1(case, pqopen_out):
    """Fundamental-line quantities. pqopen's window is off 10/12 cycles by |δ| ≤ 1.2 samples
    (two rounded ends plus crossing error), so the negative-frequency image of each
    fundamental leaks into its line by ≤ |δ|/(2N) of it, with a phase that turns the other
    way: the images of the positive-sequence set form a negative-sequence set. Hence
    |Δu2|, |Δu0| ≤ 0.015 % + 2·100 %·1.2/(2N) (2: for u2 and for the ratio's denominator),
    about 0.07 %; Q1 gets the issue's 0.01 %, the interpolation attenuation of U1 and I1 and
    a phase error ≤ π·|δ|/N rad on S1."""
    rows, j = _pqopen_match(case, pqopen_out["U_unbal_2"][1])
    iv = case.intervals
    n_win = case.cycles * case.rec.fs / iv["f"][rows]
    tol_u = 0.015 + 2 * 100 * 1.2 / (2 * n_win)
    _check(case, "pqopen u2", pqopen_out["U_unbal_2"][0][j], iv["u2"][rows], tol_u, " %", names=("pqopen", "pqe"))
    _check(case, "pqopen u0", pqopen_out["U_unbal_0"][0][j], iv["u0"][rows], tol_u, " %", names=("pqopen", "pqe"))
    for p in "ABC":
        q = iv[f"Q1_{p}"][rows]
        s1 = np.abs(iv[f"P_{p}"][rows] / iv[f"PF_{p}"][rows] * iv[f"DPF_{p}"][rows])
        # linear interpolation attenuates U1 and I1 alike by ≤ (2πf/fs)²/8 each; phase ≤ π/N
        att = 2 * (2 * math.pi * case.f_nom / case.rec.fs) ** 2 / 8
        tol = 1e-4 * np.abs(q) + att * np.abs(q) + (math.pi * 1.2 / n_win) * s1
        _check(case, f"pqopen Q1_{p}", pqopen_out[f"Q{p}_H1"][0][j], q, tol, names=("pqopen", "pqe"))


def test_pqopen_harmonic_subgroups(case, pqopen_out):
    """Voltage subgroups H1, H3, H5, H7, H11, H13: the issue's tolerance plus the
    linear-interpolation attenuation bound (2π·h·f/fs)²/8 of pqopen's resampling and a
    leakage allowance of 2/N of the fundamental for the window-length error."""
    rows, j = _pqopen_match(case, pqopen_out["UA_H_rms"][1])
    iv = case.intervals
    n_win = case.cycles * case.rec.fs / iv["f"][rows]
    for p in "ABC":
        ch = f"U_{p}"
        h_pqopen = pqopen_out[f"U{p}_H_rms"][0][j]
        for h in [1, 3, 5, 7, 11, 13]:
            mine = case.harmonics[ch][f"H{h}"][rows]
            att = (2 * math.pi * h * case.f_nom / case.rec.fs) ** 2 / 8
            tol = _harmonic_tol(case, ch, mine) + att * mine + 2 / n_win * case.harmonics[ch]["H1"][rows] * (h > 1)
            _check(case, f"pqopen H{h} {ch}", h_pqopen[:, h], mine, tol, names=("pqopen", "pqe"))


def test_pqopen_ten_second_frequency(case, pqopen_out):
    """pqopen's per-cycle frequencies (fractional crossings) regrouped by the IEC rule."""
    f, sidx = pqopen_out["Freq"]
    fs = case.rec.fs
    fq = case.frequency
    t_end = sidx / fs
    dur = 1.0 / f
    t_start = t_end - dur
    checked = 0
    for k in range(len(fq["t"])):
        if fq["flagged"][k]:
            continue
        a, b = fq["t"][k], fq["t"][k] + 10.0
        # a cycle is inside when both its crossings are; ends are rounded to whole samples
        inside = (t_start >= a + 1 / fs) & (t_end < b - 1 / fs)
        cyc = int(inside.sum())
        fp = cyc / dur[inside].sum()
        _check(case, "pqopen 10-s f", np.array([fp]), np.array([fq["f"][k]]), 1e-3, " Hz", names=("pqopen", "pqe"))
        checked += 1
    assert checked >= 2


def test_zz_report(capsys):
    """Prints the worst deviation / tolerance of every compared quantity (run with -s)."""
    with capsys.disabled():
        print("\nworst |PQE − reference| / tolerance:")
        for key in sorted(WORST):
            r, where = WORST[key]
            print(f"  {key:40s} {r:8.4f}   {where}")
