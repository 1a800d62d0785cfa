# The unix board's simulated power path: meter integration of the EV's load over time,
# limited by the offered current; the register survives reboots (it is the world's).
import io
import json

from support import tmpdir
from board import SimBoard

CFG = {"evses": [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230},
                 {"id": 2, "connectors": 1, "max_current": 16, "phases": 1, "voltage": 230}]}


def make(state=None):
    b = SimBoard(CFG, state or tmpdir("chg"), stdin=False, out=io.StringIO())
    t = [0]
    b.ms = lambda: t[0]
    for m in b.meters.values():
        m._t = 0
        m._saved = 0
    return b, t


def c(b, **kw):
    b.command(json.dumps(kw))


def charge(b, e):
    c(b, cmd="plug", evse=e, connector=1)
    c(b, cmd="ev", evse=e, state="C")
    b.pilots[e].offer(CFG["evses"][e - 1]["max_current"])
    b.contactors[e].close()


def test_energy_integrates_load_over_time():
    b, t = make()
    charge(b, 1)
    c(b, cmd="load", evse=1, watts=7200)
    t[0] += 30 * 60 * 1000
    r = b.meters[1].read()
    assert r["energy_mwh"] == 3600000  # an int register (hal.Meter)
    assert r["power_w"] == 7200 and len(r["current_a"]) == 3
    assert abs(r["current_a"][0] - 7200 / 690) < 1e-9 and r["voltage_v"] == (230.0, 230.0, 230.0)
    c(b, cmd="load", evse=1, watts=0)  # the change integrates at the old power first
    t[0] += 60 * 60 * 1000
    assert b.meters[1].read()["energy_mwh"] == 3600000


def test_power_capped_by_offer_and_zero_without_contactor_or_state_c():
    b, t = make()
    charge(b, 2)
    c(b, cmd="load", evse=2, watts=11000)
    assert b.meters[2].read()["power_w"] == 16 * 230  # 1 phase x 16 A offered
    b.pilots[2].offer(10)
    assert b.meters[2].read()["power_w"] == 10 * 230
    c(b, cmd="ev", evse=2, state="B")
    assert b.meters[2].read()["power_w"] == 0
    c(b, cmd="ev", evse=2, state="C")
    b.contactors[2].open()
    assert b.meters[2].read()["power_w"] == 0
    assert b.meters[1].read()["energy_mwh"] == 0


def test_energy_register_survives_reboot():
    st = tmpdir("chgr")
    b, t = make(st)
    charge(b, 1)
    c(b, cmd="load", evse=1, watts=3600)
    t[0] += 10 * 1000  # 10 s at 3.6 kW = 10 Wh; saved at most every 5 s while running
    b.meters[1].read()
    b2, _ = make(st)
    assert b2.meters[1].read()["energy_mwh"] == 10000
    assert b2.connectors[(1, 1)].plugged() and b2.ev_state(1) == "C"
    assert not b2.contactors[1].is_closed()  # the firmware's outputs start open after a reboot


def test_pilot_readback_and_disable():
    b, t = make()
    p = b.pilots[1]
    assert p.duty() == 100.0 and p.offered() == 0 and p.state() == "A"
    p.offer(20)
    assert abs(p.duty() - 20 / 0.6) < 1e-9 and p.offered() == 20
    p.offer(3)
    assert p.duty() == 100.0 and p.offered() == 0
    p.disable()
    assert p.duty() == 0.0
    c(b, cmd="plug", evse=1, connector=1)
    assert p.state() == "B" and p.last_state() == "B"


def test_energy_register_is_exact_over_small_steps():
    # Integer mWh + µJ remainder: 3600 one-ms steps at 7200 W are exactly 7.2 Wh, and a large
    # register still moves by them (a float32 Wh register at 1 MWh steps in 1/16 Wh).
    b, t = make()
    b.world["energy_mwh"]["1"] = 1000000000  # 1 MWh already metered
    charge(b, 1)
    c(b, cmd="load", evse=1, watts=7200)
    for _ in range(3600):
        t[0] += 1
        b.meters[1].update()
    assert b.world["energy_mwh"]["1"] == 1000007200
    assert b.meters[1].read()["energy_mwh"] == 1000007200


def test_float_wh_world_of_an_older_version_is_read():
    d = tmpdir("chg-old")
    with open(d + "/world.json", "w") as f:
        f.write(json.dumps({"energy": {"1": 12.3456}}))
    b, t = make(d)
    assert b.world["energy_mwh"]["1"] == 12346 and "energy" not in b.world
