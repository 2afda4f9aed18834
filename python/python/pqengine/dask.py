"""pqengine.dask: many recordings on a Dask distributed cluster.

One Dask task per recording: each task runs :func:`pqengine.analyze` in a worker (the engine
releases the GIL, so a worker's threads analyse recordings in parallel), writes that
recording's tables as Parquet under ``out/<folder>/`` when ``out`` is given, and returns a
small summary row (a plain dict). The rows gathered on the client form the summary table —
the same columns, folder names and values as the ``summary.csv`` / ``summary.parquet`` of
``pqe batch`` — returned as a ``pandas.DataFrame`` and written as ``out/summary.parquet``
and ``out/summary.csv``::

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

import math as _math
import os as _os
import typing as _typing
from decimal import Decimal as _Decimal
from pathlib import Path as _Path

import numpy as _np

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
#: The summary's identification columns (text; empty cells are ``None``).
TEXT_COLUMNS = ("file", "folder", "status", "error", "start")
#: The summary's number columns after them (float64; NaN where there is no value), then
#: come ``mean_<column>`` for the interval columns every analysed recording has.
NUMBER_COLUMNS = (
    "duration_s",
    "sample_rate",
    "channels",
    "intervals",
    "flagged_intervals",
    "f_min",
    "f_mean",
    "f_max",
    "events",
    "dips",
    "swells",
    "interruptions",
)
#: The aggregation periods, as the tables name them.
PERIODS = ("3s", "10min", "2h")


def file_safe(name: str) -> str:
    """``name`` with every character other than ``[A-Za-z0-9_-]`` replaced by ``_`` (after
    trimming white space; ``"channel"`` when nothing is left), as the CLI names files."""
    s = "".join(
        c if (c.isascii() and c.isalnum()) or c in "_-" else "_" for c in name.strip()
    )
    return s or "channel"


def folder_name(rel: PathLike) -> str:
    """The output folder of a recording at ``rel`` (its path under the searched folder):
    each component made file-safe, joined by ``__`` (``site 1/rec.cfg`` →
    ``site_1__rec_cfg``), as ``pqe batch`` names it."""
    p = _Path(rel)
    parts = [part for part in p.parts if part != p.anchor] if p.anchor else list(p.parts)
    return "__".join(file_safe(part) for part in parts)


def find_recordings(directory: PathLike, exclude: Optional[PathLike] = None) -> List[Path]:
    """Every recording under ``directory`` (recursively), as ``pqe batch`` finds them:
    files ending ``.cfg``, ``.cff``, ``.csv``, ``.h5`` or ``.hdf5`` (any case), not under
    ``exclude`` (the output folder). A ``.dat`` belongs to its ``.cfg``. Sorted component
    by component, as the CLI sorts them."""
    root = _Path(directory)
    skip = _canonical(exclude) if exclude is not None else None
    found: List[Path] = []
    stack = [root]
    while stack:
        d = stack.pop()
        if skip is not None and _canonical(d) == skip:
            continue
        with _os.scandir(d) as entries:
            for entry in entries:
                path = _Path(entry.path)
                if path.is_dir():
                    stack.append(path)
                elif path.suffix[1:].lower() in EXTENSIONS:
                    found.append(path)
    found.sort(key=lambda p: p.parts)
    return found


def summary_row(analysis: Any) -> Dict[str, Any]:
    """The figures of one analysed recording as ``pqe batch`` puts them in its summary,
    computed from the :class:`pqengine.Analysis` the way ``pqe analyze`` computes its
    summary.json: ``start`` (ISO 8601 with nanoseconds), the :data:`NUMBER_COLUMNS` as
    floats (NaN where there is none) and ``means``, the mean over unflagged intervals of
    every interval column with at least one finite unflagged value (summed in row order,
    as the CLI sums)."""
    info = analysis.info
    sr, n = float(info["sample_rate"]), int(info["samples"])
    iv = analysis.intervals
    means: Dict[str, float] = {}
    if iv:
        keep = iv["flagged"] == 0
        for name in iv.columns[3:]:
            v = iv[name][keep]
            v = v[_np.isfinite(v)]
            if v.size:
                means[name] = _finite(_ordered_sum(v) / v.size)
    fr = analysis.frequency
    f = fr["f"][(fr["flagged"] == 0) & _np.isfinite(fr["f"])] if fr else _np.zeros(0)
    kinds = [str(k) for k in analysis.events["kind"]] if analysis.events else []
    duration = _finite(n / sr) if sr != 0 else _math.nan
    numbers = {
        "duration_s": duration,
        "sample_rate": sr,
        "channels": float(len(info["names"])),
        "intervals": float(iv.rows),
        "flagged_intervals": float(_np.count_nonzero(iv["flagged"])) if iv else 0.0,
        "f_min": float(f.min()) if f.size else _math.nan,
        "f_mean": _ordered_sum(f) / f.size if f.size else _math.nan,
        "f_max": float(f.max()) if f.size else _math.nan,
        "events": float(len(kinds)),
        "dips": float(kinds.count("dip")),
        "swells": float(kinds.count("swell")),
        "interruptions": float(kinds.count("interruption")),
    }
    return {"start": _timestamp(int(info["start_ns"])), **numbers, "means": means}


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
      written), and the summary as ``out/summary.parquet`` and ``out/summary.csv``. The
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
        table.to_parquet(_os.path.join(out_dir, "summary.parquet"), index=False)
        _write_csv(_os.path.join(out_dir, "summary.csv"), table)
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
    """The task: analyse one recording in a worker, write its tables, return its row."""
    import pqengine as pq

    row: Dict[str, Any] = {"file": rel, "folder": folder}
    try:
        analysis = pq.analyze(path, **options)
        if out is not None:
            _write_tables(analysis, _os.path.join(out, folder))
    except Exception as e:  # every failure is reported in the row, none is lost
        return {**row, **_error_row(str(e) or type(e).__name__)}
    return {**row, "status": "ok", "error": None, **summary_row(analysis)}


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


def _error_row(message: str) -> Dict[str, Any]:
    return {"status": "error", "error": message, "start": None, "means": {},
            **{c: _math.nan for c in NUMBER_COLUMNS}}


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
            rows.append({"file": rel, "folder": folder, **_error_row(f"{path}: {why}")})
    return rows


def _summary_frame(rows: List[Dict[str, Any]], pd: Any) -> Any:
    """The gathered rows as the summary table of ``pqe batch``."""
    means = _common_means(rows)
    data: Dict[str, Any] = {}
    for c in TEXT_COLUMNS:
        data[c] = pd.Series([r.get(c) for r in rows], dtype=object)
    for c in NUMBER_COLUMNS:
        data[c] = _np.array([r[c] for r in rows], dtype=_np.float64)
    for c in means:
        data[f"mean_{c}"] = _np.array(
            [r["means"].get(c, _math.nan) if r["status"] == "ok" else _math.nan for r in rows],
            dtype=_np.float64,
        )
    return pd.DataFrame(data, columns=list(data))


def _common_means(rows: List[Dict[str, Any]]) -> List[str]:
    """The mean columns every analysed recording has, in the CLI's order (the first
    recording's names sorted, those the others lack left out)."""
    common: Optional[List[str]] = None
    for r in rows:
        if r["status"] != "ok":
            continue
        keys = set(r["means"])
        common = sorted(keys) if common is None else [k for k in common if k in keys]
    return common or []


def _write_csv(path: str, table: Any) -> None:
    """The summary as CSV, cell by cell as the CLI writes it (empty for NaN and None,
    integral numbers without a fraction, others in their shortest exact form)."""
    text = set(TEXT_COLUMNS)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(_quote(c) for c in table.columns) + "\n")
        for row in table.itertuples(index=False):
            cells = [
                _quote("" if v is None else str(v)) if c in text else _cell(float(v))
                for c, v in zip(table.columns, row)
            ]
            fh.write(",".join(cells) + "\n")


def _cell(x: float) -> str:
    """A number as the CLI writes it in a CSV cell (ryu's shortest form)."""
    if not _math.isfinite(x):
        return ""
    if x == _math.trunc(x) and abs(x) < 1e15:
        return str(int(x))
    sign = "-" if x < 0 else ""
    _, digits_t, exponent = _Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digits_t))
    length, kk = len(digits), len(digits) + int(exponent)
    if 0 <= int(exponent) and kk <= 16:
        s = digits + "0" * (kk - length) + ".0"
    elif 0 < kk <= 16:
        s = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        s = "0." + "0" * (-kk) + digits
    elif length == 1:
        s = f"{digits}e{kk - 1}"
    else:
        s = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + s


def _quote(s: str) -> str:
    if any(ch in s for ch in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _ordered_sum(v: _np.ndarray) -> float:
    """The sum of ``v`` added in order, one value after the other (as the CLI adds)."""
    return float(_np.cumsum(v, dtype=_np.float64)[-1]) if v.size else 0.0


def _finite(x: float) -> float:
    return x if _math.isfinite(x) else _math.nan


def _timestamp(ns: int) -> str:
    """Nanoseconds since 1970 as the engine prints an instant: ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnn``."""
    import datetime as dt

    seconds, nanos = divmod(ns, 1_000_000_000)
    t = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}.{nanos:09d}"
    )


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
