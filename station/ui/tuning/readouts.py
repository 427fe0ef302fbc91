"""The tuning tab's readouts: the figures at the dragged thresholds, and the live line.

`FiguresPanel` says escapes, scrap, cost and escapes by class on the sample at
the dragged set (every slider step: fixed-geometry labels). `LivePanel` says the
live estimate for this shift and the drift alarm. Text only: the numbers and
their wording come from the view-model's snapshots.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGroupBox, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.ui.tuning.figures import Figures
from station.ui.tuning.tuning_vm import TuningViewModel

ALARM_STYLE = "background: #f8d7da; color: #6b0f1a; padding: 4px;"
BIG = "font-size: 15px;"


class FiguresPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("At the dragged thresholds, on the sample", parent)
        self.escape_label = QLabel("—")
        self.scrap_label = QLabel("—")
        self.cost_label = QLabel("—")
        self.per_class_label = QLabel()
        self.per_class_label.setStyleSheet("color: #444;")
        lay = QVBoxLayout(self)
        for lab in (self.escape_label, self.scrap_label, self.cost_label, self.per_class_label):
            if lab is not self.per_class_label:
                lab.setStyleSheet(BIG)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Text changes on every slider step: a fixed-height, width-ignoring label never
            # asks the window to re-lay out (which would resize and repaint the plots).
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            lab.setFixedHeight(lab.sizeHint().height())
            lay.addWidget(lab)

    def show_figures(self, f: Figures) -> None:
        self.escape_label.setText(f.escape_text)
        self.scrap_label.setText(f.scrap_text)
        self.cost_label.setText(f.cost_text)
        self.per_class_label.setText(f.per_class_text)


class LivePanel(QGroupBox):
    def __init__(self, vm: TuningViewModel, parent: QWidget | None = None) -> None:
        super().__init__("Live on the line (this shift)", parent)
        self.live_label = QLabel(vm.live_text())
        self.live_label.setWordWrap(True)
        self.drift_label = QLabel("drift: the live scores are compared with the tuning sample")
        self.drift_label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.live_label)
        lay.addWidget(self.drift_label)
        vm.live_changed.connect(self.live_label.setText)
        vm.drift_changed.connect(self.show_drift)

    @Slot(object)
    def show_drift(self, report: object) -> None:
        msg = getattr(report, "message", str(report))
        alarm = bool(getattr(report, "alarm", False))
        self.drift_label.setText(msg)
        self.drift_label.setStyleSheet(ALARM_STYLE if alarm else "")
