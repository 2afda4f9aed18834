"""pqengine as a new user meets it: the public names (``dir``) are the API and nothing else,
and flags arrive as booleans in every table (numpy and pandas)."""

import importlib
import pickle
from pathlib import Path

import numpy as np
import pytest

import pqengine as pq

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "demo-3v3i-50hz.cfg"
# Submodules become attributes of the package once imported (by this test or another).
SUBMODULES = {"dask"}


def public(module):
    return {n for n in dir(module) if not n.startswith("_")}


@pytest.mark.parametrize("name", ["pqengine", "pqengine.dask"])
def test_dir_lists_the_api_and_nothing_else(name):
    module = importlib.import_module(name)
    api = set(module.__all__) - {"__version__"}
    extra = public(module) - api - SUBMODULES
    assert not extra, f"{name} shows names that are not its API: {sorted(extra)}"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    # The helpers the old namespace leaked stay private.
    for leaked in ("np", "os", "Any", "Dict", "Union", "Optional", "Mapping", "annotations"):
        assert not hasattr(module, leaked), f"{name}.{leaked}"


def test_star_import_gives_the_api():
    scope = {}
    exec("from pqengine import *", scope)
    assert set(scope) - {"__builtins__"} == set(pq.__all__)


@pytest.fixture(scope="module")
def demo():
    return pq.analyze(DEMO)


def flag_columns(a):
    """Every (table name, column, array) that holds a flag."""
    tables = {"intervals": a.intervals, "frequency": a.frequency, "flicker": a.flicker}
    for p in ("3s", "10min", "2h"):
        tables[f"aggregates_{p}"] = a.aggregates(p)
    for c in a.columns:
        try:
            tables[f"harmonics_{c}"] = a.harmonic_table(c)
        except KeyError:
            pass
    out = [(n, "flagged", t["flagged"]) for n, t in tables.items() if "flagged" in t]
    out.append(("events", "incomplete", a.events["incomplete"]))
    return out


def test_flags_are_bool_in_every_table(demo):
    cols = flag_columns(demo)
    names = {n for n, _, _ in cols}
    assert {"intervals", "frequency", "flicker", "aggregates_3s", "events"} <= names
    for table, column, values in cols:
        assert values.dtype == np.bool_, f"{table}.{column} is {values.dtype}"
    # The demo holds dips and an interruption: some intervals are flagged, most not.
    flagged = demo.intervals["flagged"]
    assert 0 < flagged.sum() < flagged.size
    # What summaries compute from them is unchanged by the type.
    s = demo.summary()
    assert s["intervals"]["flagged"] == int(flagged.sum())


def test_flags_are_bool_in_pandas_and_after_pickling(demo):
    import pandas  # noqa: F401  (a test tool: tests/requirements.txt)
    for name, table in (("intervals", demo.intervals), ("events", demo.events),
                        ("3s", demo.aggregates("3s"))):
        df = table.to_pandas()
        col = "incomplete" if name == "events" else "flagged"
        assert str(df[col].dtype) == "bool", f"{name}: {df[col].dtype}"
    back = pickle.loads(pickle.dumps(demo))
    assert back.intervals["flagged"].dtype == np.bool_
    np.testing.assert_array_equal(back.intervals["flagged"], demo.intervals["flagged"])


def test_the_flicker_array_function_flags_are_bool():
    fs = 4000.0
    t = np.arange(int(30 * fs)) / fs
    u = 230 * np.sqrt(2) * np.sin(2 * np.pi * 50 * t)
    table = pq.flicker(u, fs)
    assert table["flagged"].dtype == np.bool_
    # 30 s is a partial 10-min period: flagged.
    assert table["flagged"].tolist() == [True]
