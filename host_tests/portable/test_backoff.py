# Part 4 §5.3 reconnect back-off.
from flexcharge.comm.session import backoff_s


def test_backoff_doubles_then_stays():
    waits = [backoff_s(a, 2, 0, 3) for a in range(7)]
    assert waits == [2, 4, 8, 16, 16, 16, 16]


def test_backoff_adds_random_up_to_range():
    assert backoff_s(0, 5, 10, 2, rnd=lambda: 0.0) == 5
    assert backoff_s(0, 5, 10, 2, rnd=lambda: 0.999) > 14.9
    assert backoff_s(1, 5, 10, 2, rnd=lambda: 0.5) == 15


def test_backoff_repeat_times_zero_never_doubles():
    assert [backoff_s(a, 3, 0, 0) for a in range(3)] == [3, 3, 3]
