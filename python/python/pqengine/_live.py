"""Live sources: :func:`open_source` and the :class:`LiveSource` it returns.

A device is named by a URI whose scheme picks the driver (``replay:PATH?speed=1|max``,
``synth:SCENARIO.toml``, ``tcp://HOST:PORT``, ``udp://HOST:PORT``, and the schemes of the
C plugins and adapters in the plugin folders and ``PQE_PLUGIN_PATH``; ``pqe devices list``
shows them). Iterating a :class:`LiveSource` yields :class:`SourceBlock` and
:class:`SourceGap` items in time order; :func:`pqengine.analyze` analyses one as
``pqe analyze --source`` does.
"""

from __future__ import annotations

import typing as _typing
import warnings

import numpy as np

from . import _pqengine

if _typing.TYPE_CHECKING:
    from typing import Any, Dict, Iterator, Optional, Union


class SourceBlock(_typing.NamedTuple):
    """Samples of a live source: ``data`` a ``(channels, samples)`` float64 array whose
    first sample is at ``start_ns`` (ns since 1970-01-01), sampled at ``sample_rate``."""

    start_ns: int
    sample_rate: float
    data: np.ndarray


class SourceGap(_typing.NamedTuple):
    """A span whose samples did not arrive (``start_ns`` to ``end_ns``), and why (the
    driver and what it lost). Never filled: the next block starts at its own time."""

    start_ns: int
    end_ns: int
    reason: str


class LiveSource:
    """An opened live device (see :func:`open_source`). Iterate it for blocks and gaps;
    ``info`` holds its channels, rate, start time and driver; :meth:`stop` ends it at its
    next step; :meth:`fault` names the driver's fault that ended it, if one did. A source
    is read once: either iterated or given to :func:`pqengine.analyze`."""

    def __init__(self, uri: str, duration: Optional[float] = None) -> None:
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a string, not {type(uri).__name__}")
        if duration is not None:
            duration = float(duration)
            if not duration > 0:
                raise ValueError(f"duration must be a positive number of seconds, not {duration}")
        self._stream = _pqengine.LiveStream(uri, duration)
        self.info: Dict[str, Any] = dict(self._stream.info())
        self.uri: str = self.info["uri"]

    def __iter__(self) -> Iterator[Union[SourceBlock, SourceGap]]:
        rate = float(self.info["sample_rate"])
        while True:
            step = self._stream.next_step()
            if step is None:
                return
            if step[0] == "block":
                yield SourceBlock(int(step[1]), rate, step[2])
            elif step[0] == "gap":
                yield SourceGap(int(step[1]), int(step[2]), str(step[3]))
            else:
                warnings.warn(str(step[1]), stacklevel=2)

    def stop(self) -> None:
        """End the source at its next step (the blocks already read stay valid)."""
        self._stream.stop()

    def fault(self) -> Optional[str]:
        """The driver's fault that ended the source (naming the driver), else ``None``."""
        return self._stream.fault()

    def __repr__(self) -> str:
        return (
            f"LiveSource({self.uri!r}, {len(self.info['names'])} channels at "
            f"{self.info['sample_rate']} Hz, driver {self.info['driver']!r})"
        )


def open_source(uri: str, duration: Optional[float] = None) -> LiveSource:
    """Open the live device ``uri``; it ends after ``duration`` seconds of recording time
    when given (else at the end of its stream or :meth:`LiveSource.stop`).

    Raises :class:`pqengine.PqeError` when the URI names no known driver or the device
    cannot be opened (the message names the URI, secrets redacted, and the driver)."""
    return LiveSource(uri, duration)


def is_uri(text: str) -> bool:
    """True when ``text`` is written as a device URI (``scheme:...`` with a scheme of two
    or more letters), not a file path."""
    head, sep, _ = text.partition(":")
    return bool(sep) and len(head) >= 2 and head[0].isalpha() and all(
        c.isalnum() or c in "+-." for c in head
    )
