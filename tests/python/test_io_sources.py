"""Recordings made by other tools, read as PQE's `Source` (io/examples/source_events.rs
prints its events as JSON lines):

- CSV written by pandas `df.to_csv()` with an absolute time column (ISO 8601 from a
  datetime column, with and without the index and a time zone; Unix seconds): the start
  comes from the column, the rate from its spacing, values unchanged;
- rows missing from such a file: a gap naming the line (an error when strict); irregular
  spacing: an error naming the line;
- a COMTRADE binary .dat written with numpy that ends early (the rates say 307200 samples,
  the data holds 150000 records): read to its last whole record, a warning naming what is
  missing and a gap over the missing span; refused when strict;
- a missing file: "does not exist", naming it.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
RATE = 10_000.0


@pytest.fixture(scope="session")
def source_events() -> Path:
    # $PQE_SOURCE_EVENTS names a built example (any profile); else the release build.
    if os.environ.get("PQE_SOURCE_EVENTS"):
        exe = Path(os.environ["PQE_SOURCE_EVENTS"])
        if not exe.is_file():
            pytest.fail(f"PQE_SOURCE_EVENTS={exe} is not a file")
        return exe
    exe = ROOT / "target" / "release" / "examples" / "source_events"
    r = subprocess.run(
        ["cargo", "build", "--release", "-p", "pqe-io", "--example", "source_events"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if r.returncode != 0 or not exe.is_file():
        pytest.fail(f"cannot build the source_events example:\n{r.stderr[-3000:]}")
    return exe


def events(exe, path, *flags):
    """(events, info) of a recording read as a Source, or pytest.fail on an error."""
    r = subprocess.run([str(exe), str(path), *flags], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"reading {path} failed:\n{r.stderr}")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    return lines[:-1], lines[-1]["info"]


def error(exe, path, *flags) -> str:
    r = subprocess.run([str(exe), str(path), *flags], capture_output=True, text=True)
    assert r.returncode == 1, f"expected an error, got:\n{r.stdout[:2000]}"
    return r.stderr


def frame(n=2000, tz=None):
    t = pd.date_range("2024-03-01 12:00:00", periods=n, freq="100us", tz=tz)
    k = np.arange(n)
    return pd.DataFrame(
        {
            "timestamp": t,
            "U_A": 325.0 * np.sin(2 * np.pi * 50 * k / RATE),
            "I_A": 0.5 * k,
        }
    )


def samples(evs, channel=0):
    blocks = [e["block"] for e in evs if "block" in e]
    return sum(b["len"] for b in blocks), blocks


def test_pandas_iso_timestamps_with_index(source_events, tmp_path):
    df = frame()
    path = tmp_path / "pandas.csv"
    df.to_csv(path)  # the default: the unnamed index first, then timestamp
    head = path.read_text().splitlines()[:2]
    assert head[0] == ",timestamp,U_A,I_A" and head[1].startswith("0,2024-03-01 12:00:00")
    evs, info = events(source_events, path)
    assert info["start"] == "2024-03-01T12:00:00.000000000"
    assert info["sample_rate"] == RATE
    assert info["channels"] == ["U_A", "I_A"]
    n, blocks = samples(evs)
    assert n == len(df)
    assert not [e for e in evs if "gap" in e or "warning" in e]
    assert blocks[-1]["last"][1] == df["I_A"].iloc[-1]
    # Each block starts at its first row's time.
    start = pd.Timestamp("2024-03-01 12:00:00").value
    for b in blocks:
        assert b["start_ns"] == start + b["first_sample"] * 100_000


def test_pandas_timezone_aware_and_without_index(source_events, tmp_path):
    df = frame(tz="Europe/Berlin")
    path = tmp_path / "tz.csv"
    df.to_csv(path, index=False)
    assert path.read_text().splitlines()[1].startswith("2024-03-01 12:00:00.000000+01:00")
    evs, info = events(source_events, path)
    # The clock the file states, and its offset as COMTRADE writes time_code.
    assert info["start"] == "2024-03-01T12:00:00.000000000"
    assert info["time_code"] == "+1"
    assert samples(evs)[0] == len(df)


def test_epoch_seconds_column(source_events, tmp_path):
    df = frame(500)
    df.pop("timestamp")
    df["time"] = 1_709_294_400 + np.arange(500) / RATE  # Unix seconds
    df = df[["time", "U_A", "I_A"]]
    path = tmp_path / "epoch.csv"
    df.to_csv(path, index=False)
    evs, info = events(source_events, path)
    assert info["start_ns"] == pd.Timestamp("2024-03-01 12:00:00").value
    assert info["sample_rate"] == RATE
    assert samples(evs)[0] == 500


def test_missing_rows_are_a_gap_naming_the_line(source_events, tmp_path):
    df = frame().drop(index=range(500, 600))
    path = tmp_path / "gap.csv"
    df.to_csv(path, index=False)
    evs, info = events(source_events, path)
    kinds = [next(iter(e)) for e in evs]
    gaps = [e["gap"] for e in evs if "gap" in e]
    assert len(gaps) == 1, kinds
    g = gaps[0]
    # Row 600 of the frame is on line 502 (header, 500 rows before it).
    assert "gap.csv:502" in g["reason"] and "100 rows are missing" in g["reason"]
    assert g["missing_samples"] == 100 and g["first_missing_sample"] == 500
    assert g["end_ns"] - g["start_ns"] == 100 * 100_000
    # Blocks before the gap, then the gap, then blocks after it; never joined.
    i = kinds.index("gap")
    n_before = sum(e["block"]["len"] for e in evs[:i] if "block" in e)
    assert n_before == 500
    after = [e["block"] for e in evs[i:] if "block" in e]
    assert after[0]["first_sample"] == 600
    assert after[0]["start_ns"] == pd.Timestamp("2024-03-01 12:00:00.06").value
    assert samples(evs)[0] == len(df)
    # Strict: refused, naming the line.
    e = error(source_events, path, "--strict")
    assert "gap.csv:502" in e and "100 rows missing" in e, e


def test_irregular_spacing_is_an_error_naming_the_line(source_events, tmp_path):
    df = frame()
    df.loc[700, "timestamp"] += pd.Timedelta(microseconds=37)
    path = tmp_path / "jitter.csv"
    df.to_csv(path, index=False)
    e = error(source_events, path)
    assert "jitter.csv:702" in e and "column timestamp" in e and "irregular" in e, e


def write_truncated_comtrade(dirpath: Path, total=307_200, have=150_000, rate=10_240.0):
    """A 2013 BINARY recording of one channel whose .dat stops after `have` records."""
    cfg = "\r\n".join(
        [
            "lost power,recorder 7,2013",
            "1,1A,0D",
            "1,U_A,A,,V,0.01,0,0,-32767,32767,1,1,P",
            "50",
            "1",
            f"{rate:g},{total}",
            "01/03/2024,12:00:00.000000",
            "01/03/2024,12:00:00.000000",
            "BINARY",
            "1",
            "0,0",
            "0,0",
            "",
        ]
    )
    (dirpath / "cut.cfg").write_text(cfg)
    rec = np.zeros(have, dtype=[("n", "<u4"), ("ts", "<u4"), ("x", "<i2")])
    rec["n"] = np.arange(1, have + 1)
    rec["x"] = (np.arange(have) % 20000).astype(np.int16)
    # ... and 7 bytes of a record cut short.
    (dirpath / "cut.dat").write_bytes(rec.tobytes() + b"\x01\x02\x03\x04\x05\x06\x07")
    return dirpath / "cut.cfg"


def test_comtrade_dat_that_ends_early(source_events, tmp_path):
    cfg = write_truncated_comtrade(tmp_path)
    evs, info = events(source_events, cfg)
    assert info["total_samples"] == 307_200
    n, blocks = samples(evs)
    assert n == 150_000
    assert blocks[-1]["last"][0] == pytest.approx((149_999 % 20000) * 0.01)
    warnings = [e["warning"] for e in evs if "warning" in e]
    assert len(warnings) == 1
    w = warnings[0]
    assert "cut.dat" in w and "after record 150000" in w and "end at sample 307200" in w, w
    assert "the last 157200 samples" in w and "7 bytes of a record cut short" in w, w
    gap = [e["gap"] for e in evs if "gap" in e]
    assert len(gap) == 1 and next(iter(evs[-1])) == "gap"
    g = gap[0]
    assert g["first_missing_sample"] == 150_000 and g["missing_samples"] == 157_200
    start = pd.Timestamp("2024-03-01 12:00:00").value
    assert g["start_ns"] == start + round(150_000 / 10_240 * 1e9)
    assert g["end_ns"] == start + 30_000_000_000
    e = error(source_events, cfg, "--strict")
    assert "cut.dat (byte 1500000): the data ends inside a record" in e, e
    assert "150000 samples before it were read correctly" in e, e


def test_missing_file_is_named(source_events, tmp_path, pqe_bin):
    e = error(source_events, tmp_path / "nowhere.cfg")
    assert "nowhere.cfg: the file does not exist" in e and "entity not found" not in e, e
    r = subprocess.run([str(pqe_bin), "inspect", str(tmp_path / "nowhere.cfg")], capture_output=True, text=True)
    assert r.returncode != 0
    assert "does not exist" in r.stderr and "entity not found" not in r.stderr, r.stderr
