"""The current part with its detections drawn, scaled to fit and never stretched.

A detection that cleared its class threshold is drawn thick: red when its
class rejects a part, green when it does not (an `ok` class). A detection
below its threshold is drawn thin and dashed in amber, so the operator sees
the near misses. The view pulls the newest part on a timer (latest wins):
however fast parts come, the GUI paints at most one per tick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.core.detections import Detections
from station.pipeline.results import PartResult

REJECT_COLOUR = QColor("#ff3b30")
CLEARED_OK_COLOUR = QColor("#34c759")
NEAR_MISS_COLOUR = QColor("#ffb000")
BACKGROUND = QColor("#1b1d21")
NEAR_MISS_FRACTION = 0.5
"""Below-threshold detections are drawn when their score is at least this fraction of T."""
MAX_NEAR_MISSES = 5


def to_qimage(image: npt.NDArray[np.uint8]) -> QImage:
    """A QImage that owns a copy of a BGR (H, W, 3) or grey (H, W) uint8 frame."""
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    if img.ndim == 2 or img.shape[2] == 1:
        fmt = QImage.Format.Format_Grayscale8
        img = img.reshape(h, w)
    else:
        fmt = QImage.Format.Format_BGR888
    return QImage(img.data, w, h, int(img.strides[0]), fmt).copy()


def fit_rect(image_w: int, image_h: int, area: QRectF) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in `area` (letterboxed)."""
    if image_w <= 0 or image_h <= 0 or area.width() <= 0 or area.height() <= 0:
        return QRectF(area.topLeft(), area.topLeft())
    scale = min(area.width() / image_w, area.height() / image_h)
    w, h = image_w * scale, image_h * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


def split_detections(
    dets: Detections, thresholds: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(cleared, near miss) masks over `dets`; out-of-range class ids are in neither."""
    n = len(thresholds)
    if not len(dets) or not n:
        return np.zeros(len(dets), bool), np.zeros(len(dets), bool)
    valid = (dets.class_id >= 0) & (dets.class_id < n) & np.isfinite(dets.xyxy).all(axis=1)
    t = np.where(valid, thresholds[np.clip(dets.class_id, 0, n - 1)], np.inf).astype(np.float32)
    cleared = valid & (dets.confidence >= t)
    near = valid & ~cleared & (dets.confidence >= NEAR_MISS_FRACTION * t)
    if near.sum() > MAX_NEAR_MISSES:
        idx = np.flatnonzero(near)
        keep = idx[np.argsort(-dets.confidence[idx], kind="stable")[:MAX_NEAR_MISSES]]
        near = np.zeros_like(near)
        near[keep] = True
    return cleared, near


def paint_part(
    painter: QPainter,
    area: QRectF,
    part: PartResult,
    class_names: Sequence[str],
    image: QImage | None = None,
    label_px: int = 16,
) -> QRectF:
    """Draw the part's frame letterboxed into `area` with its detections; returns the image rect."""
    if image is None:
        if part.image is None:
            return QRectF()
        image = to_qimage(part.image)
    target = fit_rect(image.width(), image.height(), area)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(target, image)
    dets = part.detections
    if not len(dets):
        return target
    scale = target.width() / image.width()
    cleared, near = split_detections(dets, part.thresholds)
    font = QFont(painter.font())
    font.setPixelSize(max(1, label_px))
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    # Cleared detections claim label space first; boxes are painted near misses first,
    # so a cleared box is on top, then every label over every box.
    order = [*np.flatnonzero(cleared), *np.flatnonzero(near)]
    placed: list[QRectF] = []
    labels: list[tuple[QRectF, QColor, QColor, str]] = []
    boxes: list[tuple[QRectF, QPen]] = []
    for i in order:
        c = int(dets.class_id[i])
        score = float(dets.confidence[i])
        name = class_names[c] if c < len(class_names) else str(c)
        x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
        rect = QRectF(
            target.x() + x1 * scale, target.y() + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale
        )
        if cleared[i]:
            colour = REJECT_COLOUR if bool(part.rejecting[c]) else CLEARED_OK_COLOUR
            pen = QPen(colour, max(2.0, label_px / 5))
            text = f"{name} {score:.2f}"
            fill, ink = colour, QColor("white") if colour == REJECT_COLOUR else QColor("black")
        else:
            pen = QPen(NEAR_MISS_COLOUR, 1.5, Qt.PenStyle.DashLine)
            text = f"{name} {score:.2f} < {float(part.thresholds[c]):.2f}"
            fill, ink = QColor(0, 0, 0, 170), NEAR_MISS_COLOUR
        boxes.append((rect, pen))
        if label_px > 0:
            label = _place_label(rect, metrics, text, target, placed)
            if label is None and cleared[i]:  # a reason for the outcome is always labelled
                w, h = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
                x = max(target.left(), min(rect.left(), target.right() - w))
                label = QRectF(x, max(target.top(), rect.top() - h), w, h)
            if label is not None:
                placed.append(label)
                labels.append((label, fill, ink, text))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    outlines = dets.data.get("polygon")
    for (rect, pen), i in zip(reversed(boxes), reversed(order), strict=True):
        painter.setPen(pen)
        painter.drawRect(rect)
        if outlines is not None and len(outlines[i]):  # a segmentation mask's outline
            points = [
                QPointF(target.x() + x * scale, target.y() + y * scale) for x, y in outlines[i]
            ]
            painter.drawPolygon(QPolygonF(points))
    for label, fill, ink, text in reversed(labels):
        painter.fillRect(label, fill)
        painter.setPen(ink)
        painter.drawText(label.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
    return target


def _place_label(
    box: QRectF, metrics: QFontMetricsF, text: str, frame: QRectF, taken: list[QRectF]
) -> QRectF | None:
    """A spot for a box's label that covers no other label: above, below, beside, stacked.

    None when there is none (the caller then draws the box alone, or, for a detection
    that decides the part, the label above the box anyway).
    """
    w = metrics.horizontalAdvance(text) + 8
    h = metrics.height() + 2
    x = max(frame.left(), min(box.left(), frame.right() - w))
    spots = [(x, box.top() - h), (x, box.bottom()), (box.right() + 2, box.top())]
    spots += [(box.left() - w - 2, box.top())]
    spots += [(x, box.top() - h * k) for k in range(2, 5)]
    spots += [(x, box.bottom() + h * k) for k in range(1, 4)]
    for sx, sy in spots:
        rect = QRectF(sx, sy, w, h)
        if frame.contains(rect) and not any(rect.intersects(t) for t in taken):
            return rect
    return None


def render_thumbnail(part: PartResult, class_names: Sequence[str], size: QSize) -> QPixmap:
    """A small picture of a part with its boxes (no labels: too small to read), for the strip."""
    pix = QPixmap(size)
    pix.fill(BACKGROUND)
    painter = QPainter(pix)
    try:
        paint_part(
            painter, QRectF(0, 0, size.width(), size.height()), part, class_names, label_px=0
        )
    finally:
        painter.end()
    return pix


class LiveView(QWidget):
    """Paints the newest part; with `poll` (the view-model's latest part) it follows the line."""

    def __init__(
        self,
        class_names: Sequence[str],
        poll: Callable[[], PartResult | None] | None = None,
        interval_ms: int = 40,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._class_names = tuple(class_names)
        self._poll = poll
        self._part: PartResult | None = None
        self._image: QImage | None = None
        self._message = "no part yet"
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._pull)
        if poll is not None:
            self._timer.start()

    @property
    def part(self) -> PartResult | None:
        return self._part

    def set_part(self, part: PartResult | None) -> None:
        if part is self._part:
            return
        self._part = part
        self._image = to_qimage(part.image) if part is not None and part.image is not None else None
        if part is not None and part.image is None:
            self._message = part.inspection.decision.why or "no frame"
        self.update()

    def set_message(self, text: str) -> None:
        """Shown when there is no frame to paint."""
        self._message = text
        self.update()

    def _pull(self) -> None:
        if self._poll is not None:
            self.set_part(self._poll())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
            if self._part is not None and self._image is not None:
                label_px = max(14, min(28, int(area.height() / 32)))
                target = paint_part(
                    painter, area, self._part, self._class_names, self._image, label_px
                )
                self._paint_caption(painter, target)
            else:
                font = QFont(painter.font())
                font.setPixelSize(30)
                painter.setFont(font)
                painter.setPen(NEAR_MISS_COLOUR if self._part is not None else QColor("#c8c8c8"))
                painter.drawText(
                    area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message
                )
        finally:
            painter.end()

    def _paint_caption(self, painter: QPainter, target: QRectF) -> None:
        assert self._part is not None
        font = QFont(painter.font())
        font.setPixelSize(18)
        font.setBold(False)
        painter.setFont(font)
        text = f"part {self._part.inspection.sequence}"
        metrics = QFontMetricsF(font)
        box = QRectF(target.x() + 6, target.y() + 6, metrics.horizontalAdvance(text) + 14, 28)
        painter.fillRect(box, QColor(0, 0, 0, 160))
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
