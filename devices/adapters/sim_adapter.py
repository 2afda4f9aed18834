#!/usr/bin/env python3
"""A sample PQE out-of-process adapter: a simulated three-phase meter input.

Standard library only. It speaks the protocol of docs/plugins.md ("Out-of-process
adapters"): handshake line, then length-prefixed frames on stdin/stdout; log lines on
stderr. URI parameters (sent in CONFIGURE):

  channels=6 rate=12800 amplitude=325.27 current=14.14 frequency=50 block=1280
  samples=0 (0: endless)  pace=realtime|max  start_ns=...  format=f32|i16|i32  scale=0.01

and, for PQE's fault tests, fault=KIND@N with KIND one of crash, hang, garbage, oversized,
truncated, lie, malformed, error (after N sample frames). Command-line flags for faults
before configuration: --garbage-before, --bad-version, --hang-before, --crash-before.

Licence: MIT OR Apache-2.0.
"""

import json
import math
import os
import signal
import struct
import sys
import threading
import time

COOKIE_KEY = "PQE_ADAPTER_MAGIC_COOKIE"
COOKIE_VALUE = "f1d3a5c7e9b24680pqe-adapter-v1"
VERSIONS_KEY = "PQE_ADAPTER_PROTOCOL_VERSIONS"
MY_VERSIONS = [1]

CONFIGURE, START, STOP, HEARTBEAT, ENUMERATE = 0x01, 0x02, 0x03, 0x04, 0x05
OK, STREAM_INFO, ERROR, SAMPLES, END, DEVICES = 0x80, 0x81, 0x82, 0x83, 0x85, 0x86

FORMATS = {"i16": (1, "h", 2), "i32": (2, "i", 4), "f32": (3, "f", 4)}
NAMES = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]

out = sys.stdout.buffer
inp = sys.stdin.buffer
out_lock = threading.Lock()


def log(msg):
    sys.stderr.write(f"sim_adapter: {msg}\n")
    sys.stderr.flush()


def send(kind, body=b""):
    with out_lock:
        out.write(struct.pack("<IB", len(body) + 1, kind))
        out.write(body)
        out.flush()


def send_json(kind, obj):
    send(kind, json.dumps(obj).encode())


def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = inp.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame():
    head = read_exact(5)
    if head is None:
        return None, None
    length, kind = struct.unpack("<IB", head)
    body = read_exact(length - 1) if length > 1 else b""
    if body is None:
        return None, None
    return kind, body


class Stream:
    def __init__(self, params):
        p = dict(params)
        self.channels = int(p.pop("channels", 6))
        self.rate = float(p.pop("rate", 12800))
        self.amplitude = float(p.pop("amplitude", 230 * math.sqrt(2)))
        self.current = float(p.pop("current", 10 * math.sqrt(2)))
        self.frequency = float(p.pop("frequency", 50))
        self.block = int(p.pop("block", 1280))
        self.total = int(p.pop("samples", 0))
        self.realtime = p.pop("pace", "realtime") == "realtime"
        self.start_ns = int(p.pop("start_ns", time.time_ns()))
        fmt = p.pop("format", "f32")
        self.scale = float(p.pop("scale", 1.0))
        fault = p.pop("fault", "")
        if p:
            raise ValueError(f"unknown parameter(s): {', '.join(sorted(p))}")
        if not 1 <= self.channels <= 64:
            raise ValueError(f"channels={self.channels}: give 1 to 64")
        if self.rate <= 0 or self.block < 1:
            raise ValueError("rate and block must be positive")
        if fmt not in FORMATS:
            raise ValueError(f"format={fmt}: give f32, i16 or i32")
        self.code, self.pack, self.size = FORMATS[fmt]
        self.fault, _, after = fault.partition("@")
        self.fault_after = int(after) if after else 0
        self.names = [NAMES[c] if c < 6 and self.channels >= 3 else
                      ("U_A" if c == 0 else f"CH{c + 1}") for c in range(self.channels)]
        self.next = 0
        self.sequence = 0
        self.cache = None

    def info(self):
        return {
            "channels": [{"name": n, "unit": "A" if n.startswith("I") else "V"} for n in self.names],
            "sample_rate": self.rate,
            "start_ns": self.start_ns,
        }

    def value(self, c, i):
        current = self.channels >= 3 and 3 <= c < 6
        amp = self.current if current else self.amplitude
        phi = -2 * math.pi / 3 * (c % 3) - (math.pi / 6 if current else 0)
        return amp * math.sin(2 * math.pi * self.frequency * i / self.rate + phi)

    def payload(self, first, n):
        # When a block holds whole cycles every full block is the same: build it once.
        cycles = n * self.frequency / self.rate
        whole = abs(cycles - round(cycles)) < 1e-9 and n == self.block
        start_cycles = first * self.frequency / self.rate
        aligned = abs(start_cycles - round(start_cycles)) < 1e-9
        if whole and aligned and self.cache is not None:
            return self.cache
        vals = []
        for i in range(first, first + n):
            for c in range(self.channels):
                v = self.value(c, i)
                vals.append(v if self.code == 3 else round(v / self.scale))
        data = struct.pack(f"<{len(vals)}{self.pack}", *vals)
        if whole and aligned:
            self.cache = data
        return data

    def packet(self):
        n = self.block
        if self.total:
            n = min(n, self.total - self.next)
        time_ns = self.start_ns + round(self.next * 1e9 / self.rate)
        last = 1 if self.total and self.next + n >= self.total else 0
        head = b"PQEs" + struct.pack("<BBHIIQqd", 1, self.code, self.channels, n, last,
                                     self.sequence, time_ns, self.rate)
        body = head + self.payload(self.next, n)
        self.next += n
        self.sequence += 1
        return body, last


def stream_loop(s, stop, heartbeat_s):
    t0 = time.monotonic()
    frames = 0
    last_sent = time.monotonic()
    while not stop.is_set():
        if s.total and s.next >= s.total:
            send(END)
            return
        if s.realtime:
            due = (time.monotonic() - t0) * s.rate
            if due < s.next + s.block:
                wait = (s.next + s.block - due) / s.rate
                if time.monotonic() - last_sent + wait > heartbeat_s:
                    send(HEARTBEAT)
                    last_sent = time.monotonic()
                time.sleep(min(wait, heartbeat_s / 2))
                continue
        if s.fault and frames >= s.fault_after:
            inject(s)
            return
        body, last = s.packet()
        send(SAMPLES, body)
        frames += 1
        last_sent = time.monotonic()
        if last:
            send(END)
            return


def inject(s):
    kind = s.fault
    log(f"injecting fault '{kind}'")
    if kind == "crash":
        os._exit(3)
    if kind == "hang":
        # the whole process stops (heartbeats included), as a wedged driver does
        os.kill(os.getpid(), signal.SIGSTOP)
    if kind == "garbage":
        with out_lock:
            out.write(b"Traceback (most recent call last): oops\n")
            out.flush()
    elif kind == "oversized":
        with out_lock:
            out.write(struct.pack("<IB", 1 << 30, SAMPLES))
            out.flush()
    elif kind == "truncated":
        body, _ = s.packet()
        with out_lock:
            out.write(struct.pack("<IB", len(body) + 1, SAMPLES) + body[: len(body) // 2])
            out.flush()
        os._exit(0)
    elif kind == "lie":
        body, _ = s.packet()
        lied = body[:8] + struct.pack("<I", s.block * 1000) + body[12:]
        send(SAMPLES, lied)
    elif kind == "malformed":
        body, _ = s.packet()
        send(SAMPLES, b"XXXX" + body[4:])
    elif kind == "error":
        send_json(ERROR, {"message": "ADC overrange on all channels"})
    # stay alive, silent, until PQE kills us
    while True:
        time.sleep(3600)


def main():
    args = sys.argv[1:]
    if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
        sys.stderr.write("This is a PQE adapter: PQE starts it (see docs/plugins.md).\n")
        return 1
    offered = [int(v) for v in os.environ.get(VERSIONS_KEY, "").split(",") if v.strip()]
    common = [v for v in MY_VERSIONS if v in offered]
    if not common:
        sys.stderr.write(f"no common protocol version: PQE offers {offered}, I speak {MY_VERSIONS}\n")
        return 1
    if "--crash-before" in args:
        return 2
    if "--hang-before" in args:
        os.kill(os.getpid(), signal.SIGSTOP)
    if "--garbage-before" in args:
        out.write(b"Loading vendor SDK v3.2...\n")
        out.flush()
    version = 99 if "--bad-version" in args else max(common)
    out.write(f"PQE-ADAPTER|{version}|simpy|0.1.0\n".encode())
    out.flush()
    log("handshake sent")

    stream = None
    stop = threading.Event()
    worker = None
    heartbeat_s = 1.0
    while True:
        kind, body = read_frame()
        if kind is None:
            log("PQE closed the pipe; exiting")
            stop.set()
            return 0
        if kind == CONFIGURE:
            try:
                req = json.loads(body)
                heartbeat_s = max(0.01, req.get("heartbeat_ms", 1000) / 1000)
                stream = Stream(req.get("params", {}))
                send_json(STREAM_INFO, stream.info())
            except (ValueError, KeyError) as e:
                send_json(ERROR, {"message": str(e)})
        elif kind == START:
            if stream is None:
                send_json(ERROR, {"message": "start before configure"})
                continue
            send(OK)
            stop.clear()
            worker = threading.Thread(target=stream_loop, args=(stream, stop, heartbeat_s), daemon=True)
            worker.start()
        elif kind == STOP:
            stop.set()
            if worker:
                worker.join()
            send(OK)
        elif kind == HEARTBEAT:
            send(HEARTBEAT)
        elif kind == ENUMERATE:
            send_json(DEVICES, [{"uri": "simpy://meter0", "description": "simulated three-phase input"}])
        else:
            send_json(ERROR, {"message": f"unknown frame type {kind:#04x}"})


if __name__ == "__main__":
    sys.exit(main())
