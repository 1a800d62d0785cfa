# ws:// and wss:// URLs (RFC 6455 §3). Only what a station needs: scheme, host (name,
# IPv4 or bracketed IPv6), port and the request path including any query.

_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%"
_HEX = "0123456789abcdefABCDEF"


def _bad(url, why, kind="WebSocket"):
    return ValueError("bad %s URL %r: %s" % (kind, url, why))


_WS = {"ws": (False, 80), "wss": (True, 443)}
_HTTP = {"http": (False, 80), "https": (True, 443)}


def parse_ws_url(url):
    """-> (secure, host, port, path). The host of an IPv6 literal comes without brackets."""
    return _parse(url, _WS, "WebSocket")


def parse_http_url(url):
    """http:// and https:// URLs (firmware download, log upload): same shape as parse_ws_url."""
    return _parse(url, _HTTP, "HTTP")


def _parse(url, schemes, kind):
    if not isinstance(url, str):
        raise ValueError("%s URL must be a string" % kind)
    for ch in url:
        if ord(ch) <= 0x20 or ord(ch) >= 0x7F:
            # Spaces and non-ASCII must be percent-encoded (Part 4 §3.1.1, RFC 3986).
            raise _bad(url, "unencoded space, control or non-ASCII character", kind)
    i = url.find("://")
    if i < 0:
        raise _bad(url, "no scheme", kind)
    scheme = url[:i].lower()
    if scheme not in schemes:
        raise _bad(url, "scheme must be " + " or ".join(sorted(schemes)), kind)
    secure, port = schemes[scheme]
    rest = url[i + 3 :]
    if "#" in rest:
        if kind != "HTTP":
            raise _bad(url, "fragment not allowed", kind)  # RFC 6455 §3
        rest = rest[: rest.find("#")]  # RFC 9110 §4.2.4: a fragment is never sent
    j = len(rest)
    for sep in "/?":
        k = rest.find(sep)
        if 0 <= k < j:
            j = k
    authority = rest[:j]
    path = rest[j:]
    if not path:
        path = "/"
    elif path[0] == "?":
        path = "/" + path
    if "@" in authority:
        raise _bad(url, "credentials in the URL are not supported", kind)
    if authority.startswith("["):
        k = authority.find("]")
        if k < 0:
            raise _bad(url, "unclosed [", kind)
        host = authority[1:k]
        tail = authority[k + 1 :]
        if ":" not in host:
            raise _bad(url, "bracketed host is not IPv6", kind)
        for ch in host:
            if ch not in _HEX and ch not in ":.":
                raise _bad(url, "bad IPv6 address", kind)
        if tail and tail[0] != ":":
            raise _bad(url, "junk after ]", kind)
        port_s = tail[1:] if tail else None
    else:
        k = authority.find(":")
        if k >= 0:
            if authority.find(":", k + 1) >= 0:
                raise _bad(url, "IPv6 address must be in brackets", kind)
            host = authority[:k]
            port_s = authority[k + 1 :]
        else:
            host = authority
            port_s = None
        for ch in host:
            if ch not in _HOST_CHARS:
                raise _bad(url, "bad character in host", kind)
    if not host:
        raise _bad(url, "no host", kind)
    if port_s is not None:
        if not port_s or not port_s.isdigit() or len(port_s) > 5:
            raise _bad(url, "bad port", kind)
        port = int(port_s)
        if not 0 < port < 65536:
            raise _bad(url, "port out of range", kind)
    return (secure, host, port, path)
