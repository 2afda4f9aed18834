"""pqengine's Recording, read/write_comtrade, errors, pickling and the released GIL."""

import datetime as dt
import pickle
import threading
import time
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
FS = 10_240.0


def three_phase(seconds=2.0, fs=FS, f=50.0, u=230.0, i=10.0):
    t = np.arange(int(seconds * fs)) / fs
    rows = []
    for amp in (u, i):
        for k in range(3):
            rows.append(amp * np.sqrt(2) * np.sin(2 * np.pi * f * t - 2 * np.pi * k / 3))
    return np.array(rows)


NAMES = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]


# -- Recording ---------------------------------------------------------------------------


def test_recording_keeps_a_contiguous_float64_array_without_copy():
    data = three_phase()
    rec = pq.Recording(data, FS, NAMES)
    assert rec.data is data
    assert np.shares_memory(rec["U_B"], data)
    assert len(rec) == data.shape[1] and rec.sample_rate == FS and rec.names == NAMES
    assert rec.kinds == ["voltage"] * 3 + ["current"] * 3
    assert rec.phases == ["A", "B", "C"] * 2
    assert rec.units == ["V"] * 3 + ["A"] * 3
    assert rec.start == dt.datetime(1970, 1, 1) and rec.start_ns == 0
    np.testing.assert_array_equal(rec[4], data[4])


def test_recording_copies_only_what_is_not_c_contiguous_float64():
    data = three_phase()
    fortran = np.asfortranarray(data)
    rec = pq.Recording(fortran, FS, NAMES)
    assert not np.shares_memory(rec.data, fortran) and rec.data.flags.c_contiguous
    as32 = pq.Recording(data.astype(np.float32), FS, NAMES)
    assert as32.data.dtype == np.float64
    one = np.sin(np.arange(1000.0))
    single = pq.Recording(one, FS, ["x"], units=["V"])
    assert single.data.shape == (1, 1000) and np.shares_memory(single.data, one)
    assert single.kinds == ["voltage"] and single.phases == [None]


def test_recording_start_and_description():
    start = dt.datetime(2024, 6, 3, 8, 0, 0, 250_000)
    rec = pq.Recording(three_phase(0.1), FS, NAMES, start=start)
    assert rec.start == start
    assert rec.start_ns == (start - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1) * 1000
    aware = dt.datetime(2024, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert pq.Recording(three_phase(0.1), FS, NAMES, start=aware).start == dt.datetime(2024, 6, 3, 8)
    assert pq.Recording(three_phase(0.1), FS, NAMES, start=np.datetime64("2024-06-03T08:00")).start == dt.datetime(2024, 6, 3, 8)
    rec = pq.Recording(three_phase(0.1), FS, ["a", "b", "c", "d", "e", "f"],
                       kinds=["voltage"] * 3 + ["current"] * 3, phases=list("ABCABC"))
    assert rec.units == ["V"] * 3 + ["A"] * 3
    assert "Recording(6 channels" in repr(rec)
    again = pickle.loads(pickle.dumps(rec))
    np.testing.assert_array_equal(again.data, rec.data)
    assert again.phases == rec.phases


def test_bad_recordings_raise_value_and_type_errors():
    data = three_phase(0.1)
    with pytest.raises(ValueError, match=r"6 rows but 5 channel names.*\(channels, samples\)"):
        pq.Recording(data, FS, NAMES[:5])
    with pytest.raises(ValueError, match=r"transpose"):
        pq.Recording(data.T.copy(), FS, NAMES)
    with pytest.raises(ValueError, match="shape"):
        pq.Recording(np.zeros((2, 3, 4)), FS, ["a", "b"])
    with pytest.raises(ValueError, match="sample_rate"):
        pq.Recording(data, -1, NAMES)
    with pytest.raises(TypeError, match="sample_rate"):
        pq.Recording(data, "fast", NAMES)
    with pytest.raises(TypeError, match="real numbers"):
        pq.Recording([["a", "b"]], FS, ["x"])
    with pytest.raises(ValueError, match="kind"):
        pq.Recording(data, FS, NAMES, kinds=["volts"] * 6)
    with pytest.raises(ValueError, match="unique"):
        pq.Recording(data, FS, ["U_A"] * 6)
    with pytest.raises(KeyError, match="no channel 'U_X'"):
        pq.Recording(data, FS, NAMES)["U_X"]
    rec = pq.Recording(data, FS, NAMES, phases=["A", "B", "C", "A", "B", "Q"])
    with pytest.raises(ValueError, match="unknown phase 'Q'"):
        pq.analyze(rec)


# -- read and write_comtrade -------------------------------------------------------------


def test_read_demo_recording():
    rec = pq.read(DEMO)
    assert rec.names == NAMES and rec.sample_rate == FS and len(rec) == 307_200
    assert rec.start == dt.datetime(2024, 6, 3, 8, 0, 0)
    assert rec.kinds == ["voltage"] * 3 + ["current"] * 3 and rec.phases == list("ABCABC")
    assert rec.data.flags.c_contiguous and rec.data.dtype == np.float64
    rms = np.sqrt(np.mean(rec["U_A"][:10240] ** 2))
    assert 200 < rms < 260


@pytest.mark.parametrize("fmt", ["ascii", "binary", "binary32", "float32"])
@pytest.mark.parametrize("single_file", [False, True])
def test_write_comtrade_reads_back_here_and_in_the_comtrade_package(tmp_path, fmt, single_file):
    import comtrade
    start = dt.datetime(2024, 1, 2, 3, 4, 5)
    rec = pq.Recording(three_phase(0.5), FS, NAMES, start=start)
    path = tmp_path / ("rec.cff" if single_file else "rec.cfg")
    pq.write_comtrade(path, rec, format=fmt, revision=2013)
    assert path.exists() and (single_file or (tmp_path / "rec.dat").exists())
    back = pq.read(path)
    assert back.names == NAMES and back.sample_rate == FS and back.start == start
    assert back.phases == rec.phases and back.kinds == rec.kinds
    # 16-bit integers resolve 1/32767 of the range, ASCII integers 1/99998; the others are
    # near exact.
    tol = {"binary": 2e-4, "ascii": 2e-5, "binary32": 1e-6, "float32": 1e-6}[fmt]
    scale = np.abs(rec.data).max(axis=1, keepdims=True)
    assert np.all(np.abs(back.data - rec.data) <= tol * scale)
    if single_file:
        return  # the comtrade package reads .cfg/.dat pairs
    ct = comtrade.Comtrade()
    ct.load(str(path), str(tmp_path / "rec.dat"))
    assert ct.analog_count == 6 and ct.total_samples == len(rec)
    assert [c.strip() for c in ct.analog_channel_ids] == NAMES
    theirs = np.array(ct.analog)
    assert np.all(np.abs(theirs - rec.data) <= tol * scale)


def test_write_comtrade_revisions_and_bad_arguments(tmp_path):
    rec = pq.Recording(three_phase(0.1), FS, NAMES)
    for year in (1991, 1999):
        pq.write_comtrade(tmp_path / f"r{year}.cfg", rec, format="ascii", revision=year)
        assert pq.read(tmp_path / f"r{year}.cfg").names == NAMES
    with pytest.raises(ValueError, match="format must be"):
        pq.write_comtrade(tmp_path / "x.cfg", rec, format="hex")
    with pytest.raises(ValueError, match="revision must be"):
        pq.write_comtrade(tmp_path / "x.cfg", rec, revision=2005)
    with pytest.raises(ValueError, match=r"\.cfg .*\.cff"):
        pq.write_comtrade(tmp_path / "x.csv", rec)
    with pytest.raises(TypeError, match="Recording"):
        pq.write_comtrade(tmp_path / "x.cfg", rec.data)


# -- errors ------------------------------------------------------------------------------


def test_missing_file_is_a_pqe_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.cfg"
    for call in (pq.read, pq.analyze):
        with pytest.raises(pq.PqeError, match="nowhere.cfg") as e:
            call(missing)
        assert isinstance(e.value, Exception)


def test_corrupt_file_is_a_pqe_error_naming_file_and_line(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("station,dev,2013\n3,2A,1D\n1,U_A,A,,V,one,0,0,-32767,32767,1,1,P\n")
    (tmp_path / "bad.dat").write_bytes(b"")
    with pytest.raises(pq.PqeError, match=r"bad\.cfg:3") as e:
        pq.read(cfg)
    assert "bad.cfg" in str(e.value)
    with pytest.raises(pq.PqeError, match="bad.cfg"):
        pq.analyze(cfg)
    other = tmp_path / "notes.txt"
    other.write_text("not a recording")
    with pytest.raises(pq.PqeError, match=r"notes\.txt.*unknown file type 'txt'"):
        pq.read(other)


def test_bad_arguments_are_value_and_type_errors():
    rec = pq.Recording(three_phase(0.5), FS, NAMES)
    with pytest.raises(ValueError, match="50 or 60"):
        pq.analyze(rec, nominal_frequency=55)
    with pytest.raises(ValueError, match="wiring"):
        pq.analyze(rec, wiring="zigzag")
    with pytest.raises(ValueError, match="Udin"):
        pq.analyze(rec, nominal_voltage=-5)
    with pytest.raises(ValueError, match="lamp"):
        pq.analyze(rec, flicker_lamp="60W")
    with pytest.raises(ValueError, match="channel_map names channel 'X'"):
        pq.analyze(rec, channel_map={"X": "U_A"})
    with pytest.raises(ValueError, match="below 20 samples per cycle"):
        pq.analyze(pq.Recording(three_phase(0.5, fs=500.0), 500.0, NAMES))
    with pytest.raises(TypeError, match="Recording or a path"):
        pq.analyze(rec.data)
    with pytest.raises(TypeError, match="path"):
        pq.read(42)
    with pytest.raises(ValueError, match="aggregates|period"):
        pq.analyze(rec).aggregates("1h")


# -- results as data ---------------------------------------------------------------------


def test_analysis_pickles_and_round_trips_through_plain_dicts():
    a = pq.analyze(DEMO)
    for b in (pickle.loads(pickle.dumps(a)), pq.Analysis.from_dict(a.to_dict())):
        assert b.intervals.columns == a.intervals.columns
        for name in a.intervals:
            np.testing.assert_array_equal(b.intervals[name], a.intervals[name])
        np.testing.assert_array_equal(b.harmonics["U_A"], a.harmonics["U_A"])
        assert list(b.events["kind"]) == list(a.events["kind"])
        assert b.summary() == a.summary()
    assert isinstance(a.to_dict()["intervals"], dict)


def test_tables_are_dicts_of_arrays_with_to_pandas():
    import pandas as pd
    a = pq.analyze(DEMO)
    assert isinstance(a.intervals, dict) and a.intervals.columns[:3] == ["t", "flagged", "f"]
    df = a.intervals.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == a.intervals.columns
    assert len(df) == a.intervals.rows
    ev = a.events.to_pandas()
    assert set(ev["kind"]) <= {"dip", "swell", "interruption", "rvc"}
    assert a.aggregates("10min").to_pandas().shape[0] == a.aggregates("10min").rows


# -- the GIL ------------------------------------------------------------------------------


def test_python_threads_run_while_the_engine_works():
    """A thread that holds the GIL blocks every other Python thread for as long as it holds
    it; so the longest pause a counting thread sees while the engine works shows whether
    the engine released the GIL (with it held, the pause is a whole engine call). The
    engine is called a few times over, so the pauses are compared with the shortest call."""
    counter = [0]
    longest = [0.0]
    done = threading.Event()
    started = threading.Event()

    def count():
        last = time.perf_counter()
        started.set()
        while not done.is_set():
            now = time.perf_counter()
            longest[0] = max(longest[0], now - last)
            last = now
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    started.wait()
    calls = []
    try:
        longest[0] = 0.0
        before = counter[0]
        while sum(calls) < 0.3 or len(calls) < 3:
            t0 = time.perf_counter()
            pq.analyze(DEMO)
            calls.append(time.perf_counter() - t0)
        during = counter[0] - before
        pause = longest[0]
    finally:
        done.set()
        t.join()
    shortest = min(calls)
    # Well above Python's 5-ms switch interval, or the test could not tell.
    assert shortest > 0.02, f"an engine call took only {shortest:.3f} s"
    assert during > 1000, f"the counter advanced {during} times in {sum(calls):.3f} s"
    assert pause < 0.5 * shortest, f"longest pause {pause:.3f} s, shortest call {shortest:.3f} s"


@pytest.mark.slow
def test_two_threads_analyse_faster_than_one_after_the_other():
    """Marked slow: it needs two otherwise idle cores to mean anything."""
    rec = pq.read(DEMO)
    pq.analyze(rec)  # warm up
    t0 = time.perf_counter()
    pq.analyze(rec)
    pq.analyze(rec)
    serial = time.perf_counter() - t0
    threads = [threading.Thread(target=pq.analyze, args=(rec,)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - t0
    assert parallel < 0.8 * serial, f"parallel {parallel:.3f} s, serial {serial:.3f} s"


@pytest.mark.parametrize("ext", ["csv", "h5", "cff"])
def test_read_the_formats_pqe_convert_writes(run_pqe, tmp_path, ext):
    """CSV, HDF5 and single-file COMTRADE read into the same Recording as the source."""
    out = tmp_path / f"demo.{ext}"
    run_pqe("convert", DEMO, out)
    src, rec = pq.read(DEMO), pq.read(out)
    assert rec.names == src.names and rec.sample_rate == src.sample_rate
    assert len(rec) == len(src) and rec.start == src.start
    np.testing.assert_allclose(rec.data, src.data, rtol=1e-6, atol=1e-6)
    a, b = pq.analyze(out), pq.analyze(rec)
    np.testing.assert_array_equal(a.intervals["U_A"], b.intervals["U_A"])
