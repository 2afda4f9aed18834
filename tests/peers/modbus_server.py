"""A Modbus server for PQE's tests: pymodbus 3.16's simulator (nobody here wrote it).

    python modbus_server.py tcp                  # serves on 127.0.0.1:<n>, then prints "PORT <n>"
    python modbus_server.py rtu PTY [9600/8N1]   # serves Modbus RTU on a pty, then prints "READY"

Unit 1 holds a three-phase meter laid out like the Eastron SDM630 input registers
(voltages, currents, powers, frequency, energies; values below) and holding registers with
one value of each type PQE reads. Unit 1 only: requests to other units go unanswered.
Addresses not listed answer exception 02 (illegal data address).
"""

import asyncio
import socket
import sys

from pymodbus import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

F32 = DataType.FLOAT32

# Input registers (FC04), SDM630 addresses (0-based PDU address = 3xxxx - 30001).
INPUT = [
    SimData(
        address=0x0000,
        values=[
            230.1, 231.2, 229.8,        # U L1..L3 (V)
            5.0, 4.5, 6.25,             # I L1..L3 (A)
            1100.0, 1000.0, 1400.0,     # P L1..L3 (W)
            1150.5, 1040.4, 1436.3,     # S L1..L3 (VA)
            -335.0, 285.0, 320.0,       # Q L1..L3 (var)
            0.956, 0.961, 0.975,        # PF L1..L3
        ],
        datatype=F32,
    ),
    SimData(address=0x0034, values=3500.0, datatype=F32),                  # total P (W)
    SimData(address=0x0038, values=3627.2, datatype=F32),                  # total S (VA)
    SimData(address=0x003C, values=[270.0, 0.965], datatype=F32),          # total Q (var), PF
    SimData(address=0x0046, values=[50.0, 12000.5, 12.25], datatype=F32),  # f (Hz), import, export (kWh)
    SimData(address=0x0156, values=12345.678, datatype=F32),               # total active energy (kWh)
]

# Holding registers (FC03/06/16): one value of each type, and writable scratch registers.
HOLDING = [
    SimData(address=0, values=[1, 2], datatype=DataType.REGISTERS),
    SimData(address=10, values=123456789, datatype=DataType.UINT32),
    SimData(address=20, values=-5, datatype=DataType.INT16),
    SimData(address=21, values=65000, datatype=DataType.UINT16),
    SimData(address=30, values=12345678901234, datatype=DataType.UINT64),
    SimData(address=40, values=-1234.5678, datatype=DataType.FLOAT64),
    SimData(address=50, values=-100000, datatype=DataType.INT32),
    # f32 230.1 stored low word first (word_order=little)
    SimData(address=60, values=[0x199A, 0x4366], datatype=DataType.REGISTERS),
    SimData(address=100, count=10, values=0, datatype=DataType.REGISTERS),
]

# Coils and discrete inputs are not used; pymodbus wants each block non-empty.
BITS = [SimData(address=0, values=[False] * 16, datatype=DataType.BITS)]
DEVICE = SimDevice(id=1, simdata=(BITS, BITS, HOLDING, INPUT))


async def main() -> None:
    if sys.argv[1] == "tcp":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        server = ModbusTcpServer(DEVICE, address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        print(f"PORT {port}", flush=True)
    elif sys.argv[1] == "rtu":
        line = sys.argv[3] if len(sys.argv) > 3 else "9600/8N1"
        baud, frame = line.split("/")
        server = ModbusSerialServer(
            DEVICE,
            framer=FramerType.RTU,
            port=sys.argv[2],
            baudrate=int(baud),
            bytesize=int(frame[0]),
            parity=frame[1],
            stopbits=int(frame[2]),
        )
        await server.serve_forever(background=True)
        print("READY", flush=True)
    else:
        sys.exit(f"usage: {sys.argv[0]} tcp | rtu PTY [9600/8N1]")
    await server.serving


asyncio.run(main())
