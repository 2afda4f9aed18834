"""Result tables: :class:`Table` (column name → numpy array) and :class:`Analysis`, the
results of ``pqe analyze``'s pipeline read back from the folder it wrote."""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from . import _pqengine
from ._recording import Recording

PERIODS = ("3s", "10min", "2h")
#: Table formats of :meth:`Analysis.write`.
FORMATS = ("csv", "parquet")
#: How a numpy Recording is named in summary.json and the report.
RECORDING_INPUT_NAME = "numpy Recording"


class Table(dict):
    """A result table: a ``dict`` of column name → 1-D numpy array, all of one length, in
    the column order of the CSV file ``pqe analyze`` writes for it.

    Numeric columns are float64 (NaN where the CSV cell is empty); the flags
    (``flagged``, and ``incomplete`` of ``events``) are bool, where the CSV writes 1/0; text
    columns (``events``' ``kind``, ``phases``, ``start_time``, ``channel_extremes``,
    ``direction``, ``direction_confidence``, ``direction_note``) are numpy string arrays. A table with no rows has no columns.
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


#: The meter tables an Analysis carries (attributes of the same names).
METERING_TABLES = ("distortion", "energy", "demand", "minmax", "alarms")

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


class Compliance(dict):
    """The EN 50160 and IEEE 519 assessments of an analysis (``compliance.json``) as
    tables: ``compliance["en50160"]`` (one row per criterion) and
    ``compliance["ieee519"]`` (one row per check), each a :class:`Table` of text columns
    ``criterion``, ``limit``, ``measured``, ``required``, ``verdict``, ``note``.
    ``overall`` holds each standard's overall verdict, ``notes`` its notes, and
    ``document`` the whole of ``compliance.json`` as ``pqe analyze`` writes it."""

    def __init__(self, document: Dict[str, Any]) -> None:
        super().__init__()
        self.document = document
        self.overall: Dict[str, Any] = {}
        self.notes: Dict[str, List[str]] = {}
        for name, rows_key in (("en50160", "criteria"), ("ieee519", "checks")):
            part = document.get(name) or {}
            rows = part.get(rows_key) or []
            columns: List[str] = []
            for r in rows:
                columns += [k for k in r if k not in columns]
            self[name] = Table(
                (c, np.asarray([_text(r.get(c)) for r in rows], dtype=str)) for c in columns
            )
            self.overall[name] = part.get("overall")
            self.notes[name] = list(part.get("notes") or [])

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {t.rows} rows, overall {self.overall[k]}" for k, t in self.items())
        return f"Compliance({parts})"


def _text(v: Any) -> str:
    return "" if v is None else str(v)


class Analysis:
    """The results of :func:`pqengine.analyze`: what ``pqe analyze`` writes, in memory.

    Attributes (each a :class:`Table` unless said otherwise):

    - ``intervals``: one row per 10/12-cycle interval: ``t``, ``flagged``, ``f``, then per
      channel its RMS (``U_A``, ``I_A``, …), ``PK_``, ``CF_``, ``DC_``, ``UNDER_``/
      ``OVER_``, ``PHI_``, ``THD_``, ``THDS_``, ``THDG_``, ``TDD_``, ``K_`` …, then
      ``u2``, ``u0`` and the powers (as ``intervals.csv``);
    - ``frequency``: 10-s frequency: ``t``, ``f``, ``flagged``;
    - ``flicker``: ``t``, ``flagged``, ``Pst_A``…, ``Plt_A``… (as ``flicker.csv``);
    - ``events``: ``kind``, ``start``, ``duration``, ``extreme``, ``phases``,
      ``start_time``, ``extreme_percent``, ``reference``, ``delta_u_max``,
      ``delta_u_ss``, ``incomplete``, ``channel_extremes``, ``direction``,
      ``direction_confidence``, ``direction_resistance``, ``direction_reactance``,
      ``direction_note`` (as ``events.csv``);
    - ``distortion``: per interval ``HC_``, ``thd_``, ``TEHD_``, ``TOHD_`` of each channel
      (as ``distortion.csv``);
    - ``energy``, ``demand``, ``minmax``, ``alarms``: the meter tables (as ``energy.csv``,
      ``demand.csv``, ``minmax.csv``, ``alarms.csv``: energy registers per logging period,
      demand per step, min/max per period and quantity, alarms; empty when not written);
    - ``harmonics``: dict channel column (``U_A``…) → ``(intervals, 64)`` array of the
      harmonic subgroups H0…H63; ``interharmonics``: the same for IH0…IH63;
    - ``supraharmonics``: dict channel column → :class:`Table` of its 0.2-s supraharmonic
      values, 2–150 kHz (as ``supraharmonics_<channel>.csv``: ``t``, the 2–9 kHz groups
      ``G2100``…``G8900`` of IEC 61000-4-7 Annex B, the 9–150 kHz bins ``B10k``…``B148k``
      (maximum of 32 windows, IEC 61000-4-30 Annex C) and ``B10k_rms``…, and per CENELEC
      band ``PLC_A``, ``PLC_A_dBuV``, ``PLC_A_peak``, ``PLC_A_rms``, ``PLC_A_active``…);
      empty below 20 kHz sampling or with ``supraharmonics=False``
      (``summary()["supraharmonics"]`` says why);
    - ``compliance``: the EN 50160 / IEEE 519 assessments (:class:`Compliance`, from
      ``compliance.json``);
    - ``captures``: the event captures (``captures/*.cfg``), a list of dicts with
      ``event`` (the event's index in ``events``), ``file``, ``samples``, ``truncated``
      and ``recording`` (a :class:`Recording` of the captured waveform);
    - ``messages``: what the analysis said while it ran, ``(level, text)`` with level
      ``"warning"`` (also issued as a Python warning) or ``"info"``;
    - ``columns``: the column name of each channel; ``info``: sample rate, start,
      samples, per-channel statistics.

    Methods: :meth:`aggregates` (``"3s"``, ``"10min"``, ``"2h"``), :meth:`harmonic_table`
    (``harmonics_<channel>.csv``), :meth:`supraharmonic_table`
    (``supraharmonics_<channel>.csv``), :meth:`summary` (``summary.json``), :meth:`write` (the
    output folder of ``pqe analyze``, CSV or Parquet tables), :meth:`report`
    (``report.html``), :meth:`to_dict`. An Analysis holds only numpy arrays and plain
    Python values: it pickles (to send it from a worker process) and :meth:`to_dict` /
    :meth:`from_dict` turn it into plain dicts and back.
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
        summary: Optional[Dict[str, Any]] = None,
        compliance: Optional[Dict[str, Any]] = None,
        captures: Optional[List[Dict[str, Any]]] = None,
        report_html: Optional[str] = None,
        messages: Optional[List[Any]] = None,
        metering: Optional[Dict[str, Table]] = None,
        supraharmonic_tables: Optional[Dict[str, Table]] = None,
    ) -> None:
        self.intervals = intervals
        self.frequency = frequency
        self.flicker = flicker
        self.events = events
        self._harmonic_tables = harmonic_tables
        self.supraharmonics: Dict[str, Table] = dict(supraharmonic_tables or {})
        self._aggregates = aggregate_tables
        self.info = info
        self.options = options
        self.source = source
        self._summary = summary or {}
        self.compliance = Compliance(compliance or {})
        self.captures: List[Dict[str, Any]] = list(captures or [])
        self._report_html = report_html
        self.messages: List[Any] = [tuple(m) for m in (messages or [])]
        metering = metering or {}
        self.distortion: Table = metering.get("distortion", Table())
        self.energy: Table = metering.get("energy", Table())
        self.demand: Table = metering.get("demand", Table())
        self.minmax: Table = metering.get("minmax", Table())
        self.alarms: Table = metering.get("alarms", Table())
        # What write() analyses again: the path, or the Recording (not pickled).
        self._origin: Any = source
        self.harmonics: Dict[str, np.ndarray] = {
            c: _stack(t, "H") for c, t in harmonic_tables.items()
        }
        self.interharmonics: Dict[str, np.ndarray] = {
            c: _stack(t, "IH") for c, t in harmonic_tables.items()
        }

    @classmethod
    def _run(cls, origin: Any, settings: Dict[str, Any]) -> "Analysis":
        """Run the pipeline over ``origin`` (a path or a :class:`Recording`) into a private
        folder and read what it wrote."""
        private = dict(settings, format="csv")
        with tempfile.TemporaryDirectory(prefix="pqengine-") as tmp:
            summary, messages, start_ns = _run_pipeline(origin, private, tmp)
            channels = summary["recording"]["channels"]
            columns = [c["column"] for c in channels]
            raw = _pqengine.load_tables(tmp, columns)
            compliance = json.loads(Path(tmp, "compliance.json").read_text(encoding="utf-8"))
            report_html = Path(tmp, "report.html").read_text(encoding="utf-8")
            captures = []
            for c in summary.get("captures", {}).get("files", []):
                entry = dict(c)
                data, info = _pqengine.read(os.path.join(tmp, c["file"]))
                entry["recording"] = Recording(
                    data, info["sample_rate"], info["names"], kinds=info["kinds"],
                    phases=info["phases"], units=info["units"], start=info["start_ns"],
                )
                captures.append(entry)
        for level, text in messages:
            if level == "warning":
                warnings.warn(text, stacklevel=3)
        events = Table()
        if len(raw["events"]["kind"]):
            for name, values in raw["events"].items():
                events[name] = (
                    np.asarray(values, dtype=str) if isinstance(values, list) else values
                )
            _with_bool_flags(events)
        stat_names = ("channel", "unit", "samples", "missing", "rms", "mean", "min", "max",
                      "peak", "crest_factor")
        statistics = [dict(zip(stat_names, (name, unit, *values)))
                      for name, unit, values in raw["statistics"]]
        for s in statistics:
            s["samples"], s["missing"] = int(s["samples"]), int(s["missing"])
        rec = summary["recording"]
        info = {
            "columns": columns,
            "names": [c["name"] for c in channels],
            "sample_rate": rec["sample_rate"],
            "start_ns": start_ns,
            "samples": rec["samples"],
            "statistics": statistics,
        }
        metering = {}
        for name in METERING_TABLES:
            table = Table()
            for column, values in raw[name].items():
                table[column] = (
                    np.asarray(values, dtype=str) if isinstance(values, list) else values
                )
            metering[name] = _with_bool_flags(table)
        analysis = cls(
            metering=metering,
            intervals=_numeric(raw["intervals"]),
            frequency=_numeric(raw["frequency"]),
            flicker=_numeric(raw["flicker"]),
            events=events,
            harmonic_tables={c: _numeric(t) for c, t in raw["harmonics"].items()},
            supraharmonic_tables={c: _numeric(t) for c, t in raw["supraharmonics"].items()},
            aggregate_tables={p: _numeric(t) for p, t in raw["aggregates"].items()},
            info=info,
            options=_switches(settings, summary),
            source=None if isinstance(origin, Recording) else str(origin),
            summary=summary,
            compliance=compliance,
            captures=captures,
            report_html=report_html,
            messages=messages,
        )
        analysis._origin = origin
        analysis._settings = settings
        return analysis

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

    def supraharmonic_table(self, column: str) -> Table:
        """``supraharmonics_<column>.csv`` as a table (see ``supraharmonics``)."""
        try:
            return self.supraharmonics[column]
        except KeyError:
            why = (self._summary.get("supraharmonics") or {}).get("reason")
            raise KeyError(
                f"no supraharmonics of '{column}'; there are: "
                f"{', '.join(self.supraharmonics) or 'none'}"
                + (f" ({why})" if why else "")
            ) from None

    def summary(self) -> Dict[str, Any]:
        """``summary.json`` of ``pqe analyze`` for this analysis (schema ``pqe.summary/1``):
        the parts of the analysis switched on (``analysis``), the supply, the recording,
        interval counts and the mean of every column over unflagged intervals, the 10-s
        frequency range, aggregate counts, flicker values, events by kind, captures,
        statistics and the files written. ``input`` names the file analysed (for a
        :class:`Recording`: ``"numpy Recording"``)."""
        return copy.deepcopy(self._summary)

    def write(self, out_dir: Any, format: str = "csv") -> Path:
        """Write the output folder of ``pqe analyze`` into ``out_dir`` (created if needed):
        the tables as CSV (``format="csv"``) or Parquet (``format="parquet"``),
        ``statistics.csv``, ``summary.json``, ``compliance.json``, ``report.html`` and
        ``captures/``. The files are made by the engine's own sinks, by running the same
        pipeline with the same settings over the same recording again, so they are the
        bytes ``pqe analyze`` writes. Returns the folder.

        Needs the recording: an Analysis unpickled or rebuilt by :meth:`from_dict` from a
        :class:`Recording` (which is not carried along) raises ``ValueError``."""
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        origin, settings = self._origin, getattr(self, "_settings", None)
        if origin is None or settings is None:
            raise ValueError(
                "this Analysis no longer has its recording (it was unpickled or rebuilt "
                "from a dict); run pqengine.analyze again to write its folder"
            )
        out = Path(os.fspath(out_dir))
        _run_pipeline(origin, dict(settings, format=format), str(out))
        return out

    def report(self, path: Any) -> Path:
        """Write the HTML report of ``pqe analyze`` (``report.html``: the summary, the
        EN 50160 and IEEE 519 assessments, trend charts, events) to ``path``."""
        if self._report_html is None:
            raise ValueError("this Analysis holds no report")
        out = Path(os.fspath(path))
        out.write_text(self._report_html, encoding="utf-8")
        return out

    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain dicts of numpy arrays (and lists, numbers, strings):
        ``intervals``, ``frequency``, ``flicker``, ``events``, ``harmonics`` and
        ``supraharmonics`` (column → table), ``aggregates`` (period → table), ``info``, ``options``, ``source``,
        ``summary``, ``compliance`` (``compliance.json``), ``captures``, ``report_html``,
        ``messages``. :meth:`from_dict` rebuilds the Analysis."""
        return {
            "intervals": dict(self.intervals),
            "frequency": dict(self.frequency),
            "flicker": dict(self.flicker),
            "events": dict(self.events),
            "harmonics": {c: dict(t) for c, t in self._harmonic_tables.items()},
            "supraharmonics": {c: dict(t) for c, t in self.supraharmonics.items()},
            "aggregates": {p: dict(t) for p, t in self._aggregates.items()},
            "info": self.info,
            "options": self.options,
            "source": self.source,
            "summary": self._summary,
            "compliance": self.compliance.document,
            "captures": [dict(c) for c in self.captures],
            "report_html": self._report_html,
            "messages": [list(m) for m in self.messages],
            "settings": getattr(self, "_settings", None),
            "metering": {n: dict(getattr(self, n)) for n in METERING_TABLES},
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Analysis":
        """The Analysis :meth:`to_dict` described."""
        a = cls(
            intervals=Table(d["intervals"]),
            frequency=Table(d["frequency"]),
            flicker=Table(d["flicker"]),
            events=Table(d["events"]),
            harmonic_tables={c: Table(t) for c, t in d["harmonics"].items()},
            aggregate_tables={p: Table(t) for p, t in d["aggregates"].items()},
            info=d["info"],
            options=d["options"],
            source=d.get("source"),
            summary=d.get("summary"),
            compliance=d.get("compliance"),
            captures=d.get("captures"),
            report_html=d.get("report_html"),
            messages=d.get("messages"),
            metering={n: Table(t) for n, t in d.get("metering", {}).items()},
            supraharmonic_tables={
                c: Table(t) for c, t in (d.get("supraharmonics") or {}).items()
            },
        )
        if d.get("settings") is not None:
            a._settings = d["settings"]
        return a

    def __reduce__(self) -> Any:
        return (Analysis.from_dict, (self.to_dict(),))

    def __repr__(self) -> str:
        return (
            f"Analysis({self.intervals.rows} intervals, {self.frequency.rows} 10-s "
            f"frequency values, {self.flicker.rows} flicker rows, {self.events.rows} "
            f"events, {len(self.captures)} captures; channels {', '.join(self.columns)})"
        )


def _switches(settings: Dict[str, Any], summary: Dict[str, Any]) -> Dict[str, Any]:
    """``Analysis.options``: the settings under the keyword arguments' names, with the
    parts of the analysis as the engine applied them."""
    options = {k: v for k, v in settings.items() if not k.startswith("no_") and k != "map"}
    options.update(summary.get("analysis", {}))
    options["channel_map"] = dict(m.rsplit("=", 1) for m in settings.get("map", []))
    system = summary.get("system") or {}
    if "udin" in system:
        options["nominal_voltage"] = system["udin"]
    return options


def _python_words(message: str) -> str:
    """An engine message about the settings with the command line's option names turned
    into :func:`pqengine.analyze`'s keyword arguments (``--no-events`` →
    ``events=False``, ``--map`` → ``channel_map``, ``--dip-threshold`` →
    ``dip_threshold``)."""
    message = re.sub(r"--no-([a-z0-9-]+)", lambda m: m.group(1).replace("-", "_") + "=False",
                     message)
    message = message.replace("--basic", "basic=True").replace("--map", "channel_map")
    return re.sub(r"--([a-z][a-z0-9-]*)", lambda m: m.group(1).replace("-", "_"), message)


def _run_pipeline(origin: Any, settings: Dict[str, Any], out: str) -> Any:
    """``pqe analyze``'s pipeline over ``origin`` into the folder ``out``: returns
    (summary.json as a dict, the messages, the recording's start in ns)."""
    text = json.dumps(settings)
    try:
        if hasattr(origin, "_stream"):  # a LiveSource
            summary, messages, start = _pqengine.run_pipeline(
                text, out, origin.uri, live=origin._stream
            )
        elif isinstance(origin, Recording):
            summary, messages, start = _pqengine.run_pipeline(
                text, out, RECORDING_INPUT_NAME, data=origin.data,
                channels=origin._channel_args(),
            )
        else:
            summary, messages, start = _pqengine.run_pipeline(text, out, origin, path=origin)
    except ValueError as e:
        raise ValueError(_python_words(str(e))) from None
    return json.loads(summary), [tuple(m) for m in messages], start


def _stack(table: Table, prefix: str) -> np.ndarray:
    """The ``prefix0``…``prefix63`` columns as an ``(rows, 64)`` array."""
    cols: Iterable[str] = [f"{prefix}{n}" for n in range(64)]
    return np.stack([table[c] for c in cols], axis=1) if table else np.zeros((0, 64))
