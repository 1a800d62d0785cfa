# RFC 6455 frame codec (firmware/flexcharge/comm/wsframe.py). Vectors from RFC 6455 §5.7.
from support import raises

from flexcharge.comm import wsframe
from flexcharge.comm.wsframe import ProtocolError, encode, mask, parse_header, parse_close, close_payload, utf8_valid


def _xor_ref(data, key):
    return bytes([data[i] ^ key[i % 4] for i in range(len(data))])


def _feed(frame):
    # Every strict prefix needs more bytes; the whole header parses.
    h = None
    for i in range(len(frame) + 1):
        h = parse_header(frame[:i])
        if h is not None:
            break
    return h


def test_rfc_unmasked_text():
    f = bytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    assert encode(wsframe.OP_TEXT, b"Hello") == f
    assert _feed(f) == (True, 1, False, 5, None, 2)
    for i in range(2):
        assert parse_header(f[:i]) is None


def test_rfc_masked_text():
    f = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    key = bytes([0x37, 0xFA, 0x21, 0x3D])
    assert encode(wsframe.OP_TEXT, b"Hello", key) == f
    fin, op, masked, n, k, hl = parse_header(f)
    assert (fin, op, masked, n, k, hl) == (True, 1, True, 5, key, 6)
    assert mask(f[hl:], k) == b"Hello"
    for i in range(6):
        assert parse_header(f[:i]) is None


def test_rfc_fragments_and_ping():
    assert encode(wsframe.OP_TEXT, b"Hel", None, False) == bytes([0x01, 0x03, 0x48, 0x65, 0x6C])
    assert encode(wsframe.OP_CONT, b"lo") == bytes([0x80, 0x02, 0x6C, 0x6F])
    assert parse_header(bytes([0x01, 0x03]))[:4] == (False, 0x1, False, 3)
    assert parse_header(bytes([0x80, 0x02]))[:4] == (True, 0x0, False, 2)
    assert encode(wsframe.OP_PING, b"Hello")[:2] == bytes([0x89, 0x05])
    pong = bytes([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert encode(wsframe.OP_PONG, b"Hello", bytes([0x37, 0xFA, 0x21, 0x3D])) == pong


def test_rfc_16_and_64_bit_lengths():
    f = encode(wsframe.OP_BINARY, bytes(256))
    assert f[:4] == bytes([0x82, 0x7E, 0x01, 0x00]) and len(f) == 260
    assert _feed(f) == (True, 2, False, 256, None, 4)
    f = encode(wsframe.OP_BINARY, bytes(65536))
    assert f[:10] == bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]) and len(f) == 65546
    assert _feed(f[:10]) == (True, 2, False, 65536, None, 10)
    # Boundaries: 125 / 126 / 65535.
    assert encode(2, bytes(125))[1] == 125
    assert encode(2, bytes(126))[1:4] == bytes([126, 0, 126])
    assert encode(2, bytes(65535))[1:4] == bytes([126, 0xFF, 0xFF])
    key = b"abcd"
    f = encode(2, bytes(70000), key)
    fin, op, m, n, k, hl = parse_header(f)
    assert (m, n, k, hl) == (True, 70000, key, 14)
    assert mask(f[hl:], key) == bytes(70000)


def test_parse_header_at_offset():
    buf = b"xyz" + encode(1, b"hi")
    assert parse_header(buf, 3) == (True, 1, False, 2, None, 2)
    assert parse_header(bytearray(buf), 3) == (True, 1, False, 2, None, 2)


def test_parse_header_errors():
    bad = (
        bytes([0xC1, 0x00]),  # RSV1
        bytes([0xA1, 0x00]),  # RSV2
        bytes([0x91, 0x00]),  # RSV3
        bytes([0x83, 0x00]),  # reserved data opcode
        bytes([0x87, 0x00]),
        bytes([0x8B, 0x00]),  # reserved control opcode
        bytes([0x8F, 0x00]),
        bytes([0x89, 0x7E]),  # ping with 126 length
        bytes([0x88, 0x7E, 0x00, 0x7E]),
        bytes([0x09, 0x00]),  # fragmented ping
        bytes([0x08, 0x00]),  # fragmented close
        bytes([0x82, 0x7E, 0x00, 0x7D]),  # 16-bit length used for 125
        bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]),  # 64-bit length used for 65535
        bytes([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]),  # MSB set
    )
    for f in bad:
        with raises(ProtocolError) as r:
            parse_header(f)
        assert r.value.args[0]  # a reason to log


def test_protocol_error_is_value_error():
    assert issubclass(ProtocolError, ValueError)


def test_encode_rejects_bad_frames():
    with raises(ValueError):
        encode(wsframe.OP_PING, bytes(126))
    with raises(ValueError):
        encode(wsframe.OP_CLOSE, b"", None, False)
    with raises(ValueError):
        encode(3, b"")
    with raises(ValueError):
        encode(0xB, b"")
    with raises(ValueError):
        mask(b"abc", b"ab")


def test_mask_matches_reference_all_sizes():
    from flexcharge.compat import urandom  # no os.urandom on every port (qemu)

    key = urandom(4)
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 100, 1023, 1024, 1025, 1028, 2048, 2049, 3000, 5001):
        d = urandom(n)
        assert mask(d, key) == _xor_ref(d, key), n
        assert mask(mask(d, key), key) == d
        assert mask(bytearray(d), key) == _xor_ref(d, key)
    # Leading zero bytes survive the big-integer round trip.
    assert mask(bytes(9), b"\0\0\0\0") == bytes(9)
    assert mask(b"\0\0\0\0\0", b"\0\0\0\1") == b"\0\0\0\1\0"


def test_close_payload_round_trip():
    assert close_payload() == b""
    assert close_payload(1000) == b"\x03\xe8"
    p = close_payload(1001, "bye")
    assert p == b"\x03\xe9bye"
    assert parse_close(p) == (1001, "bye")
    assert parse_close(b"") == (None, "")
    # A long reason is cut to fit 125 bytes, never in the middle of a character.
    p = close_payload(1000, "\u00e9" * 100)
    assert len(p) <= 125 and parse_close(p)[1] == "\u00e9" * 61


def test_parse_close_errors():
    for bad in (b"\x03", b"\x03\xe7", b"\x03\xec", b"\x03\xed", b"\x03\xee", b"\x03\xf7", b"\x0b\xb7",
                b"\x13\x88", b"\x00\x00", b"\x03\xe8\xff"):
        with raises(ProtocolError):
            parse_close(bad)
    for ok in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999):
        assert parse_close(close_payload(ok))[0] == ok


def test_utf8_valid():
    good = (b"", b"hello", "\u00e9t\u00e9".encode(), "\u20ac".encode(), "\U0001F600".encode(),
            "\ud7ff".encode(), "\ue000".encode(), "\U0010FFFF".encode(), b"a" * 50 + "\u00e9".encode())
    for g in good:
        assert utf8_valid(g), g
    bad = (b"\xff", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
           b"\xf0\x80\x80\xaf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xe2\x82", b"ok\xe2\x82",
           b"\x80", b"a\xc3", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")
    for b in bad:
        assert not utf8_valid(b), b
    # A prefix of a buffer, without a copy.
    buf = bytearray(b"ok\xc3\xa9" + b"\xff" * 10)
    assert utf8_valid(buf, 4) and not utf8_valid(buf, 5) and not utf8_valid(buf, 3)
    assert utf8_valid(buf, 0)


def test_utf8_repair():
    from flexcharge.comm.wsframe import utf8_repair
    cases = (
        (b"plain", b"plain"),
        ("caf\u00e9".encode(), "caf\u00e9".encode()),
        (b"a\xed\xa0\x80b", b"a\xef\xbf\xbdb"),  # lone high surrogate: one U+FFFD
        (b"\xed\xb0\x80", b"\xef\xbf\xbd"),  # lone low surrogate
        (b"x\xed\xa0\xbd\xed\xb8\x80y", "x\U0001F600y".encode()),  # CESU-8 pair -> the character
        (b"\xed\xb8\x80\xed\xa0\xbd", b"\xef\xbf\xbd\xef\xbf\xbd"),  # pair in the wrong order
        (b"\xc0\xaf", b"\xef\xbf\xbd"),
        (b"\xff\xfe", b"\xef\xbf\xbd\xef\xbf\xbd"),
        (b"ab\xe2\x82", b"ab\xef\xbf\xbd"),  # truncated at the end
    )
    for raw, want in cases:
        got = utf8_repair(raw)
        assert got == want, (raw, got, want)
        assert utf8_valid(got)
