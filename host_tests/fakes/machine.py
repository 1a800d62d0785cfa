# A fake MicroPython `machine` module for host tests of the board shims under CPython.
#
# use_port(name) loads a port profile (fake_ports.PORTS): which pins exist, which can be
# outputs, ADC inputs or PWM outputs, which UART/SPI ids and pin keywords the port takes,
# WDT limits, reset-cause constants and which classes the port has at all (nRF has no
# WDT/RTC, ...). Anything the real port would refuse raises here too.
#
# The test drives the outside world through `world`:
#   world.inputs[pin] = 0/1 or callable       levels seen by input pins
#   world.analog[key] = volts or callable     what an ADC reads (key: the pin id / channel)
#   world.level(pin)                          level an output pin drives
#   world.pwms[pin]                           PWM objects (freq()/duty_u16() readback)
#   world.uarts[id].responder = fn(bytes) -> bytes   scripted serial device
#   world.uarts[id].de = pin                  RS-485 driver-enable pin the transceiver uses
#   world.spis[id].device = fn(bytes) -> bytes
#   world.wdt, world.advance(ms), world.wdt_fired
#   world.rtc, world.reset_cause, world.resets, world.mem (machine.memN)
import fake_ports


class ResetCalled(Exception):
    """machine.reset() was called (it never returns on a real board)."""


class World:
    def __init__(self, port, profile):
        self.port = port
        self.profile = profile
        self.inputs = {}
        self.outputs = {}
        self.analog = {}
        self.pwms = {}
        self.uarts = {}
        self.spis = {}
        self.i2c_devices = {}
        self.wdt = None
        self.wdt_fired = False
        self.now_ms = 0
        self.rtc = (2000, 1, 1, 5, 0, 0, 0, 0)
        self.reset_cause = profile["reset"].get("PWRON_RESET", 0)
        self.resets = 0
        self.mem = {}
        self.mem_writes = []
        self.mem_hooks = {}

    def level(self, pin):
        return self.outputs.get(pin)

    def advance(self, ms):
        self.now_ms += ms
        w = self.wdt
        if w is not None and self.now_ms - w.last_feed > w.timeout:
            self.wdt_fired = True


world = None
_P = None


def _pin_id(p):
    return p.id if isinstance(p, Pin) else p


def _check_pin(pid):
    if pid not in _P["pins"]:
        raise ValueError("invalid pin %r on %s" % (pid, world.port))
    return pid


class Pin:
    IN = 1
    OUT = 2
    OPEN_DRAIN = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None, **kw):
        self.id = _check_pin(id)
        self.mode = mode
        self.pull = pull
        if mode in (Pin.OUT, Pin.OPEN_DRAIN) and id in _P["input_only"]:
            raise ValueError("pin %r can only be input" % (id,))
        if pull not in (-1, None) and id in _P["no_pull"]:
            raise ValueError("pin %r has no pull resistors" % (id,))
        if value is not None:
            world.outputs[id] = 1 if value else 0
        elif mode in (Pin.OUT, Pin.OPEN_DRAIN):
            world.outputs.setdefault(id, 0)

    def init(self, mode=-1, pull=-1, *, value=None):
        self.__init__(self.id, mode, pull, value=value)

    def value(self, v=None):
        if v is None:
            if self.mode in (Pin.OUT, Pin.OPEN_DRAIN):
                return world.outputs.get(self.id, 0)
            x = world.inputs.get(self.id)
            if x is None:
                return 1 if self.pull == Pin.PULL_UP else 0
            return x() if callable(x) else x
        world.outputs[self.id] = 1 if v else 0

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class PWM:
    def __init__(self, dest, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        if not isinstance(dest, Pin):
            dest = Pin(dest)
        pid = dest.id
        if pid in _P["input_only"]:
            raise ValueError("pin %r can't be a PWM output" % (pid,))
        if _P["pwm"] is not None and pid not in _P["pwm"]:
            raise ValueError("pin %r has no PWM/timer channel" % (pid,))
        self.pin = pid
        self._freq = 0
        self._duty = 0
        self.active = True
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        world.pwms[pid] = self

    def freq(self, f=None):
        if f is None:
            return self._freq
        if not isinstance(f, int) or f <= 0:
            raise ValueError("bad frequency %r" % (f,))
        self._freq = f

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if not isinstance(d, int):
            raise TypeError("can't convert %s to int" % type(d).__name__)
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 out of range")
        self._duty = d

    def deinit(self):
        self.active = False


def _adc_key(dest):
    if isinstance(dest, Pin):
        return dest.id
    base = _P.get("adc_channel_base")
    if base is not None and isinstance(dest, int) and dest < 4:
        return base + dest
    return dest


def _clip(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


class _ADC:
    def __init__(self, dest, **kw):
        key = _adc_key(dest)
        if key not in _P["adc"]:
            raise ValueError("no ADC channel on %r (%s)" % (key, world.port))
        self.key = key
        self.bits = _P["adc_bits"]
        self.reads = 0

    def _volts(self):
        self.reads += 1
        x = world.analog.get(self.key, 0.0)
        return x() if callable(x) else x

    def _raw(self, v, full_scale):
        top = (1 << self.bits) - 1
        return int(_clip(v / full_scale, 0.0, 1.0) * top + 0.5)

    def read_u16(self):
        raw = self._raw(self._volts(), _P.get("adc_fs", 3.3))
        return raw * 65535 // ((1 << self.bits) - 1)


class _ADCEsp32(_ADC):
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    # Calibrated range of read_uv per attenuation (ESP-IDF): beyond it the result saturates.
    _UV_MAX = (0.95, 1.25, 1.75, 2.45)
    _RAW_FS = (1.1, 1.5, 2.2, 3.3)

    def __init__(self, dest, *, atten=0, **kw):
        _ADC.__init__(self, dest)
        self.atten = atten

    def read_u16(self):
        raw = self._raw(self._volts(), self._RAW_FS[self.atten])
        return raw * 65535 // 4095

    def read_uv(self):
        v = _clip(self._volts(), 0.0, self._UV_MAX[self.atten])
        return int(v * 1000000)


class _ADCNrf(_ADC):
    def value(self):
        return self._raw(self._volts(), _P.get("adc_fs", 3.3))


class _Bus:
    def _pins(self, kind, id, kw, names):
        table = _P[kind]
        if id not in table:
            raise ValueError("%s(%r) doesn't exist on %s" % (kind.upper(), id, world.port))
        given = [(n, kw.get(n)) for n in names if kw.get(n) is not None]
        if given and not _P[kind + "_pin_kw"]:
            raise TypeError("unexpected keyword argument '%s' (%s %s pins are fixed)" % (given[0][0], world.port, kind))
        allowed = table[id]
        for i, n in enumerate(names):
            v = kw.get(n)
            if v is None:
                continue
            pid = _check_pin(_pin_id(v))
            if allowed is not None and pid not in allowed[i]:
                raise ValueError("%s %r is not a %s pin of %s(%r)" % (n, pid, n, kind.upper(), id))


class UART(_Bus):
    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._pins("uart", id, kw, ("tx", "rx"))
        self.id = id
        self.baudrate = baudrate
        self.bits = bits
        self.parity = parity
        self.stop = stop
        self.sent = []
        self._rx = b""
        prev = world.uarts.get(id)
        self.responder = prev.responder if prev else None
        self.de = prev.de if prev else None
        self.de_errors = 0
        world.uarts[id] = self

    def _receiving(self):
        # With DE and /RE tied together the receiver is off while the driver is on.
        return self.de is None or not world.outputs.get(self.de, 0)

    def write(self, buf):
        buf = bytes(buf)
        self.sent.append(buf)
        if self.de is not None and not world.outputs.get(self.de, 0):
            self.de_errors += 1  # driver not enabled: the bytes never reach the bus
            return len(buf)
        if self.responder is not None:
            r = self.responder(buf)
            if r:
                self._rx += bytes(r)
        return len(buf)

    def flush(self):
        pass

    def txdone(self):
        return True

    def any(self):
        return len(self._rx) if self._receiving() else 0

    def read(self, n=None):
        if not self._rx or not self._receiving():
            return None
        if n is None:
            n = len(self._rx)
        r, self._rx = self._rx[:n], self._rx[n:]
        return r

    def feed(self, data):
        """Test helper: bytes arrive from the line unprompted."""
        self._rx += bytes(data)


class SPI(_Bus):
    MSB = 0
    LSB = 1

    def __init__(self, id, baudrate=1000000, *, polarity=0, phase=0, bits=8, firstbit=0, **kw):
        self._pins("spi", id, kw, ("sck", "mosi", "miso"))
        self.id = id
        self.baudrate = baudrate
        self.polarity = polarity
        self.phase = phase
        prev = world.spis.get(id)
        self.device = prev.device if prev else None
        world.spis[id] = self

    def _x(self, tx):
        if self.device is None:
            return b"\xff" * len(tx)
        return bytes(self.device(bytes(tx)))

    def write(self, buf):
        self._x(buf)

    def read(self, n, write=0):
        return self._x(bytes([write]) * n)

    def readinto(self, buf, write=0):
        buf[:] = self._x(bytes([write]) * len(buf))

    def write_readinto(self, tx, rx):
        rx[:] = self._x(tx)


class I2C:
    def __init__(self, id=0, *, scl=None, sda=None, freq=400000, **kw):
        self.id = id

    def scan(self):
        return sorted(world.i2c_devices)

    def readfrom_mem(self, addr, reg, n):
        return world.i2c_devices[addr].readfrom_mem(reg, n)

    def writeto_mem(self, addr, reg, buf):
        world.i2c_devices[addr].writeto_mem(reg, bytes(buf))


class _WDT:
    def __init__(self, id=0, timeout=5000):
        lo, hi = _P["wdt"]
        if id != 0:
            raise ValueError("WDT(%d) doesn't exist" % id)
        if timeout < lo:
            raise ValueError("WDT timeout too short")
        if hi is not None and timeout > hi:
            raise ValueError("WDT timeout too long")
        self.timeout = timeout
        self.feeds = 0
        self.last_feed = world.now_ms
        world.wdt = self

    def feed(self):
        self.feeds += 1
        self.last_feed = world.now_ms


class _RTC:
    def __init__(self, id=0):
        pass

    def datetime(self, t=None):
        if t is None:
            return world.rtc
        if len(t) != 8:
            raise ValueError("need an 8-tuple")
        world.rtc = tuple(t)

    def init(self, t):
        self.datetime(t)


class _Mem:
    def __init__(self, width):
        self.width = width
        self.mask = (1 << width) - 1

    def __getitem__(self, addr):
        return world.mem.get(addr, 0) & self.mask

    def __setitem__(self, addr, v):
        v &= self.mask
        world.mem_writes.append((self.width, addr, v))
        hook = world.mem_hooks.get(addr)
        if hook is not None:
            hook(v)
        else:
            world.mem[addr] = v


mem8 = _Mem(8)
mem16 = _Mem(16)
mem32 = _Mem(32)


def reset():
    world.resets += 1
    raise ResetCalled()


def soft_reset():
    raise ResetCalled()


def reset_cause():
    return world.reset_cause


def unique_id():
    return b"\x01\x02\x03\x04\x05\x06"


def freq():
    return 240000000


def idle():
    pass


_RESET_NAMES = ("PWRON_RESET", "HARD_RESET", "WDT_RESET", "DEEPSLEEP_RESET", "SOFT_RESET",
                "LOCKUP_RESET", "LPCOMP_RESET", "DEBUG_IF_RESET", "NFC_RESET", "BROWNOUT_RESET")


def use_port(name, **overrides):
    """Switch the fake to a port profile and a fresh world; returns the world."""
    global world, _P
    _P = dict(fake_ports.PORTS[name])
    _P.update(overrides)
    world = World(name, _P)
    g = globals()
    for n in _RESET_NAMES:
        g.pop(n, None)
    for n, v in _P["reset"].items():
        g[n] = v
    kind = _P["adc_kind"]
    g["ADC"] = _ADCEsp32 if kind == "esp32" else _ADCNrf if kind == "nrf" else _ADC
    for cls, present in (("WDT", _P["wdt"] is not None), ("RTC", _P["rtc"]), ("PWM", _P.get("has_pwm", True))):
        if present:
            g[cls] = {"WDT": _WDT, "RTC": _RTC, "PWM": PWM_CLASS}[cls]
        else:
            g.pop(cls, None)
    return world


PWM_CLASS = PWM
use_port("rp2")
