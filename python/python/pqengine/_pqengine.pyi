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
BATCH_TEXT_COLUMNS: List[str]
BATCH_NUMBER_COLUMNS: List[str]

def run_pipeline(
    settings_json: str,
    out: str,
    input_name: str,
    path: Optional[str] = None,
    data: Optional[npt.NDArray[np.float64]] = None,
    channels: Optional[Dict[str, Any]] = None,
    live: Optional[LiveStream] = None,
) -> Tuple[str, List[Tuple[str, str]], int]: ...
class LiveStream:
    def __init__(self, uri: str, duration: Optional[float] = None) -> None: ...
    def info(self) -> Dict[str, Any]: ...
    def next_step(self, max_samples: int = 65536) -> Optional[Tuple[Any, ...]]: ...
    def stop(self) -> None: ...
    def fault(self) -> Optional[str]: ...
def load_tables(dir: str, columns: List[str]) -> Dict[str, Any]: ...
_Outcome = Tuple[str, str, Optional[str], Optional[str]]
def batch_table(
    outcomes: List[_Outcome],
) -> Tuple[List[str], List[List[Optional[str]]], npt.NDArray[np.float64]]: ...
def batch_write(outcomes: List[_Outcome], out: str) -> None: ...
def find_recordings(dir: str, skip: Optional[str] = None) -> List[str]: ...
def folder_name(rel: str) -> str: ...
def file_safe(name: str) -> str: ...
def csv_cell(x: float) -> str: ...
def timestamp(ns: int) -> str: ...
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
