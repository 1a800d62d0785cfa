# Modbus RTU master over a half-duplex RS-485 UART (Modbus over Serial Line V1.02).
# Frame: unit, function, data..., CRC16 (poly 0xA001 reflected, init 0xFFFF, low byte first).
# Waiting for the answer is asyncio: the UART is polled with any() between short sleeps.
import asyncio
import struct
import time

from flexcharge import accel
from flexcharge.compat import ticks_ms, ticks_diff, sleep_ms

READ_HOLDING = 3
READ_INPUT = 4
WRITE_SINGLE = 6


class ModbusError(Exception):
    """Exception response from the slave (code = Modbus exception code 1..11),
    or code 0 for a broken frame (CRC, wrong unit/function, length)."""

    def __init__(self, code, msg=""):
        super().__init__(code, msg)
        self.code = code


class ModbusTimeout(ModbusError):
    def __init__(self, msg="timeout"):
        super().__init__(0, msg)


crc16 = accel.crc16  # Modbus CRC16: the C module where built in, else its Python twin


def frame(unit, fn, payload):
    body = bytes((unit, fn)) + payload
    c = crc16(body)
    return body + bytes((c & 0xFF, c >> 8))


def crc_ok(f):
    return len(f) >= 4 and crc16(f[:-2]) == (f[-2] | f[-1] << 8)


class ModbusRTU:
    def __init__(self, uart, de=None, baudrate=9600, timeout_ms=250, retries=1, poll_ms=2):
        self._uart = uart
        self._de = de
        self.timeout_ms = timeout_ms
        self.retries = retries
        self._poll = poll_ms
        self._baud = baudrate
        # 3.5 character times of silence delimit frames (fixed 1.75 ms above 19200 baud).
        self._t35 = max(2, (35 * 11000 // baudrate + 9) // 10)
        self._last = ticks_ms()
        self._lock = asyncio.Lock()
        if de is not None:
            de.value(0)

    async def request(self, unit, fn, payload, expect):
        """Send one request, return the whole response frame (`expect` bytes incl. CRC).
        Retries timeouts and broken frames; exception responses raise at once."""
        await self._lock.acquire()
        try:
            tries = self.retries + 1
            while True:
                tries -= 1
                try:
                    return await self._once(unit, fn, payload, expect)
                except ModbusError as e:
                    if e.code or tries <= 0:
                        raise
        finally:
            self._lock.release()

    async def _once(self, unit, fn, payload, expect):
        u = self._uart
        n = u.any()
        if n:
            u.read(n)  # stale bytes from an earlier, timed-out answer
        gap = ticks_diff(ticks_ms(), self._last)
        if gap < self._t35:
            await sleep_ms(self._t35 - gap)
        if self._de is not None:
            self._de.value(1)
        req = frame(unit, fn, payload)
        u.write(req)
        # Release the bus as soon as the last stop bit is out: the slave may answer
        # after 3.5 characters, so this must not wait on the scheduler. flush() blocks
        # for the frame time only (8 bytes at 9600 baud: ~9 ms); ports without it get
        # the same wait computed from the baud rate.
        fl = getattr(u, "flush", None)
        if fl is not None:
            fl()
        else:
            time.sleep(len(req) * 11 / self._baud)
        if self._de is not None:
            self._de.value(0)
        buf = b""
        t0 = ticks_ms()
        try:
            while True:
                n = u.any()
                if n:
                    buf += u.read(n)
                    r = _parse(buf, unit, fn, expect)
                    if r is not None:
                        return r
                elif ticks_diff(ticks_ms(), t0) > self.timeout_ms:
                    raise ModbusTimeout("unit %d fn %d: %d of %d bytes" % (unit, fn, len(buf), expect))
                else:
                    await sleep_ms(self._poll)
        finally:
            self._last = ticks_ms()

    async def read_registers(self, unit, addr, count, fn=READ_INPUT):
        """Raw register bytes (2 * count, big-endian words)."""
        f = await self.request(unit, fn, struct.pack(">HH", addr, count), 5 + 2 * count)
        if f[2] != 2 * count:
            raise ModbusError(0, "byte count %d" % f[2])
        return f[3:3 + 2 * count]

    async def read_floats(self, unit, addr, n, fn=READ_INPUT):
        """n IEEE754 floats, each in two registers, high word first."""
        data = await self.read_registers(unit, addr, 2 * n, fn)
        return struct.unpack(">" + "f" * n, data)

    async def write_register(self, unit, addr, value):
        payload = struct.pack(">HH", addr, value)
        f = await self.request(unit, WRITE_SINGLE, payload, 8)
        if f[2:6] != payload:
            raise ModbusError(0, "echo mismatch")


def _parse(buf, unit, fn, expect):
    """None while incomplete; the frame when complete; raises on exception/broken frames."""
    if len(buf) >= 5 and buf[1] == (fn | 0x80):
        if crc_ok(buf[:5]) and buf[0] == unit:
            raise ModbusError(buf[2], "exception response")
        raise ModbusError(0, "bad exception frame")
    if len(buf) < expect:
        return None
    f = buf[:expect]
    if not crc_ok(f):
        raise ModbusError(0, "CRC")
    if f[0] != unit or f[1] != fn:
        raise ModbusError(0, "unit/function mismatch")
    return f
