"""The operator window end to end, offscreen: real camera, real ONNX model, real SQLite log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_graphs import write_yolov8_model
from PySide6.QtCore import QSettings, Qt
from station_window_support import (
    StationHarness,
    build_station,
    stop_and_settle,
    synthetic_line,
)

from station.core.decision import Outcome
from station.core.inspection import threshold_set_id
from station.core.thresholds import ThresholdSet
from station.detectors import load_detector
from station.pipeline.results import CameraState
from station.ui.main_window import GEOMETRY_KEY, MainWindow
from station.ui.view_models.banner import BannerKind
from station.ui.widgets.part_dialog import PartDialog

NAMES = ["crack", "scratch"]
# The offscreen platform says it cannot propagate a window's size hints: not our fault.


def constant_model(tmp_path: Path, score: float, cls: int = 0, name: str = "m.onnx"):
    """A real YOLOv8-layout ONNX model that sees one defect of class `cls` at `score`."""
    path = write_yolov8_model(tmp_path / name, [(cls, score, (16.0, 16.0, 40.0, 40.0))], NAMES)
    return load_detector(path)


def run_until(qtbot, station: StationHarness, n_parts: int) -> None:
    station.vm.start()
    qtbot.waitUntil(lambda: len(station.sink.parts) >= n_parts, timeout=20000)


def test_counters_equal_what_the_log_holds(qtbot, tmp_path: Path) -> None:
    detector = load_detector("heuristic:dark-blobs")
    line = synthetic_line(width=320, height=240)
    station = build_station(qtbot, tmp_path, line, detector, ThresholdSet({}, 0.5))
    run_until(qtbot, station, 25)
    stop_and_settle(qtbot, station)

    counters = station.vm.counters
    logged = station.db_counts()
    assert counters.inspected == sum(logged.values()) >= 25
    assert counters.passed == logged.get("PASS", 0)
    assert counters.rejected == logged.get("REJECT", 0)
    assert counters.no_decision == logged.get("NO DECISION", 0) == 0
    assert counters.passed + counters.rejected == counters.inspected
    assert counters.yield_pct == pytest.approx(100.0 * counters.passed / counters.inspected)
    panel = station.window.counters
    assert panel.values["inspected"].text() == str(counters.inspected)
    assert panel.values["rejected"].text() == str(counters.rejected)
    assert panel.values["yield_pct"].text() == f"{counters.yield_pct:.1f} %"
    # Every part shown was logged first: its row id came back from the log.
    assert all(p.logged and p.row_id for p in station.sink.parts)
    kinds = [k for k, _ in station.events()]
    assert "inspection_started" in kinds and "inspection_stopped" in kinds


def test_forced_reject_shows_banner_reason_and_a_thumbnail_that_opens_the_part(
    qtbot, tmp_path: Path
) -> None:
    detector = constant_model(tmp_path, 0.81)
    thresholds = ThresholdSet({"crack": 0.6}, 0.5)
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, thresholds)
    run_until(qtbot, station, 3)
    assert station.window.banner.state.kind is BannerKind.REJECT
    assert station.window.banner.headline.text() == "REJECT"
    stop_and_settle(qtbot, station)

    last = station.vm.latest_part
    assert last is not None and last.outcome is Outcome.REJECT
    assert station.window.counters.values["rejected"].text() == str(station.vm.counters.rejected)
    thumbs = [b for b in station.window.counters.thumbnails if b.isVisible()]
    assert len(thumbs) == min(4, station.vm.counters.rejected)
    qtbot.mouseClick(thumbs[0], Qt.MouseButton.LeftButton)
    dialogs = station.window.findChildren(PartDialog)
    assert len(dialogs) == 1
    newest = station.vm.recent_rejects[0]
    assert dialogs[0].view.part is newest
    assert newest.inspection.decision.summary == "crack 0.81 ≥ 0.60"
    dialogs[0].close()


def test_reject_banner_reads_the_reason_in_words(qtbot, tmp_path: Path) -> None:
    detector = constant_model(tmp_path, 0.81)
    station = build_station(
        qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({"crack": 0.6}, 0.5)
    )
    station.vm.trigger()
    qtbot.waitUntil(lambda: len(station.sink.parts) == 1, timeout=10000)
    banner = station.window.banner
    assert banner.state.kind is BannerKind.REJECT
    assert banner.headline.text() == "REJECT"
    assert banner.detail.text() == "crack 0.81 ≥ 0.60"
    assert station.db_counts() == {"REJECT": 1}


def test_threshold_change_takes_effect_between_two_parts(qtbot, tmp_path: Path) -> None:
    detector = constant_model(tmp_path, 0.7)
    old = ThresholdSet({"crack": 0.5}, 0.5)
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, old)
    run_until(qtbot, station, 5)

    panel = station.window.thresholds
    panel.set_value("crack", 0.8)
    assert panel.proposal() == {"crack": 0.8}
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: station.vm.thresholds.threshold_for("crack") == 0.8, timeout=10000)
    n_at_change = len(station.sink.parts)
    qtbot.waitUntil(lambda: len(station.sink.parts) >= n_at_change + 5, timeout=20000)
    stop_and_settle(qtbot, station)

    new_id = threshold_set_id(old.with_thresholds({"crack": 0.8}))
    rows = station.db_rows("SELECT threshold_set_id, outcome FROM inspections ORDER BY sequence")
    ids = [r[0] for r in rows]
    switch = ids.index(new_id)
    # Each part was judged entirely under one set: old set → REJECT, new set → PASS ...
    assert all(o == "REJECT" for i, o in rows[:switch] if i == threshold_set_id(old))
    assert all(o == "PASS" for _, o in rows[switch:])
    # ... and the change happened once, between two parts, never back.
    assert set(ids[:switch]) == {threshold_set_id(old)} and set(ids[switch:]) == {new_id}
    assert station.window.banner.headline.text() in ("PASS", "STOPPED")
    assert panel.values["crack"].text() == "0.80"  # the slider shows the live value
    assert not panel.apply_button.isEnabled()
    assert "thresholds_changed" in [k for k, _ in station.events()]
    # Registered where applied: a logged part shows every class's threshold in force.
    assert (new_id,) in station.db_rows("SELECT id FROM threshold_sets")


def test_model_error_on_nan_output_is_no_decision_with_the_reason_and_the_loop_goes_on(
    qtbot, tmp_path: Path
) -> None:
    detector = constant_model(tmp_path, float("nan"))
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({}, 0.5))
    run_until(qtbot, station, 3)
    stop_and_settle(qtbot, station)
    assert {p.outcome for p in station.sink.parts} == {Outcome.NO_DECISION}
    assert station.window.banner.state.kind in (BannerKind.NO_DECISION, BannerKind.IDLE)
    whys = station.db_rows("SELECT DISTINCT why FROM inspections")
    assert whys == [("model error: model output contains NaN or infinity",)]
    assert "model error" in station.window.banner.detail.text() or not station.vm.running
    assert station.vm.counters.no_decision == station.db_counts()["NO DECISION"]
    assert station.vm.counters.passed == 0


def test_camera_lost_is_no_decision_then_inspection_resumes_by_itself(
    qtbot, tmp_path: Path
) -> None:
    source = synthetic_line()
    detector = load_detector("heuristic:dark-blobs")
    station = build_station(qtbot, tmp_path, source, detector, ThresholdSet({}, 0.5))
    run_until(qtbot, station, 5)

    source.unplugged.set()  # the cable is pulled mid-run
    qtbot.waitUntil(lambda: station.vm.camera.state is CameraState.LOST, timeout=10000)
    qtbot.waitUntil(lambda: station.vm.camera.attempt >= 3, timeout=10000)  # retrying
    banner = station.window.banner
    assert banner.state.kind is BannerKind.CAMERA_LOST
    assert banner.headline.text() == "CAMERA LOST"
    assert "reconnecting" in banner.detail.text()
    assert "LOST" in station.window.status.camera.text()
    lost_parts = [p for p in station.sink.parts if p.outcome is Outcome.NO_DECISION]
    assert len(lost_parts) == 1 and lost_parts[0].inspection.decision.why.startswith("camera lost")
    n_before = len(station.sink.parts)

    source.unplugged.clear()  # plugged back in: no operator action
    qtbot.waitUntil(lambda: len(station.sink.parts) >= n_before + 5, timeout=20000)
    assert station.vm.camera.state is CameraState.CONNECTED
    assert station.window.banner.state.kind is not BannerKind.CAMERA_LOST
    stop_and_settle(qtbot, station)

    kinds = [k for k, _ in station.events()]
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_found") == 1
    assert station.db_counts()["NO DECISION"] == 1 == station.vm.counters.no_decision
    assert station.vm.counters.inspected == sum(station.db_counts().values())


def test_wrong_size_and_corrupt_frames_are_no_decision(qtbot, tmp_path: Path) -> None:
    import cv2

    from station.sources.folder import FolderCamera

    folder = tmp_path / "replay"
    folder.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(folder / "a.png"), rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    cv2.imwrite(str(folder / "b.png"), rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
    (folder / "c.png").write_bytes(b"not a png at all")
    detector = constant_model(tmp_path, 0.1)
    source = FolderCamera(folder, loop=False)
    station = build_station(qtbot, tmp_path, source, detector, ThresholdSet({}, 0.5))
    station.vm.start()
    qtbot.waitUntil(lambda: len(station.sink.parts) == 3, timeout=10000)
    qtbot.waitUntil(lambda: not station.vm.running, timeout=10000)  # the replay ended

    outcomes = [p.outcome for p in station.sink.parts]
    assert outcomes == [Outcome.PASS, Outcome.NO_DECISION, Outcome.NO_DECISION]
    whys = [p.inspection.decision.why for p in station.sink.parts]
    assert whys[1] == "wrong-size frame: 80×60, camera delivers 160×120"
    assert whys[2].startswith("corrupt frame: cannot decode image")
    assert station.db_counts() == {"PASS": 1, "NO DECISION": 2}
    assert any("replay finished" in f for f in station.sink.faults)


def test_shortcuts_start_stop_and_trigger(qtbot, tmp_path: Path) -> None:
    detector = constant_model(tmp_path, 0.1)
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({}, 0.5))
    window = station.window
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(station.sink.parts) == 1, timeout=10000)
    assert not station.vm.running
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: station.vm.running and len(station.sink.parts) > 3, timeout=10000)
    assert not window.start_action.isEnabled() and window.stop_action.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: not station.vm.running, timeout=10000)
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled()
    assert window.banner.headline.text() == "STOPPED"


def test_closing_mid_run_stops_the_worker_and_logs_it(qtbot, tmp_path: Path) -> None:
    detector = constant_model(tmp_path, 0.1)
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({}, 0.5))
    run_until(qtbot, station, 3)
    station.window.close()  # no stop first: the conftest fixture fails on a thread left
    assert station.vm.closed
    assert not station.vm._thread.isRunning()
    kinds = [k for k, _ in station.events()]
    assert kinds[-2:] == ["inspection_stopped", "station_stopped"]


def test_window_remembers_its_geometry(qtbot, tmp_path: Path) -> None:
    detector = constant_model(tmp_path, 0.1)
    station = build_station(qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({}, 0.5))
    station.window.move(7, 9)
    station.window.resize(781, 790)
    size = station.window.size()
    assert size.width() == 781  # not the default size
    station.window.close()
    settings = QSettings(str(station.settings_path), QSettings.Format.IniFormat)
    assert settings.value(GEOMETRY_KEY) is not None
    assert settings.allKeys() == [GEOMETRY_KEY]  # the geometry and nothing else

    window = MainWindow(station.vm, settings)  # a closed view-model is fine for layout
    qtbot.addWidget(window)
    assert window.width() == size.width()  # restored, not the default 1560 × 940
    assert window.height() <= size.height()  # (clamped to the 800-pixel offscreen screen)


def test_a_part_the_log_refuses_is_no_decision_and_the_fault_is_shown(
    qtbot, tmp_path: Path
) -> None:
    import sqlite3

    detector = constant_model(tmp_path, 0.1)  # every part would pass
    station = build_station(
        qtbot, tmp_path, synthetic_line(), detector, ThresholdSet({}, 0.5), busy_timeout_s=0.1
    )
    station.vm.trigger()
    qtbot.waitUntil(lambda: len(station.sink.parts) == 1, timeout=10000)
    other = sqlite3.connect(station.db_path, isolation_level=None)  # e.g. a database browser
    other.execute("BEGIN EXCLUSIVE")
    try:
        station.vm.trigger()
        qtbot.waitUntil(lambda: len(station.sink.parts) == 2, timeout=10000)
    finally:
        other.execute("ROLLBACK")
        other.close()
    refused = station.sink.parts[1]
    assert refused.outcome is Outcome.NO_DECISION and not refused.logged
    assert refused.inspection.decision.why == "log unavailable: part not recorded"
    assert station.window.banner.state.kind is BannerKind.NO_DECISION
    assert station.window.status.fault.isVisible()
    assert "locked by another program" in station.window.status.fault.text()

    station.vm.trigger()  # the log is back: the next part is logged and passes
    qtbot.waitUntil(lambda: len(station.sink.parts) == 3, timeout=10000)
    assert station.sink.parts[2].outcome is Outcome.PASS and station.sink.parts[2].logged
    assert station.db_counts() == {"PASS": 2}


def test_camera_configuration_error_is_a_fault_the_operator_sees(qtbot, tmp_path: Path) -> None:
    """Not retried: the banner and the status line say what the camera refused."""
    from station.core.errors import StationError
    from station.core.ports import CameraInfo
    from station.sources.synthetic import SyntheticCamera

    class RefusingCamera(SyntheticCamera):
        opens = 0

        def open(self) -> CameraInfo:
            self.opens += 1
            raise StationError("[camera] pixel_format = 'BayerRG8': camera cam-1 offers Mono8")

    camera = RefusingCamera(seed=1, parts_per_minute=0.0)
    detector = load_detector("heuristic:dark-blobs")
    station = build_station(qtbot, tmp_path, camera, detector, ThresholdSet({}, 0.5))
    station.vm.start()
    qtbot.waitUntil(lambda: station.window.banner.headline.text() == "CAMERA FAULT", timeout=10000)
    assert "offers Mono8" in station.window.banner.state.detail
    assert "FAULT" in station.window.status.camera.text()
    assert not station.vm.running
    qtbot.wait(300)  # no reconnect attempts follow
    assert camera.opens == 1
    station.window.grab().save(str(tmp_path / "camera_fault.png"))
    assert ("camera_fault", station.sink.faults[0]) in station.events()
