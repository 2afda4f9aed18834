"""Type stubs of pqengine (the PQE power-quality engine for Python)."""

import datetime
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from ._pqengine import PqeError as PqeError
from ._live import LiveSource as LiveSource, SourceBlock as SourceBlock, SourceGap as SourceGap, open_source as open_source
from ._meter import Meter as Meter, MeterError as MeterError, MeterValue as MeterValue, meter as meter
from ._recording import Recording as Recording
from ._tables import Analysis as Analysis, Table as Table

__version__: str

PathLike = Union[str, os.PathLike[str]]
ArrayLike = npt.ArrayLike
Float64Array = npt.NDArray[np.float64]

def read(path: PathLike) -> Recording:
    """Read a recording file (COMTRADE .cfg/.dat/.cff, CSV, HDF5) into a Recording."""

def write_comtrade(
    path: PathLike, rec: Recording, format: str = "binary", revision: int = 2013
) -> None:
    """Write rec as COMTRADE (ascii, binary, binary32, float32; 1991, 1999, 2013; .cff = one file)."""

def analyze(
    source: Union[Recording, PathLike, LiveSource],
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
    """Measure a recording as an IEC 61000-4-30 Class A instrument (as `pqe analyze`).

    basic=True (pqe analyze --basic) turns harmonics, flicker, events and half_cycle off:
    RMS, power (P, S, PF in the time domain), frequency and aggregates. half_cycle=False
    needs events=False. Runs the pipeline of `pqe analyze`: Analysis.write(out_dir,
    format="csv"|"parquet") and Analysis.report(path) give its files."""

@overload
def rms(
    x: ArrayLike, sample_rate: float, nominal_frequency: float = 50.0, *, with_time: bool = False
) -> Float64Array: ...
@overload
def rms(
    x: ArrayLike, sample_rate: float, nominal_frequency: float = 50.0, *, with_time: bool
) -> Tuple[Float64Array, Float64Array]: ...
def harmonics(
    x: ArrayLike,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    *,
    interharmonics: bool = False,
    with_time: bool = False,
) -> Union[Float64Array, Tuple[Float64Array, ...]]:
    """Harmonic subgroups H0…H63 per 10/12-cycle interval, an (intervals, 64) array."""

def flicker(
    u: ArrayLike,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    lamp: Optional[str] = None,
    udin: float = 230.0,
) -> Table:
    """Pst per 10-min period of one voltage: a Table with t, Pst, flagged."""

def power(
    u: ArrayLike,
    i: ArrayLike,
    sample_rate: float,
    nominal_frequency: float = 50.0,
    nominal_voltage: float = 230.0,
) -> Table:
    """P, Q1, S, PF, DPF per 10/12-cycle interval of one voltage and current."""

__all__: List[str]
