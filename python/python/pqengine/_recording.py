"""The :class:`Recording`: sampled channels as one numpy array, with their description."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

_EPOCH = _dt.datetime(1970, 1, 1)
_PHASES = {"A", "B", "C", "N", "AB", "BC", "CA", "L1", "L2", "L3", "L1L2", "L2L3", "L3L1"}
_KINDS = {"voltage", "current", "other"}


class Recording:
    """Sampled channels of one recording: a ``(channels, samples)`` float64 array.

    ``data`` is a ``(channels, samples)`` array (a 1-D array is one channel). When it is
    already a C-contiguous float64 numpy array it is kept as it is — ``rec.data`` *is*
    ``data``, no copy — and the engine reads it in place; any other input (another dtype,
    a Fortran-ordered or strided array, a list) is copied once into a C-contiguous float64
    array. Since the engine reads the caller's array in place (with the GIL released),
    do not write to it from another thread while :func:`pqengine.analyze` runs on it.

    ``names`` names each channel. ``kinds`` (``"voltage"``, ``"current"``, ``"other"``),
    ``phases`` (``"A"``, ``"B"``, ``"C"``, ``"N"``, ``"AB"``, ``"BC"``, ``"CA"`` or None)
    and ``units`` (``"V"``, ``"A"``, …) describe them; where not given they are guessed:
    the kind from the unit, else from an IEC-style name (``U_A``/``V_A`` voltage,
    ``I_A`` current), the phase from the name's suffix, the unit from the kind.

    ``start`` is the time of the first sample: a ``datetime`` (naive means UTC; aware
    ones are converted), a ``numpy.datetime64``, or integer nanoseconds since
    1970-01-01; default 1970-01-01T00:00:00.
    """

    __slots__ = ("_data", "_sample_rate", "_names", "_kinds", "_phases", "_units", "_start_ns")

    def __init__(
        self,
        data: Any,
        sample_rate: float,
        names: Sequence[str],
        kinds: Optional[Sequence[str]] = None,
        phases: Optional[Sequence[Optional[str]]] = None,
        units: Optional[Sequence[str]] = None,
        start: Union[None, int, _dt.datetime, np.datetime64] = None,
    ) -> None:
        if isinstance(names, str):
            raise TypeError("names must be a sequence of channel names, not one string")
        names = [str(n) for n in names]
        self._data = _as_planar(data, len(names))
        try:
            self._sample_rate = float(sample_rate)
        except (TypeError, ValueError):
            raise TypeError(
                f"sample_rate must be a number, not {type(sample_rate).__name__}"
            ) from None
        if not (self._sample_rate > 0 and np.isfinite(self._sample_rate)):
            raise ValueError(f"sample_rate must be a positive number, not {sample_rate}")
        if len(set(names)) != len(names):
            raise ValueError(f"channel names must be unique: {names}")
        n = len(names)
        self._names = names
        self._units = _per_channel(units, n, "units", str)
        self._kinds = _per_channel(kinds, n, "kinds", lambda k: str(k).lower())
        self._phases = _per_channel(
            phases, n, "phases", lambda p: None if p in (None, "") else str(p).upper()
        )
        for i, name in enumerate(names):
            guess_kind, guess_phase = _guess_from_name(name)
            if self._kinds[i] is None:
                unit = (self._units[i] or "").strip().lower()
                self._kinds[i] = (
                    "voltage" if unit in ("v", "kv", "mv")
                    else "current" if unit in ("a", "ka", "ma")
                    else guess_kind if self._units[i] is None
                    else "other"
                )
            if self._kinds[i] not in _KINDS:
                raise ValueError(
                    f"channel '{name}': kind must be voltage, current or other, "
                    f"not '{self._kinds[i]}'"
                )
            if self._phases[i] is None and phases is None:
                self._phases[i] = guess_phase
            if self._units[i] is None:
                self._units[i] = {"voltage": "V", "current": "A"}.get(self._kinds[i], "")
        self._start_ns = _start_ns(start)

    # -- the public description -----------------------------------------------------------

    @property
    def data(self) -> np.ndarray:
        """The samples: a C-contiguous ``(channels, samples)`` float64 array."""
        return self._data

    @property
    def sample_rate(self) -> float:
        """Samples per second."""
        return self._sample_rate

    @property
    def names(self) -> List[str]:
        """Channel names, in row order of :attr:`data`."""
        return list(self._names)

    @property
    def kinds(self) -> List[str]:
        """Per channel: ``"voltage"``, ``"current"`` or ``"other"``."""
        return list(self._kinds)

    @property
    def phases(self) -> List[Optional[str]]:
        """Per channel: ``"A"``, ``"B"``, ``"C"``, ``"N"``, ``"AB"``, ``"BC"``, ``"CA"`` or None."""
        return list(self._phases)

    @property
    def units(self) -> List[str]:
        """Per channel: the unit of its values."""
        return list(self._units)

    @property
    def start(self) -> _dt.datetime:
        """Time of the first sample, a naive UTC ``datetime`` (microsecond resolution)."""
        return _EPOCH + _dt.timedelta(microseconds=self._start_ns // 1000)

    @property
    def start_ns(self) -> int:
        """Time of the first sample in nanoseconds since 1970-01-01 (UTC)."""
        return self._start_ns

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self) / self._sample_rate

    def __len__(self) -> int:
        """Samples per channel."""
        return int(self._data.shape[1])

    def __getitem__(self, key: Union[str, int]) -> np.ndarray:
        """One channel's samples by name (or row index): a view of :attr:`data`."""
        if isinstance(key, str):
            try:
                return self._data[self._names.index(key)]
            except ValueError:
                raise KeyError(
                    f"no channel '{key}'; the recording has: {', '.join(self._names)}"
                ) from None
        if isinstance(key, (int, np.integer)):
            return self._data[int(key)]
        raise TypeError(f"index a Recording by channel name or row, not {type(key).__name__}")

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return (
            f"Recording({len(self._names)} channels × {len(self)} samples at "
            f"{self._sample_rate:g} Hz, start {self.start.isoformat()}, "
            f"channels {', '.join(self._names)})"
        )

    def __reduce__(self) -> Any:
        return (
            Recording,
            (self._data, self._sample_rate, self._names, self._kinds, self._phases,
             self._units, self._start_ns),
        )

    def _channel_args(self) -> Dict[str, Any]:
        """The description the extension module takes."""
        return {
            "sample_rate": self._sample_rate,
            "names": self._names,
            "kinds": self._kinds,
            "phases": [p or "" for p in self._phases],
            "units": self._units,
            "start_ns": self._start_ns,
        }


def _as_planar(data: Any, n_channels: int) -> np.ndarray:
    """``data`` as a C-contiguous float64 ``(channels, samples)`` array, copied only when
    it is not one already."""
    if isinstance(data, np.ndarray) and data.dtype == np.float64 and data.flags.c_contiguous:
        a = data
    else:
        try:
            a = np.ascontiguousarray(data, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"data must be an array of real numbers ({e})") from None
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"data must be (channels, samples), not of shape {a.shape}")
    if a.shape[0] != n_channels:
        hint = " (transpose it: data.T)" if a.shape[1] == n_channels else ""
        raise ValueError(
            f"data has {a.shape[0]} rows but {n_channels} channel names; "
            f"data must be (channels, samples){hint}"
        )
    return a


def _per_channel(values: Any, n: int, what: str, convert: Any) -> List[Any]:
    if values is None:
        return [None] * n
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence with one entry per channel, not a string")
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{len(values)} {what} for {n} channels")
    return [convert(v) for v in values]


def _guess_from_name(name: str) -> "tuple[str, Optional[str]]":
    """Kind and phase from an IEC-style name: ``U_A``, ``V_AB``, ``I_N``, ``UL1``, ``IA``."""
    m = re.fullmatch(r"\s*([UVI])[_ -]?([A-Za-z0-9]{0,4})\s*", name)
    if not m:
        return "other", None
    kind = "current" if m.group(1) == "I" else "voltage"
    suffix = m.group(2).upper()
    return kind, suffix if suffix in _PHASES else None


def _start_ns(start: Any) -> int:
    if start is None:
        return 0
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        return int(start)
    if isinstance(start, np.datetime64):
        return int(start.astype("datetime64[ns]").astype(np.int64))
    if isinstance(start, _dt.datetime):
        if start.tzinfo is not None:
            start = start.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        delta = start - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    raise TypeError(
        "start must be a datetime, a numpy.datetime64 or nanoseconds since 1970 (int), "
        f"not {type(start).__name__}"
    )
