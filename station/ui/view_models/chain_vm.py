"""Whether the audit chains under the shown shifts are intact, checked off the GUI thread.

The check is `station report`'s (`storage.integrity.verify_under`). It walks
every row since the oldest shown shift, about 10 µs of CPU a row: far too much
for every five-second refresh of the counters, and it must never hold them up.
So it runs on its own job runner, at most every `every_s` seconds, at once
when asked (Refresh, a confirmation), and a request while one runs is
coalesced into one more check.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from station.core.jobs import Progress
from station.storage.errors import explain
from station.storage.integrity import LogCheck, verify_under
from station.storage.opening import connect_reader
from station.ui.jobs import JobRunner


def check_chain(db_path: Path, shift_ids: Sequence[str]) -> LogCheck:
    """Plain function (no Qt): the chains under these shifts' rows, read in one snapshot."""
    conn = connect_reader(db_path)
    try:
        return verify_under(conn, list(shift_ids))
    except sqlite3.Error as exc:
        raise explain(db_path, exc) from exc
    finally:
        conn.close()


class ChainWatch(QObject):
    """`check` is the latest result (None before the first); `changed` follows each one.

    `clock` returns monotonic seconds (injectable).
    """

    changed = Signal()

    def __init__(
        self,
        db_path: Path,
        *,
        every_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.check: LogCheck | None = None
        self.error = ""
        self._every_s = every_s
        self._clock = clock
        self._last = -math.inf
        self._pending: tuple[str, ...] | None = None
        self._closed = False
        self.runner = JobRunner("ChainCheck", self)
        self.runner.finished.connect(self._on_ready)
        self.runner.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return self.runner.running

    def watch(self, shift_ids: Sequence[str], *, now: bool = False) -> None:
        """Check under `shift_ids` when the last check is `every_s` old (or `now`)."""
        if self._closed or (not now and self._clock() - self._last < self._every_s):
            return
        ids = tuple(shift_ids)
        if self.runner.running:
            self._pending = ids
            return
        self._last = self._clock()
        db = self.db_path

        def job(progress: Progress) -> LogCheck:
            return check_chain(db, ids)

        self.runner.start(job)

    @Slot(object)
    def _on_ready(self, check: object) -> None:
        assert isinstance(check, LogCheck)
        self.check, self.error = check, ""
        self._next()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error = message
        self._next()

    def _next(self) -> None:
        self.changed.emit()
        pending, self._pending = self._pending, None
        if pending is not None:
            self.watch(pending, now=True)

    def close(self) -> None:
        """Stop checking; a check in progress is finished and joined (it is read-only)."""
        self._closed = True
        self.runner.join()
