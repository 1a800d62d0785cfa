# P01 DataTransfer from the CSMS, P02 DataTransfer to the CSMS (TC_P_01_CS).
#
# Vendor handlers come from the board (`board.vendor_extensions`, see flexcharge/hal/vendor.py)
# or from add(). An incoming DataTransfer is always answered with a DataTransferResponse, never a
# CALLERROR: unknown vendorId -> UnknownVendorId (P01.FR.05), known vendor but no handler for the
# messageId -> UnknownMessageId (P01.FR.06), a failing handler -> Rejected.
from flexcharge.core.router import Block, on
from flexcharge.hal import vendor as hv
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected


def _awaitable(r):
    return hasattr(r, "send") or hasattr(r, "__await__")


class DataTransfer(Block):
    def __init__(self, station):
        Block.__init__(self, station)
        self._handlers = []  # (vendor_id, message_id or None, extension, fn): few, a list is enough
        for ext in getattr(station.board, "vendor_extensions", None) or ():
            self.add(ext)

    def add(self, ext):
        """Attach a VendorExtension: its @vendor handlers answer P01, its send() does P02."""
        for vid, mid, fn in hv.handlers(ext):
            self._handlers.append((vid, mid, ext, fn))
        ext._link = self.send
        return ext

    def vendors(self):
        return sorted(set(h[0] for h in self._handlers))

    def _find(self, vendor_id, message_id):
        known = False
        default = None
        for vid, mid, ext, fn in self._handlers:
            if vid != vendor_id:
                continue
            known = True
            if mid is None:
                default = (ext, fn)
            elif mid == message_id:
                return True, (ext, fn)
        return known, default

    # -- P01 -------------------------------------------------------------------------------
    @on("DataTransfer")
    async def data_transfer(self, p):
        known, h = self._find(p["vendorId"], p.get("messageId"))
        if not known:
            return {"status": hv.UNKNOWN_VENDOR_ID}  # P01.FR.05
        if h is None:
            return {"status": hv.UNKNOWN_MESSAGE_ID}  # P01.FR.06
        ext, fn = h
        try:
            r = fn(ext, p)
            if _awaitable(r):
                r = await r
        except Exception as e:  # a vendor's bug is its message's problem, not a CALLERROR
            self.station.log.error("DataTransfer %s/%s handler failed: %r" % (p["vendorId"], p.get("messageId"), e))
            return {"status": hv.REJECTED}
        data = None
        if isinstance(r, tuple) and len(r) == 2:
            r, data = r
        if r not in hv.STATUSES:
            self.station.log.warn("DataTransfer handler returned %r: Rejected" % (r,))
            return {"status": hv.REJECTED}
        out = {"status": r}
        if data is not None:
            out["data"] = data
        return out

    # -- P02 -------------------------------------------------------------------------------
    async def send(self, vendor_id, message_id=None, data=None):
        """DataTransfer to the CSMS; returns its DataTransferResponse payload (schema-checked by
        Station.call). Raises hal.vendor.TransferFailed without an answer."""
        p = {"vendorId": vendor_id}
        if message_id is not None:
            p["messageId"] = message_id
        if data is not None:
            p["data"] = data
        try:
            return await self.station.call("DataTransfer", p)
        except (NotConnected, CallTimeout, CallError) as e:
            raise hv.TransferFailed(repr(e))
