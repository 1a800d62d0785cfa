# ws:// / wss:// URL parsing (firmware/flexcharge/comm/url.py).
from support import raises

from flexcharge.comm.url import parse_ws_url


def test_defaults_and_paths():
    assert parse_ws_url("ws://csms.example.com/ocpp/CS001") == (False, "csms.example.com", 80, "/ocpp/CS001")
    assert parse_ws_url("wss://csms.example.com/ocppj/RDAM%20123") == (True, "csms.example.com", 443,
                                                                        "/ocppj/RDAM%20123")
    assert parse_ws_url("ws://h") == (False, "h", 80, "/")
    assert parse_ws_url("wss://h") == (True, "h", 443, "/")
    assert parse_ws_url("ws://h?x=1") == (False, "h", 80, "/?x=1")
    assert parse_ws_url("ws://h/a?x=1&y=2") == (False, "h", 80, "/a?x=1&y=2")
    assert parse_ws_url("WSS://Some.Server.com:33033/webServices/ocpp/CS3211") == (
        True, "Some.Server.com", 33033, "/webServices/ocpp/CS3211")


def test_ports():
    assert parse_ws_url("ws://h:8080/x") == (False, "h", 8080, "/x")
    assert parse_ws_url("wss://h:80/") == (True, "h", 80, "/")
    assert parse_ws_url("ws://h:443") == (False, "h", 443, "/")
    assert parse_ws_url("ws://h:65535")[2] == 65535
    assert parse_ws_url("ws://h:1")[2] == 1


def test_ipv4_and_ipv6():
    assert parse_ws_url("ws://127.0.0.1:9000/ocpp") == (False, "127.0.0.1", 9000, "/ocpp")
    assert parse_ws_url("wss://[::1]:9443/ocpp/CS1") == (True, "::1", 9443, "/ocpp/CS1")
    assert parse_ws_url("ws://[fe80::1:2]") == (False, "fe80::1:2", 80, "/")
    assert parse_ws_url("wss://[2001:db8::7]/x") == (True, "2001:db8::7", 443, "/x")
    assert parse_ws_url("ws://[::ffff:192.0.2.1]:1") == (False, "::ffff:192.0.2.1", 1, "/")


def test_bad_urls():
    bad = (
        "http://h/x", "ftp://h", "h/x", "ws:/h", "ws://", "ws:///x", "ws://:80/x",
        "ws://h:0", "ws://h:65536", "ws://h:99999999", "ws://h:8o", "ws://h:/x", "ws://h:-1",
        "ws://::1/x", "ws://[::1/x", "ws://[::1]x/", "ws://[1.2.3.4]/", "ws://[::g]/",
        "ws://h/x#frag", "ws://user:pw@h/x", "ws://h x/", "ws://h/a b", "ws://h/\u00e9", "ws://h\n/",
        "", 7, None, b"ws://h/",
    )
    for u in bad:
        with raises(ValueError):
            parse_ws_url(u)
