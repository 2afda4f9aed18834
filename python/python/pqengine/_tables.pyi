import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

PERIODS: tuple
FORMATS: tuple
RECORDING_INPUT_NAME: str

class Table(Dict[str, npt.NDArray[Any]]):
    """Column name → 1-D numpy array, in the CLI's CSV column order."""

    @property
    def columns(self) -> List[str]: ...
    @property
    def rows(self) -> int: ...
    def to_pandas(self) -> Any: ...
    def to_dict(self) -> Dict[str, list]: ...

class Compliance(Dict[str, Table]):
    document: Dict[str, Any]
    overall: Dict[str, Any]
    notes: Dict[str, List[str]]
    def __init__(self, document: Dict[str, Any]) -> None: ...

class Analysis:
    """The tables of pqe analyze for one recording."""

    intervals: Table
    frequency: Table
    flicker: Table
    events: Table
    harmonics: Dict[str, npt.NDArray[np.float64]]
    interharmonics: Dict[str, npt.NDArray[np.float64]]
    info: Dict[str, Any]
    options: Dict[str, Any]
    source: Optional[str]
    compliance: Compliance
    captures: List[Dict[str, Any]]
    messages: List[Tuple[str, str]]
    @property
    def columns(self) -> List[str]: ...
    def aggregates(self, period: str) -> Table: ...
    def harmonic_table(self, column: str) -> Table: ...
    def summary(self) -> Dict[str, Any]: ...
    def write(self, out_dir: Union[str, os.PathLike[str]], format: str = "csv") -> Path: ...
    def report(self, path: Union[str, os.PathLike[str]]) -> Path: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Analysis": ...
