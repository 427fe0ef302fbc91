"""Building the real operator window on real parts for tests: camera, ONNX model, SQLite log.

`StationHarness` wires a real source, a real detector and a real
SqliteInspectionLog (a file in tmp_path) into the real view-model and main
window, offscreen. Its `sink` is a QObject on the GUI thread that collects
every part the window was told about, so tests wait with `qtbot.waitUntil`
instead of `waitSignal` across threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Slot

from station.core.ports import CameraInfo, CameraLost, Detector, Frame, FrameSource
from station.core.thresholds import ThresholdSet
from station.pipeline import BackoffPolicy, CameraStatus, PartResult, PipelineSetup
from station.sources.synthetic import SyntheticCamera
from station.storage.log import SqliteInspectionLog
from station.ui.main_window import MainWindow
from station.ui.view_models.station_vm import StationContext, StationViewModel

FAST_BACKOFF = BackoffPolicy(first_s=0.05, max_s=0.1)


class ResultSink(QObject):
    """Lives on the GUI thread; records what the view-model handed to the window."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[PartResult] = []
        self.cameras: list[CameraStatus] = []
        self.faults: list[str] = []

    @Slot(object)
    def on_part(self, part: PartResult) -> None:
        self.parts.append(part)

    @Slot(object)
    def on_camera(self, status: CameraStatus) -> None:
        self.cameras.append(status)

    @Slot(str)
    def on_fault(self, message: str) -> None:
        self.faults.append(message)


class UnpluggableLine(SyntheticCamera):
    """The real synthetic line camera with a cable that a test can pull and plug back in.

    While `unplugged` is set, `read` and `open` raise CameraLost, as a real
    camera driver does when its device is gone.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unplugged = threading.Event()
        self.opens = 0

    def open(self) -> CameraInfo:
        if self.unplugged.is_set():
            raise CameraLost("no device answers (cable pulled)")
        self.opens += 1
        return super().open()

    def read(self, timeout_s: float = 2.0) -> Frame:
        if self.unplugged.is_set():
            raise CameraLost(f"no frame within {timeout_s} s")
        return super().read(timeout_s)


def synthetic_line(**kwargs: Any) -> UnpluggableLine:
    """Small frames, no pacing: parts as fast as the detector takes them."""
    options = {"seed": 3, "width": 160, "height": 120, "parts_per_minute": 0.0, **kwargs}
    return UnpluggableLine(**options)


@dataclass
class StationHarness:
    window: MainWindow
    vm: StationViewModel
    sink: ResultSink
    db_path: Path
    source: FrameSource
    detector: Detector
    settings_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def db_counts(self) -> dict[str, int]:
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute("SELECT outcome, count(*) FROM inspections GROUP BY outcome")
            return {outcome: n for outcome, n in rows}

    def db_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as conn:
            return list(conn.execute(sql, args))

    def events(self) -> list[tuple[str, str]]:
        return [(k, m) for k, m in self.db_rows("SELECT kind, message FROM events ORDER BY id")]


def build_station(
    qtbot: Any,
    tmp_path: Path,
    source: FrameSource,
    detector: Detector,
    thresholds: ThresholdSet,
    reject_classes: tuple[str, ...] | None = None,
    read_timeout_s: float = 0.5,
    busy_timeout_s: float = 2.0,
) -> StationHarness:
    db_path = tmp_path / "log.sqlite3"
    log = SqliteInspectionLog(db_path, busy_timeout_s=busy_timeout_s)
    setup = PipelineSetup(
        source=source,
        detector=detector,
        thresholds=thresholds,
        reject_classes=reject_classes,
        open_log=lambda: log,
        station_id="test-station",
        product="test part",
        read_timeout_s=read_timeout_s,
        backoff=FAST_BACKOFF,
    )
    context = StationContext(
        recipe_name="test.toml",
        recipe_path=str(tmp_path / "test.toml"),
        product="test part",
        model=detector.info,
        camera_kind="synthetic",
        db_path=str(db_path),
    )
    vm = StationViewModel(setup, context)
    sink = ResultSink()
    vm.part_inspected.connect(sink.on_part)
    vm.camera_changed.connect(sink.on_camera)
    vm.fault_raised.connect(sink.on_fault)
    settings_path = tmp_path / "settings.ini"
    window = MainWindow(vm, QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return StationHarness(window, vm, sink, db_path, source, detector, settings_path)


def stop_and_settle(qtbot: Any, station: StationHarness) -> None:
    """Stop inspecting and wait until the window has every part the worker produced.

    Worker signals arrive in order, so once `running` reads False here, every
    part inspected before the stop has been handled by the view-model.
    """
    station.vm.stop()
    qtbot.waitUntil(lambda: not station.vm.running, timeout=10000)
