"""The line as the tuning tab watches it: the live escape/scrap estimate and the drift alarm.

Both listen to the running station on the GUI thread: each inspected part
(its truth, where the line knows it, and its per-class maxima for the drift
monitor) and each operator confirmation. A part without a decision has no
scores: its maxima are NaN (even where an old log stored -inf), so the drift
monitor skips it and a camera outage never looks like drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from station.core import outcomes
from station.core.drift import DriftMonitor, DriftReport
from station.ui.tuning.live import LiveEstimate


class LiveMonitor(QObject):
    live_changed = Signal(str)
    drift_changed = Signal(object)  # DriftReport

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.live = LiveEstimate()
        self.drift: DriftMonitor | None = None

    def set_reference(self, class_names: Sequence[str], scores: Any) -> None:
        """The tuning sample's maxima: what the line's scores are compared with."""
        self.drift = DriftMonitor(class_names, scores)

    @Slot(object)
    def on_part(self, result: Any) -> None:
        """A `PartResult` (or an `Inspection`) from the running station."""
        insp = getattr(result, "inspection", result)
        if self.live.new_shift(insp.shift_id) and self.drift is not None:
            self.drift.reset()
        self.live_scores(outcomes.decided_scores(insp.outcome, insp.max_scores))
        if insp.truth_defective is not None:
            self.live.add_line_part(bool(insp.truth_defective), insp.outcome)
        self.live_changed.emit(self.live.text())

    @Slot(bool, bool)
    def on_confirmation(self, defective: bool, shipped: bool) -> None:
        """An operator confirmed a logged part: really defective / really good; `shipped`:
        whether the station passed it."""
        self.live.confirmed.add(defective, shipped)
        self.live_changed.emit(self.live.text())

    @Slot(object)
    def on_part_confirmed(self, confirmation: Any) -> None:
        """A `PartConfirmation` from the part view: counted once per part (its latest
        verdict), and only when the part is of the shift the live estimate covers."""
        c = confirmation
        if self.live.replace_verdict(c.row_id, c.shift_id, c.defective, c.shipped):
            self.on_confirmation(c.defective, c.shipped)

    @Slot(object)
    def live_scores(self, max_scores: Any) -> None:
        """Per-class max scores of one live part for the drift alarm (NaN: skipped)."""
        if self.drift is None:
            return
        self.drift.add(np.asarray(max_scores, dtype=np.float32))
        # A report is a few dozen numbers: cheap enough for every part of a line.
        self.drift_changed.emit(self.drift.report())

    def drift_report(self) -> DriftReport | None:
        return None if self.drift is None else self.drift.report()
