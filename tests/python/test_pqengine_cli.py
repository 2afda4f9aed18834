"""pqengine.analyze equals `pqe analyze` on the same file: every table, every column, every
value (the CLI writes shortest round-trip decimals, so parsed cells compare exactly)."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

try:
    import pqengine as pq
except ImportError as e:  # the extension is built, not shipped: say how
    raise ImportError(
        "pqengine is not built: run `.venv/bin/maturin develop --release -m python/Cargo.toml`"
    ) from e

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "demo-3v3i-50hz.cfg"
EVENT_TEXT = (
    "kind",
    "phases",
    "start_time",
    "channel_extremes",
    "direction",
    "direction_confidence",
    "direction_note",
)
FLAGS = ("flagged", "incomplete")


@pytest.fixture(scope="module")
def cli_out(run_pqe, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    run_pqe("analyze", DEMO, "--out", out)
    return out


@pytest.fixture(scope="module")
def from_path():
    return pq.analyze(DEMO)


@pytest.fixture(scope="module")
def from_recording():
    return pq.analyze(pq.read(DEMO))


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def number(cell):
    return math.nan if cell == "" else float(cell)


def assert_table_equals_csv(table, path, text=()):
    header, rows = read_csv(path)
    assert table.columns == header, path.name
    assert table.rows == len(rows), path.name
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        if name in text:
            assert list(table[name]) == cells, f"{path.name}: {name}"
            continue
        expected = np.array([number(c) for c in cells])
        got = table[name]
        if name in FLAGS:
            # Flags are bool in Python, 1/0 in the CSV.
            assert got.dtype == np.bool_, f"{path.name}: {name} is {got.dtype}"
            assert set(cells) <= {"0", "1"}, f"{path.name}: {name}"
            got = got.astype(np.float64)
        assert got.dtype == np.float64
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
        assert same.all(), (
            f"{path.name}: column {name} differs at rows {np.flatnonzero(~same)[:5]}: "
            f"{got[~same][:5]} vs {expected[~same][:5]}"
        )


@pytest.mark.parametrize("which", ["from_path", "from_recording"])
def test_every_table_equals_the_cli(request, cli_out, which):
    a = request.getfixturevalue(which)
    assert a.intervals.rows > 100 and a.events.rows > 0 and a.flicker.rows > 0
    assert_table_equals_csv(a.intervals, cli_out / "intervals.csv")
    assert_table_equals_csv(a.frequency, cli_out / "frequency.csv")
    assert_table_equals_csv(a.flicker, cli_out / "flicker.csv")
    assert_table_equals_csv(a.events, cli_out / "events.csv", text=EVENT_TEXT)
    files = sorted(p.name for p in cli_out.glob("aggregates_*.csv"))
    assert files, "the CLI wrote no aggregates"
    for period in ("3s", "10min", "2h"):
        path = cli_out / f"aggregates_{period}.csv"
        if path.exists():
            assert_table_equals_csv(a.aggregates(period), path)
        else:
            assert a.aggregates(period).rows == 0
    harmonic_files = sorted(cli_out.glob("harmonics_*.csv"))
    assert [f"harmonics_{c}.csv" for c in sorted(a.harmonics)] == [p.name for p in harmonic_files]
    for column in a.harmonics:
        path = cli_out / f"harmonics_{column}.csv"
        assert_table_equals_csv(a.harmonic_table(column), path)
        header, rows = read_csv(path)
        h = np.array([[number(c) for c in r[1:65]] for r in rows])
        ih = np.array([[number(c) for c in r[65:129]] for r in rows])
        assert a.harmonics[column].shape == (len(rows), 64)
        np.testing.assert_array_equal(a.harmonics[column], h)
        np.testing.assert_array_equal(a.interharmonics[column], ih)


def test_summary_agrees_with_summary_json(cli_out, from_path):
    cli = json.loads((cli_out / "summary.json").read_text())
    s = from_path.summary()
    assert s["schema"] == cli["schema"]
    assert s["intervals"]["count"] == cli["intervals"]["count"]
    assert s["intervals"]["flagged"] == cli["intervals"]["flagged"]
    for name, v in cli["intervals"]["mean_of_unflagged"].items():
        got = s["intervals"]["mean_of_unflagged"][name]
        if v is None:
            assert got is None, name
        else:
            assert got == pytest.approx(v, rel=1e-12, abs=1e-12), name
    assert s["events"] == cli["events"]
    assert s["frequency_10s"]["values"] == cli["frequency_10s"]["values"]
    for p, counts in cli["aggregates"].items():
        assert s["aggregates"][p] == counts
    assert s["recording"]["samples"] == cli["recording"]["samples"]
    for mine, theirs in zip(s["statistics"], cli["statistics"]):
        assert mine["samples"] == theirs["samples"]
        assert mine["rms"] == pytest.approx(theirs["rms"], rel=1e-12)


def test_options_reach_the_engine(cli_out, run_pqe, tmp_path):
    """Non-default options give the CLI's results for the same options."""
    run_pqe("analyze", DEMO, "--out", tmp_path, "--no-harmonics", "--dip-threshold", "85",
            "--nominal-voltage", "225")
    a = pq.analyze(DEMO, nominal_voltage=225, harmonics=False, dip_threshold=85)
    assert not a.harmonics
    assert_table_equals_csv(a.intervals, tmp_path / "intervals.csv")
    assert_table_equals_csv(a.events, tmp_path / "events.csv", text=EVENT_TEXT)
