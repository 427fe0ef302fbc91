"""Sample parts whose outcome changes between the saved and the dragged thresholds.

The summary line updates on every slider move; the thumbnails are rebuilt
after the drag pauses (`THUMB_DELAY_MS`), so loading images never stalls a
drag. Clicking a thumbnail opens the part: image, labeled boxes, per-class
scores against the saved and the dragged threshold.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.ui.tuning.figures import MAX_CHANGED_SHOWN, Figures, PartDetail, change_words
from station.ui.tuning.tuning_vm import TuningViewModel

THUMB = QSize(96, 72)
THUMB_DELAY_MS = 150
REJ_COLOR = QColor(200, 40, 40)  # a score that rejects the part
WORSE_COLOR = REJ_COLOR  # a new escape or a new scrap
BETTER_COLOR = QColor(30, 140, 60)  # an escape or a scrap fixed


def _placeholder(text: str) -> QPixmap:
    pm = QPixmap(THUMB)
    pm.fill(QColor(225, 225, 225))
    p = QPainter(pm)
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return pm


class ChangedPartsPanel(QWidget):
    def __init__(self, vm: TuningViewModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.vm = vm
        self.summary = QLabel("—")
        # Fixed geometry: its text changes on every slider step (see TuningView).
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.summary.setFixedHeight(self.summary.sizeHint().height())
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMB)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setFixedHeight(THUMB.height() + 56)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.summary)
        lay.addWidget(self.list)
        self._thumbs: dict[int, QPixmap] = {}
        self._pending: Figures | None = None
        self._shown: tuple[int, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THUMB_DELAY_MS)
        self._timer.timeout.connect(self._rebuild)
        self.vm.sample_changed.connect(self._thumbs.clear)

    def show_figures(self, f: Figures) -> None:
        self.summary.setText(f.changed.summary())
        self._pending = f
        self._timer.start()

    def flush(self) -> None:
        """Rebuild the thumbnails now (tests, screenshots)."""
        self._timer.stop()
        self._rebuild()

    def _rebuild(self) -> None:
        f = self._pending
        if f is None:
            return
        ch = f.changed
        half = MAX_CHANGED_SHOWN // 2
        n_rej = min(ch.newly_rejected.size, max(half, MAX_CHANGED_SHOWN - ch.newly_passed.size))
        picks = [(int(i), True) for i in ch.newly_rejected[:n_rej]]
        room = MAX_CHANGED_SHOWN - len(picks)
        picks += [(int(i), False) for i in ch.newly_passed[:room]]
        key = tuple(i for i, _ in picks)
        if key == self._shown:
            return
        self._shown = key
        self.list.clear()
        for i, now_rejected in picks:
            detail = self.vm.part_detail(i)
            words, better = change_words(now_rejected, detail.defective)
            what = "now rejected" if now_rejected else "now passed"
            item = QListWidgetItem(QIcon(self._thumb(detail)), f"{detail.part_id}\n{words}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setForeground(BETTER_COLOR if better else WORSE_COLOR)
            truth = "defective" if detail.defective else "good"
            item.setToolTip(
                f"part {detail.part_id}: {what}, really {truth}: {words}; click to open"
            )
            self.list.addItem(item)

    def _thumb(self, d: PartDetail) -> QPixmap:
        pm = self._thumbs.get(d.index)
        if pm is None:
            img = QImage(d.image_path) if d.image_path else QImage()
            if img.isNull():
                pm = _placeholder(d.part_id[-8:])
            else:
                pm = QPixmap.fromImage(
                    img.scaled(
                        THUMB,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
            self._thumbs[d.index] = pm
        return pm

    def _open(self, item: QListWidgetItem) -> None:
        i = item.data(Qt.ItemDataRole.UserRole)
        dlg = PartDetailDialog(self.vm.part_detail(int(i)), self)
        dlg.setModal(False)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.last_dialog = dlg


def draw_part(d: PartDetail, max_w: int = 640) -> QPixmap:
    """The part's image with its labeled (true) defect boxes drawn on it."""
    img = QImage(d.image_path) if d.image_path else QImage()
    if img.isNull():
        pm = QPixmap(QSize(320, 240))
        pm.fill(QColor(225, 225, 225))
        p = QPainter(pm)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "no image for this part")
        p.end()
        return pm
    pm = QPixmap.fromImage(img)
    w, h = pm.width(), pm.height()
    p = QPainter(pm)
    pen = QPen(QColor(255, 200, 0))
    pen.setWidth(2)
    p.setPen(pen)
    for cx, cy, bw, bh, name in d.truth_boxes:
        rect = QRectF((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h)
        p.drawRect(rect)
        p.drawText(rect.topLeft() + QRectF(0, -14, 0, 0).topLeft(), f"{name} (label)")
    p.end()
    if w > max_w:
        pm = pm.scaledToWidth(max_w, Qt.TransformationMode.SmoothTransformation)
    return pm


class PartDetailDialog(QDialog):
    """One sample part: image with labeled boxes; scores vs saved and dragged thresholds."""

    def __init__(self, d: PartDetail, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"part {d.part_id}")
        truth = "defective (" + ", ".join(d.truth_classes) + ")" if d.defective else "good"
        head = QLabel(
            f"<b>{d.part_id}</b>: really {truth}. Saved thresholds: <b>{d.saved_outcome}</b>; "
            f"dragged thresholds: <b>{d.dragged_outcome}</b>."
        )
        head.setWordWrap(True)
        image = QLabel()
        image.setPixmap(draw_part(d))
        table = QTableWidget(len(d.scores), 4)
        table.setHorizontalHeaderLabels(["class", "max score", "saved T", "dragged T"])
        for r, (name, score, t_saved, t_dragged) in enumerate(d.scores):
            cells = [
                name,
                "—" if not np.isfinite(score) else f"{score:.3f}",
                f"{t_saved:.2f}",
                f"{t_dragged:.2f}",
            ]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if np.isfinite(score) and score >= t_dragged and c == 1:
                    it.setForeground(REJ_COLOR)
                table.setItem(r, c, it)
        table.resizeColumnsToContents()
        self.table = table
        self.head = head
        body = QHBoxLayout()
        body.addWidget(image)
        body.addWidget(table)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addLayout(body)
