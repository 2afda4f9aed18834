"""pqengine.dask: many recordings on a Dask distributed cluster.

One Dask task per recording: each task runs :func:`pqengine.analyze` (the analysis pipeline
of ``pqe analyze``) in a worker (the engine releases the GIL, so a worker's threads analyse
recordings in parallel), writes that recording's tables as Parquet under ``out/<folder>/``
when ``out`` is given, and returns its summary.json. The engine builds the summary table from
them on the client with the code of ``pqe batch`` — the same columns, folder names and
values as its ``summary.csv`` / ``summary.parquet`` — returned as a ``pandas.DataFrame``
and written as ``out/summary.parquet`` and ``out/summary.csv``::

    from distributed import Client
    import pqengine.dask as pqd

    client = Client("tcp://scheduler:8786")
    table = pqd.analyze_dir("/data/recordings", client=client, out="/data/results",
                            nominal_voltage=230.0)

A recording that cannot be analysed becomes a row with status ``"error"`` and the engine's
message (its numbers NaN), never a row of zeros, and the others go on. Scheduling across
machines is Dask's: nothing here distributes work by itself.

Needs ``dask[distributed]``, ``pandas`` and ``pyarrow`` (the last two also in the workers).
"""

from __future__ import annotations

import json as _json
import os as _os
import typing as _typing
from pathlib import Path as _Path

import numpy as _np

from . import _pqengine

if _typing.TYPE_CHECKING:  # names of the annotations only; not part of the module
    from pathlib import Path
    from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

    PathLike = Union[str, "_os.PathLike[str]"]

__all__ = [
    "EXTENSIONS",
    "NUMBER_COLUMNS",
    "PERIODS",
    "TEXT_COLUMNS",
    "analyze_dir",
    "analyze_many",
    "file_safe",
    "find_recordings",
    "folder_name",
    "summary_row",
]

#: Extensions (lower case) of the files taken as recordings, as ``pqe batch`` takes them.
EXTENSIONS = ("cfg", "cff", "csv", "h5", "hdf5")
#: The summary's identification columns (text; empty cells are ``None``), the engine's.
TEXT_COLUMNS = tuple(_pqengine.BATCH_TEXT_COLUMNS)
#: The summary's number columns after them (float64; NaN where there is no value), the
#: engine's; then come ``mean_<column>`` for the interval columns every analysed
#: recording has.
NUMBER_COLUMNS = tuple(_pqengine.BATCH_NUMBER_COLUMNS)
#: The aggregation periods, as the tables name them.
PERIODS = ("3s", "10min", "2h")


def file_safe(name: str) -> str:
    """``name`` with every character other than ``[A-Za-z0-9_-]`` replaced by ``_`` (after
    trimming white space; ``"channel"`` when nothing is left), as the engine names files."""
    return _pqengine.file_safe(str(name))


def folder_name(rel: PathLike) -> str:
    """The output folder of a recording at ``rel`` (its path under the searched folder):
    each component made file-safe, joined by ``__`` (``site 1/rec.cfg`` →
    ``site_1__rec_cfg``), as ``pqe batch`` names it (the engine's own code)."""
    return _pqengine.folder_name(_os.fspath(rel))


def find_recordings(directory: PathLike, exclude: Optional[PathLike] = None) -> List[Path]:
    """Every recording under ``directory`` (recursively), as ``pqe batch`` finds them (the
    engine's own search): files ending ``.cfg``, ``.cff``, ``.csv``, ``.h5`` or ``.hdf5``
    (any case), not under ``exclude`` (the output folder). A ``.dat`` belongs to its
    ``.cfg``. Sorted component by component."""
    skip = None if exclude is None else _os.fspath(exclude)
    return [_Path(p) for p in _pqengine.find_recordings(_os.fspath(directory), skip)]


def summary_row(analysis: Any) -> Dict[str, Any]:
    """The row ``pqe batch`` puts in its summary for one analysed recording (an
    :class:`pqengine.Analysis`), built by the engine from the analysis's summary.json:
    ``start`` and the :data:`NUMBER_COLUMNS`, then ``mean_<column>`` for every interval
    column."""
    header, text, numbers = _pqengine.batch_table(
        [("", "", _json.dumps(analysis.summary()), None)]
    )
    row: Dict[str, Any] = {"start": text[0][TEXT_COLUMNS.index("start")]}
    row.update(zip(header[len(TEXT_COLUMNS):], (float(v) for v in numbers[0])))
    return row


def analyze_many(
    paths: Iterable[PathLike],
    client: Any = None,
    out: Optional[PathLike] = None,
    root: Optional[PathLike] = None,
    **analyze_options: Any,
) -> Any:
    """Analyse every recording in ``paths`` on a Dask cluster, one task per recording.

    - ``client``: a ``distributed.Client``; by default the current one
      (``distributed.get_client()``), else Dask's local threaded scheduler.
    - ``out``: folder for the results; each recording's tables are written there as
      Parquet in ``out/<folder>/`` (``intervals.parquet``, ``frequency.parquet``,
      ``flicker.parquet``, ``events.parquet``, ``aggregates_<period>.parquet``,
      ``harmonics_<column>.parquet``, ``statistics.parquet``; tables without rows are not
      written), and the summary as ``out/summary.parquet`` and ``out/summary.csv`` (the
      engine's writer). The
      folder must be reachable under the same path from every worker (a shared file
      system). Without ``out`` nothing is written.
    - ``root``: the folder the ``file`` column and the folder names are relative to
      (default: the paths as given).
    - ``analyze_options``: the options of :func:`pqengine.analyze` (``nominal_voltage``,
      ``nominal_frequency``, ``wiring``, …), the same for every recording.

    Returns the summary as a ``pandas.DataFrame``, one row per recording in the order of
    ``paths``: ``file``, ``folder``, ``status`` (``"ok"`` or ``"error"``), ``error``
    (the engine's message), ``start``, then :data:`NUMBER_COLUMNS` and
    ``mean_<column>`` for the interval columns every analysed recording has — the table
    ``pqe batch`` writes. A recording that fails is an ``"error"`` row; the others go on.
    """
    import pandas as pd

    files = [_Path(p) for p in paths]
    base = _Path(root) if root is not None else None
    jobs: List[Tuple[str, str, str]] = []
    for f in files:
        rel = _relative(f, base)
        jobs.append((_os.fspath(f), str(rel), folder_name(rel)))
    out_dir = _os.fspath(out) if out is not None else None
    if out_dir is not None:
        _os.makedirs(out_dir, exist_ok=True)
    rows = _run(jobs, client, out_dir, dict(analyze_options))
    table = _summary_frame(rows, pd)
    if out_dir is not None:
        _pqengine.batch_write(_outcomes(rows), out_dir)
    return table


def analyze_dir(
    directory: PathLike,
    client: Any = None,
    out: Optional[PathLike] = None,
    **analyze_options: Any,
) -> Any:
    """Analyse every recording under ``directory`` (see :func:`find_recordings`; the
    ``out`` folder is left out of the search) with :func:`analyze_many`, the ``file``
    column and folder names relative to ``directory`` — as ``pqe batch DIR --out OUT``.
    Raises ``FileNotFoundError`` when the folder holds no recording."""
    files = find_recordings(directory, exclude=out)
    if not files:
        raise FileNotFoundError(f"no recording (.cfg, .cff, .csv, .h5) under {directory}")
    return analyze_many(files, client=client, out=out, root=directory, **analyze_options)


def _analyze_one(
    path: str, rel: str, folder: str, out: Optional[str], options: Dict[str, Any]
) -> Dict[str, Any]:
    """The task: analyse one recording in a worker with ``pqe analyze``'s pipeline, write
    its tables as Parquet into ``out/<folder>`` when ``out`` is given, and return the
    outcome: its summary.json text, or the engine's message."""
    import pqengine as pq

    row: Dict[str, Any] = {"file": rel, "folder": folder, "summary": None, "error": None}
    try:
        analysis = pq.analyze(path, **options)
        if out is not None:
            _write_tables(analysis, _os.path.join(out, folder))
    except Exception as e:  # every failure is reported in the row, none is lost
        row["error"] = str(e) or type(e).__name__
        return row
    row["summary"] = _json.dumps(analysis.summary())
    return row


def _write_tables(analysis: Any, folder: str) -> None:
    """One recording's tables as Parquet files in ``folder``."""
    _os.makedirs(folder, exist_ok=True)
    tables = {
        "intervals": analysis.intervals,
        "frequency": analysis.frequency,
        "flicker": analysis.flicker,
        "events": analysis.events,
    }
    for period in PERIODS:
        tables[f"aggregates_{period}"] = analysis.aggregates(period)
    for column in analysis.columns:
        try:
            tables[f"harmonics_{file_safe(column)}"] = analysis.harmonic_table(column)
        except KeyError:
            continue
    for name, table in tables.items():
        if table and table.rows:
            table.to_pandas().to_parquet(_os.path.join(folder, f"{name}.parquet"), index=False)
    stats = analysis.info.get("statistics") or []
    if stats:
        import pandas as pd

        pd.DataFrame(stats).to_parquet(_os.path.join(folder, "statistics.parquet"), index=False)


def _run(
    jobs: Sequence[Tuple[str, str, str]],
    client: Any,
    out: Optional[str],
    options: Dict[str, Any],
) -> List[Dict[str, Any]]:
    """Run one task per job on ``client`` (or Dask's local scheduler) and gather the rows
    in job order; a task lost with its worker becomes an error row."""
    if client is None:
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
    if client is None:
        import dask

        tasks = [
            dask.delayed(_analyze_one, pure=False)(p, r, f, out, options) for p, r, f in jobs
        ]
        return list(dask.compute(*tasks, scheduler="threads"))
    futures = client.map(
        _analyze_one,
        [p for p, _, _ in jobs],
        [r for _, r, _ in jobs],
        [f for _, _, f in jobs],
        out=out,
        options=options,
        pure=False,
    )
    rows: List[Dict[str, Any]] = []
    for (path, rel, folder), future in zip(jobs, futures):
        try:
            rows.append(future.result())
        except Exception as e:
            why = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            rows.append({"file": rel, "folder": folder, "summary": None,
                         "error": f"{path}: {why}"})
    return rows


def _outcomes(rows: List[Dict[str, Any]]) -> List[Tuple[str, str, Any, Any]]:
    return [(r["file"], r["folder"], r["summary"], r["error"]) for r in rows]


def _summary_frame(rows: List[Dict[str, Any]], pd: Any) -> Any:
    """The gathered outcomes as the summary table of ``pqe batch`` (built by the engine)."""
    header, text, numbers = _pqengine.batch_table(_outcomes(rows))
    data: Dict[str, Any] = {}
    for j, c in enumerate(TEXT_COLUMNS):
        data[c] = pd.Series([t[j] for t in text], dtype=object)
    for j, c in enumerate(header[len(TEXT_COLUMNS):]):
        data[c] = _np.asarray(numbers[:, j], dtype=_np.float64)
    return pd.DataFrame(data, columns=list(header))


def _cell(x: float) -> str:
    """A number as the engine writes it in a CSV cell."""
    return _pqengine.csv_cell(float(x))


def _timestamp(ns: int) -> str:
    """Nanoseconds since 1970 as the engine prints an instant."""
    return _pqengine.timestamp(int(ns))


def _relative(path: Path, root: Optional[Path]) -> Path:
    if root is None:
        return path
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _canonical(path: PathLike) -> Optional[str]:
    try:
        return _os.path.realpath(path, strict=True)
    except OSError:
        return None


# `from __future__ import annotations` binds the name `annotations`; it is no API.
del annotations
