#!/usr/bin/env python3
"""Time python-comtrade against PQE reading the same large binary COMTRADE file.

Writes 16 analog channels x N records (BINARY, 2013) into a temporary directory, then
reads it with python `comtrade` (in-process timing; with numpy arrays, and with its
default array.array mode; double precision both times) and
with PQE (the `comtrade_dump --count` example, which times its own reading), and prints
rows/s for each and the ratio.

    .venv/bin/python benches/compare_comtrade_read.py [--rows 2000000] [--format binary|float32]

PQE binary: $PQE_DUMP, else target/release/examples/comtrade_dump (built on demand with
`cargo build --release -p pqe-io --example comtrade_dump`).
"""

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import comtrade

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = 16
RATE = 10_000


def write_recording(directory: Path, rows: int, fmt: str) -> Path:
    ft = {"binary": "BINARY", "float32": "FLOAT32"}[fmt]
    lines = ["bench,pqe,2013", f"{CHANNELS},{CHANNELS}A,0D"]
    lines += [f"{c},ch{c},A,,V,0.01,0,0,-32767,32767,1,1,P" for c in range(1, CHANNELS + 1)]
    lines += ["50", "1", f"{RATE},{rows}", "01/01/2024,00:00:00.000000",
              "01/01/2024,00:00:00.000000", ft, "1", "0,0", "0,0"]
    cfg = directory / "big.cfg"
    cfg.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    value = np.dtype("<i2") if fmt == "binary" else np.dtype("<f4")
    rec = np.dtype([("n", "<u4"), ("t", "<u4"), ("v", value, (CHANNELS,))])
    data = np.zeros(rows, dtype=rec)
    n = np.arange(rows)
    data["n"] = n + 1
    data["t"] = (n * 1e6 / RATE).astype(np.uint32)
    phase = np.arange(CHANNELS)[None, :]
    wave = 30000 * np.sin(n[:, None] * 0.0314 + phase)
    data["v"] = wave.astype(value) if fmt == "binary" else (wave * 0.01).astype(value)
    data.tofile(directory / "big.dat")
    return cfg


def pqe_dump() -> Path:
    env = os.environ.get("PQE_DUMP")
    if env:
        return Path(env)
    exe = ROOT / "target" / "release" / "examples" / "comtrade_dump"
    subprocess.run(["cargo", "build", "--release", "-p", "pqe-io", "--example",
                    "comtrade_dump"], cwd=ROOT, check=True)
    return exe


def time_python(cfg: Path, repeat: int, numpy_arrays: bool) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        rec = comtrade.Comtrade(ignore_warnings=True, use_numpy_arrays=numpy_arrays,
                                use_double_precision=True)
        rec.load(str(cfg))
        best = min(best, time.perf_counter() - t0)
        assert len(rec.analog[0]) > 0
    return best


def time_pqe(cfg: Path, repeat: int, rows: int) -> float:
    exe = pqe_dump()
    best = float("inf")
    for _ in range(repeat):
        out = subprocess.run([str(exe), str(cfg), "--count"], check=True,
                             capture_output=True, text=True).stdout.split()
        assert int(out[1]) == rows, out
        best = min(best, float(out[3]))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--format", choices=["binary", "float32"], default="binary")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--numpy-only", action="store_true",
                    help="skip python-comtrade's default (array.array) mode, which is slow")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = write_recording(Path(d), args.rows, args.format)
        size = (Path(d) / "big.dat").stat().st_size
        print(f"{CHANNELS} channels x {args.rows} records, {args.format.upper()}, "
              f"{size / 1e6:.0f} MB")
        t_pqe = time_pqe(cfg, args.repeat, args.rows)
        t_np = time_python(cfg, max(1, args.repeat - 2), numpy_arrays=True)
        t_def = time_python(cfg, 1, numpy_arrays=False) if not args.numpy_only else None
    rate = lambda t: args.rows / t / 1e6
    print(f"PQE (comtrade_dump --count):        {t_pqe:8.3f} s  {rate(t_pqe):9.3f} M rows/s")
    print(f"python-comtrade {comtrade.__version__}, numpy arrays: {t_np:8.3f} s  "
          f"{rate(t_np):9.3f} M rows/s   ratio {t_np / t_pqe:.0f}x")
    if t_def is not None:
        print(f"python-comtrade {comtrade.__version__}, defaults:     {t_def:8.3f} s  "
              f"{rate(t_def):9.3f} M rows/s   ratio {t_def / t_pqe:.0f}x")


if __name__ == "__main__":
    main()
