# Issue 11, N09/N10 CustomerInformation (core/blocks/n_diagnostics/customer.py): the real station
# reports what it holds about an idToken (authorization cache, local list) as NotifyCustomerInformation,
# and `clear` removes it persistently (gone after a reboot). TC_N_27/28/29/30/31/32/33/62/63_CS.
import time

CALLRESULT = 3


def notifies(csms, rid, since=0):
    return [f.payload for f in csms.calls("NotifyCustomerInformation", since=since) if f.payload["requestId"] == rid]


def report(csms, rid, clear=False, report_=True, **who):
    m = csms.mark()
    p = {"requestId": rid, "report": report_, "clear": clear}
    p.update(who)
    r = csms.call("CustomerInformation", p)
    assert r.kind == CALLRESULT, r
    if r.payload["status"] != "Accepted":
        return r.payload["status"], None
    csms.wait_for(lambda: any(not n["tbc"] for n in notifies(csms, rid, m)), 10, "the last NotifyCustomerInformation")
    parts = notifies(csms, rid, m)
    assert [n["seqNo"] for n in parts] == list(range(len(parts)))
    assert all(n["tbc"] for n in parts[:-1])
    return "Accepted", "".join(n["data"] for n in parts)


def tok(t):
    return {"idToken": t, "type": "ISO14443"}


def test_report_clear_and_gone_after_reboot(make_csms, make_station, kit, tmp_path):
    csms = make_csms(heartbeat_interval=600)
    csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": {"status": "Accepted"}}
    state = str(tmp_path / "cs")
    cfg = kit.station_config(csms.url)
    st = make_station(cfg, state_dir=state)
    kit.wait_booted(csms, st)
    r = csms.call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
        {"idToken": tok("LIST-1"), "idTokenInfo": {"status": "Accepted"}}]})
    assert r.payload["status"] == "Accepted"
    m = csms.mark()
    st.send({"cmd": "tag", "id": "CACHE-1", "type": "ISO14443"})
    csms.wait_call("Authorize", since=m)
    time.sleep(0.5)

    # TC_N_27_CS: data for a cached token.
    status, data = report(csms, 1, idToken=tok("CACHE-1"))
    assert status == "Accepted" and "AuthorizationCache ISO14443:CACHE-1: status Accepted" in data, data
    # TC_N_28_CS: nothing held -> one message, tbc false, empty data.
    assert report(csms, 2, idToken=tok("NOBODY")) == ("Accepted", "")
    # TC_N_29/33_CS: nothing to look for -> Invalid.
    assert report(csms, 3)[0] == "Invalid"
    # Local list entry is reported.
    status, data = report(csms, 4, idToken=tok("LIST-1"))
    assert "LocalAuthorizationList ISO14443:LIST-1: status Accepted" in data, data
    # TC_N_30_CS: clear and report -> data, then nothing.
    status, data = report(csms, 5, clear=True, idToken=tok("CACHE-1"))
    assert "AuthorizationCache" in data, data
    assert report(csms, 6, idToken=tok("CACHE-1")) == ("Accepted", "")
    # TC_N_31_CS: clear and report, nothing held -> one message, no data.
    assert report(csms, 12, clear=True, idToken=tok("NOBODY-2")) == ("Accepted", "")
    # TC_N_32_CS: clear without report -> one message saying it is cleared.
    status, data = report(csms, 7, clear=True, report_=False, idToken=tok("NOBODY"))
    assert status == "Accepted" and data.startswith("Cleared")
    # TC_N_62_CS / TC_N_63_CS: customerIdentifier, customerCertificate -> accepted, no data held.
    assert report(csms, 8, clear=True, customerIdentifier="CUST-1") == ("Accepted", "")
    cert = {"hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64, "issuerKeyHash": "b" * 64, "serialNumber": "01"}
    assert report(csms, 9, clear=True, customerCertificate=cert) == ("Accepted", "")

    # Reboot (power loss): the cleared entry stays gone, the local list (the CSMS's, D01) stays.
    st.kill()
    st = make_station(cfg, state_dir=state)
    kit.wait_booted(csms, since=csms.mark())
    assert report(csms, 10, idToken=tok("CACHE-1")) == ("Accepted", "")
    assert "LocalAuthorizationList" in report(csms, 11, idToken=tok("LIST-1"))[1]
    with open(state + "/auth.cache") as f:
        assert "CACHE-1" not in f.read()
