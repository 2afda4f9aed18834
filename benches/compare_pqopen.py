#!/usr/bin/env python3
"""Throughput of PQE against pqopen-lib on the same generated input, in one run.

    .venv/bin/python benches/compare_pqopen.py [--pqe target/release/pqe] [--repeat 3]

Generates the demo supply (datasets/scenarios/demo-30s.toml: 3 V + 3 I at 10.24 kHz,
harmonics, flicker, dips, an interruption) as COMTRADE with `pqe generate`, then times
- PQE: `pqe analyze` on the file (everything: tracking, RMS, harmonics and interharmonics
  to 63, powers, unbalance, 10-s frequency, Urms(1/2), flicker, events, aggregation, and
  reading the file and writing every output, report.html included), best of --repeat;
- pqopen-lib: its PowerSystem (3 phases, harmonics to 50, 10-min resync) fed the same
  samples from memory in 1-s blocks, as tests/python/test_chain_crosscheck.py drives it,
  best of --repeat (file reading not counted).
Prints both throughputs in samples per second (channels × samples) and the ratio. PQE's
figure includes its file I/O and so understates the engine (see `cargo bench -p
pqe-benches --bench chain` for the engine alone).
"""
from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))


def run_pqopen(data: np.ndarray, names: list[str], fs: float, start: dt.datetime, f_nom: float, udin: float) -> int:
    from daqopen.channelbuffer import AcqBuffer
    from pqopen.powersystem import PowerSystem

    n = data.shape[1]
    bufs = {nm: AcqBuffer(size=n + 16, dtype=np.float64, name=nm) for nm in names}
    tbuf = AcqBuffer(size=n + 16, dtype=np.float64, name="time")
    epoch_us = start.replace(tzinfo=dt.timezone.utc).timestamp() * 1e6
    cycles = 10 if f_nom == 50 else 12
    ps = PowerSystem(zcd_channel=bufs["U_A"], input_samplerate=fs, zcd_cutoff_freq=f_nom,
                     zcd_threshold=0.01 * udin, nominal_frequency=f_nom, nper=cycles)
    for p in "ABC":
        ps.add_phase(u_channel=bufs[f"U_{p}"], i_channel=bufs[f"I_{p}"], name=p)
    ps.enable_harmonic_calculation(50)
    ps.enable_nper_abs_time_sync(tbuf, interval_sec=600)
    block = int(fs)
    values = 0
    for s in range(0, n, block):
        e = min(n, s + block)
        for ci, nm in enumerate(names):
            bufs[nm].put_data(data[ci, s:e])
        tbuf.put_data(epoch_us + np.arange(s, e) * 1e6 / fs)
        ps.process()
    for chan in ps.output_channels.values():
        values += len(chan.read_data_by_acq_sidx(0, n + 1)[0])
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pqe", default=str(ROOT / "target" / "release" / "pqe"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import reference_pq as ref

    scen = (ROOT / "datasets" / "scenarios" / "demo-30s.toml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "s.toml").write_text(scen)
        cfg = tmp / "rec.cfg"
        subprocess.run([args.pqe, "generate", "-f", tmp / "s.toml", cfg], check=True, capture_output=True)
        rec = ref.read_comtrade(cfg)
        data = np.vstack([rec[nm] for nm in rec.names]).astype(np.float64)
        samples = data.size

        pqe_best = float("inf")
        for k in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([args.pqe, "analyze", cfg, "--out", tmp / f"out{k}", "--nominal-voltage", "230",
                            "--nominal-frequency", "50", "--wiring", "wye"], check=True, capture_output=True)
            pqe_best = min(pqe_best, time.perf_counter() - t0)

        pq_best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run_pqopen(data, list(rec.names), rec.fs, rec.start, 50.0, 230.0)
            pq_best = min(pq_best, time.perf_counter() - t0)

    pqe_rate = samples / pqe_best
    pq_rate = samples / pq_best
    print(f"input: {len(rec.names)} channels x {data.shape[1]} samples at {rec.fs:g} Hz = {samples} samples")
    print(f"PQE (pqe analyze, file I/O included): {pqe_best:8.3f} s  {pqe_rate / 1e6:10.2f} M samples/s")
    print(f"pqopen-lib (PowerSystem, in memory):  {pq_best:8.3f} s  {pq_rate / 1e6:10.2f} M samples/s")
    print(f"ratio PQE / pqopen-lib: {pqe_rate / pq_rate:.1f}x")


if __name__ == "__main__":
    main()
