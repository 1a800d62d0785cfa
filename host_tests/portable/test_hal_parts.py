# The MCU-independent HAL parts (pilot, contactor, slot, Modbus RTU, MFRC522 CRC,
# clocks, LEDs) on both interpreters, with tiny inline stand-ins for the peripherals.
# The per-board tests against the fake `machine` module are host_tests/unit/test_boards.py.
import hashlib
import binascii

from support import raises, run, tmpdir
from flexcharge.hal import iec61851 as cp
from flexcharge.hal.pilot import PwmPilot
from flexcharge.hal.contactor import RelayContactor, WELDED
from flexcharge.hal.slot import FileSlot, SlotError
from flexcharge.hal.clock import RtcClock, TickClock
from flexcharge.hal.indicator import LedIndicator
from flexcharge.hal.drivers import modbus_rtu as mb
from flexcharge.hal.drivers.mfrc522 import crc_a
from flexcharge.hal.drivers.sdm630 import SDM630


class Pwm:
    def __init__(self):
        self.d = None
        self.f = None

    def duty_u16(self, v=None):
        if v is None:
            return self.d
        self.d = v

    def freq(self, f=None):
        if f is None:
            return self.f
        self.f = f


class Out:
    def __init__(self, v=0):
        self.v = v

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


def test_pilot_duty_and_states():
    pwm = Pwm()
    levels = [9.0]
    n = [0]

    def adc():
        # 3.3 V ADC, CP -12..12 V -> 0..3.3 V; every 4th sample in the low phase.
        n[0] += 1
        v = levels[0] if n[0] % 4 else -12.0
        return (v + 12) * 3.3 / 24

    p = PwmPilot(pwm, adc, 24 / 3.3, -12, samples=16)
    assert pwm.f == 1000 and pwm.d == 65535
    p.offer(16)
    assert pwm.d == cp.duty_u16(16 / 0.6) and p.offered() == 16
    assert p.state() == "B" and p.diode_ok()
    levels[0] = 6.0
    assert p.state() == "C"
    p.limit = lambda: 10
    p.offer(32)
    assert p.offered() == 10 and pwm.d == cp.duty_u16(10 / 0.6)
    p.disable()
    assert pwm.d == 0 and p.duty() == 0


def test_contactor_welding_without_settle_time():
    relay, fb = Out(), Out(0)
    k = RelayContactor(relay, fb, on_level=1, fb_closed_level=1, settle_ms=0)
    k.close()
    assert relay.v == 1 and k.check() == "ContactorFailure"
    fb.v = 1
    assert k.check() is None and k.is_closed()
    k.open()
    assert relay.v == 0 and k.welded() and k.check() == WELDED


def test_firmware_slot_cycle():
    root = tmpdir("slot")
    s = FileSlot(root, max_tries=2)
    img = b"firmware-image" * 100
    s.begin("2.0.0", len(img))
    s.write(img[:700])
    s.write(img[700:])
    size, digest = s.finish()
    want = binascii.hexlify(hashlib.sha256(img).digest()).decode()
    assert size == len(img) and digest == want
    assert s.verify(want) and not s.verify("00" * 32)
    s.mark_pending()
    with raises(SlotError):
        s.begin("2.0.1")
    s = FileSlot(root, max_tries=2)  # reboot into the new image: two tries, then rollback
    assert s.boot() == "trial"
    s = FileSlot(root, max_tries=2)
    assert s.boot() == "trial"
    s = FileSlot(root, max_tries=2)
    assert s.boot() == "rollback" and s.pending() is None and s.active() == "a"


class Uart:
    """Scripted serial line: answers each request frame through `reply`."""

    def __init__(self, reply):
        self.reply = reply
        self.rx = b""
        self.sent = []

    def write(self, b):
        self.sent.append(bytes(b))
        self.rx += self.reply(bytes(b))

    def flush(self):
        pass

    def any(self):
        return len(self.rx)

    def read(self, n):
        r = self.rx[:n]
        self.rx = self.rx[n:]
        return r


def test_modbus_crc_and_float_read():
    assert mb.crc16(b"123456789") == 0x4B37
    assert mb.frame(1, 3, b"\x00\x00\x00\x0a")[-2:] == b"\xc5\xcd"
    f = 230.5
    import struct

    raw = struct.pack(">f", f)

    def reply(req):
        count = req[5]
        return mb.frame(req[0], 4, bytes((2 * count,)) + raw * (count // 2))

    bus = mb.ModbusRTU(Uart(reply), Out(), 9600, timeout_ms=50)
    assert run(bus.read_floats(1, 0x48, 1)) == (230.5,)
    v = run(SDM630(bus, 1).read())
    assert v["energy_mwh"] == 230500000 and v["voltage_v"] == (230.5, 230.5, 230.5)


def test_modbus_timeout():
    bus = mb.ModbusRTU(Uart(lambda req: b""), None, 9600, timeout_ms=20, retries=0)
    with raises(mb.ModbusTimeout):
        run(bus.read_registers(1, 0, 2))


def test_crc_a():
    assert crc_a(b"\x50\x00") == b"\x57\xcd"


class Rtc:
    def __init__(self):
        self.t = (2000, 1, 1, 5, 0, 0, 0, 0)

    def datetime(self, t=None):
        if t is None:
            return self.t
        self.t = t


def test_clocks():
    r = Rtc()
    c = RtcClock(r)
    c.set(1700000000)
    assert r.t == (2023, 11, 14, 1, 22, 13, 20, 0)
    assert c.now() == 1700000000
    t = TickClock(1000)
    assert 1000 <= t.now() <= 1001
    t.set(1700000000)
    assert t.now() in (1700000000, 1700000001)


def test_leds():
    leds = {"power": Out(), "net": Out(), "charge": Out(), "fault": Out()}
    ind = LedIndicator(leds, on_level=0)
    assert leds["power"].v == 0 and leds["net"].v == 1
    ind.report("connected", {})
    ind.report("status", {"evse": 1, "connector": 1, "status": "Faulted"})
    assert leds["net"].v == 0 and leds["fault"].v == 0
    ind.report("status", {"evse": 1, "connector": 1, "status": "Available"})
    assert leds["fault"].v == 1
