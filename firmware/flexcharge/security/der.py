# Minimal DER (X.690) reader and writer for X.509 work, over bytes or memoryview.
# Pure Python, runs on MicroPython and CPython; imports nothing from core (layer rule:
# core uses security, never the reverse).
#
# API (stable; x509.py, verify.py, csr.py and the OCPP blocks build on it):
#   CertError(ValueError)            the only error any malformed input raises; str(e) is the reason
#   read_tlv(buf, off, limit=None)   -> (tag, start, end): one TLV at off; content is buf[start:end]
#   expect(buf, off, tag, limit)     -> (start, end) of a TLV that must have this tag
#   children(buf, start, end)        -> list of (tag, start, end) of the TLVs filling buf[start:end]
#   read_int(buf, start, end)        -> int (two's complement, minimal encoding enforced)
#   read_uint(buf, start, end)       -> int, must be >= 0
#   read_oid(buf, start, end)        -> dotted string "1.2.840.10045.2.1"
#   read_bits(buf, start, end)       -> (unused_bits, start+1, end): BIT STRING content
#   read_time(buf, tag, start, end)  -> int Unix epoch of a UTCTime / GeneralizedTime (Z, seconds)
#   days_from_civil(y, m, d)         -> days since 1970-01-01
#   bit_length(n)                    int.bit_length() for n >= 0 (MicroPython has none)
#   enc(tag, content) / enc_int(n) / enc_oid(dotted) / enc_seq(*parts) / enc_bits(data)
#
# DER only: indefinite lengths, non-minimal lengths, high tag numbers, lengths beyond the
# buffer (or beyond MAX_LEN) and trailing bytes are refused. Nothing here recurses: callers
# walk a fixed, known structure, so input depth cannot exhaust the stack.
from flexcharge.accel import days_from_civil  # integer calendar (accel imports nothing of ours)

TAG_BOOL = 0x01
TAG_INT = 0x02
TAG_BITS = 0x03
TAG_OCTETS = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_UTF8 = 0x0C
TAG_PRINTABLE = 0x13
TAG_T61 = 0x14
TAG_IA5 = 0x16
TAG_UTCTIME = 0x17
TAG_GENTIME = 0x18
TAG_BMP = 0x1E
TAG_SEQ = 0x30
TAG_SET = 0x31

MAX_LEN = 1 << 20  # no certificate or CSR we handle comes near 1 MB: anything longer is absurd


class CertError(ValueError):
    pass


def read_tlv(buf, off, limit=None):
    """(tag, start, end) of the TLV at buf[off:]; its content is buf[start:end], end <= limit."""
    if limit is None:
        limit = len(buf)
    if off < 0 or off + 2 > limit:
        raise CertError("truncated DER: no tag/length at offset %d" % off)
    tag = buf[off]
    if tag & 0x1F == 0x1F:
        raise CertError("DER high tag number at offset %d is not supported" % off)
    n = buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0:
            raise CertError("indefinite length is not DER")
        if k > 3:
            raise CertError("absurd DER length (%d length bytes)" % k)
        if off + k > limit:
            raise CertError("truncated DER length")
        if buf[off] == 0:
            raise CertError("non-minimal DER length")
        n = 0
        for i in range(k):
            n = (n << 8) | buf[off + i]
        off += k
        if n < 0x80:
            raise CertError("non-minimal DER length")
    if n > MAX_LEN:
        raise CertError("absurd DER length %d" % n)
    end = off + n
    if end > limit:
        raise CertError("truncated DER: element of %d bytes at offset %d overruns its container" % (n, off))
    return tag, off, end


def expect(buf, off, tag, limit=None):
    t, s, e = read_tlv(buf, off, limit)
    if t != tag:
        raise CertError("expected DER tag 0x%02x, found 0x%02x at offset %d" % (tag, t, off))
    return s, e


def children(buf, start, end, maximum=64):
    """All TLVs that exactly fill buf[start:end] (at most `maximum`)."""
    out = []
    off = start
    while off < end:
        t, s, e = read_tlv(buf, off, end)
        out.append((t, s, e))
        if len(out) > maximum:
            raise CertError("too many DER elements (more than %d)" % maximum)
        off = e
    return out


def read_int(buf, start, end):
    n = end - start
    if n == 0:
        raise CertError("empty DER INTEGER")
    if n > 1:
        b0 = buf[start]
        b1 = buf[start + 1]
        if (b0 == 0 and b1 < 0x80) or (b0 == 0xFF and b1 >= 0x80):
            raise CertError("non-minimal DER INTEGER")
    v = int.from_bytes(bytes(buf[start:end]), "big")
    if buf[start] & 0x80:
        v -= 1 << (8 * n)
    return v


def read_uint(buf, start, end):
    v = read_int(buf, start, end)
    if v < 0:
        raise CertError("negative DER INTEGER where a positive one is required")
    return v


def read_oid(buf, start, end):
    if start >= end or end - start > 64:
        raise CertError("bad OID length")
    if buf[end - 1] & 0x80:
        raise CertError("truncated OID")
    parts = []
    v = 0
    first = True
    fresh = True
    for i in range(start, end):
        b = buf[i]
        if fresh and b == 0x80:
            raise CertError("non-minimal OID arc")
        v = (v << 7) | (b & 0x7F)
        fresh = False
        if not b & 0x80:
            if first:
                if v < 80:
                    parts.append(str(v // 40))
                    parts.append(str(v % 40))
                else:
                    parts.append("2")
                    parts.append(str(v - 80))
                first = False
            else:
                parts.append(str(v))
            v = 0
            fresh = True
    return ".".join(parts)


def read_bits(buf, start, end):
    if start >= end:
        raise CertError("empty BIT STRING")
    unused = buf[start]
    if unused > 7 or (unused and start + 1 == end):
        raise CertError("bad BIT STRING unused-bits count")
    return unused, start + 1, end


_MDAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _dig(buf, i, n):
    v = 0
    for j in range(i, i + n):
        c = buf[j]
        if c < 48 or c > 57:
            raise CertError("bad digit in certificate time")
        v = v * 10 + c - 48
    return v


def read_time(buf, tag, start, end):
    """Unix epoch (int) of a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ).

    RFC 5280 §4.1.2.5: DER times are UTC ("Z"), with seconds, without fractions.
    """
    n = end - start
    if tag == TAG_UTCTIME:
        if n != 13:
            raise CertError("UTCTime must be YYMMDDHHMMSSZ")
        y = _dig(buf, start, 2)
        y += 1900 if y >= 50 else 2000  # RFC 5280 §4.1.2.5.1
        i = start + 2
    elif tag == TAG_GENTIME:
        if n != 15:
            raise CertError("GeneralizedTime must be YYYYMMDDHHMMSSZ")
        y = _dig(buf, start, 4)
        i = start + 4
    else:
        raise CertError("expected a UTCTime or GeneralizedTime, found tag 0x%02x" % tag)
    if buf[end - 1] != 0x5A:  # "Z"
        raise CertError("certificate time is not UTC (no Z)")
    mo = _dig(buf, i, 2)
    d = _dig(buf, i + 2, 2)
    h = _dig(buf, i + 4, 2)
    mi = _dig(buf, i + 6, 2)
    s = _dig(buf, i + 8, 2)
    if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 59:
        raise CertError("impossible certificate time")
    md = _MDAYS[mo - 1]
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        md = 29
    if d > md:
        raise CertError("impossible certificate date")
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


# --- writer (CSR, keys) ----------------------------------------------------------------


def bit_length(n):
    """int.bit_length() (missing on MicroPython), for n >= 0."""
    if n <= 0:
        return 0
    h = "%x" % n
    return (len(h) - 1) * 4 + (0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4)[int(h[0], 16)]


def _len(n):
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((bit_length(n) + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def enc(tag, content):
    content = bytes(content)
    return bytes((tag,)) + _len(len(content)) + content


def enc_int(v):
    if v < 0:
        raise CertError("negative INTEGER encoding not needed here")
    b = v.to_bytes(bit_length(v) // 8 + 1, "big")  # one spare bit: a leading 0 when the top bit is set
    return enc(TAG_INT, b)


def enc_oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    vals = [arcs[0] * 40 + arcs[1]] + arcs[2:]
    out = bytearray()
    for v in vals:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        chunk.reverse()
        out.extend(bytes(chunk))
    return enc(TAG_OID, out)


def enc_seq(*parts):
    return enc(TAG_SEQ, b"".join(parts))


def enc_bits(data):
    return enc(TAG_BITS, b"\x00" + bytes(data))
