# A02 Update Charging Station Certificate by request of CSMS (TriggerMessage
# SignChargingStationCertificate), A03 Update Charging Station Certificate initiated by the Charging
# Station (CertificateRenewalLeadTime before the client certificate expires).
#
# A renewal generates a new P-256 key on the device (security/p256.py, os.urandom; persisted as the
# store's pending key), builds a PKCS#10 CSR with CN = SecurityCtrlr.Identity and O =
# SecurityCtrlr.OrganizationName (A02.FR.04), and sends it in SignCertificate. Without a
# CertificateSigned it sends the same CSR again after CertSigningWaitMinimum, doubling the wait each
# time, CertSigningRepeatTimes times at most (A02.FR.17/18; decided: the same key and CSR, so a
# certificate made from any of them fits). A SignCertificate Rejected ends the round (TC_A_15_CS).
# CertificateSigned: the chain must verify against the CSMS roots (or the CA certificates of the
# current client chain) at the station's clock (A02.FR.06, errata 2025-01: no future validity),
# name our identity as CN, and carry the pending key; otherwise Rejected and the security event
# InvalidChargingStationCertificate (A02.FR.07, TC_A_14_CS). Accepted: the store keeps it as the new
# chain "on trial"; under security profile 3 the station reconnects with it at once (A02.FR.08). The
# first successful TLS connection with it makes it current and discards the old one (A02.FR.10); if
# NetworkProfileConnectionAttempts connections with it fail, the station falls back to the old one
# (A02.FR.28) and reports DiscardedRenewedClientCertificate (A02.FR.29).
#
# RSA keys are not generated on the device: see README (key generation on an MCU).
import asyncio

from flexcharge.core.router import Block, Reply, on
from flexcharge.core.devicemodel import standard
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected
from flexcharge.security import seed
# The certificate code (security.x509, verify, csr, p256) is imported when a renewal or a
# CertificateSigned needs it: tens of KB of heap on a port that compiles source, not worth holding
# from boot for a once-a-year operation (see security/seed.py LazyStore).

CLIENT = "ChargingStationCertificate"
_CHECK_S = 3600  # A03: how often the expiry is looked at


class CertificateRenewal(Block):
    VARIABLES = standard.SECURITY_CERTIFICATES

    def __init__(self, station, store, events, reconnect, profile_in_use, storage):
        Block.__init__(self, station)
        self.store = store  # security.certstore.CertStore
        self.events = events  # SecurityEvents
        self.reconnect = reconnect  # callable(reason): reconnect with the new certificate
        self.profile_in_use = profile_in_use  # callable() -> security profile of the current attempt
        self.storage = storage
        self._round = 0  # bumps on every new renewal; an older retry loop stops
        self._signed = asyncio.Event()
        self._trial_failures = 0

    def start(self):
        self.station.spawn(self._watch_expiry())

    # -- A02 trigger -------------------------------------------------------------------------------
    def trigger(self, p):
        """TriggerMessage SignChargingStationCertificate: a coroutine (Accepted), or None (Rejected)."""
        if self.profile_in_use() == 0:
            # Decided: profile 0 is a test set-up without any authentication; there is no client
            # certificate to renew and no authenticated CSMS to ask (profiles 1-3 renew: A05 needs a
            # certificate before an upgrade to 3).
            return None
        return self.renew("TriggerMessage")

    async def renew(self, why):
        st = self.station
        self._round += 1
        rnd = self._round
        self._signed.set()  # an older round still waiting ends now (it sees a newer round)
        self._signed = asyncio.Event()
        from flexcharge.security.csr import build_csr

        key = self.store.new_pending_key()  # new key pair per round, from os.urandom
        ident = st.dm.get("SecurityCtrlr", "Identity") or st.config["identity"]
        org = st.dm.get("SecurityCtrlr", "OrganizationName") or None
        csr = build_csr(key, ident, org)
        st.log.info("certificate renewal (%s): CSR for CN=%s" % (why, ident))
        wait = max(1, st.dm.get_int("SecurityCtrlr", "CertSigningWaitMinimum", 60))
        repeats = max(0, st.dm.get_int("SecurityCtrlr", "CertSigningRepeatTimes", 3))
        for attempt in range(repeats + 1):
            if rnd != self._round:
                return
            try:
                r = await st.call("SignCertificate", {"csr": csr, "certificateType": CLIENT}, wait=True)
            except (CallError, CallTimeout, NotConnected) as e:
                st.log.warn("SignCertificate failed: %r" % (e,))
                r = None
            if r is not None and r.get("status") != "Accepted":
                st.log.warn("SignCertificate Rejected: renewal ends")
                return
            try:
                await asyncio.wait_for(self._signed.wait(), wait)
                return  # signed, or replaced by a newer round
            except asyncio.TimeoutError:
                wait *= 2  # A02.FR.18
        st.log.warn("no CertificateSigned after %d SignCertificate requests" % (repeats + 1))

    # -- CertificateSigned -------------------------------------------------------------------------
    @on("CertificateSigned")
    def certificate_signed(self, p):
        kind = p.get("certificateType", CLIENT)
        if kind != CLIENT:
            return self._reject("V2GCertificate: this station has no ISO 15118 stack")
        text = p["certificateChain"]
        limit = self.station.dm.get_int("SecurityCtrlr", "MaxCertificateChainSize", 5600)
        if limit and len(text) > limit:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "TooLargeElement",
                                                         "additionalInfo": "certificateChain > MaxCertificateChainSize"}}
        from flexcharge.security.verify import verify_chain
        from flexcharge.security.der import CertError
        from flexcharge.security.x509 import Certificate, pem_to_ders

        try:
            chain = pem_to_ders(text)
            leaf = Certificate(chain[0])
            anchors = self.store.anchors_der("CSMSRootCertificate") + self.store.client_chain_der()[1:]
            verify_chain(chain, anchors, int(self.station.now()))
            ident = self.station.dm.get("SecurityCtrlr", "Identity") or self.station.config["identity"]
            if ("CN=" + ident) not in leaf.subject.split(","):
                raise CertError("subject %s does not name CN=%s" % (leaf.subject, ident))
            self.store.promote_pending(chain)  # the leaf must carry the key of our last CSR
        except CertError as e:
            return self._reject(str(e))
        seed.touch(self.storage, seed.CLIENT)
        self._trial_failures = 0
        self._signed.set()
        self.events.notify("ReconfigurationOfSecurityParameters", "new ChargingStationCertificate %s" % leaf.subject)
        if self.profile_in_use() == 3:
            return Reply({"status": "Accepted"}, then=self._reconnect_soon())  # A02.FR.08
        self.store.confirm_new()  # not used by TLS under profile 2: nothing to try
        return {"status": "Accepted"}

    def _reject(self, why):
        self.station.log.warn("CertificateSigned rejected: %s" % why)
        self.events.notify("InvalidChargingStationCertificate", why[:200])  # A02.FR.07
        return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidCertificate", "additionalInfo": why[:500]}}

    async def _reconnect_soon(self):
        await asyncio.sleep(1)  # the CertificateSignedResponse leaves first
        self.reconnect("new ChargingStationCertificate (A02.FR.08)")

    # -- connection outcome (called by the composition root) --------------------------------------
    def connected(self, profile):
        if profile == 3 and self.store.client_state() == "trial":
            self.store.confirm_new()  # A02.FR.10: the old certificate is discarded
            self.station.log.info("renewed client certificate confirmed by a connection")

    def connect_failed(self, profile):
        if profile != 3 or self.store.client_state() != "trial":
            return
        self._trial_failures += 1
        limit = max(1, self.station.dm.get_int("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3))
        if self._trial_failures >= limit:
            self._trial_failures = 0
            self.store.fall_back()  # A02.FR.28
            self.events.notify("DiscardedRenewedClientCertificate",
                               "no connection with the renewed certificate: the previous one is used again")

    # -- A03 ----------------------------------------------------------------------------------------
    def due(self, now):
        """True when the client certificate expires within CertificateRenewalLeadTime (profile 3:
        the only one that presents it)."""
        if self.profile_in_use() != 3:
            return False
        chain = self.store.client_chain_der()
        if not chain or self.store.client_state() == "trial":
            return False
        lead = self.station.dm.get_int("SecurityCtrlr", "CertificateRenewalLeadTime", 0)
        if lead <= 0:
            return False
        from flexcharge.security.der import CertError  # only where there is a certificate to read
        from flexcharge.security.x509 import Certificate

        try:
            return Certificate(chain[0]).not_after - now <= lead
        except CertError:
            return True

    async def _watch_expiry(self):
        st = self.station
        await st.accepted()
        while True:
            if self.due(int(st.now())):
                await self.renew("certificate expires soon (A03)")
            await asyncio.sleep(_CHECK_S)
