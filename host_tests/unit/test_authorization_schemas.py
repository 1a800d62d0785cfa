# Strict in what we send: every AuthorizeRequest the Authorization block sends and every response
# its handlers give (ClearCache, SendLocalList, GetLocalListVersion) validates against the OCA
# JSON schemas shipped with the `ocpp` package; IdTokenInfo read back from the compact cache/list
# forms is schema-valid and equal to what was stored.
import asyncio
import json
import os
import random

import jsonschema
import ocpp

from support import tmpdir
from fake_station import FakeStation, Handlers, make_dm
from flexcharge.hal.storage import FileStorage
from flexcharge.core import timefmt
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.c_authorization.authorization import Authorization
from flexcharge.core.blocks.c_authorization import idtoken

SCHEMAS = os.path.join(os.path.dirname(ocpp.__file__), "v201", "schemas")


def _validator(name):
    with open(os.path.join(SCHEMAS, name + ".json")) as f:
        schema = json.load(f)
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())


def _valid(name, payload):
    errors = sorted(_validator(name).iter_errors(payload), key=str)
    assert not errors, (name, payload, [e.message for e in errors])


class Board:
    def __init__(self, path):
        self.storage = FileStorage(path)


def make(**settings):
    st = FakeStation(dm=make_dm(tables=standard.TABLES + (Authorization.VARIABLES,)))
    st.board = Board(tmpdir("authschema"))
    for k, v in settings.items():
        comp, var = k.split("__")
        st.dm.set_internal(comp, var, v)
    a = Authorization(st)
    a.start()
    return st, a, Handlers(st, a)


def _rand_token(rng):
    t = {"idToken": "".join(rng.choice("0123456789ABCDEF") for _ in range(rng.randint(1, 36))),
         "type": rng.choice(idtoken.TYPES[:-1])}
    if rng.random() < 0.3:
        t["additionalInfo"] = [{"additionalIdToken": "EXTRA%d" % rng.randint(0, 99), "type": "x"}]
    return t


def _rand_info(rng, now):
    info = {"status": rng.choice(idtoken.STATUSES)}
    if rng.random() < 0.5:
        g = _rand_token(rng)
        g.pop("additionalInfo", None)
        info["groupIdToken"] = g
    if rng.random() < 0.3:
        info["cacheExpiryDateTime"] = timefmt.iso(int(now) + rng.randint(1, 10 ** 6))
    if rng.random() < 0.3:
        info["evseId"] = [rng.randint(1, 4)]
    if rng.random() < 0.3:
        info["chargingPriority"] = rng.randint(-9, 9)
    if rng.random() < 0.2:
        info["language1"] = "nl"
    if rng.random() < 0.2:
        info["personalMessage"] = {"format": "UTF8", "content": "hello"}
    return info


def test_authorize_requests_validate():
    rng = random.Random(4)
    st, a, h = make()
    st.responses["Authorize"] = {"idTokenInfo": {"status": "Accepted"}}
    for _ in range(60):
        asyncio.run(a.authorize(_rand_token(rng), rng.choice((None, 1, 2))))
    sent = st.sent("Authorize")
    assert len(sent) == 60
    for p in sent:
        _valid("AuthorizeRequest", p)


def test_infos_round_trip_through_cache_and_list_and_validate():
    rng = random.Random(7)
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    entries = []
    for i in range(12):
        tok = {"idToken": "LIST%02d" % i, "type": rng.choice(idtoken.TYPES[:-1])}
        info = _rand_info(rng, st.now())
        info.pop("cacheExpiryDateTime", None)  # a cache notion, not kept in the list
        entries.append({"idToken": tok, "idTokenInfo": info})
    r = h("SendLocalList", {"versionNumber": 3, "updateType": "Full", "localAuthorizationList": entries})
    _valid("SendLocalListResponse", r)
    assert r["status"] == "Accepted"
    for e in entries:
        got = a.local_list.info(idtoken.key(e["idToken"]))
        assert got == e["idTokenInfo"]
        _valid("AuthorizeResponse", {"idTokenInfo": got})
    for i in range(40):
        tok = _rand_token(rng)
        info = _rand_info(rng, st.now())
        a.update(tok, info)
        got = a.cache.info(idtoken.key(tok), st.now(), None)
        if got is None:
            continue  # evicted under the storage limit
        assert got == info
        _valid("AuthorizeResponse", {"idTokenInfo": got})


def test_handler_responses_validate():
    st, a, h = make()
    tok = {"idToken": "AA", "type": "ISO14443"}
    for payload in (
        {"versionNumber": 2, "updateType": "Full", "localAuthorizationList": [{"idToken": tok, "idTokenInfo": {"status": "Accepted"}}]},
        {"versionNumber": 1, "updateType": "Differential"},  # VersionMismatch
        {"versionNumber": 0, "updateType": "Full"},  # Failed
    ):
        _valid("SendLocalListResponse", h("SendLocalList", payload))
    _valid("GetLocalListVersionResponse", h("GetLocalListVersion", {}))
    _valid("ClearCacheResponse", h("ClearCache", {}))
    st.dm.set_internal("AuthCacheCtrlr", "Enabled", "false")
    st.dm.set_internal("LocalAuthListCtrlr", "Enabled", "false")
    _valid("ClearCacheResponse", h("ClearCache", {}))
    _valid("GetLocalListVersionResponse", h("GetLocalListVersion", {}))
    _valid("SendLocalListResponse", h("SendLocalList", {"versionNumber": 5, "updateType": "Full"}))


def test_block_variables_in_reports_validate():
    # The rows this block adds to AuthCtrlr / LocalAuthListCtrlr show up in the base report next to
    # the standard ones, with the capacities as maxLimit, and the NotifyReport messages validate.
    from flexcharge.core.blocks.b_provisioning.variables import Variables

    st, a, h = make()
    v = Variables(st)
    v.start()
    hv = Handlers(st, v, a)
    h("SendLocalList", {"versionNumber": 1, "updateType": "Full",
                        "localAuthorizationList": [{"idToken": {"idToken": "A", "type": "Local"}, "idTokenInfo": {"status": "Accepted"}}]})
    r = hv.reply("GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"})
    hv.then(r)
    seen = {}
    for m in st.sent("NotifyReport"):
        _valid("NotifyReportRequest", m)
        for d in m["reportData"]:
            seen[(d["component"]["name"], d["variable"]["name"])] = d
    mp = seen[("AuthCtrlr", "MasterPassGroupId")]
    assert mp["variableAttribute"][0]["mutability"] == "ReadWrite"
    assert ("AuthCtrlr", "LocalPreAuthorize") in seen
    s = seen[("LocalAuthListCtrlr", "Storage")]
    assert s["variableCharacteristics"]["maxLimit"] == a.local_list.max_bytes
    assert int(s["variableAttribute"][0]["value"]) == a.local_list.bytes > 0
    e = seen[("LocalAuthListCtrlr", "Entries")]
    assert e["variableCharacteristics"]["maxLimit"] == a.local_list.max_entries
    assert e["variableAttribute"][0]["value"] == "1"
    assert seen[("AuthCacheCtrlr", "Storage")]["variableCharacteristics"]["maxLimit"] == a.cache.max_bytes
    res = hv("SetVariables", {"setVariableData": [
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "MasterPassGroupId"}, "attributeValue": "M" * 37}]})
    _valid("SetVariablesResponse", res)
    assert res["setVariableResult"][0]["attributeStatus"] == "Rejected"  # longer than an idToken
