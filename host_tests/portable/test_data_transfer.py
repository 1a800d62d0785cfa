# P01/P02 DataTransfer block (core/blocks/p_data_transfer) with vendor extensions (hal/vendor.py).
from support import raises, run
from fake_station import FakeStation, Handlers
from flexcharge.core.blocks.p_data_transfer.data_transfer import DataTransfer
from flexcharge.hal.vendor import TransferFailed, VendorExtension, vendor
from flexcharge.comm.errors import CallError, NotConnected


class Acme(VendorExtension):
    def __init__(self):
        self.seen = []

    @vendor("com.acme", "Hello")
    def hello(self, request):
        self.seen.append(request)
        return "Accepted", {"hi": request.get("data")}

    @vendor("com.acme", "Slow")
    async def slow(self, request):
        return "Rejected"

    @vendor("com.acme", "Broken")
    def broken(self, request):
        raise RuntimeError("vendor bug")

    @vendor("com.acme", "Odd")
    def odd(self, request):
        return "Maybe"


class AnyMessage(VendorExtension):
    @vendor("org.any")
    def any_message(self, request):
        return "Accepted", request.get("messageId")


class Board:
    def __init__(self, exts):
        self.vendor_extensions = exts


def setup(*exts):
    st = FakeStation()
    st.board = Board(exts)
    b = DataTransfer(st)
    return st, b, Handlers(st, b)


def test_incoming_data_transfer_statuses_p01():
    acme = Acme()
    st, b, h = setup(acme, AnyMessage())
    assert h("DataTransfer", {"vendorId": "com.acme", "messageId": "Hello", "data": 7}) == {
        "status": "Accepted", "data": {"hi": 7}}
    assert acme.seen[0]["vendorId"] == "com.acme"
    assert h("DataTransfer", {"vendorId": "com.acme", "messageId": "Slow"}) == {"status": "Rejected"}
    assert h("DataTransfer", {"vendorId": "com.acme", "messageId": "Nope"}) == {"status": "UnknownMessageId"}  # P01.FR.06
    assert h("DataTransfer", {"vendorId": "com.acme"}) == {"status": "UnknownMessageId"}
    assert h("DataTransfer", {"vendorId": "org.other", "messageId": "Hello"}) == {"status": "UnknownVendorId"}  # P01.FR.05
    # a failing or confused handler: Rejected, never a CALLERROR
    assert h("DataTransfer", {"vendorId": "com.acme", "messageId": "Broken"}) == {"status": "Rejected"}
    assert h("DataTransfer", {"vendorId": "com.acme", "messageId": "Odd"}) == {"status": "Rejected"}
    # a vendor-wide handler takes every messageId, also none
    assert h("DataTransfer", {"vendorId": "org.any", "messageId": "X"}) == {"status": "Accepted", "data": "X"}
    assert h("DataTransfer", {"vendorId": "org.any"}) == {"status": "Accepted"}
    assert b.vendors() == ["com.acme", "org.any"]


def test_no_extension_means_unknown_vendor():
    st, b, h = setup()
    assert h("DataTransfer", {"vendorId": "org.openchargealliance.octt", "messageId": "x"}) == {
        "status": "UnknownVendorId"}  # TC_P_01_CS


def test_bad_payload_is_still_a_callerror():
    st, b, h = setup(Acme())
    with raises(CallError):
        h("DataTransfer", {"messageId": "Hello"})  # vendorId is required by the schema


def test_send_p02_returns_the_csms_response():
    acme = Acme()
    st, b, h = setup(acme)
    st.responses["DataTransfer"] = lambda p: {"status": "Accepted", "data": {"got": p.get("data")}}
    r = run(acme.send("com.acme", "Stats", {"n": 3}))
    assert r == {"status": "Accepted", "data": {"got": {"n": 3}}}
    assert st.sent("DataTransfer") == [{"vendorId": "com.acme", "messageId": "Stats", "data": {"n": 3}}]
    st.responses["DataTransfer"] = {"status": "UnknownVendorId"}
    assert run(b.send("org.x"))["status"] == "UnknownVendorId"
    assert st.sent("DataTransfer")[-1] == {"vendorId": "org.x"}
    st.responses["DataTransfer"] = NotConnected("offline")
    with raises(TransferFailed):
        run(acme.send("com.acme", "Stats"))


def test_unattached_extension_cannot_send():
    with raises(TransferFailed):
        run(Acme().send("com.acme", "Hello"))
