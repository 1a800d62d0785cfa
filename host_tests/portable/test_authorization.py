# C Authorization block: Authorize at the CSMS, local pre-authorization from the cache and the
# local list, offline authorization, group ids and master pass (Part 6 TC_C_*_CS).
from support import raises, run, tmpdir
from fake_station import FakeStation, Handlers, make_dm
from flexcharge.hal.storage import FileStorage
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.c_authorization.authorization import Authorization
from flexcharge.comm.errors import CallError, CallTimeout

TABLES = standard.TABLES + (Authorization.VARIABLES,)

TOK = {"idToken": "AABBCCDD", "type": "ISO14443"}
TOK2 = {"idToken": "11223344", "type": "ISO14443"}
MASTER = {"idToken": "POLICE01", "type": "ISO14443"}
GROUP = {"idToken": "FAMILY", "type": "Central"}


class Board:
    def __init__(self, path):
        self.storage = FileStorage(path)


def make(path=None, online=True, **settings):
    st = FakeStation(dm=make_dm(tables=TABLES), online=online)
    st.board = Board(path or tmpdir("auth"))
    for k in settings:
        comp, var = k.split("__")
        st.dm.set_internal(comp, var, settings[k])
    a = Authorization(st)
    a.start()
    return st, a, Handlers(st, a)


def authorize(a, tok=TOK, evse=None):
    return run(a.authorize(tok, evse))


def answer(st, status, **info):
    info["status"] = status
    st.responses["Authorize"] = {"idTokenInfo": info}


def full_list(h, *entries, version=1):
    lst = [{"idToken": t, "idTokenInfo": i} for t, i in entries]
    return h("SendLocalList", {"versionNumber": version, "updateType": "Full", "localAuthorizationList": lst})


# -- C01: Authorize at the CSMS --------------------------------------------------------------------
def test_online_unknown_token_is_authorized_at_the_csms():
    st, a, h = make()
    answer(st, "Accepted", groupIdToken=GROUP)
    info = authorize(a)
    assert info["status"] == "Accepted" and info["groupIdToken"] == GROUP
    assert st.sent("Authorize") == [{"idToken": TOK}]
    # C10.FR.04 (TC_C_33_CS): the answer is cached
    assert a.cache.info("2AABBCCDD", st.now(), None)["status"] == "Accepted"


def test_refusals_from_the_csms_are_returned_as_sent():
    # TC_C_02/06/07/56_CS: Invalid, Blocked, Expired, Unknown
    for status in ("Invalid", "Blocked", "Expired", "Unknown"):
        st, a, h = make()
        answer(st, status)
        assert authorize(a)["status"] == status
        assert len(st.sent("Authorize")) == 1


def test_additional_info_is_sent_and_not_part_of_the_identity():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    tok = {"idToken": "AABBCCDD", "type": "ISO14443", "additionalInfo": [{"additionalIdToken": "X", "type": "y"}]}
    answer(st, "Accepted")
    authorize(a, tok)
    assert st.sent("Authorize")[0]["idToken"]["additionalInfo"] == tok["additionalInfo"]
    # C01.FR.25: equal on idToken and type only -> the cache hit serves the plain token
    assert authorize(a, TOK)["status"] == "Accepted"
    assert len(st.sent("Authorize")) == 1


def test_auth_disabled_and_no_authorization_type_accept_without_asking():
    st, a, h = make(AuthCtrlr__Enabled="false")
    assert authorize(a)["status"] == "Accepted"
    st2, a2, h2 = make()
    assert authorize(a2, {"idToken": "", "type": "NoAuthorization"})["status"] == "Accepted"
    assert st.sent("Authorize") == [] and st2.sent("Authorize") == []


def test_csms_callerror_gives_unknown_and_timeout_falls_back_to_offline_rules():
    st, a, h = make(AuthCtrlr__OfflineTxForUnknownIdEnabled="true")
    st.responses["Authorize"] = CallError("InternalError", "boom")
    assert authorize(a)["status"] == "Unknown"
    st.responses["Authorize"] = CallTimeout()
    assert authorize(a)["status"] == "Accepted"  # no answer = offline: C15 unknown-id rule
    st3, a3, h3 = make()
    st3.responses["Authorize"] = CallTimeout()
    assert authorize(a3)["status"] == "Unknown"


def test_not_accepted_registration_counts_as_offline():
    st, a, h = make(AuthCtrlr__OfflineTxForUnknownIdEnabled="true")
    st.registration = "Pending"
    assert authorize(a)["status"] == "Accepted"
    assert st.sent("Authorize") == []


def test_evse_restriction_of_the_token():
    st, a, h = make()
    answer(st, "Accepted", evseId=[2])
    assert authorize(a, evse=1)["status"] == "NotAllowedTypeEVSE"
    assert authorize(a, evse=2)["status"] == "Accepted"
    assert authorize(a)["status"] == "Accepted"


# -- C12 / C10: cache while online ------------------------------------------------------------------
def test_cached_accepted_token_skips_authorize_with_local_pre_authorize():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted"})
    assert authorize(a)["status"] == "Accepted"  # TC_C_08_CS
    assert st.sent("Authorize") == []


def test_cached_not_accepted_token_is_asked_again():
    # TC_C_09/10/11/12_CS: cache says Invalid, the CSMS decides
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Invalid"})
    answer(st, "Accepted")
    assert authorize(a)["status"] == "Accepted"
    assert len(st.sent("Authorize")) == 1
    # ... and the new answer replaced the cached one
    assert authorize(a)["status"] == "Accepted"
    assert len(st.sent("Authorize")) == 1


def test_cache_disable_post_authorize_refuses_without_asking():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true", AuthCacheCtrlr__DisablePostAuthorize="true")
    a.update(TOK, {"status": "Invalid"})
    assert authorize(a)["status"] == "Invalid"  # TC_C_57_CS
    assert st.sent("Authorize") == []


def test_without_local_pre_authorize_the_csms_is_always_asked():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="false")
    a.update(TOK, {"status": "Accepted"})
    answer(st, "Invalid")
    assert authorize(a)["status"] == "Invalid"  # TC_C_36_CS
    assert len(st.sent("Authorize")) == 1


def test_transaction_event_response_updates_the_cache():
    # TC_C_34_CS: Accepted in cache, the TransactionEventResponse says Invalid -> ask next time
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted"})
    a.update(TOK, {"status": "Invalid"})
    answer(st, "Invalid")
    assert authorize(a)["status"] == "Invalid"
    assert len(st.sent("Authorize")) == 1


def test_cache_disabled_is_neither_used_nor_filled():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true", AuthCacheCtrlr__Enabled="false")
    answer(st, "Accepted")
    authorize(a)
    authorize(a)
    assert len(st.sent("Authorize")) == 2
    assert len(a.cache) == 0


def test_tokens_differ_by_type():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted"})
    answer(st, "Invalid")
    assert authorize(a, {"idToken": "AABBCCDD", "type": "ISO15693"})["status"] == "Invalid"
    assert len(st.sent("Authorize")) == 1


def test_disable_remote_authorization_uses_only_local_data():
    st, a, h = make(AuthCtrlr__DisableRemoteAuthorization="true")
    a.update(TOK, {"status": "Accepted"})
    assert authorize(a)["status"] == "Accepted"
    assert authorize(a, TOK2)["status"] == "Unknown"
    assert st.sent("Authorize") == []


# -- C14 / C13: local list ----------------------------------------------------------------------------
def test_local_list_accepted_online_without_authorize():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    assert full_list(h, (TOK, {"status": "Accepted"}))["status"] == "Accepted"
    assert authorize(a)["status"] == "Accepted"  # TC_C_27_CS
    assert st.sent("Authorize") == []


def test_local_list_not_accepted_online_asks_unless_disabled():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    full_list(h, (TOK, {"status": "Invalid"}))
    answer(st, "Accepted")
    assert authorize(a)["status"] == "Accepted"  # TC_C_28/31_CS
    assert len(st.sent("Authorize")) == 1
    # C14.FR.03: the CSMS's answer holds for this presentation (group and master-pass look-ups too)
    assert a.known_info(TOK)["status"] == "Accepted"
    st.dm.set_internal("LocalAuthListCtrlr", "DisablePostAuthorize", "true")
    assert authorize(a)["status"] == "Invalid"  # TC_C_58_CS
    assert len(st.sent("Authorize")) == 1


def test_local_list_disabled_is_ignored():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    full_list(h, (TOK, {"status": "Accepted"}))
    st.dm.set_internal("LocalAuthListCtrlr", "Enabled", "false")
    answer(st, "Blocked")
    assert authorize(a)["status"] == "Blocked"


def test_offline_local_list_and_cache():
    st, a, h = make(online=False, AuthCtrlr__LocalAuthorizeOffline="true")
    st.online = True
    full_list(h, (TOK, {"status": "Accepted"}), (TOK2, {"status": "Invalid"}))
    st.online = False
    assert authorize(a)["status"] == "Accepted"  # TC_C_21_CS
    # TC_C_25_CS: the list (Invalid) wins over the cache (Accepted), even with unknown ids allowed
    a.update(TOK2, {"status": "Accepted"})
    st.dm.set_internal("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    assert authorize(a, TOK2)["status"] == "Invalid"
    # cache alone
    tok3 = {"idToken": "C0FFEE", "type": "KeyCode"}
    a.update(tok3, {"status": "Accepted"})
    assert authorize(a, tok3)["status"] == "Accepted"
    assert st.sent("Authorize") == []


def test_offline_unknown_ids():
    st, a, h = make(online=False)
    assert authorize(a)["status"] == "Unknown"
    st.dm.set_internal("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    assert authorize(a)["status"] == "Accepted"  # TC_C_26_CS
    assert st.sent("Authorize") == []


def test_offline_without_local_authorize_offline_ignores_local_data():
    st, a, h = make(online=False, AuthCtrlr__LocalAuthorizeOffline="false")
    a.update(TOK, {"status": "Accepted"})
    assert authorize(a)["status"] == "Unknown"


def test_offline_cached_not_accepted_is_refused_even_for_unknown_ids_allowed():
    st, a, h = make(online=False, AuthCtrlr__OfflineTxForUnknownIdEnabled="true")
    a.update(TOK, {"status": "Blocked"})
    assert authorize(a)["status"] == "Blocked"  # C13.FR.04 (errata): known and not Accepted


# -- C09 group id / C16 master pass -------------------------------------------------------------------
def test_may_stop_same_token_group_and_refusals():
    st, a, h = make()
    start_info = {"status": "Accepted", "groupIdToken": GROUP}
    # same token: always (TC_C_04_CS negative: a different one without group does not)
    assert a.may_stop(TOK, start_info, dict(TOK), {"status": "Invalid"})
    assert not a.may_stop(TOK, start_info, TOK2, {"status": "Accepted"})
    # TC_C_39_CS: other token of the same group, Accepted
    assert a.may_stop(TOK, start_info, TOK2, {"status": "Accepted", "groupIdToken": GROUP})
    # TC_C_42_CS: same group but Invalid
    assert not a.may_stop(TOK, start_info, TOK2, {"status": "Invalid", "groupIdToken": GROUP})
    # groups are compared on idToken and type
    assert not a.may_stop(TOK, start_info, TOK2, {"status": "Accepted", "groupIdToken": {"idToken": "FAMILY", "type": "Local"}})
    assert not a.may_stop(TOK, start_info, None, None)


def test_may_stop_looks_up_infos_it_knows():
    # TC_C_40/41_CS: both tokens known locally with the same group
    st, a, h = make()
    full_list(h, (TOK, {"status": "Accepted", "groupIdToken": GROUP}))
    a.update(TOK2, {"status": "Accepted", "groupIdToken": GROUP})
    assert a.may_stop(TOK, None, TOK2, None)
    assert a.may_stop(TOK, {"status": "Accepted"}, TOK2, None)  # start info without group: looked up
    assert not a.may_stop(TOK, None, {"idToken": "ZZ", "type": "Local"}, None)


def test_master_pass_stops_anything_and_starts_nothing():
    st, a, h = make(AuthCtrlr__MasterPassGroupId="MASTER")
    answer(st, "Accepted", groupIdToken={"idToken": "MASTER", "type": "Central"})
    info = authorize(a, MASTER)
    assert info["status"] == "Accepted"  # TC_C_45_CS step 2: the CSMS accepts it ...
    assert a.is_master_pass(MASTER, info) and a.is_master_pass(MASTER)
    assert not a.may_start(MASTER, info)  # ... but it starts nothing (C16.FR.03)
    assert a.may_stop(TOK, {"status": "Accepted"}, MASTER, info)  # TC_C_47/48/49_CS
    assert a.may_stop(TOK, None, MASTER, None)  # known from the recent answer
    assert a.may_start(TOK2, {"status": "Accepted", "groupIdToken": GROUP})
    assert not a.is_master_pass(MASTER, {"status": "Blocked", "groupIdToken": {"idToken": "MASTER", "type": "Central"}})
    st.dm.set_internal("AuthCtrlr", "MasterPassGroupId", "")
    assert not a.is_master_pass(MASTER, info)


def test_master_pass_group_id_is_a_device_model_variable():
    st, a, h = make()
    r = st.dm.set_variable({"component": {"name": "AuthCtrlr"}, "variable": {"name": "MasterPassGroupId"},
                            "attributeValue": "LAW"})
    assert r == ("Accepted", None)
    assert a.master_pass_group() == "LAW"
    assert st.dm.get_variable({"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}})[0] == "Accepted"


# -- C11 ClearCache -------------------------------------------------------------------------------------
def test_clear_cache():
    st, a, h = make(AuthCtrlr__LocalPreAuthorize="true")
    a.update(TOK, {"status": "Accepted"})
    assert h("ClearCache", {}) == {"status": "Accepted"}  # TC_C_37_CS
    answer(st, "Accepted")
    authorize(a)
    assert len(st.sent("Authorize")) == 1  # step 5: asked again after the clear
    st.dm.set_internal("AuthCacheCtrlr", "Enabled", "false")
    assert h("ClearCache", {}) == {"status": "Rejected"}  # TC_C_38_CS
    with raises(CallError) as e:
        h("ClearCache", {"bogus": 1})
    assert e.value.code in ("FormatViolation", "PropertyConstraintViolation", "OccurrenceConstraintViolation")
