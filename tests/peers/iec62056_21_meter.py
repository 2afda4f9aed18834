"""An IEC 62056-21 meter simulator on a serial port (a pty end in tests), written for PQE.

    python iec62056_21_meter.py PORT [--address A] [--mode A|B|C|D|E] [--password PW]
                                     [--block-size N] [--bad-bcc] [--stall-after N]
                                     [--reaction-ms MS] [--switch-ms MS]

It speaks IEC 62056-21:2002 as a tariff device: waits for the sign-on `/?[address]!CRLF` at
300 baud 7E1, answers with the identification `/PQe5\\2PQESIM01CRLF` (manufacturer "PQe":
third letter lower case -> 20 ms minimum reaction time; baud character 5 = 9600 in modes
C and E, 'E' = 9600 in mode B; `\\2` = mode E capable), then, by mode:
  A: the readout at 300 baud; B: the readout at 9600 baud; D: the readout at 2400 baud;
  C/E: waits for the option select `ACK V Z Y CRLF`: Y=0 readout at the baud of Z,
  Y=1 programming mode (P0 operand, then P1 password, R1 reads, W1 writes, B0 break),
  Y=2 (mode E) binary mode at the baud of Z, 8N1: every byte received is echoed back (an
  HDLC loopback standing in for the DLMS layer).
The readout is sent in partial blocks (STX ... EOT BCC, each acknowledged with ACK, NAK
repeats) when --block-size is given. Fault injection: --bad-bcc corrupts every BCC,
--stall-after N stops sending after N bytes of the readout. Prints READY once the port is
open. Each session ends with B0 or after 5 s of silence (then back to 300 baud).
"""

import argparse
import sys
import time

import serial

SOH, STX, ETX, EOT, ACK, NAK = b"\x01", b"\x02", b"\x03", b"\x04", b"\x06", b"\x15"
IDENT = b"/PQe5\\2PQESIM01\r\n"
BAUD_C = {b"0": 300, b"1": 600, b"2": 1200, b"3": 2400, b"4": 4800, b"5": 9600, b"6": 19200}

READOUT = [
    b"0.0.0(12345678)",
    b"1.8.0(0012345.678*kWh)",
    b"1.8.1(0008000.000*kWh)",
    b"1.8.2(0004345.678*kWh)",
    b"2.8.0(0000012.250*kWh)",
    b"32.7.0(230.1*V)52.7.0(231.2*V)72.7.0(229.8*V)",
    b"31.7.0(5.00*A)",
    b"14.7.0(50.00*Hz)",
    b"0.9.1(123456)",
    b"0.9.2(261207)",
    b"F.F(00000000)",
]
REGISTERS = {b"1.8.0": b"0012345.678*kWh", b"0.9.1": b"123456", b"0.0.0": b"12345678", b"C.1.0": b"1234"}
WRITABLE = {b"0.9.1", b"C.1.0"}


def bcc(data: bytes) -> bytes:
    x = 0
    for b in data:
        x ^= b & 0x7F
    return bytes([x])


class Meter:
    def __init__(self, args):
        self.a = args
        # A pty carries bytes whatever the character frame, and Linux ptys refuse some
        # 7E1 reconfigurations (EINVAL): the simulator keeps its end at 8N1 and changes only
        # the baud rate, which a pty accepts (and ignores). The bytes it sends are 7-bit.
        self.port = serial.Serial(args.port, 300, bytesize=8, parity="N", stopbits=1, timeout=0.05)
        self.pending = b""

    def read1(self) -> bytes:
        if self.pending:
            b, self.pending = self.pending, b""
            return b
        return self.port.read(1)

    def line(self, baud):
        if self.port.baudrate != baud:
            self.port.baudrate = baud

    def send(self, data: bytes):
        time.sleep(self.a.reaction_ms / 1000)
        self.port.write(data)
        self.port.flush()

    def message(self, head: bytes, body: bytes, end: bytes = ETX) -> bytes:
        m = head + body + end
        c = bcc(m[1:])
        if self.a.bad_bcc:
            c = bytes([c[0] ^ 0x55])
        return m + c

    def read_until(self, end: bytes, first=None, timeout=5.0) -> bytes:
        buf = b""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            b = self.read1()
            if not b:
                continue
            if first is not None and not buf and b not in first:
                continue  # noise before a start character
            buf += b
            if buf.endswith(end):
                return buf
        return b""

    def read_command(self) -> bytes:
        """SOH ... ETX BCC, or a single ACK/NAK."""
        t0 = time.monotonic()
        buf = b""
        while time.monotonic() - t0 < 5.0:
            b = self.read1()
            if not b:
                continue
            if not buf and b in (ACK, NAK):
                return b
            if not buf and b != SOH:
                continue
            buf += b
            if b == ETX:
                c = self.port.read(1)
                return buf + c
        return b""

    def readout(self):
        data = b"".join(l + b"\r\n" for l in READOUT) + b"!\r\n"
        if self.a.stall_after is not None:
            msg = self.message(STX, data)
            self.send(msg[: self.a.stall_after])
            time.sleep(3)
            return
        if not self.a.block_size:
            # The reader may ask for the message again with NAK (at most 3 repetitions).
            for _ in range(4):
                self.send(self.message(STX, data))
                if not self.await_nak():
                    return
            return
        # Partial blocks of whole data lines (at most --block-size bytes unless one line is
        # longer), the line end after a partial block's last line left out: the receiver
        # puts the blocks back together at line boundaries.
        blocks, cur = [], b""
        for l in READOUT:
            if cur and len(cur) + 2 + len(l) > self.a.block_size:
                blocks.append(cur)
                cur = b""
            cur = cur + b"\r\n" + l if cur else l
        blocks.append(cur + b"\r\n!\r\n")
        for k, blk in enumerate(blocks):
            last = k == len(blocks) - 1
            msg = self.message(STX, blk, ETX if last else EOT)
            for _ in range(3):
                self.send(msg)
                if last:
                    return
                ans = self.read_command()
                if ans == ACK:
                    break
                if ans != NAK:
                    return

    def await_nak(self, wait=1.0) -> bool:
        """Whether a NAK arrives within `wait` s; another byte is kept for the next read."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait:
            b = self.read1()
            if b == NAK:
                return True
            if b:
                self.pending = b
                return False
        return False

    def programming(self):
        self.send(self.message(SOH + b"P0" + STX, b"(12345678)"))
        authorised = False
        while True:
            cmd = self.read_command()
            if not cmd:
                return
            if bcc(cmd[1:-1]) != cmd[-1:]:
                self.send(NAK)
                continue
            kind, body = cmd[1:3], cmd[3:-2]
            if kind == b"B0":
                return
            if kind in (b"P1", b"P2"):
                authorised = body == STX + b"(" + self.a.password.encode() + b")"
                self.send(ACK if authorised else NAK)
                continue
            if not authorised:
                self.send(self.message(STX, b"(ERROR)"))
                continue
            addr = body[1:].split(b"(")[0]
            if kind == b"R1":
                if addr in REGISTERS:
                    self.send(self.message(STX, addr + b"(" + REGISTERS[addr] + b")"))
                else:
                    self.send(self.message(STX, b"(ERROR)"))
            elif kind == b"W1":
                if addr in WRITABLE:
                    REGISTERS[addr] = body[1:].split(b"(")[1].rstrip(b")")
                    self.send(ACK)
                else:
                    self.send(NAK)
            else:
                self.send(self.message(STX, b"(ERROR)"))

    def binary_loopback(self, baud):
        self.line(baud)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5.0:
            b = self.port.read(256)
            if b:
                self.port.write(b)
                t0 = time.monotonic()

    def session(self):
        req = self.read_until(b"!\r\n", first=b"/", timeout=3600)
        if not req:
            return
        addr = req[2:-3]
        if self.a.address and addr not in (b"", self.a.address.encode()):
            return  # not for us: stay silent
        mode = self.a.mode
        ident = IDENT.replace(b"5", b"E", 1) if mode == "B" else IDENT.replace(b"5", b"3", 1) if mode == "D" else IDENT
        self.send(ident)
        if mode == "A":
            self.readout()
            return
        if mode in "BD":
            self.line(9600 if mode == "B" else 2400)
            self.readout()
            return
        opt = self.read_until(b"\r\n", first=ACK, timeout=5)
        if len(opt) != 6:
            return
        baud = BAUD_C.get(opt[2:3])
        if baud is None:
            return
        y = opt[3:4]
        if y == b"2":
            if mode != "E":
                return
            # No answer: both sides change to binary mode (HDLC, 8N1) at the baud of Z.
            self.binary_loopback(baud)
            return
        self.line(baud)
        # The first message after the switch-over comes late in the 200..1500 ms reaction
        # window: the pwitab client reopens its port 0.5 s after the option select, which
        # flushes anything that arrived before.
        time.sleep(self.a.switch_ms / 1000)
        if y == b"0":
            self.readout()
        elif y == b"1":
            self.programming()

    def run(self):
        print("READY", flush=True)
        while True:
            self.line(300)
            self.session()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port")
    p.add_argument("--address", default="")
    p.add_argument("--mode", default="C", choices=list("ABCDE"))
    p.add_argument("--password", default="00000000")
    p.add_argument("--block-size", type=int, default=0)
    p.add_argument("--bad-bcc", action="store_true")
    p.add_argument("--stall-after", type=int)
    p.add_argument("--reaction-ms", type=float, default=30.0)
    p.add_argument("--switch-ms", type=float, default=700.0)
    Meter(p.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
