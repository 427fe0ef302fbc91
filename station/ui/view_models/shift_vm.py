"""The shift view's state: the current and past shifts as the log tells them.

Whole-shift summaries can scan many rows, so they run as a job on the job
runner (`station.ui.jobs`) and arrive through a signal to this GUI-thread
object; a refresh asked while one is running is coalesced into one more run.
One logged part and its confirmation are `part_vm`'s.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from station.core.jobs import Progress
from station.core.selection import Selection
from station.core.shift_report import ShiftReport
from station.core.shifts import ShiftSchedule, ShiftSpan
from station.storage.errors import explain
from station.storage.opening import connect_reader
from station.storage.queries import PartLine, recent_parts
from station.storage.reports import shift_report
from station.storage.shadow import Disagreement, disagreements
from station.ui.jobs import JobRunner
from station.ui.view_models.chain_vm import ChainWatch


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

    @property
    def shift_ids(self) -> tuple[str, ...]:
        """The shown shifts: the current one and the past ones."""
        return (self.current.id, *(s.id for s in self.past))


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
    `chain` checks the audit chains under the shown shifts (`chain_vm`): after the
    first read, every `chain_every_s` and at once after `refresh_all`.
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
        chain_every_s: float = 300.0,
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
        self.chain = ChainWatch(self.db_path, every_s=chain_every_s, parent=self)
        self.chain.changed.connect(self.changed)
        self._chain_now = False
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
        """Read the current and the past shifts again, and check the chains under them
        (after a confirmation, say)."""
        self._chain_now = True
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
        self.chain.watch(summary.shift_ids, now=self._chain_now)
        self._chain_now = False
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
        self.chain.close()
