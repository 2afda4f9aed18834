"""pqengine.dask on a distributed LocalCluster (two worker processes on loopback) against
`pqe batch` on the same folder: the same summary table, the same per-file tables, the
broken recording an error row."""

import math
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import distributed  # noqa: F401  (installed by tests/requirements.txt)
import distributed  # noqa: E402

import pqengine  # noqa: E402
import pqengine.dask as pqd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "demo-3v3i-50hz"


@pytest.fixture(scope="module")
def client(request):
    """A Client of a LocalCluster: 2 worker processes, 1 thread each, loopback only."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        timeout="60s",
    )
    c = distributed.Client(cluster, timeout="60s")

    def close():
        c.close(timeout=30)
        cluster.close(timeout=30)

    request.addfinalizer(close)
    c.wait_for_workers(2, timeout=60)
    return c


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """A folder of four recordings: three copies of the demo recording under different
    names and sub-folders (one with a space and dots in its path) and one whose .dat is
    cut inside a record."""
    d = tmp_path_factory.mktemp("recordings")
    (d / "site 1").mkdir()
    (d / "b").mkdir()
    for stem in ("a", "site 1/rec.1", "b/z-2"):
        shutil.copy(DEMO.with_suffix(".cfg"), d / f"{stem}.cfg")
        shutil.copy(DEMO.with_suffix(".dat"), d / f"{stem}.dat")
    # channel counts that disagree (6 in all, 5 analogue, 0 digital): refused; a .dat cut
    # short would be analysed up to its end
    cfg = DEMO.with_suffix(".cfg").read_text()
    assert "6,6A,0D" in cfg
    (d / "b" / "broken.cfg").write_text(cfg.replace("6,6A,0D", "6,5A,0D", 1))
    shutil.copy(DEMO.with_suffix(".dat"), d / "b" / "broken.dat")
    return d


@pytest.fixture(scope="module")
def batch(recordings, pqe_bin, tmp_path_factory):
    """`pqe batch` over the folder (it exits non-zero: one recording is broken)."""
    import subprocess

    out = tmp_path_factory.mktemp("cli") / "out"
    r = subprocess.run(
        [str(pqe_bin), "batch", str(recordings), "--out", str(out), "-j", "2"],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "1 of 4 recordings could not be analysed" in r.stderr, r.stderr
    return out


@pytest.fixture(scope="module")
def dask_run(client, recordings, tmp_path_factory):
    out = tmp_path_factory.mktemp("dask") / "out"
    t0 = time.perf_counter()
    table = pqd.analyze_dir(recordings, client=client, out=out)
    return table, out, time.perf_counter() - t0


def test_workers_import_this_pqengine(client):
    where = client.run(lambda: __import__("pqengine").__file__)
    assert len(where) == 2
    assert set(where.values()) == {pqengine.__file__}


def _numbers(cells: pd.Series) -> np.ndarray:
    return np.array([math.nan if c == "" else float(c) for c in cells], dtype=np.float64)


def _same_table(ours: pd.DataFrame, csv: Path, text_columns=(), name="", skip=()) -> None:
    """``ours`` equals the CLI's CSV: the same columns in order, text exactly, numbers
    exactly after parsing, NaN where a cell is empty (columns in ``skip`` are compared by
    the caller)."""
    theirs = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(ours.columns) == list(theirs.columns), name
    assert len(ours) == len(theirs), name
    for c in ours.columns:
        if c in skip:
            continue
        if c in text_columns:
            mine = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                    for v in ours[c]]
            assert mine == list(theirs[c]), f"{name}: column {c}"
        else:
            np.testing.assert_array_equal(
                ours[c].to_numpy(dtype=np.float64), _numbers(theirs[c]),
                err_msg=f"{name}: column {c}",
            )


def test_summary_equals_pqe_batch(dask_run, batch, recordings):
    table, out, seconds = dask_run
    print(f"\nDask analyze_dir over 4 recordings on 2 worker processes: {seconds:.2f} s")
    assert list(table["file"]) == ["a.cfg", "b/broken.cfg", "b/z-2.cfg", "site 1/rec.1.cfg"]
    assert list(table["folder"]) == ["a_cfg", "b__broken_cfg", "b__z-2_cfg", "site_1__rec_1_cfg"]
    cli = pd.read_csv(batch / "summary.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == list(cli.columns)
    assert len(table.columns) > 5 + len(pqd.NUMBER_COLUMNS)  # the mean_ columns are there
    # every column cell by cell; the error is the pipeline's message with the same
    # context as the CLI's ("analysing <path>: …")
    _same_table(table, batch / "summary.csv", pqd.TEXT_COLUMNS, "summary", skip=("error",))
    for ours, cli_error in zip(table["error"], cli["error"]):
        if cli_error == "":
            assert ours is None
        else:
            assert cli_error == ours or cli_error.endswith(": " + ours), (cli_error, ours)
    # the Parquet summaries hold the same numbers too
    parquet = pd.read_parquet(batch / "summary.parquet")
    mine = pd.read_parquet(out / "summary.parquet")
    assert list(mine.columns) == list(parquet.columns)
    for c in mine.columns:
        if c in pqd.TEXT_COLUMNS:
            if c != "error":
                assert list(mine[c]) == list(parquet[c]), c
        else:
            np.testing.assert_array_equal(mine[c].to_numpy(), parquet[c].to_numpy(), err_msg=c)
    # the CSV written by analyze_dir is the CLI's, byte for byte, but for the error cell
    ours_csv = (out / "summary.csv").read_text().splitlines()
    cli_csv = (batch / "summary.csv").read_text().splitlines()
    assert len(ours_csv) == len(cli_csv)
    for a, b in zip(ours_csv, cli_csv):
        if "broken" not in a:
            assert a == b


def test_broken_recording_is_an_error_row(dask_run, recordings):
    table, out, _ = dask_run
    row = table[table["file"] == "b/broken.cfg"].iloc[0]
    assert row["status"] == "error"
    assert "broken.cfg:2" in row["error"] and "6 channels in all" in row["error"], row["error"]
    assert row["start"] is None
    numbers = row[list(pqd.NUMBER_COLUMNS) + [c for c in table.columns if c.startswith("mean_")]]
    assert numbers.isna().all()
    ok = table[table["status"] == "ok"]
    assert len(ok) == 3 and ok["intervals"].gt(0).all() and ok["error"].isna().all()


def test_per_file_parquet_equals_cli_csv(dask_run, batch):
    _, out, _ = dask_run
    mine, cli = out / "site_1__rec_1_cfg", batch / "site_1__rec_1_cfg"
    names = sorted(p.stem for p in mine.glob("*.parquet"))
    for required in ("intervals", "frequency", "flicker", "events", "aggregates_3s",
                     "aggregates_10min", "harmonics_U_A", "statistics"):
        assert required in names
    for name in names:
        text = ("kind", "phases", "start_time", "channel_extremes", "direction",
                "direction_confidence", "direction_note", "channel", "unit")
        _same_table(pd.read_parquet(mine / f"{name}.parquet"), cli / f"{name}.csv", text, name)


def test_analyze_many_without_out_writes_nothing(client, recordings, tmp_path):
    files = [recordings / "a.cfg", recordings / "b" / "broken.cfg"]
    table = pqd.analyze_many(files, client=client, root=recordings)
    assert list(table["status"]) == ["ok", "error"]
    assert list(table["folder"]) == ["a_cfg", "b__broken_cfg"]
    assert not any(tmp_path.iterdir())


def test_folder_names_and_cells():
    assert pqd.folder_name("site1/day 2/rec.cfg") == "site1__day_2__rec_cfg"
    assert pqd.folder_name("rec.csv") == "rec_csv"
    assert pqd.file_safe(" SBUS A  V/node ") == "SBUS_A__V_node"
    from pqengine.dask import _cell, _timestamp

    assert [_cell(x) for x in (math.nan, 0.1, 30.0, -2.5, 1.720178299855321e-05, 1e-7,
                               1.5e20, 1e16)] == [
        "", "0.1", "30", "-2.5", "0.00001720178299855321", "1e-7", "1.5e20", "1e16"]
    assert _timestamp(1717401600000000000) == "2024-06-03T08:00:00.000000000"
    assert _timestamp(-1) == "1969-12-31T23:59:59.999999999"
