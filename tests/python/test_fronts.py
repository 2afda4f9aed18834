"""One recording through the three fronts — `pqe analyze` (CLI), `pqengine` (Python) and
`libpqe` (C, driven here through ctypes with timestamped pushes) — gives the same output
folder: every CSV table byte for byte, summary.json, compliance.json
and report.html equal. The only field allowed to differ is summary.json's `input` (the
path or name each front was given), which every front here is given the same; and the
event captures of the C stream, 16-bit COMTRADE like the CLI's, are scaled to their own
range (a C caller gives no COMTRADE scaling), so they hold the same samples to within one
step of the scale.

The recording is the committed 30-s demo (datasets/demo/demo-3v3i-50hz.cfg, synthesised by
PQE's scenario generator: three phases with harmonics, flicker, dips and a swell).
"""

import ctypes
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pqengine as pq

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "demo-3v3i-50hz.cfg"

# pqe.h: PQE_CHANNEL_*, PQE_PHASE_*, PQE_FLAG_*, PQE_WIRING_WYE.
KIND = {"voltage": 1, "current": 2}
PHASE = {None: 0, "A": 1, "B": 2, "C": 3, "N": 4, "AB": 5, "BC": 6, "CA": 7}
FLAG_DEFAULT = 0b11111
STATUS_STREAM = -9


class Channel(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("kind", ctypes.c_int), ("phase", ctypes.c_int),
                ("unit", ctypes.c_char_p)]


class Config(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("sample_rate", ctypes.c_double),
                ("nominal_frequency", ctypes.c_double), ("udin", ctypes.c_double),
                ("wiring", ctypes.c_int), ("load_current", ctypes.c_double),
                ("n_channels", ctypes.c_size_t), ("channels", ctypes.POINTER(Channel)),
                ("start_unix_ns", ctypes.c_int64), ("flags", ctypes.c_uint32)]


class SourceInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("input_name", ctypes.c_char_p),
                ("station", ctypes.c_char_p), ("device", ctypes.c_char_p)]


@pytest.fixture(scope="session")
def libpqe():
    """libpqe.so: $PQE_CAPI_LIB, else the release build (built here if missing)."""
    if os.environ.get("PQE_CAPI_LIB"):
        path = Path(os.environ["PQE_CAPI_LIB"])
        if not path.is_file():
            pytest.fail(f"PQE_CAPI_LIB={path} is not a file")
    else:
        r = subprocess.run(["cargo", "build", "--release", "-p", "pqe-capi"], cwd=ROOT,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        path = ROOT / "target" / "release" / "libpqe.so"
    lib = ctypes.CDLL(str(path))
    lib.pqe_analysis_new.argtypes = [ctypes.POINTER(Config), ctypes.POINTER(SourceInfo),
                                     ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_void_p)]
    lib.pqe_analysis_push_at.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
                                         ctypes.c_size_t, ctypes.c_int64]
    lib.pqe_analysis_finish.argtypes = [ctypes.c_void_p]
    lib.pqe_analysis_free.argtypes = [ctypes.c_void_p]
    lib.pqe_last_error_message.restype = ctypes.c_char_p
    return lib


class CAnalysis:
    """A `pqe_analysis` handle over `rec`'s channels, writing into `out`."""

    def __init__(self, lib, rec, out, input_name, station="", device="", settings=None):
        self.lib, self.rec = lib, rec
        self._names = [n.encode() for n in rec.names]
        self._units = [u.encode() for u in rec.units]
        chans = (Channel * len(rec.names))(*[
            Channel(n, KIND[k], PHASE[p], u)
            for n, k, p, u in zip(self._names, rec.kinds, rec.phases, self._units)
        ])
        self._chans = chans
        cfg = Config(ctypes.sizeof(Config), rec.sample_rate, 50.0, 230.0, 0, 0.0,
                     len(rec.names), chans, rec.start_ns, FLAG_DEFAULT)
        src = SourceInfo(ctypes.sizeof(SourceInfo), str(input_name).encode(),
                         station.encode(), device.encode())
        self.h = ctypes.c_void_p()
        self.check(lib.pqe_analysis_new(ctypes.byref(cfg), ctypes.byref(src),
                                        settings.encode() if settings else None,
                                        str(out).encode(), ctypes.byref(self.h)))

    def check(self, status):
        assert status == 0, self.lib.pqe_last_error_message().decode()

    def push_at(self, first, last):
        """Push samples [first, last) at the time the file gives sample `first`."""
        frames = np.ascontiguousarray(self.rec.data[:, first:last].T)
        at = self.rec.start_ns + round(first / self.rec.sample_rate * 1e9)
        return self.lib.pqe_analysis_push_at(
            self.h, frames.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), last - first, at)

    def finish(self):
        self.check(self.lib.pqe_analysis_finish(self.h))
        self.check(self.lib.pqe_analysis_free(self.h))


def files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assert_same_folder(a: Path, b: Path, what: str, captures_scaled=False):
    """Every file of `a` and `b` the same bytes, but summary.json's `input`. With
    `captures_scaled`, the event captures (16-bit COMTRADE) hold the same samples up to one
    step of their integer scaling, which each front chooses from what it knows of the
    channels (a file's own COMTRADE scaling; for C pushes, the range of the capture)."""
    assert files(a) == files(b), what
    for name in files(a):
        if captures_scaled and name.startswith("captures/"):
            if name.endswith(".cfg"):
                assert_same_capture(a / name, b / name, f"{what}: {name}")
            continue
        if name == "summary.json":
            sa, sb = (json.loads((d / name).read_text()) for d in (a, b))
            sa.pop("input"), sb.pop("input")
            assert sa == sb, f"{what}: summary.json"
        elif name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name),
                                          obj=f"{what}: {name}")
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{what}: {name}"


def assert_same_capture(a: Path, b: Path, what: str):
    ra, rb = pq.read(a), pq.read(b)
    assert (ra.names, ra.units, ra.sample_rate, ra.start_ns) == \
        (rb.names, rb.units, rb.sample_rate, rb.start_ns), what
    assert ra.data.shape == rb.data.shape, what
    # One step of a 16-bit scale over each channel's peak, in either file.
    step = np.maximum(np.abs(ra.data).max(axis=1), np.abs(rb.data).max(axis=1)) / 32767
    worst = (np.abs(ra.data - rb.data) / step[:, None]).max()
    assert worst <= 1.0, f"{what}: captures differ by {worst:.2f} steps"


@pytest.fixture(scope="module")
def demo():
    return pq.read(DEMO)


@pytest.fixture(scope="module")
def cli_csv(run_pqe, tmp_path_factory):
    out = tmp_path_factory.mktemp("fronts") / "cli"
    run_pqe("analyze", DEMO, "--out", out)
    return out


def test_cli_python_and_c_write_the_same_folder(cli_csv, libpqe, demo, tmp_path):
    assert "intervals.csv" in files(cli_csv) and "compliance.json" in files(cli_csv)
    assert any(f.startswith("captures/") for f in files(cli_csv))
    # Python, from the path.
    pq.analyze(DEMO).write(tmp_path / "python")
    assert_same_folder(cli_csv, tmp_path / "python", "python")
    # C, pushes of 5000 samples (not the file's 65536-sample blocks), timestamped.
    c = CAnalysis(libpqe, demo, tmp_path / "c", DEMO, "demo-30s", "pqe-dsp synth")
    n = demo.data.shape[1]
    for first in range(0, n, 5000):
        c.check(c.push_at(first, min(n, first + 5000)))
    c.finish()
    assert_same_folder(cli_csv, tmp_path / "c", "C", captures_scaled=True)


def test_cli_python_and_c_write_the_same_parquet_folder(run_pqe, libpqe, demo, tmp_path):
    """The same with Parquet tables (`--format parquet`, `write(format="parquet")`, the C
    front's `format = "parquet"` setting): equal tables, the same other files."""
    cli = tmp_path / "cli"
    run_pqe("analyze", DEMO, "--out", cli, "--format", "parquet")
    names = files(cli)
    assert "intervals.parquet" in names and "energy.parquet" in names, names
    assert not any(n.endswith(".csv") and "/" not in n for n in names), names
    pq.analyze(DEMO).write(tmp_path / "python", format="parquet")
    assert_same_folder(cli, tmp_path / "python", "python, parquet")
    c = CAnalysis(libpqe, demo, tmp_path / "c", DEMO, "demo-30s", "pqe-dsp synth",
                  settings='format = "parquet"')
    n = demo.data.shape[1]
    for first in range(0, n, 5000):
        c.check(c.push_at(first, min(n, first + 5000)))
    c.finish()
    assert_same_folder(cli, tmp_path / "c", "C, parquet", captures_scaled=True)


def test_python_recording_front_gives_the_same_tables(cli_csv, demo, tmp_path):
    """A numpy Recording (which carries no station or device name) gives the same tables,
    statistics and compliance.json; summary.json differs only in `input` and the
    recording's station and device."""
    pq.analyze(demo).write(tmp_path / "rec")
    out = tmp_path / "rec"
    for name in files(cli_csv):
        if name.endswith(".csv"):
            assert (out / name).read_bytes() == (cli_csv / name).read_bytes(), name
    assert (out / "compliance.json").read_bytes() == (cli_csv / "compliance.json").read_bytes()
    a, b = (json.loads((d / "summary.json").read_text()) for d in (out, cli_csv))
    assert a["input"] == "numpy Recording"
    for s in (a, b):
        s.pop("input"), s["recording"].pop("station"), s["recording"].pop("device")
        s.pop("captures"), s.pop("files")
    assert a == b


def test_a_gap_in_a_c_stream_gives_the_tables_of_the_same_gap_in_a_file(run_pqe, libpqe, demo,
                                                                        tmp_path):
    """A C caller's timestamped pushes that skip 0.78 s give the output folder of a file
    missing the same span: the demo converted to CSV (with its sidecar) and the gap's rows
    deleted, which the reader reports as a gap. Every table is the same bytes (the flagged
    intervals around the gap included), and summary.json lists the same gap; only the gap's
    `reason` differs (the file's names its line)."""
    first_missing, resume = 126_000, 134_000
    full = tmp_path / "demo.csv"
    run_pqe("convert", DEMO, full)
    lines = full.read_text().splitlines(keepends=True)
    gap_csv = tmp_path / "gap.csv"
    gap_csv.write_text("".join(lines[:1 + first_missing] + lines[1 + resume:]))
    (tmp_path / "gap.csv.json").write_bytes((tmp_path / "demo.csv.json").read_bytes())
    cli = tmp_path / "cli"
    run_pqe("analyze", gap_csv, "--out", cli)

    c = CAnalysis(libpqe, demo, tmp_path / "c", gap_csv, "demo-30s", "pqe-dsp synth")
    n = demo.data.shape[1]
    for start, stop in ((0, first_missing), (resume, n)):
        for first in range(start, stop, 5000):
            c.check(c.push_at(first, min(stop, first + 5000)))
    c.finish()

    tables = [f for f in files(cli) if f.endswith(".csv") and "/" not in f]
    assert "intervals.csv" in tables and "events.csv" in tables, tables
    assert [f for f in files(tmp_path / "c") if f.endswith(".csv") and "/" not in f] == tables
    for name in tables:
        assert (cli / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    # No interval spans the gap; the first after it is flagged.
    intervals = pd.read_csv(cli / "intervals.csv")
    gap_start, gap_end = first_missing / demo.sample_rate, resume / demo.sample_rate
    assert not ((intervals.t > gap_start - 0.2) & (intervals.t < gap_end)).any()
    after = intervals[intervals.t >= gap_end].iloc[0]
    assert after.t < gap_end + 0.2 and after.flagged == 1
    gaps = [json.loads((d / "summary.json").read_text())["gaps"] for d in (cli, tmp_path / "c")]
    for g in gaps:
        assert len(g) == 1
        g[0].pop("reason")
    assert gaps[0] == gaps[1]
    assert gaps[0][0]["first_missing_sample"] == first_missing
    assert gaps[0][0]["missing_samples"] == resume - first_missing
