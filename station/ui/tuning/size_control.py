"""One class's size rule beside its threshold slider: minimum length and minimum area.

Values are in the recipe's unit (mm with `[calibration] mm_per_px`, else px);
0 shows as "any" (no rule). A value set from elsewhere (revert, a new sample)
blocks the spin boxes' signals so it does not echo back as a user edit.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

MAX_SIZE = 1e6


class SizeControl(QWidget):
    """`changed(class name, measure, value)` when the user edits a minimum."""

    changed = Signal(str, str, float)

    def __init__(self, name: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.spins: dict[str, QDoubleSpinBox] = {}
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 0, 2, 4)  # under the slider, indented
        lay.addWidget(QLabel("size ≥"))
        for measure, suffix, what in (
            ("min_length", f" {unit}", "length"),
            ("min_area", f" {unit}²", "area"),
        ):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, MAX_SIZE)
            spin.setDecimals(2 if unit == "mm" else 0)
            spin.setSingleStep(0.1 if unit == "mm" else 1.0)
            spin.setSuffix(suffix)
            spin.setSpecialValueText("any")
            spin.setKeyboardTracking(False)  # one recompute per edit, not per keystroke
            spin.setAccessibleName(f"minimum {what} {name}")
            spin.setToolTip(
                f"a {name} detection counts only when its {what} reaches this "
                f"(and its score the threshold); 'any' = no {what} rule"
            )
            spin.valueChanged.connect(lambda v, m=measure: self.changed.emit(self.name, m, v))
            spin.setMinimumWidth(84)
            lay.addWidget(QLabel(what))
            lay.addWidget(spin)
            self.spins[measure] = spin
        lay.addStretch(1)

    def set_values(self, min_length: float, min_area: float) -> None:
        """Show the rule without emitting `changed` (the change came from elsewhere)."""
        for measure, value in (("min_length", min_length), ("min_area", min_area)):
            spin = self.spins[measure]
            blocked = spin.blockSignals(True)
            try:
                spin.setValue(value)
            finally:
                spin.blockSignals(blocked)

    def set_saved(self, min_length: float, min_area: float) -> None:
        """Mark a minimum that differs from the recipe's (as the sliders mark theirs)."""
        for measure, saved in (("min_length", min_length), ("min_area", min_area)):
            spin = self.spins[measure]
            differs = round(spin.value(), spin.decimals()) != round(saved, spin.decimals())
            spin.setStyleSheet("color: #b35c00;" if differs else "")
