"""Screenshots of the operator window for the README: PASS, REJECT, and camera lost.

Runs the real station (default recipe: synthetic line + shipped model) on a
screen, waits for a passed part and a rejected part, then pulls the camera's
cable and waits for the reconnect attempts; each state is saved with
`window.grab()`. Needs a display; on a headless machine:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py

Writes assets/station_pass.png, assets/station_reject.png and
assets/station_camera_lost.png (override the folder with --out).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from station.app import compose
from station.app_window import build_window
from station.core.decision import Outcome
from station.core.ports import CameraInfo, CameraLost, Frame, FrameSource
from station.pipeline.results import CameraState, PartResult
from station.ui.widgets.live_view import split_detections

ROOT = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1600, 1000)
NEAR_MISS_WAIT_S = 90.0
"""For this long, wait for a passed part that shows a near miss (a thin box)."""


class Cable:
    """Between the camera and the station: `pull()` makes the camera unreachable."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self.pulled = threading.Event()

    def open(self) -> CameraInfo:
        if self.pulled.is_set():
            raise CameraLost("no device answers")
        return self._source.open()

    def read(self, timeout_s: float = 2.0) -> Frame:
        if self.pulled.is_set():
            raise CameraLost(f"no frame within {timeout_s:g} s")
        return self._source.read(timeout_s)

    def close(self) -> None:
        self._source.close()


def has_near_miss(part: PartResult) -> bool:
    _, near = split_detections(part.detections, part.thresholds)
    return bool(near.any())


class Director:
    """Waits for each wanted state, grabs the window, then moves on to the next."""

    def __init__(self, window: Any, cable: Cable, out: Path, timeout_s: float) -> None:
        self.window = window
        self.vm = window.vm
        self.cable = cable
        self.out = out
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.step = "pass"
        self.saved: list[Path] = []
        self.error = ""
        self.vm.part_inspected.connect(self.on_part)
        self.vm.camera_changed.connect(self.on_camera)
        self.watchdog = QTimer()
        self.watchdog.timeout.connect(self.check_time)
        self.watchdog.start(500)

    def grab(self, name: str) -> None:
        self.window.live_view.set_part(self.vm.latest_part)
        QApplication.processEvents()
        path = self.out / name
        if not self.window.grab().save(str(path)):
            self.fail(f"could not write {path}")
        self.saved.append(path)
        print(f"saved {path}")

    def on_part(self, part: PartResult) -> None:
        patient = time.monotonic() < self.started + NEAR_MISS_WAIT_S
        if (
            self.step == "pass"
            and part.outcome is Outcome.PASS
            and (has_near_miss(part) or not patient)
        ):
            self.step = "reject"
            QTimer.singleShot(50, lambda: self.grab("station_pass.png"))
        elif self.step == "reject" and part.outcome is Outcome.REJECT:
            self.step = "lost"
            QTimer.singleShot(50, lambda: self.grab("station_reject.png"))
            QTimer.singleShot(1500, self.cable.pulled.set)

    def on_camera(self, status: Any) -> None:
        if self.step == "lost" and status.state is CameraState.LOST and status.attempt >= 3:
            self.step = "done"
            QTimer.singleShot(50, lambda: self.grab("station_camera_lost.png"))
            QTimer.singleShot(300, self.cable.pulled.clear)
            QTimer.singleShot(1500, lambda: self.window.close_with_reason("screenshots taken"))

    def check_time(self) -> None:
        if time.monotonic() > self.deadline and self.step != "done":
            self.fail(f"timed out waiting for the {self.step} state")

    def fail(self, message: str) -> None:
        self.error = message
        self.window.close_with_reason(f"screenshots failed: {message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, help="recipe (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for all three")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp(prefix="station-screenshots-"))
    parts = compose(args.recipe, scratch / "inspections.sqlite3")
    cable = Cable(parts.source)
    parts = replace(parts, source=cable)
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = build_window(parts, autostart=True, settings=settings)
    window.resize(*WINDOW_SIZE)
    window.show()
    director = Director(window, cable, args.out, args.timeout)
    app.exec()
    if director.error:
        print(f"screenshots: error: {director.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
