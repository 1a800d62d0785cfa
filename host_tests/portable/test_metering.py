# J metering helpers: sampledValue construction and interval arithmetic.
from flexcharge.core.blocks.j_meter_values import metering as m

R3 = {"energy_mwh": 1234567, "power_w": 6900.0, "current_a": (10.0, 10.0, 10.0), "voltage_v": (230.0, 229.5, 231.0)}
R1 = {"energy_wh": 5.0, "power_w": 0.0, "current_a": (0.0,), "voltage_v": (230.0,)}


def test_each_measurand_unit_phase_and_context():
    sv = m.sampled_values(R3, (m.ENERGY, m.POWER, m.CURRENT, m.OFFERED, m.VOLTAGE), m.PERIODIC, 32)
    assert [(v["measurand"], v.get("phase"), v.get("unitOfMeasure", {"unit": "Wh"})["unit"]) for v in sv] == [
        (m.ENERGY, None, "Wh"), (m.POWER, None, "W"),
        (m.CURRENT, "L1", "A"), (m.CURRENT, "L2", "A"), (m.CURRENT, "L3", "A"),
        (m.OFFERED, None, "A"),
        (m.VOLTAGE, "L1-N", "V"), (m.VOLTAGE, "L2-N", "V"), (m.VOLTAGE, "L3-N", "V")]
    assert all(v["context"] == "Sample.Periodic" and v.get("location", "Outlet") == "Outlet" for v in sv)
    assert "unitOfMeasure" not in sv[0]  # Wh is the schema default
    assert sv[0]["value"] == 1234.6 and sv[5]["value"] == 32 and sv[7]["value"] == 229.5


def test_energy_register_is_an_int_and_reported_in_wh():
    # hal.Meter gives an int mWh register; a float only appears in the reported value.
    assert m.energy_mwh({"energy_mwh": 7}) == 7
    assert m.energy_mwh({"energy_wh": 1.2345}) == 1235  # a driver giving float Wh: converted once
    assert m.energy_mwh({"power_w": 1.0}) is None
    assert m.wh(1234567) == 1234.6 and m.wh(49) == 0.0 and m.wh(50) == 0.1
    # Above 1 MWh the report is whole Wh as an int: exact where floats have 24 bits (7 digits).
    big = m.wh(123456789012)
    assert big == 123456789 and isinstance(big, int)
    sv = m.sampled_values({"energy_mwh": 999999999}, (m.ENERGY,), m.PERIODIC)
    assert sv[0]["value"] == 1000000.0


def test_single_phase_unknown_measurand_and_no_meter():
    sv = m.sampled_values(R1, (m.CURRENT, "Frequency", m.VOLTAGE), m.BEGIN)
    assert [v.get("phase") for v in sv] == ["L1", "L1-N"]
    assert m.meter_value("t", None, (m.ENERGY,), m.END) is None
    assert m.meter_value("t", R1, (), m.END) is None
    mv = m.meter_value("2026-01-01T00:00:00.000Z", R1, (m.ENERGY,), m.END)
    assert mv == {"timestamp": "2026-01-01T00:00:00.000Z", "sampledValue": [
        {"value": 5.0, "context": "Transaction.End", "measurand": m.ENERGY}]}


def test_aligned_and_periodic_schedules():
    assert m.next_aligned(1000, 900) == 1800
    assert m.next_aligned(1800, 900) == 2700  # an instant already reached is not repeated
    assert m.next_aligned(5, 0) is None
    assert m.next_aligned(100, 10 ** 9) == 86400  # capped at a day
    assert m.next_after(100, 105, 10) == 110
    assert m.next_after(100, 135, 10) == 145  # missed slots are skipped, not burst
    assert m.next_after(100, 105, 0) is None
