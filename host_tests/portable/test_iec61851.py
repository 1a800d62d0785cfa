# IEC 61851-1 control pilot / proximity pilot arithmetic (pure logic, both interpreters).
from flexcharge.hal import iec61851 as cp


def close(a, b, tol=0.01):
    return abs(a - b) <= tol


def test_duty_for_current_annex_a_table():
    # Table A.8: 6..51 A -> A / 0.6 %, 51..80 A -> A / 2.5 + 64 %.
    expected = ((6, 10.0), (10, 16.667), (13, 21.667), (16, 26.667), (20, 33.333), (32, 53.333),
                (40, 66.667), (51, 85.0), (63, 89.2), (70, 92.0), (80, 96.0))
    for amps, duty in expected:
        got = cp.duty_for_current(amps)
        assert close(got, duty), (amps, got, duty)


def test_no_offer_below_six_amps_and_clamp_above_eighty():
    assert cp.duty_for_current(0) is None
    assert cp.duty_for_current(5.9) is None
    assert cp.duty_for_current(None) is None
    assert close(cp.duty_for_current(100), 96.0)


def test_current_for_duty_inverts_duty_for_current():
    for amps in (6, 8, 13.5, 16, 25, 32, 50, 51, 53, 63, 75, 80):
        assert close(cp.current_for_duty(cp.duty_for_current(amps)), amps, 0.001), amps
    # Between 51 and 52.5 A the upper formula lands below 85 %, where the EV applies the
    # lower one: it reads less than offered (the standard's bands overlap on the safe side).
    assert close(cp.duty_for_current(52), 84.8)
    assert close(cp.current_for_duty(84.8), 50.88)


def test_current_for_duty_vehicle_side_bands():
    assert cp.current_for_duty(2) == 0  # < 3 %: no charging
    assert cp.current_for_duty(5) is None  # 3..7 %: digital communication
    assert cp.current_for_duty(7.5) == 0
    assert cp.current_for_duty(9) == 6  # 8..10 %: 6 A
    assert cp.current_for_duty(96.5) == 80
    assert cp.current_for_duty(98) == 0
    assert cp.current_for_duty(100) == 0


def test_duty_u16():
    assert cp.duty_u16(0) == 0
    assert cp.duty_u16(-1) == 0
    assert cp.duty_u16(100) == 65535
    assert cp.duty_u16(10) == 6554
    assert cp.duty_u16(50) == 32768
    assert close(cp.percent_u16(cp.duty_u16(53.333)), 53.333, 0.002)


def test_states_at_nominal_levels_and_tolerance_edges():
    nominal = ((12, "A"), (9, "B"), (6, "C"), (3, "D"), (0, "E"), (-12, "F"))
    for v, s in nominal:
        assert cp.state_for_voltage(v) == s, (v, s)
    # Table A.4 tolerances around each level.
    edges = ((11.0, "A"), (13.0, "A"), (10.0, "B"), (8.0, "B"), (7.0, "C"), (5.0, "C"),
             (4.0, "D"), (2.0, "D"), (1.0, "E"), (-1.0, "E"), (-11.0, "F"), (-13.0, "F"))
    for v, s in edges:
        assert cp.classify(v) == s, (v, s)


def test_hysteresis_keeps_state_near_a_boundary():
    assert cp.state_for_voltage(7.3, "B") == "B"  # boundary 7.5: within 0.4 V
    assert cp.state_for_voltage(7.0, "B") == "C"
    assert cp.state_for_voltage(7.8, "C") == "C"
    assert cp.state_for_voltage(8.0, "C") == "B"
    assert cp.state_for_voltage(10.7, "B") == "B"
    assert cp.state_for_voltage(11.2, "B") == "A"
    # Far jumps are not held back.
    assert cp.state_for_voltage(-12, "B") == "F"
    assert cp.state_for_voltage(12, "C") == "A"


def test_diode_check():
    assert cp.diode_ok(-12.0)
    assert cp.diode_ok(-11.5)
    assert not cp.diode_ok(-9.0)  # negative half-wave follows the EV resistor: no diode
    assert cp.diode_ok(None)


def test_proximity_pilot_coding_table_b2():
    supply, pullup = 3.3, 330
    for ohms, amps in ((1500, 13), (680, 20), (220, 32), (100, 63)):
        v = supply * ohms / (ohms + pullup)
        r = cp.pp_ohms(v, supply, pullup)
        assert close(r, ohms, 0.5), (ohms, r)
        assert cp.cable_current(r) == amps, (ohms, amps)
    assert cp.pp_ohms(supply, supply, pullup) is None
    assert cp.cable_current(None) is None  # open: no cable
    assert cp.cable_current(10000) is None
    assert cp.cable_current(50) == 0  # outside every range: invalid coding
    assert cp.cable_current(1000) == 0
