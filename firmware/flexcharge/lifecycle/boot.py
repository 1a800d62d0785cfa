# Composition root and boot sequencing: read the configuration, build the layers,
# hand each its collaborators, run until shutdown or reset.
#
# Exit codes of main() (the unix launcher acts on them; on an MCU reset() never returns):
#   0 graceful shutdown, 2 bad configuration, 3 reset requested.
import gc
import sys
import json
import asyncio

from flexcharge import VERSION
from flexcharge.compat import print_exception, heap_in_use
from flexcharge.diag.log import Logger
from flexcharge.lifecycle.config import ConfigError, load as load_config
from flexcharge.lifecycle.watchdog import feeder, Loops
from flexcharge.comm.rpc import Rpc
from flexcharge.comm.session import Session
from flexcharge.comm import websocket
from flexcharge.security import profiles
from flexcharge.security import seed
from flexcharge.core import versions
from flexcharge.core.router import Router
from flexcharge.core.station import Station
from flexcharge.core.devicemodel import DeviceModel, DeviceModelError
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.b_provisioning.boot import Boot
from flexcharge.core.blocks.b_provisioning.variables import Variables
from flexcharge.core.blocks.g_availability.status import Status
from flexcharge.core.blocks.g_availability.heartbeat import Heartbeat
from flexcharge.core.blocks.f_remote_control.trigger import Trigger
from flexcharge.core.blocks.n_diagnostics.monitoring import Monitoring
from flexcharge.core.blocks.c_authorization.authorization import Authorization
from flexcharge.core.blocks.e_transactions.transactions import Transactions
from flexcharge.core.blocks.g_availability.availability import Availability
from flexcharge.core.blocks.b_provisioning.reset import Reset
from flexcharge.core.blocks.h_reservation.reservation import Reservation
from flexcharge.core.blocks.f_remote_control.remote import Remote
from flexcharge.core.blocks.a_security.events import SecurityEvents
from flexcharge.core.blocks.a_security.password import PasswordUpdate
from flexcharge.core.blocks.a_security.renewal import CertificateRenewal
from flexcharge.core.blocks.b_provisioning.network import NetworkProfiles
from flexcharge.core.blocks.m_certificates.certificates import Certificates
from flexcharge.diag.securitylog import SecurityLog
from flexcharge.diag.ring import LogRing
from flexcharge.diag.faults import FaultReporter
from flexcharge.diag.metrics import Metrics
from flexcharge.core.blocks.n_diagnostics.logs import Logs
from flexcharge.core.blocks.n_diagnostics.customer import CustomerInformation
from flexcharge.core import timefmt
from flexcharge.core.blocks.p_data_transfer.data_transfer import DataTransfer
from flexcharge.core.blocks.l_firmware.firmware import Firmware
from flexcharge.lifecycle import slots
from flexcharge.lifecycle.update import Updater
import flexcharge
from flexcharge.core.blocks.k_smart_charging.profiles import SmartCharging
from flexcharge.core.blocks.j_meter_values.metering import MeterFeed

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_RESET = 3

_BOOT_FILE = "boot.json"
_CAUSE_REASON = {"power": "PowerUp", "watchdog": "Watchdog", "soft": "ApplicationReset", "hard": "PowerUp"}
MAX_MESSAGE = 65536  # bytes; the most any board receives (gen_dm.py's maxLimit of BytesPerMessage)


async def _http_get(*args, **kw):
    # The HTTP client is imported on the first firmware download, not kept in the idle heap.
    from flexcharge.comm import http

    return await http.get(*args, **kw)


class App:
    """The station as a whole: every layer built and wired."""

    def __init__(self, board, config, log):
        # The WebSocket receive buffer is reserved first, while the heap is still in one piece, and
        # reused by every connection: a max_message-byte message stays receivable after any history.
        # Its size is the board's (hal.Board.max_message): larger CSMS messages are refused (close
        # 1009) rather than exhaust the heap, and every BytesPerMessage is bounded by it.
        gc.collect()
        self.max_message = mm = min(MAX_MESSAGE, getattr(board, "max_message", MAX_MESSAGE))
        rx = websocket.RxBuffer(mm)
        self.board = board
        self.config = config
        self.log = log
        self.exit_code = EXIT_OK
        self._done = asyncio.Event()
        storage = board.storage
        # DiagnosticsLog (N01): every log line at the logger's level also goes to the ring on flash.
        self.diaglog = LogRing(storage, board.clock.now)
        log.sink = self.diaglog.append

        info = storage.read_json(_BOOT_FILE) or {}
        self.boot_count = info.get("count", 0) + 1
        reason = info.get("reason") or _CAUSE_REASON.get(board.reset.cause(), "PowerUp")
        info["count"] = self.boot_count
        causes = info.get("causes") or {}  # metric: reset causes, persisted with the boot count
        causes[reason] = causes.get(reason, 0) + 1
        info["causes"] = causes
        self.metrics = Metrics(log, self.boot_count, causes)
        storage.write(_BOOT_FILE, json.dumps(info))  # before any message id is used

        image_version = getattr(flexcharge, "IMAGE_VERSION", None)
        if image_version:
            # Running an installed update image: it names its own version (L01, firmwareVersion).
            config["firmware_version"] = image_version
        self.dm = dm = DeviceModel(storage, log)
        profile = versions.get(config["ocpp_versions"][0])
        self.station = st = Station(config, board, dm, profile, log, self.boot_count)
        self.router = router = Router(profile, log)

        self.boot = Boot(st, reason)
        self.boot.on_accepted_first = self._forget_reason
        self.status = Status(st)
        self.heartbeat = Heartbeat(st)
        self.trigger = Trigger(st, self.boot, self.status, self.heartbeat)
        self.auth = Authorization(st)
        self.tx = tx = Transactions(st, self.status, self.auth)
        # Order matters: Status.overrides run in construction order, Unavailable outranks Reserved.
        self.availability = Availability(st, self.status, tx)
        self.reset = Reset(st, tx, self.status)
        self.reservation = Reservation(st, self.status, tx, self.availability)
        tx.reservation = self.reservation
        # Faults -> Faulted, NotifyEvent on <component>.Problem (hard-wired monitor, N07), log record.
        self.faults = FaultReporter(st, self.status)
        self.status.overrides.insert(0, self.faults.override)  # Faulted outranks Unavailable/Reserved
        for s in tx.slots:
            s.ctl.on_fault = self.faults.on_control_fault
        self.trigger.triggers["TransactionEvent"] = lambda p: tx.trigger_transaction_event(_evse_of(p))
        self.trigger.triggers["MeterValues"] = lambda p: tx.trigger_meter_values(_evse_of(p))
        self.seclog = SecurityLog(storage)
        self.security = SecurityEvents(st, storage, self.seclog.append)
        self.password = PasswordUpdate(st, storage, self.security, lambda why: self.session.restart(why))
        tls = config["tls"]
        # tls.* are the store's factory content until the CSMS changes that part (security/seed.py).
        factory = {"CSMSRootCertificate": tls.get("ca"), "ManufacturerRootCertificate": tls.get("manufacturer_ca"),
                   "client_cert": tls.get("cert"), "client_key": tls.get("key")}
        self.certs = seed.LazyStore(storage, factory, log)
        self.network = NetworkProfiles(st, storage, config, self.security, self.certs)
        self.certificates = Certificates(st, storage, self.certs, self.security)
        self.renewal = CertificateRenewal(st, self.certs, self.security, lambda why: self.session.restart(why),
                                          lambda: self.attempt()[1], storage)
        self.trigger.triggers["SignChargingStationCertificate"] = self.renewal.trigger  # A02
        fs = board.slot if board.slot is not None else slots.open_slots(storage.root)
        self.updater = Updater(storage, fs, getattr(board, "name", "unix"), log,
                               running_version=image_version or "factory",
                               probation_s=config.get("firmware_probation_s", 180))
        self.firmware = Firmware(st, self.updater, tx, self.status, self.security, self._manufacturer_roots,
                                 _http_get, self._download_tls)
        self.trigger.triggers["FirmwareStatusNotification"] = self.firmware.trigger
        self.monitoring = Monitoring(st)
        # N01 GetLog: the diag layer's two logs, streamed line by line.
        self.logs = Logs(st, {"DiagnosticsLog": self._diag_lines, "SecurityLog": self.seclog.lines_in},
                         tls=self._download_tls)
        self.trigger.triggers["LogStatusNotification"] = self.logs.trigger  # the real upload status
        # An uploaded DiagnosticsLog ends with the current figures.
        self.logs.before = lambda t: self.metrics.report() if t == "DiagnosticsLog" else None
        # N07/N08: a monitor with transaction=true only acts while its EVSE has a transaction.
        self.monitoring.engine.tx_lookup = lambda evse_id: _tx_id(tx, evse_id)
        self.remote = Remote(st, tx, self.reservation)
        self.smart = SmartCharging(st, tx)  # K: after Transactions (its start() sees recovered transactions)
        self.remote.smart = self.smart
        self.blocks = (
            self.security,
            self.password,
            self.boot,
            self.network,
            self.certificates,
            self.renewal,
            Variables(st),
            self.status,
            self.heartbeat,
            self.trigger,
            self.monitoring,
            self.logs,
            self.auth,
            tx,
            self.availability,
            self.reset,
            self.reservation,
            self.remote,
            self.smart,
            DataTransfer(st),  # P01/P02 with the board's vendor extensions
            self.firmware,  # L01-L04
            CustomerInformation(st, self.auth, tx),  # N09/N10 over the cache, local list and tx queue
            MeterFeed(st),  # measured values into the device model (N07 monitors on Power...)
        )
        for t in standard.TABLES:
            dm.add_table(t)
        for b in self.blocks:
            dm.add_table(b.VARIABLES)
            router.add(b)
        # Boards cannot import the core: one without a table of its own gets the default hardware table.
        dm.add_table(getattr(board, "VARIABLES", None) or standard.HARDWARE)
        dm.add_evses(config["evses"])
        # No BytesPerMessage<instance> may exceed the receive buffer: reported as maxLimit, and
        # checked for factory values and SetVariables alike.
        dm.cap_max_limit("BytesPerMessage", mm)
        dm.load()
        if dm.is_new():
            self._factory(dm, config)
        self._identity(dm, config)
        router.gate = self.boot.gate

        # The core cannot import lifecycle; a Reset (B11/B12) reaches it through this callable.
        st.reset_hook = lambda reason, evse=None: self.request_reset(reason)
        self.rpc = Rpc(router.dispatch, st.next_id, log, st.spawn)
        st.rpc = self.rpc
        m = self.metrics
        m.rpc = self.rpc
        m.faults = self.faults
        m.queues = {"tx": lambda: len(tx.queue), "security": self.security.queued,
                    "events": lambda: len(self.monitoring.engine._queue)}
        self.session = Session(self._connect, self.rpc, self._comm_setting, self, log)
        self.rx = rx  # the receive buffer, reserved before anything else: see __init__
        board.listener = self._hw_event

    def _diag_lines(self, oldest=None, latest=None):
        # The uploaded DiagnosticsLog: one readable line per ring record.
        for t, lvl, src, msg in self.diaglog.records_in(oldest, latest):
            yield ("%s %s %s %s\n" % (timefmt.iso(t), lvl, src, msg)).encode()

    # -- configuration ----------------------------------------------------------
    def _factory(self, dm, cfg):
        ident = (
            ("SecurityCtrlr", "Identity", cfg["identity"]),
            ("SecurityCtrlr", "SecurityProfile", str(cfg["security_profile"])),
        )
        for comp, var, val in ident:
            dm.set_internal(comp, var, val)
        if cfg.get("basic_auth_password"):
            dm.set_internal("SecurityCtrlr", "BasicAuthPassword", cfg["basic_auth_password"])
        try:
            dm.apply_factory(cfg["device_model"])
        except DeviceModelError as e:
            raise ConfigError(str(e))

    def _identity(self, dm, cfg):
        # ChargingStation identity values follow the configuration at every boot (a new firmware
        # or a re-provisioned unit reports its real values, not the first boot's).
        for var, key in (("Model", "model"), ("VendorName", "vendor"), ("SerialNumber", "serial_number"),
                         ("FirmwareVersion", "firmware_version")):
            if cfg.get(key):
                dm.set_internal("ChargingStation", var, cfg[key])

    def _manufacturer_roots(self):
        # L01.FR.02: firmware signing certificates chain to a ManufacturerRootCertificate.
        certs = getattr(self, "certs", None)
        if certs is not None:
            return certs.anchors_der("ManufacturerRootCertificate")
        return _pem_ders(self.config["tls"].get("manufacturer_ca"))

    def _download_tls(self):
        # https:// downloads are verified against the installed CSMS roots, host name included.
        certs = getattr(self, "certs", None)
        ders = certs.anchors_der("CSMSRootCertificate") if certs is not None else _pem_ders(self.config["tls"].get("ca"))
        return profiles.verifying_context(ders)

    def _comm_setting(self, name):
        return self.dm.get_int("OCPPCommCtrlr", name, 0)

    def url(self, base=None):
        u = base or self.config["csms_url"]
        return (u if u.endswith("/") else u + "/") + self.config["identity"]

    def attempt(self):
        """(url, security_profile) of this connection attempt: the network profile slot that
        NetworkConfigurationPriority and the failures so far select (B10)."""
        slot, net = self.network.attempt()
        return self.url(net["ocppCsmsUrl"]), net["securityProfile"]

    async def _connect(self):
        cfg = self.config
        url, sp = self.attempt()
        pw = self.dm.get("SecurityCtrlr", "BasicAuthPassword") or cfg.get("basic_auth_password")
        # Profiles 2 and 3 take their trust anchors and client certificate from the store.
        ctx, host, headers = profiles.transport(sp, url, cfg["identity"], pw, store=self.certificates.tls_view())
        return await websocket.connect(
            url, cfg["ocpp_versions"], headers, ssl=ctx, server_hostname=host, max_message=self.max_message,
            rx=self.rx,
        )

    # -- session listener -----------------------------------------------------------
    def on_connected(self, ws):
        sp = self.attempt()[1]
        self.certificates.connected(sp >= 2)
        self.renewal.connected(sp)
        self.network.connected()
        self.metrics.connected()
        self.station.report("connected", {"url": self.attempt()[0], "subprotocol": ws.subprotocol})
        self.station.set_online(True)

    def on_disconnected(self):
        self.station.set_online(False)
        self.station.report("disconnected", {})

    def on_connect_failed(self, exc):
        self.station.report("connect_failed", {"error": str(exc)[:200]})
        self.security.connect_failed(exc)
        before = self.attempt()
        sp = before[1]
        self.certificates.connect_failed(sp >= 2)
        self.renewal.connect_failed(sp)
        # A new slot starts at once (TC_B_49_CS step 9); the same slot again keeps the back-off (Part 4 §5.3).
        if self.network.failed() and self.attempt() != before:
            self.session.skip_backoff()
        if getattr(exc, "status", None) == 401 and self.password.refused():
            self.session.restart("new BasicAuthPassword refused (HTTP 401): previous one restored")

    # -- hardware events -----------------------------------------------------------------
    def _hw_event(self, kind, data):
        if kind == "shutdown":
            self.shutdown(EXIT_OK)
        else:
            # plug/unplug/ev/load/fault/clear_fault/tag; the Transactions block refreshes Status too.
            if kind == "fault" or kind == "clear_fault":
                self.faults.on_board_event(kind, data)
            self.tx.on_hw_event(kind, data)

    # -- lifecycle ------------------------------------------------------------------------
    def _forget_reason(self):
        info = self.board.storage.read_json(_BOOT_FILE) or {}
        if "reason" in info:
            del info["reason"]
            self.board.storage.write(_BOOT_FILE, json.dumps(info))

    def request_reset(self, reason):
        """Record why we reboot (reported in the next BootNotification) and stop for a reset."""
        info = self.board.storage.read_json(_BOOT_FILE) or {}
        info["reason"] = reason
        self.board.storage.write(_BOOT_FILE, json.dumps(info))
        self.shutdown(EXIT_RESET)

    def shutdown(self, code):
        self.exit_code = code
        self._done.set()

    async def run(self):
        for b in self.blocks:
            b.start()
        self.security.boot(self.boot.reason)
        self.station.report(
            "boot", {"reason": self.boot.reason, "count": self.boot_count, "firmware": VERSION, "heap": heap_in_use()}
        )
        loops = Loops(self.log)  # the watchdog watches these, not just the process
        tasks = [
            loops.start("board", self.board.run()),
            loops.start("session", self.session.run()),
            loops.start("boot", self.boot.run()),
            loops.start("heartbeat", self.heartbeat.run()),
        ]
        tasks.append(asyncio.create_task(feeder(self.board.watchdog, self.log, loops=loops)))
        self.metrics.report()  # boot count and reset causes in the log at every start
        tasks.append(asyncio.create_task(self.metrics.run()))
        await self._done.wait()
        self.log.info("stopping (exit %d)" % self.exit_code)
        try:
            await asyncio.wait_for(self.session.stop(), 3)
        except Exception as e:
            self.log.warn("close on shutdown: %r" % (e,))
        for t in tasks:
            t.cancel()
        self.station.cancel_tasks()
        await asyncio.sleep(0)
        return self.exit_code


def _tx_id(transactions, evse_id):
    t = transactions.active(evse_id) if evse_id else None
    return t.id if t is not None else None


def _evse_of(payload):
    e = payload.get("evse")
    return e.get("id") if isinstance(e, dict) else None


def _pem_ders(path):
    if not path:
        return []
    from flexcharge.security.x509 import pem_to_ders

    try:
        with open(path, "rb") as f:
            return pem_to_ders(f.read())
    except (OSError, ValueError):
        return []


def main(board_module, config_path, state_dir, log_level=20):
    """Boot the station. Returns the exit code (see the top of this file)."""
    log = Logger(log_level)
    try:
        config = load_config(config_path)
        board = board_module.make_board(config, state_dir)
        app = App(board, config, log)
    except ConfigError as e:
        sys.stderr.write("flexcharge: configuration error: %s\n" % e)
        return EXIT_CONFIG
    except (profiles.ConfigError, ValueError) as e:
        # ValueError: the board cannot serve this config (e.g. pins for fewer EVSEs).
        sys.stderr.write("flexcharge: configuration error: %s\n" % e)
        return EXIT_CONFIG
    try:
        # Fail before connecting if the TLS material is unusable (exit 2, not a retry loop).
        cfg = config
        profiles.transport(cfg["security_profile"], app.url(), cfg["identity"], cfg.get("basic_auth_password"),
                           cfg["tls"].get("ca"), cfg["tls"].get("cert"), cfg["tls"].get("key"))
    except (profiles.ConfigError, OSError, ValueError) as e:
        sys.stderr.write("flexcharge: configuration error: %s\n" % e)
        return EXIT_CONFIG
    try:
        return asyncio.run(app.run())
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as e:
        print_exception(e)
        return 1
