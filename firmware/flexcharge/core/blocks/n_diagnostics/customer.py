# N09 Get Customer Information, N10 Clear Customer Information (CustomerInformation ->
# NotifyCustomerInformation). Test cases TC_N_27..33_CS, TC_N_62_CS, TC_N_63_CS.
#
# What the station holds about a customer, by store:
#   authorization cache    idToken -> IdTokenInfo         (c_authorization/cache.py, auth.cache)
#   local list             idToken -> IdTokenInfo         (d_local_auth_list, auth.list)
#   recent answers         last few IdTokenInfo, RAM only (authorization.py)
#   transaction queue      TransactionEvents not yet delivered, with their idToken (tq.*)
#   running transactions   the idToken that started them (RAM)
# customerIdentifier: the station stores none of its own; queued events and cache entries are
# matched by it through idToken.additionalInfo[].additionalIdToken. customerCertificate: the
# station holds no contract certificates (no ISO 15118), so there is never data for it.
#
# Decision (README "Customer information"): `clear` removes the data from the cache and the recent
# answers (persistently: the cache file is rewritten), and takes the idToken out of queued
# TransactionEvents (the events themselves are billing data and still go out, without it; idToken is
# optional in TransactionEventRequest). The local authorization list is not touched: it is the CSMS's
# (D01, versioned) and TC_N_30/32/62_CS say "all customer related data (except from LocalList)".
# A running transaction keeps its idToken in RAM until it ends (it is needed to stop it).
from flexcharge.core.router import Block, Reply, on
from flexcharge.core.blocks.c_authorization import idtoken
from flexcharge.core.blocks.e_transactions.txqueue import PREFIX as TQ_PREFIX
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

MAX_DATA = 512  # NotifyCustomerInformationRequest.data maxLength


def _tok_text(tok):
    return "%s:%s" % (tok.get("type"), tok.get("idToken"))


def _info_text(info):
    s = "status " + str(info.get("status"))
    if info.get("cacheExpiryDateTime"):
        s += ", expires " + info["cacheExpiryDateTime"]
    g = info.get("groupIdToken")
    if g:
        s += ", group " + _tok_text(g)
    if info.get("evseId"):
        s += ", evse %r" % (info["evseId"],)
    return s


def _has_additional(tok, ident):
    for a in (tok or {}).get("additionalInfo") or ():
        if a.get("additionalIdToken") == ident:
            return True
    return False


class CustomerInformation(Block):
    def __init__(self, station, auth, tx):
        Block.__init__(self, station)
        self.auth = auth  # c_authorization.Authorization (cache, local_list, _recent)
        self.tx = tx  # e_transactions.Transactions (queue, slots)

    @on("CustomerInformation")
    def customer_information(self, p):
        tok = p.get("idToken")
        ident = p.get("customerIdentifier")
        cert = p.get("customerCertificate")
        report = p["report"]
        clear = p["clear"]
        if (tok is None and ident is None and cert is None) or (not report and not clear):
            # N09.FR.03 / N10.FR.05 (TC_N_29/33_CS): nothing to look for, or nothing to do.
            return {"status": "Invalid", "statusInfo": {"reasonCode": "MissingParam"}}
        lines = self.find(tok, ident, cert) if report else None
        cleared = self.clear(tok, ident, cert) if clear else 0
        if report:
            text = "\n".join(lines)  # N09.FR.05 data; empty when nothing is held (N09.FR.06, TC_N_28_CS)
        else:
            text = "Cleared %d item(s)" % cleared  # N10.FR.06, TC_N_32_CS: one notify, data cleared
        return Reply({"status": "Accepted"}, then=self.notify(p["requestId"], text))

    # -- look-up ------------------------------------------------------------------------------
    def _matches(self, t, k, ident):
        if t is None:
            return False
        if k is not None and idtoken.key(t) == k:
            return True
        return ident is not None and _has_additional(t, ident)

    def find(self, tok, ident, cert):
        """Lines of text, one per item held (never the whole store in RAM: one entry at a time)."""
        out = []
        if cert is not None and tok is None and ident is None:
            return out  # no contract certificates on this station (TC_N_63_CS: data empty)
        a = self.auth
        k = idtoken.key(tok) if tok is not None else None
        if k is not None:
            e = a.cache._e.get(k)
            if e is not None:
                out.append("AuthorizationCache %s: %s" % (_tok_text(tok), _info_text(a.cache.info_of(e))))
            v = a.local_list.get(k)
            if v is not None:
                out.append("LocalAuthorizationList %s: %s" % (_tok_text(tok), _info_text(idtoken.unpack(v[0], v[1]))))
        for s in self.tx.slots:
            t = s.tx
            if t is not None and self._matches(getattr(t, "id_token", None), k, ident):
                out.append("Transaction %s on EVSE %d: running, idToken %s" % (t.id, s.evse.id, _tok_text(t.id_token)))
        q = self.tx.queue
        for name in q.storage.names(TQ_PREFIX):
            ev = q.read(name)
            if ev is None:
                continue
            t = ev.get("idToken")
            if self._matches(t, k, ident):
                ti = ev.get("transactionInfo") or {}
                out.append("QueuedTransactionEvent %s seqNo %s %s at %s: idToken %s" % (
                    ti.get("transactionId"), ev.get("seqNo"), ev.get("eventType"), ev.get("timestamp"), _tok_text(t)))
        return out

    # -- N10 ------------------------------------------------------------------------------------
    def clear(self, tok, ident, cert):
        a = self.auth
        n = 0
        k = idtoken.key(tok) if tok is not None else None
        if k is not None:
            if k in a.cache._e:
                a.cache.remove(k)  # persisted at once (cache._save)
                n += 1
            r = [x for x in a._recent if x[0] != k]
            if len(r) != len(a._recent):
                a._recent[:] = r
        q = self.tx.queue
        for name in q.storage.names(TQ_PREFIX):
            ev = q.read(name)
            if ev is None or not self._matches(ev.get("idToken"), k, ident):
                continue
            del ev["idToken"]
            q.storage.write(name, _dumps(ev))  # atomic: the event stays, without the idToken
            n += 1
        if n:
            self.station.log.info("customer information cleared: %d item(s)" % n)
        return n

    async def notify(self, request_id, text):
        st = self.station
        seq = 0
        i = 0
        while True:
            chunk = text[i:i + MAX_DATA]
            i += MAX_DATA
            more = i < len(text)
            p = {"data": chunk, "tbc": more, "seqNo": seq, "generatedAt": st.isonow(), "requestId": request_id}
            try:
                await st.call("NotifyCustomerInformation", p)  # N09.FR.04: chunked, tbc
            except (NotConnected, CallTimeout, CallError) as e:
                st.log.warn("NotifyCustomerInformation %d seqNo %d failed (%r): abandoned" % (request_id, seq, e))
                return
            seq += 1
            if not more:
                return


def _dumps(obj):
    import json

    return json.dumps(obj, separators=(",", ":"))
