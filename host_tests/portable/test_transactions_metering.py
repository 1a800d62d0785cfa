# J01-J03 inside transactions: sampled (SampledDataCtrlr) and clock-aligned (AlignedDataCtrlr)
# meter values, with measurands, units, phases, contexts and locations.
from support import run
from test_transactions import make, cmd, tag, queued, check_schema, setv, T0


def charging(st, board, watts=7000):
    cmd(board, cmd="plug", evse=1, connector=1)
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="ev", evse=1, state="C")
    cmd(board, cmd="load", evse=1, watts=watts)


def test_tx_updated_periodic_with_measurands_units_phases():
    # TC_J_09: MeterValuePeriodic, Sample.Periodic, every configured measurand
    st, txs, board, auth = make()
    setv(st, "SampledDataCtrlr", "TxUpdatedInterval", "10")
    setv(st, "SampledDataCtrlr", "TxUpdatedMeasurands",
         "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered")
    charging(st, board, 6900)
    board.t[0] += 10000
    txs.tick(T0 + 9)
    assert [p["triggerReason"] for p in queued(txs)].count("MeterValuePeriodic") == 0
    txs.tick(T0 + 10)
    txs.tick(T0 + 15)
    txs.tick(T0 + 20)
    per = [p for p in queued(txs) if p["triggerReason"] == "MeterValuePeriodic"]
    assert len(per) == 2
    sv = per[0]["meterValue"][0]["sampledValue"]
    assert all(v["context"] == "Sample.Periodic" and "location" not in v for v in sv)  # default Outlet
    by = {}
    for v in sv:
        by.setdefault(v["measurand"], []).append(v)
    assert "unitOfMeasure" not in by["Energy.Active.Import.Register"][0]  # default Wh
    assert abs(by["Energy.Active.Import.Register"][0]["value"] - 6900 * 10 / 3600) < 0.2
    assert by["Power.Active.Import"][0]["value"] == 6900 and "phase" not in by["Power.Active.Import"][0]
    assert [v["phase"] for v in by["Current.Import"]] == ["L1", "L2", "L3"]
    assert abs(by["Current.Import"][0]["value"] - 10.0) < 0.01  # 6900 W / (3 x 230 V)
    assert [v["phase"] for v in by["Voltage"]] == ["L1-N", "L2-N", "L3-N"] and by["Voltage"][0]["value"] == 230
    assert by["Current.Offered"][0]["value"] == 32 and by["Current.Offered"][0]["unitOfMeasure"]["unit"] == "A"
    check_schema(queued(txs))


def test_tx_ended_samples_and_transaction_end():
    # TC_J_10: Sample.Periodic entries every TxEndedInterval plus one Transaction.End
    st, txs, board, auth = make()
    setv(st, "SampledDataCtrlr", "TxUpdatedInterval", "0")
    setv(st, "SampledDataCtrlr", "TxEndedInterval", "30")
    charging(st, board)
    for i in range(1, 5):
        txs.tick(T0 + 30 * i)
    tag(st, board, "AA", evse=1)
    end = queued(txs)[-1]
    ctx = [mv["sampledValue"][0]["context"] for mv in end["meterValue"]]
    assert ctx == ["Sample.Periodic"] * 4 + ["Transaction.End"]
    assert [p["triggerReason"] for p in queued(txs)].count("MeterValuePeriodic") == 0
    check_schema([end])


def test_clock_aligned_idle_meter_values_and_in_transaction():
    # TC_J_01 (no transaction: MeterValues, Sample.Clock), TC_J_02 (transaction: MeterValueClock)
    st, txs, board, auth = make()
    setv(st, "AlignedDataCtrlr", "Interval", "900")
    setv(st, "SampledDataCtrlr", "TxUpdatedInterval", "0")
    charging(st, board)
    base = (int(T0) // 900) * 900
    txs.tick(base + 1)  # arms the schedule
    txs.tick(base + 899)
    assert st.sent("MeterValues") == []
    txs.tick(base + 901)
    st.run_spawned()
    mv = st.sent("MeterValues")
    assert [p["evseId"] for p in mv] == [2]  # the idle EVSE
    assert mv[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    # the aligned instant, not the moment we got round to it
    assert mv[0]["meterValue"][0]["timestamp"].endswith(":00.000Z")
    clk = [p for p in queued(txs) if p["triggerReason"] == "MeterValueClock"]
    assert len(clk) == 1 and clk[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    check_schema(mv, "MeterValuesRequest")
    # SendDuringIdle: nothing while a transaction runs (TC_J_06)
    setv(st, "AlignedDataCtrlr", "SendDuringIdle", "true")
    txs.tick(base + 1801)
    st.run_spawned()
    assert len(st.sent("MeterValues")) == 1
    assert len([p for p in queued(txs) if p["triggerReason"] == "MeterValueClock"]) == 1


def test_aligned_tx_ended_samples():
    # TC_J_03: Sample.Clock entries every AlignedDataCtrlr.TxEndedInterval in the Ended event
    st, txs, board, auth = make()
    setv(st, "AlignedDataCtrlr", "TxEndedInterval", "60")
    setv(st, "SampledDataCtrlr", "TxEndedMeasurands", "")
    setv(st, "SampledDataCtrlr", "TxUpdatedInterval", "0")
    charging(st, board)
    base = (int(T0) // 60) * 60
    for i in range(0, 4):
        txs.tick(base + 60 * i + 1)
    tag(st, board, "AA", evse=1)
    end = queued(txs)[-1]
    ctx = [mv["sampledValue"][0]["context"] for mv in end["meterValue"]]
    assert ctx == ["Sample.Clock"] * 3
    check_schema([end])


def test_started_measurands_and_disabled_sampling():
    st, txs, board, auth = make()
    setv(st, "SampledDataCtrlr", "TxStartedMeasurands", "Energy.Active.Import.Register,Voltage")
    charging(st, board)
    st0 = queued(txs)[0]
    assert [v["measurand"] for v in st0["meterValue"][0]["sampledValue"]] == [
        "Energy.Active.Import.Register", "Voltage", "Voltage", "Voltage"]
    tag(st, board, "AA", evse=1)
    setv(st, "SampledDataCtrlr", "Enabled", "false")
    charging(st, board)
    starts = [p for p in queued(txs) if p["eventType"] == "Started"]
    assert len(starts) == 2 and "meterValue" not in starts[1]


def test_start_register_is_an_int_and_an_older_float_wh_record_is_read():
    # The start of a transaction is kept as the meter's int mWh register; a transaction saved by a
    # firmware before that (float Wh under "wh0") is read after the update without losing its start.
    import json
    from flexcharge.core.blocks.e_transactions.transaction import Transaction

    t = Transaction("t-1", 1, 1)
    t.start_mwh = 1234567
    d = json.loads(t.to_json())
    assert d["mwh0"] == 1234567 and "wh0" not in d
    assert Transaction.from_dict(d).start_mwh == 1234567
    del d["mwh0"]
    d["wh0"] = 1234.567
    old = Transaction.from_dict(d)
    assert old.start_mwh == 1234567 and isinstance(old.start_mwh, int)
