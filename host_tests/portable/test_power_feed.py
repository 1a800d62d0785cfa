# Issue 8, N07 on measured values: the meter feed (core/blocks/j_meter_values/metering.py MeterFeed)
# puts EVSE.Power, ChargingStation.Power and ControlMetering.* into the device model, so threshold
# and delta monitors on them trip; a Delta monitor needs a change of *more* than its value
# (N07.FR.18); the feed makes no heap garbage per sample.
import gc

from fake_station import FakeStation, Handlers, make_dm
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.j_meter_values.metering import MeterFeed
from flexcharge.core.blocks.n_diagnostics.monitoring import Monitoring

TABLES = standard.TABLES + (standard.MONITORING_CTRLR, standard.HARDWARE)
EVSES = [{"id": 1, "connectors": 1, "max_current": 32, "phases": 1, "voltage": 230},
         {"id": 2, "connectors": 2, "max_current": 16, "phases": 3, "voltage": 230}]


class Meter:
    def __init__(self, reading):
        self.reading = reading

    def read(self):
        return self.reading


class Board:
    def __init__(self, meters):
        self.meters = meters


def reading(w, wh=0, amps=(0,), volts=(230,)):
    # hal.Meter's register is an int in mWh (converted here, once, not per sample)
    return {"power_w": w, "energy_mwh": int(wh * 1000 + 0.5), "current_a": amps, "voltage_v": volts}


def setup(monitoring=False):
    dm = make_dm(evses=EVSES, tables=TABLES)
    st = FakeStation(dm=dm, evses=EVSES)
    m1, m2 = Meter(reading(0)), Meter(reading(0, volts=(230, 230, 230), amps=(0, 0, 0)))
    st.board = Board({1: m1, 2: m2})
    mon = None
    h = None
    if monitoring:
        mon = Monitoring(st)
        mon.engine.start(periodic=False)
        h = Handlers(st, mon)
    feed = MeterFeed(st)
    feed._build()
    return st, dm, feed, m1, m2, h


def test_feed_sets_power_current_voltage_energy():
    st, dm, feed, m1, m2, h = setup()
    m1.reading = reading(7400.4, 1234.6, (32.17,), (229.96,))
    m2.reading = reading(3000, 10, (4.3, 4.4, 4.5), (230, 231, 232))
    feed.sample()
    assert dm.get("EVSE", "Power", evse=1) == "7400"
    assert dm.get("EVSE", "Power", evse=2) == "3000"
    assert dm.get("ChargingStation", "Power") == "10400"
    assert dm.get("ControlMetering", "Power", evse=1) == "7400"
    assert dm.get("ControlMetering", "Energy", evse=1) == "1235"
    assert dm.get("ControlMetering", "ACCurrent", evse=1) == "32.2"
    assert dm.get("ControlMetering", "ACVoltage", evse=1) == "230.0"
    assert dm.get("ControlMetering", "ACCurrent", evse=2) == "4.4"  # unkeyed = mean of the phases
    assert dm.get("ControlMetering", "ACVoltage", evse=2) == "231.0"
    assert dm.get_int("EVSE", "Power", evse=1) == 7400


def test_charging_station_power_has_the_summed_max_limit():
    st, dm, feed, m1, m2, h = setup()
    f = dm.find("ChargingStation", None, None, None, "Power", None)
    assert dm.limits(f[1], f[2], None, None) == (0, 32 * 230 + 16 * 230 * 3)


def mon(comp, var, type_, value, evse=None):
    c = {"name": comp}
    if evse is not None:
        c["evse"] = {"id": evse}
    return {"component": c, "variable": {"name": var}, "type": type_, "value": value, "severity": 5}


def events(st):
    out = []
    for p in st.sent("NotifyEvent"):
        out.extend(p["eventData"])
    return out


def test_threshold_monitors_on_evse_and_station_power_trip():
    st, dm, feed, m1, m2, h = setup(monitoring=True)
    r = h("SetVariableMonitoring", {"setMonitoringData": [mon("EVSE", "Power", "UpperThreshold", 7000, 1),
                                                          mon("ChargingStation", "Power", "UpperThreshold", 7000)]})
    assert [x["status"] for x in r["setMonitoringResult"]] == ["Accepted", "Accepted"], r
    feed.sample()
    st.drain()
    assert events(st) == []
    m1.reading = reading(7400)
    feed.sample()
    st.drain()
    ev = events(st)
    names = sorted(e["component"]["name"] for e in ev)
    assert names == ["ChargingStation", "EVSE"], ev
    assert all(e["trigger"] == "Alerting" and e["actualValue"] == "7400" for e in ev), ev


def test_delta_monitor_needs_more_than_its_value():
    # N07.FR.18: a Delta monitor reports a change of more than `value` since the last report.
    st, dm, feed, m1, m2, h = setup(monitoring=True)
    h("SetVariableMonitoring", {"setMonitoringData": [mon("EVSE", "Power", "Delta", 100, 1)]})
    feed.sample()  # baseline 0
    st.drain()
    m1.reading = reading(100)  # a change equal to the delta: nothing
    feed.sample()
    st.drain()
    assert events(st) == []
    m1.reading = reading(101)  # more than the delta since the baseline
    feed.sample()
    st.drain()
    ev = events(st)
    assert [(e["trigger"], e["actualValue"]) for e in ev] == [("Delta", "101")], ev


def test_no_heap_garbage_per_sample():
    if not hasattr(gc, "mem_alloc"):
        return  # CPython: nothing to measure
    st, dm, feed, m1, m2, h = setup(monitoring=True)
    h("SetVariableMonitoring", {"setMonitoringData": [mon("EVSE", "Power", "UpperThreshold", 7000, 1)]})
    m1.reading = reading(7400, 5, (32,), (230,))
    m2.reading = reading(0, 0, (0, 0, 0), (230, 230, 230))
    feed.sample()
    st.drain()
    feed.sample()
    gc.collect()
    before = gc.mem_alloc()
    for i in range(200):
        feed.sample()  # same readings: no allocation at all
    after = gc.mem_alloc()
    assert after - before < 64, after - before
    # changing integer readings: still nothing built per sample
    readings = [reading(7400 + (i & 1), 5 + i, (32,), (230,)) for i in range(100)]
    gc.collect()
    before = gc.mem_alloc()
    for r in readings:
        m1.reading = r
        feed.sample()
    after = gc.mem_alloc()
    assert after - before < 100 * 16, after - before
