"""Group commit: one writer thread commits every row waiting at that moment in one transaction.

A durable commit (WAL, `synchronous=FULL`) costs about a millisecond whatever
it holds, so the writer takes everything queued since its last commit;
each caller blocks until the transaction holding its row has committed. A
failed transaction fails every caller in it with `LogUnavailable`; the next
batch tries again (the operator may have freed space or closed the program
holding a lock).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.shifts import ShiftSpan
from station.storage.errors import LogUnavailable


class Kind(Enum):
    INSPECTION = 1
    EVENT = 2
    CONFIRM = 3
    ATTACH = 4  # an archived frame joins its (already committed) row
    THRESHOLDS = 5  # a threshold set, stored by its id for the part view
    SHADOW = 6  # a shadow model's would-be outcome beside a committed part


class Item:
    """One row to commit; the commit sets `row_id`, or `error` when it refuses this row alone."""

    __slots__ = ("error", "frame", "kind", "payload", "row_id", "shift", "tail")

    def __init__(
        self,
        kind: Kind,
        payload: tuple[Any, ...],
        frame: npt.NDArray[np.uint8] | None = None,
        shift: ShiftSpan | None = None,
        tail: bytes = b"",
    ) -> None:
        self.kind = kind
        self.tail = tail  # the row's canonical bytes after its id (chained rows)
        self.payload = payload
        self.frame = frame
        self.shift = shift
        self.row_id = 0
        self.error: StationError | None = None


class Done:
    """A one-shot event that wakes each waiter through its own lock.

    `threading.Event` makes every woken waiter re-acquire one shared lock; with
    dozens of callers in one commit that queue costs more than the commit.
    """

    __slots__ = ("_flag", "_lock", "_waiters")

    def __init__(self) -> None:
        self._flag = False
        self._lock = threading.Lock()
        self._waiters: list[threading.Lock] = []

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._lock:
            self._flag = True
            waiters, self._waiters = self._waiters, []
        for w in waiters:
            w.release()

    def wait(self, timeout_s: float | None = None) -> bool:
        if self._flag:
            return True
        waiter = threading.Lock()
        waiter.acquire()
        with self._lock:
            if self._flag:
                return True
            self._waiters.append(waiter)
        if waiter.acquire(timeout=-1 if timeout_s is None else timeout_s):
            return True
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return self._flag


LAZY_S = 0.2
"""How long lazy items (an archived frame's path) wait for a row to ride along with."""


class Batch:
    __slots__ = ("done", "error", "items", "since", "urgent")

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.done = Done()
        self.error: LogUnavailable | None = None
        self.urgent = False  # holds an item someone waits for (not only lazy ones)
        self.since = 0.0  # monotonic time of the first item


class PendingRecord:
    """A submitted row; `result()` blocks until its transaction committed (or failed)."""

    __slots__ = ("_batch", "_item")

    def __init__(self, batch: Batch, item: Item) -> None:
        self._batch = batch
        self._item = item

    def done(self) -> bool:
        return self._batch.done.is_set()

    def done_wait(self) -> None:
        self._batch.done.wait()

    def result(self, timeout_s: float | None = None) -> int:
        """The committed row id; raises LogUnavailable (not committed) or StationError (refused)."""
        if not self._batch.done.wait(timeout_s):
            raise TimeoutError(f"log commit not finished after {timeout_s} s")
        if self._batch.error is not None:
            raise self._batch.error
        if self._item.error is not None:
            raise self._item.error
        return self._item.row_id


class GroupCommitWriter:
    """The writer thread. `commit(items)` runs one transaction; `after(items)` runs once it held.

    `explain` turns an sqlite3/OS error into the `LogUnavailable` every caller of the
    batch gets; `name` ("inspection log <path>") starts the writer's own messages.
    Items queued `internal`ly (the archiver's) are still taken while the log closes,
    until `finish()`.
    """

    def __init__(
        self,
        commit: Callable[[list[Item]], None],
        after: Callable[[list[Item]], None],
        explain: Callable[[BaseException], LogUnavailable],
        name: str,
    ) -> None:
        self._commit, self._after, self._explain, self._name = commit, after, explain, name
        self._cond = threading.Condition()
        self._open = Batch()
        self._accepting = True
        self._closing = False
        self.rows = self.batches = self.largest = 0
        self._thread = threading.Thread(target=self._run, name="SqliteInspectionLogWriter")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def enqueue(self, item: Item, internal: bool = False, lazy: bool = False) -> PendingRecord:
        """Queue a row. A `lazy` one (nobody waits for it) is committed with the next other
        row, or `LAZY_S` after it came: a line's archived frames then cost no commit of their
        own."""
        with self._cond:
            if not (self._accepting or (internal and not self._closing)):
                raise LogUnavailable(f"{self._name}: the log is closed")
            batch = self._open
            batch.items.append(item)
            first = len(batch.items) == 1
            if first:
                batch.since = time.monotonic()
            if first or not (lazy or batch.urgent):  # the writer's wait changes
                batch.urgent = batch.urgent or not lazy
                self._cond.notify()
        return PendingRecord(batch, item)

    def stop_intake(self) -> PendingRecord | None:
        """Refuse new rows; the returned handle is done once every queued row committed.

        None when intake had already stopped (a second close).
        """
        with self._cond:
            if not self._accepting:
                return None
            self._accepting = False
            barrier = Item(Kind.EVENT, ())  # an event without payload writes nothing
            self._open.items.append(barrier)
            self._open.urgent = True  # the closing caller waits for it
            self._cond.notify()
            return PendingRecord(self._open, barrier)

    def finish(self) -> None:
        """Commit what internal callers queued meanwhile, then end the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    def join(self) -> None:
        self._thread.join()

    def _wait_s(self) -> float | None:
        """How long until the open batch is due (0: now; None: it is empty)."""
        batch = self._open
        if self._closing or batch.urgent:
            return 0.0
        if not batch.items:
            return None
        return max(0.0, batch.since + LAZY_S - time.monotonic())

    def _run(self) -> None:
        while True:
            with self._cond:
                while (wait_s := self._wait_s()) != 0.0:
                    self._cond.wait(wait_s)
                batch = self._open
                if not batch.items:
                    return  # closing and drained
                self._open = Batch()
            try:
                self._commit(batch.items)
                self.rows += len(batch.items)
                self.batches += 1
                self.largest = max(self.largest, len(batch.items))
            except (sqlite3.Error, OSError) as exc:
                batch.error = self._explain(exc)
            except Exception as exc:  # a bug must fail the callers, not kill the writer
                batch.error = LogUnavailable(f"{self._name}: internal error {exc!r}")
            batch.done.set()
            if batch.error is None:
                self._after(batch.items)
