"""pqengine.meter against a real peer nobody here wrote: the pymodbus 3.16 server
(tests/peers/modbus_server.py, started here, one per test) over Modbus TCP on loopback.
Values come back with units, in the order asked for; failures are Python exceptions that
name the fault; every read has a deadline. A missing pymodbus fails the test."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pqengine as pq

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def modbus_server():
    """The pymodbus TCP server; yields its port."""
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "peers" / "modbus_server.py"), "tcp"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = p.stdout.readline()
        assert line.startswith("PORT "), f"pymodbus server did not start (said {line!r})"
        port = int(line.split()[1])
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"pymodbus not listening on {port}"
                time.sleep(0.05)
        yield port
    finally:
        p.kill()
        p.wait()


def f32(x):
    """x as the nearest binary32 (what an f32 register holds), as a Python float."""
    import struct

    return struct.unpack(">f", struct.pack(">f", x))[0]


def test_read_values_with_units(modbus_server):
    uri = f"modbus-tcp://127.0.0.1:{modbus_server}?unit=1"
    with pq.meter(uri, map="sdm630") as m:
        got = m.read("U_L1", "ir:0x0156:f32", "1-0:32.7.0*255", ["hr:20:i16", "hr:10:u32"])
        assert m.is_open
    assert not m.is_open
    # The peer holds 230.1 V and 12345.678 kWh as binary32; they are given at binary32
    # precision (the shortest decimal that round-trips the f32), as `pqe meter read` does.
    assert got[0] == pq.MeterValue("U_L1", 230.1, "V")
    assert f32(got[0].value) == f32(230.1)
    assert got[1] == ("ir:342:f32", 12345.678, "")
    assert got[2] == ("U_L1", 230.1, "V")  # the OBIS code the map gives U_L1
    assert got[3] == ("hr:20:i16", -5.0, "")
    assert got[4] == ("hr:10:u32", 123456789.0, "")
    assert all(isinstance(v, pq.MeterValue) for v in got)


def test_read_everything_the_map_gives(modbus_server):
    with pq.meter(f"modbus-tcp://127.0.0.1:{modbus_server}?unit=1", map="sdm630") as m:
        values = {v.id: v for v in m.read()}
    assert values["f"].value == 50.0 and values["f"].unit == "Hz"
    assert values["E_total"].value == 12345.678 and values["E_total"].unit == "kWh"
    assert values["I_L3"].value == 6.25 and values["I_L3"].unit == "A"


def test_exception_names_the_fault(modbus_server):
    with pq.meter(f"modbus-tcp://127.0.0.1:{modbus_server}?unit=1") as m:
        with pytest.raises(pq.MeterError, match="exception 02 illegal data address") as e:
            m.read("ir:0x2000:u16")
        assert isinstance(e.value, pq.PqeError)
        # The link stays usable after a refusal.
        assert m.read("hr:21:u16") == [("hr:21:u16", 65000.0, "")]
        with pytest.raises(ValueError, match="register 'hr:0:u17': TYPE must be"):
            m.read("hr:0:u17")
        with pytest.raises(ValueError, match="selector 'not a selector'"):
            m.read("not a selector")


def test_trace_is_written_and_judged(modbus_server, tmp_path, run_pqe):
    trace = tmp_path / "t.jsonl"
    with pq.meter(f"modbus-tcp://127.0.0.1:{modbus_server}?unit=1", trace=trace) as m:
        m.read("hr:30:u64", "hr:40:f64")
    lines = trace.read_text().splitlines()
    assert json.loads(lines[0])["scheme"] == "modbus-tcp"
    assert len(lines) == 1 + 4, lines  # header, then request and answer per read
    out = run_pqe("meter", "analyse", trace).stdout
    assert "verdict: Pass" in out


def test_a_silent_peer_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    t0 = time.monotonic()
    with pq.meter(f"modbus-tcp://127.0.0.1:{port}?unit=1&timeout_ms=300&retries=1") as m:
        with pytest.raises(pq.MeterError, match="timeout"):
            m.read("hr:0:u16")
    assert time.monotonic() - t0 < 10
    listener.close()


def test_nobody_listening_is_a_meter_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(pq.MeterError, match=f"127.0.0.1:{port}"):
        pq.meter(f"modbus-tcp://127.0.0.1:{port}?unit=1")


def test_bad_uris_and_secrets_as_values_are_value_errors(monkeypatch):
    with pytest.raises(ValueError, match="no scheme"):
        pq.meter("127.0.0.1:502")
    with pytest.raises(ValueError, match="not-a-protocol"):
        pq.meter("not-a-protocol://127.0.0.1:1")
    with pytest.raises(ValueError) as e:
        pq.meter("dlms+tcp://127.0.0.1:4059?auth=lls&secret=Hunter2-Secret")
    assert "Hunter2-Secret" not in str(e.value) and "env:VAR" in str(e.value)
    with pytest.raises(TypeError):
        pq.meter(502)
