# A04 security events (core/blocks/a_security/events.py) and the security log (diag/securitylog.py).
import json

from support import tmpdir, run
from fake_station import FakeStation
from flexcharge.hal.storage import FileStorage
from flexcharge.comm.errors import CallError, NotConnected
from flexcharge.core.blocks.a_security.events import SecurityEvents, CRITICAL
from flexcharge.diag.securitylog import SecurityLog


def make(online=True):
    st = FakeStation(online=online)
    st.on_ready = []
    st.on_online = []
    st.on_clock = []
    storage = FileStorage(tmpdir("sec"))
    log = SecurityLog(storage, max_bytes=300)
    ev = SecurityEvents(st, storage, log.append)
    return st, storage, log, ev


def deliver(st, ev):
    async def go():
        ev._wake.set()
        task = __import__("asyncio").create_task(ev._deliver())
        for _ in range(50):
            await __import__("asyncio").sleep(0)
        task.cancel()
    run(go())


def test_critical_events_are_persisted_and_sent_in_order_non_critical_only_logged():
    st, storage, log, ev = make(online=False)
    ev.notify("StartupOfTheDevice", "boot reason PowerUp")
    ev.notify("ReconfigurationOfSecurityParameters", "BasicAuthPassword changed")  # not critical
    ev.notify("ResetOrReboot", "RemoteReset")
    assert ev.queued() == 2
    assert "ReconfigurationOfSecurityParameters" not in CRITICAL
    text = log.text().decode()
    assert text.count("\n") == 3 and "ReconfigurationOfSecurityParameters" in text
    # A power loss: a new block over the same storage still has them, and numbers on after them.
    ev2 = SecurityEvents(st, storage, log.append)
    assert ev2.queued() == 2
    ev2.notify("SettingSystemTime", "clock moved")
    st.online = True
    deliver(st, ev2)
    sent = st.sent("SecurityEventNotification")
    assert [p["type"] for p in sent] == ["StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime"]
    assert sent[0]["techInfo"] == "boot reason PowerUp" and sent[0]["timestamp"].endswith("Z")
    assert ev2.queued() == 0


def test_offline_keeps_the_event_and_a_callerror_drops_it():
    st, storage, log, ev = make()
    st.responses["SecurityEventNotification"] = NotConnected("gone")
    ev.notify("InvalidCsmsCertificate", "x509 verify failed")

    async def go():
        import asyncio
        ev._wake.set()
        t = asyncio.create_task(ev._deliver())
        for _ in range(20):
            await asyncio.sleep(0)
        t.cancel()
    run(go())
    assert ev.queued() == 1  # not delivered: kept
    st.responses["SecurityEventNotification"] = CallError("InternalError", "no")
    deliver(st, ev)
    assert ev.queued() == 0  # the CSMS answered: done with it


def test_security_log_is_bounded_to_two_files():
    st, storage, log, ev = make(online=False)
    for i in range(40):
        ev.notify("ReconfigurationOfSecurityParameters", "change %d" % i)
    text = log.text().decode()
    assert len(text) <= 600
    assert "change 39" in text and "change 0 " not in text


def test_memory_exhaustion_once_per_episode():
    st, storage, log, ev = make(online=False)
    ev.check_heap(free=50, used=950)
    ev.check_heap(free=40, used=960)
    assert ev.queued() == 1
    ev.check_heap(free=300, used=700)  # recovered
    ev.check_heap(free=10, used=990)
    assert ev.queued() == 2


def test_tls_verification_failure_is_invalid_csms_certificate_once():
    st, storage, log, ev = make(online=False)

    class TLSError(Exception):
        pass
    ev.connect_failed(TLSError("TLS with csms.example failed: MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"))
    ev.connect_failed(TLSError("TLS with csms.example failed: MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"))
    ev.connect_failed(OSError("ECONNREFUSED"))
    names = storage.names("se.")
    assert len(names) == 1
    assert json.loads(storage.read(names[0]))["type"] == "InvalidCsmsCertificate"
    ev._online(True)  # after a good connection, a new failure is a new event
    ev.connect_failed(TLSError("TLS failed: certificate verify failed"))
    assert ev.queued() == 2


def test_setting_system_time_beyond_the_threshold():
    st, storage, log, ev = make(online=False)
    ev._clock_set(5, "Heartbeat")  # under the default 20 s
    assert ev.queued() == 0
    ev._clock_set(-3600, "BootNotification")
    assert ev.queued() == 1
