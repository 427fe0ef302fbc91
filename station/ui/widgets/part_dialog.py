"""One part opened from the strip of recent rejects: the frame, its boxes, and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from station.pipeline.results import PartResult
from station.ui.widgets.live_view import LiveView


class PartDialog(QDialog):
    def __init__(
        self, part: PartResult, class_names: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        ins = part.inspection
        self.setWindowTitle(f"Part {ins.sequence} — {ins.outcome.value}")
        self.view = LiveView(class_names, parent=self)
        self.view.set_part(part)
        when = datetime.fromtimestamp(ins.time_utc).strftime("%Y-%m-%d %H:%M:%S")
        text = QLabel(
            f"<b>{ins.outcome.value}</b>: {ins.decision.summary or '–'}<br>"
            f"{when} · shift {ins.shift_id or '–'} · thresholds {ins.threshold_set_id} · "
            f"model {ins.model_sha256[:8]} · inference {ins.latency_ms:.1f} ms"
        )
        text.setStyleSheet("font-size: 18px;")
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.resize(900, 760)


class LoggedPartDialog(QDialog):
    """A logged part read back from the log (PartDetailView), with the confirmation buttons."""

    def __init__(self, view: QWidget, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.view = view
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(view, 1)
        layout.addWidget(buttons)
        self.resize(1100, 700)
