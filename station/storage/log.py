"""The inspection log: every part committed durably before its outcome is shown.

SQLite in WAL mode with `synchronous=FULL` makes each commit survive a power
cut; group commit (`writer`) logs thousands of parts a second without
weakening that. Inspections and confirmations are hash-chained (`chain`), the
events form their own chain (`audit`), the reject archive is written on its
own thread (`archive`) and kept within its limits (`pruning`). This module
is the station's one entry point to all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.decision import Outcome
from station.core.errors import StationError
from station.core.inspection import Inspection, threshold_set_id
from station.core.shifts import ShiftSchedule
from station.core.thresholds import ThresholdSet
from station.storage import archive as arch
from station.storage.archive_limit import DEFAULT_ARCHIVE, ArchiveLimit
from station.storage.audit import canonical_details
from station.storage.chain import canonical_tail, chain_anchors
from station.storage.confirmations import confirmation_payload, insert_entries
from station.storage.errors import LogUnavailable, explain
from station.storage.frames import FrameFeed
from station.storage.inspections import InspectionRows
from station.storage.opening import connect
from station.storage.paths import archive_dir
from station.storage.pruning import ArchiveBudget
from station.storage.shadow import insert_rows as insert_shadow_rows
from station.storage.writer import GroupCommitWriter, Item, Kind, PendingRecord

_ONE_SHIFT_PER_UTC_DAY = ShiftSchedule("UTC", ("00:00",), ("day",))

__all__ = ["LogStats", "PendingRecord", "SqliteInspectionLog"]


@dataclass(frozen=True, slots=True)
class LogStats:
    """Counters of the writer since the log was opened (for the bench and diagnostics)."""

    rows: int
    batches: int
    largest_batch: int
    archive_bytes: int
    pruned_images: int
    archive_failures: int
    archive_stored: int = 0
    """Frames written undeflated because others were waiting (lossless uncompressed TIFF)."""
    archive_overflows: int = 0
    """Frames the writer thread wrote itself because the archive queue was full."""


class SqliteInspectionLog:
    """The station's log (see the module docstring for the guarantees).

    `schedule` assigns shifts (and is recorded so reports show their bounds);
    without it every UTC day is one shift named "day". Rejects and
    no-decisions with a frame are archived losslessly as `image_format` ("png")
    under `archive_dir(db_path)`, kept within `archive` (the recipe's ArchiveLimit).
    """

    def __init__(
        self,
        db_path: Path | str,
        *,
        schedule: ShiftSchedule | None = None,
        archive: ArchiveLimit = DEFAULT_ARCHIVE,
        image_format: str = "png",
        busy_timeout_s: float = 2.0,
    ) -> None:
        if image_format not in arch.FORMATS:
            raise StationError(
                f"image_format: expected one of {sorted(arch.FORMATS)} (the reject archive "
                f"is lossless), got {image_format!r}"
            )
        self.db_path = Path(db_path)
        self.archive_dir = archive_dir(self.db_path)
        self.schedule = schedule or _ONE_SHIFT_PER_UTC_DAY
        self.zone = self.schedule.zone
        self.limit = archive
        self._format = image_format
        self._conn, versions = connect(self.db_path, busy_timeout_s=busy_timeout_s)
        self._rows = InspectionRows(self.schedule)
        try:
            self._budget = ArchiveBudget(self._conn, self.db_path, self.archive_dir, self.limit)
            anchors = chain_anchors(self._conn)
            self._rows.record_schedule(self._conn)
        except sqlite3.Error as exc:
            self._conn.close()
            raise explain(self.db_path, exc) from exc
        self._writer = GroupCommitWriter(
            self._commit,
            self._after_commit,
            lambda exc: explain(self.db_path, exc),
            f"inspection log {self.db_path}",
        )
        self._writer.start()
        self._frames = FrameFeed(self._writer, self.archive_dir, image_format, self.db_path)
        self.record_event(
            "log_opened",
            f"log opened by process {os.getpid()}",
            pid=os.getpid(),
            schema=versions[1],
            zone=self.zone,
            archive_limit_mb=self.limit.max_mb,
            archive_max_age_days=self.limit.max_age_days,
            chain=anchors,
        )

    # ----------------------------------------------------------------- writing
    def submit(self, inspection: Inspection) -> PendingRecord:
        """Queue an inspection; the handle's `result()` returns its row id once committed.

        For pipelines that overlap work with the commit. `record()` is `submit().result()`.
        """
        span = self._rows.span_for(inspection)
        frame = inspection.frame if inspection.outcome is not Outcome.PASS else None
        payload = self._rows.payload(inspection, span)
        tail = canonical_tail("inspections", payload)  # here, not on the writer's thread
        return self._writer.enqueue(Item(Kind.INSPECTION, payload, frame, span, tail))

    def record(self, inspection: Inspection) -> int:
        """Log one inspection; returns its row id only after the row is durably committed.

        Raises LogUnavailable when it could not be committed: do not pass the part.
        """
        return self.submit(inspection).result()

    def record_event(self, kind: str, message: str, **details: Any) -> int:
        """Append an entry to the hash-chained event trail; returns its id once committed.

        Kinds used by the station: camera_lost, camera_found, model_loaded, error,
        threshold_change, confirmation, archive_pruned, log_opened, schema_migrated.
        """
        payload = (time.time(), str(kind), str(message), canonical_details(details))
        return self._writer.enqueue(Item(Kind.EVENT, payload)).result()

    def register_thresholds(self, thresholds: ThresholdSet) -> str:
        """Store a threshold set under its id (as logged with each part); returns the id.

        Lets a logged part show every class's threshold in force, not only the
        rejecting ones. Threshold changes register both sets themselves.
        """
        tid = threshold_set_id(thresholds)
        payload = (tid, json.dumps(thresholds.to_dict(), sort_keys=True))
        self._writer.enqueue(Item(Kind.THRESHOLDS, payload)).result()
        return tid

    def record_threshold_change(
        self,
        *,
        who: str,
        old: ThresholdSet,
        new: ThresholdSet,
        reason: str,
        model_sha256: str,
        figures: Mapping[str, Any] | None = None,
    ) -> int:
        """Audit a threshold change: who, old -> new, why, the model, and the figures shown.

        `figures` are what the person saw when deciding, e.g. expected escapes
        and scrap per 1000 parts with their intervals.
        """
        moves = ", ".join(old.moves_to(new)) or "no change"
        message = f"{who} changed thresholds: {moves} ({reason})"
        self.register_thresholds(old)
        self.register_thresholds(new)
        return self.record_event(
            "threshold_change",
            message,
            who=who,
            old=old.to_dict(),
            new=new.to_dict(),
            old_id=threshold_set_id(old),
            new_id=threshold_set_id(new),
            reason=reason,
            model_sha256=model_sha256,
            figures=dict(figures or {}),
        )

    def confirm(
        self, inspection_row_id: int, defective: bool, class_name: str | None, operator: str
    ) -> int:
        """Record an operator's verdict on a logged part; returns the confirmation id.

        The latest confirmation of a part is its truth. Raises StationError for
        an unknown row id or a class the part's model does not have.
        """
        payload = confirmation_payload(inspection_row_id, defective, class_name, operator)
        return self._writer.enqueue(Item(Kind.CONFIRM, payload)).result()

    def submit_shadow(
        self, payload: tuple[Any, ...], frame: npt.NDArray[np.uint8] | None = None
    ) -> PendingRecord:
        """Queue a shadow result (`station.storage.shadow.INSERT`'s columns) for a committed
        part; `frame` (a disagreement's, None otherwise) joins the reject archive."""
        return self._writer.enqueue(Item(Kind.SHADOW, payload, frame))

    def close(self) -> None:
        """Commit everything queued, archive every pending frame, close the database.

        Idempotent.
        """
        barrier = self._writer.stop_intake()
        if barrier is None:
            self._writer.join()
            return
        barrier.done_wait()  # every row committed, every frame handed to the archiver
        self._frames.close()  # frames written; their ATTACH items are queued
        self._writer.finish()
        self._conn.close()

    def __enter__(self) -> SqliteInspectionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> LogStats:
        w, b, a = self._writer, self._budget, self._frames.archiver
        return LogStats(
            w.rows, w.batches, w.largest, b.bytes, b.pruned, self._frames.failures,
            a.stored, a.overflows,
        )  # fmt: skip

    @property
    def last_prune_error(self) -> LogUnavailable | None:
        """Why the archive could not be pruned last time (None: it could, or had no need)."""
        return self._budget.last_error

    # ----------------------------------------------------------------- internals
    def _commit(self, items: list[Item]) -> None:
        """Writer thread: one transaction for the whole batch."""
        conn = self._conn
        attach = [it for it in items if it.kind is Kind.ATTACH]
        conn.execute("BEGIN IMMEDIATE")
        try:
            inspections = [it for it in items if it.kind is Kind.INSPECTION]
            if inspections:
                self._rows.insert(conn, inspections)
            sets = [it.payload for it in items if it.kind is Kind.THRESHOLDS]
            if sets:
                conn.executemany(
                    "INSERT OR IGNORE INTO threshold_sets (id, thresholds) VALUES (?, ?)", sets
                )
            if attach:
                conn.executemany(
                    "UPDATE inspections SET image_path = ?, image_bytes = ? WHERE id = ?",
                    [(it.payload[1], it.payload[2], it.payload[0]) for it in attach],
                )
            shadow = [it.payload for it in items if it.kind is Kind.SHADOW]
            if shadow:
                insert_shadow_rows(conn, shadow)
            entries = [it for it in items if it.kind in (Kind.EVENT, Kind.CONFIRM) and it.payload]
            if entries:
                insert_entries(conn, entries)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            for it in attach:  # the row will not name it: do not leave it behind
                arch.remove_quietly(self.archive_dir, [it.payload[1]])
            raise
        for it in attach:
            self._budget.added(it.payload[2], it.payload[3])

    def _after_commit(self, items: list[Item]) -> None:
        """Writer thread: hand the committed rejects' frames to the archiver, then prune."""
        self._frames.committed(items)
        self._budget.enforce()
