# C Authorization: the one place that decides whether an idToken may start or stop charging.
#   C01 Authorize at the CSMS (TC_C_02/04/05/06/07/56_CS)
#   C09 group ids for stopping (TC_C_39..44_CS), C16 master pass (TC_C_14/45/47/48/49_CS)
#   C10/C11 authorization cache + ClearCache (TC_C_08..18/32..38/46/57_CS), see cache.py
#   C12/C14 online local pre-authorization from cache / local list (LocalPreAuthorize, TC_C_27..31/58_CS)
#   C13/C15 offline: local list and cache (LocalAuthorizeOffline), unknown ids
#           (OfflineTxForUnknownIdEnabled) (TC_C_21..26_CS)
# D01/D02 handlers (SendLocalList, GetLocalListVersion) come from LocalListHandlers.
#
# The Transactions block calls authorize() / update() / may_stop() / is_master_pass(); it reads
# AuthCtrlr.AuthorizeRemoteStart itself.
from flexcharge.core.router import on
from flexcharge.core.blocks.c_authorization import idtoken
from flexcharge.core.blocks.c_authorization.cache import AuthCache
from flexcharge.core.blocks.d_local_auth_list.local_list import LocalList, LocalListHandlers
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

_AUTH = "AuthCtrlr"
_CACHE = "AuthCacheCtrlr"
_LIST = "LocalAuthListCtrlr"
_RECENT = 4  # infos of the last tokens seen, for group / master-pass look-ups with the cache off


class Authorization(LocalListHandlers):
    # Variables of the appendix missing from standard.py (same table format): extra rows for
    # components that standard.py already has; the device model looks them up by name.
    VARIABLES = (
        (_AUTH, None, 0, (
            # C16: idTokens with this groupId may stop any transaction but start none.
            ("MasterPassGroupId", None, "RWP", "string", None, None, 36, None, ""),
        )),
        (_LIST, None, 0, (
            ("Storage", None, "RO", "integer", "B", 0, None, None, "0"),
        )),
    )

    def __init__(self, station):
        LocalListHandlers.__init__(self, station)
        storage = station.board.storage
        self.cache = AuthCache(storage, station.log)
        self.local_list = LocalList(storage, station.log)
        self._recent = []  # [(key, info)], newest last

    def start(self):
        dm = self.station.dm
        # maxLimits = capacities (Part 2 appendix: Storage maxLimit, Entries maxLimit)
        for comp, var, mx in (
            (_CACHE, "Storage", self.cache.max_bytes),
            (_LIST, "Storage", self.local_list.max_bytes),
            (_LIST, "Entries", self.local_list.max_entries),
        ):
            try:
                dm.set_limits(comp, var, 0, mx)
            except Exception as e:
                self.station.log.debug("%s.%s: %r" % (comp, var, e))
        self.cache.purge(self.station.now(), self._lifetime())
        self._cache_figures()
        self.local_list_figures()

    # -- settings ------------------------------------------------------------------------
    def _flag(self, comp, var, default):
        return self.station.dm.get_bool(comp, var, default)

    def _lifetime(self):
        return self.station.dm.get_int(_CACHE, "LifeTime", None)

    def _cache_on(self):
        return self._flag(_CACHE, "Enabled", True) and self._flag(_CACHE, "Available", True)

    def _list_on(self):
        return self.local_list_enabled() and self._flag(_LIST, "Available", True)

    def _online(self):
        st = self.station
        return st.online and st.registration == "Accepted"

    def _cache_figures(self):
        try:
            self.station.dm.set_internal(_CACHE, "Storage", self.cache.bytes)
        except Exception as e:
            self.station.log.debug("%s.Storage: %r" % (_CACHE, e))

    # -- local look-ups --------------------------------------------------------------------
    def _local(self, k, now):
        """-> (info, source) from the local list first (C13.FR.01, C14.FR.01: the list wins over
        the cache, TC_C_25_CS), then the cache; (None, None) when neither knows the token."""
        if self._list_on():
            v = self.local_list.get(k)
            if v is not None:
                return idtoken.unpack(v[0], v[1]), _LIST
        if self._cache_on():
            e = self.cache.get(k, now, self._lifetime())
            if e is not None:
                if idtoken.accepted(e[0]):
                    self.cache.touch(k, now)
                return self.cache.info_of(e), _CACHE
        return None, None

    def _remember(self, k, info):
        r = self._recent
        for i in range(len(r)):
            if r[i][0] == k:
                del r[i]
                break
        r.append((k, info))
        if len(r) > _RECENT:
            del r[0]

    def known_info(self, id_token):
        """The IdTokenInfo the station knows for a token (local list, cache, recent answers) or None."""
        if not id_token:
            return None
        k = idtoken.key(id_token)
        # The decision of the token's latest presentation first: when the CSMS was asked (C14.FR.03,
        # DisablePostAuthorize false) its answer, not the local list's not-Accepted entry, is what holds.
        for rk, info in self._recent:
            if rk == k:
                return info
        if self._list_on():
            v = self.local_list.get(k)
            if v is not None:
                return idtoken.unpack(v[0], v[1])
        if self._cache_on():
            return self.cache.info(k, self.station.now(), self._lifetime())
        return None

    # -- public API ------------------------------------------------------------------------
    async def authorize(self, id_token, evse_id=None):
        """-> IdTokenInfoType dict for id_token (an IdTokenType dict). See the module comment."""
        if not self._flag(_AUTH, "Enabled", True):
            return {"status": idtoken.ACCEPTED}  # AuthCtrlr.Enabled false: no authorization at all
        if id_token.get("type") == "NoAuthorization":
            return {"status": idtoken.ACCEPTED}  # nothing to check for this token type
        k = idtoken.key(id_token)
        now = self.station.now()
        info = await self._decide(id_token, k, now)
        self._remember(k, info)
        return _for_evse(info, evse_id)

    async def _decide(self, id_token, k, now):
        remote_off = self._flag(_AUTH, "DisableRemoteAuthorization", False)
        if self._online():
            if remote_off:
                # Only the cache and the local list decide (AuthCtrlr.DisableRemoteAuthorization).
                info, src = self._local(k, now)
                return info if info is not None else {"status": "Unknown"}
            if self._flag(_AUTH, "LocalPreAuthorize", False):
                info, src = self._local(k, now)
                if info is not None:
                    if info["status"] == idtoken.ACCEPTED:
                        return info  # C12.FR.02 / C14.FR.02: no AuthorizeRequest (TC_C_08/27_CS)
                    if self._flag(src, "DisablePostAuthorize", False):
                        return info  # TC_C_57_CS / TC_C_58_CS: refused without asking
                    # C12.FR.05 / C14.FR.03 / C10.FR.03: not Accepted -> ask the CSMS (TC_C_09/28_CS)
            # C10.FR.11: LocalPreAuthorize false -> always ask (TC_C_36_CS)
            try:
                return await self._ask(id_token, k, now)
            except (NotConnected, CallTimeout):
                pass  # no answer: decide as offline
            except CallError as e:
                self.station.log.warn("Authorize failed: %s" % (e.code,))
                return {"status": "Unknown"}
        # Offline (C13/C15)
        if self._flag(_AUTH, "LocalAuthorizeOffline", True):
            info, src = self._local(k, now)
            if info is not None:
                return info  # C13.FR.02; not Accepted stays refused, C13.FR.04 (TC_C_22/25_CS)
        if self._flag(_AUTH, "OfflineTxForUnknownIdEnabled", False):
            return {"status": idtoken.ACCEPTED}  # C15.FR.02 (TC_C_26_CS)
        return {"status": "Unknown"}

    async def _ask(self, id_token, k, now):
        req = {"idToken": {"idToken": id_token["idToken"], "type": id_token["type"]}}
        if id_token.get("additionalInfo"):
            req["idToken"]["additionalInfo"] = id_token["additionalInfo"]
        # The cache is updated as the answer is read, so a ClearCache right behind it wins (C11).
        res = await self.station.call("Authorize", req, on_result=lambda r: self._store(k, r["idTokenInfo"], now))  # C01 (TC_C_02_CS), C10.FR.04 (TC_C_33_CS)
        return res["idTokenInfo"]

    def _store(self, k, info, now):
        if self._cache_on():
            self.cache.put(k, info, now)
            self._cache_figures()

    def update(self, id_token, id_token_info):
        """IdTokenInfo from a TransactionEventResponse (or any response carrying one) updates the
        cache (C10.FR.05, C12.FR.06, TC_C_34_CS). The local list is the CSMS's and never changes here."""
        if not id_token or not id_token_info:
            return
        k = idtoken.key(id_token)
        self._remember(k, id_token_info)
        self._store(k, id_token_info, self.station.now())

    def master_pass_group(self):
        return self.station.dm.get(_AUTH, "MasterPassGroupId") or ""

    def is_master_pass(self, id_token, info=None):
        """C16: the token's groupIdToken equals AuthCtrlr.MasterPassGroupId (info: its IdTokenInfo
        if the caller has it; otherwise what the station knows of the token)."""
        mp = self.master_pass_group()
        if not mp or not id_token:
            return False
        if info is None:
            info = self.known_info(id_token)
        if not info or info.get("status") != idtoken.ACCEPTED:
            return False
        g = info.get("groupIdToken")
        return bool(g) and g.get("idToken") == mp

    def may_start(self, id_token, info):
        """Accepted and not a master pass (C16.FR.03: a master pass starts nothing, TC_C_45_CS)."""
        if not info or info.get("status") != idtoken.ACCEPTED:
            return False
        return not self.is_master_pass(id_token, info)

    def may_stop(self, start_token, start_info, stop_token, stop_info):
        """May stop_token end the authorization started by start_token?
        Same token (compared on idToken and type, C01.FR.25; E07, TC_C_04_CS) -> yes, whatever its status;
        otherwise stop_token must be Accepted and either belong to the master pass group (C16) or
        share the starting token's groupIdToken (C09.FR.03/05/07; an invalid one with the same group
        does not stop, C09.FR.11, TC_C_42_CS)."""
        if not stop_token:
            return False
        if start_token and idtoken.key(start_token) == idtoken.key(stop_token):
            return True
        if stop_info is None:
            stop_info = self.known_info(stop_token)
        if not stop_info or stop_info.get("status") != idtoken.ACCEPTED:
            return False
        if self.is_master_pass(stop_token, stop_info):
            return True
        g2 = stop_info.get("groupIdToken")
        if not g2 or not start_token:
            return False
        if start_info is None or not start_info.get("groupIdToken"):
            known = self.known_info(start_token)
            if known:
                start_info = known
        g1 = start_info.get("groupIdToken") if start_info else None
        return bool(g1) and idtoken.key(g1) == idtoken.key(g2)

    # -- CSMS requests -------------------------------------------------------------------------
    @on("ClearCache")
    def clear_cache(self, p):
        if not self._cache_on():
            return {"status": "Rejected"}  # C11.FR.04 (TC_C_38_CS)
        self.cache.clear()  # C11.FR.03 (TC_C_37_CS)
        self._cache_figures()
        return {"status": "Accepted"}


def _for_evse(info, evse_id):
    # idTokenInfo.evseId: the token is valid on those EVSEs only.
    ev = info.get("evseId")
    if evse_id is None or not ev or evse_id in ev or info.get("status") != idtoken.ACCEPTED:
        return info
    out = dict(info)
    out["status"] = "NotAllowedTypeEVSE"
    return out
