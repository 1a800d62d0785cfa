# Issue 8: declared capabilities must be true. Every *Ctrlr.Available / Enabled and every declared
# feature variable is cross-checked against what the firmware really registers (router handlers,
# trigger table), both ways, so the device model cannot drift from the code.
import io

from support import tmpdir
from board import SimBoard
from flexcharge.lifecycle.boot import App
from flexcharge.lifecycle.config import check

# controller -> the CSMS actions its use cases need (Part 2 use cases; any one missing = not available)
FEATURES = (
    ("SmartChargingCtrlr", ("SetChargingProfile", "GetChargingProfiles", "ClearChargingProfile", "GetCompositeSchedule")),
    ("ReservationCtrlr", ("ReserveNow", "CancelReservation")),
    ("LocalAuthListCtrlr", ("SendLocalList", "GetLocalListVersion")),
    ("AuthCacheCtrlr", ("ClearCache",)),
    ("MonitoringCtrlr", ("SetVariableMonitoring", "ClearVariableMonitoring", "SetMonitoringBase",
                         "SetMonitoringLevel", "GetMonitoringReport")),
    ("DisplayMessageCtrlr", ("SetDisplayMessage", "GetDisplayMessages", "ClearDisplayMessage")),
    ("TariffCostCtrlr", ("CostUpdated",)),
    # M03-M05 (InstallCertificate, GetInstalledCertificateIds, DeleteCertificate) are Core (Part 5 §4.2), not
    # ISO 15118: they are checked in DECLARED. ISO 15118 has no CSMS-initiated action of its own in 2.0.1.
    ("ISO15118Ctrlr", ()),
)
# station-initiated features: controller -> what must exist for it
STATION_SIDE = ("SampledDataCtrlr", "AlignedDataCtrlr")
# controllers without Available that describe core behaviour every station has
CORE = ("ClockCtrlr", "DeviceDataCtrlr", "OCPPCommCtrlr", "SecurityCtrlr", "TxCtrlr", "AuthCtrlr")
# feature variables outside the *Ctrlr.Available scheme -> actions that make them true
DECLARED = (
    (("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate"), ("UpdateFirmware",)),
    (("SecurityCtrlr", "CertSigningRepeatTimes"), ("CertificateSigned",)),
    (("SecurityCtrlr", "CertSigningWaitMinimum"), ("CertificateSigned",)),
    (("SecurityCtrlr", "MaxCertificateChainSize"), ("InstallCertificate", "CertificateSigned")),
    (("SecurityCtrlr", "CertificateEntries"), ("InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate")),
    (("SecurityCtrlr", "AdditionalRootCertificateCheck"), ("InstallCertificate",)),
)


class QuietLog:
    def debug(self, m):
        pass

    info = warn = error = debug


def app():
    c = check({"identity": "CS1", "csms_url": "ws://x/ocpp", "evses": [{"id": 1, "connectors": 1}]})
    return App(SimBoard(c, tmpdir("cap"), stdin=False, out=io.StringIO()), c, QuietLog())


def present(dm, comp, var):
    return isinstance(dm.find(comp, None, None, None, var, None), tuple)


def test_available_and_enabled_match_the_registered_handlers():
    a = app()
    dm, router = a.dm, a.router
    for comp, actions in FEATURES:
        handled = [x for x in actions if router.handles(x)]
        declared = present(dm, comp, "Available")
        avail = dm.get_bool(comp, "Available", False) if declared else False
        if avail:
            assert handled == list(actions), "%s.Available is true but %r have no handler" % (
                comp, [x for x in actions if x not in handled])
        else:
            assert handled == [], (
                "%s has handlers %r but does not declare Available true" % (comp, handled))
        if declared and present(dm, comp, "Enabled") and not avail:
            assert dm.get_bool(comp, "Enabled", True) is False, comp + ".Enabled must be false when not Available"
    for comp in STATION_SIDE:
        if dm.get_bool(comp, "Available", False):
            assert "MeterValues" in a.trigger.triggers and router.handles("TriggerMessage"), comp


def test_every_controller_is_accounted_for():
    a = app()
    known = set(c for c, _ in FEATURES) | set(STATION_SIDE) | set(CORE)
    for blk, row, vidx in a.dm.rows():
        if blk[0].endswith("Ctrlr"):
            assert blk[0] in known, "%s: add it to FEATURES/CORE in this test, with the actions that make it true" % blk[0]


def test_declared_features_have_their_handlers():
    a = app()
    for (comp, var), actions in DECLARED:
        if present(a.dm, comp, var):
            assert all(a.router.handles(x) for x in actions), "%s.%s declared without %r" % (comp, var, actions)
    ftp = a.dm.get_list("OCPPCommCtrlr", "FileTransferProtocols")
    if ftp:
        assert a.router.handles("GetLog") or a.router.handles("UpdateFirmware"), ftp


def test_smart_charging_is_declared_available_and_enabled():
    # Issue 12: the K block exists (core/blocks/k_smart_charging), so Available is true (ReadOnly: a factory
    # value may say false for a station sold without it) and Enabled is the CSMS's switch (ReadWrite).
    a = app()
    dm = a.dm
    assert dm.get_bool("SmartChargingCtrlr", "Available") is True
    assert dm.get_bool("SmartChargingCtrlr", "Enabled") is True
    f = dm.find("SmartChargingCtrlr", None, None, None, "Available", None)
    assert f[1][2][:2] == "RO"
    f = dm.find("SmartChargingCtrlr", None, None, None, "Enabled", None)
    assert f[1][2][:2] == "RW"
    for x in ("SetChargingProfile", "GetChargingProfiles", "ClearChargingProfile", "GetCompositeSchedule"):
        assert a.router.handles(x), x
