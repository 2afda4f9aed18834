"""Type stubs of the Rust extension module pqengine._pqengine (use the pqengine API)."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str
BLOCK_SAMPLES: int

class PqeError(Exception):
    """An error of the PQE engine; the message names the file, line and channel."""

class MeterError(PqeError):
    """A meter link failed (timeout, damaged frame, refusal); never shows a secret."""

class MeterLink:
    """A session with one meter (use pqengine.meter)."""
    def __init__(self, uri: str, map: Optional[str] = None, trace: Optional[str] = None) -> None: ...
    def read(self, selectors: List[str]) -> List[Tuple[str, Any, str]]: ...
    def scan(self) -> List[Tuple[str, Any, str]]: ...
    def close(self) -> None: ...
    @property
    def is_open(self) -> bool: ...

_Table = Tuple[List[str], npt.NDArray[np.float64]]

def read(path: str) -> Tuple[npt.NDArray[np.float64], Dict[str, Any]]: ...
def write_comtrade(
    path: str,
    data: npt.NDArray[np.float64],
    channels: Dict[str, Any],
    format: str = "binary",
    revision: int = 2013,
) -> None: ...
def analyze_path(path: str, options: Dict[str, Any]) -> Dict[str, Any]: ...
def analyze_array(
    data: npt.NDArray[np.float64], channels: Dict[str, Any], options: Dict[str, Any]
) -> Dict[str, Any]: ...
def rms(
    x: npt.NDArray[np.float64], sample_rate: float, nominal_frequency: float = 50.0
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def harmonics(
    x: npt.NDArray[np.float64], sample_rate: float, nominal_frequency: float = 50.0
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def power(
    u: npt.NDArray[np.float64],
    i: npt.NDArray[np.float64],
    sample_rate: float,
    nominal_frequency: float = 50.0,
    nominal_voltage: float = 230.0,
) -> _Table: ...
def flicker(
    u: npt.NDArray[np.float64],
    sample_rate: float,
    nominal_frequency: float = 50.0,
    lamp_name: Optional[str] = None,
    udin: float = 230.0,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], List[bool]]: ...
