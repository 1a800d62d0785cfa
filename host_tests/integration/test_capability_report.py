# Issue 8: the report tells the truth about capabilities. FullInventory's *Ctrlr.Available values are
# probed with a real CSMS request of that feature: Available true -> the station handles it,
# Available false -> NotSupported (Part 4: known action, not supported). Features without handlers
# (firmware update, certificates, file transfer) are not declared.
CALLRESULT, CALLERROR = 3, 4

PROBES = {
    "SmartChargingCtrlr": ("GetChargingProfiles", {"requestId": 1, "chargingProfile": {}}),
    "ReservationCtrlr": ("CancelReservation", {"reservationId": 999}),
    "LocalAuthListCtrlr": ("GetLocalListVersion", {}),
    "AuthCacheCtrlr": ("ClearCache", {}),
    "MonitoringCtrlr": ("SetMonitoringLevel", {"severity": 9}),
    # station-side metering: a triggered MeterValues must be possible (F06)
    "SampledDataCtrlr": ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}),
    "AlignedDataCtrlr": ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}),
}


def full_inventory(csms, request_id=801):
    since = csms.mark()
    r = csms.call("GetBaseReport", {"requestId": request_id, "reportBase": "FullInventory"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r

    def done():
        fr = [f for f in csms.calls("NotifyReport", since=since) if f.payload["requestId"] == request_id]
        return fr if fr and not fr[-1].payload.get("tbc", False) else None
    frames = csms.wait_for(done, 15, "the whole FullInventory")
    out = {}
    for f in frames:
        for rd in f.payload["reportData"]:
            c, v = rd["component"], rd["variable"]
            a = [x for x in rd["variableAttribute"] if x.get("type", "Actual") == "Actual"][0]
            out[(c["name"], (c.get("evse") or {}).get("id"), v["name"], v.get("instance"))] = a
    return out


def test_report_declares_only_what_the_station_does(make_csms, make_station, kit):
    csms = make_csms()
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    inv = full_inventory(csms)
    sc = inv[("SmartChargingCtrlr", None, "Available", None)]
    assert sc["value"] == "true" and sc["mutability"] == "ReadOnly", sc  # issue 12: the K block exists
    en = inv[("SmartChargingCtrlr", None, "Enabled", None)]
    assert en["value"] == "true" and en["mutability"] == "ReadWrite", en
    assert inv[("OCPPCommCtrlr", None, "FileTransferProtocols", None)].get("value") == "HTTP,HTTPS"  # L01, N01
    names = set(k[2] for k in inv)
    assert "AllowNewSessionsPendingFirmwareUpdate" in names  # declared with UpdateFirmware (L01)
    # Issue 10: the certificate handlers exist, so their variables are declared, and the handlers answer.
    for there in ("CertSigningRepeatTimes", "MaxCertificateChainSize", "CertificateEntries"):
        assert there in names, there
    r = csms.call("GetInstalledCertificateIds", {})
    assert r.kind == CALLRESULT and r.payload["status"] in ("Accepted", "NotFound"), r
    r = csms.call("UpdateFirmware", {"requestId": 1, "firmware": {"location": "http://127.0.0.1:9/x",
                                                                    "retrieveDateTime": "2020-01-01T00:00:00Z"}})
    assert r.kind == CALLRESULT and r.payload["status"] == "Rejected", r  # unsigned: refused, but handled
    checked = []
    for (comp, evse, var, inst), a in sorted(inv.items(), key=lambda x: str(x[0])):
        if var != "Available" or not comp.endswith("Ctrlr"):
            continue
        assert comp in PROBES, "no probe for %s.Available: add one to this test" % comp
        action, payload = PROBES[comp]
        r = csms.call(action, payload)
        if a["value"] == "true":
            assert r.kind == CALLRESULT, "%s.Available true but %s answered %r" % (comp, action, r)
            assert r.payload.get("status") in (None, "Accepted", "Rejected", "NotFound", "NoProfiles"), r.payload
            if action == "TriggerMessage":
                assert r.payload["status"] == "Accepted", r.payload
        else:
            assert r.kind == CALLERROR and r.error_code == "NotSupported", "%s.Available false: %s -> %r" % (
                comp, action, r)
        checked.append(comp)
    assert "SmartChargingCtrlr" in checked and "ReservationCtrlr" in checked, checked
