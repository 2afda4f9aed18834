"""pqengine: the PQE power-quality engine for Python.

IEC 61000-4-30 Class A measurement of voltage and current waveforms held in numpy arrays or
recording files (COMTRADE, CSV, HDF5), computed by the same Rust engine as the ``pqe``
command line, with the same results::

    import pqengine as pq

    rec = pq.read("datasets/demo/demo-3v3i-50hz.cfg")      # a Recording
    res = pq.analyze(rec, nominal_voltage=230.0)            # an Analysis
    res.intervals["U_A"]                                    # 10-cycle RMS of U_A, numpy
    res.aggregates("10min").to_pandas()                     # a pandas DataFrame
    res.harmonics["U_A"][:, 5]                              # H5 subgroup per interval

- :class:`Recording`: a ``(channels, samples)`` float64 array with its sample rate, channel
  names, kinds, phases, units and start time.
- :func:`read`, :func:`write_comtrade`: recordings in and out.
- :func:`analyze` → :class:`Analysis`: the tables of ``pqe analyze`` (``intervals``,
  ``frequency``, ``flicker``, ``events``, ``aggregates(period)``, ``harmonics``), each a
  :class:`Table` (a dict of column name → numpy array with ``to_pandas()``), the
  EN 50160 / IEEE 519 assessment (``compliance``), the event ``captures``, and
  ``write(out_dir, format=...)`` / ``report(path)`` for the files ``pqe analyze`` writes.
- :func:`rms`, :func:`harmonics`, :func:`flicker`, :func:`power`: the engine on bare arrays.
- :func:`open_source` → :class:`LiveSource`: a live device named by a URI (``replay:``,
  ``synth:``, ``tcp://``, ``udp://``, plugins); iterating it yields :class:`SourceBlock`
  (numpy) and :class:`SourceGap`; :func:`analyze` takes it, or the URI, with ``duration``.
- :func:`meter` → :class:`Meter`: a session with a meter (Modbus, IEC 62056-21, DLMS/COSEM,
  M-Bus, SML) named by a URI; ``read(...)`` gives :class:`MeterValue` ``(id, value, unit)``
  with the scaler applied; failures raise :class:`MeterError` (a :class:`PqeError`).
- :class:`PqeError`: what the engine raises (unreadable files, recordings it cannot
  analyse), with the engine's message naming the file, line and channel. Bad arguments
  raise ``ValueError`` or ``TypeError``.

The engine releases the GIL while it works, so threads analyse recordings in parallel.
"""

from __future__ import annotations

import os as _os
import typing as _typing

import numpy as _np

from . import _pqengine
from ._pqengine import PqeError
from ._live import LiveSource, SourceBlock, SourceGap, open_source
from ._live import is_uri as _is_uri
from ._meter import Meter, MeterError, MeterValue, meter
from ._recording import Recording
from ._tables import Analysis, Table

if _typing.TYPE_CHECKING:  # names of the annotations only; not part of the package
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

    PathLike = Union[str, "_os.PathLike[str]"]

__all__ = [
    "Analysis",
    "LiveSource",
    "Meter",
    "MeterError",
    "MeterValue",
    "PqeError",
    "Recording",
    "SourceBlock",
    "SourceGap",
    "Table",
    "analyze",
    "flicker",
    "harmonics",
    "meter",
    "open_source",
    "power",
    "read",
    "rms",
    "write_comtrade",
    "__version__",
]

__version__: str = _pqengine.__version__


def read(path: PathLike) -> Recording:
    """Read a recording file into a :class:`Recording`.

    COMTRADE (``.cfg`` with its ``.dat``, a ``.dat`` naming its ``.cfg``, or a single
    ``.cff``), CSV (``t`` then one column per channel) and HDF5 (``.h5``) are read, chosen
    by the file's extension. The file is streamed block by block into one
    ``(channels, samples)`` float64 array; values are in each channel's unit, missing
    samples NaN. Kinds, phases and units come from the file's metadata.

    Raises :class:`PqeError` when the file is missing, unreadable or malformed (the message
    names the file and line or byte offset), or when it has more than one sampling rate;
    ``TypeError`` when ``path`` is not a path.
    """
    data, info = _pqengine.read(_path(path))
    return Recording(
        data,
        info["sample_rate"],
        info["names"],
        kinds=info["kinds"],
        phases=info["phases"],
        units=info["units"],
        start=info["start_ns"],
    )


def write_comtrade(
    path: PathLike, rec: Recording, format: str = "binary", revision: int = 2013
) -> None:
    """Write ``rec`` as COMTRADE (IEEE C37.111 / IEC 60255-24).

    ``format`` is ``"ascii"``, ``"binary"`` (16-bit integers), ``"binary32"`` or
    ``"float32"`` (the last two need revision 2013); ``revision`` is 1991, 1999 or 2013. A
    path ending ``.cff`` writes one file, a path ending ``.cfg`` (or ``.dat``) the
    ``.cfg`` + ``.dat`` pair. Integer formats scale each channel to its range.

    Raises ``ValueError`` for an unknown format, revision or extension and
    :class:`PqeError` when the engine cannot write the file.
    """
    if not isinstance(rec, Recording):
        raise TypeError(f"rec must be a pqengine.Recording, not {type(rec).__name__}")
    if not isinstance(format, str):
        raise TypeError(f"format must be a string, not {type(format).__name__}")
    _pqengine.write_comtrade(_path(path), rec.data, rec._channel_args(), format, int(revision))


def analyze(
    source: Union[Recording, PathLike],
    nominal_voltage: float = 230.0,
    nominal_frequency: float = 50.0,
    wiring: str = "wye",
    load_current: Optional[float] = None,
    *,
    harmonics: bool = True,
    thd_order: int = 50,
    signalling_frequency: Optional[float] = None,
    dip_threshold: float = 90.0,
    swell_threshold: float = 110.0,
    interruption_threshold: float = 10.0,
    hysteresis: float = 2.0,
    sliding_reference: bool = False,
    rvc_threshold: float = 3.0,
    flicker: bool = True,
    flicker_lamp: Optional[str] = None,
    half_cycle: bool = True,
    events: bool = True,
    aggregation: bool = True,
    supraharmonics: bool = True,
    basic: bool = False,
    channel_map: Optional[Mapping[str, str]] = None,
    capture_pre_cycles: float = 10.0,
    capture_post_cycles: float = 10.0,
    max_captures: int = 200,
    ieee519_edition: int = 2022,
    short_circuit_current: Optional[float] = None,
    allow_short_observation: bool = False,
    strict: bool = False,
    energy_period: float = 900.0,
    demand_interval: float = 900.0,
    demand_method: str = "block",
    minmax_period: float = 600.0,
    alarms: Sequence[str] = (),
    learn_limits: Optional[PathLike] = None,
    duration: Optional[float] = None,
) -> Analysis:
    """Measure a recording as an IEC 61000-4-30 Class A instrument does.

    ``source`` is a :class:`Recording`, the path of a recording file (streamed from disk
    with bounded memory, as ``pqe analyze`` reads it), a :class:`LiveSource` or a device
    URI such as ``"synth:scenario.toml?speed=max"`` or ``"tcp://127.0.0.1:5000"``
    (``pqe analyze --source URI``), read until it ends or for ``duration`` seconds of
    recording time; a driver fault ends it with the results before it and a warning
    naming the driver. The options are those of
    ``pqe analyze`` with the same defaults and meaning:

    - ``nominal_voltage``: declared input voltage Udin in volts (phase-to-neutral for wye
      and single wiring, line-to-line for delta); ``nominal_frequency``: 50 or 60 Hz;
      ``wiring``: ``"wye"``, ``"delta"`` or ``"single"``; ``load_current``: I_L in amperes
      for TDD (IEEE 519).
    - ``harmonics``: harmonics, interharmonics, THD, phase angles, the phasor powers
      (``Q1``, ``DPF``, positive sequence) and unbalance; off, ``P``, ``S`` and ``PF`` are
      integrated in the time domain (``pqe analyze --no-harmonics``); ``thd_order``:
      highest order in THD sums; ``signalling_frequency``: mains signalling frequency to
      measure (Hz).
    - ``dip_threshold``, ``swell_threshold``, ``interruption_threshold``, ``hysteresis``,
      ``rvc_threshold`` in % of Udin; ``sliding_reference``: judge dips and swells
      against the sliding reference voltage.
    - ``flicker``: Pst/Plt per voltage channel (needs ≥ 2 kHz; ``--no-flicker``);
      ``flicker_lamp``: ``"230V"`` or ``"120V"`` (default: from Udin).
    - ``events``: dips, swells, interruptions and RVCs, and the flagging of the values
      they touch (``--no-events``); off, ``events`` is empty and nothing is flagged for
      them. ``half_cycle``: the Urms(1/2) values events are detected on
      (``--no-half-cycle``); ``half_cycle=False`` needs ``events=False`` (else
      ``ValueError``). ``aggregation``: the 3-s, 10-min and 2-h aggregates
      (``--no-aggregation``); off, ``aggregates(period)`` is empty. ``supraharmonics``:
      the 2–150 kHz values per channel (``Analysis.supraharmonics``; they need ≥ 20 kHz
      sampling for 2–9 kHz and ≥ 300 kHz for 9–150 kHz and the PLC bands, and are off
      below, summary()["supraharmonics"] says why; ``--no-supraharmonics``).
    - ``basic``: the basic chain, RMS, power, frequency and aggregates (``--basic``):
      turns ``harmonics``, ``flicker``, ``events``, ``half_cycle`` and
      ``supraharmonics`` off, whatever they are set to. ``Analysis.options`` holds the switches as applied.
    - ``channel_map``: channel name → IEC role (``"U_A"``, ``"U_AB"``, ``"I_N"``, …) for
      channels whose metadata does not say (``pqe analyze --map``).
    - ``capture_pre_cycles``, ``capture_post_cycles``, ``max_captures``: the event
      captures (``Analysis.captures``); ``ieee519_edition`` (2014 or 2022),
      ``short_circuit_current`` (Isc in A, with ``load_current``) and
      ``allow_short_observation``: the compliance assessment (``Analysis.compliance``);
      ``strict``: refuse a recording that is not whole (``pqe analyze --strict``).
      ``nominal_voltage="auto"``: the standard nominal nearest to what the data shows.
    - ``energy_period``, ``minmax_period``: the logging periods (s, clock-aligned) of
      ``Analysis.energy`` and ``Analysis.minmax``; ``demand_interval`` (s) and
      ``demand_method`` (``"block"``, ``"rolling:N"``, ``"thermal"``) of
      ``Analysis.demand``; ``alarms``: setpoints written as for ``pqe analyze --alarm``
      (``"hi=U_A>253/250,delay=1,priority=high"``), their alarms in ``Analysis.alarms``;
      ``learn_limits``: a file to write alarm setpoints learned from this recording (at
      least a day of it) into, a settings file as ``pqe analyze --learn-limits`` writes
      (docs/outputs.md, "Limit learning"); ``summary()["metering"]["limit_learning"]``
      tells what was learned.

    The analysis is ``pqe analyze``'s own pipeline (the same settings, checked by the
    engine, the same sinks): the returned :class:`Analysis` holds the tables of the CSV
    files it writes, value for value, with its summary, compliance assessment, event
    captures and report; :meth:`Analysis.write` writes the whole output folder. The GIL
    is released while the engine works. Raises :class:`PqeError` for files the engine
    cannot read or analyse, ``ValueError`` for bad options.
    """
    settings = _settings(
        **{k: v for k, v in locals().items() if k not in ("source", "duration")}
    )
    if duration is not None and not isinstance(source, (str, LiveSource)):
        raise ValueError("duration applies to a live source (a LiveSource or a device URI)")
    if isinstance(source, str) and _is_uri(source) and not _os.path.exists(source):
        source = open_source(source, duration)
    elif isinstance(source, LiveSource) and duration is not None:
        raise ValueError("give duration to open_source(uri, duration) for an opened LiveSource")
    if isinstance(source, LiveSource):
        origin: Any = source
    elif isinstance(source, Recording):
        origin = source
    elif isinstance(source, (str, _os.PathLike)):
        origin = _path(source)
    elif isinstance(source, _np.ndarray):
        raise TypeError(
            "analyze takes a Recording or a path; wrap an array as "
            "pq.Recording(data, sample_rate, names)"
        )
    else:
        raise TypeError(
            f"analyze takes a Recording or a path, not {type(source).__name__}"
        )
    return Analysis._run(origin, settings)


def _settings(
    *,
    nominal_voltage: Any,
    nominal_frequency: Any,
    wiring: Any,
    load_current: Any,
    harmonics: Any,
    thd_order: Any,
    signalling_frequency: Any,
    dip_threshold: Any,
    swell_threshold: Any,
    interruption_threshold: Any,
    hysteresis: Any,
    sliding_reference: Any,
    rvc_threshold: Any,
    flicker: Any,
    flicker_lamp: Any,
    half_cycle: Any,
    events: Any,
    aggregation: Any,
    supraharmonics: Any,
    basic: Any,
    channel_map: Any,
    capture_pre_cycles: Any,
    capture_post_cycles: Any,
    max_captures: Any,
    ieee519_edition: Any,
    short_circuit_current: Any,
    allow_short_observation: Any,
    strict: Any,
    energy_period: Any,
    demand_interval: Any,
    demand_method: Any,
    minmax_period: Any,
    alarms: Any,
    learn_limits: Any,
) -> Dict[str, Any]:
    """The keyword arguments of :func:`analyze` as the engine's analysis settings (the
    fields of ``pqe_pipeline::AnalysisSettings``, the long options of ``pqe analyze``),
    which the engine checks."""
    if int(thd_order) < 2:
        raise ValueError(f"thd_order must be at least 2, not {thd_order}")
    return {
        "nominal_voltage": (
            "auto" if str(nominal_voltage).strip().lower() == "auto" else float(nominal_voltage)
        ),
        "nominal_frequency": float(nominal_frequency),
        "wiring": str(wiring),
        "load_current": None if load_current is None else float(load_current),
        "map": [f"{k}={v}" for k, v in (channel_map or {}).items()],
        "thd_order": int(thd_order),
        "signalling_frequency": (
            None if signalling_frequency is None else float(signalling_frequency)
        ),
        "flicker_lamp": None if flicker_lamp is None else str(flicker_lamp),
        "no_harmonics": not harmonics,
        "no_flicker": not flicker,
        "no_events": not events,
        "no_half_cycle": not half_cycle,
        "no_aggregation": not aggregation,
        "no_supraharmonics": not supraharmonics,
        "basic": bool(basic),
        "dip_threshold": float(dip_threshold),
        "swell_threshold": float(swell_threshold),
        "interruption_threshold": float(interruption_threshold),
        "hysteresis": float(hysteresis),
        "sliding_reference": bool(sliding_reference),
        "rvc_threshold": float(rvc_threshold),
        "capture_pre_cycles": float(capture_pre_cycles),
        "capture_post_cycles": float(capture_post_cycles),
        "max_captures": int(max_captures),
        "ieee519_edition": int(ieee519_edition),
        "short_circuit_current": (
            None if short_circuit_current is None else float(short_circuit_current)
        ),
        "allow_short_observation": bool(allow_short_observation),
        "strict": bool(strict),
        "energy_period": float(energy_period),
        "demand_interval": float(demand_interval),
        "demand_method": str(demand_method),
        "minmax_period": float(minmax_period),
        "alarm": _alarm_list(alarms),
        "learn_limits": None if learn_limits is None else str(_path(learn_limits)),
    }


def _alarm_list(alarms: Any) -> List[str]:
    """The alarm setpoints as strings; a lone string is one setpoint, not its characters."""
    if isinstance(alarms, str):
        return [alarms]
    return [str(a) for a in alarms]


def _analyze_into(path: PathLike, settings: Dict[str, Any], out: PathLike, format: str) -> Any:
    """``pqe analyze``'s pipeline over the file ``path`` into the folder ``out``, tables in
    ``format``; returns summary.json (a dict)."""
    from ._tables import _run_pipeline

    summary, _, _ = _run_pipeline(_path(path), dict(settings, format=format), _path(out))
    return summary


def rms(
    x: Any, sample_rate: float, nominal_frequency: float = 50.0, *, with_time: bool = False
) -> Any:
    """RMS of one channel over each 10-cycle (50 Hz) or 12-cycle (60 Hz) interval.

    The intervals are synchronised to the signal's own fundamental (IEC 61000-4-30 5.2),
    as in :func:`analyze`; a trailing partial interval is not reported. ``x`` is a 1-D
    array of samples. Returns the RMS values (a float64 array), or ``(t, rms)`` with
    ``with_time=True``, ``t`` each interval's start in seconds from the first sample.
    """
    t, v = _pqengine.rms(_samples(x, "x"), _rate(sample_rate), float(nominal_frequency))
    return (t, v) if with_time else v


def harmonics(
    x: Any,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    *,
    interharmonics: bool = False,
    with_time: bool = False,
) -> Any:
    """Harmonic subgroups (IEC 61000-4-7) of one channel per 10/12-cycle interval.

    Returns an ``(intervals, 64)`` float64 array: column ``n`` is the RMS of the harmonic
    subgroup of order ``n`` (H0 the DC value, H1 the fundamental), in the unit of ``x``.
    With ``interharmonics=True`` returns ``(subgroups, interharmonic_subgroups)``, the
    second ``(intervals, 64)`` with the centred interharmonic subgroup IHn between orders
    ``n`` and ``n+1``. With ``with_time=True`` the interval starts ``t`` come first.
    """
    t, h, ih = _pqengine.harmonics(
        _samples(x, "x"), _rate(sample_rate), float(nominal_frequency)
    )
    out = (h, ih) if interharmonics else (h,)
    if with_time:
        out = (t,) + out
    return out if len(out) > 1 else out[0]


def flicker(
    u: Any,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    lamp: Optional[str] = None,
    udin: float = 230.0,
) -> Table:
    """Short-term flicker severity Pst of one voltage (IEC 61000-4-15 flickermeter).

    ``u`` is a 1-D array of voltage samples in volts at ``sample_rate`` ≥ 2 kHz. ``lamp``
    is ``"230V"`` or ``"120V"``; by default it follows ``udin`` (the 120 V lamp below
    170 V). Returns a :class:`Table` with one row per 10-min period counted from the first
    sample: ``t`` (s), ``Pst`` and ``flagged`` (True when the flickermeter was settling —
    the first 10 s — or the period was only partly observed: a final partial period's
    value covers what was observed).
    """
    t, pst, flagged = _pqengine.flicker(
        _samples(u, "u"), _rate(sample_rate), float(nominal_frequency), lamp, float(udin)
    )
    return Table(
        {"t": t, "Pst": pst, "flagged": _np.asarray(flagged, dtype=bool)}
    )


def power(
    u: Any,
    i: Any,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    nominal_voltage: float = 230.0,
) -> Table:
    """Powers (IEEE 1459) of one voltage and one current per 10/12-cycle interval.

    ``u`` (volts) and ``i`` (amperes) are 1-D arrays of the same length, analysed as a
    single-phase circuit. Returns a :class:`Table` with ``t`` and the power columns the
    analysis writes for it: ``P_A`` active power (W), ``Q1_A`` fundamental reactive power
    (var), ``S_A`` apparent power (VA), ``PF_A`` power factor and ``DPF_A`` displacement
    power factor, plus system totals where the engine gives them. ``nominal_voltage``
    sets the level below which the voltage is too weak to track.
    """
    uu, ii = _samples(u, "u"), _samples(i, "i")
    names, array = _pqengine.power(
        uu, ii, _rate(sample_rate), float(nominal_frequency), float(nominal_voltage)
    )
    return Table(zip(names, array))


def _path(path: Any) -> str:
    if not isinstance(path, (str, _os.PathLike)):
        raise TypeError(f"expected a path (str or os.PathLike), not {type(path).__name__}")
    return _os.fspath(path)


def _rate(sample_rate: Any) -> float:
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise TypeError(
            f"sample_rate must be a number, not {type(sample_rate).__name__}"
        ) from None
    if not (rate > 0 and _np.isfinite(rate)):
        raise ValueError(f"sample_rate must be a positive number, not {sample_rate}")
    return rate


def _samples(x: Any, what: str) -> _np.ndarray:
    """A 1-D C-contiguous float64 view of ``x`` (a copy only when it is not one already)."""
    try:
        a = _np.ascontiguousarray(x, dtype=_np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be an array of real numbers ({e})") from None
    if a.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of samples, not of shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{what} holds no samples")
    return a


# `from __future__ import annotations` binds the name `annotations`; it is no API.
del annotations
