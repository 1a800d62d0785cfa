# Reconnecting after the CSMS drops the connection (Part 4 §5.3): back-off, and no new BootNotification.
import time

import pytest


@pytest.mark.parametrize("how", ["tcp", "close"])
def test_reconnects_without_reboot(make_csms, make_station, kit, how):
    csms = make_csms(heartbeat_interval=60)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    st.wait_event("connected")
    ev_mark, mark = st.mark(), csms.mark()

    dropped = csms.drop(how)  # "tcp": abort without closing handshake; "close": WebSocket close 1001
    st.wait_event("disconnected", since=ev_mark, timeout=5)
    csms.wait_for(lambda: len(csms.accepted()) >= 2, 10, "the station to reconnect")
    again = csms.accepted()[1]
    assert again.t - dropped.t_close >= 1 - 0.15, "reconnected %.2fs after the drop, WaitMinimum 1 s" % (again.t - dropped.t_close)
    st.wait_event("connected", since=ev_mark, timeout=5)

    kit.assert_responsive(csms, st)  # on the new connection
    time.sleep(1.0)
    # Part 4 §5.3: no BootNotification after a reconnect when nothing in it changed.
    assert csms.calls("BootNotification", since=mark) == []
    assert st.alive()


def test_reconnect_back_off(make_csms, make_station, kit):
    wait_min, repeat = 1, 1
    csms = make_csms(heartbeat_interval=60)
    st = make_station(kit.station_config(csms.url, device_model=[
        kit.dm("OCPPCommCtrlr", "RetryBackOffWaitMinimum", wait_min),
        kit.dm("OCPPCommCtrlr", "RetryBackOffRandomRange", 0),
        kit.dm("OCPPCommCtrlr", "RetryBackOffRepeatTimes", repeat),
    ]))
    kit.wait_booted(csms, st)
    mark = csms.mark()

    csms.refuse(None)  # answer every upgrade request with HTTP 503 until told otherwise
    dropped = csms.drop("tcp")
    refused = 4
    csms.wait_for(lambda: len([c for c in csms.connections if c.outcome == "refused"]) >= refused, 20,
                  "%d refused reconnection attempts" % refused)
    csms.accept_connections()
    csms.wait_for(lambda: len(csms.accepted()) >= 2, 10, "the station to reconnect once allowed")

    attempts = [c.t for c in csms.connections[1:]]
    gaps = [attempts[0] - dropped.t_close] + [b - a for a, b in zip(attempts, attempts[1:])]
    # First attempt after WaitMinimum; then the back-off doubles, RepeatTimes times, then stays.
    expected = [wait_min * 2 ** min(i, repeat) for i in range(len(gaps))]
    for got, want in zip(gaps, expected):
        assert want - 0.15 <= got <= want + 0.9, "gaps %s, expected %s" % (["%.2f" % g for g in gaps], expected)

    kit.assert_responsive(csms, st)
    assert csms.calls("BootNotification", since=mark) == []  # reconnecting is not rebooting
