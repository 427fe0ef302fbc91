"""The PLC line of the status bar: clients, last trigger, heartbeat, read on a timer.

The PLC link runs on its own threads; this view-model reads its stats on the GUI
thread every `interval_ms` and emits only when the words change (no signal ever
crosses threads).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal


class PlcStatusViewModel(QObject):
    """Publishes `changed(text, level)` from a PLC output's `stats()`."""

    changed = Signal(str, str)

    def __init__(self, plc: Any, interval_ms: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        self._plc = plc
        self._last: tuple[str, str] | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(interval_ms)

    def refresh(self) -> None:
        stats = self._plc.stats()
        now = (stats.text(), stats.level())
        if now != self._last:
            self._last = now
            self.changed.emit(*now)

    def close(self) -> None:
        """Stop reading (the pipeline closes the link itself at shutdown)."""
        self._timer.stop()
