"""The pace of a simulated or replayed line, and a stop that does not wait for it."""

from __future__ import annotations

import threading

from station.core.ports import ReadInterrupted
from station.sources.pacing import Pacer
from station.sources.synthetic import SyntheticCamera


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_frames_are_due_on_the_schedule_from_the_start() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert all(pacer.wait_next() for _ in range(3))
    assert clock.slept == [0.5, 0.5]


def test_an_interrupted_wait_takes_no_frame_until_restarted() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait_next()
    pacer.interrupt()
    assert not pacer.wait_next() and clock.slept == []
    pacer.restart()
    assert pacer.wait_next()


def test_a_source_waiting_for_its_next_part_is_interrupted_from_another_thread() -> None:
    source = SyntheticCamera(parts_per_minute=1.0, seed=0, width=96, height=64)
    source.open()
    source.read()  # the first part is due at once; the next one a minute later
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            source.read()
        except ReadInterrupted as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    source.interrupt()
    reader.join(timeout=10)
    assert not reader.is_alive() and len(outcome) == 1
    source.close()
    source.open()  # opened again: the pace starts over, its first part at once
    source.read()


def test_no_pace_never_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(0.0, clock=clock, sleep=clock.sleep)
    assert all(pacer.wait_next() for _ in range(5)) and clock.slept == []
