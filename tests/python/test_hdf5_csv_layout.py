"""Check the CSV and HDF5 layouts PQE writes against docs/formats.md, reading them the way
Python users do: h5py for HDF5, the csv module and numpy.genfromtxt for CSV (no pandas).

A CSV recording with its JSON sidecar is written here in Python (3 analog channels with
NaNs, one digital channel, a transformer ratio, an absolute start with nanoseconds), then
PQE converts it CSV -> HDF5 -> CSV. Both outputs must hold exactly the values written and
the documented metadata. A minimal HDF5 file written with h5py as docs/formats.md tells
Python users to write one must convert too.

The converter is `pqe convert IN OUT`: $PQE_BIN, else target/release/pqe, else
target/debug/pqe. Without a pqe binary that can convert, the example
`recording_convert` of pqe-io does the same ($PQE_CONVERT, else
target/{release,debug}/examples/recording_convert, built on demand).
"""

import csv
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import h5py  # installed by tests/requirements.txt

ROOT = Path(__file__).resolve().parents[2]

RATE = 3200.0
SAMPLES = 10_000  # more than one 8192-sample chunk
START_NS = 1_714_564_800_000_000_125  # 2024-05-01T12:00:00.000000125
NAMES = ["U_A", "U_BC", "I_N"]
DIGITAL = ["TRIP"]


# ---------------------------------------------------------------------------------------
# Finding the converter


def _executable(*paths):
    for p in paths:
        if p and Path(p).is_file() and os.access(p, os.X_OK):
            return Path(p)
    return None


def _can_convert(binary):
    try:
        out = subprocess.run([str(binary), "convert", "--help"], capture_output=True,
                             text=True, timeout=60)
    except OSError:
        return False
    return out.returncode == 0


def _converter():
    pqe = _executable(os.environ.get("PQE_BIN"), ROOT / "target" / "release" / "pqe",
                      ROOT / "target" / "debug" / "pqe")
    if pqe is not None and _can_convert(pqe):
        return lambda src, dst: [str(pqe), "convert", "--force", str(src), str(dst)]
    candidates = [os.environ.get("PQE_CONVERT"),
                  ROOT / "target" / "release" / "examples" / "recording_convert",
                  ROOT / "target" / "debug" / "examples" / "recording_convert"]
    example = _executable(*candidates)
    if example is None:
        subprocess.run(["cargo", "build", "-p", "pqe-io", "--example", "recording_convert"],
                       cwd=ROOT, check=False, capture_output=True)
        example = _executable(*candidates)
    if example is None:
        pytest.fail("no pqe binary and the recording_convert example does not build")
    return lambda src, dst: [str(example), str(src), str(dst)]


@pytest.fixture(scope="module")
def convert():
    command = _converter()

    def run(src, dst):
        out = subprocess.run(command(src, dst), capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"converting {src} -> {dst} failed:\n{out.stderr}"

    return run


# ---------------------------------------------------------------------------------------
# The source recording


def _analog():
    """(channels, samples) float64 with NaNs, exact values to compare bit for bit."""
    k = np.arange(SAMPLES)
    data = np.stack([
        325.0 * np.sin(2 * np.pi * 50 * k / RATE),
        0.4 * np.sin(2 * np.pi * 50 * k / RATE - 2.0) / 3.0,
        1e-3 * np.cos(k * 0.37) + 1e-300,
    ])
    data[0, ::97] = np.nan
    data[2, 5::1001] = np.nan
    return data


def _digital():
    return ((np.arange(SAMPLES) // 333) % 2).astype(np.uint8)[None, :]


def _sidecar():
    return {
        "pqe_format": "pqe-csv-sidecar/1",
        "station": "Station Ω",
        "device": "python",
        "sample_rate": RATE,
        "start_ns": START_NS,
        "line_frequency": 50.0,
        "channels": [
            {"name": "U_A", "kind": "voltage", "phase": "A", "unit": "V"},
            {"name": "U_BC", "phase": "BC", "unit": "kV"},
            {"name": "I_N", "kind": "current", "phase": "N", "unit": "A",
             "ratio_primary": 200.0, "ratio_secondary": 5.0, "primary": False},
        ],
        "digital_channels": [{"name": "TRIP", "normal_state": 0}],
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory, convert):
    """src.csv (+ sidecar) written here; out.h5 and out.csv converted by PQE."""
    d = tmp_path_factory.mktemp("layout")
    src, h5, back = d / "src.csv", d / "out.h5", d / "out.csv"
    analog, digital = _analog(), _digital()
    with open(src, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t"] + NAMES + DIGITAL)
        for k in range(SAMPLES):
            cells = ["" if math.isnan(v) else repr(float(v)) for v in analog[:, k]]
            w.writerow([repr(k / RATE)] + cells + [str(int(digital[0, k]))])
    (d / "src.csv.json").write_text(json.dumps(_sidecar()), encoding="utf-8")
    convert(src, h5)
    convert(h5, back)
    return {"h5": h5, "csv": back, "analog": analog, "digital": digital}


# ---------------------------------------------------------------------------------------
# HDF5


def test_hdf5_group_attributes(files):
    with h5py.File(files["h5"], "r") as f:
        rec = f["recording"]
        a = rec.attrs
        assert a["pqe_format"] == "pqe-recording/1"
        assert a["sample_rate"] == RATE
        assert int(a["start_ns"]) == START_NS
        assert a["start"] == "2024-05-01T12:00:00.000000125"
        assert a["station"] == "Station Ω"
        assert a["device"] == "python"
        assert a["line_frequency"] == 50.0
        assert "time_ns" not in rec, "no per-sample times at a constant rate"


def test_hdf5_analog_dataset_and_channel_attributes(files):
    with h5py.File(files["h5"], "r") as f:
        ds = f["recording/analog"]
        assert ds.shape == (len(NAMES), SAMPLES)
        assert ds.dtype == np.float64
        assert ds.chunks == (1, 8192)
        assert ds.maxshape == (None, None)
        a = ds.attrs
        assert list(a["names"]) == NAMES
        assert list(a["units"]) == ["V", "kV", "A"]
        assert list(a["kinds"]) == ["voltage", "voltage", "current"]
        assert list(a["phases"]) == ["A", "BC", "N"]
        assert list(a["ratio_primary"]) == [1.0, 1.0, 200.0]
        assert list(a["ratio_secondary"]) == [1.0, 1.0, 5.0]
        assert list(a["primary"]) == [1, 1, 0]
        assert np.isnan(a["scale_a"]).all()
        # Values exactly as written, NaN where the CSV cell was empty.
        assert np.array_equal(ds[()], files["analog"], equal_nan=True)
        # One channel, the way the docs show it.
        names = list(a["names"])
        assert np.array_equal(ds[names.index("I_N"), :], files["analog"][2], equal_nan=True)


def test_hdf5_digital_dataset(files):
    with h5py.File(files["h5"], "r") as f:
        ds = f["recording/digital"]
        assert ds.dtype == np.uint8
        assert ds.shape == (1, SAMPLES)
        assert list(ds.attrs["names"]) == DIGITAL
        assert list(ds.attrs["normal_state"]) == [0]
        assert np.array_equal(ds[()], files["digital"])


# ---------------------------------------------------------------------------------------
# CSV


def test_csv_header_cells_and_line_ends(files):
    raw = files["csv"].read_bytes()
    assert b"\r" not in raw
    with open(files["csv"], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t"] + NAMES + DIGITAL
    body = rows[1:]
    assert len(body) == SAMPLES
    analog = files["analog"]
    for k in (0, 1, 97, 1006, SAMPLES - 1):
        row = body[k]
        assert float(row[0]) == k / RATE
        for c in range(len(NAMES)):
            if math.isnan(analog[c, k]):
                assert row[1 + c] == "", "a missing value is an empty cell"
            else:
                assert float(row[1 + c]) == analog[c, k]
        assert row[-1] in ("0", "1")
    assert not any("nan" in cell.lower() for row in body for cell in row)


def test_csv_reads_with_numpy_genfromtxt(files):
    table = np.genfromtxt(files["csv"], delimiter=",", names=True, dtype=np.float64)
    assert list(table.dtype.names) == ["t"] + NAMES + DIGITAL
    assert np.array_equal(table["t"], np.arange(SAMPLES) / RATE)
    for c, name in enumerate(NAMES):
        assert np.array_equal(table[name], files["analog"][c], equal_nan=True), name
    assert np.array_equal(table["TRIP"], files["digital"][0].astype(float))


def test_csv_sidecar(files):
    side = json.loads(Path(str(files["csv"]) + ".json").read_text(encoding="utf-8"))
    assert side["pqe_format"] == "pqe-csv-sidecar/1"
    assert side["sample_rate"] == RATE
    assert side["start_ns"] == START_NS
    assert side["start"] == "2024-05-01T12:00:00.000000125"
    assert side["total_samples"] == SAMPLES
    assert [c["name"] for c in side["channels"]] == NAMES
    assert [c["kind"] for c in side["channels"]] == ["voltage", "voltage", "current"]
    assert side["channels"][2]["primary"] is False
    assert side["channels"][2]["ratio_primary"] == 200.0
    assert [d["name"] for d in side["digital_channels"]] == DIGITAL


# ---------------------------------------------------------------------------------------
# A file written by hand with h5py, as docs/formats.md describes


def test_minimal_h5py_file_converts(tmp_path, convert):
    src, out = tmp_path / "mine.h5", tmp_path / "mine.csv"
    data = np.array([[1.0, np.nan, 3.0, 4.0], [0.5, 0.25, 0.125, -0.0]])
    with h5py.File(src, "w") as f:
        rec = f.create_group("recording")
        rec.attrs["pqe_format"] = "pqe-recording/1"
        rec.attrs["sample_rate"] = 4000  # an integer is fine
        rec.attrs["start_ns"] = np.int64(0)
        ds = rec.create_dataset("analog", data=data.astype(np.float32))
        ds.attrs["names"] = np.array(["U_A", "I_A"], dtype=h5py.string_dtype())
        ds.attrs["units"] = np.array(["V", "A"], dtype=h5py.string_dtype())
    convert(src, out)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "U_A", "I_A"]
    assert [float(r[0]) for r in rows[1:]] == [0.0, 0.00025, 0.0005, 0.00075]
    assert rows[2][1] == ""
    assert [float(r[2]) for r in rows[1:]] == [0.5, 0.25, 0.125, 0.0]
    side = json.loads((tmp_path / "mine.csv.json").read_text())
    assert [c["kind"] for c in side["channels"]] == ["voltage", "current"]
