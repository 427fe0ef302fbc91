"""The shadow model's agreement with production this shift, and its disagreements.

Display only: the counts are the shift report's (`station.core.shadow` defines them)
and the disagreements the log's. Double-clicking one opens the part, where the operator
confirms it (good or defective): confirmed disagreements are labeled parts for
`station compare`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from station.core.shadow import KEYS
from station.storage.shadow import Disagreement

CAPTIONS = {
    "parts": "Parts judged",
    "agree": "Agree",
    "now_rejected_would_pass": "Rejected now, would pass",
    "now_passed_would_reject": "Passed now, would reject",
    "skipped": "Skipped (busy)",
}
COLUMNS = ("Time", "Part", "Now", "Shadow would", "Shadow's reasons", "Confirmed")


class ShadowBox(QGroupBox):
    """Hidden until the log holds shadow results for the shift."""

    part_requested = Signal(int)  # row id of a logged part

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Shadow model (candidate, not in control): this shift", parent)
        from station.ui.widgets.shift_panel import make_table

        row = QHBoxLayout()
        self.values: dict[str, QLabel] = {}
        for key in KEYS:
            cell = QVBoxLayout()
            value = QLabel("–")
            value.setProperty("role", "value")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(CAPTIONS[key])
            caption.setProperty("role", "caption")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.addWidget(value)
            cell.addWidget(caption)
            row.addLayout(cell)
            self.values[key] = value
        self.table = make_table(COLUMNS)
        self.table.cellDoubleClicked.connect(self._on_clicked)
        self.waiting = QLabel("")
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.waiting)
        layout.addWidget(self.table, 1)
        self.hide()

    def show_shift(
        self, counts: dict[str, int], parts: tuple[Disagreement, ...], zone: str
    ) -> None:
        from station.ui.widgets.shift_panel import readonly_item

        self.setVisible(counts.get("parts", 0) + counts.get("skipped", 0) > 0)
        for key in KEYS:
            self.values[key].setText(str(counts.get(key, 0)))
        waiting = sum(1 for p in parts if p.confirmed is None)
        self.waiting.setText(
            f"{waiting} disagreement(s) wait for confirmation (double-click to open and confirm)"
        )
        self.table.setRowCount(len(parts))
        for r, p in enumerate(parts):
            when = datetime.fromtimestamp(p.time_utc, UTC).astimezone(ZoneInfo(zone))
            confirmed = {None: "waiting", True: "defective", False: "good"}[p.confirmed]
            why = p.why or "–"
            cells = (when.strftime("%H:%M:%S"), str(p.sequence), p.production, p.shadow, why)
            for c, text in enumerate((*cells, confirmed)):
                item = readonly_item(text, c == 1)
                item.setData(Qt.ItemDataRole.UserRole, p.row_id)
                self.table.setItem(r, c, item)

    @Slot(int, int)
    def _on_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.part_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))
