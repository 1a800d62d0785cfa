# Issue 8, P01/P02 DataTransfer both ways: the real station (unix board with its example vendor
# extension, boards/unix/vendor_example.py) against the `ocpp` CSMS. Never a CALLERROR for a valid
# DataTransfer: UnknownVendorId (P01.FR.05), UnknownMessageId (P01.FR.06), or the vendor's answer.
CALLRESULT, CALLERROR = 3, 4
VENDOR = "com.flexcharge.example"


def booted(make_csms, make_station, kit):
    csms = make_csms()
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    return csms, st


def test_csms_to_station_p01(make_csms, make_station, kit):
    csms, st = booted(make_csms, make_station, kit)
    r = csms.data_transfer(VENDOR, "Echo", {"a": [1, 2], "b": "x"})
    assert r.kind == CALLRESULT and r.payload == {"status": "Accepted", "data": {"a": [1, 2], "b": "x"}}, r
    r = csms.data_transfer(VENDOR, "Hello")
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted" and r.payload["data"]["board"] == "unix", r
    r = csms.data_transfer(VENDOR, "Reject")
    assert r.kind == CALLRESULT and r.payload == {"status": "Rejected"}, r
    r = csms.data_transfer(VENDOR, "NoSuchMessage", "data")
    assert r.kind == CALLRESULT and r.payload == {"status": "UnknownMessageId"}, r
    r = csms.data_transfer("org.openchargealliance.octt", "anything")  # TC_P_01_CS
    assert r.kind == CALLRESULT and r.payload == {"status": "UnknownVendorId"}, r
    r = csms.data_transfer("org.openchargealliance.octt")
    assert r.kind == CALLRESULT and r.payload == {"status": "UnknownVendorId"}, r
    assert st.alive()


def test_station_to_csms_p02(make_csms, make_station, kit):
    csms, st = booted(make_csms, make_station, kit)
    csms.vendors["com.acme.csms"] = {
        "Ping": lambda p: {"status": "Accepted", "data": {"pong": p.get("data")}},
        "Nope": {"status": "Rejected"},
    }
    cases = (
        ({"vendorId": "com.acme.csms", "messageId": "Ping", "data": {"n": 1}}, "Accepted", {"pong": {"n": 1}}),
        ({"vendorId": "com.acme.csms", "messageId": "Nope"}, "Rejected", None),
        ({"vendorId": "com.acme.csms", "messageId": "Other"}, "UnknownMessageId", None),
        ({"vendorId": "org.unknown", "messageId": "Ping"}, "UnknownVendorId", None),
    )
    for req, status, data in cases:
        m = csms.mark()
        s = st.mark()
        st.send(dict(req, cmd="data_transfer"))
        ev = st.wait_event("data_transfer", since=s)
        assert ev.get("status") == status and ev.get("data") == data, ev
        sent = csms.calls("DataTransfer", since=m)
        assert len(sent) == 1, sent
        want = {k: v for k, v in req.items()}
        assert sent[0].payload == want, sent[0].payload
    # a bad command is an error event, the station carries on
    s = st.mark()
    st.send({"cmd": "data_transfer", "messageId": "Ping"})
    e = st.wait_event("error", since=s)
    assert "vendorId" in e["message"], e
    assert st.alive()
