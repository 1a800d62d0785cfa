# Vendor extensions: what a charger maker adds from board code for OCPP DataTransfer (P01/P02).
# It lives in hal because boards may import flexcharge.hal only, never the core; the core's
# P block (core/blocks/p_data_transfer) finds the handlers and gives each extension its link.
#
#   from flexcharge.hal.vendor import VendorExtension, vendor
#
#   class Acme(VendorExtension):
#       @vendor("com.acme", "Hello")          # messageId "Hello" of vendorId "com.acme"
#       def hello(self, request):             # request: the DataTransferRequest payload
#           return "Accepted", {"hi": 1}      # a status, or (status, data); may be async
#
#       @vendor("com.acme")                   # any other messageId of com.acme (also none)
#       def other(self, request):
#           return "Rejected"
#
#       async def report_something(self):
#           r = await self.send("com.acme", "Stats", {"n": 3})   # P02: the CSMS's response
#           return r["status"], r.get("data")
#
#   board.vendor_extensions = (Acme(),)
#
# A handler that raises, or returns something else than a DataTransferStatusEnumType value,
# answers Rejected: a DataTransfer is never answered with a CALLERROR.

ACCEPTED = "Accepted"
REJECTED = "Rejected"
UNKNOWN_MESSAGE_ID = "UnknownMessageId"
UNKNOWN_VENDOR_ID = "UnknownVendorId"
STATUSES = (ACCEPTED, REJECTED, UNKNOWN_MESSAGE_ID, UNKNOWN_VENDOR_ID)


class TransferFailed(Exception):
    """send() could not get an answer: offline, not registered, timeout or a CALLERROR."""


class _VendorHandler:
    def __init__(self, vendor_id, message_id, fn):
        self.vendor_id = vendor_id
        self.message_id = message_id
        self.fn = fn


def vendor(vendor_id, message_id=None):
    """Mark a method of a VendorExtension as the handler of (vendorId, messageId); without a
    messageId it takes every message of that vendor no other handler takes."""

    def deco(fn):
        return _VendorHandler(vendor_id, message_id, fn)

    return deco


def handlers(ext):
    """(vendor_id, message_id, fn) of every @vendor method of ext's class and its bases."""
    out = []
    cls = type(ext)
    while cls is not None and cls is not object:
        for h in cls.__dict__.values():
            if isinstance(h, _VendorHandler):
                out.append((h.vendor_id, h.message_id, h.fn))
        b = getattr(cls, "__bases__", ())
        cls = b[0] if b else None
    return out


class VendorExtension:
    _link = None  # set by the core: coroutine function(vendor_id, message_id, data) -> response dict

    async def send(self, vendor_id, message_id=None, data=None):
        """P02: DataTransfer to the CSMS. Returns its DataTransferResponse payload ({"status": ...,
        "data": ...}); raises TransferFailed when there is no answer."""
        if self._link is None:
            raise TransferFailed("extension not attached to a station")
        return await self._link(vendor_id, message_id, data)
