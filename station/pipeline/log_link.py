"""The pipeline's side of the inspection log: opened on first use, never a crash.

Every failure (the log cannot be opened, refuses a part, cannot write an event or close)
becomes a fault the operator sees; a part the log refused is NO DECISION upstream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from station.core.inspection import Inspection
from station.pipeline.acquisition import one_line
from station.pipeline.setup import InspectionLog, PendingCommit


class LogLink:
    """Opens the log on the pipeline's thread (`open_log`), reports through `fault`."""

    def __init__(
        self,
        open_log: Callable[[], InspectionLog],
        fault: Callable[[str], None],
        shut: Callable[[], bool],
    ) -> None:
        self._open_log = open_log
        self._fault = fault
        self._shut = shut
        self._log: InspectionLog | None = None

    def open(self) -> bool:
        if self._log is not None:
            return True
        if self._shut():
            return False
        try:
            self._log = self._open_log()
        except Exception as exc:
            self._fault(f"log unavailable: {one_line(exc)}")
            return False
        return True

    def submit(self, inspection: Inspection) -> PendingCommit | BaseException:
        """The record queued for commit, or why the log refused it at once."""
        if not self.open() or self._log is None:
            return LookupError("log not open")
        try:
            return self._log.submit(inspection)
        except Exception as exc:
            return exc

    def committed(self, commit: PendingCommit | BaseException) -> int | None:
        """The row id once committed; None (and a fault) when the log refused the part."""
        try:
            if isinstance(commit, BaseException):
                raise commit
            row = commit.result()
        except LookupError:  # the log could not be opened: already reported
            return None
        except Exception as exc:
            self._fault(f"log unavailable: {one_line(exc)}")
            return None
        return int(row) if isinstance(row, int) else -1

    def event(self, kind: str, message: str, **details: Any) -> None:
        self.write(lambda log: log.record_event(kind, message, **details))

    def write(self, write: Callable[[InspectionLog], object]) -> None:
        """`write(log)` now; a failure becomes a fault for the operator, never a crash."""
        if not self.open() or self._log is None:
            return
        try:
            write(self._log)
        except Exception as exc:
            self._fault(f"log unavailable: {one_line(exc)}")

    def close(self) -> None:
        if self._log is None:
            return
        try:
            self._log.close()
        except Exception as exc:  # report, never swallow
            self._fault(f"log: could not close: {one_line(exc)}")
        self._log = None
