"""A logged part: its archived frame with boxes, scores, thresholds in force, and the
operator's confirmation ("really defective" with a class, or "really good").

Display only; reading the part and writing the confirmation are the
`PartDetailViewModel`'s. The frame is drawn as the live view draws it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from station.core.decision import Outcome
from station.storage.queries import LoggedPart
from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.widgets.live_view import BACKGROUND, paint_part
from station.ui.widgets.shift_panel import make_table, readonly_item

UNSPECIFIED_CLASS = "(class not known)"


def score_rows(part: LoggedPart) -> list[tuple[str, str, str, str]]:
    """(class, max score, threshold in force, verdict) per class, for the scores table."""
    rows = []
    for k, name in enumerate(part.class_names):
        s = float(part.max_scores[k])
        t = float(part.thresholds[k])
        score = "NaN" if np.isnan(s) else ("–" if np.isinf(s) else f"{s:.3f}")
        thr = "?" if np.isnan(t) else f"{t:.2f}"
        if np.isnan(s):
            verdict = "no decision"
        elif np.isinf(s) or np.isnan(t) or np.float32(s) < np.float32(t):
            verdict = ""
        else:
            verdict = "rejects" if part.rejecting[k] else "cleared (not a reject class)"
        rows.append((name, score, thr, verdict))
    return rows


def describe(part: LoggedPart) -> str:
    """The facts under the frame, as rich text."""
    local = datetime.fromtimestamp(part.time_utc, UTC).astimezone(ZoneInfo(part.zone))
    why = ", ".join(str(r) for r in part.reasons) if part.outcome is Outcome.REJECT else part.why
    lines = [
        f"<b>{part.outcome.value}</b>: {why or 'no defect at or above its threshold'}",
        f"part {part.sequence} · {local:%Y-%m-%d %H:%M:%S} ({part.zone}) · shift {part.shift_id}",
        f"model {part.model_sha256[:12]} · thresholds {part.threshold_set_id} · "
        f"inference {part.latency_ms:.1f} ms",
    ]
    if part.truth_defective is not None:
        lines.append(f"ground truth: {'defective' if part.truth_defective else 'good'}")
    c = part.confirmation
    if c is not None:
        verdict = "really defective" if c.defective else "really good"
        if c.class_name:
            verdict += f" ({c.class_name})"
        when = datetime.fromtimestamp(c.time_utc, UTC).astimezone(ZoneInfo(part.zone))
        lines.append(f"confirmed <b>{verdict}</b> by {c.operator} at {when:%H:%M:%S}")
    else:
        lines.append("not confirmed yet")
    return "<br>".join(lines)


class _FrameCanvas(QWidget):
    def __init__(self, vm: PartDetailViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(320, 240))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            part = self.vm.part_result()
            area = QRectF(self.rect())
            if part is not None and part.image is not None:
                paint_part(painter, area, part, part.inspection.class_names)
                return
            painter.setPen(Qt.GlobalColor.white)
            p = self.vm.part
            if p is None:
                text = "no part selected"
            elif p.image_pruned_utc is not None:
                text = "frame removed by the reject archive's limit (the record is kept)"
            elif p.outcome is Outcome.PASS:
                text = "passed parts are not archived"
            else:
                text = "no frame archived for this part"
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)
        finally:
            painter.end()


class PartDetailView(QWidget):
    """Frame with boxes, per-class scores against thresholds, confirmation buttons."""

    def __init__(self, vm: PartDetailViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.canvas = _FrameCanvas(vm, self)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("font-size: 16px;")
        self.scores_table = make_table(("Class", "Max score", "Threshold", ""))
        self.class_combo = QComboBox()
        self.defective_button = QPushButton("Really defective")
        self.good_button = QPushButton("Really good")
        self.defective_button.setStyleSheet("font-weight: 600; color: #c5221f;")
        self.good_button.setStyleSheet("font-weight: 600; color: #188038;")
        self.defective_button.clicked.connect(self._on_defective)
        self.good_button.clicked.connect(vm.confirm_good)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Defect class:"))
        buttons.addWidget(self.class_combo, 1)
        buttons.addWidget(self.defective_button)
        buttons.addWidget(self.good_button)
        side = QVBoxLayout()
        side.addWidget(self.info)
        side.addWidget(self.scores_table, 1)
        side.addLayout(buttons)
        side.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.addWidget(self.canvas, 3)
        layout.addLayout(side, 2)
        vm.part_changed.connect(self._update)
        vm.confirmed.connect(self._on_message)
        vm.failed.connect(self._on_error)
        self._update()

    @Slot()
    def _update(self) -> None:
        part = self.vm.part
        enabled = self.vm.can_confirm
        self.defective_button.setEnabled(enabled)
        self.good_button.setEnabled(enabled)
        self.class_combo.setEnabled(enabled)
        if part is None:
            self.info.setText("no part selected")
            self.scores_table.setRowCount(0)
            self.canvas.update()
            return
        self.info.setText(describe(part))
        rows = score_rows(part)
        self.scores_table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.scores_table.setItem(r, c, readonly_item(text, c in (1, 2)))
        current = self.class_combo.currentText()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems([UNSPECIFIED_CLASS, *part.class_names])
        preferred = part.reasons[0].class_name if part.reasons else current
        if part.confirmation is not None and part.confirmation.class_name:
            preferred = part.confirmation.class_name
        index = self.class_combo.findText(preferred)
        self.class_combo.setCurrentIndex(max(index, 0))
        self.class_combo.blockSignals(False)
        self.canvas.update()

    @Slot()
    def _on_defective(self) -> None:
        name = self.class_combo.currentText()
        self.vm.confirm_defective("" if name == UNSPECIFIED_CLASS else name)

    @Slot(str)
    def _on_message(self, text: str) -> None:
        self.status.setStyleSheet("color: #188038;")
        self.status.setText(text)

    @Slot(str)
    def _on_error(self, text: str) -> None:
        self.status.setStyleSheet("color: #c5221f; font-weight: 600;")
        self.status.setText(text)
