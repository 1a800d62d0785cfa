# NXP MFRC522 13.56 MHz reader (ISO/IEC 14443 A) over SPI: reads card UIDs
# (4-byte single size and 7-byte double size) for IdTokenType ISO14443.
# One register access per chip-select frame: address byte ((reg << 1) & 0x7E,
# bit 7 set for read) followed by one data byte.
from flexcharge.compat import sleep_ms, ticks_ms, ticks_diff

_COMMAND = 0x01
_COM_IRQ = 0x04
_ERROR = 0x06
_FIFO_DATA = 0x09
_FIFO_LEVEL = 0x0A
_CONTROL = 0x0C
_BIT_FRAMING = 0x0D
_MODE = 0x11
_TX_CONTROL = 0x14
_TX_ASK = 0x15
_T_MODE = 0x2A
_T_PRESCALER = 0x2B
_T_RELOAD_H = 0x2C
_T_RELOAD_L = 0x2D
_VERSION = 0x37

_IDLE = 0x00
_TRANSCEIVE = 0x0C
_SOFT_RESET = 0x0F

REQA = 0x26
SEL_CL1 = 0x93
SEL_CL2 = 0x95
CASCADE_TAG = 0x88


def crc_a(data):
    """ISO/IEC 14443-3 CRC_A (init 0x6363, reflected poly 0x8408), low byte first."""
    crc = 0x6363
    for b in data:
        b ^= crc & 0xFF
        b = (b ^ (b << 4)) & 0xFF
        crc = (crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)
    return bytes((crc & 0xFF, (crc >> 8) & 0xFF))


class RfidError(Exception):
    pass


class MFRC522:
    def __init__(self, spi, cs, rst=None, timeout_ms=30):
        self._spi = spi
        self._cs = cs
        self._rst = rst
        self.timeout_ms = timeout_ms
        self._tx = bytearray(2)
        self._rx = bytearray(2)
        cs.value(1)
        if rst is not None:
            rst.value(1)
        self.version = None

    def _xfer(self, a, v):
        self._tx[0] = a
        self._tx[1] = v
        self._cs.value(0)
        try:
            self._spi.write_readinto(self._tx, self._rx)
        finally:
            self._cs.value(1)
        return self._rx[1]

    def wr(self, reg, val):
        self._xfer((reg << 1) & 0x7E, val)

    def rd(self, reg):
        return self._xfer(((reg << 1) & 0x7E) | 0x80, 0)

    async def init(self):
        self.wr(_COMMAND, _SOFT_RESET)
        await sleep_ms(50)
        self.wr(_T_MODE, 0x80)  # timer starts after each transmission
        self.wr(_T_PRESCALER, 0xA9)  # 13.56 MHz / (2 * 169 + 1): 40 kHz ticks
        self.wr(_T_RELOAD_H, 0x03)
        self.wr(_T_RELOAD_L, 0xE8)  # 1000 ticks: 25 ms receive timeout
        self.wr(_TX_ASK, 0x40)  # 100 % ASK
        self.wr(_MODE, 0x3D)  # CRC preset 0x6363 (ISO 14443 A)
        self.wr(_TX_CONTROL, self.rd(_TX_CONTROL) | 0x03)  # antenna on
        self.version = self.rd(_VERSION)
        if self.version in (0x00, 0xFF):
            raise RfidError("no MFRC522 on the SPI bus (version 0x%02x)" % self.version)
        return self.version

    async def transceive(self, data, last_bits=0):
        """Send `data` (last byte with `last_bits` bits, 0 = 8); bytes received or None."""
        self.wr(_COMMAND, _IDLE)
        self.wr(_COM_IRQ, 0x7F)  # clear interrupt request bits
        self.wr(_FIFO_LEVEL, 0x80)  # flush FIFO
        for b in data:
            self.wr(_FIFO_DATA, b)
        self.wr(_BIT_FRAMING, last_bits & 0x07)
        self.wr(_COMMAND, _TRANSCEIVE)
        self.wr(_BIT_FRAMING, 0x80 | (last_bits & 0x07))  # StartSend
        t0 = ticks_ms()
        while True:
            irq = self.rd(_COM_IRQ)
            if irq & 0x30:  # RxIRq | IdleIRq
                break
            if irq & 0x01 or ticks_diff(ticks_ms(), t0) > self.timeout_ms:  # TimerIRq
                self.wr(_BIT_FRAMING, 0)
                return None
            await sleep_ms(1)
        self.wr(_BIT_FRAMING, 0)
        if self.rd(_ERROR) & 0x13:  # BufferOvfl | ParityErr | ProtocolErr
            return None
        n = self.rd(_FIFO_LEVEL)
        return bytes(self.rd(_FIFO_DATA) for _ in range(n))

    async def _cascade(self, sel):
        r = await self.transceive(bytes((sel, 0x20)))  # anticollision
        if r is None or len(r) != 5 or r[0] ^ r[1] ^ r[2] ^ r[3] != r[4]:
            return None, None
        cmd = bytes((sel, 0x70)) + r
        sak = await self.transceive(cmd + crc_a(cmd))  # SELECT
        if sak is None or len(sak) != 3 or crc_a(sak[:1]) != sak[1:]:
            return None, None
        return r[:4], sak[0]

    async def read_uid(self):
        """UID bytes of the card in the field, or None."""
        atqa = await self.transceive(bytes((REQA,)), 7)
        if atqa is None or len(atqa) != 2:
            return None
        part, sak = await self._cascade(SEL_CL1)
        if part is None:
            return None
        if part[0] != CASCADE_TAG:
            return part
        rest, sak = await self._cascade(SEL_CL2)
        if rest is None:
            return None
        return part[1:] + rest
