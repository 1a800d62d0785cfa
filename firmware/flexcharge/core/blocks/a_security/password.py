# A01 Update Charging Station Password for HTTP Basic Authentication (TC_A_09_CS, TC_A_10_CS).
#
# SetVariables SecurityCtrlr.BasicAuthPassword is validated as a passwordString (16..64 characters
# of the allowed set, A00.FR.205 with errata 2025-01: anything else Rejected, TC_A_10_CS), stored,
# and used from the next connection on. The station does not wait for a network problem to get
# there: once the SetVariablesResponse has gone out, it closes the link (1000, "password changed")
# and the session reconnects at once with the new password (TC_A_09_CS step 3).
# The previous password is kept until a connection with the new one has been opened: if the CSMS
# refuses the new one (HTTP 401), the station goes back to the previous password, so a CSMS that
# stored the change wrongly cannot lock the station out. The change is recorded in the security
# log (A01.FR.11) without its value (A01.FR.12), as ReconfigurationOfSecurityParameters.
import asyncio

from flexcharge.core.router import Block
from flexcharge.security.profiles import check_basic_auth_password, ConfigError

_PREVIOUS = "basic_auth.previous"
_CLOSE_DELAY_S = 1  # lets the SetVariablesResponse leave before the link closes


class PasswordUpdate(Block):
    def __init__(self, station, storage, events, reconnect):
        Block.__init__(self, station)
        self.storage = storage
        self.events = events  # SecurityEvents
        self.reconnect = reconnect  # callable(reason): close the link so the session reconnects
        self._ignore = False
        self._current = None

    def start(self):
        dm = self.station.dm
        self._current = dm.get("SecurityCtrlr", "BasicAuthPassword")
        dm.veto("SecurityCtrlr", "BasicAuthPassword", _check)
        dm.watch("SecurityCtrlr", "BasicAuthPassword", self._changed)
        self.station.on_online.append(self._online)

    def _changed(self, component, variable, value, evse, connector):
        old, self._current = self._current, value
        if self._ignore:
            return
        if old and self.storage.read(_PREVIOUS) is None:
            self.storage.write(_PREVIOUS, old)  # the last password known to work
        self.events.notify("ReconfigurationOfSecurityParameters", "BasicAuthPassword changed")
        self.station.spawn(self._reconnect_soon())

    async def _reconnect_soon(self):
        await asyncio.sleep(_CLOSE_DELAY_S)
        self.reconnect("BasicAuthPassword changed (A01)")

    def _online(self, online):
        # A connection with the current password was opened: the previous one is no longer needed.
        if online and self.storage.read(_PREVIOUS) is not None:
            self.storage.remove(_PREVIOUS)

    def refused(self):
        """The CSMS answered the handshake with HTTP 401. Back to the previous password if the
        current one was never accepted. Returns True if a fallback happened."""
        prev = self.storage.read(_PREVIOUS)
        if prev is None:
            self.events.notify("FailedToAuthenticateAtCsms", "HTTP 401")
            return False
        self.storage.remove(_PREVIOUS)
        self._ignore = True
        try:
            self.station.dm.set_internal("SecurityCtrlr", "BasicAuthPassword", prev.decode())
        finally:
            self._ignore = False
        self.events.notify("FailedToAuthenticateAtCsms", "new BasicAuthPassword refused: previous one restored")
        return True


def _check(value):
    try:
        check_basic_auth_password(value)
    except ConfigError as e:
        return str(e)
    return None
