"""pqengine.open_source and pqengine.analyze over live sources (issue 10).

- ``replay:`` of the committed 30-s demo recording yields, block by block, exactly the
  samples pq.read gives, with the recording's timing; pq.analyze of the URI gives the tables
  of pq.analyze of the file.
- ``synth:`` with ``duration`` stops at that much recording time.
- The sample Python adapter (devices/adapters/sim_adapter.py), found through
  PQE_PLUGIN_PATH, crashing part way: pq.analyze keeps the intervals before the crash and
  warns naming the adapter and the fault.
- An unknown scheme is a PqeError naming it.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import pqengine as pq

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "demo-3v3i-50hz.cfg"
SCENARIO = ROOT / "devices" / "tests" / "data" / "live-test.toml"
ADAPTER = ROOT / "devices" / "adapters" / "sim_adapter.py"


def test_replay_yields_the_samples_of_the_file_in_time_order():
    rec = pq.read(DEMO)
    src = pq.open_source(f"replay:{DEMO}?speed=max")
    assert src.info["names"] == rec.names
    assert src.info["sample_rate"] == rec.sample_rate
    blocks = list(src)
    assert blocks and all(isinstance(b, pq.SourceBlock) for b in blocks)
    data = np.concatenate([b.data for b in blocks], axis=1)
    np.testing.assert_array_equal(data, rec.data)
    # Each block starts where the one before ended (no gap in a whole file).
    n = 0
    for b in blocks:
        expected = src.info["start_ns"] + round(n * 1e9 / rec.sample_rate)
        assert abs(b.start_ns - expected) <= 1, (b.start_ns, expected)
        n += b.data.shape[1]
    assert src.fault() is None


def test_analyze_of_a_replay_uri_gives_the_tables_of_the_file():
    file = pq.analyze(DEMO)
    live = pq.analyze(f"replay:{DEMO}?speed=max")
    assert live.summary()["input"].startswith("replay:")
    for name in ("intervals", "frequency", "events"):
        a, b = getattr(file, name), getattr(live, name)
        assert list(a) == list(b), name
        for col in a:
            np.testing.assert_array_equal(np.asarray(a[col]), np.asarray(b[col]), err_msg=f"{name}.{col}")
    assert len(file.intervals["t"]) > 100


def test_synth_with_a_duration_stops_there():
    a = pq.analyze(f"synth:{SCENARIO}?speed=max", duration=2.0)
    assert a.summary()["recording"]["samples"] == 20480  # 2 s at 10240 Hz
    with pytest.raises(ValueError, match="duration"):
        pq.analyze(DEMO, duration=2.0)


def test_a_crashing_adapter_is_named_and_the_results_before_it_are_kept(tmp_path, monkeypatch):
    (tmp_path / "simpy.adapter.json").write_text(json.dumps({
        "name": "simpy", "schemes": ["simpy"], "command": [sys.executable, str(ADAPTER)],
    }))
    monkeypatch.setenv("PQE_PLUGIN_PATH", str(tmp_path))
    uri = ("simpy://meter0?pace=max&samples=40960&block=1024&rate=10240"
           "&start_ns=1704067200000000000&fault=crash@10")
    with pytest.warns(UserWarning, match=r"simpy.*crash"):
        a = pq.analyze(uri, duration=4.0)
    # 10 frames of 1024 samples arrived: about 1 s, of which the first 0.2 s lock the
    # tracker; the intervals before the crash are there.
    assert 3 <= len(a.intervals["t"]) <= 6, len(a.intervals["t"])
    assert len(a.summary()["gaps"]) == 1
    src = pq.open_source(uri)
    with pytest.warns(UserWarning, match=r"simpy.*crash.*results before it are kept"):
        got = list(src)
    assert sum(b.data.shape[1] for b in got if isinstance(b, pq.SourceBlock)) == 10240
    assert "simpy" in src.fault() and "crash" in src.fault()


def test_an_unknown_scheme_is_an_error_naming_it():
    with pytest.raises(pq.PqeError, match="nosuch"):
        pq.open_source("nosuch://device0")
