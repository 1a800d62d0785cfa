#!/usr/bin/env python3
"""Generate firmware/flexcharge/core/devicemodel/standard.py (CPython tool).

Source of truth:
  * dataType and unit of every standardized variable: the OCPP 2.0.1 appendix CSV
    (/work/shared/spec/ocpp-2.0.1/appendices-csv/dm_components_vars.csv, or $OCPP_SPEC_DIR),
    component-specific rows first, then the <generic> rows;
  * what the CSV does not carry (mutability, persistence, defaults, limits, valuesList,
    preconfigured monitors) is the OVERLAY below, written from OCPP 2.0.1 Part 2's
    "Referenced Components and Variables", the Part 6 test cases and the 2025-01 errata.
    Where the spec leaves a default to the manufacturer, the value is ours (marked "ours").

Usage:  python3 tools/gen_dm.py            # rewrite standard.py
        python3 tools/gen_dm.py --check    # exit 1 if standard.py is not up to date

The output is tuples of constants only, so MicroPython keeps it in flash when frozen.
Row format (see core/devicemodel/model.py):
  (variable, instance, flags, dataType, unit, minLimit, maxLimit, valuesList, default[, monitors])
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "firmware", "flexcharge", "core", "devicemodel", "standard.py")
SPEC = os.environ.get("OCPP_SPEC_DIR", "/work/shared/spec/ocpp-2.0.1")
CSV = os.path.join(SPEC, "appendices-csv", "dm_components_vars.csv")

# Non-JSON primitive types of the appendix mapped onto DataEnumType (NotifyReport schema).
DATATYPE_ALIASES = {"passwordString": "string", "identifierString": "string"}

AVAIL = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")  # errata 2.45.1
MEASURANDS = (
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Voltage",
)  # what the HAL Meter/ControlPilot can deliver
TX_POINTS = ("EVConnected", "Authorized", "PowerPathClosed", "EnergyTransfer")  # no bay sensor, no signed data
ID_TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization")
DELTA8 = (("P", "Delta", 1, 8),)
# Hard-wired Delta monitor on a hardware Problem variable, severity 1 HardwareFailure (N07, diag/faults.py).
HW_PROBLEM = (("H", "Delta", 1, 1),)  # preconfigured Delta monitor, severity 8 Informational (see standard.py header)

# Limits the firmware can honour (factory values and SetVariables are checked against them; the
# report shows them as minLimit/maxLimit, so a CSMS sees the truth).
MAX_MESSAGE = 65536  # = lifecycle/boot.py MAX_MESSAGE: a larger message is refused (close 1009)
# MessageTimeout is waited for with asyncio, i.e. ticks_ms arithmetic: ticks_diff is only right
# within half the ticks period, 2**29 ms on a 30-bit small-int port (the smallest there is).
MAX_TIMEOUT_S = 2 ** 29 // 1000  # 536870 s
# One CSMS request of ItemsPerMessage items costs ~370 B of heap per item at its peak (the parsed
# request, the results and the encoded response alive at once: GetVariables, measured on the unix
# port, host_tests/portable/test_factory_limits.py). 64 items ~ 24 KB: the budget of one request
# on a small MCU with the frozen firmware (~100 KB of free heap).
MAX_ITEMS = 64


def V(name, flags, default, inst=None, mn=None, mx=None, values=None, unit=None, mon=None, dt=None):
    return (name, inst, flags, default, mn, mx, values, unit, mon, dt)


# OVERLAY: (TABLE_NAME, [(component, component_instance, scope, [V(...)])], comment)
# flags: RO/RW/WO, then P persistent, C constant, M supportsMonitoring, B RebootRequired on write,
#        T/N/X: the variable also has Target/MinSet/MaxSet attributes,
#        F: a ReadOnly variable a factory value (launcher `device_model`) may set: the firmware
#           honours whatever value passes the limits; ReadOnly rows without F are the firmware's,
#        U: the feature is not implemented: no factory value (e.g. SmartChargingCtrlr.Available).
# scope: 0 = one component, 1 = one per EVSE, 2 = one per connector.
OVERLAY = (
    (
        "CHARGING_STATION",
        (
            (
                "ChargingStation",
                None,
                0,
                (
                    V("AvailabilityState", "ROM", "Available", values=AVAIL, mon=DELTA8),
                    V("Available", "ROM", "true"),
                    V("Model", "ROPC", ""),  # from the station config at boot
                    V("VendorName", "ROPC", ""),
                    V("SerialNumber", "ROPC", ""),
                    V("FirmwareVersion", "ROP", ""),
                    V("SupplyPhases", "RO", "3", mn=0, mx=3),  # from config: max over EVSEs
                    V("Power", "ROM", "0", mn=0, unit="W"),  # sum of the EVSEs' meters (j_meter_values); maxLimit from config
                ),
            ),
        ),
        "B01/G: the station as a whole; identity values are set from the config at boot",
    ),
    (
        "EVSE",
        (
            (
                "EVSE",
                None,
                1,
                (
                    V("AvailabilityState", "ROM", "Available", values=AVAIL, mon=DELTA8),
                    V("Available", "ROM", "true"),
                    V("Power", "ROM", "0", mn=0, unit="W"),  # maxLimit per EVSE from config
                    V("SupplyPhases", "RO", "3", mn=0, mx=3),
                ),
            ),
        ),
        "one per EVSE of the config",
    ),
    (
        "CONNECTOR",
        (
            (
                "Connector",
                None,
                2,
                (
                    V("AvailabilityState", "ROM", "Available", values=AVAIL, mon=DELTA8),
                    V("Available", "ROM", "true"),
                    V("ConnectorType", "ROCF", "sType2"),  # ours: the simulated board has Type 2 sockets; a maker sets its own
                    V("SupplyPhases", "RO", "3", mn=0, mx=3),
                ),
            ),
        ),
        "one per connector of the config",
    ),
    (
        "CLOCK_CTRLR",
        (
            (
                "ClockCtrlr",
                None,
                0,
                (
                    V("DateTime", "ROM", ""),  # read from the station clock
                    V("TimeSource", "RWPM", "Heartbeat", values=("Heartbeat", "RealTimeClock")),
                    V("NextTimeOffsetTransitionDateTime", "RWPM", ""),  # TC_B_11_CS step 7
                    V("TimeOffset", "RWPM", "+00:00"),
                    V("TimeZone", "RWPM", ""),
                    V("TimeAdjustmentReportingThreshold", "RWPM", "20", mn=0, unit="s"),  # ours
                ),
            ),
        ),
        "B01/G02 time",
    ),
    (
        "DEVICE_DATA_CTRLR",
        (
            (
                "DeviceDataCtrlr",
                None,
                0,
                (
                    V("ItemsPerMessage", "ROPCF", "16", mn=1, mx=MAX_ITEMS, inst="GetReport"),  # ours
                    V("ItemsPerMessage", "ROPCF", "16", mn=1, mx=MAX_ITEMS, inst="GetVariables"),
                    V("ItemsPerMessage", "ROPCF", "16", mn=1, mx=MAX_ITEMS, inst="SetVariables"),
                    V("BytesPerMessage", "ROPCF", "8192", mn=1, mx=MAX_MESSAGE, inst="GetReport"),  # ours
                    V("BytesPerMessage", "ROPCF", "8192", mn=1, mx=MAX_MESSAGE, inst="GetVariables"),
                    V("BytesPerMessage", "ROPCF", "8192", mn=1, mx=MAX_MESSAGE, inst="SetVariables"),
                    V("ConfigurationValueSize", "ROPCF", "1000", mx=1000),  # spec maximum
                    V("ReportingValueSize", "ROPCF", "2500", mx=2500),  # spec maximum
                    V("ValueSize", "ROPCF", "1000", mx=1000),
                ),
            ),
        ),
        "B05-B08 limits",
    ),
    (
        "OCPP_COMM_CTRLR",
        (
            (
                "OCPPCommCtrlr",
                None,
                0,
                (
                    V("ActiveNetworkProfile", "ROM", "1", dt="integer"),  # errata 2.40: required, integer
                    # What comm/http.py speaks: UpdateFirmware (L01) downloads and GetLog (N01) uploads, http:// and https://.
                    V("FileTransferProtocols", "ROC", "HTTP,HTTPS", values=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP")),
                    V("HeartbeatInterval", "RWPM", "300", mn=1),  # ours until BootNotification sets it
                    V("MessageTimeout", "ROPMF", "30", inst="Default", mn=1, mx=MAX_TIMEOUT_S),  # TC_B_39_CS: read-only
                    V("MessageAttemptInterval", "RWPM", "60", inst="TransactionEvent", mn=0, unit="s"),  # ours
                    V("MessageAttempts", "RWPM", "3", inst="TransactionEvent", mn=0),  # ours
                    V("NetworkConfigurationPriority", "RWPMB", "1"),  # slot 1 = the configured csms_url; read at boot (B10)
                    V("NetworkProfileConnectionAttempts", "RWPM", "3", mn=1),  # ours
                    V("OfflineThreshold", "RWPM", "300", mn=0),  # ours
                    V("ResetRetries", "RWPM", "2", mn=0),  # ours
                    V("RetryBackOffRandomRange", "RWPM", "10", mn=0, unit="s"),  # ours
                    V("RetryBackOffRepeatTimes", "RWPM", "5", mn=0),  # ours
                    V("RetryBackOffWaitMinimum", "RWPM", "5", mn=0, unit="s"),  # ours
                    V("UnlockOnEVSideDisconnect", "RWPM", "true"),  # sockets, not fixed cables
                    V("WebSocketPingInterval", "RWPM", "30", mn=0),  # ours; 0 disables
                ),
            ),
        ),
        "B/Part 4 communication",
    ),
    (
        "SECURITY_CTRLR",
        (
            (
                "SecurityCtrlr",
                None,
                0,
                (
                    V("AdditionalRootCertificateCheck", "ROPF", "false"),  # M05: the maker decides (factory value)
                    V("BasicAuthPassword", "WOPM", "", mn=16, mx=64),  # errata 2.1.1: 16..maxLimit(40..64)
                    V("CertificateEntries", "ROM", "0", mn=0, mx=12),  # = m_certificates MAX_ENTRIES
                    V("Identity", "RWPMB", "", mx=48),  # reconnect with the new identity after reboot
                    V("OrganizationName", "RWPM", ""),
                    V("SecurityProfile", "ROPM", "0", mn=0, mx=3),  # changed by SetNetworkProfile (A05)
                ),
            ),
        ),
        "A security profiles",
    ),
    (
        "MONITORING_CTRLR",
        (
            (
                "MonitoringCtrlr",
                None,
                0,
                (
                    V("Available", "ROF", "true"),  # false: no monitor triggers (engine.enabled)
                    V("Enabled", "RWPM", "true"),
                    V("ItemsPerMessage", "ROPCF", "8", mn=1, mx=MAX_ITEMS, inst="SetVariableMonitoring"),  # ours
                    V("ItemsPerMessage", "ROPCF", "16", mn=1, mx=MAX_ITEMS, inst="ClearVariableMonitoring"),
                    V("BytesPerMessage", "ROPCF", "4096", mn=1, mx=MAX_MESSAGE, inst="SetVariableMonitoring"),
                    V("BytesPerMessage", "ROPCF", "4096", mn=1, mx=MAX_MESSAGE, inst="ClearVariableMonitoring"),
                    V("OfflineQueuingSeverity", "RWPM", "5", mn=0, mx=9),  # ours: Alert and worse
                    V("ActiveMonitoringBase", "ROPF", "All", values=("All", "FactoryDefault", "HardWiredOnly")),
                    V("ActiveMonitoringLevel", "ROPF", "9", mn=0, mx=9),  # all severities reported
                ),
            ),
        ),
        "N02-N08, owned by core/blocks/n_diagnostics/monitoring.py",
    ),
    (
        "TX_CTRLR",
        (
            (
                "TxCtrlr",
                None,
                0,
                (
                    V("EVConnectionTimeOut", "RWPM", "60", mn=0),  # ours
                    V("MaxEnergyOnInvalidId", "RWPM", "0", mn=0, unit="Wh"),
                    V("StopTxOnEVSideDisconnect", "RWPM", "true"),
                    V("StopTxOnInvalidId", "RWPM", "true"),
                    V("TxBeforeAcceptedEnabled", "RWPM", "false"),
                    V("TxStartPoint", "RWPM", "PowerPathClosed", values=TX_POINTS),  # errata 2.44
                    V("TxStopPoint", "RWPM", "EVConnected,Authorized", values=TX_POINTS),
                ),
            ),
        ),
        "E transactions",
    ),
    (
        "SAMPLED_DATA_CTRLR",
        (
            (
                "SampledDataCtrlr",
                None,
                0,
                (
                    V("Available", "RO", "true"),
                    V("Enabled", "RWPM", "true"),
                    V("TxEndedMeasurands", "RWPM", "Energy.Active.Import.Register", values=MEASURANDS),
                    V("TxEndedInterval", "RWPM", "0", mn=0),  # ours: keeps the Ended message small
                    V("TxStartedMeasurands", "RWPM", "Energy.Active.Import.Register", values=MEASURANDS),
                    V("TxUpdatedMeasurands", "RWPM", "Energy.Active.Import.Register,Power.Active.Import", values=MEASURANDS),
                    V("TxUpdatedInterval", "RWPM", "60", mn=0),
                ),
            ),
        ),
        "J sampled meter values",
    ),
    (
        "ALIGNED_DATA_CTRLR",
        (
            (
                "AlignedDataCtrlr",
                None,
                0,
                (
                    V("Available", "RO", "true"),
                    V("Enabled", "RWPM", "true"),
                    V("Interval", "RWPM", "900", mn=0),  # ours; 0 disables
                    V("Measurands", "RWPM", "Energy.Active.Import.Register", values=MEASURANDS),
                    V("SendDuringIdle", "RWPM", "false"),
                    V("TxEndedInterval", "RWPM", "0", mn=0),
                    V("TxEndedMeasurands", "RWPM", "Energy.Active.Import.Register", values=MEASURANDS),
                ),
            ),
        ),
        "J clock-aligned meter values",
    ),
    (
        "AUTH_CTRLR",
        (
            (
                "AuthCtrlr",
                None,
                0,
                (
                    V("Enabled", "RWPM", "true"),
                    V("AuthorizeRemoteStart", "RWPM", "false"),  # ours
                    V("LocalAuthorizeOffline", "RWPM", "true"),
                    V("LocalPreAuthorize", "RWPM", "false"),
                    V("OfflineTxForUnknownIdEnabled", "RWPM", "false"),
                    V("DisableRemoteAuthorization", "RWPM", "false"),
                    V("SupportedIdTokenTypes", "ROC", ",".join(ID_TOKEN_TYPES), values=ID_TOKEN_TYPES, dt="MemberList"),  # errata 2.43.1
                ),
            ),
        ),
        "C authorization",
    ),
    (
        "AUTH_CACHE_CTRLR",
        (
            (
                "AuthCacheCtrlr",
                None,
                0,
                (
                    V("Available", "ROF", "true"),  # authorization.py: cache_enabled()
                    V("Enabled", "RWPM", "true"),
                    V("LifeTime", "RWPM", "86400", mn=0, unit="s"),  # ours
                    V("Policy", "RWPM", "LRU", values=("LRU",)),
                    V("Storage", "RO", "4096", mn=0),  # ours
                    V("DisablePostAuthorize", "RWPM", "false"),
                ),
            ),
        ),
        "C10-C12 authorization cache",
    ),
    (
        "LOCAL_AUTH_LIST_CTRLR",
        (
            (
                "LocalAuthListCtrlr",
                None,
                0,
                (
                    V("Available", "ROF", "true"),  # authorization.py: list_enabled()
                    V("Enabled", "RWPM", "true"),
                    V("Entries", "ROM", "0", mn=0),
                    V("ItemsPerMessage", "ROPCF", "20", mn=1, mx=MAX_ITEMS),  # ours
                    V("BytesPerMessage", "ROPCF", "4096", mn=1, mx=MAX_MESSAGE),  # ours
                    V("DisablePostAuthorize", "RWPM", "false"),
                ),
            ),
        ),
        "D local authorization list",
    ),
    (
        "SMART_CHARGING_CTRLR",
        (
            (
                "SmartChargingCtrlr",
                None,
                0,
                (
                    # K01/K05/K08-K10: core/blocks/k_smart_charging (issue 12).
                    V("Available", "ROF", "true"),  # profiles.py: SetChargingProfile Rejected when false
                    V("Enabled", "RWPM", "true"),
                    V("Entries", "ROM", "0", inst="ChargingProfiles", mn=0, mx=10),  # ours: 10 profiles
                    V("LimitChangeSignificance", "RWPM", "10", mn=0, mx=100),  # TC_B_11_CS step 3
                    V("PeriodsPerSchedule", "ROC", "24"),  # ours
                    V("Phases3to1", "ROC", "false"),
                    V("ProfileStackLevel", "ROC", "10"),  # ours
                    V("RateUnit", "ROC", "A,W", values=("A", "W")),
                ),
            ),
        ),
        "K smart charging",
    ),
    (
        "RESERVATION_CTRLR",
        (
            (
                "ReservationCtrlr",
                None,
                0,
                (
                    V("Available", "ROF", "true"),  # reservation.py rejects ReserveNow when false
                    V("Enabled", "RWPM", "true"),
                    V("NonEvseSpecific", "ROCF", "false"),  # ours; H01.FR.19 honoured by reservation.py
                ),
            ),
        ),
        "H reservation",
    ),
    (
        "FIRMWARE",
        (
            (
                "ChargingStation",
                None,
                0,
                (V("AllowNewSessionsPendingFirmwareUpdate", "RWPM", "false"),),
            ),
        ),
        "L firmware management (FileTransferProtocols is in OCPP_COMM_CTRLR)",
    ),
    (
        "SECURITY_CERTIFICATES",
        (
            (
                "SecurityCtrlr",
                None,
                0,
                (
                    V("CertSigningRepeatTimes", "RWPM", "3", mn=0),  # ours
                    V("CertSigningWaitMinimum", "RWPM", "60", mn=0),  # ours
                    V("MaxCertificateChainSize", "ROC", "5600", mx=10000),  # ours
                    # A03 (not standardized): renew the client certificate this long before it expires; 0 = never.
                    V("CertificateRenewalLeadTime", "RWPM", "2592000", mn=0, unit="s", dt="integer"),  # ours: 30 days
                ),
            ),
        ),
        "A02/A03 certificate management",
    ),
    (
        "HARDWARE",
        (
            (
                "ControlMetering",
                None,
                1,
                (
                    V("Power", "ROM", "0", unit="W"),
                    V("Energy", "ROM", "0", unit="Wh"),
                    V("ACCurrent", "ROM", "0"),
                    V("ACVoltage", "ROM", "0"),
                    # The meter stopped answering (diag/faults.py): HardwareFailure, hard-wired (N07).
                    V("Problem", "ROM", "false", mon=HW_PROBLEM),
                ),
            ),
            (
                "RCD",
                None,
                1,
                (
                    V("Tripped", "ROM", "false"),  # residual current trip (GroundFailure)
                    V("Problem", "ROM", "false", mon=HW_PROBLEM),
                ),
            ),
            (
                "CPPWMController",
                None,
                1,
                (V("State", "ROM", "A"),),  # IEC 61851 control-pilot state A-F
            ),
            (
                "PowerContactor",
                None,
                1,
                (
                    V("Active", "ROM", "false"),
                    V("Problem", "ROM", "false", mon=HW_PROBLEM),  # welded / not closing: HardwareFailure
                ),
            ),
            (
                "ConnectorPlugRetentionLock",
                None,
                2,
                (
                    V("Active", "ROM", "false"),  # locked
                    V("Problem", "ROM", "false"),
                ),
            ),
        ),
        "default board hardware (a board's own VARIABLES replaces it)",
    ),
)

# What the composition root adds besides the blocks' own tables. A block that takes one of
# these as its VARIABLES needs no edit here: DeviceModel.add_table ignores a table added twice.
ROOT_TABLES = (
    "CHARGING_STATION",
    "EVSE",
    "CONNECTOR",
    "CLOCK_CTRLR",
    "DEVICE_DATA_CTRLR",
    "OCPP_COMM_CTRLR",
    "SECURITY_CTRLR",
    "TX_CTRLR",
    "SAMPLED_DATA_CTRLR",
    "ALIGNED_DATA_CTRLR",
    "AUTH_CTRLR",
    "AUTH_CACHE_CTRLR",
    "LOCAL_AUTH_LIST_CTRLR",
    "SMART_CHARGING_CTRLR",
    "RESERVATION_CTRLR",
    "FIRMWARE",  # L01: UpdateFirmware (core/blocks/l_firmware)
    # SECURITY_CERTIFICATES is the VARIABLES of the A02/A03 block (host_tests/portable/test_capabilities.py
    # keeps this true).
)

HEADER = '''\
# GENERATED by tools/gen_dm.py from the OCPP 2.0.1 appendix CSV (dataType, unit) and the
# overlay in that tool (mutability, persistence, defaults, limits). Do not edit: change the
# tool and run `python3 tools/gen_dm.py`; host_tests/unit/test_dm_tables.py checks it is current.
#
# Standard device model tables (OCPP 2.0.1 Part 2 appendices, errata 2025-01). Only constants,
# so a frozen build keeps them in flash. Format: see core/devicemodel/model.py.
#   table  = ((component, component_instance, scope, rows), ...)   scope 0/1/2: station/EVSE/connector
#   row    = (variable, instance, flags, dataType, unit, minLimit, maxLimit, valuesList, default[, monitors])
#   flags  = RO|RW|WO + P persistent, C constant, M supportsMonitoring, B RebootRequired, T/N/X Target/MinSet/MaxSet,
#            F factory-settable ReadOnly, U feature not implemented (no factory value)
#   monitors = ((kind, type, value, severity), ...) kind "P" preconfigured, "H" hard-wired
#
# Preconfigured Delta monitors on ChargingStation/EVSE/Connector AvailabilityState give the
# NotifyEvent of TC_B_02_CS step 17. They are PreconfiguredMonitor, not HardWiredMonitor, because
# TC_N_06_CS removes them with SetMonitoringBase(HardWiredOnly); severity 8 (Informational) leaves
# room for TC_N_41_CS's "<preconfigured severity> + 1".
'''


def read_csv(path):
    specific, generic = {}, {}
    with open(path, encoding="utf-8-sig") as f:
        next(f)
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split(";", 6)
            comp, var, inst, req, dtype, unit = (p.strip() for p in parts[:6])
            if comp == "<generic>":
                generic[var] = (dtype, unit, req)
            else:
                specific[(comp, var, inst)] = (dtype, unit, req)
    return specific, generic


def csv_entry(specific, generic, comp, var, inst):
    e = specific.get((comp, var, inst or ""))
    if e is None:
        e = specific.get((comp, var, ""))
    if e is None:
        e = generic.get(var)
    return e


def build(csv_path=CSV):
    specific, generic = read_csv(csv_path)
    tables = []
    for tname, blocks, comment in OVERLAY:
        out_blocks = []
        for comp, cinst, scope, vars_ in blocks:
            rows = []
            for name, inst, flags, default, mn, mx, values, unit, mon, dt in vars_:
                e = csv_entry(specific, generic, comp, name, inst)
                if e is None and dt is None:
                    raise SystemExit("%s.%s: not in the CSV and no dataType given" % (comp, name))
                dtype = dt or DATATYPE_ALIASES.get(e[0], e[0])
                if unit is None and e is not None and e[1] and "," not in e[1]:
                    unit = e[1]
                row = (name, inst, flags, dtype, unit, mn, mx, tuple(values) if values else None, default)
                if mon:
                    row = row + (tuple(mon),)
                rows.append(row)
            out_blocks.append((comp, cinst, scope, tuple(rows)))
        tables.append((tname, tuple(out_blocks), comment))
    return tables


def render(tables):
    out = [HEADER]
    for tname, blocks, comment in tables:
        out.append("\n# %s\n%s = (\n" % (comment, tname))
        for comp, cinst, scope, rows in blocks:
            out.append("    (%r, %r, %d, (\n" % (comp, cinst, scope))
            for r in rows:
                out.append("        %r,\n" % (r,))
            out.append("    )),\n")
        out.append(")\n")
    out.append("\n# Tables the composition root adds (blocks add their own VARIABLES too).\nTABLES = (\n")
    for t in ROOT_TABLES:
        out.append("    %s,\n" % t)
    out.append(")\n")
    return "".join(out)


def main(argv):
    text = render(build())
    if "--check" in argv:
        with open(OUT) as f:
            if f.read() != text:
                print("standard.py is out of date: run python3 tools/gen_dm.py")
                return 1
        print("standard.py is up to date")
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
