"""SyntheticCamera: the seeded line's parts as frames, with ground truth, paced."""

from __future__ import annotations

import threading

import numpy as np

from station.core.ports import CameraLost, FrameSource, ReadInterrupted
from station.sources.pacing import Pacer
from station.sources.synthetic import SyntheticCamera
from station.synthetic.line import PartGenerator


class FakeClock:
    """A clock that only moves when the camera sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


def test_frames_are_the_generators_parts_with_their_truth() -> None:
    camera = SyntheticCamera(seed=5, width=320, height=240, parts_per_minute=0)
    assert isinstance(camera, FrameSource)
    info = camera.open()
    assert (info.kind, info.width, info.height) == ("synthetic", 320, 240)
    generator = PartGenerator(5, width=320, height=240)
    for index in range(6):
        frame = camera.read()
        part = generator.part(index)
        assert frame.sequence == index
        assert not frame.image.flags.writeable
        np.testing.assert_array_equal(frame.image, part.image)
        assert frame.truth is not None
        np.testing.assert_array_equal(frame.truth.xyxy, part.boxes_xyxy)
        np.testing.assert_array_equal(frame.truth.class_id, part.class_ids)
        assert frame.truth.defective == part.defective == frame.meta["defective"]
    camera.close()


def test_the_line_has_good_and_defective_parts() -> None:
    camera = SyntheticCamera(seed=1, parts_per_minute=0)
    camera.open()
    defective = [camera.read().truth.defective for _ in range(40)]  # type: ignore[union-attr]
    assert any(defective) and not all(defective)


def test_parts_come_at_the_configured_rate_without_drift() -> None:
    clock = FakeClock()
    camera = SyntheticCamera(parts_per_minute=120, clock=clock, sleep=clock.sleep)
    assert camera.open().fps == 2.0
    camera.read()  # the first part at once
    camera.read()
    clock.now += 0.2  # inference took 0.2 s: the next wait is shorter, not later
    camera.read()
    assert clock.sleeps == [0.5, 0.3]


def test_reading_a_closed_line_is_camera_lost_and_reopening_continues_numbering() -> None:
    camera = SyntheticCamera(parts_per_minute=0)
    camera.open()
    assert [camera.read().sequence for _ in range(3)] == [0, 1, 2]
    camera.close()
    try:
        camera.read()
    except CameraLost:
        pass
    else:
        raise AssertionError("read after close must raise CameraLost")
    camera.open()
    assert camera.read().sequence == 3


def test_frames_are_due_on_the_schedule_from_the_start() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert all(pacer.wait_next() for _ in range(3))
    assert clock.sleeps == [0.5, 0.5]


def test_an_interrupted_wait_takes_no_frame_until_restarted() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait_next()
    pacer.interrupt()
    assert not pacer.wait_next() and clock.sleeps == []
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
    assert all(pacer.wait_next() for _ in range(5)) and clock.sleeps == []
