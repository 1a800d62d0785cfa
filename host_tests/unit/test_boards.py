# Every board's HAL shims under CPython against the fake `machine` module
# (host_tests/fakes), which refuses what the real port would refuse: pins that do not
# exist or cannot do ADC/PWM, bus pins a port does not take, WDT timeouts beyond the
# hardware, reset-cause constants by their port-specific values.
import asyncio
import importlib
import json
import os
import struct
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKES = os.path.join(ROOT, "host_tests", "fakes")
BOARDS = ("esp32", "stm32", "rp2", "nrf", "samd", "mimxrt", "psoc6", "renesas_ra")


@pytest.fixture(autouse=True, scope="module")
def fake_modules():
    sys.path.insert(0, FAKES)
    import machine

    yield machine
    sys.path.remove(FAKES)
    for m in ("machine", "pyb", "fake_ports", "board", "pins"):
        sys.modules.pop(m, None)


import flexcharge.hal.connector as connector_mod  # noqa: E402
import flexcharge.hal.contactor as contactor_mod  # noqa: E402
import flexcharge.hal.mcu as mcu_mod  # noqa: E402
from flexcharge.hal import contactor as K  # noqa: E402
from flexcharge.hal.drivers.mfrc522 import crc_a  # noqa: E402


def load_board(name, **port_overrides):
    """Import boards/<name>/board.py (and its pins.py) fresh, on a fresh fake world."""
    import machine

    machine.use_port(name, **port_overrides)
    for m in ("board", "pins"):
        sys.modules.pop(m, None)
    d = os.path.join(ROOT, "boards", name)
    sys.path.insert(0, d)
    try:
        board = importlib.import_module("board")
        pins = importlib.import_module("pins")
    finally:
        sys.path.remove(d)
    return board, pins, machine.world


def config(max_current=32, n=1):
    return {"identity": "t", "csms_url": "ws://x", "evses": [
        {"id": i + 1, "connectors": 1, "max_current": max_current, "phases": 3, "voltage": 230} for i in range(n)]}


class Clock:
    def __init__(self):
        self.t = 1000

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    for mod in (contactor_mod, connector_mod, mcu_mod):
        monkeypatch.setattr(mod, "ticks_ms", c)
    return c


class CpLine:
    """The EV and the CP wiring: volts at the CP ADC pin, following the board's PWM.
    Successive ADC reads advance 37 us along the 1 ms PWM period."""

    LEVEL = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0}

    def __init__(self, world, pins, evse=0):
        self.w = world
        self.pins = pins
        self.p = pins.EVSES[evse]
        self.state = "A"
        self.diode = True
        self.force = None
        self.n = 0
        world.analog[self.p["cp_adc"]] = self.adc_volts

    def cp_volts(self):
        if self.force is not None:
            return self.force
        if self.state == "E":
            return 0.0  # CP shorted to PE
        pwm = self.w.pwms[self.p["cp_pwm"]]
        self.n += 1
        high = (self.n * 37 % 1000) < pwm.duty_u16() * 1000 / 65535
        level = self.LEVEL[self.state]
        if high:
            return level
        return -12.0 if self.diode else -level

    def adc_volts(self):
        return (self.cp_volts() - self.pins.CP_OFFSET) / self.pins.CP_GAIN


def set_pp(world, pins, ohms, evse=0):
    """Cable in the socket with this PP coding resistor (None: no cable)."""
    key = pins.EVSES[evse]["pp_adc"]
    if ohms is None:
        world.analog[key] = pins.PP_SUPPLY
    else:
        world.analog[key] = pins.PP_SUPPLY * ohms / (ohms + pins.PP_PULLUP)


def make(name, tmp_path, max_current=32, **over):
    board, pins, w = load_board(name, **over)
    b = board.make_board(config(max_current), root=str(tmp_path))
    events = []
    b.listener = lambda kind, data: events.append((kind, data))
    line = CpLine(w, pins)
    set_pp(w, pins, None)
    p = pins.EVSES[0]  # idle world: contactor open, lock open, RCD healthy
    w.inputs[p["relay_fb"]] = 1 - pins.RELAY_FB_CLOSED
    w.inputs[p["lock_fb"]] = 1 - pins.LOCK_FB_LOCKED
    w.inputs[p["rcd"]] = 1 - pins.RCD_TRIP
    return b, pins, w, line, events, board


@pytest.mark.parametrize("name", BOARDS)
def test_pilot_states_a_to_f(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path)
    pilot = b.pilots[1]
    for offer in (0, 16):  # steady +12 V, then PWM at 26.7 %
        pilot.offer(offer)
        for st in ("A", "B", "C", "D", "E", "A"):
            line.state = st
            assert pilot.state() == st, (name, offer, st)
    line.force = -12.0  # line held at -12 V
    assert pilot.state() == "F"
    line.force = None
    line.state = "B"
    pilot.disable()  # the EVSE itself signals F
    assert w.pwms[pins.EVSES[0]["cp_pwm"]].duty_u16() == 0
    assert pilot.state() == "F"


@pytest.mark.parametrize("name", BOARDS)
def test_duty_for_offered_current(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path, max_current=80)
    set_pp(w, pins, 100)  # 63 A cable
    pwm = w.pwms[pins.EVSES[0]["cp_pwm"]]
    assert pwm.freq() == 1000
    assert pwm.duty_u16() == 65535  # boots at steady +12 V
    pilot = b.pilots[1]
    for amps, pct in ((6, 10.0), (10, 16.667), (16, 26.667), (32, 53.333), (63, 89.2)):
        pilot.offer(amps)
        assert abs(pwm.duty_u16() * 100 / 65535 - pct) < 0.01, (name, amps, pwm.duty_u16())
        assert pilot.offered() == amps
    pilot.offer(5)
    assert pwm.duty_u16() == 65535 and pilot.offered() == 0
    assert pwm.freq() == 1000


@pytest.mark.parametrize("name", BOARDS)
def test_offer_limited_by_cable_and_evse_rating(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path, max_current=32)
    pwm = w.pwms[pins.EVSES[0]["cp_pwm"]]
    set_pp(w, pins, 1500)  # 13 A cable
    assert b.connectors[(1, 1)].cable_current() == 13
    b.pilots[1].offer(32)
    assert abs(pwm.duty_u16() * 100 / 65535 - 13 / 0.6) < 0.01
    set_pp(w, pins, 100)  # 63 A cable, EVSE rated 32 A
    b.pilots[1].offer(63)
    assert abs(pwm.duty_u16() * 100 / 65535 - 32 / 0.6) < 0.01
    set_pp(w, pins, None)  # no cable: nothing may be offered
    b.pilots[1].offer(16)
    assert pwm.duty_u16() == 65535


@pytest.mark.parametrize("name", BOARDS)
def test_contactor_feedback_and_welding(name, tmp_path, clock):
    b, pins, w, line, events, _ = make(name, tmp_path)
    p = pins.EVSES[0]
    k = b.contactors[1]
    conn = b.connectors[(1, 1)]
    closed, opened = pins.RELAY_FB_CLOSED, 1 - pins.RELAY_FB_CLOSED
    w.inputs[p["relay_fb"]] = opened
    assert w.level(p["relay"]) == 1 - pins.RELAY_ON
    k.close()
    assert w.level(p["relay"]) == pins.RELAY_ON
    assert k.check() is None  # settling
    clock.t += 500
    assert k.check() == K.NOT_CLOSED  # coil energised, mirror contact still open
    w.inputs[p["relay_fb"]] = closed
    assert k.check() is None and k.is_closed()
    k.open()
    assert w.level(p["relay"]) == 1 - pins.RELAY_ON
    assert k.check() is None  # contacts may still be moving
    clock.t += 500
    assert k.welded() and conn.faulted() == K.WELDED
    b.poll()
    assert ("fault", {"evse": 1, "connector": 1, "code": K.WELDED}) in events
    w.inputs[p["relay_fb"]] = opened
    b.poll()
    assert events[-1] == ("clear_fault", {"evse": 1, "connector": 1})


@pytest.mark.parametrize("name", BOARDS)
def test_events_and_safety_reflexes(name, tmp_path, clock):
    b, pins, w, line, events, _ = make(name, tmp_path)
    p = pins.EVSES[0]
    w.inputs[p["relay_fb"]] = 1 - pins.RELAY_FB_CLOSED
    w.inputs[p["rcd"]] = 1 - pins.RCD_TRIP
    b.poll()
    assert events == []
    set_pp(w, pins, 220)
    line.state = "B"
    b.poll()
    assert events == [("plug", {"evse": 1, "connector": 1}), ("ev", {"evse": 1, "state": "B"})]
    b.pilots[1].offer(16)
    line.state = "C"
    b.poll()
    k = b.contactors[1]
    k.close()
    w.inputs[p["relay_fb"]] = pins.RELAY_FB_CLOSED
    b.poll()
    assert w.level(p["relay"]) == pins.RELAY_ON
    line.state = "B"  # EV stops: contactor must open at once (IEC 61851-1 C->B)
    b.poll()
    assert w.level(p["relay"]) == 1 - pins.RELAY_ON
    assert events[-1] == ("ev", {"evse": 1, "state": "B"})
    w.inputs[p["relay_fb"]] = 1 - pins.RELAY_FB_CLOSED
    line.state = "C"
    k.close()
    w.inputs[p["relay_fb"]] = pins.RELAY_FB_CLOSED
    b.poll()
    w.inputs[p["rcd"]] = pins.RCD_TRIP  # residual current: open, report GroundFailure
    b.poll()
    assert w.level(p["relay"]) == 1 - pins.RELAY_ON
    assert events[-1] == ("fault", {"evse": 1, "connector": 1, "code": "GroundFailure"})
    w.inputs[p["rcd"]] = 1 - pins.RCD_TRIP
    w.inputs[p["relay_fb"]] = 1 - pins.RELAY_FB_CLOSED
    line.state = "A"
    set_pp(w, pins, None)
    b.poll()
    assert ("unplug", {"evse": 1, "connector": 1}) in events[-3:]
    assert events[-1] == ("clear_fault", {"evse": 1, "connector": 1})


@pytest.mark.parametrize("name", BOARDS)
def test_diode_missing_is_reported(name, tmp_path):
    b, pins, w, line, events, _ = make(name, tmp_path)
    set_pp(w, pins, 220)
    b.pilots[1].offer(16)
    line.state = "B"
    line.diode = False
    b.poll()
    assert b.connectors[(1, 1)].faulted() == "DiodeFailure"
    assert events[-1] == ("fault", {"evse": 1, "connector": 1, "code": "DiodeFailure"})
    line.diode = True
    b.poll()
    assert b.connectors[(1, 1)].faulted() is None


@pytest.mark.parametrize("name", BOARDS)
def test_lock_output_and_feedback(name, tmp_path, clock):
    b, pins, w, line, _, _ = make(name, tmp_path)
    p = pins.EVSES[0]
    conn = b.connectors[(1, 1)]
    w.inputs[p["lock_fb"]] = 1 - pins.LOCK_FB_LOCKED
    conn.lock(True)
    assert w.level(p["lock"]) == 1
    assert conn.faulted() is None  # motor still moving
    clock.t += 1500
    assert conn.faulted() == "LockFailure"
    w.inputs[p["lock_fb"]] = pins.LOCK_FB_LOCKED
    assert conn.locked() and conn.faulted() is None
    conn.lock(False)
    assert w.level(p["lock"]) == 0


def board_json(name):
    with open(os.path.join(ROOT, "boards", name, "board.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("name", BOARDS)
def test_watchdog_limits_and_feeding(name, tmp_path):
    import machine

    b, pins, w, line, _, board = make(name, tmp_path)
    lo, hi = board_json(name)["wdt_ms"]
    wd = b.watchdog
    t = wd.start(10 ** 9)  # far beyond any hardware: clamped, never refused
    assert t == hi == wd.timeout_ms
    if w.profile["wdt"] is not None:
        assert w.wdt.timeout == t  # the real machine.WDT accepted it
        for _ in range(5):
            w.advance(t // 2)
            wd.feed()
        assert w.wdt.feeds >= 5 and not w.wdt_fired
        w.advance(t + 1)
        assert w.wdt_fired
    # A short request is raised to the hardware minimum on a fresh board.
    b2 = board.make_board(config(), root=str(tmp_path / "again"))
    machine.world.wdt = None
    assert b2.watchdog.start(1) == lo


def test_nrf_watchdog_registers(tmp_path):
    b, pins, w, line, _, board = make("nrf", tmp_path)
    assert b.watchdog.start(5000) == 5000
    writes = [(a, v) for _, a, v in w.mem_writes]
    assert (0x40010504, 5000 * 32768 // 1000 - 1) in writes  # CRV
    assert (0x40010508, 1) in writes  # RREN: RR[0] only
    assert writes.index((0x40010000, 1)) > writes.index((0x40010504, 163839))  # configured, then started
    b.watchdog.feed()
    assert w.mem_writes[-1] == (32, 0x40010600, 0x6E524635)
    # After a soft reset the running WDT keeps its locked CRV.
    w.mem[0x40010400] = 1
    wd2 = board.Nrf().watchdog()
    assert wd2.start(1000) == 5000


def test_renesas_watchdog_registers(tmp_path):
    b, pins, w, line, _, board = make("renesas_ra", tmp_path)
    assert board.wdt_periods_ms() == (167, 671, 1342, 2684)
    assert b.watchdog.start(2000) == 1342  # longest period not above the request
    writes = [(width, a, v) for width, a, v in w.mem_writes]
    assert (16, 0x40044202, 0x3300 | 0x80 | 2) in writes  # WDTCR: no window, PCLKB/8192, TOPS=2
    assert (8, 0x40044206, 0x80) in writes  # reset on underflow
    assert writes[-2:] == [(8, 0x40044200, 0x00), (8, 0x40044200, 0xFF)]  # refresh starts it
    b.watchdog.feed()
    assert w.mem_writes[-2:] == [(8, 0x40044200, 0x00), (8, 0x40044200, 0xFF)]


EXPECTED_CAUSE = {"PWRON_RESET": "power", "WDT_RESET": "watchdog", "SOFT_RESET": "soft",
                  "HARD_RESET": "hard", "DEEPSLEEP_RESET": "power", "LOCKUP_RESET": "hard"}


@pytest.mark.parametrize("name", BOARDS)
def test_reset_cause_mapping(name, tmp_path):
    import machine

    b, pins, w, line, _, _ = make(name, tmp_path)
    seen = 0
    for const, value in w.profile["reset"].items():
        if const in EXPECTED_CAUSE:
            w.reset_cause = value
            assert b.reset.cause() == EXPECTED_CAUSE[const], (name, const)
            seen += 1
    assert seen >= 2
    w.reset_cause = 12345
    assert b.reset.cause() == "power"
    with pytest.raises(machine.ResetCalled):
        b.reset.reset()


@pytest.mark.parametrize("name", BOARDS)
def test_storage_round_trip_and_slot(name, tmp_path):
    b, pins, w, line, _, board = make(name, tmp_path)
    b.storage.write("dm", b"\x00\x01value")
    b.storage.write("txq", "queued")
    b2 = board.make_board(config(), root=str(tmp_path))
    assert b2.storage.read("dm") == b"\x00\x01value"
    assert b2.storage.names() == ["dm", "txq"]
    b2.storage.remove("dm")
    assert b2.storage.read("dm") is None
    import hashlib

    img = bytes(range(256)) * 9
    s = b.slot
    s.begin("1.2.3", len(img))
    for i in range(0, len(img), 500):
        s.write(img[i:i + 500])
    size, digest = s.finish()
    assert size == len(img) and digest == hashlib.sha256(img).hexdigest()
    assert s.verify(hashlib.sha256(img).hexdigest().upper())
    assert not s.verify("00" * 32)
    s.mark_pending()
    s2 = board.make_board(config(), root=str(tmp_path)).slot  # reboot
    assert s2.pending() == "b" and s2.boot() == "trial"
    s2.confirm()
    assert s2.active() == "b" and s2.version() == "1.2.3" and s2.boot() == "normal"


@pytest.mark.parametrize("name", BOARDS)
def test_clock(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path)
    b.clock.set(1700000000)  # 2023-11-14 22:13:20 UTC, a Tuesday
    assert b.clock.now() == 1700000000
    if w.profile["rtc"]:
        assert w.rtc == (2023, 11, 14, 1, 22, 13, 20, 0)


@pytest.mark.parametrize("name", BOARDS)
def test_status_leds(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path)
    on, off = pins.LED_ON, 1 - pins.LED_ON
    L = pins.LEDS
    assert w.level(L["power"]) == on and w.level(L["net"]) == off
    b.indicator.report("connected", {})
    assert w.level(L["net"]) == on
    b.indicator.report("pilot", {"evse": 1, "duty": 26.7, "contactor": True})
    assert w.level(L["charge"]) == on
    b.indicator.report("status", {"evse": 1, "connector": 1, "status": "Faulted"})
    assert w.level(L["fault"]) == on
    b.indicator.report("status", {"evse": 1, "connector": 1, "status": "Available"})
    b.indicator.report("disconnected", {})
    assert w.level(L["fault"]) == off and w.level(L["net"]) == off


# --- energy meter on the board's RS-485 bus ---------------------------------------

def sdm_slave(values):
    regs = {}
    for addr, v in values.items():
        hi, lo = struct.unpack(">HH", struct.pack(">f", v))
        regs[addr], regs[addr + 1] = hi, lo

    def respond(req):
        from flexcharge.hal.drivers.modbus_rtu import crc16

        addr, count = struct.unpack(">HH", req[2:6])
        body = bytes((req[0], 4, 2 * count)) + b"".join(struct.pack(">H", regs[a]) for a in range(addr, addr + count))
        c = crc16(body)
        return body + bytes((c & 0xFF, c >> 8))

    return respond


@pytest.mark.parametrize("name", BOARDS)
def test_meter_over_board_uart(name, tmp_path):
    b, pins, w, line, _, _ = make(name, tmp_path)
    u = w.uarts[pins.METER["id"]]
    assert u.baudrate == 9600 and u.bits == 8 and u.parity is None and u.stop == 1  # SDM630 default 8N1
    u.de = pins.METER["de"]
    u.responder = sdm_slave({0: 230.0, 2: 231.0, 4: 232.0, 6: 10.0, 8: 11.0, 0x0A: 12.0, 0x0C: 1.0,
                             0x0E: 2.0, 0x10: 3.0, 0x34: 7400.0, 0x46: 50.0, 0x48: 42.5, 0x4A: 0.0})
    asyncio.run(b.poll_meters())
    v = b.meters[1].read()
    assert v["stale"] is False and u.de_errors == 0
    assert v["energy_mwh"] == 42500000 and v["power_w"] == 7400.0
    assert v["voltage_v"] == (230.0, 231.0, 232.0) and v["current_a"] == (10.0, 11.0, 12.0)


# --- RFID reader on the board's SPI bus -------------------------------------------

class FakeMFRC522:
    """Register-level MFRC522 with an ISO 14443 A card model; answers only while its
    chip-select pin is low."""

    def __init__(self, world, cs, uid=None):
        self.w = world
        self.cs = cs
        self.uid = uid
        self.regs = [0] * 64
        self.regs[0x37] = 0x92
        self.fifo = []
        self.selected = 0

    def __call__(self, tx):
        if self.w.level(self.cs) != 0:
            return b"\xff" * len(tx)
        self.selected += 1
        reg = (tx[0] >> 1) & 0x3F
        if tx[0] & 0x80:
            if reg == 0x09:
                v = self.fifo.pop(0) if self.fifo else 0
            elif reg == 0x0A:
                v = len(self.fifo)
            else:
                v = self.regs[reg]
            return bytes((0, v))
        v = tx[1]
        if reg == 0x09:
            self.fifo.append(v)
        elif reg == 0x0A:
            if v & 0x80:
                self.fifo = []
        elif reg == 0x04:
            self.regs[4] = self.regs[4] | (v & 0x7F) if v & 0x80 else self.regs[4] & ~v
        else:
            self.regs[reg] = v
            if reg == 0x0D and v & 0x80 and self.regs[1] == 0x0C:
                self._transceive(bytes(self.fifo), v & 7)
        return b"\x00\x00"

    def _transceive(self, data, bits):
        self.fifo = []
        r = self.card(data, bits)
        if r is None:
            self.regs[4] |= 0x01  # TimerIRq
        else:
            self.fifo = list(r)
            self.regs[4] |= 0x30

    def card(self, data, bits):
        u = self.uid
        if u is None:
            return None
        double = len(u) == 7
        if data == b"\x26" and bits == 7:
            return b"\x44\x00" if double else b"\x04\x00"
        cl1 = b"\x88" + u[:3] if double else u[:4]
        for sel, part in ((0x93, cl1), (0x95, u[3:7] if double else None)):
            if part is None:
                continue
            full = part + bytes((part[0] ^ part[1] ^ part[2] ^ part[3],))
            if data == bytes((sel, 0x20)):
                return full
            if data[:2] == bytes((sel, 0x70)) and data[2:7] == full and data[7:] == crc_a(data[:7]):
                sak = bytes((0x04 if sel == 0x93 and double else 0x08,))
                return sak + crc_a(sak)
        return None


def test_crc_a_vector():
    assert crc_a(b"\x50\x00") == b"\x57\xcd"  # HLTA, ISO/IEC 14443-3


@pytest.mark.parametrize("name", BOARDS)
def test_rfid_tag_events(name, tmp_path, clock):
    b, pins, w, line, events, _ = make(name, tmp_path)
    card = FakeMFRC522(w, pins.RFID["cs"])
    w.spis[pins.RFID["id"]].device = card
    asyncio.run(b.rfid.init())
    assert b.rfid.version == 0x92 and card.regs[0x14] & 0x03  # antenna on
    assert asyncio.run(b.poll_rfid()) is None
    card.uid = bytes.fromhex("DEADBEEF")
    assert asyncio.run(b.poll_rfid()) == "DEADBEEF"
    assert events[-1] == ("tag", {"id": "DEADBEEF", "type": "ISO14443"})
    n = len(events)
    clock.t += 300
    asyncio.run(b.poll_rfid())  # card held in the field: not reported again
    assert len(events) == n
    card.uid = None
    clock.t += 2000
    asyncio.run(b.poll_rfid())
    card.uid = bytes.fromhex("04A1B2C3D4E580")  # 7-byte UID, two cascade levels
    asyncio.run(b.poll_rfid())
    assert events[-1] == ("tag", {"id": "04A1B2C3D4E580", "type": "ISO14443"})


@pytest.mark.parametrize("name", BOARDS)
def test_run_loop_polls_and_stops(name, tmp_path):
    b, pins, w, line, events, _ = make(name, tmp_path)
    w.spis[pins.RFID["id"]].device = FakeMFRC522(w, pins.RFID["cs"], bytes.fromhex("01020304"))
    u = w.uarts[pins.METER["id"]]
    u.de = pins.METER["de"]
    u.responder = sdm_slave({a: 1.0 for a in (0, 2, 4, 6, 8, 0x0A, 0x0C, 0x0E, 0x10, 0x34, 0x46, 0x48, 0x4A)})
    b.poll_ms = b.rfid_ms = b.meter_ms = 10
    set_pp(w, pins, 680)
    line.state = "B"

    async def go():
        t = asyncio.create_task(b.run())
        await asyncio.sleep(0.15)
        b.stop()
        await asyncio.wait_for(t, 1)

    asyncio.run(go())
    kinds = [k for k, _ in events]
    assert "plug" in kinds and "ev" in kinds and "tag" in kinds
    assert b.meters[1].read()["stale"] is False


def test_run_loop_survives_a_missing_rfid_reader(tmp_path):
    b, pins, w, line, events, _ = make("rp2", tmp_path)  # no SPI device: reads 0xFF
    b.poll_ms = b.meter_ms = 10
    set_pp(w, pins, 680)

    async def go():
        t = asyncio.create_task(b.run())
        await asyncio.sleep(0.1)
        b.stop()
        await asyncio.wait_for(t, 1)

    asyncio.run(go())
    assert b.rfid is None and ("plug", {"evse": 1, "connector": 1}) in events


@pytest.mark.parametrize("name", BOARDS)
def test_board_json_matches_board_module(name, tmp_path):
    info = board_json(name)
    board, pins, w = load_board(name)
    assert info["board"] == name and board.NAME == name
    assert info["march"] == board.MARCH
    assert info["storage_root"] == board.STORAGE_ROOT
    assert info["config_path"] == board.CONFIG_PATH
    assert board.paths() == (info["config_path"], info["storage_root"])  # what firmware/main.py boots from
    if hasattr(board, "WDT_MAX_MS"):
        assert info["wdt_ms"] == [board.WDT_MIN_MS, board.WDT_MAX_MS]
    for key in ("port", "mp_board", "port_manifest", "native", "flash"):
        assert key in info
    assert os.path.isfile(os.path.join(ROOT, "boards", name, "README.md"))


@pytest.mark.parametrize("name", BOARDS)
def test_config_beyond_the_pin_map_is_refused(name, tmp_path):
    board, pins, w = load_board(name)
    with pytest.raises(mcu_mod.ConfigError):
        board.make_board(config(n=len(pins.EVSES) + 1), root=str(tmp_path))
    c = config()
    c["evses"][0]["connectors"] = 2
    with pytest.raises(mcu_mod.ConfigError):
        board.make_board(c, root=str(tmp_path))


def test_fake_refuses_wrong_pins(tmp_path):
    # The fake has teeth: a CP feedback on an ADC2 pin (ESP32, Wi-Fi on), a PWM on an
    # input-only pin, a relay on the Pico W's wireless pins, fixed-pin STM32 UARTs.
    import machine

    machine.use_port("esp32")
    with pytest.raises(ValueError):
        machine.ADC(machine.Pin(25))
    with pytest.raises(ValueError):
        machine.PWM(machine.Pin(36))
    machine.use_port("rp2")
    with pytest.raises(ValueError):
        machine.Pin(23, machine.Pin.OUT)
    with pytest.raises(ValueError):
        machine.UART(1, tx=machine.Pin(0), rx=machine.Pin(1))
    with pytest.raises(ValueError):
        machine.WDT(timeout=10000)
    machine.use_port("stm32")
    with pytest.raises(TypeError):
        machine.UART(2, tx="D5")
    with pytest.raises(ValueError):
        machine.Pin("A0")  # Arduino name on a Nucleo: a different pin
    machine.use_port("nrf")
    assert not hasattr(machine, "WDT") and not hasattr(machine, "RTC")


def test_esp32_adc_needs_11db_attenuation():
    # Without ATTN_11DB the ESP32 ADC saturates near 1 V: a CP at +12 V would read as ~D.
    import machine

    machine.use_port("esp32")
    machine.world.analog[36] = 2.4
    assert machine.ADC(machine.Pin(36)).read_uv() == 950000
    assert machine.ADC(machine.Pin(36), atten=machine.ADC.ATTN_11DB).read_uv() == 2400000


def test_stm32_falls_back_to_pyb_timer_pwm(tmp_path):
    b, pins, w, line, _, board = make("stm32", tmp_path, has_pwm=False)
    import machine

    assert not hasattr(machine, "PWM")
    ch = w.pwms[pins.EVSES[0]["cp_pwm"]]
    assert ch.tim.id == 1 and ch.ch == 1 and ch.freq() == 1000
    set_pp(w, pins, 220)
    b.pilots[1].offer(10)
    assert abs(ch.pulse_width_percent() - 16.667) < 0.01
    line.state = "B"
    assert b.pilots[1].state() == "B"


MP_SCRIPT = """
import sys
import machine
ROOT, TMP = sys.argv[1], sys.argv[2]
for name in %r:
    w = machine.use_port(name)
    for m in ("board", "pins"):
        if m in sys.modules:
            del sys.modules[m]
    sys.path.insert(0, ROOT + "/boards/" + name)
    import board
    import pins
    sys.path.pop(0)
    b = board.make_board({"evses": [{"id": 1, "connectors": 1, "max_current": 32}]}, TMP + "/" + name)
    ev = []
    b.listener = lambda k, d: ev.append(k)
    p = pins.EVSES[0]
    w.analog[p["pp_adc"]] = pins.PP_SUPPLY * 220 / (220 + pins.PP_PULLUP)
    w.analog[p["cp_adc"]] = (9.0 - pins.CP_OFFSET) / pins.CP_GAIN
    w.inputs[p["lock_fb"]] = 1 - pins.LOCK_FB_LOCKED
    w.inputs[p["relay_fb"]] = 1 - pins.RELAY_FB_CLOSED
    b.poll()
    b.pilots[1].offer(16)
    b.storage.write("k", b"v")
    b.clock.set(1700000000)
    print(name, ev, w.pwms[p["cp_pwm"]].duty_u16(), b.watchdog.start(5000), b.clock.now(),
          b.reset.cause(), b.storage.read("k"))
"""


def test_board_shims_run_on_micropython(tmp_path):
    # The same board.py/mcu.py under the MicroPython unix port (the fake machine module
    # shadows the port's own), so MicroPython-only breakage in the shims shows up here.
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    script = tmp_path / "smoke.py"
    script.write_text(MP_SCRIPT % (BOARDS,))
    env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (FAKES, os.path.join(ROOT, "firmware")))
    import subprocess

    r = subprocess.run([mp, str(script), ROOT, str(tmp_path)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split("\n")
    for name, line in zip(BOARDS, lines):
        wd = "2684" if name == "renesas_ra" else "5000"
        assert line == "%s ['plug', 'ev'] 17476 %s 1700000000 power b'v'" % (name, wd), line
