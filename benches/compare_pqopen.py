#!/usr/bin/env python3
"""Throughput of PQE against pqopen-lib doing the same job on the same input, in one run.

    make build python        # target/release/pqe, and pqengine into .venv
    .venv/bin/python benches/compare_pqopen.py [--repeat 3] [--pqe target/release/pqe]
                                               [--basic] [--profile]

Input: the demo supply (datasets/scenarios/demo-30s.toml: 30 s of 3 V + 3 I at 10.24 kHz,
harmonics, a ripple-control tone, flicker, dips, a swell, an interruption), generated as
COMTRADE with `pqe generate` and read once with tests/python/reference_pq.py `read_comtrade`
(the independent `comtrade` package) into one (6, samples) float64 array. Both engines then
work on that array in memory, in this Python process, single pass, best of --repeat.
Throughput is counted in samples (channels × samples per channel) per second of wall time;
the CPU time of the same runs is printed too (both engines run single-threaded here, and on
a loaded machine the CPU-time ratio is the steadier figure).

Main line, the full chain (like for like, in memory):

- PQE: `pqengine.Recording` over the array (zero-copy) + `pqengine.analyze(rec)` with its
  defaults, i.e. everything `pqe analyze` measures: tracking, 10-cycle RMS, peak, crest
  factor, DC, under/over-deviation, harmonic subgroups H0–H63 and interharmonic subgroups,
  THD/THDS/THDG, TDD, K-factor, phase angles, IEEE 1459 powers, unbalance, 10-s frequency,
  Urms(1/2), flicker (Pst/Plt), dips/swells/interruptions/RVC, 3-s/10-min/2-h aggregation
  and the 10-min resynchronisation. Building the Recording is timed (it is cheap).
- pqopen-lib: its PowerSystem (3 phases, U and I, 10 cycles) with everything it offers that
  corresponds: harmonics and interharmonics (to order 50, see below), THD, fundamental
  phase angles, P, Q_t, fundamental P/Q, unbalance, per-cycle frequency, the always-on
  half-period RMS and one-cycle RMS refreshed every half cycle (= Urms(1/2)),
  `enable_nper_abs_time_sync(time, 600)`, `enable_fluctuation_calculation(230, 600)`
  (flickermeter, Pst per 10 min), `enable_under_over_deviation_calculation(230)`; an
  `eventdetector.EventController` with EventDetectorLevelLow/High on each phase's Urms(1/2)
  channel at 90 % (dip), 110 % (swell) and 10 % (interruption) of 230 V, 2 % hysteresis; and
  a `storagecontroller.StorageController` with in-memory endpoints aggregating every output
  channel over 3 s, 10 min and 2 h and `Freq` over 10 s (its 10-s frequency), events stored.
  The samples and their µs timestamps are fed in 1-s blocks (AcqBuffer.put_data), and after
  each block PowerSystem, EventController and StorageController process, as pqopen's own
  acquisition loop does. Only this loop is timed: pqopen's setup (its output-channel
  buffers and flickermeter filters, ~0.05 s) is printed but not counted, which favours
  pqopen on a 30-s input.

What cannot be matched: pqopen's current harmonics cannot go past order 50 at this rate
(the current FFT resamples each 10-cycle window to the power of two below its length, 1024
points when the frequency is above 50 Hz, and `enable_harmonic_calculation(63)` then fails
with "cannot reshape array of size 513"); so pqopen computes orders 0–50 and PQE 0–63.
pqopen has no peak/crest factor/DC, THDS/THDG, TDD, K-factor, IEEE 1459 effective
quantities, Plt, RVC, polyphase event aggregation or flagging; PQE has no per-cycle P or
voltage slope. pqopen aggregates on clock time (3 s), PQE on 150 cycles. Both resync at
10-min ticks. pqopen reports Pst only for complete 10-min periods after 20 s of settling,
so on 30 s it reports none (PQE reports the partial period, flagged); the script checks
pqopen's flickermeter ran by computing its Pst over the instantaneous-flicker output after
the timed run. pqopen's events are per phase (EventDetectorLevelLow/High on one channel
each), PQE's polyphase (IEC 61000-4-30 5.4); pqopen's zero-crossing detector has no
crossings for most of the interruption, so it makes no Urms(1/2) values there and may miss
or delay the interruption on some phases (the counts are printed).

--basic: harmonics and flicker off on both sides (PQE `harmonics=False, flicker=False`,
which also drops its powers and unbalance; pqopen without harmonics/fluctuation, which
keeps its P and Q_t). pqengine does not expose switches for Urms(1/2), events or
aggregation, so those stay on in PQE and, to stay like for like, in pqopen too.

Second line, end to end (the old comparison, kept for reference): `pqe analyze` run as a
subprocess on the COMTRADE file (reading it, and writing every output incl. report.html,
event captures), against the same in-memory pqopen run.

--profile: run pqopen once under cProfile and print its top functions.
Excluded everywhere: generating the input and reading the COMTRADE file into numpy.
See `cargo bench -p pqe-benches --bench chain` for the Rust engine alone.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))

F_NOM = 50.0
UDIN = 230.0
# Highest harmonic order pqopen can do on this input (see the module docstring).
PQOPEN_HARMONICS = 50
PQE_HARMONICS = 63


# ------------------------------------------------------------------------------ PQE


def run_pqe(data: np.ndarray, names: list[str], fs: float, start: dt.datetime, basic: bool):
    import pqengine as pq

    rec = pq.Recording(data, fs, names, start=start)
    if basic:
        return pq.analyze(rec, nominal_voltage=UDIN, nominal_frequency=F_NOM, wiring="wye",
                          harmonics=False, flicker=False)
    return pq.analyze(rec, nominal_voltage=UDIN, nominal_frequency=F_NOM, wiring="wye")


def describe_pqe(a, basic: bool) -> tuple[str, str]:
    """(features, what came out) of a pqengine Analysis."""
    harm = sum(v.size for v in a.harmonics.values())
    iharm = sum(v.size for v in (a.interharmonics or {}).values())
    pst = [c for c in a.flicker.columns if c.startswith("Pst_")]
    kinds = {}
    for k in a.events["kind"] if a.events.rows else []:
        kinds[str(k)] = kinds.get(str(k), 0) + 1
    out = (f"{a.intervals.rows} intervals x {len(a.intervals.columns)} columns, "
           f"{harm} harmonic + {iharm} interharmonic subgroup values, "
           f"{a.frequency.rows} 10-s frequencies, {a.flicker.rows} flicker rows ({len(pst)} Pst), "
           f"events {kinds or 'none'}, "
           f"aggregates 3s/10min/2h: {a.aggregates('3s').rows}/{a.aggregates('10min').rows}/"
           f"{a.aggregates('2h').rows} rows")
    if basic:
        feat = ("10-cycle RMS, peak, CF, DC, under/over-dev, 10-s freq, Urms(1/2), "
                "dips/swells/interruptions/RVC, 3s/10min/2h aggregation, 10-min resync "
                "(harmonics, powers, unbalance, flicker off)")
    else:
        feat = (f"10-cycle RMS, peak, CF, DC, under/over-dev, H0-H{PQE_HARMONICS} + interharmonic "
                "subgroups, THD/THDS/THDG, TDD, K, phase angles, IEEE 1459 powers, unbalance, "
                "10-s freq, Urms(1/2), Pst/Plt, dips/swells/interruptions/RVC, "
                "3s/10min/2h aggregation, 10-min resync")
    return feat, out


# --------------------------------------------------------------------------- pqopen


@dataclass
class PqopenRun:
    ps: object
    values: int = 0                     # scalar output values in its channels
    per_interval: int = 0               # 10-cycle values of U_A RMS
    half_cycle: int = 0                 # Urms(1/2) values of U_A
    events: dict = field(default_factory=dict)   # id -> last Event
    aggregates: dict = field(default_factory=dict)  # interval_sec -> records stored
    stored_events: int = 0
    pinst: int = 0                      # instantaneous-flicker samples of phase A
    pst_timed: int = 0                  # Pst values reported during the run
    setup: tuple = (0.0, 0.0)           # (wall, CPU) s: buffers, PowerSystem, detectors, plans
    loop: tuple = (0.0, 0.0)            # (wall, CPU) s: feeding and processing the samples


def run_pqopen(data: np.ndarray, names: list[str], fs: float, start: dt.datetime, basic: bool,
               count: bool = True) -> PqopenRun:
    from daqopen.channelbuffer import AcqBuffer
    from pqopen.eventdetector import EventController, EventDetectorLevelHigh, EventDetectorLevelLow
    from pqopen.powersystem import PowerSystem

    from pqopen.storagecontroller import StorageController, StoragePlan, TestStorageEndpoint

    c0, t0 = time.process_time(), time.perf_counter()
    n = data.shape[1]
    bufs = {nm: AcqBuffer(size=n + 16, dtype=np.float64, name=nm) for nm in names}
    # pqopen's time channel holds integer µs (as daqopen's acquisition delivers them).
    tbuf = AcqBuffer(size=n + 16, dtype=np.int64, name="time")
    epoch_us = int(round(start.replace(tzinfo=dt.timezone.utc).timestamp() * 1e6))
    cycles = 10 if F_NOM == 50 else 12
    ps = PowerSystem(zcd_channel=bufs["U_A"], input_samplerate=fs, zcd_cutoff_freq=F_NOM,
                     zcd_threshold=0.01 * UDIN, nominal_frequency=F_NOM, nper=cycles)
    for p in "ABC":
        ps.add_phase(u_channel=bufs[f"U_{p}"], i_channel=bufs[f"I_{p}"], name=p)
    ps.enable_nper_abs_time_sync(tbuf, interval_sec=600)
    ps.enable_under_over_deviation_calculation(UDIN)
    if not basic:
        ps.enable_harmonic_calculation(PQOPEN_HARMONICS)
        ps.enable_fluctuation_calculation(UDIN, 600)

    events = EventController(tbuf, fs)
    storage = StorageController(tbuf, fs)
    endpoints = {}
    run = PqopenRun(ps=ps)

    def wire_up():
        # PowerSystem makes its output channels on its first process(); the event detectors
        # and the storage plans attach to them. One-cycle RMS refreshed every half cycle is
        # the IEC 61000-4-30 Urms(1/2).
        hyst = 0.02 * UDIN
        for p in "ABC":
            ch = ps.output_channels[f"U{p}_1p_hp_rms"]
            for cls, limit, kind in ((EventDetectorLevelLow, 0.90, "dip"),
                                     (EventDetectorLevelHigh, 1.10, "swell"),
                                     (EventDetectorLevelLow, 0.10, "interruption")):
                det = cls(limit * UDIN, hyst, ch)
                det._type = kind  # only the label its Events carry
                events.add_event_detector(det)
        for sec, chans in ((3, None), (10, ["Freq"]), (600, None), (7200, None)):
            ep = TestStorageEndpoint(f"mem{sec}", "bench")
            plan = StoragePlan(ep, start_timestamp_us=epoch_us, interval_seconds=sec,
                               storage_name=f"agg{sec}", store_events=(sec == 3))
            for name, chan in ps.output_channels.items():
                if chans is None or name in chans:
                    plan.add_channel(chan)
            storage.add_storage_plan(plan)
            endpoints[sec] = ep

    # Its first process() makes the output channels (buffers, flickermeters); done here so
    # that this setup is timed apart from the processing.
    ps._update_calc_channels()
    wire_up()
    c1, t1 = time.process_time(), time.perf_counter()
    run.setup = (t1 - t0, c1 - c0)

    block = int(fs)
    for s in range(0, n, block):
        e = min(n, s + block)
        for ci, nm in enumerate(names):
            bufs[nm].put_data(data[ci, s:e])
        tbuf.put_data(epoch_us + np.round(np.arange(s, e) * (1e6 / fs)).astype(np.int64))
        ps.process()
        new = events.process()
        storage.process_events(new)
        storage.process()
        for ev in new:
            run.events[ev.id] = ev
    run.loop = (time.perf_counter() - t1, time.process_time() - c1)
    if not count:
        return run

    # What it made (the timed runs pass count=False and skip this).
    for chan in ps.output_channels.values():
        vals, _ = chan.read_data_by_acq_sidx(0, n + 1)
        run.values += int(np.asarray(vals).size)
    run.per_interval = len(ps.output_channels["UA_rms"].read_data_by_acq_sidx(0, n + 1)[0])
    run.half_cycle = len(ps.output_channels["UA_1p_hp_rms"].read_data_by_acq_sidx(0, n + 1)[0])
    run.aggregates = {sec: len(ep._aggregated_data_list) for sec, ep in endpoints.items()}
    run.stored_events = len(endpoints[3]._event_list)
    if "UA_pst" in ps.output_channels:
        run.pst_timed = len(ps.output_channels["UA_pst"].read_data_by_acq_sidx(0, n + 1)[0])
        fl = ps._phases[0]._voltage_fluctuation_processor
        run.pinst = len(fl._pinst_channel.read_data_by_acq_sidx(0, n + 1)[0])
    return run


def describe_pqopen(run: PqopenRun, n: int, basic: bool) -> tuple[str, str]:
    kinds = {}
    for ev in run.events.values():
        kinds[ev.type] = kinds.get(ev.type, 0) + 1
    out = (f"{run.values} values in {len(run.ps.output_channels)} channels "
           f"({run.per_interval} 10-cycle intervals, {run.half_cycle} Urms(1/2) per phase), "
           f"per-phase events {kinds or 'none'} ({run.stored_events} stored), "
           f"aggregates 3s/10s-freq/10min/2h: {run.aggregates.get(3)}/{run.aggregates.get(10)}/"
           f"{run.aggregates.get(600)}/{run.aggregates.get(7200)} records")
    if not basic:
        fl = run.ps._phases[0]._voltage_fluctuation_processor
        pst = fl.calc_pst(0, n)
        out += (f", Pst in run: {run.pst_timed} (needs a full 10-min period), flickermeter A: "
                f"{run.pinst} Pinst samples, Pst over them (after the run) = "
                f"{'none' if pst is None else f'{pst:.2f}'}")
        feat = (f"10-cycle RMS, 1-cycle RMS, half-period RMS, Urms(1/2), under/over-dev, "
                f"H0-H{PQOPEN_HARMONICS} + interharmonics, THD, fundamental angles, P, Q_t, "
                f"P_H1/Q_H1, 1-cycle P, voltage slope, unbalance, per-cycle freq (10-s mean), "
                f"flickermeter/Pst, dips/swells/interruptions (per phase), "
                f"3s/10s/10min/2h aggregation, 10-min resync")
    else:
        feat = ("10-cycle RMS, 1-cycle RMS, half-period RMS, Urms(1/2), under/over-dev, P, Q_t, "
                "1-cycle P, voltage slope, per-cycle freq (10-s mean), "
                "dips/swells/interruptions (per phase), 3s/10s/10min/2h aggregation, 10-min resync "
                "(harmonics, unbalance, flicker off)")
    return feat, out


# ------------------------------------------------------------------------------- main


class Best:
    """Best (lowest wall time) of several runs, with the CPU time of that run."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.result = float("inf"), 0.0, None

    def time(self, fn) -> None:
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        self.add(time.perf_counter() - t0, time.process_time() - c0, result)

    def add(self, wall: float, cpu: float, result=None) -> None:
        if wall < self.wall:
            self.wall, self.cpu = wall, cpu
        self.result = result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pqe", default=str(ROOT / "target" / "release" / "pqe"),
                    help="the pqe binary (generates the input; the end-to-end line runs it)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs of each engine")
    ap.add_argument("--basic", action="store_true",
                    help="harmonics and flicker off on both sides")
    ap.add_argument("--profile", action="store_true",
                    help="also run pqopen once under cProfile and print its top functions")
    args = ap.parse_args()

    import reference_pq as ref

    scen = (ROOT / "datasets" / "scenarios" / "demo-30s.toml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "s.toml").write_text(scen)
        cfg = tmp / "rec.cfg"
        subprocess.run([args.pqe, "generate", "-f", tmp / "s.toml", cfg], check=True, capture_output=True)
        rec = ref.read_comtrade(cfg)
        data = np.ascontiguousarray(np.vstack([rec[nm] for nm in rec.names]), dtype=np.float64)
        names = list(rec.names)
        n = data.shape[1]
        samples = data.size

        cli = [args.pqe, "analyze", cfg, "--nominal-voltage", str(UDIN), "--nominal-frequency",
               str(F_NOM), "--wiring", "wye"] + (["--no-harmonics"] if args.basic else [])
        # Imports outside the timing; the three runs interleaved so that a change of machine
        # load hits them alike.
        import pqengine  # noqa: F401
        import pqopen.powersystem  # noqa: F401

        pqe, pqo, pqo_setup, end2end = Best(), Best(), Best(), Best()
        for k in range(args.repeat):
            pqe.time(lambda: run_pqe(data, names, rec.fs, rec.start, args.basic))
            r = run_pqopen(data, names, rec.fs, rec.start, args.basic, count=False)
            pqo.add(*r.loop)
            pqo_setup.add(*r.setup)
            end2end.time(lambda: subprocess.run(cli + ["--out", tmp / f"out{k}"], check=True,
                                                capture_output=True))
        check = run_pqopen(data, names, rec.fs, rec.start, args.basic)  # untimed: what it made

        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run_pqopen(data, names, rec.fs, rec.start, args.basic, count=False)
            prof.disable()

    mode = "basic (harmonics and flicker off)" if args.basic else "full chain"
    rate = {k: samples / b.wall for k, b in (("pqe", pqe), ("pqo", pqo), ("cli", end2end))}
    pqe_feat, pqe_out = describe_pqe(pqe.result, args.basic)
    pqo_feat, pqo_out = describe_pqopen(check, n, args.basic)
    print(f"input: demo-30s, {len(names)} channels x {n} samples at {rec.fs:g} Hz = {samples} samples "
          f"({n / rec.fs:g} s); mode: {mode}; best of {args.repeat}")
    print(f"PQE    pqengine.analyze, in memory:          {pqe.wall:8.4f} s {rate['pqe'] / 1e6:9.3f} M samples/s"
          f"  (CPU {pqe.cpu:.4f} s)")
    print(f"pqopen PowerSystem+events+storage, in memory: {pqo.wall:8.4f} s {rate['pqo'] / 1e6:9.3f} M samples/s"
          f"  (CPU {pqo.cpu:.4f} s; its setup, {pqo_setup.wall:.4f} s, not counted)")
    print(f"ratio PQE / pqopen-lib, {mode}, in memory, same process: {rate['pqe'] / rate['pqo']:.1f}x "
          f"(by CPU time: {pqo.cpu / pqe.cpu:.1f}x)")
    print(f"  PQE computed:    {pqe_feat}")
    print(f"  PQE produced:    {pqe_out}")
    print(f"  pqopen computed: {pqo_feat}")
    print(f"  pqopen produced: {pqo_out}")
    print(f"end to end (old comparison, not like for like): `pqe analyze` subprocess incl. reading "
          f"the COMTRADE file and writing every output"
          f"{' (--no-harmonics; flicker stays on)' if args.basic else ''}: {end2end.wall:.4f} s "
          f"{rate['cli'] / 1e6:.3f} M samples/s; vs the pqopen run above: "
          f"{rate['cli'] / rate['pqo']:.1f}x")

    if args.profile:
        print("\npqopen under cProfile (one run), top 25 by own time:")
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        print("pqopen under cProfile, top 15 by cumulative time:")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(15)


if __name__ == "__main__":
    main()
