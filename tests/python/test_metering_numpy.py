"""Min/max, alarms and energy of `pqe analyze` against numpy, computed from the samples.

A single-phase recording (U_A, I_A at 2560 Hz, 130 s from 1970-01-01T00:00:00, a CSV
without sidecar) whose voltage
drifts slowly, swells to 250 V for 3 s (from 30.05 s) and dips to 180 V for 0.5 s
(from 70.05 s). numpy computes each
10-cycle RMS value over the interval PQE reports (its `t` and the next `t`), then on its own:

- the minimum and maximum of every 60-s period of the clock, with the interval they came
  from (PQE's `minmax.csv`);
- two alarms, an over-voltage with a pickup delay and an under-voltage with a dropout
  delay, by the setpoint rules written out below (PQE's `alarms.csv`);
- the active energy sum(u*i)/fs over the samples the intervals cover, and the energy of
  each 60-s period (PQE's summary.json and `energy.csv`).

RMS values agree within 0.01 % (far inside IEC 61000-4-30 Class A's 0.1 % of Udin); the
extremes must come from the same interval, alarms must start and end on the same intervals,
energy within 0.01 %.
"""

import csv
import json
import math
from pathlib import Path

import numpy as np

FS = 2560
F = 50.0
DURATION = 130.0
UDIN = 230.0
PERIOD = 60.0


def envelope(t: np.ndarray) -> np.ndarray:
    """RMS voltage over time: a slow drift, a swell and a dip."""
    u = UDIN + 4.0 * np.sin(2 * math.pi * t / 37.0)
    # The steps fall inside intervals (10 cycles = 0.2 s from t = 0), not on their edges,
    # where a fraction of a sample would decide which interval a step belongs to.
    u = np.where((t >= 30.05) & (t < 33.05), 250.0, u)
    u = np.where((t >= 70.05) & (t < 70.55), 180.0, u)
    return u


def recording():
    n = int(DURATION * FS)
    t = np.arange(n) / FS
    u = math.sqrt(2) * envelope(t) * np.sin(2 * math.pi * F * t)
    i = math.sqrt(2) * 40.0 * np.sin(2 * math.pi * F * t - math.radians(25.0))
    return t, u, i


def write_csv(path: Path, t, u, i):
    data = np.column_stack([t, u, i])
    with open(path, "w", newline="") as f:
        f.write("t,U_A,I_A\n")
        np.savetxt(f, data, fmt="%.10g", delimiter=",")


def read_table(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def interval_rms(t_pqe: np.ndarray, x: np.ndarray) -> np.ndarray:
    """RMS of `x` over each interval [t_k, t_k+1) PQE reports (the last one to its length
    of ten cycles)."""
    edges = np.append(t_pqe, t_pqe[-1] + (t_pqe[-1] - t_pqe[-2]))
    idx = np.round(edges * FS).astype(int)
    return np.array([math.sqrt(np.mean(x[a:b] ** 2)) for a, b in zip(idx[:-1], idx[1:])])


def numpy_alarms(t, dur, v, over, pickup, dropout, pickup_delay, dropout_delay):
    """The setpoint rules: a run of values beyond the pickup level lasting `pickup_delay`
    starts an alarm (at the run's first interval); a run back beyond the dropout level
    lasting `dropout_delay` ends it (at that run's first interval). Beyond: strictly above
    (over) or below (under)."""
    beyond = (lambda x: x > pickup) if over else (lambda x: x < pickup)
    back = (lambda x: x < dropout) if over else (lambda x: x > dropout)
    worse = max if over else min
    alarms, run, active, drop = [], None, None, None
    for tk, dk, vk in zip(t, dur, v):
        end = tk + dk
        if active is None:
            if beyond(vk):
                run = (tk, vk) if run is None else (run[0], worse(run[1], vk))
                if end - run[0] >= pickup_delay - 1e-9:
                    active, run = [run[0], run[1]], None
            else:
                run = None
        else:
            active[1] = worse(active[1], vk)
            if back(vk):
                drop = tk if drop is None else drop
                if end - drop >= dropout_delay - 1e-9:
                    alarms.append((active[0], drop, active[1]))
                    active, drop = None, None
            else:
                drop = None
    if active is not None:
        alarms.append((active[0], None, active[1]))
    return alarms


def test_minmax_alarms_and_energy_match_numpy(tmp_path, run_pqe):
    t, u, i = recording()
    rec = tmp_path / "metering.csv"
    write_csv(rec, t, u, i)
    out = tmp_path / "out"
    run_pqe("analyze", rec, "--out", out, "--wiring", "single", "--no-flicker",
            "--nominal-voltage", UDIN, "--nominal-frequency", int(F),
            "--minmax-period", int(PERIOD), "--energy-period", int(PERIOD),
            "--demand-interval", int(PERIOD),
            "--alarm", "swell=U_A>245/240,delay=1,priority=high",
            "--alarm", "dip=U_A<200/210,dropout_delay=0.4")

    rows = read_table(out / "intervals.csv")
    tp = np.array([float(r["t"]) for r in rows])
    pqe_u = np.array([float(r["U_A"]) for r in rows])
    dur = np.diff(np.append(tp, tp[-1] + (tp[-1] - tp[-2])))
    np_u = interval_rms(tp, u)
    rel = np.abs(pqe_u - np_u) / np_u
    assert rel.max() < 1e-4, f"U_A at t = {tp[rel.argmax()]} s: PQE {pqe_u[rel.argmax()]}, numpy {np_u[rel.argmax()]}"

    # Min/max per 60-s period of the clock, and the interval each extreme came from.
    mm = [r for r in read_table(out / "minmax.csv") if r["quantity"] == "U_A"]
    periods = np.floor(tp / PERIOD)
    assert len(mm) == len(np.unique(periods)) == 3
    for r, p in zip(mm, np.unique(periods)):
        sel = np.nonzero(periods == p)[0]
        lo, hi = sel[np.argmin(np_u[sel])], sel[np.argmax(np_u[sel])]
        assert float(r["t"]) == p * PERIOD
        assert abs(float(r["min"]) - np_u[lo]) < 1e-4 * np_u[lo], (r, np_u[lo])
        assert abs(float(r["max"]) - np_u[hi]) < 1e-4 * np_u[hi], (r, np_u[hi])
        # The extreme's time is that of an interval holding it (the swell's and the dip's
        # flat tops give several equal ones, within the RMS agreement).
        for when, k in (("t_min", lo), ("t_max", hi)):
            at = np.nonzero(np.abs(tp - float(r[when])) < 1e-6)[0]
            assert len(at) == 1 and at[0] in sel, (when, r[when])
            assert abs(np_u[at[0]] - np_u[k]) < 1e-4 * np_u[k], (when, r[when], tp[k])
    # The swell and the dip are the extremes of their periods.
    assert float(mm[0]["max"]) > 249.0 and float(mm[1]["min"]) < 181.0

    # Alarms.
    expected = {
        "swell": numpy_alarms(tp, dur, np_u, True, 245.0, 240.0, 1.0, 0.0),
        "dip": numpy_alarms(tp, dur, np_u, False, 200.0, 210.0, 0.0, 0.4),
    }
    assert all(len(v) == 1 for v in expected.values()), expected
    got = read_table(out / "alarms.csv")
    assert sorted(r["name"] for r in got) == ["dip", "swell"], got
    for r in got:
        start, end, extreme = expected[r["name"]][0]
        assert abs(float(r["t_start"]) - start) < 1e-6, (r, start)
        assert end is not None and abs(float(r["t_end"]) - end) < 1e-6, (r, end)
        assert abs(float(r["extreme"]) - extreme) < 1e-4 * extreme, (r, extreme)
    swell = next(r for r in got if r["name"] == "swell")
    assert swell["priority"] == "high" and swell["direction"] == "over"

    # Active energy over the samples the intervals cover, in total and per period.
    # (The analyser's first interval starts one interval in, at tp[0] = 0.2 s.)
    first = int(round(tp[0] * FS))
    covered = int(round((tp[-1] + dur[-1]) * FS))
    p_inst = u * i
    summary = json.loads((out / "summary.json").read_text())
    whole = summary["metering"]["energy"]["Ep_del"]
    reference = p_inst[first:covered].sum() / FS / 3600.0
    assert abs(whole - reference) < 1e-4 * reference, (whole, reference)
    energy = read_table(out / "energy.csv")
    assert len(energy) == 3
    for r in energy:
        a = int(round(float(r["t"]) * FS))
        b = min(a + int(PERIOD * FS), covered)
        a = max(a, first)
        ref = p_inst[a:b].sum() / FS / 3600.0
        assert abs(float(r["Ep_del"]) - ref) < 1e-4 * ref, (r["t"], r["Ep_del"], ref)


def test_pqengine_gives_the_same_meter_tables_as_the_cli(tmp_path, run_pqe):
    import pqengine as pq

    t, u, i = recording()
    rec = tmp_path / "metering.csv"
    write_csv(rec, t, u, i)
    alarms = ["swell=U_A>245/240,delay=1,priority=high", "dip=U_A<200/210,dropout_delay=0.4"]
    out = tmp_path / "out"
    args = ["analyze", rec, "--out", out, "--wiring", "single", "--no-flicker",
            "--nominal-voltage", UDIN, "--minmax-period", 60, "--energy-period", 60,
            "--demand-interval", 60, "--demand-method", "rolling:3"]
    for a in alarms:
        args += ["--alarm", a]
    run_pqe(*args)
    a = pq.analyze(rec, UDIN, wiring="single", flicker=False, minmax_period=60,
                   energy_period=60, demand_interval=60, demand_method="rolling:3",
                   alarms=alarms)
    for name in ("distortion", "energy", "demand", "minmax", "alarms"):
        cli = read_table(out / f"{name}.csv")
        table = getattr(a, name)
        assert table.rows == len(cli) > 0, name
        for column in cli[0]:
            mine = table[column]
            theirs = [r[column] for r in cli]
            if mine.dtype.kind in "fb":
                want = np.array([float(x) if x != "" else np.nan for x in theirs])
                np.testing.assert_array_equal(np.asarray(mine, dtype=float), want,
                                              err_msg=f"{name}.{column}")
            else:
                assert list(mine) == theirs, f"{name}.{column}"
    assert a.summary()["metering"]["demand_method"] == "rolling:3"
