import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import pandas

from ._tables import Analysis

PathLike = Union[str, os.PathLike[str]]

EXTENSIONS: Tuple[str, ...]
TEXT_COLUMNS: Tuple[str, ...]
NUMBER_COLUMNS: Tuple[str, ...]
PERIODS: Tuple[str, ...]

def file_safe(name: str) -> str: ...
def folder_name(rel: PathLike) -> str: ...
def find_recordings(directory: PathLike, exclude: Optional[PathLike] = ...) -> List[Path]: ...
def summary_row(analysis: Analysis) -> Dict[str, Any]: ...
def analyze_many(
    paths: Iterable[PathLike],
    client: Any = ...,
    out: Optional[PathLike] = ...,
    root: Optional[PathLike] = ...,
    **analyze_options: Any,
) -> pandas.DataFrame: ...
def analyze_dir(
    directory: PathLike,
    client: Any = ...,
    out: Optional[PathLike] = ...,
    **analyze_options: Any,
) -> pandas.DataFrame: ...
