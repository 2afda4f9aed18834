from typing import Any, Dict, Iterator, NamedTuple, Optional, Union

import numpy as np
import numpy.typing as npt

class SourceBlock(NamedTuple):
    start_ns: int
    sample_rate: float
    data: npt.NDArray[np.float64]

class SourceGap(NamedTuple):
    start_ns: int
    end_ns: int
    reason: str

class LiveSource:
    info: Dict[str, Any]
    uri: str
    def __init__(self, uri: str, duration: Optional[float] = None) -> None: ...
    def __iter__(self) -> Iterator[Union[SourceBlock, SourceGap]]: ...
    def stop(self) -> None: ...
    def fault(self) -> Optional[str]: ...

def open_source(uri: str, duration: Optional[float] = None) -> LiveSource: ...
def is_uri(text: str) -> bool: ...
