"""spinning: onnxruntime `allow_spinning` on and off, headless and with the window up.

Headless: parts/s of the headless pipeline (shipped model, SQLite log, 640x480
frames from memory). Window: the real operator window offscreen with its worker
running the same pipeline: parts/s, and how late a 10 ms GUI timer fires (p95), the
operator's feel of the window. Rounds alternate spin off / on so load hits both
alike; the best round of each is reported. The station's choice per mode lives in
`station.detectors.session_options.SPIN_BY_MODE`.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_pipeline import MemoryLine, _frames
from benchlib import SHIPPED_MODEL as MODEL
from benchlib import Figure, Skip

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
PARTS = 300
WINDOW_S = 5.0
ROUNDS = 2


def _detector(spin: bool, mode: str):  # type: ignore[no-untyped-def]
    from station.detectors import load_detector
    from station.detectors.session_options import RunMode, SessionOptions

    chosen = SessionOptions.choose(RunMode(mode), lanes=None)  # as the live line runs
    options = SessionOptions(
        chosen.intra_op_threads, spin, chosen.mode, chosen.threads_from, chosen.lanes
    )
    return load_detector(MODEL, session=options)


def _setup(detector, frames, db: Path):  # type: ignore[no-untyped-def]
    from station.core.thresholds import ThresholdSet
    from station.pipeline import PipelineSetup
    from station.storage.log import SqliteInspectionLog

    log = SqliteInspectionLog(db)
    lanes = int(dict(detector.info.session_options).get("lanes", "1"))
    return PipelineSetup(
        MemoryLine(frames), detector, ThresholdSet({}, 0.5), None, lambda: log, lanes=lanes
    )


def _headless(spin: bool, frames, tmp: Path) -> float:  # type: ignore[no-untyped-def]
    from station.pipeline.headless import HeadlessRunner

    setup = _setup(_detector(spin, "headless"), frames, tmp / f"h{spin}{time.time()}.db")
    return HeadlessRunner(setup, max_parts=PARTS, status=io.StringIO()).run().parts_per_s


def _window(spin: bool, frames, tmp: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from station.ui.main_window import MainWindow
    from station.ui.view_models.station_vm import StationContext, StationViewModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    detector = _detector(spin, "window")
    setup = _setup(detector, frames, tmp / f"w{spin}{time.time()}.db")
    vm = StationViewModel(setup, StationContext("bench", "", "bench", detector.info, "memory"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(vm, settings)
    window.resize(1600, 1000)
    window.show()
    parts: list[float] = []
    vm.part_inspected.connect(lambda p: parts.append(time.perf_counter()))
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append(max(0.0, (now - last[0]) * 1e3 - 10.0))
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    vm.start()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < WINDOW_S:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    window.close()
    app.processEvents()
    done = [t for t in parts if t >= t0 + 1.0]  # after a second of warm-up
    rate = len(done) / max(1e-9, (done[-1] - done[0])) if len(done) > 1 else 0.0
    return rate, float(np.percentile(late[50:] or [0.0], 95))


def run() -> list[Figure]:
    if not MODEL.is_file():
        raise Skip(f"{MODEL} is absent")
    frames = _frames()
    tmp = Path(tempfile.mkdtemp(prefix="bench-spinning-"))
    headless: dict[bool, list[float]] = {False: [], True: []}
    window: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(ROUNDS):
        for spin in (False, True):
            headless[spin].append(_headless(spin, frames, tmp))
            window[spin].append(_window(spin, frames, tmp))
            print(
                f"[bench] spinning round {r + 1} spin={int(spin)}: headless "
                f"{headless[spin][-1]:.1f} parts/s; window {window[spin][-1][0]:.1f} parts/s, "
                f"GUI timer late p95 {window[spin][-1][1]:.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    figs = []
    for spin in (False, True):
        tag = "on" if spin else "off"
        figs.append(Figure(f"spinning.headless_{tag}", max(headless[spin]), "parts/s"))
        figs.append(Figure(f"spinning.window_{tag}", max(w[0] for w in window[spin]), "parts/s"))
        figs.append(
            Figure(f"spinning.window_gui_late_p95_{tag}", min(w[1] for w in window[spin]), "ms")
        )
    return figs
