"""The tuning tab's threshold column: a slider per class and the default, size rules beneath.

Each class's slider has its size control under it; the default's slider comes
last. A slider or size control moved by the user goes to the view-model; a set
moved as a whole (a recommendation, apply, undo, revert) moves the sliders
without echoing back (ClassSlider and SizeControl block their signals).
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from station.ui.tuning.class_slider import ClassSlider
from station.ui.tuning.figures import DEFAULT_KEY
from station.ui.tuning.size_control import SizeControl
from station.ui.tuning.tuning_vm import TuningViewModel


class ThresholdsPanel(QScrollArea):
    def __init__(self, vm: TuningViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.sliders: dict[str, ClassSlider] = {}
        self.size_controls: dict[str, SizeControl] = {}
        slider_box = QWidget()
        self.slider_layout = QVBoxLayout(slider_box)
        self.slider_layout.setContentsMargins(0, 0, 0, 0)
        for name in vm.class_names:
            self._add_slider(name, name)
            self._add_size_control(name)
        self._add_slider(DEFAULT_KEY, "default")
        self.slider_layout.addStretch(1)
        self.setWidgetResizable(True)
        self.setWidget(slider_box)
        self.setMinimumWidth(340)
        vm.dragged_reset.connect(self.sync)

    def _add_slider(self, key: str, label: str) -> None:
        s = ClassSlider(key, label, self.vm.threshold(key), self.vm.saved_threshold(key))
        s.moved.connect(self.vm.set_threshold)
        s.selected.connect(self.vm.select)
        self.sliders[key] = s
        self.slider_layout.addWidget(s)

    def _add_size_control(self, name: str) -> None:
        ctrl = SizeControl(name, self.vm.sizes.unit)
        ctrl.changed.connect(self.vm.set_size_rule)
        self.size_controls[name] = ctrl
        self.slider_layout.addWidget(ctrl)

    def show_sizes(self) -> None:
        """The size rules tried and the recipe's; disabled (saying why) where not triable."""
        why = self.vm.size_problem
        now, saved = self.vm.sizes, self.vm.saved_sizes
        for name, ctrl in self.size_controls.items():
            ctrl.set_values(now.min_length.get(name, 0.0), now.min_area.get(name, 0.0))
            ctrl.set_saved(saved.min_length.get(name, 0.0), saved.min_area.get(name, 0.0))
            ctrl.setEnabled(why is None)
            ctrl.setToolTip(why or "")

    def show_saved(self) -> None:
        for key, s in self.sliders.items():
            s.set_saved(self.vm.saved_threshold(key))

    def show_selected(self, selected: str) -> None:
        for key, s in self.sliders.items():
            s.set_active(key == selected)

    @Slot()
    def sync(self) -> None:
        """Every slider at the dragged set."""
        for key, s in self.sliders.items():
            s.set_value(self.vm.threshold(key))
