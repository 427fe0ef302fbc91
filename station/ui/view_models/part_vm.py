"""The part view's state: one logged part read from the log, the operator's verdict to it.

A single part is a small indexed query and is read on the GUI thread.
Confirmations go to the log the inspection worker writes (its `confirm`
is thread-safe and returns once durably committed).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from station.core.decision import Decision
from station.core.detections import Detections
from station.core.errors import StationError
from station.core.inspection import Inspection
from station.core.outcomes import confirmed_defective, ships
from station.pipeline.results import PartResult
from station.storage.errors import explain
from station.storage.opening import connect_reader
from station.storage.queries import LoggedPart, load_image, load_part


class ConfirmSink(Protocol):
    """What confirmations need of the log (`SqliteInspectionLog.confirm`)."""

    def confirm(
        self, inspection_row_id: int, defective: bool, class_name: str | None, operator: str
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class PartConfirmation:
    """An operator's verdict, durably logged, on the logged part `row_id` of shift `shift_id`.

    `defective` as every count reads the verdict (`outcomes.confirmed_defective`: a class
    that did not reject makes the part good); `shipped`: whether the station passed the
    part (a part rejected or given no decision was not shipped).
    """

    row_id: int
    shift_id: str
    defective: bool
    shipped: bool


class PartDetailViewModel(QObject):
    """One logged part for the PartDetailView, and the operator's confirmation of it.

    `part_confirmed(PartConfirmation)` follows each confirmation the log accepted
    (the tuning view-model counts it in its live estimate).
    """

    part_changed = Signal()
    confirmed = Signal(str)
    failed = Signal(str)
    part_confirmed = Signal(object)  # PartConfirmation

    def __init__(
        self,
        db_path: Path,
        confirm_sink: ConfirmSink | None = None,
        operator: str = "operator",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._sink = confirm_sink
        self.operator = operator
        self._part: LoggedPart | None = None
        self._image: npt.NDArray[np.uint8] | None = None

    @property
    def part(self) -> LoggedPart | None:
        return self._part

    @property
    def image(self) -> npt.NDArray[np.uint8] | None:
        return self._image

    @property
    def can_confirm(self) -> bool:
        return self._sink is not None and self._part is not None

    @Slot(int)
    def load(self, row_id: int) -> None:
        """Read the part `row_id` (and its archived frame) from the log."""
        try:
            conn = connect_reader(self.db_path)
            try:
                part = load_part(conn, self.db_path, row_id)
            except sqlite3.Error as exc:
                raise explain(self.db_path, exc) from exc
            finally:
                conn.close()
        except StationError as exc:
            self.failed.emit(str(exc))
            return
        self._part = part
        self._image = load_image(part)
        self.part_changed.emit()

    @Slot(str)
    def confirm_defective(self, class_name: str = "") -> None:
        """The operator says: really defective (of `class_name`, "" when not said)."""
        self._confirm(True, class_name or None)

    @Slot()
    def confirm_good(self) -> None:
        """The operator says: really good."""
        self._confirm(False, None)

    def _confirm(self, defective: bool, class_name: str | None) -> None:
        part = self._part
        if part is None or self._sink is None:
            self.failed.emit("no part to confirm, or confirmations are not available here")
            return
        try:
            self._sink.confirm(part.row_id, defective, class_name, self.operator)
        except StationError as exc:  # LogUnavailable included: the message says what to do
            self.failed.emit(str(exc))
            return
        verdict = "really defective" if defective else "really good"
        if class_name:
            verdict += f" ({class_name})"
        counted = confirmed_defective(defective, class_name, part.reject_classes)
        if defective and not counted:  # the operator should know why the figures ignore it
            verdict += f": {class_name} does not reject under this recipe, counted as good"
        self.load(part.row_id)
        self.confirmed.emit(f"part {part.sequence} confirmed {verdict}")
        shipped = ships(part.outcome)
        self.part_confirmed.emit(PartConfirmation(part.row_id, part.shift_id, counted, shipped))

    def part_result(self) -> PartResult | None:
        """The part as the live view draws it: its frame, kept boxes and thresholds."""
        p = self._part
        if p is None:
            return None
        decision = Decision(p.outcome, p.reasons, p.kept, p.why)
        ins = Inspection(
            time_utc=p.time_utc,
            station_id=p.station_id,
            product=p.product,
            sequence=p.sequence,
            decision=decision,
            class_names=p.class_names,
            max_scores=p.max_scores,
            threshold_set_id=p.threshold_set_id,
            model_sha256=p.model_sha256,
            latency_ms=p.latency_ms,
            truth_defective=p.truth_defective,
            shift_id=p.shift_id,
        )
        # A kept box cleared its (possibly unrecorded) threshold: draw it as cleared.
        thresholds = np.where(np.isnan(p.thresholds), 0.0, p.thresholds).astype(np.float32)
        kept: Detections = p.kept
        return PartResult(ins, self._image, kept, thresholds, p.rejecting, True, p.row_id)
