"""Meter links: ``pqengine.meter(uri).read(...)``.

A :class:`Meter` is a session with one meter named by a URI of the architecture's "Meter
links" (``modbus-tcp://HOST:PORT?unit=N``, ``modbus-rtu:///dev/ttyUSB0?serial=9600/8N1&unit=N``,
``iec62056-21:///dev/ttyUSB0?mode=C``, ``dlms+tcp://HOST:PORT?client=16&server=1&auth=…``,
``mbus:///dev/ttyUSB0?address=5``, ``mbus+tcp://HOST:PORT?address=id:12345678``,
``sml:///dev/ttyUSB0?serial=9600/8N1``), over the same Rust links as ``pqe meter``::

    import pqengine as pq

    with pq.meter("modbus-tcp://192.0.2.7:502?unit=1", map="sdm630") as m:
        for v in m.read("U_L1", "hr:0x0156:f32", "1-0:32.7.0*255"):
            print(v.id, v.value, v.unit)

Every read has a deadline (the URI's ``timeout_ms``, with at most ``retries`` repeats).
Secrets (``secret=``, ``ek=``, ``ak=``) are references ``env:VAR`` or ``keystore:NAME``,
never values, and no message shows them.
"""

from __future__ import annotations

import os as _os
import typing as _typing

from . import _pqengine
from ._pqengine import MeterError

if _typing.TYPE_CHECKING:
    from typing import Iterable, List, Optional, Union

    PathLike = Union[str, "_os.PathLike[str]"]

__all__ = ["Meter", "MeterError", "MeterValue", "meter"]


class MeterValue(_typing.NamedTuple):
    """One value read from a meter, as ``pqe meter read --json`` prints it."""

    id: str
    """What the protocol calls it: an OBIS code, a register (``hr:20:i16``), a map name or
    an M-Bus record."""
    value: Union[float, str]
    """The number with the meter's scaler applied, or text (identifiers, dates)."""
    unit: str
    """The unit symbol ("Wh", "kWh", "V", "A", "W", "Hz"), "" where none."""


class Meter:
    """A session with one meter (see :func:`meter`). Use it as a context manager, or call
    :meth:`close` when done."""

    def __init__(self, uri: str, *, map: Optional[str] = None, trace: Optional[PathLike] = None):
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a str, not {type(uri).__name__}")
        if map is not None and not isinstance(map, str):
            raise TypeError(f"map must be a str (a built-in map name or a TOML file), not {type(map).__name__}")
        path = None if trace is None else _os.fspath(trace)
        self._link = _pqengine.MeterLink(uri, map, path)

    def read(self, *selectors: Union[str, Iterable[str]]) -> List[MeterValue]:
        """Read values, in the order asked for.

        Each selector is an OBIS code (``"1-0:1.8.0*255"`` or short ``"1.8.0"``), a Modbus
        register ``"TABLE:ADDR:TYPE"`` (``hr``/``ir``, 0-based PDU address, ``u16 i16 u32
        i32 u64 f32 f64``) or a name of the register map; lists of them are accepted too.
        Without selectors: everything the meter gives in one exchange.

        Raises :class:`MeterError` when the meter does not answer in time, answers with a
        damaged frame or refuses (the message names the frame or request), ``ValueError``
        for a selector that cannot be understood.
        """
        flat: List[str] = []
        for s in selectors:
            if isinstance(s, str):
                flat.append(s)
            else:
                for x in s:
                    if not isinstance(x, str):
                        raise TypeError(f"a selector is a str, not {type(x).__name__}")
                    flat.append(x)
        return [MeterValue(*row) for row in self._link.read(flat)]

    def scan(self) -> List[MeterValue]:
        """The meters on an M-Bus (primary, then secondary scan): ``id`` the address
        (``"5"`` or ``"id:12345678"``), ``value`` a description."""
        return [MeterValue(*row) for row in self._link.scan()]

    def close(self) -> None:
        """End the session (release, disconnect) and complete the trace file."""
        self._link.close()

    @property
    def is_open(self) -> bool:
        return self._link.is_open

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._link).replace("MeterLink", "Meter", 1)


def meter(uri: str, *, map: Optional[str] = None, trace: Optional[PathLike] = None) -> Meter:
    """Open a session with the meter ``uri`` names.

    ``map``: a Modbus register map, a built-in name (``"sdm630"``) or a TOML file.
    ``trace``: a JSON Lines file recording every frame (``pqe meter analyse`` judges it).

    Raises :class:`MeterError` when the meter cannot be reached or the association fails,
    ``ValueError`` for a URI that cannot be understood (a secret written as a value
    instead of ``env:VAR``/``keystore:NAME`` included; the value is not repeated).
    """
    return Meter(uri, map=map, trace=trace)
