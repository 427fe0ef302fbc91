"""The shift panel beside the part view: double-click a part in the shift, see and confirm it.

Layout and wiring only. `ShiftTab.close()` must be called by the owner on
shutdown: it stops the shift view-model's worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.part_detail import PartDetailView
from station.ui.widgets.shift_panel import ShiftPanel


class ShiftTab(QWidget):
    def __init__(
        self, shift_vm: ShiftViewModel, part_vm: PartDetailViewModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shift_vm = shift_vm
        self.part_vm = part_vm
        self.panel = ShiftPanel(shift_vm, self)
        self.detail = PartDetailView(part_vm, self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.panel)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(splitter)
        self.panel.part_requested.connect(part_vm.load)
        part_vm.confirmed.connect(self._on_confirmed)

    @Slot(str)
    def _on_confirmed(self, _message: str) -> None:
        self.shift_vm.refresh_all()  # confirmed escapes/scrap of past shifts may change too

    def close_models(self) -> None:
        """Stop the shift view-model's worker thread (idempotent)."""
        self.shift_vm.close()
