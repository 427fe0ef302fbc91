"""Per-class threshold sliders showing the live values; Apply asks for the change.

The panel only edits a proposal. `apply_requested` carries the new
ThresholdSet; whoever owns the policy (the view-model, later behind the
supervisor PIN) applies it, and the live values come back through
`show_thresholds`, which moves the sliders without echoing a change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from station.core.thresholds import ThresholdSet

STEPS = 100  # slider resolution: 0.01


def _to_step(t: float) -> int:
    return round(t * STEPS)


class ThresholdPanel(QGroupBox):
    """One slider per model class; untouched classes keep their exact value on Apply."""

    apply_requested = Signal(object)  # ThresholdSet

    def __init__(
        self,
        class_names: Sequence[str],
        thresholds: ThresholdSet,
        confidence_floor: float | None = None,
        scores_rank: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Thresholds (score ≥ T rejects)", parent)
        self.setObjectName("ThresholdPanel")
        self.setStyleSheet(
            "#ThresholdPanel { font-size: 18px; font-weight: 600; }"
            "#ThresholdPanel QLabel { font-size: 18px; font-weight: 400; }"
            "#ThresholdPanel QPushButton { font-size: 17px; padding: 4px 14px; }"
        )
        self._names = tuple(class_names)
        self._live = thresholds
        self._floor_step = math.ceil((confidence_floor or 0.0) * STEPS - 1e-9)
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, name in enumerate(self._names):
            label = QLabel(name)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(self._floor_step, STEPS)
            slider.setPageStep(5)
            slider.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            value = QLabel()
            value.setMinimumWidth(110)
            slider.valueChanged.connect(self._on_slider)
            grid.addWidget(label, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
            self.sliders[name] = slider
            self.values[name] = value
        grid.setColumnStretch(1, 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        notes = []
        if confidence_floor:
            notes.append(
                f"The model drops scores below {confidence_floor:.2f} at export: "
                "no slider goes lower."
            )
        if not scores_rank:
            notes.append("This model's scores are constant: a threshold cannot be tuned on them.")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))
        self.apply_button = QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.apply_button.clicked.connect(self._on_apply)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setEnabled(False)
        self.revert_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.revert_button.clicked.connect(self.revert)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.show_thresholds(thresholds)

    @property
    def live(self) -> ThresholdSet:
        return self._live

    def proposal(self) -> dict[str, float]:
        """The classes whose slider differs from the live value, with the slider's value."""
        out = {}
        for name, slider in self.sliders.items():
            if slider.value() != _to_step(self._live.threshold_for(name)):
                out[name] = slider.value() / STEPS
        return out

    def set_value(self, class_name: str, t: float) -> None:
        """Move a slider as an operator would (marks it as a proposed change)."""
        self.sliders[class_name].setValue(_to_step(t))

    def show_thresholds(self, thresholds: ThresholdSet) -> None:
        """The live values changed (here or elsewhere): move the sliders without echo."""
        self._live = thresholds
        for name, slider in self.sliders.items():
            with QSignalBlocker(slider):
                slider.setValue(_to_step(thresholds.threshold_for(name)))
        self._refresh()

    def revert(self) -> None:
        self.show_thresholds(self._live)

    def _on_slider(self, _value: int) -> None:
        self._refresh()

    def _refresh(self) -> None:
        changed = self.proposal()
        for name, label in self.values.items():
            live = self._live.threshold_for(name)
            if name in changed:
                label.setText(f"{changed[name]:.2f} (live {live:.2f})")
                label.setStyleSheet("color: #b06000; font-weight: 700;")
            else:
                label.setText(f"{live:.2f}")
                label.setStyleSheet("")
        self.apply_button.setEnabled(bool(changed))
        self.revert_button.setEnabled(bool(changed))

    def _on_apply(self) -> None:
        changes = self.proposal()
        if changes:
            self.apply_requested.emit(self._live.with_thresholds(changes))
