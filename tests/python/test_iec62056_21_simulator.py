"""PQE's IEC 62056-21 meter simulator (tests/peers/iec62056_21_meter.py) proven against an
independent client first: the `iec62056-21` package (pwitab, BSD-3-Clause), over a fresh
socat pty pair per test. PQE's own client is then tested against the same simulator
(protocols/iec62056-21/tests)."""

import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest
from iec62056_21 import messages, utils
from iec62056_21.client import Iec6205621Client

REPO = pathlib.Path(__file__).resolve().parents[2]
SIM = REPO / "tests" / "peers" / "iec62056_21_meter.py"


@pytest.fixture
def meter(tmp_path):
    """A fresh pty pair and the simulator on one end; yields a function starting it with
    options and returning the other end's path."""
    assert shutil.which("socat"), "socat is missing: run scripts/setup.sh"
    a, b = tmp_path / "meter", tmp_path / "client"
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    procs = [socat]
    deadline = time.monotonic() + 10
    while not (a.exists() and b.exists()):
        assert time.monotonic() < deadline, "socat made no pty pair"
        time.sleep(0.02)

    def start(*opts):
        sim = subprocess.Popen([sys.executable, str(SIM), str(a), *opts], stdout=subprocess.PIPE, text=True)
        procs.append(sim)
        assert sim.stdout.readline().strip() == "READY"
        return str(b)

    yield start
    for p in reversed(procs):
        p.kill()
        p.wait()


def client(port):
    c = Iec6205621Client.with_serial_transport(port=port)
    c.transport.timeout = 5
    c.connect()
    return c


def test_mode_c_readout(meter):
    c = client(meter())
    readout = c.standard_readout()
    assert c.manufacturer_id == "PQe"
    assert c.switchover_baudrate == 9600
    values = {d.address: (d.value, d.unit) for d in readout.data}
    assert values["1.8.0"] == ("0012345.678", "kWh")
    assert values["32.7.0"] == ("230.1", "V")
    assert values["72.7.0"] == ("229.8", "V")
    assert values["14.7.0"] == ("50.00", "Hz")
    assert values["0.0.0"] == ("12345678", None)
    assert len(readout.data) == 13
    c.disconnect()


def test_partial_blocks_are_joined_by_the_client(meter):
    c = client(meter("--block-size", "40"))
    readout = c.standard_readout()
    values = {d.address: (d.value, d.unit) for d in readout.data}
    assert values["2.8.0"] == ("0000012.250", "kWh")
    assert len(readout.data) == 13
    c.disconnect()


def test_programming_mode_password_read_write_break(meter):
    c = client(meter("--password", "s3cret77"))
    pw_req = c.access_programming_mode()
    assert (pw_req.command, pw_req.command_type, pw_req.data_set.value) == ("P", 0, "12345678")
    # The package's send_password builds DataSet(value=...) without the required address
    # and fails; the same P1 message is built here with the package's own classes.
    p1 = messages.CommandMessage("P", 1, messages.DataSet(address="", value="s3cret77"))
    assert p1.to_bytes() == utils.add_bcc(b"\x01P1\x02(s3cret77)\x03")
    c.transport.send(p1.to_bytes())
    assert c._recv_ack() == "\x06"
    value = c.read_single_value("1.8.0", additional_data="")
    assert (value.address, value.value, value.unit) == ("1.8.0", "0012345.678", "kWh")
    c.write_single_value("0.9.1", "101500")
    assert c.read_single_value("0.9.1", additional_data="").value == "101500"
    with pytest.raises(ValueError, match="NACK"):
        c.write_single_value("1.8.0", "0")
    c.send_break()
    c.disconnect()


def test_wrong_password_is_refused(meter):
    c = client(meter("--password", "s3cret77"))
    c.access_programming_mode()
    c.transport.send(messages.CommandMessage("P", 1, messages.DataSet(address="", value="wrong")).to_bytes())
    assert c._recv_ack() == "\x15"
    c.disconnect()


def test_device_address_in_the_sign_on(meter):
    port = meter("--address", "45678903")
    # The client sends the address only on transports that need one: force it.
    c = client(port)
    c.transport.TRANSPORT_REQUIRES_ADDRESS = True
    c.device_address = "45678903"
    assert len(c.standard_readout().data) == 13
    c.disconnect()
