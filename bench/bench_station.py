"""station: the operator window's inspection loop, end to end, offscreen.

The real window on the synthetic line (640x480, no pacing) with the shipped
model and a real SQLite log: camera → detect → decide → durable log → signal →
view-model → window. Figures:

- parts per second through the whole loop (the line's pace must stay below it);
- decision-to-window latency p95: from the part's decision (`Inspection.time_utc`,
  taken before the log commit) to the view-model handling it on the GUI thread;
- parts still queued for the GUI when the run stops (must be ~0: the GUI keeps up).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import Figure, Skip

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
RUN_S = 8.0
LINE_PPS = 60 / 60.0  # the default recipe's 60 parts per minute


def run() -> list[Figure]:
    model = ROOT / "models" / "defects.onnx"
    if not model.exists():
        raise Skip(f"{model} not found")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from station.core.thresholds import ThresholdSet
    from station.detectors import load_detector
    from station.pipeline import PipelineSetup
    from station.sources.synthetic import SyntheticCamera
    from station.storage.log import SqliteInspectionLog
    from station.ui.main_window import MainWindow
    from station.ui.view_models.station_vm import StationContext, StationViewModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="bench-station-"))
    detector = load_detector(model)
    log = SqliteInspectionLog(tmp / "log.sqlite3")
    setup = PipelineSetup(
        SyntheticCamera(parts_per_minute=0.0),
        detector,
        ThresholdSet({}, 0.5),
        None,
        open_log=lambda: log,
    )
    context = StationContext("bench", "", "bench", detector.info, "synthetic")
    vm = StationViewModel(setup, context)
    window = MainWindow(vm, QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1600, 1000)
    window.show()
    latencies: list[float] = []
    vm.part_inspected.connect(lambda p: latencies.append(time.time() - p.inspection.time_utc))
    vm.start()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < RUN_S:
        app.processEvents()
        time.sleep(0.001)
    handled = len(latencies)
    elapsed = time.perf_counter() - t0
    vm.stop()
    t1 = time.perf_counter()
    while vm.running and time.perf_counter() - t1 < 10:
        app.processEvents()
    queued = len(latencies) - handled
    window.close()
    if handled < 3:
        raise Skip(f"only {handled} parts in {RUN_S:g} s")
    rate = handled / elapsed
    p95_ms = float(np.percentile(np.asarray(latencies[2:]) * 1e3, 95))
    return [
        Figure("station_parts_per_s", rate, "parts/s", f">= {LINE_PPS:g}", rate >= LINE_PPS),
        Figure("station_decision_to_window_p95", p95_ms, "ms", "<= 100", p95_ms <= 100),
        Figure("station_parts_queued_at_stop", float(queued), "parts", "<= 1", queued <= 1),
    ]
