"""The pipeline with a PLC output, stepped on the test's thread: triggers that overflow,
triggers without a frame, the decision deadline and a gap in the camera's frame counter.
A real pymodbus client writes the triggers to the real server on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plc_support import UNIT, plc_client, read_all

from station.core.detections import Detections
from station.core.ports import CameraInfo, CameraLost, Frame
from station.core.shifts import ShiftSchedule
from station.core.thresholds import ThresholdSet
from station.detectors import load_detector
from station.outputs.plc import register_map as rm
from station.outputs.plc.config import MAX_PENDING, PlcConfig
from station.outputs.plc.output import PlcOutput
from station.pipeline import BackoffPolicy, InspectionPipeline, PipelineSetup
from station.sources.synthetic import SyntheticCamera
from station.storage.log import SqliteInspectionLog

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "defects.onnx"


class Events:
    def __init__(self) -> None:
        self.parts: list[Any] = []
        self.faults: list[str] = []

    def part_inspected(self, part: Any) -> None:
        self.parts.append(part)

    def camera_changed(self, status: Any) -> None:
        return None

    def running_changed(self, running: bool) -> None:
        return None

    def thresholds_applied(self, thresholds: Any) -> None:
        return None

    def fault(self, message: str) -> None:
        self.faults.append(message)


class Line(SyntheticCamera):
    """The synthetic line with a cable to pull and a camera frame counter that can skip."""

    def __init__(self) -> None:
        super().__init__(seed=3, width=320, height=240, parts_per_minute=0.0)
        self.unplugged = False
        self.skip_next = 0
        self._frame_id = 100

    def open(self) -> CameraInfo:
        if self.unplugged:
            raise CameraLost("no device answers")
        return super().open()

    def read(self, timeout_s: float = 2.0) -> Frame:
        if self.unplugged:
            raise CameraLost("no frame for 0.5 s")
        frame = super().read(timeout_s)
        self._frame_id += 1 + self.skip_next
        self.skip_next = 0
        return Frame(
            frame.image,
            frame.sequence,
            frame.timestamp_s,
            frame.truth,
            {**frame.meta, "frame_id": self._frame_id},
        )


class SlowDetector:
    """The shipped model, `delay_s` slower: parts miss a short deadline."""

    def __init__(self, inner: Any, delay_s: float) -> None:
        self._inner = inner
        self.delay_s = delay_s
        self.broken = False

    @property
    def info(self) -> Any:
        return self._inner.info

    def detect(self, frame: Any) -> Detections:
        time.sleep(self.delay_s)
        if self.broken:
            raise RuntimeError("session failed")
        dets: Detections = self._inner.detect(frame)
        return dets


@pytest.fixture(scope="module")
def detector() -> Any:
    return load_detector(MODEL)


@pytest.fixture
def station(tmp_path: Path, detector: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    options = getattr(request, "param", {})
    db = tmp_path / "log.sqlite3"
    log = SqliteInspectionLog(db)
    plc = PlcOutput(
        PlcConfig(host="127.0.0.1", port=0, heartbeat_ms=50),
        triggered=options.get("triggered", True),
        deadline_ms=options.get("deadline_ms", 5000),
        shifts=ShiftSchedule(),
    )
    plc.start()
    source = Line()
    events = Events()
    setup = PipelineSetup(
        source=source,
        detector=SlowDetector(detector, options.get("delay_s", 0.0)),
        thresholds=ThresholdSet({}, 0.5),
        reject_classes=None,
        open_log=lambda: log,
        backoff=BackoffPolicy(first_s=0.01, max_s=0.02),
        read_timeout_s=0.5,
        outputs=(plc,),
        line=plc,
    )
    pipeline = InspectionPipeline(setup, events)
    pipeline.detector = setup.detector  # type: ignore[attr-defined]  # for a test to break
    pipeline.begin()
    pipeline.start()
    try:
        yield pipeline, plc, source, events, db
    finally:
        pipeline.shutdown("test over")


def step_until(pipeline: InspectionPipeline, events: Events, n: int) -> None:
    deadline = time.monotonic() + 30
    while len(events.parts) < n:
        assert time.monotonic() < deadline, f"{len(events.parts)} of {n} parts"
        wait = pipeline.step()
        if wait:
            time.sleep(min(wait, 0.05))


def logged(db: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT outcome, why, extra FROM inspections ORDER BY id")
        return [(int(json.loads(x)["trigger_id"]), o, w) for o, w, x in rows.fetchall()]


def test_an_overflowing_trigger_is_no_decision_and_a_fault_until_answered(station: Any) -> None:
    pipeline, plc, _, events, db = station
    with plc_client(plc.link.port) as client:
        for trigger_id in range(1, MAX_PENDING + 3):  # the loop is busy: nobody takes them
            client.write_register(rm.TRIGGER_ID, trigger_id, device_id=UNIT)
        assert read_all(client)[rm.STATE] == rm.PlcState.FAULT
        step_until(pipeline, events, MAX_PENDING + 2)
        regs = read_all(client)
        assert regs[rm.STATE] == rm.PlcState.READY
        assert rm.uint32_from(*regs[5:7]) + rm.uint32_from(*regs[7:9]) == MAX_PENDING
        assert rm.uint32_from(*regs[9:11]) == 2
    rows = logged(db)
    assert sorted(t for t, _, _ in rows) == list(range(1, MAX_PENDING + 3))
    dropped = [(t, why) for t, outcome, why in rows if outcome == "NO DECISION"]
    assert [t for t, _ in dropped] == [MAX_PENDING + 1, MAX_PENDING + 2]
    assert all(why.startswith("trigger overflow: trigger") for _, why in dropped)
    assert plc.stats().results == MAX_PENDING + 2


def test_a_trigger_without_a_frame_is_no_decision(station: Any) -> None:
    pipeline, plc, source, events, db = station
    with plc_client(plc.link.port) as client:
        client.write_register(rm.TRIGGER_ID, 16, device_id=UNIT)
        step_until(pipeline, events, 1)
        source.unplugged = True
        client.write_register(rm.TRIGGER_ID, 17, device_id=UNIT)
        step_until(pipeline, events, 2)
        regs = read_all(client)
        assert (regs[rm.RESULT_ID], regs[rm.RESULT]) == (17, rm.PlcResult.NO_DECISION)
        assert regs[rm.STATE] == rm.PlcState.FAULT  # the camera is lost
        client.write_register(rm.TRIGGER_ID, 18, device_id=UNIT)
        step_until(pipeline, events, 3)
    rows = logged(db)
    assert rows[1][0] == 17 and rows[1][2].startswith("no frame for trigger 17: camera lost")
    assert rows[2][0] == 18 and rows[2][2].startswith("no frame for trigger 18")


def test_a_trigger_whose_read_a_stop_cut_short_is_answered(station: Any) -> None:
    """A stop interrupts a read waiting for a paced frame: the trigger still gets its result."""
    pipeline, plc, _, events, db = station
    with plc_client(plc.link.port) as client:
        client.write_register(rm.TRIGGER_ID, 16, device_id=UNIT)
        step_until(pipeline, events, 1)
        pipeline.interrupt()  # a stop is coming: the next read gives up at once
        client.write_register(rm.TRIGGER_ID, 17, device_id=UNIT)
        step_until(pipeline, events, 2)
        regs = read_all(client)
        assert (regs[rm.RESULT_ID], regs[rm.RESULT]) == (17, rm.PlcResult.NO_DECISION)
    assert logged(db)[1] == (17, "NO DECISION", "no frame for trigger 17: inspection stopped")


def test_a_gap_in_the_camera_frame_counter_is_a_lost_part(station: Any) -> None:
    pipeline, plc, source, events, db = station
    with plc_client(plc.link.port) as client:
        for trigger_id in (1, 2, 3):
            if trigger_id == 3:
                source.skip_next = 2  # two frames the station never saw
            client.write_register(rm.TRIGGER_ID, trigger_id, device_id=UNIT)
            step_until(pipeline, events, trigger_id)
    rows = logged(db)
    assert rows[2][:2] == (3, "NO DECISION")
    assert rows[2][2] == "lost part: camera frame ids 103, 104 missing before this frame"
    assert all(outcome != "NO DECISION" for _, outcome, _ in rows[:2])


@pytest.mark.parametrize("station", [{"deadline_ms": 20, "delay_s": 0.15}], indirect=True)
def test_a_part_past_its_deadline_is_sent_as_no_decision_and_logged_late(station: Any) -> None:
    pipeline, plc, _, events, db = station
    with plc_client(plc.link.port) as client:
        client.write_register(rm.TRIGGER_ID, 7, device_id=UNIT)
        time.sleep(0.1)  # the deadline passes while nobody has even started the part
        regs = read_all(client)
        assert (regs[rm.RESULT_ID], regs[rm.RESULT]) == (7, rm.PlcResult.NO_DECISION)
        step_until(pipeline, events, 1)
        after = read_all(client)
        assert after[rm.RESULT_ID : rm.RESULTS_PENDING] == regs[rm.RESULT_ID : rm.RESULTS_PENDING]
    ((trigger_id, outcome, why),) = logged(db)
    assert (trigger_id, outcome) == (7, "NO DECISION")
    assert why.startswith("late: ") and "decision deadline 20 ms" in why
    assert int(why.split()[1]) >= 100
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (late,) = conn.execute("SELECT message FROM events WHERE kind = 'late_result'").fetchall()
    assert "the model said" in late[0]
    assert plc.stats().late == 1 and plc.stats().results == 1


def test_triggers_waiting_when_inspection_stops_are_answered(station: Any) -> None:
    pipeline, plc, _, _, db = station
    with plc_client(plc.link.port) as client:
        for trigger_id in (1, 2, 3):
            client.write_register(rm.TRIGGER_ID, trigger_id, device_id=UNIT)
        pipeline.stop()
        regs = read_all(client)
        assert (regs[rm.STATE], regs[rm.RESULT_ID]) == (rm.PlcState.STOPPED, 3)
    rows = logged(db)
    assert [(t, o) for t, o, _ in rows] == [
        (1, "NO DECISION"),
        (2, "NO DECISION"),
        (3, "NO DECISION"),
    ]
    assert rows[0][2] == "no frame for trigger 1: inspection stopped"


@pytest.mark.parametrize("station", [{"triggered": False}], indirect=True)
def test_free_running_parts_are_numbered_and_counted(station: Any) -> None:
    pipeline, plc, _, events, db = station
    with plc_client(plc.link.port) as client:
        assert read_all(client)[rm.STATE] != rm.PlcState.STOPPED
        step_until(pipeline, events, 5)
        pipeline.stop()
        regs = read_all(client)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        extras = [json.loads(x) for (x,) in conn.execute("SELECT extra FROM inspections")]
    ids = [int(x["plc_result_id"]) for x in extras]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= 5
    assert regs[rm.RESULT_ID] == ids[-1]
    counted = sum(rm.uint32_from(*regs[a : a + 2]) for a in (rm.PASSED, rm.REJECTED, 9))
    assert counted == len(ids)


def test_a_model_error_is_state_3_until_the_model_judges_again(station: Any) -> None:
    pipeline, plc, _, events, _ = station
    with plc_client(plc.link.port) as client:
        pipeline.detector.broken = True
        client.write_register(rm.TRIGGER_ID, 1, device_id=UNIT)
        step_until(pipeline, events, 1)
        regs = read_all(client)
        assert (regs[rm.RESULT], regs[rm.STATE]) == (rm.PlcResult.NO_DECISION, rm.PlcState.FAULT)
        assert "model error" in plc.stats().fault
        pipeline.detector.broken = False
        client.write_register(rm.TRIGGER_ID, 2, device_id=UNIT)
        step_until(pipeline, events, 2)
        assert read_all(client)[rm.STATE] == rm.PlcState.READY
