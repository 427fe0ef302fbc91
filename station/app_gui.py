"""`station run`: the operator window until it is closed, and opening another recipe.

SIGINT and SIGTERM close the window the way the operator would, so the stop
is logged and no thread is left running. A recipe opened from the File menu
replaces the running station (`StationApp`).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from station.app import compose
from station.app_window import build_window
from station.core.errors import StationError

SIGNAL_POLL_MS = 200
"""How often the Qt loop hands control to Python so a SIGINT/SIGTERM handler can run."""


class StationApp:
    """Holds the current window; a recipe opened from the File menu replaces it."""

    def __init__(
        self,
        *,
        db_path: Path | None,
        autostart: bool | None,
        settings: Any = None,
        load_tuning_sample_at_start: bool = True,
        tuning_cache_dir: Path | None = None,
    ):
        self.db_path = db_path
        self.autostart = autostart
        self.settings = settings
        self.load_tuning_sample_at_start = load_tuning_sample_at_start
        self.tuning_cache_dir = tuning_cache_dir
        self.window: Any = None

    def open(self, recipe_path: Path | None) -> Any:
        """Open `recipe_path` in a new window. A recipe that is refused (bad TOML, model) leaves
        the current window running; once it checks out, the current window closes its camera
        and log before the new ones are opened (one writer per log, one user per camera). If
        opening them fails then, the previous recipe is opened again and the error raised."""
        previous = self.window
        geometry = previous.saveGeometry() if previous is not None else None

        def close_previous() -> None:
            if previous is not None and self.window is previous:
                previous.close_with_reason(f"recipe changed to {recipe_path}")
                self.window = None

        try:
            parts = compose(recipe_path, self.db_path, before_opening=close_previous)
        except StationError:
            if previous is not None and self.window is None:
                self._reopen(Path(previous.vm.context.recipe_path), geometry)
            raise
        autostart = parts.recipe.autostart if self.autostart is None else self.autostart
        self.window = build_window(
            parts,
            autostart=autostart,
            settings=self.settings,
            load_tuning_sample_at_start=self.load_tuning_sample_at_start,
            tuning_cache_dir=self.tuning_cache_dir,
        )
        self.window.open_recipe_requested.connect(self._open_from_menu)
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        self.window.show()
        return self.window

    def _reopen(self, recipe_path: Path, geometry: Any) -> None:
        try:
            self.open(recipe_path)
        except StationError as exc:
            print(f"station run: error: cannot reopen {recipe_path}: {exc}", file=sys.stderr)
            return
        if geometry is not None:
            self.window.restoreGeometry(geometry)

    def _open_from_menu(self, path: str) -> None:
        try:
            self.open(Path(path))
        except StationError as exc:
            show_error(f"Cannot open recipe {path}", str(exc), parent=self.window)

    def close(self, reason: str) -> None:
        if self.window is not None:
            self.window.close_with_reason(reason)


def gui_available() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() not in ("offscreen", "minimal", "")


def show_error(title: str, message: str, parent: Any = None) -> None:
    """A modal dialog naming the problem, when there is a screen to show it on."""
    if not gui_available():
        return
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(parent, title, message)


def _display_problem() -> str | None:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform != "linux":
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display: set DISPLAY, or run without a window: station run --headless"


@contextmanager
def closing_on_signals(close: Callable[[str], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call `close(signal name)` on the GUI thread.

    Python runs signal handlers only when the interpreter gets control, which
    a C++ event loop does not give; a short timer lets it in.
    """
    from PySide6.QtCore import QTimer

    def handler(signum: int, _frame: FrameType | None) -> None:
        QTimer.singleShot(0, lambda: close(signal.Signals(signum).name))

    poke = QTimer()
    poke.timeout.connect(lambda: None)
    poke.start(SIGNAL_POLL_MS)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        poke.stop()
        for s, h in previous.items():
            signal.signal(s, h)


def run(recipe_path: Path | None, db_path: Path | None, autostart: bool | None) -> int:
    """`station run`: the operator window until it is closed (or SIGINT/SIGTERM). Exit code."""
    problem = _display_problem()
    if problem is not None:
        print(f"station run: error: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "station"])
    qapp.setApplicationName("Inspection station")
    station = StationApp(db_path=db_path, autostart=autostart)
    # Handlers first: a signal while the station opens (log, worker) closes it once the loop runs.
    with closing_on_signals(station.close):
        try:
            station.open(recipe_path)
        except StationError as exc:
            print(f"station run: error: {exc}", file=sys.stderr)
            show_error("The station cannot start", str(exc))
            return 2
        qapp.exec()
    return 0
