# Example vendor extension of the simulated board (OCPP P01/P02 DataTransfer), the way a charger
# maker adds its own from board code: see flexcharge/hal/vendor.py and the README.
#
# vendorId "com.flexcharge.example":
#   messageId "Echo"    -> Accepted, data = the request's data
#   messageId "Reject"  -> Rejected
#   messageId "Hello"   -> Accepted, data {"board": "unix", "evses": N}
#   anything else       -> UnknownMessageId (the P block's answer: no handler for it)
# The stdin command {"cmd": "data_transfer", "vendorId": ..., "messageId": ..., "data": ...}
# sends a DataTransfer to the CSMS (P02) and reports the answer as a `data_transfer` event.
import asyncio

from flexcharge.hal.vendor import TransferFailed, VendorExtension, vendor

VENDOR_ID = "com.flexcharge.example"


class ExampleVendor(VendorExtension):
    def __init__(self, board):
        self.board = board

    @vendor(VENDOR_ID, "Echo")
    def echo(self, request):
        return "Accepted", request.get("data")

    @vendor(VENDOR_ID, "Reject")
    def reject(self, request):
        return "Rejected"

    @vendor(VENDOR_ID, "Hello")
    def hello(self, request):
        return "Accepted", {"board": "unix", "evses": len(self.board.evse_ids)}

    # -- P02 from the stdin command ------------------------------------------------------
    def command(self, cmd):
        vid = cmd.get("vendorId")
        mid = cmd.get("messageId")
        if not isinstance(vid, str) or not vid or len(vid) > 255:
            raise ValueError("data_transfer needs a string 'vendorId' (1-255 characters)")
        if mid is not None and (not isinstance(mid, str) or len(mid) > 50):
            raise ValueError("'messageId' must be a string of up to 50 characters")
        asyncio.create_task(self._send(vid, mid, cmd.get("data")))
        return "data_transfer"

    async def _send(self, vid, mid, data):
        ev = {"vendorId": vid, "messageId": mid}
        try:
            r = await self.send(vid, mid, data)
            ev["status"] = r.get("status")
            if "data" in r:
                ev["data"] = r["data"]
        except TransferFailed as e:
            ev["error"] = str(e)[:200]
        self.board.indicator.report("data_transfer", ev)
