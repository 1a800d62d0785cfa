# Issue 2, walking skeleton: boot (B01-B03), status of every connector, heartbeat, launcher events.
HEARTBEAT = 2  # s, the interval the CSMS hands out in BootNotificationResponse


def test_boot_accepted_status_and_heartbeat(make_csms, make_station, kit):  # TC_B_01_CS
    csms = make_csms(heartbeat_interval=HEARTBEAT)
    cfg = kit.station_config(csms.url)
    st = make_station(cfg)

    boot, answer = kit.wait_booted(csms, st)
    conn = csms.connections[0]
    # Launcher contract: the first WebSocket handshake starts within 5 s of launch.
    assert conn.t - st.t_start < 5.0, "first handshake %.2fs after launch" % (conn.t - st.t_start)
    assert conn.path.endswith("/" + kit.IDENTITY)  # Part 4: identity is the last path segment
    assert conn.offered == ["ocpp2.0.1"] and conn.subprotocol == "ocpp2.0.1"
    assert conn.authorization is None  # profile 0: no Authorization header
    assert boot.conn == conn.index and boot.payload["reason"] == "PowerUp"  # new state dir = cold boot
    station_info = boot.payload["chargingStation"]
    assert station_info["vendorName"] == cfg["vendor"]
    assert station_info["model"] == cfg["model"]
    assert station_info.get("serialNumber") == cfg["serial_number"]
    assert station_info.get("firmwareVersion") == cfg["firmware_version"]
    # Nothing before BootNotification (B01.FR.01: it is the first message).
    assert csms.calls()[0] is boot

    statuses = kit.status_notifications(csms, since=answer.index)
    assert set(statuses) == kit.CONNECTORS, statuses
    assert set(statuses.values()) == {"Available"}, statuses

    # Heartbeats at the interval from the BootNotificationResponse.
    csms.wait_call("Heartbeat", since=answer.index, count=3, timeout=3 * HEARTBEAT + 6)
    beats = csms.calls("Heartbeat", since=answer.index)[:3]
    assert beats[0].t - answer.t >= HEARTBEAT - 0.2, "first Heartbeat %.2fs after boot" % (beats[0].t - answer.t)
    gaps = [b.t - a.t for a, b in zip(beats, beats[1:])]
    assert all(HEARTBEAT - 0.2 <= g <= HEARTBEAT + 1.0 for g in gaps), gaps
    csms.wait_for(lambda: csms.answer_to(beats[-1]), 5, "the answer to the third Heartbeat")
    assert all(csms.answer_to(b).kind == kit.CALLRESULT for b in beats)

    # The device model took the interval over.
    result = kit.get_variable(csms, "OCPPCommCtrlr", "HeartbeatInterval")
    assert result["attributeStatus"] == "Accepted" and result["attributeValue"] == str(HEARTBEAT), result

    # Launcher contract: events on stdout (`boot` is the firmware booting, before it connects).
    st.wait_event("boot", timeout=2)
    st.wait_event("connected", timeout=2)
    st.wait_event("status", timeout=2)
    assert len(st.named("status")) >= len(kit.CONNECTORS), st.named("status")


def test_boot_pending_then_accepted(make_csms, make_station, kit):  # TC_B_02_CS (B02)
    pending = 3
    csms = make_csms(boot=[("Pending", pending), "Accepted"], heartbeat_interval=60)
    st = make_station(kit.station_config(csms.url))

    first = csms.wait_call("BootNotification", timeout=15)
    first_answer = csms.wait_for(lambda: csms.answer_to(first), 5, "BootNotificationResponse")
    assert first_answer.payload["status"] == "Pending"

    # While Pending the CSMS may configure the station: it answers GetVariables.
    result = kit.get_variable(csms, "OCPPCommCtrlr", "OfflineThreshold")
    assert result["attributeStatus"] == "Accepted", result
    assert result["component"]["name"] == "OCPPCommCtrlr" and result["variable"]["name"] == "OfflineThreshold"
    int(result["attributeValue"])  # an integer number of seconds

    second = csms.wait_call("BootNotification", count=2, timeout=pending + 8)
    waited = second.t - first_answer.t
    assert pending - 0.15 <= waited <= pending + 2.5, "BootNotification retried after %.2fs, interval %ds" % (waited, pending)
    # Nothing but BootNotification while Pending (unrequested).
    between = [f for f in csms.calls(since=first.index + 1) if f.index < second.index]
    assert between == [], between
    answer = csms.wait_for(lambda: csms.answer_to(second), 5, "second BootNotificationResponse")
    assert answer.payload["status"] == "Accepted"
    csms.wait_for(lambda: set(kit.status_notifications(csms, since=answer.index)) >= kit.CONNECTORS, 10,
                  "StatusNotification for every connector after Accepted")
    assert all(f.index > answer.index for f in csms.calls("StatusNotification"))


def test_boot_rejected_retry_and_security_error(make_csms, make_station, kit):  # TC_B_03_CS, TC_B_30_CS
    rejected = 3
    csms = make_csms(boot=[("Rejected", rejected), "Accepted"], heartbeat_interval=60)
    st = make_station(kit.station_config(csms.url))

    first = csms.wait_call("BootNotification", timeout=15)
    first_answer = csms.wait_for(lambda: csms.answer_to(first), 5, "BootNotificationResponse")
    assert first_answer.payload["status"] == "Rejected"

    # A CSMS request while Rejected -> CALLERROR SecurityError (B03.FR.08). The station may instead
    # close the connection until it retries (TC_B_03_CS note); then there is nobody to ask.
    session = [s for s in csms.sessions if s.rec.index == first.conn][0]
    try:
        reply = csms.call("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, timeout=5, session=session)
    except ConnectionError:
        reply = None
        assert session.rec.closed_by == "station"
    if reply is not None:
        assert reply.kind == kit.CALLERROR and reply.error_code == "SecurityError", reply

    second = csms.wait_call("BootNotification", count=2, timeout=rejected + 8)
    waited = second.t - first_answer.t
    assert waited >= rejected - 0.15, "BootNotification retried after %.2fs, interval %ds" % (waited, rejected)
    assert waited <= rejected + 2.5, "BootNotification retried only after %.2fs" % waited
    between = [f for f in csms.calls(since=first.index + 1) if f.index < second.index]
    assert between == [], between  # not allowed to send any other message meanwhile
    answer = csms.wait_for(lambda: csms.answer_to(second), 5, "second BootNotificationResponse")
    assert answer.payload["status"] == "Accepted"
    statuses = csms.wait_for(lambda: set(kit.status_notifications(csms, since=answer.index)) >= kit.CONNECTORS
                             and kit.status_notifications(csms, since=answer.index), 10,
                             "StatusNotification for every connector after Accepted")
    assert set(statuses.values()) == {"Available"}
    assert st.alive()
