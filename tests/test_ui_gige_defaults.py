"""The operator window on the fake GigE camera at its defaults (512 x 512 Mono8, 25 fps,
nothing else set, as a new user's recipe has it): every part before a pulled cable got a
real decision (with Aravis' default socket buffer nearly all were NO DECISION)."""

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

__all__ = ["fake_gige_camera"]  # the fixture, imported for pytest

pytestmark = pytest.mark.gige
PARTS = 40


def test_parts_before_a_fault_got_a_real_decision(
    qtbot, tmp_path: Path, fake_gige_camera: FakeGigECamera
) -> None:
    model = write_yolov8_model(tmp_path / "m.onnx", [(0, 0.2, (8, 8, 20, 20))], ["crack"])
    source = GigECamera(camera_id=fake_gige_camera.camera_id, pixel_format="Mono8")
    station = build_station(qtbot, tmp_path, source, load_detector(model), ThresholdSet({}, 0.5))
    station.vm.start()
    qtbot.waitUntil(lambda: len(station.sink.parts) >= PARTS, timeout=60000)
    assert "512×512" in station.window.status.camera.text()
    fake_gige_camera.kill()
    qtbot.waitUntil(lambda: station.vm.camera.state is CameraState.LOST, timeout=20000)
    stop_and_settle(qtbot, station)

    outcomes = [p.outcome for p in station.sink.parts]
    first_lost = next(
        i for i, p in enumerate(station.sink.parts) if "camera lost" in p.inspection.decision.why
    )
    before = outcomes[:first_lost]
    real = sum(o is not Outcome.NO_DECISION for o in before)
    assert len(before) >= PARTS and real / len(before) >= 0.99, station.db_counts()
