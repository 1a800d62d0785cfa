# C10/C11 authorization cache: lifetime, cacheExpiryDateTime, storage limit with LRU
# replacement, persistence across reboots (TC_C_32/46_CS), device model figures.
from support import run, tmpdir
from fake_station import FakeStation, Handlers, FakeLog, make_dm
from flexcharge.hal.storage import FileStorage
from flexcharge.core import timefmt
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.c_authorization.authorization import Authorization
from flexcharge.core.blocks.c_authorization.cache import AuthCache, FILE
from flexcharge.core.blocks.c_authorization import idtoken

TABLES = standard.TABLES + (Authorization.VARIABLES,)
TOK = {"idToken": "AABBCCDD", "type": "ISO14443"}
T0 = 1795000000


class Board:
    def __init__(self, path):
        self.storage = FileStorage(path)


def make(path=None, **settings):
    st = FakeStation(dm=make_dm(tables=TABLES))
    st.board = Board(path or tmpdir("cache"))
    for k in settings:
        comp, var = k.split("__")
        st.dm.set_internal(comp, var, settings[k])
    a = Authorization(st)
    a.start()
    return st, a, Handlers(st, a)


def tok(i):
    return {"idToken": "TOKEN%04d" % i, "type": "ISO15693"}


def test_lifetime_counts_from_the_last_update():
    # TC_C_46_CS / C10.FR.10 (errata): not refreshed within LifeTime -> gone
    st, a, h = make(AuthCacheCtrlr__LifeTime="60", AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted"})
    st.t += 60
    assert run(a.authorize(TOK))["status"] == "Accepted"
    assert st.sent("Authorize") == []
    st.t += 1
    st.responses["Authorize"] = {"idTokenInfo": {"status": "Invalid"}}
    assert run(a.authorize(TOK))["status"] == "Invalid"
    assert len(st.sent("Authorize")) == 1


def test_cache_expiry_date_time_is_honoured():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted", "cacheExpiryDateTime": timefmt.iso(st.t + 10)})
    info = run(a.authorize(TOK))
    assert info["status"] == "Accepted" and timefmt.parse(info["cacheExpiryDateTime"]) == st.t + 10
    st.t += 11  # C10.FR.13
    st.responses["Authorize"] = {"idTokenInfo": {"status": "Accepted"}}
    run(a.authorize(TOK))
    assert len(st.sent("Authorize")) == 1


def test_expiry_in_the_past_is_not_stored_and_removes_the_entry():
    st, a, h = make()
    a.update(TOK, {"status": "Accepted"})
    assert len(a.cache) == 1
    a.update(TOK, {"status": "Accepted", "cacheExpiryDateTime": timefmt.iso(st.t - 1)})
    assert len(a.cache) == 0


def test_storage_limit_evicts_least_recently_used():
    path = tmpdir("lru")
    c = AuthCache(FileStorage(path), FakeLog(), max_bytes=400)
    keys = []
    t = T0
    for i in range(40):
        k = idtoken.key(tok(i))
        keys.append(k)
        c.put(k, {"status": "Accepted"}, t)
        t += 1
        if i == 3:
            c.touch(keys[0], t)  # keeps the first one recent
        if i > 3:
            c.touch(keys[0], t)
    assert c.bytes <= 400 and len(c) < 40
    assert keys[0] in c.keys() and keys[-1] in c.keys()
    assert keys[1] not in c.keys()  # least recently used went first
    assert len(FileStorage(path).read(FILE)) == c.bytes


def test_persistent_across_a_new_instance():
    # TC_C_32_CS: the cache survives a reboot (a new Authorization on the same storage)
    path = tmpdir("persist")
    st, a, h = make(path)
    info = {"status": "Accepted", "groupIdToken": {"idToken": "G1", "type": "Central"}, "evseId": [1],
            "personalMessage": {"format": "UTF8", "content": "hi"}, "language1": "nl"}
    a.update(TOK, info)
    a.update({"idToken": "X", "type": "Local"}, {"status": "Blocked"})
    st2, a2, h2 = make(path, AuthCtrlr__LocalPreAuthorize="true")
    got = run(a2.authorize(TOK))
    assert got == info
    st2.responses["Authorize"] = {"idTokenInfo": {"status": "Blocked"}}
    assert run(a2.authorize({"idToken": "X", "type": "Local"}, None))["status"] != "Accepted"
    assert st2.sent("Authorize")[0]["idToken"] == {"idToken": "X", "type": "Local"}
    # ClearCache persists too
    h2("ClearCache", {})
    st3, a3, h3 = make(path)
    assert len(a3.cache) == 0


def test_expired_entries_are_dropped_at_start():
    path = tmpdir("purge")
    st, a, h = make(path, AuthCacheCtrlr__LifeTime="100")
    a.update(TOK, {"status": "Accepted"})
    st2 = FakeStation(dm=st.dm)
    st2.board = Board(path)
    st2.t = st.t + 101
    a2 = Authorization(st2)
    assert len(a2.cache) == 1
    a2.start()
    assert len(a2.cache) == 0


def test_unreadable_cache_file_means_empty():
    path = tmpdir("bad")
    FileStorage(path).write(FILE, b"{not json")
    st, a, h = make(path)
    assert len(a.cache) == 0
    assert st.log.count("E") == 1


def test_storage_variable_and_limits():
    st, a, h = make()
    a.update(TOK, {"status": "Accepted"})
    used = st.dm.get_int("AuthCacheCtrlr", "Storage")
    assert used == a.cache.bytes and used > 0
    r = st.dm.find("AuthCacheCtrlr", None, None, None, "Storage", None)
    assert st.dm.limits(r[1], r[2], None, None) == (0, a.cache.max_bytes)
    h("ClearCache", {})
    assert st.dm.get_int("AuthCacheCtrlr", "Storage") == a.cache.bytes < used
