# D01/D02 local authorization list: SendLocalList Full/Differential with the versionNumber rules,
# GetLocalListVersion, LocalAuthListCtrlr limits and figures, persistence (TC_D_01..08/10_CS).
from support import raises, run, tmpdir
from fake_station import FakeStation, Handlers, FakeLog, make_dm
from flexcharge.hal.storage import FileStorage
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.c_authorization.authorization import Authorization
from flexcharge.core.blocks.d_local_auth_list.local_list import LocalList, FILE
from flexcharge.core.blocks.c_authorization import idtoken
from flexcharge.comm.errors import CallError

TABLES = standard.TABLES + (Authorization.VARIABLES,)
TOK = {"idToken": "AABBCCDD", "type": "ISO14443"}
TOK2 = {"idToken": "11223344", "type": "ISO14443"}
OK = {"status": "Accepted"}


class Board:
    def __init__(self, path):
        self.storage = FileStorage(path)


def make(path=None, **settings):
    st = FakeStation(dm=make_dm(tables=TABLES))
    st.board = Board(path or tmpdir("list"))
    for k in settings:
        comp, var = k.split("__")
        st.dm.set_internal(comp, var, settings[k])
    a = Authorization(st)
    a.start()
    return st, a, Handlers(st, a)


def send(h, typ, version, *entries):
    p = {"versionNumber": version, "updateType": typ}
    if entries:
        p["localAuthorizationList"] = [dict(idToken=t, **({"idTokenInfo": i} if i is not None else {})) for t, i in entries]
    return h("SendLocalList", p)["status"]


def version(h):
    return h("GetLocalListVersion", {})["versionNumber"]


def status_of(a, tok):
    info = a.local_list.info(idtoken.key(tok))
    return info and info["status"]


def test_no_list_is_version_zero():
    st, a, h = make()
    assert version(h) == 0  # D02: nothing installed


def test_full_list_replaces_and_sets_the_version():
    st, a, h = make()
    assert send(h, "Full", 5, (TOK, OK)) == "Accepted"  # TC_D_01_CS
    assert version(h) == 5
    assert send(h, "Full", 3, (TOK2, {"status": "Blocked"})) == "Accepted"  # Full: any version > 0
    assert version(h) == 3
    assert status_of(a, TOK) is None and status_of(a, TOK2) == "Blocked"


def test_differential_adds_updates_and_removes():
    st, a, h = make()
    send(h, "Full", 1, (TOK, OK))
    assert send(h, "Differential", 2, (TOK2, OK)) == "Accepted"  # TC_D_02_CS
    assert version(h) == 2 and status_of(a, TOK) == "Accepted" and status_of(a, TOK2) == "Accepted"
    assert send(h, "Differential", 3, (TOK, {"status": "Expired"}), (TOK2, None)) == "Accepted"
    assert status_of(a, TOK) == "Expired" and status_of(a, TOK2) is None
    assert len(a.local_list) == 1


def test_differential_version_must_grow():
    st, a, h = make()
    send(h, "Full", 4, (TOK, OK))
    assert send(h, "Differential", 3, (TOK2, OK)) == "VersionMismatch"  # TC_D_06_CS, D01.FR.19
    assert send(h, "Differential", 4, (TOK2, OK)) == "VersionMismatch"
    assert version(h) == 4 and status_of(a, TOK2) is None


def test_empty_lists():
    st, a, h = make()
    send(h, "Full", 2, (TOK, OK))
    assert send(h, "Differential", 3) == "Accepted"  # TC_D_05_CS: only the version changes
    assert version(h) == 3 and status_of(a, TOK) == "Accepted"
    assert send(h, "Full", 7) == "Accepted"  # TC_D_04_CS: empties the list
    assert version(h) == 7 and len(a.local_list) == 0
    with raises(CallError):  # the schema wants the list absent, not empty (minItems 1)
        h("SendLocalList", {"versionNumber": 8, "updateType": "Full", "localAuthorizationList": []})
    assert version(h) == 7


def test_bad_updates_fail_and_change_nothing():
    st, a, h = make()
    send(h, "Full", 2, (TOK, OK))
    assert send(h, "Full", 0, (TOK2, OK)) == "Failed"  # D01.FR.18: versionNumber > 0
    assert send(h, "Differential", -1, (TOK2, OK)) in ("Failed", "VersionMismatch")
    assert send(h, "Full", 5, (TOK2, OK), (dict(TOK2), {"status": "Blocked"})) == "Failed"  # D01.FR.06
    assert send(h, "Differential", 5, (TOK2, OK), (TOK2, None)) == "Failed"
    assert send(h, "Full", 5, (TOK2, None)) == "Failed"  # a Full entry needs its idTokenInfo
    assert version(h) == 2 and status_of(a, TOK) == "Accepted" and len(a.local_list) == 1


def test_same_id_with_other_type_is_another_entry():
    st, a, h = make()
    other = {"idToken": "AABBCCDD", "type": "ISO15693"}
    assert send(h, "Full", 1, (TOK, OK), (other, {"status": "Blocked"})) == "Accepted"
    assert status_of(a, TOK) == "Accepted" and status_of(a, other) == "Blocked"


def test_capacity_limits_fail_the_update():
    st, a, h = make()
    a.local_list.max_entries = 3
    assert send(h, "Full", 1, *[({"idToken": "T%d" % i, "type": "Local"}, OK) for i in range(3)]) == "Accepted"
    assert send(h, "Differential", 2, ({"idToken": "T9", "type": "Local"}, OK)) == "Failed"
    assert send(h, "Differential", 2, ({"idToken": "T0", "type": "Local"}, None), ({"idToken": "T9", "type": "Local"}, OK)) == "Accepted"
    assert len(a.local_list) == 3 and version(h) == 2
    a.local_list.max_bytes = 100
    big = [({"idToken": "LONGTOKEN%02d" % i, "type": "Local"}, OK) for i in range(6)]
    assert send(h, "Full", 3, *big) == "Failed"  # LocalAuthListCtrlr.Storage maxLimit
    assert version(h) == 2 and len(a.local_list) == 3


def test_message_limits_are_callerrors():
    st, a, h = make()
    many = [({"idToken": "T%d" % i, "type": "Local"}, OK) for i in range(21)]  # ItemsPerMessage 20
    with raises(CallError) as e:
        send(h, "Full", 1, *many)
    assert e.value.code == "OccurrenceConstraintViolation"
    long_msg = [({"idToken": "T%d" % i, "type": "Local"},
                 {"status": "Accepted", "personalMessage": {"format": "UTF8", "content": "x" * 300}}) for i in range(15)]
    with raises(CallError) as e:
        send(h, "Full", 1, *long_msg)  # BytesPerMessage 4096
    assert e.value.code == "FormatViolation"
    with raises(CallError) as e:
        h("SendLocalList", {"versionNumber": 1})  # schema: updateType required
    assert e.value.code == "OccurrenceConstraintViolation"
    assert version(h) == 0


def test_disabled_list():
    st, a, h = make()
    send(h, "Full", 6, (TOK, OK))
    st.dm.set_internal("LocalAuthListCtrlr", "Enabled", "false")
    assert version(h) == 0  # TC_D_10_CS
    assert send(h, "Full", 7, (TOK2, OK)) == "Failed"
    st.dm.set_internal("LocalAuthListCtrlr", "Enabled", "true")
    assert version(h) == 6


def test_persistent_over_reboot():
    # TC_D_07_CS
    path = tmpdir("listpersist")
    st, a, h = make(path, AuthCtrlr__LocalPreAuthorize="true")
    info = {"status": "Accepted", "groupIdToken": {"idToken": "G", "type": "Central"}, "chargingPriority": 3}
    send(h, "Full", 9, (TOK, info), (TOK2, {"status": "Blocked"}))
    st2, a2, h2 = make(path, AuthCtrlr__LocalPreAuthorize="true")
    assert version(h2) == 9 and len(a2.local_list) == 2
    assert run(a2.authorize(TOK)) == info
    assert st2.sent("Authorize") == []
    assert st2.dm.get_int("LocalAuthListCtrlr", "Entries") == 2


def test_unreadable_list_file_is_version_zero():
    path = tmpdir("listbad")
    FileStorage(path).write(FILE, b"[1, 2")
    st, a, h = make(path)
    assert version(h) == 0 and len(a.local_list) == 0
    assert st.log.count("E") == 1


def test_failed_write_keeps_the_old_list():
    class Broken(FileStorage):
        fail = False

        def write(self, name, data):
            if self.fail:
                raise OSError(28)
            FileStorage.write(self, name, data)

    s = Broken(tmpdir("listbroken"))
    ll = LocalList(s, FakeLog())
    assert ll.apply("Full", 1, [{"idToken": TOK, "idTokenInfo": OK}]) == "Accepted"
    s.fail = True
    assert ll.apply("Full", 2, [{"idToken": TOK2, "idTokenInfo": OK}]) == "Failed"
    assert ll.version == 1 and ll.keys() == ["2AABBCCDD"]


def test_entries_and_storage_figures():
    st, a, h = make()
    send(h, "Full", 1, (TOK, OK), (TOK2, OK))
    dm = st.dm
    assert dm.get_int("LocalAuthListCtrlr", "Entries") == 2
    used = dm.get_int("LocalAuthListCtrlr", "Storage")
    assert used == a.local_list.bytes > 0
    r = dm.find("LocalAuthListCtrlr", None, None, None, "Entries", None)
    assert dm.limits(r[1], r[2], None, None) == (0, a.local_list.max_entries)
    r = dm.find("LocalAuthListCtrlr", None, None, None, "Storage", None)
    assert dm.limits(r[1], r[2], None, None) == (0, a.local_list.max_bytes)
    send(h, "Differential", 2, (TOK2, None))
    assert dm.get_int("LocalAuthListCtrlr", "Entries") == 1
    assert dm.get_int("LocalAuthListCtrlr", "Storage") < used
