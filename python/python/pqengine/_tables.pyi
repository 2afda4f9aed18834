from typing import Any, Dict, List, Optional

import numpy as np
import numpy.typing as npt

SUMMARY_SCHEMA: str
PERIODS: tuple
EVENT_KINDS: tuple

class Table(Dict[str, npt.NDArray[Any]]):
    """Column name → 1-D numpy array, in the CLI's CSV column order."""

    @property
    def columns(self) -> List[str]: ...
    @property
    def rows(self) -> int: ...
    def to_pandas(self) -> Any: ...
    def to_dict(self) -> Dict[str, list]: ...

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
    @property
    def columns(self) -> List[str]: ...
    def aggregates(self, period: str) -> Table: ...
    def harmonic_table(self, column: str) -> Table: ...
    def summary(self) -> Dict[str, Any]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Analysis": ...
