"""The selected class's trade-off: score histogram, FAR/FRR vs threshold, ROC.

Ranges are fixed when a class is selected (no auto-range jumps while
dragging); a drag only moves the threshold lines and the operating points.
A constant-score detector (or a non-reject class) shows the reason instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from station.ui.tuning.figures import Curves, Figures

DEF_COLOR = (200, 40, 40)
GOOD_COLOR = (40, 110, 200)
LINE_COLOR = (20, 20, 20)


def _plot(
    layout: pg.GraphicsLayoutWidget,
    title: str,
    x: str,
    y: str,
    row: int,
    col: int,
    colspan: int = 1,
) -> pg.PlotItem:
    p = layout.addPlot(row=row, col=col, colspan=colspan, title=title)
    p.setLabel("bottom", x)
    p.setLabel("left", y)
    p.setMouseEnabled(x=False, y=False)
    p.hideButtons()
    p.setMenuEnabled(False)
    p.disableAutoRange()
    p.showGrid(x=True, y=True, alpha=0.15)
    # Axes (and the grid they draw) do not change while a slider drags: paint them once
    # into a pixmap, so moving the threshold line repaints only what moved.
    for name in ("left", "bottom", "top", "right"):
        p.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return p


class Dot(QGraphicsEllipseItem):
    """An operating point: a fixed-size disc at data coordinates, moved by `setPos` only.

    Cheaper than a ScatterPlotItem, which rebuilds its spots on every `setData`.
    """

    def __init__(self, color: tuple[int, int, int], size: float = 10.0):
        super().__init__(-size / 2, -size / 2, size, size)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setBrush(pg.mkBrush(color))
        self.setPen(pg.mkPen("k"))
        self.setZValue(10)
        self.setVisible(False)

    def move_to(self, x: float, y: float) -> None:
        ok = bool(np.isfinite(x) and np.isfinite(y))
        self.setVisible(ok)
        if ok:
            self.setPos(x, y)

    @property
    def xy(self) -> tuple[float, float]:
        return self.pos().x(), self.pos().y()


class VLine(QGraphicsLineItem):
    """The threshold line: a vertical segment over a fixed y-range, moved by `setLine` only.

    Cheaper than pyqtgraph's InfiniteLine, which recomputes its extent from the view on
    every move (the ranges never change while a slider drags).
    """

    def __init__(self, width: float, y0: float = 0.0, y1: float = 1.0):
        super().__init__()
        self.setPen(pg.mkPen(LINE_COLOR, width=width))  # cosmetic: width in pixels
        self.setZValue(5)
        self._x = 0.0
        self._y = (y0, y1)

    def set_y_range(self, y0: float, y1: float) -> None:
        self._y = (y0, y1)
        self.move_to(self._x)

    def move_to(self, x: float) -> None:
        self._x = float(x)
        self.setLine(self._x, self._y[0], self._x, self._y[1])

    def value(self) -> float:
        return self._x


class TradeoffPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        pg.setConfigOptions(
            antialias=False, background="w", foreground="k", imageAxisOrder="row-major"
        )
        self.stack = QStackedWidget()
        self.gfx = pg.GraphicsLayoutWidget()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.problem.setStyleSheet("font-size: 14px; color: #7a4b00; padding: 24px;")
        self.stack.addWidget(self.gfx)
        self.stack.addWidget(self.problem)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)

        self.hist = _plot(
            self.gfx, "scores", "max score of the class on a part", "% of the group", 0, 0, 2
        )
        self.legend = self.hist.addLegend(
            offset=(-5, 5), labelTextSize="9pt", brush=(255, 255, 255, 210), pen=(160, 160, 160)
        )
        self.h_def = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0,
            pen=pg.mkPen(DEF_COLOR, width=1.5),
            brush=(*DEF_COLOR, 70),
            name="true defect of the class",
        )
        self.h_good = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0,
            pen=pg.mkPen(GOOD_COLOR, width=1.5),
            brush=(*GOOD_COLOR, 60),
            name="good parts",
        )
        self.hist.addItem(self.h_good)
        self.hist.addItem(self.h_def)
        self.h_line = VLine(2)
        self.hist.addItem(self.h_line)
        self.hist.setXRange(0, 1, padding=0.01)

        self.rates = _plot(self.gfx, "FAR / FRR vs threshold", "threshold", "rate (parts)", 1, 0)
        self.rates.addLegend(
            offset=(-5, 5), labelTextSize="8pt", brush=(255, 255, 255, 210), pen=(160, 160, 160)
        )
        self.c_far = self.rates.plot(pen=pg.mkPen(DEF_COLOR, width=2), name="FAR (escapes)")
        self.c_frr = self.rates.plot(pen=pg.mkPen(GOOD_COLOR, width=2), name="FRR (scrap)")
        self.r_line = VLine(1, -0.02, 1.02)
        self.rates.addItem(self.r_line)
        self.far_point = Dot(DEF_COLOR)
        self.frr_point = Dot(GOOD_COLOR)
        self.rates.addItem(self.far_point)
        self.rates.addItem(self.frr_point)
        self.rates.setXRange(0, 1, padding=0.01)
        self.rates.setYRange(0, 1, padding=0.02)

        self.roc = _plot(
            self.gfx, "ROC", "good parts scrapped (FRR)", "defective caught (1 − FAR)", 1, 1
        )
        self.c_roc = self.roc.plot(pen=pg.mkPen((90, 60, 150), width=2))
        self.roc_point = Dot(LINE_COLOR, 11)
        self.roc.addItem(self.roc_point)
        self.roc.setXRange(0, 1, padding=0.02)
        self.roc.setYRange(0, 1, padding=0.02)
        # Static while dragging: cached as pixmaps (the ranges never change during a drag).
        for item in (self.h_def, self.h_good, self.c_far, self.c_frr, self.c_roc):
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def show_curves(self, curves: Curves) -> None:
        if curves.problem is not None or curves.sweep is None or curves.edges is None:
            self.problem.setText(curves.problem or "no curve for this class")
            self.stack.setCurrentWidget(self.problem)
            return
        self.stack.setCurrentWidget(self.gfx)
        name = curves.class_name
        self.hist.setTitle(
            f"{name}: highest {name} score on each part"
            + (
                f" (not shown: {curves.n_undetected} parts with no {name} detection)"
                if curves.n_undetected
                else ""
            )
        )
        assert curves.hist_defective is not None and curves.hist_good is not None
        hd, hg = 100.0 * curves.hist_defective, 100.0 * curves.hist_good
        self.h_def.setData(curves.edges, hd)
        self.h_good.setData(curves.edges, hg)
        self.legend.clear()
        self.legend.addItem(self.h_def, f"parts with a {name} defect ({curves.n_defective})")
        self.legend.addItem(self.h_good, f"good parts ({curves.n_good})")
        top = max(float(hd.max(initial=0)), float(hg.max(initial=0)))
        y_top = max(top, 0.1) * 1.08
        self.hist.setYRange(0, y_top, padding=0)
        self.h_line.set_y_range(0, y_top)
        sw = curves.sweep
        self.rates.setTitle(f"{name}: FAR / FRR as its threshold moves, others held")
        self.roc.setTitle(f"{name}: ROC of the same sweep")
        self.c_far.setData(sw.grid, sw.far, connect="finite")
        self.c_frr.setData(sw.grid, sw.frr, connect="finite")
        self.c_roc.setData(sw.frr, 1.0 - sw.far, connect="finite")

    def show_point(self, f: Figures) -> None:
        t = f.threshold
        self.h_line.move_to(t)
        self.r_line.move_to(t)
        far = np.nan if f.far is None else f.far
        frr = np.nan if f.frr is None else f.frr
        self.far_point.move_to(t, far)
        self.frr_point.move_to(t, frr)
        self.roc_point.move_to(frr, 1.0 - far)
