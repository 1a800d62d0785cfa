# diag/metrics.py: the figures and the log line.
from flexcharge.diag.metrics import Metrics


class Log:
    def __init__(self):
        self.lines = []

    def info(self, m):
        self.lines.append(m)


class Rpc:
    counts = [5, 4, 1, 2]


class Faults:
    last = {2: (1700000000, "GroundFailure")}


def test_metrics_line():
    log = Log()
    m = Metrics(log, 3, {"PowerUp": 2, "Watchdog": 1})
    m.rpc, m.faults = Rpc(), Faults()
    m.queues = {"tx": lambda: 7}
    m.connected()
    m.connected()
    m.sample_heap()
    m.report()
    line = log.lines[-1]
    assert "boots=3 causes=PowerUp:2,Watchdog:1 reconnects=1 sent=5 received=4" in line, line
    assert "callerrors_sent=1 callerrors_received=2 queues=tx:7" in line
    assert "last_fault=2:GroundFailure@1700000000" in line
