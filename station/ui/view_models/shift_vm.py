"""The shift view and the part view's state: summaries from the log, confirmations to it.

Whole-shift summaries can scan many rows, so they run as a job on the job
runner (`station.ui.jobs`) and arrive through a signal to this GUI-thread
object; a refresh asked while one is running is coalesced into one more run. A
single part is a small indexed query and is read on the GUI thread.
Confirmations go to the log the inspection worker writes (its `confirm`
is thread-safe and returns once durably committed).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from station.core.decision import Decision
from station.core.detections import Detections
from station.core.errors import StationError
from station.core.inspection import Inspection
from station.core.jobs import Progress
from station.core.outcomes import ships
from station.core.shifts import ShiftSchedule, ShiftSpan
from station.pipeline.results import PartResult
from station.storage.errors import explain
from station.storage.opening import connect_reader
from station.storage.queries import LoggedPart, PartLine, load_image, load_part, recent_parts
from station.storage.reports import Selection, ShiftReport, shift_report
from station.storage.shadow import Disagreement, disagreements
from station.ui.jobs import JobRunner


class ConfirmSink(Protocol):
    """What confirmations need of the log (`SqliteInspectionLog.confirm`)."""

    def confirm(
        self, inspection_row_id: int, defective: bool, class_name: str | None, operator: str
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class ShiftSummary:
    """The current shift, the past shifts (newest first), the current shift's latest
    rejects and no-decisions (newest first) and shadow disagreements, as read from the log
    at `read_utc`."""

    current: ShiftReport
    past: tuple[ShiftReport, ...]
    recent: tuple[PartLine, ...]
    zone: str
    read_utc: float
    past_read_utc: float
    disagreements: tuple[Disagreement, ...] = ()
    """The shadow model's disagreements this shift, waiting for confirmation first."""


def _empty(span: ShiftSpan, zone: str) -> ShiftReport:
    return ShiftReport(span.id, span.name, span.start_utc, span.end_utc, zone)


def summarize(
    db_path: Path,
    schedule: ShiftSchedule,
    now_utc: float,
    past_days: float,
    previous: ShiftSummary | None = None,
    past_max_age_s: float = 300.0,
) -> ShiftSummary:
    """Plain function (no Qt): read the current and past shifts from the log.

    Past shifts hardly change (only by late confirmations), so those of `previous`
    are reused while the shift is the same and they are younger than `past_max_age_s`.
    """
    span = schedule.shift_at(now_utc)
    current = shift_report(db_path, Selection(shift_id=span.id)).shifts
    if (
        previous is not None
        and previous.current.id == span.id
        and now_utc - previous.past_read_utc < past_max_age_s
    ):
        past_sorted, past_read = previous.past, previous.past_read_utc
    else:
        past = shift_report(
            db_path, Selection(start_utc=now_utc - past_days * 86400.0, end_utc=span.start_utc)
        ).shifts
        past_sorted = tuple(sorted(past, key=lambda s: s.start_utc or 0.0, reverse=True))
        past_read = now_utc
    conn = connect_reader(db_path)
    try:
        recent = recent_parts(conn, span.id, limit=30)
        disagreeing = disagreements(conn, span.id, limit=50)
    except sqlite3.Error as exc:
        raise explain(db_path, exc) from exc
    finally:
        conn.close()
    cur = current[0] if current else _empty(span, schedule.zone)
    return ShiftSummary(
        cur, past_sorted, tuple(recent), schedule.zone, now_utc, past_read, tuple(disagreeing)
    )


class ShiftViewModel(QObject):
    """Per-shift figures for the ShiftPanel, refreshed every `refresh_s` seconds.

    A read of a long shift can take a second on a busy machine, so the interval
    stretches to at least 5x the last read's duration (the log never eats more
    than a fifth of a core). `clock` returns UTC epoch seconds (injectable).
    """

    changed = Signal()
    failed = Signal(str)

    def __init__(
        self,
        db_path: Path,
        schedule: ShiftSchedule,
        *,
        past_days: float = 7.0,
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.schedule = schedule
        self._clock = clock
        self._summary: ShiftSummary | None = None
        self._error = ""
        self._busy = False
        self._again = False
        self._closed = False
        self._past_days = past_days
        self._refresh_ms = int(refresh_s * 1000)
        self._started = 0.0
        self.runner = JobRunner("ShiftSummary", self)
        self.runner.finished.connect(self._on_ready)
        self.runner.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(self._refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    @property
    def summary(self) -> ShiftSummary | None:
        return self._summary

    @property
    def error(self) -> str:
        """Why the log could not be read last time ("" when it could)."""
        return self._error

    @property
    def busy(self) -> bool:
        return self._busy

    def refresh_all(self) -> None:
        """Read the current and the past shifts again (after a confirmation, say)."""
        if self._summary is not None:
            s = self._summary
            self._summary = replace(s, past_read_utc=-1e300)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Read the log again (on the worker thread); coalesced while a read runs."""
        if self._closed:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._started = time.monotonic()
        now, previous, days = self._clock(), self._summary, self._past_days
        db, schedule = self.db_path, self.schedule

        def job(progress: Progress) -> ShiftSummary:
            return summarize(db, schedule, now, days, previous)

        self.runner.start(job)

    def _done(self) -> None:
        self._busy = False
        took_ms = (time.monotonic() - self._started) * 1000.0
        self._timer.setInterval(max(self._refresh_ms, int(5 * took_ms)))
        if self._again and not self._closed:
            self._again = False
            self.refresh()

    @Slot(object)
    def _on_ready(self, summary: object) -> None:
        assert isinstance(summary, ShiftSummary)
        self._summary = summary
        self._error = ""
        self._done()
        self.changed.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._error = message
        self._done()
        self.failed.emit(message)
        self.changed.emit()

    def close(self) -> None:
        """Stop refreshing and join a read in progress (a read is short; it is not cut)."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.runner.join()


@dataclass(frozen=True, slots=True)
class PartConfirmation:
    """An operator's verdict, durably logged, on the logged part `row_id` of shift `shift_id`.

    `shipped`: whether the station passed the part (a part rejected or given no
    decision was not shipped).
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
        self.load(part.row_id)
        self.confirmed.emit(f"part {part.sequence} confirmed {verdict}")
        shipped = ships(part.outcome)
        self.part_confirmed.emit(PartConfirmation(part.row_id, part.shift_id, defective, shipped))

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
