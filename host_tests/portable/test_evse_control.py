# The charging controller: IEC 61851-1 pilot duty from the allowed current, contactor from
# the EV's request, faults and welding checks -- on the simulated board's hardware.
import io
import json

from support import tmpdir
from board import SimBoard
from flexcharge.core.station import EVSE
from flexcharge.core.blocks.e_transactions.evse_control import EvseControl, WELDED

CFG = {"evses": [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230},
                 {"id": 2, "connectors": 2, "max_current": 80, "phases": 1, "voltage": 230}]}


def make(eid=1):
    b = SimBoard(CFG, tmpdir("ctl"), stdin=False, out=io.StringIO())
    e = EVSE([x for x in CFG["evses"] if x["id"] == eid][0], b)
    return b, EvseControl(e, b)


def c(b, **kw):
    b.command(json.dumps(kw))


def test_offer_follows_allowed_current_and_ev_request():
    b, ctl = make()
    assert ctl.ev_state() == "A" and ctl.plugged_connector() is None
    ctl.apply(32)
    assert b.pilots[1].duty() == 100.0 and not ctl.closed()  # no EV (state A): no offer, nothing to close
    c(b, cmd="plug", evse=1, connector=1)
    assert ctl.plugged_connector() == 1 and ctl.ev_state() == "B"
    ctl.apply(16)
    assert abs(b.pilots[1].duty() - 16 / 0.6) < 1e-9 and ctl.offered() == 16 and not ctl.closed()
    c(b, cmd="ev", evse=1, state="C")
    ctl.apply(16)
    assert ctl.closed()
    ctl.apply(100)  # capped at the EVSE rating
    assert ctl.offered() == 32
    ctl.apply(5)  # below 6 A: no offer (B1/C1), contactor opens
    assert b.pilots[1].duty() == 100.0 and ctl.offered() == 0 and not ctl.closed()
    ctl.apply(32)
    c(b, cmd="ev", evse=1, state="B")  # EV stops requesting
    ctl.apply(32)
    assert not ctl.closed() and ctl.offered() == 32


def test_high_current_duty_and_state_d_refused():
    b, ctl = make(2)
    c(b, cmd="plug", evse=2, connector=2)
    ctl.apply(63)
    assert abs(b.pilots[2].duty() - (63 / 2.5 + 64)) < 1e-9  # 51..80 A branch of Table A.8
    assert ctl.plugged_connector() == 2
    c(b, cmd="ev", evse=2, state="D")  # ventilation asked: none on this board
    ctl.apply(63)
    assert not ctl.closed() and b.pilots[2].duty() == 100.0


def test_fault_disables_pilot_and_recovers():
    b, ctl = make()
    c(b, cmd="plug", evse=1, connector=1)
    c(b, cmd="ev", evse=1, state="C")
    ctl.apply(32)
    assert ctl.closed()
    c(b, cmd="fault", evse=1, code="GroundFailure")
    assert ctl.faulted() == "GroundFailure"
    ctl.apply(32)
    assert not ctl.closed() and b.pilots[1].duty() == 0.0  # state F
    c(b, cmd="clear_fault", evse=1)
    ctl.apply(32)
    assert ctl.closed() and b.pilots[1].duty() == 32 / 0.6


def test_welded_contactor_is_detected_and_latched():
    b, ctl = make()
    c(b, cmd="plug", evse=1, connector=1)
    c(b, cmd="ev", evse=1, state="C")
    ctl.apply(32)
    c(b, cmd="fault", evse=1, code=WELDED)  # contacts weld while closed
    ctl.apply(0)  # told to open: the mirror contact still reads closed
    assert b.contactors[1].welded() and ctl.fault == WELDED
    ctl.apply(32)
    assert b.pilots[1].duty() == 0.0  # never offer again while welded
    c(b, cmd="clear_fault", evse=1)  # contactor replaced
    ctl.clear_fault()
    assert ctl.faulted() is None and not ctl.closed()
    ctl.apply(32)
    assert ctl.closed()


def test_pilot_events_on_every_change_only():
    out = io.StringIO()
    b = SimBoard(CFG, tmpdir("ctlev"), stdin=False, out=out)
    ctl = EvseControl(EVSE(CFG["evses"][0], b), b)
    c(b, cmd="plug", evse=1, connector=1)
    c(b, cmd="ev", evse=1, state="C")
    ctl.apply(32)
    ctl.apply(32)
    ctl.apply(0)
    ev = [json.loads(l) for l in out.getvalue().splitlines()]
    assert ev == [{"event": "pilot", "evse": 1, "duty": 53.3, "contactor": False},
                  {"event": "pilot", "evse": 1, "duty": 53.3, "contactor": True},
                  {"event": "pilot", "evse": 1, "duty": 100.0, "contactor": True},
                  {"event": "pilot", "evse": 1, "duty": 100.0, "contactor": False}]


def test_silent_meter_and_welding_are_reported_once_through_on_fault():
    # Issue 11 fault reporting: faults only the controller sees go to diag/faults.py.
    from flexcharge.core.blocks.e_transactions.evse_control import METER_FAILURE, METER_MISSES

    b, ctl = make()
    got = []
    ctl.on_fault = lambda evse, code, active: got.append((evse, code, active))

    class Dead:
        def read(self):
            raise OSError("no answer")

    good = ctl.meter
    ctl.meter = Dead()
    for _ in range(METER_MISSES + 2):
        assert ctl.reading() is None
    assert got == [(1, METER_FAILURE, True)]
    ctl.meter = good
    assert ctl.reading() is not None
    assert got[-1] == (1, METER_FAILURE, False)
    del got[:]
    c(b, cmd="plug", evse=1, connector=1)
    c(b, cmd="ev", evse=1, state="C")
    ctl.apply(16)
    assert ctl.closed()
    c(b, cmd="fault", evse=1, code=WELDED)  # the simulated contacts weld while closed
    ctl.apply(0)
    ctl.apply(0)
    assert got == [(1, WELDED, True)], got
