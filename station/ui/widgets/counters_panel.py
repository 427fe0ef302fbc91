"""Shift counters in large figures, and the last rejects as thumbnails that open the part."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from station.core.counters import CounterSnapshot
from station.pipeline.results import PartResult
from station.ui.widgets.live_view import render_thumbnail

THUMB = QSize(120, 90)
FIELDS: tuple[tuple[str, str], ...] = (
    ("inspected", "Inspected"),
    ("passed", "Passed"),
    ("rejected", "Rejected"),
    ("no_decision", "No decision"),
    ("yield_pct", "Yield"),
    ("parts_per_min", "Parts/min"),
)


def format_counter(snapshot: CounterSnapshot, name: str) -> str:
    value = getattr(snapshot, name)
    if value is None:
        return "–"
    if name == "yield_pct":
        return f"{value:.1f} %"
    if name == "parts_per_min":
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return f"{value:d}"


class CountersPanel(QFrame):
    """Displays a CounterSnapshot and the recent rejects; `part_requested` opens one."""

    part_requested = Signal(object)  # PartResult

    def __init__(
        self, class_names: Sequence[str], thumbnails: int = 4, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._class_names = tuple(class_names)
        self.setObjectName("CountersPanel")
        self.setStyleSheet(
            "#CountersPanel QLabel[role='value'] { font-size: 40px; font-weight: 700; }"
            "#CountersPanel QLabel[role='caption'] { font-size: 16px; color: #5f6368; }"
            "#CountersPanel QLabel[role='title'] { font-size: 18px; font-weight: 600; }"
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        for i, (name, caption) in enumerate(FIELDS):
            value = QLabel("0")
            value.setProperty("role", "value")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cap = QLabel(caption)
            cap.setProperty("role", "caption")
            cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row, col = divmod(i, 3)
            grid.addWidget(value, row * 2, col)
            grid.addWidget(cap, row * 2 + 1, col)
            self.values[name] = value
        self.values["rejected"].setStyleSheet("color: #c5221f;")
        self.values["no_decision"].setStyleSheet("color: #b06000;")
        self.values["passed"].setStyleSheet("color: #188038;")

        title = QLabel("Last rejects (click to open)")
        title.setProperty("role", "title")
        strip = QHBoxLayout()
        strip.setSpacing(6)
        self._empty = QLabel("none yet")
        self._empty.setProperty("role", "caption")
        self._empty.setMinimumHeight(THUMB.height() + 8)
        strip.addWidget(self._empty)
        # A fixed pool of buttons, refilled in place: no widget churn at line speed.
        self.thumbnails: list[QToolButton] = []
        self._parts: list[PartResult | None] = []
        for i in range(thumbnails):
            button = QToolButton(self)
            button.setIconSize(THUMB)
            button.setFixedSize(THUMB.width() + 8, THUMB.height() + 8)
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setVisible(False)
            button.clicked.connect(lambda _=False, i=i: self._open(i))
            strip.addWidget(button)
            self.thumbnails.append(button)
            self._parts.append(None)
        strip.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addWidget(title)
        layout.addLayout(strip)
        self.show_counters(CounterSnapshot())

    def show_counters(self, snapshot: CounterSnapshot) -> None:
        for name, label in self.values.items():
            label.setText(format_counter(snapshot, name))

    def show_rejects(self, parts: Sequence[PartResult]) -> None:
        """Newest first; as many as there are thumbnail buttons."""
        self._empty.setVisible(not parts)
        for i, button in enumerate(self.thumbnails):
            part = parts[i] if i < len(parts) else None
            if part is self._parts[i]:
                continue
            self._parts[i] = part
            button.setVisible(part is not None)
            if part is None:
                continue
            button.setIcon(QIcon(render_thumbnail(part, self._class_names, THUMB)))
            ins = part.inspection
            button.setToolTip(f"part {ins.sequence}: {ins.decision.summary}")

    def _open(self, index: int) -> None:
        part = self._parts[index]
        if part is not None:
            self.part_requested.emit(part)
