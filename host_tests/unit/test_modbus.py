# Modbus RTU master and the SDM630 meter driver against scripted UART bytes
# (fake `machine.UART` with an RS-485 driver-enable pin).
import asyncio
import os
import struct
import sys

import pytest

FAKES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes")


@pytest.fixture(autouse=True, scope="module")
def fake_machine():
    sys.path.insert(0, FAKES)
    import machine

    yield machine
    sys.path.remove(FAKES)
    sys.modules.pop("machine", None)
    sys.modules.pop("fake_ports", None)


from flexcharge.hal.drivers import modbus_rtu as mb  # noqa: E402
from flexcharge.hal.drivers.sdm630 import SDM630, SDM630Meter  # noqa: E402


def ref_crc16(data):
    # Independent table-driven CRC-16/MODBUS (reflected 0x8005, init 0xFFFF).
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


def test_crc16_known_vectors():
    assert mb.crc16(b"123456789") == 0x4B37  # CRC-16/MODBUS check value
    assert mb.frame(1, 3, bytes.fromhex("0000000A")) == bytes.fromhex("01030000000AC5CD")
    assert mb.frame(1, 4, bytes.fromhex("00000002")) == bytes.fromhex("01040000000271CB")
    for data in (b"", b"\x00", b"\xff" * 7, bytes(range(200))):
        assert mb.crc16(data) == ref_crc16(data)
    assert mb.crc_ok(bytes.fromhex("01030000000AC5CD"))
    assert not mb.crc_ok(bytes.fromhex("01030000000AC5CE"))


class Sdm630Slave:
    """Scripted SDM630: answers function 04 reads from a register image of floats."""

    def __init__(self, unit=1, values=None):
        self.unit = unit
        self.regs = {}
        self.requests = []
        self.corrupt_next = 0
        self.silent = False
        for addr, v in (values or {}).items():
            hi, lo = struct.unpack(">HH", struct.pack(">f", v))
            self.regs[addr] = hi
            self.regs[addr + 1] = lo

    def __call__(self, req):
        self.requests.append(req)
        assert ref_crc16(req[:-2]) == req[-2] | req[-1] << 8, "request CRC"
        if self.silent or req[0] != self.unit:
            return b""
        fn = req[1]
        addr, count = struct.unpack(">HH", req[2:6])
        if fn != 4 or any(a not in self.regs for a in range(addr, addr + count)):
            body = bytes((self.unit, fn | 0x80, 2))  # illegal data address
        else:
            data = b"".join(struct.pack(">H", self.regs[a]) for a in range(addr, addr + count))
            body = bytes((self.unit, fn, 2 * count)) + data
        c = ref_crc16(body)
        out = body + bytes((c & 0xFF, c >> 8))
        if self.corrupt_next:
            self.corrupt_next -= 1
            out = out[:-1] + bytes((out[-1] ^ 0x55,))
        return out


VALUES = {
    0x00: 231.5, 0x02: 229.75, 0x04: 230.25,  # V L1..L3
    0x06: 15.5, 0x08: 16.0, 0x0A: 14.25,  # A
    0x0C: 3588.25, 0x0E: 3676.0, 0x10: 3281.5,  # W per phase
    0x34: 10545.75,  # total W
    0x46: 50.0, 0x48: 1234.5, 0x4A: 2.25,  # Hz, import kWh, export kWh
}


def make_bus(machine, slave, timeout_ms=60):
    w = machine.use_port("rp2")
    u = machine.UART(1, baudrate=9600, tx=4, rx=5)
    u.de = 6
    u.responder = slave
    de = machine.Pin(6, machine.Pin.OUT, value=0)
    return w, u, mb.ModbusRTU(u, de, 9600, timeout_ms=timeout_ms)


def test_sdm630_decodes_registers(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    w, u, bus = make_bus(fake_machine, slave)
    v = asyncio.run(SDM630(bus, 1).read())
    assert v["voltage_v"] == (231.5, 229.75, 230.25)
    assert v["current_a"] == (15.5, 16.0, 14.25)
    assert v["power_phase_w"] == (3588.25, 3676.0, 3281.5)
    assert v["power_w"] == 10545.75
    assert v["energy_mwh"] == 1234500000 and isinstance(v["energy_mwh"], int)
    assert v["export_mwh"] == 2250000
    assert v["frequency_hz"] == 50.0
    # Exactly three input-register reads, byte for byte.
    assert u.sent == [mb.frame(1, 4, bytes.fromhex("00000012")),
                      mb.frame(1, 4, bytes.fromhex("00340002")),
                      mb.frame(1, 4, bytes.fromhex("00460006"))]
    assert u.de_errors == 0
    assert w.level(6) == 0  # bus released after each request


def test_single_phase_meter_trims_tuples(fake_machine):
    _, _, bus = make_bus(fake_machine, Sdm630Slave(3, VALUES))
    v = asyncio.run(SDM630(bus, 3, phases=1).read())
    assert v["voltage_v"] == (231.5,)
    assert v["current_a"] == (15.5,)


def test_exception_response_raises_code_without_retry(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    _, u, bus = make_bus(fake_machine, slave)
    with pytest.raises(mb.ModbusError) as e:
        asyncio.run(bus.read_registers(1, 0x0100, 2))
    assert e.value.code == 2
    assert len(u.sent) == 1


def test_timeout_is_retried_and_does_not_block_the_loop(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    slave.silent = True
    _, u, bus = make_bus(fake_machine, slave, timeout_ms=60)
    ticks = []

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep(0.005)

    async def go():
        t = asyncio.create_task(ticker())
        try:
            with pytest.raises(mb.ModbusTimeout):
                await bus.read_registers(1, 0, 2)
        finally:
            t.cancel()

    asyncio.run(go())
    assert len(u.sent) == 2  # one retry
    assert len(ticks) >= 10  # other tasks ran during the ~120 ms of waiting


def test_bad_crc_is_retried(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    slave.corrupt_next = 1
    _, u, bus = make_bus(fake_machine, slave)
    assert asyncio.run(bus.read_floats(1, 0x34, 1)) == (10545.75,)
    assert len(u.sent) == 2


def test_wrong_unit_answer_is_a_framing_error(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    _, u, bus = make_bus(fake_machine, slave)
    bus.retries = 0
    orig = slave.__call__

    def other_unit(req):
        r = bytearray(orig(req))
        body = bytes((2,)) + bytes(r[1:-2])
        c = ref_crc16(body)
        return body + bytes((c & 0xFF, c >> 8))

    u.responder = other_unit
    with pytest.raises(mb.ModbusError) as e:
        asyncio.run(bus.read_registers(1, 0x34, 2))
    assert e.value.code == 0


def test_stale_input_is_discarded(fake_machine):
    _, u, bus = make_bus(fake_machine, Sdm630Slave(1, VALUES))
    u.feed(b"\x01\x04\x02garbage")
    assert asyncio.run(bus.read_floats(1, 0x48, 1)) == (1234.5,)


def test_driver_enable_is_required(fake_machine):
    # If the shim never raised DE the transceiver would not drive the line.
    slave = Sdm630Slave(1, VALUES)
    w = fake_machine.use_port("rp2")
    u = fake_machine.UART(1, baudrate=9600, tx=4, rx=5)
    u.de = 6
    u.responder = slave
    bus = mb.ModbusRTU(u, None, 9600, timeout_ms=20, retries=0)
    with pytest.raises(mb.ModbusTimeout):
        asyncio.run(bus.read_registers(1, 0, 2))
    assert u.de_errors == 1 and slave.requests == []


def test_write_register_echo(fake_machine):
    def echo(req):
        return req

    _, u, bus = make_bus(fake_machine, echo)
    asyncio.run(bus.write_register(1, 0x000C, 0x0003))
    assert u.sent == [mb.frame(1, 6, bytes.fromhex("000C0003"))]


def test_meter_keeps_last_values_and_flags_stale(fake_machine):
    slave = Sdm630Slave(1, VALUES)
    _, _, bus = make_bus(fake_machine, slave, timeout_ms=20)
    m = SDM630Meter(SDM630(bus, 1))
    assert m.read()["stale"] is True
    assert asyncio.run(m.poll()) is True
    assert m.read()["energy_mwh"] == 1234500000 and m.read()["stale"] is False
    slave.silent = True
    assert asyncio.run(m.poll()) is False
    r = m.read()
    assert r["stale"] is True and r["energy_mwh"] == 1234500000 and m.errors == 1
