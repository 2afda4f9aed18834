"""pqengine's array functions against numpy/scipy references on analytic signals, within
the issue-3 tolerances (Class A limits divided by ten):

- 10/12-cycle RMS within ±0.01 % of Udin;
- harmonic subgroups within ±0.5 % of reading (≥ 1 % of Unom) or ±0.005 % of Unom;
- P, Q1, S, PF within ±0.01 % of analytic;
- Pst = 1 ± 5 % on the IEC 61000-4-15 table-5 point (rectangular modulation).
"""

import numpy as np
import pytest
from scipy import signal

try:
    import pqengine as pq
except ImportError as e:  # the extension is built, not shipped: say how
    raise ImportError(
        "pqengine is not built: run `.venv/bin/maturin develop --release -m python/Cargo.toml`"
    ) from e

UDIN = 230.0


def tone(fs, seconds, parts, f0=50.0):
    """Sum of sines: parts is [(order, rms, phase_deg)]."""
    t = np.arange(int(round(seconds * fs))) / fs
    x = np.zeros_like(t)
    for order, rms, phase in parts:
        x += rms * np.sqrt(2) * np.sin(2 * np.pi * order * f0 * t + np.deg2rad(phase))
    return t, x


@pytest.mark.parametrize("f0,f,fs", [(50.0, 50.0, 10_240.0), (50.0, 49.5, 10_240.0),
                                     (60.0, 60.0, 15_360.0), (50.0, 51.3, 12_800.0)])
def test_rms_of_a_sine(f0, f, fs):
    _, x = tone(fs, 3.0, [(1, UDIN, 17.0)], f0=f)
    t, v = pq.rms(x, fs, nominal_frequency=f0, with_time=True)
    cycles = 10 if f0 == 50 else 12
    # The tracker settles over the first interval; a trailing partial one is not reported.
    assert 3.0 * f / cycles - 3 <= len(v) <= 3.0 * f / cycles
    np.testing.assert_allclose(v, UDIN, atol=1e-4 * UDIN)
    # Intervals are `cycles` periods of the signal, back to back.
    np.testing.assert_allclose(np.diff(t), cycles / f, atol=2 / fs)
    np.testing.assert_array_equal(pq.rms(x, fs, f0), v)


def test_rms_follows_a_step_like_numpy():
    fs = 10_240.0
    _, x = tone(fs, 2.0, [(1, UDIN, 0.0)])
    x[len(x) // 2:] *= 0.5  # 1 s at 230 V, then 115 V
    t, v = pq.rms(x, fs, with_time=True)
    assert np.any(t > 1.1)
    for ti, vi in zip(t, v):
        if ti - 0.02 < 1.0 < ti + 0.22:
            continue  # the interval holding the step
        i0 = int(round(ti * fs))
        ref = np.sqrt(np.mean(x[i0:i0 + 2048] ** 2))
        assert vi == pytest.approx(ref, abs=1e-4 * UDIN)


def test_harmonic_subgroups_of_known_content_match_an_fft():
    fs = 10_240.0
    parts = [(1, UDIN, 0.0), (3, 11.5, 40.0), (5, 6.9, -70.0), (7, 4.6, 10.0), (13, 1.2, 0.0)]
    _, x = tone(fs, 2.0, parts)
    h, ih = pq.harmonics(x, fs, interharmonics=True)
    assert h.shape == ih.shape and h.shape[1] == 64 and h.shape[0] >= 7
    # numpy reference: the 2048-sample rectangular window of each 10-cycle interval; a
    # harmonic subgroup is the root sum of squares of bins n·10 − 1 … n·10 + 1.
    spec = np.abs(np.fft.rfft(x[:2048])) * np.sqrt(2) / 2048
    spec[0] /= np.sqrt(2)
    ref = np.array([np.sqrt(np.sum(spec[max(n * 10 - 1, 0):n * 10 + 2] ** 2)) for n in range(64)])
    ref[0] = spec[0]
    for row in h:
        for n in range(64):
            tol = max(0.005 * ref[n], 0.00005 * UDIN) if ref[n] >= 0.01 * UDIN else 0.00005 * UDIN
            assert abs(row[n] - ref[n]) <= tol, (n, row[n], ref[n])
    expected = {order: rms for order, rms, _ in parts}
    for n, rms in expected.items():
        assert h[:, n] == pytest.approx(rms, rel=5e-3)
    assert np.all(ih < 0.00005 * UDIN)


def test_an_interharmonic_lands_in_its_centred_subgroup():
    fs = 10_240.0
    t = np.arange(int(2 * fs)) / fs
    x = UDIN * np.sqrt(2) * np.sin(2 * np.pi * 50 * t) + 2.0 * np.sqrt(2) * np.sin(2 * np.pi * 175 * t)
    h, ih = pq.harmonics(x, fs, interharmonics=True)
    assert ih[:, 3] == pytest.approx(2.0, rel=5e-3)  # 175 Hz lies between orders 3 and 4
    assert np.all(np.delete(ih, 3, axis=1) < 0.00005 * UDIN)
    assert np.all(h[:, 3] < 0.00005 * UDIN) and np.all(h[:, 4] < 0.00005 * UDIN)


@pytest.mark.parametrize("phi", [0.0, 30.0, -45.0, 90.0, 150.0])
def test_power_of_known_phase_shifts(phi):
    fs = 10_240.0
    u_rms, i_rms = UDIN, 12.0
    _, u = tone(fs, 2.0, [(1, u_rms, 0.0)])
    _, i = tone(fs, 2.0, [(1, i_rms, -phi)])  # current lags by phi (inductive for phi > 0)
    p = pq.power(u, i, fs)
    assert p.columns[:6] == ["t", "P_A", "Q1_A", "S_A", "PF_A", "DPF_A"]
    s = u_rms * i_rms
    rel = 1e-4
    np.testing.assert_allclose(p["S_A"], s, rtol=rel)
    np.testing.assert_allclose(p["P_A"], s * np.cos(np.deg2rad(phi)), atol=rel * s)
    np.testing.assert_allclose(p["Q1_A"], s * np.sin(np.deg2rad(phi)), atol=rel * s)
    np.testing.assert_allclose(np.abs(p["PF_A"]), abs(np.cos(np.deg2rad(phi))), atol=rel)


def test_power_with_harmonics_matches_a_numpy_mean_of_products():
    fs = 10_240.0
    _, u = tone(fs, 2.0, [(1, UDIN, 0.0), (5, 9.0, 20.0)])
    _, i = tone(fs, 2.0, [(1, 10.0, -25.0), (5, 3.0, 60.0), (7, 1.0, 0.0)])
    p = pq.power(u, i, fs)
    for t0, P in zip(p["t"], p["P_A"]):
        i0 = int(round(t0 * fs))
        ref = np.mean(u[i0:i0 + 2048] * i[i0:i0 + 2048])
        assert P == pytest.approx(ref, abs=1e-4 * UDIN * 10.0)


def test_pst_of_the_table5_point_is_one():
    """IEC 61000-4-15 table 5: 110 changes per minute (rectangular, 50 % duty) of 0.722 %
    ΔV/V on 230 V / 50 Hz give Pst = 1 (± 5 %)."""
    fs = 4000.0
    t = np.arange(int(600 * fs)) / fs
    fm = 110 / 120.0  # two changes per modulation period
    square = signal.square(2 * np.pi * fm * t)
    u = UDIN * np.sqrt(2) * np.sin(2 * np.pi * 50 * t) * (1 + 0.00722 / 2 * square)
    table = pq.flicker(u, fs)
    assert table.columns == ["t", "Pst", "flagged"]
    assert table.rows == 1 and table["t"][0] == 0.0
    assert table["Pst"][0] == pytest.approx(1.0, rel=0.05)
    steady = pq.flicker(UDIN * np.sqrt(2) * np.sin(2 * np.pi * 50 * t[: int(60 * fs)]), fs)
    assert steady["Pst"][0] < 0.05


def test_array_functions_reject_bad_input():
    fs = 10_240.0
    _, x = tone(fs, 1.0, [(1, UDIN, 0.0)])
    with pytest.raises(ValueError, match="1-D"):
        pq.rms(np.stack([x, x]), fs)
    with pytest.raises(ValueError, match="no samples"):
        pq.harmonics(np.zeros(0), fs)
    with pytest.raises(ValueError, match="sample_rate"):
        pq.rms(x, 0)
    with pytest.raises(TypeError, match="real numbers"):
        pq.rms(["a", "b"], fs)
    with pytest.raises(ValueError, match="same length"):
        pq.power(x, x[:-1], fs)
    with pytest.raises(ValueError, match="50 or 60"):
        pq.rms(x, fs, nominal_frequency=400)
    with pytest.raises(ValueError, match="2000 Hz|sample rate"):
        pq.flicker(x[:1000], 1000.0)
    with pytest.raises(ValueError, match="lamp"):
        pq.flicker(x, fs, lamp="40W")


def test_array_functions_accept_lists_and_strided_views():
    fs = 10_240.0
    _, x = tone(fs, 1.0, [(1, UDIN, 0.0)])
    both = np.stack([x, x], axis=1)  # column views are strided
    np.testing.assert_array_equal(pq.rms(both[:, 0], fs), pq.rms(x, fs))
    np.testing.assert_array_equal(pq.rms(list(x), fs), pq.rms(x, fs))
