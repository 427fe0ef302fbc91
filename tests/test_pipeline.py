"""The Qt-free pipeline on real parts: synthetic line or a folder replay, real ONNX model,
real SQLite log. Stepped on the test's thread, as the headless runner does."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from station.core.decision import Outcome
from station.core.errors import StationError
from station.core.inspection import Inspection
from station.core.ports import CameraInfo, CameraLost, Frame
from station.core.thresholds import ThresholdSet
from station.detectors import load_detector
from station.pipeline import (
    BackoffPolicy,
    CameraState,
    CameraStatus,
    InspectionPipeline,
    PartResult,
    PipelineSetup,
)
from station.sources.synthetic import SyntheticCamera
from station.storage.log import SqliteInspectionLog

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "defects.onnx"
FAST = BackoffPolicy(first_s=0.01, max_s=0.02)


class Recorder:
    """The pipeline's events, in the order they came."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.parts: list[PartResult] = []
        self.cameras: list[CameraStatus] = []
        self.faults: list[str] = []
        self.running: list[bool] = []

    def part_inspected(self, part: PartResult) -> None:
        self.order.append(f"shown {part.inspection.sequence}")
        self.parts.append(part)

    def camera_changed(self, status: CameraStatus) -> None:
        self.cameras.append(status)

    def running_changed(self, running: bool) -> None:
        self.running.append(running)

    def thresholds_applied(self, thresholds: ThresholdSet) -> None:
        return None

    def fault(self, message: str) -> None:
        self.faults.append(message)


class CheckingOutput:
    """An output (as a PLC would be) that checks the part is already committed when it arrives."""

    name = "checker"

    def __init__(self, db: Path, order: list[str]) -> None:
        self._db = db
        self._order = order
        self.sent: list[tuple[int, str, int | None]] = []
        self.committed: list[bool] = []
        self.closed = False

    def send(self, inspection: Inspection, row_id: int | None) -> None:
        with sqlite3.connect(self._db) as conn:  # a separate connection sees only commits
            row = conn.execute("SELECT outcome FROM inspections WHERE id = ?", (row_id,))
            self.committed.append(row.fetchone() == (inspection.outcome.value,))
        self.sent.append((inspection.sequence, inspection.outcome.value, row_id))
        self._order.append(f"sent {inspection.sequence}")

    def close(self) -> None:
        self.closed = True


class PullableLine(SyntheticCamera):
    """The synthetic line with a cable a test pulls: CameraLost while `unplugged`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.unplugged = False
        self.opens = 0

    def open(self) -> CameraInfo:
        if self.unplugged:
            raise CameraLost("no device answers")
        self.opens += 1
        return super().open()

    def read(self, timeout_s: float = 2.0) -> Frame:
        if self.unplugged:
            raise CameraLost("no frame")
        return super().read(timeout_s)


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    return load_detector(MODEL)


def build(tmp_path: Path, detector, source=None, **kwargs):  # type: ignore[no-untyped-def]
    db = tmp_path / "log.sqlite3"
    log = SqliteInspectionLog(db)
    events = Recorder()
    source = source or PullableLine(seed=2, width=320, height=240, parts_per_minute=0.0)
    setup = PipelineSetup(
        source=source,
        detector=detector,
        thresholds=ThresholdSet({}, 0.5),
        reject_classes=None,
        open_log=lambda: log,
        backoff=FAST,
        read_timeout_s=0.5,
        **kwargs,
    )
    return InspectionPipeline(setup, events), events, db, source


def run_until(pipeline: InspectionPipeline, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not done() and time.monotonic() < deadline:
        wait = pipeline.step()
        if wait:
            time.sleep(wait)
    assert done()


def run_parts(pipeline: InspectionPipeline, events: Recorder, n: int) -> None:
    run_until(pipeline, lambda: len(events.parts) >= n)


LAYOUTS = {
    "serial": {"prefetch": 0},
    "prefetch": {"prefetch": 2},
    "lanes": {"prefetch": 2, "lanes": 2},  # two parts inferred at once, handled in order
}


@pytest.fixture(params=list(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> dict[str, int]:
    return LAYOUTS[str(request.param)]


def test_log_commit_then_outputs_then_window(
    tmp_path: Path, detector, layout: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    order: list[str] = []
    output = CheckingOutput(tmp_path / "log.sqlite3", order)
    pipeline, events, db, _ = build(tmp_path, detector, outputs=(output,), **layout)
    events.order = order
    pipeline.begin()
    pipeline.start()
    run_parts(pipeline, events, 6)
    pipeline.shutdown("test over")
    n = len(events.parts)
    assert n >= 6 and all(output.committed)
    assert [s for s, _, _ in output.sent] == [p.inspection.sequence for p in events.parts]
    expected = [
        x
        for p in events.parts
        for x in (f"sent {p.inspection.sequence}", f"shown {p.inspection.sequence}")
    ]
    assert order == expected
    assert [r for _, _, r in output.sent] == [p.row_id for p in events.parts]
    assert all(p.committed_ms > 0 for p in events.parts)
    assert output.closed
    truths = {p.inspection.truth_defective for p in events.parts}
    assert truths <= {True, False} and None not in truths  # the line knows its truth
    with sqlite3.connect(db) as conn:
        (logged,) = conn.execute("SELECT count(*) FROM inspections").fetchone()
    assert logged == n


def test_lost_camera_is_no_decision_without_scores_and_is_retried(
    tmp_path: Path,
    detector,  # type: ignore[no-untyped-def]
    layout: dict[str, int],
) -> None:
    pipeline, events, db, line = build(tmp_path, detector, **layout)
    pipeline.begin()
    pipeline.start()
    try:
        run_parts(pipeline, events, 2)
        line.unplugged = True
        run_until(pipeline, lambda: any(p.outcome is Outcome.NO_DECISION for p in events.parts))
        opens = line.opens
        t0 = time.monotonic()
        run_until(pipeline, lambda: time.monotonic() - t0 > 0.2)  # reopening keeps failing
        line.unplugged = False
        n = len(events.parts)
        run_parts(pipeline, events, n + 2)
    finally:
        pipeline.shutdown("test over")
    assert opens == 1 and line.opens >= 2
    i = next(i for i, p in enumerate(events.parts) if p.outcome is Outcome.NO_DECISION)
    assert all(p.outcome is not Outcome.NO_DECISION for p in events.parts[i + 1 :])
    lost = events.parts[i]
    assert lost.inspection.decision.why == "camera lost: no frame"
    assert np.isnan(lost.inspection.max_scores).all()  # no scores, not "nothing detected"
    assert lost.inspection.sequence == events.parts[i - 1].inspection.sequence + 1
    seqs = [p.inspection.sequence for p in events.parts]
    assert seqs == sorted(seqs)  # acquisition order kept
    decided = [q for q in seqs[:i] + seqs[i + 1 :]]
    assert decided == list(range(decided[0], decided[0] + len(decided)))  # no frame dropped
    states = [c.state for c in events.cameras]
    assert states.count(CameraState.LOST) >= 2 and states[-1] is CameraState.STOPPED
    with sqlite3.connect(db) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
        blob = conn.execute(
            "SELECT max_scores FROM inspections WHERE outcome = 'NO DECISION'"
        ).fetchone()[0]
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_found") == 1
    assert np.isnan(np.frombuffer(blob, "<f4")).all()


def test_a_part_that_passes_has_real_maxima(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    pipeline, events, _, _ = build(tmp_path, detector)
    pipeline.begin()
    pipeline.start()
    run_parts(pipeline, events, 8)
    pipeline.shutdown("test over")
    decided = [p for p in events.parts if p.outcome is not Outcome.NO_DECISION]
    assert decided and all(not np.isnan(p.inspection.max_scores).any() for p in decided)


class RefusingCamera(SyntheticCamera):
    """A camera that does not offer the recipe's pixel format (as GigECamera says it)."""

    def open(self) -> CameraInfo:
        self.opens = getattr(self, "opens", 0) + 1
        raise StationError("[camera] pixel_format = 'BayerRG8': camera cam-1 offers Mono8")


def test_configuration_error_stops_with_a_fault_and_is_not_retried(
    tmp_path: Path,
    detector,  # type: ignore[no-untyped-def]
    layout: dict[str, int],
) -> None:
    camera = RefusingCamera(seed=1, parts_per_minute=0.0)
    pipeline, events, db, _ = build(tmp_path, detector, source=camera, **layout)
    pipeline.begin()
    pipeline.start()
    run_until(pipeline, lambda: not pipeline.running)
    assert pipeline.step() is None  # stopped: nothing to wait for
    assert events.cameras[-1].state is CameraState.FAULT  # what the operator sees
    assert "offers Mono8" in events.cameras[-1].message
    pipeline.shutdown("test over")
    assert camera.opens == 1
    assert not pipeline.running and events.running == [True, False]
    assert events.faults == [
        "camera configuration: [camera] pixel_format = 'BayerRG8': camera cam-1 offers Mono8"
    ]
    with sqlite3.connect(db) as conn:
        rows = list(conn.execute("SELECT kind, message FROM events ORDER BY id"))
    assert ("camera_fault", events.faults[0]) in rows
    assert not events.parts


def test_log_unavailable_part_is_no_decision_and_still_sent(
    tmp_path: Path, detector, layout: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "log.sqlite3"
    log = SqliteInspectionLog(db, busy_timeout_s=0.1)
    events = Recorder()
    sent: list[tuple[str, int | None]] = []

    class Output:
        name = "plc"

        def send(self, inspection: Inspection, row_id: int | None) -> None:
            sent.append((inspection.outcome.value, row_id))

        def close(self) -> None:
            return None

    setup = PipelineSetup(
        source=SyntheticCamera(seed=2, width=320, height=240, parts_per_minute=0.0),
        detector=detector,
        thresholds=ThresholdSet({}, 1.0),  # every part would pass
        reject_classes=None,
        open_log=lambda: log,
        outputs=(Output(),),
        **layout,
    )
    pipeline = InspectionPipeline(setup, events)
    pipeline.begin()
    pipeline.trigger()
    run_parts(pipeline, events, 1)
    other = sqlite3.connect(db, isolation_level=None)  # e.g. a database browser
    other.execute("BEGIN EXCLUSIVE")
    try:
        pipeline.trigger()
        run_parts(pipeline, events, 2)
    finally:
        other.execute("ROLLBACK")
        other.close()
    pipeline.shutdown("test over")
    refused = events.parts[1]
    assert refused.outcome is Outcome.NO_DECISION and refused.row_id is None
    assert refused.inspection.decision.why == "log unavailable: part not recorded"
    assert np.isnan(refused.inspection.max_scores).all()
    assert sent == [("PASS", events.parts[0].row_id), ("NO DECISION", None)]
    assert any(f.startswith("log unavailable") for f in events.faults)


def test_thresholds_apply_from_the_next_part(
    tmp_path: Path, detector, layout: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    pipeline, events, _, _ = build(tmp_path, detector, **layout)
    pipeline.begin()
    pipeline.start()
    run_parts(pipeline, events, 2)
    strict = ThresholdSet({}, 0.001)
    pipeline.set_thresholds(strict)
    run_parts(pipeline, events, 5)
    pipeline.shutdown("test over")
    used = [round(float(p.thresholds.max()), 3) for p in events.parts]
    # Parts judged before the command keep the old set (at most one was judged, its
    # commit still pending, when the command came); every later part has the new one.
    k = used.index(0.001)
    assert k in (2, 3) and set(used[:k]) == {0.5} and set(used[k:]) == {0.001}


class HangingLine(SyntheticCamera):
    """A driver whose read never returns until released (a wedged USB stack)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        import threading

        self.release = threading.Event()
        self.reading = threading.Event()

    def read(self, timeout_s: float = 2.0) -> Frame:
        self.reading.set()
        self.release.wait(30)
        return super().read(timeout_s)


def test_a_wedged_camera_does_not_hang_the_stop() -> None:
    from station.pipeline.acquisition import CameraChange, CameraLink
    from station.pipeline.prefetch import PrefetchFeed

    line = HangingLine(seed=1, width=160, height=120, parts_per_minute=0.0)
    feed = PrefetchFeed(CameraLink(line), depth=2, stop_s=0.3)
    feed.demand(running=True, parts=0)
    assert line.reading.wait(10)
    t0 = time.monotonic()
    items = feed.close()
    assert time.monotonic() - t0 < 5
    faults = [i.fault for i in items if isinstance(i, CameraChange) and i.fault]
    assert faults == ["camera: did not stop within 0.3 s; left behind"]
    line.release.set()
    feed.shutdown()


def test_lanes_hand_parts_back_in_acquisition_order_with_their_own_results(
    tmp_path: Path, detector
) -> None:  # type: ignore[no-untyped-def]
    pipeline, events, db, _ = build(tmp_path, detector, prefetch=2, lanes=2)
    pipeline.begin()
    pipeline.start()
    run_parts(pipeline, events, 12)
    pipeline.shutdown("test over")
    sequences = [p.inspection.sequence for p in events.parts]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    # Each part carries the verdict of its own frame: the serial detector agrees, part by part.
    line = PullableLine(seed=2, width=320, height=240, parts_per_minute=0.0)
    line.open()
    frames = {f.sequence: f for f in (line.read() for _ in range(max(sequences) + 1))}
    for part in events.parts:
        alone = detector.detect(frames[part.inspection.sequence].image)
        assert np.array_equal(part.detections.confidence, alone.confidence)
    with sqlite3.connect(db) as conn:
        logged = [r[0] for r in conn.execute("SELECT sequence FROM inspections ORDER BY id")]
    assert logged == sequences


def test_a_model_error_in_a_lane_is_no_decision_and_the_line_goes_on(tmp_path: Path) -> None:
    from onnx_graphs import write_yolov8_model

    names = ("scratch", "pit")
    nan_model = write_yolov8_model(
        tmp_path / "nan.onnx", [(0, float("nan"), (16, 16, 40, 40))], names
    )
    pipeline, events, db, _ = build(tmp_path, load_detector(nan_model), prefetch=2, lanes=2)
    pipeline.begin()
    pipeline.start()
    run_parts(pipeline, events, 5)
    pipeline.shutdown("test over")
    assert {p.inspection.outcome for p in events.parts} == {Outcome.NO_DECISION}
    with sqlite3.connect(db) as conn:
        whys = {r[0] for r in conn.execute("SELECT why FROM inspections")}
    assert whys == {"model error: model output contains NaN or infinity"}


def test_pipeline_inputs_come_back_to_the_pool_and_change_nothing() -> None:
    detector = load_detector(MODEL)  # its own pool: empty
    line = PullableLine(seed=4, width=320, height=240, parts_per_minute=0.0)
    line.open()
    frames = [line.read().image for _ in range(3)]
    first = detector.prepare_input(frames[0])
    tensor = first.x
    dets = detector.detect_prepared(first)
    assert np.array_equal(dets.confidence, detector.detect(frames[0]).confidence)
    again = detector.prepare_input(frames[1])  # written into the tensor the run gave back
    assert again.x is tensor
    held = detector.prepare_input(frames[2])  # while `again` waits: a tensor of its own
    assert held.x is not tensor
    assert np.array_equal(
        detector.detect_prepared(again).confidence, detector.detect(frames[1]).confidence
    )
    assert np.array_equal(
        detector.detect_prepared(held).confidence, detector.detect(frames[2]).confidence
    )


def test_each_record_carries_the_shift_at_its_time_across_boundaries(detector) -> None:  # type: ignore[no-untyped-def]
    """The inspector keeps the last part's shift; a part after its end (or before its start:
    the clock stepped back) gets the schedule's shift at its own time."""
    from datetime import UTC, datetime

    from station.core.decision import DecisionPolicy
    from station.core.shifts import ShiftSchedule
    from station.pipeline.inspector import PartInspector

    shifts = ShiftSchedule(zone="Europe/Berlin")
    inspector = PartInspector(detector, shifts=shifts)
    names = tuple(detector.info.class_names)
    policy = DecisionPolicy.build(ThresholdSet({}, 0.5), names, None)
    judged = inspector.judge(np.zeros((480, 640, 3), np.uint8), policy, None)
    base = datetime(2026, 3, 29, 3, 59, 59, tzinfo=UTC).timestamp()  # 05:59:59 CEST
    times = [base - 3600, base, base + 1, base + 2, base - 1, base + 8 * 3600]
    got = [inspector.record(None, i, judged, "ts", now_utc=t).shift_id for i, t in enumerate(times)]
    assert got == [shifts.shift_at(t).id for t in times]
    assert got[:4] == [
        "2026-03-28/night",
        "2026-03-28/night",
        "2026-03-29/early",
        "2026-03-29/early",
    ]


def test_a_record_keeps_its_rejecting_classes_and_its_truth_by_them(detector) -> None:  # type: ignore[no-untyped-def]
    """With stains let through (`reject_classes` without stain), a frame labelled only with a
    stain is a good part, and the record says which classes rejected, for its confirmations."""
    from station.core import outcomes
    from station.core.decision import DecisionPolicy
    from station.core.ports import GroundTruth
    from station.pipeline.inspector import PartInspector

    inspector = PartInspector(detector)
    names = tuple(detector.info.class_names)
    policy = DecisionPolicy.build(ThresholdSet({}, 0.5), names, ["scratch", "crack"])
    image = np.zeros((480, 640, 3), np.uint8)
    judged = inspector.judge(image, policy, None)

    def record(label: str, source_names: tuple[str, ...] | None = names) -> Inspection:
        box = np.array([[10, 10, 50, 50]], np.float32)
        ids = np.array([(source_names or names).index(label)], np.int64)
        frame = Frame(image, 1, 0.0, truth=GroundTruth(box, ids, source_names))
        return inspector.record(frame, 1, judged, "ts", rejecting=policy.rejecting)

    stain, crack = record("stain"), record("crack")
    assert (stain.truth_defective, crack.truth_defective) == (False, True)
    # The source's classes are matched by name (its ids need not be the model's) ...
    assert record("stain", ("dent", "stain")).truth_defective is False
    assert record("dent", ("dent", "stain")).truth_defective is True  # not a model class
    # ... and unnamed ids are the model's classes, as station evaluate reads such a sample.
    assert record("stain", None).truth_defective is False
    assert record("crack", None).truth_defective is True
    assert GroundTruth(np.zeros((1, 4), np.float32), np.array([5]), ("a",)).labels() is None
    assert outcomes.reject_classes_of(stain.extra) == {"scratch", "crack"}
    every = DecisionPolicy.build(ThresholdSet({}, 0.5), names, None)
    assert inspector.record(None, 2, judged, "ts", rejecting=every.rejecting).extra == {}
    assert outcomes.confirmed_defective(True, "stain", {"scratch", "crack"}) is False
    assert outcomes.confirmed_defective(True, None, {"scratch", "crack"}) is True
    assert outcomes.confirmed_defective(True, "stain", None) is True  # a log from before
