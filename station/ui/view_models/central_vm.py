"""The central-database line of the status bar: the forwarder's backlog, read on a timer.

The forwarder runs on its own thread and publishes a status snapshot; this
view-model reads it on the GUI thread every `interval_ms` and emits only
when the text changes (no signal ever crosses threads).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

# A backlog older than this is worth the operator's attention (a server down, a cable out).
STALE_AFTER_S = 60.0


def level_of(status: Any) -> str:
    """ "ok", "warn" (behind for a while, unreachable) or "bad" (rows quarantined)."""
    if status.quarantined:
        return "bad"
    if not status.connected and status.last_error:
        return "warn"
    if status.rows_behind and (status.oldest_age_s or 0.0) > STALE_AFTER_S:
        return "warn"
    return "ok"


class CentralStatusViewModel(QObject):
    """Publishes `changed(text, level, details)` from a `CentralForwarder`'s status."""

    changed = Signal(str, str, str)

    def __init__(self, forwarder: Any, interval_ms: int = 1000, parent: QObject | None = None):
        super().__init__(parent)
        self._forwarder = forwarder
        self._last: tuple[str, str, str] | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(interval_ms)

    def refresh(self) -> None:
        status = self._forwarder.status
        details = f"{status.target} as station {status.station_id}"
        if status.last_error:
            details += f"\n{status.last_error}"
        now = (status.text(), level_of(status), details)
        if now != self._last:
            self._last = now
            self.changed.emit(*now)

    def close(self) -> None:
        """Stop reading and stop the forwarder (what is unsent stays queued in the journal)."""
        self._timer.stop()
        self._forwarder.close()
