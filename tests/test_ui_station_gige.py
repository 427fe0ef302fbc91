"""The operator window on a real GigE Vision camera (Aravis' fake camera on loopback).

The camera process is killed mid-run, as a pulled cable would be, and started again:
the window must show CAMERA LOST, log the part in progress as NO DECISION, and resume
inspecting by itself once the camera answers again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gige_fixture import FakeGigECamera, fake_gige_camera
from onnx_graphs import write_yolov8_model
from station_window_support import build_station, stop_and_settle

from station.core.decision import Outcome
from station.core.thresholds import ThresholdSet
from station.detectors import load_detector
from station.pipeline.results import CameraState
from station.sources.gige import GigECamera
from station.ui.view_models.banner import BannerKind

__all__ = ["fake_gige_camera"]  # the fixture, imported for pytest

pytestmark = pytest.mark.gige


def test_killed_camera_shows_camera_lost_then_inspection_resumes(
    qtbot, tmp_path: Path, fake_gige_camera: FakeGigECamera
) -> None:
    model = write_yolov8_model(tmp_path / "m.onnx", [(0, 0.2, (8, 8, 20, 20))], ["crack"])
    source = GigECamera(
        camera_id=fake_gige_camera.camera_id, region=(0, 0, 160, 120), frame_rate=50.0
    )
    station = build_station(qtbot, tmp_path, source, load_detector(model), ThresholdSet({}, 0.5))
    station.vm.start()
    qtbot.waitUntil(lambda: len(station.sink.parts) >= 5, timeout=20000)
    assert station.vm.camera.state is CameraState.CONNECTED
    assert "160×120" in station.window.status.camera.text()

    fake_gige_camera.kill()
    qtbot.waitUntil(lambda: station.vm.camera.state is CameraState.LOST, timeout=20000)
    assert station.window.banner.state.kind is BannerKind.CAMERA_LOST
    n_lost = len(station.sink.parts)
    assert station.sink.parts[-1].outcome is Outcome.NO_DECISION
    assert station.sink.parts[-1].inspection.decision.why.startswith("camera lost")

    fake_gige_camera.start()
    qtbot.waitUntil(lambda: len(station.sink.parts) >= n_lost + 5, timeout=30000)
    assert station.vm.camera.state is CameraState.CONNECTED
    stop_and_settle(qtbot, station)

    kinds = [k for k, _ in station.events()]
    assert kinds.count("camera_lost") == 1 and kinds.count("camera_found") == 1
    assert station.vm.counters.inspected == sum(station.db_counts().values())
    assert station.db_counts()["NO DECISION"] == station.vm.counters.no_decision >= 1


def test_a_region_outside_the_sensor_is_a_camera_fault_not_retried(
    qtbot, tmp_path: Path, fake_gige_camera: FakeGigECamera
) -> None:
    """The real camera refuses the recipe: inspection stops with the camera's words."""
    model = write_yolov8_model(tmp_path / "m.onnx", [(0, 0.2, (8, 8, 20, 20))], ["crack"])
    source = GigECamera(camera_id=fake_gige_camera.camera_id, region=(2000, 0, 100, 100))
    station = build_station(qtbot, tmp_path, source, load_detector(model), ThresholdSet({}, 0.5))
    station.vm.start()
    qtbot.waitUntil(lambda: station.vm.camera.state is CameraState.FAULT, timeout=20000)
    qtbot.waitUntil(lambda: not station.vm.running, timeout=5000)
    assert station.window.banner.headline.text() == "CAMERA FAULT"
    assert "outside the 2048x2048 sensor" in station.window.banner.state.detail
    qtbot.wait(500)  # no reconnect attempt follows
    assert [c.state for c in station.sink.cameras].count(CameraState.CONNECTING) == 1
    assert not station.sink.parts
    kinds = [k for k, _ in station.events()]
    assert kinds.count("camera_fault") == 1 and "camera_lost" not in kinds
