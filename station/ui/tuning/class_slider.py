"""One threshold slider: a class (or the default), two decimals, keyboard-steppable.

The slider works in hundredths (0..100) so arrow keys step 0.01 and PageUp/
PageDown 0.10. It shows the dragged value and the saved one. Setting a value
from elsewhere (a recommendation, undo) blocks the slider's signals so it
does not echo back as a user drag.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

STEPS = 100


def to_steps(t: float) -> int:
    return round(t * STEPS)


def from_steps(v: int) -> float:
    return round(v / STEPS, 2)


def fmt(t: float) -> str:
    """Two decimals on the slider's grid; an exact level (a recommendation) keeps 3 figures."""
    return f"{t:.2f}" if round(t, 2) == t else f"{t:.3g}"


class ClassSlider(QWidget):
    """`moved(name, value)` when the user moves it; `selected(name)` when it gains focus."""

    moved = Signal(str, float)
    selected = Signal(str)

    def __init__(
        self, name: str, label: str, value: float, saved: float, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.name = name
        self._saved = saved
        self._value = value
        self.title = QLabel(label)
        self.title.setMinimumWidth(90)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(10)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setAccessibleName(f"threshold {label}")
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.value_label = QLabel()
        self.value_label.setFixedWidth(48)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.saved_label = QLabel()
        self.saved_label.setFixedWidth(100)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.value_label)
        lay.addWidget(self.saved_label)
        self.set_value(value)
        self.set_saved(saved)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(lambda: self.selected.emit(self.name))
        self.slider.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if obj is self.slider and event.type() == QEvent.Type.FocusIn:
            self.selected.emit(self.name)
        return super().eventFilter(obj, event)

    def value(self) -> float:
        """The threshold shown: a 0.01 step, or an exact level set from elsewhere."""
        return self._value

    def set_value(self, t: float) -> None:
        """Move the slider without emitting `moved` (the change came from elsewhere)."""
        blocked = self.slider.blockSignals(True)
        try:
            self.slider.setValue(to_steps(t))
        finally:
            self.slider.blockSignals(blocked)
        self._value = t
        self._show(t)

    def set_saved(self, t: float) -> None:
        self._saved = t
        self._show(self._value)

    def set_active(self, active: bool) -> None:
        if active == self.title.font().bold():
            return  # a font change re-lays out the panel: only when it really changes
        font = self.title.font()
        font.setBold(active)
        self.title.setFont(font)

    def _show(self, t: float) -> None:
        self.value_label.setText(fmt(t))
        changed = t != self._saved
        self.saved_label.setText(f"saved {fmt(self._saved)}" + (" *" if changed else ""))
        self.saved_label.setStyleSheet("color: #b35c00;" if changed else "color: gray;")

    def _on_slider(self, v: int) -> None:
        t = from_steps(v)
        self._value = t
        self._show(t)
        self.moved.emit(self.name, t)
