# Version profiles: the OCPP version a connection speaks is chosen by WebSocket
# subprotocol negotiation (Part 4 §3.1.2). Each profile is a module under core/
# exposing SUBPROTOCOL, is_request(), is_known(), validate(). OCPP 2.1 becomes one
# more entry here plus its module: nothing in comm, security or hal changes.
_PROFILES = (("ocpp2.0.1", "flexcharge.core.v201"),)


def subprotocols():
    return tuple(p[0] for p in _PROFILES)


def get(subprotocol):
    for name, mod in _PROFILES:
        if name == subprotocol:
            m = __import__(mod, None, None, ("SUBPROTOCOL",))
            return m
    raise KeyError(subprotocol)
