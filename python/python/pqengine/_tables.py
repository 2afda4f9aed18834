"""Result tables: :class:`Table` (column name → numpy array) and :class:`Analysis`."""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

#: The version of :meth:`Analysis.summary`'s layout (the same as ``pqe analyze``'s
#: summary.json for the fields both have).
SUMMARY_SCHEMA = "pqe.summary/1"
PERIODS = ("3s", "10min", "2h")
EVENT_KINDS = ("dip", "swell", "interruption", "rvc")


class Table(dict):
    """A result table: a ``dict`` of column name → 1-D numpy array, all of one length, in
    the column order of the CSV file ``pqe analyze`` writes for it.

    Numeric columns are float64 (NaN where the CSV cell is empty); the flags
    (``flagged``, and ``incomplete`` of ``events``) are bool, where the CSV writes 1/0; text
    columns (``events``' ``kind``, ``phases``, ``start_time``, ``channel_extremes``) are
    numpy string arrays. A table with no rows has no columns.
    """

    @property
    def columns(self) -> List[str]:
        """Column names in order."""
        return list(self.keys())

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(next(iter(self.values()))) if self else 0

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Table.to_pandas() needs pandas: pip install pandas") from e
        return pd.DataFrame({k: v for k, v in self.items()}, columns=list(self.keys()))

    def to_dict(self) -> Dict[str, list]:
        """The table as plain Python lists (JSON-friendly; NaN stays float NaN)."""
        return {k: v.tolist() for k, v in self.items()}

    def __repr__(self) -> str:
        cols = ", ".join(self.keys())
        if len(cols) > 120:
            cols = cols[:117] + "..."
        return f"Table({self.rows} rows: {cols})"


#: Columns that hold a yes/no flag: bool in every table (the CSV files write 1 and 0).
FLAG_COLUMNS = ("flagged", "incomplete")


def _numeric(raw: Any) -> Table:
    """A table from the extension's ``(names, array)``, the array ``(columns, rows)``;
    the flag columns as bool."""
    names, array = raw
    return _with_bool_flags(Table(zip(names, array)))


def _with_bool_flags(table: Table) -> Table:
    """``table`` with its flag columns (``flagged``, ``incomplete``; 1.0/0.0 from the
    engine) as bool arrays."""
    for name in FLAG_COLUMNS:
        if name in table and table[name].dtype != np.bool_:
            values = np.asarray(table[name])
            if values.dtype.kind == "f" and np.isnan(values).any():
                raise ValueError(f"flag column {name!r} holds NaN")
            table[name] = values.astype(bool)
    return table


class Analysis:
    """The results of :func:`pqengine.analyze`: the tables of ``pqe analyze``.

    Attributes (each a :class:`Table` unless said otherwise):

    - ``intervals``: one row per 10/12-cycle interval: ``t``, ``flagged``, ``f``, then per
      channel its RMS (``U_A``, ``I_A``, …), ``PK_``, ``CF_``, ``DC_``, ``UNDER_``/
      ``OVER_``, ``PHI_``, ``THD_``, ``THDS_``, ``THDG_``, ``TDD_``, ``K_`` …, then
      ``u2``, ``u0`` and the powers (as ``intervals.csv``);
    - ``frequency``: 10-s frequency: ``t``, ``f``, ``flagged``;
    - ``flicker``: ``t``, ``flagged``, ``Pst_A``…, ``Plt_A``… (as ``flicker.csv``);
    - ``events``: ``kind``, ``start``, ``duration``, ``extreme``, ``phases``,
      ``start_time``, ``extreme_percent``, ``reference``, ``delta_u_max``,
      ``delta_u_ss``, ``incomplete``, ``channel_extremes`` (as ``events.csv``);
    - ``harmonics``: dict channel column (``U_A``…) → ``(intervals, 64)`` array of the
      harmonic subgroups H0…H63; ``interharmonics``: the same for IH0…IH63;
    - ``columns``: the column name of each channel; ``info``: sample rate, start,
      samples, per-channel statistics.

    Methods: :meth:`aggregates` (``"3s"``, ``"10min"``, ``"2h"``), :meth:`harmonic_table`
    (``harmonics_<channel>.csv``), :meth:`summary`, :meth:`to_dict`. An Analysis holds
    only numpy arrays and plain Python values: it pickles (to send it from a worker
    process) and :meth:`to_dict` / :meth:`from_dict` turn it into plain dicts and back.
    """

    def __init__(
        self,
        intervals: Table,
        frequency: Table,
        flicker: Table,
        events: Table,
        harmonic_tables: Dict[str, Table],
        aggregate_tables: Dict[str, Table],
        info: Dict[str, Any],
        options: Dict[str, Any],
        source: Optional[str] = None,
    ) -> None:
        self.intervals = intervals
        self.frequency = frequency
        self.flicker = flicker
        self.events = events
        self._harmonic_tables = harmonic_tables
        self._aggregates = aggregate_tables
        self.info = info
        self.options = options
        self.source = source
        self.harmonics: Dict[str, np.ndarray] = {
            c: _stack(t, "H") for c, t in harmonic_tables.items()
        }
        self.interharmonics: Dict[str, np.ndarray] = {
            c: _stack(t, "IH") for c, t in harmonic_tables.items()
        }

    @classmethod
    def _from_engine(
        cls, raw: Dict[str, Any], options: Dict[str, Any], source: Optional[str]
    ) -> "Analysis":
        events = Table()
        if len(raw["events"]["kind"]):
            for name, values in raw["events"].items():
                events[name] = (
                    np.asarray(values, dtype=str) if isinstance(values, list) else values
                )
            _with_bool_flags(events)
        info = dict(raw["info"])
        info["statistics"] = [
            dict(
                zip(
                    ("channel", "unit", "samples", "missing", "rms", "mean", "min", "max",
                     "peak", "crest_factor"),
                    (name, unit, *values),
                )
            )
            for name, unit, values in info["statistics"]
        ]
        for s in info["statistics"]:
            s["samples"], s["missing"] = int(s["samples"]), int(s["missing"])
        return cls(
            intervals=_numeric(raw["intervals"]),
            frequency=_numeric(raw["frequency"]) if _rows(raw["frequency"]) else Table(),
            flicker=_numeric(raw["flicker"]),
            events=events,
            harmonic_tables={c: _numeric(t) for c, t in raw["harmonics"].items()},
            aggregate_tables={p: _numeric(t) for p, t in raw["aggregates"].items()},
            info=info,
            options=options,
            source=source,
        )

    @property
    def columns(self) -> List[str]:
        """The column name of each channel (``U_A``, ``I_N``, or its own name), in order."""
        return list(self.info["columns"])

    def aggregates(self, period: str) -> Table:
        """The aggregates of ``period``: ``"3s"`` (150/180 cycles), ``"10min"`` or ``"2h"``
        (``t``, ``flagged``, then the interval columns, as ``aggregates_<period>.csv``).
        Empty when the recording holds none."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
        return self._aggregates.get(period, Table())

    def harmonic_table(self, column: str) -> Table:
        """``harmonics_<column>.csv`` as a table: ``t``, ``H0``…``H63``, ``IH0``…``IH63``."""
        try:
            return self._harmonic_tables[column]
        except KeyError:
            raise KeyError(
                f"no harmonics of '{column}'; there are: "
                f"{', '.join(self._harmonic_tables) or 'none (harmonics off?)'}"
            ) from None

    def summary(self) -> Dict[str, Any]:
        """Counts and means as ``pqe analyze``'s summary.json gives them: the parts of the
        analysis switched on (``analysis``), the recording, interval counts and the mean of
        every column over unflagged intervals, the 10-s frequency range, aggregate counts,
        flicker values, events by kind, statistics."""
        iv = self.intervals
        flagged = iv["flagged"] if iv else np.zeros(0)
        means: Dict[str, Optional[float]] = {}
        for name in iv.columns[3:]:
            v = iv[name][flagged == 0]
            v = v[np.isfinite(v)]
            means[name] = float(v.mean()) if v.size else None
        fr = self.frequency
        f = fr["f"][(fr["flagged"] == 0) & np.isfinite(fr["f"])] if fr else np.zeros(0)
        frequency: Dict[str, Any] = {"values": fr.rows, "unflagged": int(f.size)}
        if f.size:
            frequency.update(min=float(f.min()), max=float(f.max()), mean=float(f.mean()))
        kinds = list(self.events["kind"]) if self.events else []
        sr, n = self.info["sample_rate"], self.info["samples"]
        return {
            "schema": SUMMARY_SCHEMA,
            "input": self.source,
            "system": {
                "nominal_frequency": str(int(self.options["nominal_frequency"])),
                "udin": self.options["nominal_voltage"],
                "wiring": self.options["wiring"],
                "load_current": self.options["load_current"],
            },
            "analysis": {
                k: bool(self.options.get(k, True))
                for k in ("aggregation", "events", "flicker", "half_cycle", "harmonics")
            },
            "recording": {
                "sample_rate": sr,
                "samples": n,
                "duration_s": n / sr if sr > 0 else None,
                "start_ns": self.info["start_ns"],
                "channels": [
                    {"name": name, "column": col}
                    for name, col in zip(self.info["names"], self.info["columns"])
                ],
            },
            "intervals": {
                "count": iv.rows,
                "flagged": int(np.count_nonzero(flagged)),
                "mean_of_unflagged": means,
            },
            "frequency_10s": frequency,
            "aggregates": {
                p: {"count": t.rows, "flagged": int(np.count_nonzero(t["flagged"]))}
                for p, t in self._aggregates.items()
            },
            "flicker": _flicker_values(self.flicker),
            "events": {
                "count": len(kinds),
                "by_kind": {k: kinds.count(k) for k in EVENT_KINDS},
            },
            "statistics": [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in s.items()}
                for s in self.info["statistics"]
            ],
        }

    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain dicts of numpy arrays (and lists, numbers, strings):
        ``intervals``, ``frequency``, ``flicker``, ``events``, ``harmonics`` (column →
        table), ``aggregates`` (period → table), ``info``, ``options``, ``source``.
        :meth:`from_dict` rebuilds the Analysis."""
        return {
            "intervals": dict(self.intervals),
            "frequency": dict(self.frequency),
            "flicker": dict(self.flicker),
            "events": dict(self.events),
            "harmonics": {c: dict(t) for c, t in self._harmonic_tables.items()},
            "aggregates": {p: dict(t) for p, t in self._aggregates.items()},
            "info": self.info,
            "options": self.options,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Analysis":
        """The Analysis :meth:`to_dict` described."""
        return cls(
            intervals=Table(d["intervals"]),
            frequency=Table(d["frequency"]),
            flicker=Table(d["flicker"]),
            events=Table(d["events"]),
            harmonic_tables={c: Table(t) for c, t in d["harmonics"].items()},
            aggregate_tables={p: Table(t) for p, t in d["aggregates"].items()},
            info=d["info"],
            options=d["options"],
            source=d.get("source"),
        )

    def __reduce__(self) -> Any:
        return (Analysis.from_dict, (self.to_dict(),))

    def __repr__(self) -> str:
        return (
            f"Analysis({self.intervals.rows} intervals, {self.frequency.rows} 10-s "
            f"frequency values, {self.flicker.rows} flicker rows, {self.events.rows} "
            f"events; channels {', '.join(self.columns)})"
        )


def _rows(raw: Any) -> int:
    names, array = raw
    return int(array.shape[1]) if len(names) else 0


def _stack(table: Table, prefix: str) -> np.ndarray:
    """The ``prefix0``…``prefix63`` columns as an ``(rows, 64)`` array."""
    cols: Iterable[str] = [f"{prefix}{n}" for n in range(64)]
    return np.stack([table[c] for c in cols], axis=1) if table else np.zeros((0, 64))


def _flicker_values(table: Table) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    if not table:
        return out
    for name in table.columns[2:]:
        severity, _, phase = name.partition("_")
        for t, v, flag in zip(table["t"], table[name], table["flagged"]):
            if math.isfinite(v):
                out.append({"severity": severity, "channel": phase, "t": float(t),
                            "value": float(v), "flagged": bool(flag)})
    return out
