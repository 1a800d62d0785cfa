# The portable C core (firmware/cmodules/flexcharge_c/fc_core.c) built as a host shared
# library and wrapped with ctypes into the very API of the MicroPython binding
# (modflexcharge_c.c), so CPython tests can hold it against the Python fallbacks.
import ctypes
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "firmware", "cmodules", "flexcharge_c")
OUT = os.path.join(ROOT, "build", "host-cmod")


def build(cc="gcc", extra=()):
    """Compile fc_core.c into build/host-cmod/libfc_core.so (when out of date); its path."""
    os.makedirs(OUT, exist_ok=True)
    so = os.path.join(OUT, "libfc_core.so")
    srcs = [os.path.join(SRC, "fc_core.c"), os.path.join(SRC, "fc_core.h")]
    if not os.path.exists(so) or any(os.path.getmtime(s) > os.path.getmtime(so) for s in srcs):
        cmd = [cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC",
               *extra, "-o", so + ".tmp", srcs[0]]
        subprocess.run(cmd, check=True)
        os.replace(so + ".tmp", so)
    return so


class _Hdr(ctypes.Structure):
    _fields_ = [("fin", ctypes.c_int), ("opcode", ctypes.c_int), ("masked", ctypes.c_int),
                ("length", ctypes.c_uint64), ("key", ctypes.c_uint8 * 4), ("header_length", ctypes.c_int)]


class _Json(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("index", ctypes.c_long), ("id0", ctypes.c_long),
                ("id1", ctypes.c_long), ("ty0", ctypes.c_long), ("ty1", ctypes.c_long)]


class ProtocolError(ValueError):
    pass


_WS_ERR = {-1: "reserved bits set", -2: "reserved opcode %d", -3: "control frame longer than 125 bytes",
           -4: "fragmented control frame", -5: "length not minimally encoded",
           -6: "64-bit length with the most significant bit set"}
_ENC_ERR = {-1: "bad opcode %d", -2: "control frame payload > 125 bytes", -3: "control frames cannot be fragmented"}


class FC:
    """The binding's API over the shared library."""

    ProtocolError = ProtocolError

    def __init__(self, so=None):
        lib = self.lib = ctypes.CDLL(so or build())
        P = ctypes.POINTER
        u8p = ctypes.c_char_p
        lib.fc_mask.argtypes = [ctypes.c_void_p, ctypes.c_size_t, u8p, ctypes.c_uint]
        lib.fc_mask.restype = None
        lib.fc_ws_parse_header.argtypes = [u8p, ctypes.c_size_t, P(_Hdr)]
        lib.fc_ws_encode_header.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64, u8p, ctypes.c_int]
        lib.fc_utf8_valid.argtypes = [u8p, ctypes.c_size_t]
        lib.fc_json_check.argtypes = [u8p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, P(_Json)]
        lib.fc_time_scan.argtypes = [u8p, ctypes.c_size_t, P(ctypes.c_int64), P(ctypes.c_int), P(ctypes.c_int)]
        lib.fc_energy_step.argtypes = [P(ctypes.c_int64), ctypes.c_int64, ctypes.c_int64]
        lib.fc_energy_step.restype = ctypes.c_int64
        lib.fc_crc16.argtypes = [u8p, ctypes.c_size_t]
        lib.fc_crc16.restype = ctypes.c_uint

    @staticmethod
    def _key(key):
        key = bytes(key)
        if len(key) != 4:
            raise ValueError("mask key must be 4 bytes")
        return key

    def mask(self, data, key):
        key = self._key(key)
        b = ctypes.create_string_buffer(bytes(data), len(data))
        self.lib.fc_mask(b, len(data), key, 0)
        return b.raw

    def mask_into(self, buf, key, phase=0):
        key = self._key(key)
        n = len(buf)
        b = (ctypes.c_char * n).from_buffer(buf) if n else None
        self.lib.fc_mask(b, n, key, phase & 3)

    def encode(self, opcode, payload, mask_key=None, fin=True):
        head = ctypes.create_string_buffer(14)
        payload = bytes(payload)
        r = self.lib.fc_ws_encode_header(head, opcode, len(payload), b"\0\0\0\0", bool(fin))
        if r < 0:
            m = _ENC_ERR[r]
            raise ValueError(m % opcode if "%" in m else m)
        key = None if mask_key is None else self._key(mask_key)
        hl = self.lib.fc_ws_encode_header(head, opcode, len(payload), key, bool(fin))
        return head.raw[:hl] + (payload if key is None else self.mask(payload, key))

    def parse_header(self, buf, offset=0):
        if offset < 0:
            raise ValueError("negative offset")
        b = bytes(buf)[offset:]
        h = _Hdr()
        r = self.lib.fc_ws_parse_header(b, len(b), ctypes.byref(h))
        if r == 0:
            return None
        if r < 0:
            m = _WS_ERR[r]
            raise ProtocolError(m % h.opcode if "%" in m else m)
        return (bool(h.fin), h.opcode, bool(h.masked), h.length, bytes(h.key) if h.masked else None,
                h.header_length)

    def utf8_valid(self, data):
        return bool(self.lib.fc_utf8_valid(bytes(data), len(data)))

    def json_check(self, b, n=-1, max_depth=32):
        b = bytes(b)
        if n < 0 or n > len(b):
            n = len(b)
        if max_depth < 0:
            raise ValueError("negative max_depth")
        st = ctypes.create_string_buffer(max_depth + 1)
        r = _Json()
        self.lib.fc_json_check(b, n, max_depth, st, ctypes.byref(r))
        return (r.status, r.index, None if r.id0 < 0 else (r.id0, r.id1), None if r.ty0 < 0 else (r.ty0, r.ty1))

    def time_scan(self, s):
        if not isinstance(s, str):
            return None
        b = s.encode("utf-8", "surrogatepass")
        t = ctypes.c_int64()
        ms = ctypes.c_int()
        fl = ctypes.c_int()
        if not self.lib.fc_time_scan(b, len(b), ctypes.byref(t), ctypes.byref(ms), ctypes.byref(fl)):
            return None
        return (t.value, ms.value, fl.value)

    def energy_step(self, rem, power_mw, dt_ms):
        if not (0 <= rem < 3600000 and 0 <= power_mw <= 0x7FFFFFFF and 0 <= dt_ms <= 0x7FFFFFFF):
            raise ValueError("energy_step argument out of range")
        r = ctypes.c_int64(rem)
        q = self.lib.fc_energy_step(ctypes.byref(r), power_mw, dt_ms)
        return (q, r.value)

    def crc16(self, data):
        return self.lib.fc_crc16(bytes(data), len(data))
