# Hardware abstraction: the capabilities the station needs from a board.
#
# A board (boards/<family>/board.py) builds a `Board` whose attributes implement
# these interfaces on `machine` peripherals (or, for boards/unix, on a simulated
# world). The core only ever talks to these names, so changing MCU touches only
# boards/<family>/. Plain classes, no abc: MicroPython has none.
#
# Every method that may wait is a coroutine; everything else returns at once.


class Unsupported(Exception):
    pass


class Storage:
    """Named blobs in non-volatile memory. write() is atomic (see hal/storage.py)."""

    def read(self, name):  # -> bytes or None
        raise Unsupported

    def read_json(self, name):
        """The JSON value stored as `name`; None when absent or not valid JSON (a damaged file reads as
        absent: the caller falls back to its default)."""
        raw = self.read(name)
        if raw is None:
            return None
        import json

        try:
            return json.loads(raw)
        except ValueError:
            return None

    def write(self, name, data):
        raise Unsupported

    def remove(self, name):
        raise Unsupported

    def names(self, prefix=""):
        raise Unsupported

    # Append-only files (log ring): append(name, bytes), size(name) -> int, open(name, mode) -> file.
    def append(self, name, data):
        raise Unsupported

    def size(self, name):
        raise Unsupported

    def open(self, name, mode="rb"):
        raise Unsupported


class Clock:
    """Wall clock in Unix seconds (UTC). set() is called with the CSMS's time (B01.FR.06)."""

    def now(self):
        raise Unsupported

    def set(self, unix_seconds):
        raise Unsupported


class Watchdog:
    """Hardware watchdog: once started it resets the MCU unless fed in time.

    start(timeout_ms) returns the timeout actually set (clamped to what the MCU allows) and
    keeps it in `timeout_ms`; callers feed well within that, not within what they asked for."""

    timeout_ms = 0

    def start(self, timeout_ms):
        raise Unsupported

    def feed(self):
        raise Unsupported


class Reset:
    """Restarts the firmware. cause() says why this boot happened: 'power', 'watchdog', 'soft', 'hard'."""

    def reset(self):
        raise Unsupported

    def cause(self):
        return "power"


class ControlPilot:
    """IEC 61851-1 control pilot of one connector.

    state() -> one of 'A'..'F' (read from the CP feedback voltage);
    offer(amps) -> generate the PWM duty for that current (0 = no PWM, +12 V steady: state B1/C1);
    duty() -> the duty cycle now generated, in per cent (100 = steady, 0 = off/-12 V for state F).
    disable() -> state F: -12 V steady, the EV must not charge (fault, unavailable);
    offered() -> the current now offered in amps (0 = none);
    diode_ok() -> False when the EV's diode is missing (negative plateau not at -12 V: state E);
    last_state() -> the state of the latest measurement, without measuring again.
    """

    def state(self):
        raise Unsupported

    def offer(self, amps):
        raise Unsupported

    def duty(self):
        raise Unsupported

    def disable(self):
        raise Unsupported

    def offered(self):
        raise Unsupported

    def diode_ok(self):
        return True

    def last_state(self):
        return self.state()


class Contactor:
    """Power relay of one EVSE with feedback contact for welding detection."""

    def close(self):
        raise Unsupported

    def open(self):
        raise Unsupported

    def is_closed(self):
        raise Unsupported

    def welded(self):
        return False


class FirmwareSlot:
    """The inactive firmware image slot for A/B updates (implementation: hal/slot.py FileSlot).

    begin(version, size) / write(chunk) / finish() stream an image in; verify(sha256_hex)
    checks it; mark_pending() boots it next time; boot() (at start-up) counts tries and rolls
    back after too many; confirm() makes a booted image permanent; rollback() returns to the other."""

    def begin(self, version, size=None):
        raise Unsupported

    def write(self, chunk):
        raise Unsupported

    def finish(self):
        raise Unsupported

    def verify(self, sha256_hex):
        raise Unsupported

    def mark_pending(self):
        raise Unsupported

    def boot(self):
        raise Unsupported

    def confirm(self):
        raise Unsupported

    def rollback(self):
        raise Unsupported


class Meter:
    """Energy meter of one EVSE. read() -> dict with 'energy_mwh' (the active import register, an
    int in mWh: no float accumulation error, and no step lost where floats are single precision),
    'power_w', 'current_a' (tuple per phase), 'voltage_v' (tuple per phase). A driver that only gives
    'energy_wh' (a float, Wh) is converted once, on reading (metering.energy_mwh)."""

    def read(self):
        raise Unsupported


def energy_mwh(reading):
    """The import register of a Meter reading as an int in mWh, or None."""
    x = reading.get("energy_mwh")
    if x is None:
        x = reading.get("energy_wh")  # a driver giving float Wh: converted here, once
        if x is None:
            return None
        x = int(x * 1000 + 0.5)
    return x


class ConnectorHw:
    """The physical connector: cable presence and lock. plugged() -> bool; faulted() -> code or None."""

    def plugged(self):
        raise Unsupported

    def faulted(self):
        return None

    def lock(self, locked):
        raise Unsupported


class LimitInput:
    """An external charging limit of one EVSE (an EMS / grid-operator input: a relay contact, 0-10 V, a
    Modbus register). amps() -> the current per phase allowed now, or None for no limit. The smart-charging
    limit and this one are combined by taking the lower (K: an external constraint is never exceeded)."""

    def amps(self):
        return None


class Indicator:
    """Whatever the station uses to show and report state (LEDs, display, the unix board's stdout).

    report(event, fields): a structured event (`status`, `connected`, `boot`, ...).
    """

    def report(self, event, fields):
        pass


# The MCU boards' receive buffer: every message the CSMS may send within this firmware's declared
# limits fits (CertificateSigned's 10,000-character chain, UpdateFirmware, SetVariables at the
# default BytesPerMessage 8192), where a 64 KB block would take a third of an RP2040's or an
# ESP32's heap.
MCU_MAX_MESSAGE = 16384


class Board:
    """Aggregate a board module returns from `make_board(config)`.

    Attributes: name, storage, clock, watchdog, reset, indicator,
    connectors: dict {(evse_id, connector_id): ConnectorHw},
    pilots / contactors / meters: dict {evse_id: ...} where the board has them;
    limit_inputs: dict {evse_id: LimitInput} for boards with an external limit (EMS) input (unix: none);
    rfid: an id reader or None; slot: a FirmwareSlot or None;
    vendor_extensions: the maker's flexcharge.hal.vendor.VendorExtension objects (DataTransfer);
    max_message: the largest CSMS message in bytes, reserved at boot as the WebSocket receive
    buffer and the bound of every BytesPerMessage (the unix board: 65536).
    Events from the hardware reach the core through `listener(kind, data)`,
    set by the core: kinds 'plug', 'unplug', 'fault', 'clear_fault', 'tag', 'ev', 'load'.
    """

    name = "abstract"
    listener = None
    rfid = None
    slot = None
    vendor_extensions = ()
    limit_inputs = {}
    max_message = 65536

    def emit(self, kind, data):
        if self.listener is not None:
            self.listener(kind, data)

    async def run(self):
        # Board-side background work (polling inputs); returns when the board stops.
        pass
