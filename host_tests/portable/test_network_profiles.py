# B09/B10 network connection profiles and A05 rules (core/blocks/b_provisioning/network.py): slot
# storage, validation, priority veto, slot selection per attempt, fallback and the profile upgrade.
from support import tmpdir
from fake_station import FakeStation, Handlers
from flexcharge.hal.storage import FileStorage
from flexcharge.core.blocks.b_provisioning.network import NetworkProfiles

CFG = {"identity": "CS1", "csms_url": "ws://a.example/ocpp", "security_profile": 1,
       "basic_auth_password": "0123456789abcdef"}


class Events:
    def __init__(self):
        self.got = []

    def notify(self, t, info=None):
        self.got.append((t, info))


class Certs:
    def __init__(self, root=True, client=True):
        self.root, self.client = root, client

    def certificates(self, kind):
        return [_Valid()] if self.root else []

    def client_chain_der(self):
        return [b"x"] if self.client else []

    def client_key_der(self):
        return b"k" if self.client else None


class _Valid:
    not_before = 0
    not_after = 2 ** 31


def make(certs=None, attempts=2):
    st = FakeStation()
    st.now = lambda: 1795000000
    st.dm.set_internal("SecurityCtrlr", "SecurityProfile", "1")
    st.dm.set_internal("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", str(attempts))
    storage = FileStorage(tmpdir("net"))
    ev = Events()
    n = NetworkProfiles(st, storage, CFG, ev, certs)
    n.start()
    n.h = Handlers(st, n)
    return st, storage, ev, n


def prof(url, sp=1):
    return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30,
            "securityProfile": sp, "ocppInterface": "Wired0"}


def setnp(n, slot, data):
    return n.h("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})["status"]


def setprio(st, value):
    return st.dm.set_variable({"component": {"name": "OCPPCommCtrlr"},
                               "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": value})[0]


def test_slot_one_is_the_launcher_config():
    st, storage, ev, n = make()
    assert n.attempt() == (1, n.factory())
    assert n.factory()["ocppCsmsUrl"] == CFG["csms_url"] and n.factory()["securityProfile"] == 1


def test_validation():
    st, storage, ev, n = make()
    assert setnp(n, 0, prof("ws://b/ocpp")) == "Rejected"
    assert setnp(n, 4, prof("ws://b/ocpp")) == "Rejected"
    assert setnp(n, 999, prof("ws://b/ocpp")) == "Rejected"  # TC_B_43_CS
    assert setnp(n, 2, dict(prof("ws://b/ocpp"), ocppVersion="OCPP16")) == "Rejected"
    assert setnp(n, 2, prof("ws://b/ocpp", 0)) == "Rejected"  # TC_A_22_CS
    assert setnp(n, 2, prof("wss://b/ocpp", 1)) == "Rejected"
    assert setnp(n, 2, prof("ftp://b/ocpp", 1)) == "Rejected"
    assert setnp(n, 2, prof("ws://b/ocpp")) == "Accepted"
    assert n.slot(2)["ocppCsmsUrl"] == "ws://b/ocpp"
    assert ev.got and ev.got[-1][0] == "ReconfigurationOfSecurityParameters"


def test_priority_veto_and_prerequisites():
    st, storage, ev, n = make(Certs(root=False, client=False))
    assert setprio(st, "2,1") == "Rejected"  # slot 2 empty
    assert setnp(n, 2, prof("wss://b/ocpp", 2)) == "Accepted"
    assert setprio(st, "2,1") == "Rejected"  # TC_A_20_CS: no CSMS root
    n.certs.root = True
    assert setprio(st, "2,1") == "RebootRequired"
    assert setnp(n, 3, prof("wss://c/ocpp", 3)) == "Accepted"
    assert setprio(st, "3,1") == "Rejected"  # TC_A_21_CS: no client certificate
    assert setprio(st, "1,1") == "Rejected"
    assert setprio(st, "x") == "Rejected"


def test_fallback_after_the_attempts_and_cycling():
    st, storage, ev, n = make(attempts=2)
    setnp(n, 2, prof("ws://b/ocpp"))
    setprio(st, "2,1")
    n._order = None  # a new boot reads the priority again
    assert n.attempt()[0] == 2
    assert n.failed() is False
    assert n.failed() is True  # NetworkProfileConnectionAttempts reached: next slot, no back-off
    assert n.attempt()[0] == 1
    n.failed()
    assert n.failed() is True
    assert n.attempt()[0] == 2  # B10.FR.08: round again, never stranded
    n.connected()
    assert st.dm.get("OCPPCommCtrlr", "ActiveNetworkProfile") == "2"


def test_upgrade_drops_lower_slots_and_sets_the_profile():
    st, storage, ev, n = make(Certs())
    setnp(n, 2, prof("wss://b/ocpp", 2))
    setprio(st, "2,1")
    n._order = None
    n.attempt()
    n.connected()
    assert st.dm.get("SecurityCtrlr", "SecurityProfile") == "2"
    assert st.dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"  # TC_A_19_CS step 13
    assert ("ReconfigurationOfSecurityParameters" in [t for t, _ in ev.got])
    assert setnp(n, 1, prof("ws://a/ocpp", 1)) == "Rejected"  # now a downgrade
