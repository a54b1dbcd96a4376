"""Throttle: at most one flush per interval (times the last flush's cost), checked per change."""
from __future__ import annotations

from jupyter_llm.display.throttle import Throttle


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_thousand_changes_in_a_second_flush_at_most_21_times_and_the_last_is_left_pending():
    clock = FakeClock()
    throttle = Throttle(0.05, clock)
    flushes = 0
    for _ in range(1000):
        clock.now += 0.000999
        flushes += throttle.due()
    assert 19 <= flushes <= 21
    assert throttle.pending  # the caller's final flush sends the rest
    throttle.flushed()
    assert not throttle.pending


def test_the_first_change_flushes_at_once():
    throttle = Throttle(0.05, FakeClock())
    assert throttle.due()
    assert not throttle.due()


def test_a_flush_that_took_three_messages_waits_three_intervals():
    clock = FakeClock()
    throttle = Throttle(0.05, clock)
    assert throttle.due()
    throttle.cost(3)
    clock.now += 0.1
    assert not throttle.due()
    clock.now += 0.051
    assert throttle.due()
    throttle.cost(50)  # capped: never more than four intervals
    clock.now += 0.201
    assert throttle.due()


def test_a_forced_flush_restarts_the_interval():
    clock = FakeClock()
    throttle = Throttle(0.05, clock)
    assert throttle.due()
    clock.now += 0.04
    throttle.flushed()
    clock.now += 0.04
    assert not throttle.due()


def test_a_slow_flush_slows_the_next_ones_down():
    clock = FakeClock()
    throttle = Throttle(0.1, clock)
    assert throttle.due()
    throttle.cost(1, seconds=0.3)  # rendering took 0.3 s: wait five times that
    clock.now += 1.4
    assert not throttle.due()
    clock.now += 0.11
    assert throttle.due()
    throttle.cost(1, seconds=0.001)  # fast again: back to one interval
    clock.now += 0.101
    assert throttle.due()
