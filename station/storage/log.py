"""The inspection log: every part committed durably before its outcome is shown.

SQLite in WAL mode with `synchronous=FULL` makes each commit survive a power
cut, at roughly 0.5–1 ms per commit on this class of disk. To log thousands
of parts a second without weakening that, one writer thread owns the
connection and commits every row waiting at that moment in one transaction
(group commit); each caller blocks until the transaction holding its row has
committed. A failed transaction fails every caller in it with
`LogUnavailable`; the next batch tries again (the operator may have freed
space or closed the program holding a lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.decision import Outcome
from station.core.detections import Detections
from station.core.errors import StationError
from station.core.inspection import Inspection, threshold_set_id
from station.core.shifts import ShiftSchedule, ShiftSpan
from station.core.thresholds import ThresholdSet
from station.storage import archive as arch
from station.storage.audit import append_events, canonical_details
from station.storage.errors import LogUnavailable, explain
from station.storage.paths import archive_dir
from station.storage.schema import connect

_INSERT_INSPECTION = """
INSERT INTO inspections (
    id, time_utc, station_id, product, shift_id, sequence, outcome, reasons, class_names,
    max_scores, kept, threshold_set_id, model_sha256, latency_ms, truth_defective, zone, why,
    extra, image_path, image_bytes
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_EMPTY_KEPT = '{"class_id":[],"confidence":[],"xyxy":[]}'
_ONE_SHIFT_PER_UTC_DAY = ShiftSchedule("UTC", ("00:00",), ("day",))


class _Kind(Enum):
    INSPECTION = 1
    EVENT = 2
    CONFIRM = 3
    ATTACH = 4  # an archived frame joins its (already committed) row
    THRESHOLDS = 5  # a threshold set, stored by its id for the part view


class _Item:
    __slots__ = ("error", "frame", "kind", "payload", "row_id", "shift")

    def __init__(
        self,
        kind: _Kind,
        payload: tuple[Any, ...],
        frame: npt.NDArray[np.uint8] | None = None,
        shift: ShiftSpan | None = None,
    ) -> None:
        self.kind = kind
        self.payload = payload
        self.frame = frame
        self.shift = shift
        self.row_id = 0
        self.error: StationError | None = None


class _Done:
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


class _Batch:
    __slots__ = ("done", "error", "items")

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self.done = _Done()
        self.error: LogUnavailable | None = None


class PendingRecord:
    """A submitted row; `result()` blocks until its transaction committed (or failed)."""

    __slots__ = ("_batch", "_item")

    def __init__(self, batch: _Batch, item: _Item) -> None:
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


@dataclass(frozen=True, slots=True)
class LogStats:
    """Counters of the writer since the log was opened (for the bench and diagnostics)."""

    rows: int
    batches: int
    largest_batch: int
    archive_bytes: int
    pruned_images: int
    archive_failures: int


def _kept_json(kept: Detections) -> str:
    if not len(kept):
        return _EMPTY_KEPT
    doc: dict[str, Any] = {
        "xyxy": np.round(kept.xyxy.astype(np.float64), 2).tolist(),
        "confidence": kept.confidence.tolist(),
        "class_id": kept.class_id.tolist(),
    }
    for name, column in kept.data.items():
        values = np.asarray(column)
        if values.dtype.kind in "biufUS" and name not in doc:
            doc[name] = values.tolist()
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _reasons_json(ins: Inspection) -> str:
    if not ins.decision.reasons:
        return "[]"
    return json.dumps(
        [
            {"class": r.class_name, "score": r.score, "threshold": r.threshold}
            for r in ins.decision.reasons
        ],
        separators=(",", ":"),
    )


class SqliteInspectionLog:
    """The station's log (see the module docstring for the guarantees).

    `schedule` assigns shifts (and is recorded so reports show their bounds);
    without it every UTC day is one shift named "day". Rejects and
    no-decisions with a frame are archived as `image_format` ("png" or "jpeg")
    under `archive_dir(db_path)`, limited by `archive_limit_mb` (megabytes) and
    `archive_max_age_days` (None: no limit of that kind).
    """

    def __init__(
        self,
        db_path: Path | str,
        *,
        schedule: ShiftSchedule | None = None,
        archive_limit_mb: float | None = 1000.0,
        archive_max_age_days: float | None = None,
        image_format: str = "png",
        busy_timeout_s: float = 2.0,
    ) -> None:
        if image_format not in arch.FORMATS:
            raise StationError(
                f"image_format: expected one of {sorted(arch.FORMATS)}, got {image_format!r}"
            )
        self.db_path = Path(db_path)
        self.archive_dir = archive_dir(self.db_path)
        self.schedule = schedule or _ONE_SHIFT_PER_UTC_DAY
        self.zone = self.schedule.zone
        self.limit = arch.ArchiveLimit(archive_limit_mb, archive_max_age_days)
        self._format = image_format
        self._conn, versions = connect(self.db_path, busy_timeout_s=busy_timeout_s)
        self._cond = threading.Condition()
        self._open = _Batch()
        self._closing = False
        self._closed = False
        self._span_cache: ShiftSpan | None = None
        self._names_cache: dict[tuple[str, ...], str] = {}
        self._known_shifts: set[str] = set()
        self._rows = self._batches = self._largest = self._pruned = self._archive_failures = 0
        self._accepting = True
        self._oldest_image_utc = float("inf")
        self.last_prune_error: LogUnavailable | None = None
        try:
            self._archive_bytes = int(
                self._conn.execute(
                    "SELECT coalesce(sum(image_bytes), 0) FROM inspections "
                    "WHERE image_path IS NOT NULL"
                ).fetchone()[0]
            )
            self._oldest_image_utc = self._oldest_image()
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schedule', ?)",
                (
                    json.dumps(
                        {
                            "zone": self.zone,
                            "starts": self.schedule.starts,
                            "names": self.schedule.names,
                        }
                    ),
                ),
            )
        except sqlite3.Error as exc:
            self._conn.close()
            raise explain(self.db_path, exc) from exc
        self._writer = threading.Thread(
            target=self._run, name="SqliteInspectionLogWriter", daemon=True
        )
        self._writer.start()
        self._archiver = arch.Archiver(
            self.archive_dir, image_format, self._attach_image, self._image_failed
        )
        if versions[0] != versions[1] and versions[0] > 0:
            self.record_event(
                "schema_migrated",
                f"log upgraded from schema {versions[0]} to {versions[1]}",
                old=versions[0],
                new=versions[1],
            )
        self.record_event(
            "log_opened",
            f"log opened by process {os.getpid()}",
            pid=os.getpid(),
            schema=versions[1],
            zone=self.zone,
            archive_limit_mb=self.limit.max_mb,
            archive_max_age_days=self.limit.max_age_days,
        )

    # ----------------------------------------------------------------- writing
    def submit(self, inspection: Inspection) -> PendingRecord:
        """Queue an inspection; the handle's `result()` returns its row id once committed.

        For pipelines that overlap work with the commit. `record()` is `submit().result()`.
        """
        ins = inspection
        span = self._span_for(ins)
        frame = ins.frame if ins.outcome is not Outcome.PASS else None
        truth = None if ins.truth_defective is None else int(bool(ins.truth_defective))
        payload = (
            float(ins.time_utc),
            ins.station_id,
            ins.product,
            span.id,
            int(ins.sequence),
            ins.outcome.value,
            _reasons_json(ins),
            self._names_json(ins.class_names),
            np.asarray(ins.max_scores, dtype="<f4").tobytes(),
            _kept_json(ins.decision.kept),
            ins.threshold_set_id,
            ins.model_sha256,
            float(ins.latency_ms),
            truth,
            self.zone,
            ins.decision.why,
            json.dumps(dict(ins.extra), sort_keys=True) if ins.extra else "{}",
        )
        return self._enqueue(_Item(_Kind.INSPECTION, payload, frame, span))

    def _names_json(self, names: tuple[str, ...]) -> str:
        # One model's class list repeats on every row: encode it once.
        text = self._names_cache.get(names)
        if text is None:
            text = self._names_cache[names] = json.dumps(list(names))
        return text

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
        return self._enqueue(_Item(_Kind.EVENT, payload)).result()

    def register_thresholds(self, thresholds: ThresholdSet) -> str:
        """Store a threshold set under its id (as logged with each part); returns the id.

        Lets a logged part show every class's threshold in force, not only the
        rejecting ones. Threshold changes register both sets themselves.
        """
        tid = threshold_set_id(thresholds)
        payload = (tid, json.dumps(thresholds.to_dict(), sort_keys=True))
        self._enqueue(_Item(_Kind.THRESHOLDS, payload)).result()
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
        if not operator:
            raise StationError("confirmation: operator name is required")
        if not defective and class_name is not None:
            raise StationError(
                f"confirmation: a good part has no defect class (got {class_name!r})"
            )
        payload = (int(inspection_row_id), time.time(), bool(defective), class_name, str(operator))
        return self._enqueue(_Item(_Kind.CONFIRM, payload)).result()

    def close(self) -> None:
        """Commit everything queued, archive every pending frame, close the database.

        Idempotent.
        """
        with self._cond:
            already = not self._accepting
            if not already:
                self._accepting = False
                barrier = _Item(_Kind.EVENT, ())
                self._open.items.append(barrier)
                pending = PendingRecord(self._open, barrier)
                self._cond.notify()
        if already:
            self._writer.join()
            return
        pending.done_wait()  # every row committed, every frame handed to the archiver
        self._archiver.close()  # frames written; their ATTACH items are queued
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._writer.join()
        self._conn.close()
        self._closed = True

    def __enter__(self) -> SqliteInspectionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> LogStats:
        return LogStats(
            self._rows,
            self._batches,
            self._largest,
            self._archive_bytes,
            self._pruned,
            self._archive_failures,
        )

    # ----------------------------------------------------------------- internals
    def _span_for(self, ins: Inspection) -> ShiftSpan:
        span = self._span_cache
        if span is None or not span.contains(ins.time_utc):
            span = self._span_cache = self.schedule.shift_at(ins.time_utc)
        if ins.shift_id and ins.shift_id != span.id:
            # The caller assigned its own shift: keep its id, bounds unknown.
            return ShiftSpan(
                ins.shift_id, ins.shift_id.rpartition("/")[2], float("nan"), float("nan")
            )
        return span

    def _enqueue(self, item: _Item, internal: bool = False) -> PendingRecord:
        with self._cond:
            if not (self._accepting or (internal and not self._closing)):
                raise LogUnavailable(f"inspection log {self.db_path}: the log is closed")
            batch = self._open
            batch.items.append(item)
            if len(batch.items) == 1:
                self._cond.notify()
        return PendingRecord(batch, item)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._open.items and not self._closing:
                    self._cond.wait()
                batch = self._open
                if not batch.items:
                    return  # closing and drained
                self._open = _Batch()
            try:
                self._commit(batch.items)
                self._rows += len(batch.items)
                self._batches += 1
                self._largest = max(self._largest, len(batch.items))
            except (sqlite3.Error, OSError) as exc:
                batch.error = explain(self.db_path, exc)
            except Exception as exc:  # a bug must fail the callers, not kill the writer
                batch.error = LogUnavailable(
                    f"inspection log {self.db_path}: internal error {exc!r}"
                )
            batch.done.set()
            if batch.error is None:
                for it in batch.items:
                    if it.kind is _Kind.INSPECTION and it.frame is not None:
                        tag = "reject" if it.payload[5] == Outcome.REJECT.value else "nodecision"
                        self._archiver.put(
                            arch.PendingImage(it.row_id, it.payload[0], tag, it.frame)
                        )
                self._enforce_archive_limit()

    def _commit(self, items: list[_Item]) -> None:
        conn = self._conn
        attach = [it for it in items if it.kind is _Kind.ATTACH]
        conn.execute("BEGIN IMMEDIATE")
        try:
            inspections = [it for it in items if it.kind is _Kind.INSPECTION]
            if inspections:
                self._insert_inspections(conn, inspections)
            sets = [it.payload for it in items if it.kind is _Kind.THRESHOLDS]
            if sets:
                conn.executemany(
                    "INSERT OR IGNORE INTO threshold_sets (id, thresholds) VALUES (?, ?)", sets
                )
            if attach:
                conn.executemany(
                    "UPDATE inspections SET image_path = ?, image_bytes = ? WHERE id = ?",
                    [(it.payload[1], it.payload[2], it.payload[0]) for it in attach],
                )
            others = [it for it in items if it.kind in (_Kind.EVENT, _Kind.CONFIRM) and it.payload]
            if others:
                self._insert_others(conn, others)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            for it in attach:  # the row will not name it: do not leave it behind
                arch.remove_quietly(self.archive_dir, [it.payload[1]])
            raise
        for it in attach:
            self._archive_bytes += it.payload[2]
            self._oldest_image_utc = min(self._oldest_image_utc, it.payload[3])

    def _attach_image(self, image: arch.PendingImage, rel: str, nbytes: int) -> None:
        """Archiver thread: the frame is on disk; name it in its row."""
        try:
            payload = (image.row_id, rel, nbytes, image.time_utc)
            self._enqueue(_Item(_Kind.ATTACH, payload), internal=True)
        except LogUnavailable:
            arch.remove_quietly(self.archive_dir, [rel])

    def _image_failed(self, image: arch.PendingImage, exc: BaseException) -> None:
        """Archiver thread: the frame could not be written; the row stays, the event says so."""
        row_id = image.row_id
        self._archive_failures += 1
        why = explain(self.db_path, exc) if isinstance(exc, OSError) else exc
        payload = (
            time.time(),
            "archive_error",
            f"reject archive: frame of part {row_id} not saved: {why}",
            canonical_details({"row_id": row_id, "error": str(exc)}),
        )
        with contextlib.suppress(LogUnavailable):
            self._enqueue(_Item(_Kind.EVENT, payload), internal=True)

    def _oldest_image(self) -> float:
        row = self._conn.execute(
            "SELECT time_utc FROM inspections WHERE image_path IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        return float("inf") if row is None else float(row[0])

    def _insert_inspections(self, conn: sqlite3.Connection, items: list[_Item]) -> None:
        next_id = (
            int(conn.execute("SELECT coalesce(max(id), 0) FROM inspections").fetchone()[0]) + 1
        )
        rows = []
        new_shifts = []
        for it in items:
            it.row_id = next_id
            next_id += 1
            rows.append((it.row_id, *it.payload, None, 0))
            span = it.shift
            if span is not None and span.id not in self._known_shifts:
                self._known_shifts.add(span.id)
                bounds = (
                    (None, None) if np.isnan(span.start_utc) else (span.start_utc, span.end_utc)
                )
                new_shifts.append((span.id, span.name, *bounds, self.zone))
        conn.executemany(_INSERT_INSPECTION, rows)
        if new_shifts:
            conn.executemany(
                "INSERT OR IGNORE INTO shifts (id, name, start_utc, end_utc, zone) "
                "VALUES (?, ?, ?, ?, ?)",
                new_shifts,
            )

    def _insert_others(self, conn: sqlite3.Connection, items: list[_Item]) -> None:
        events: list[tuple[_Item | None, Any]] = []
        for it in items:
            if it.kind is _Kind.EVENT:
                events.append((it, it.payload))
                continue
            iid, t, defective, class_name, operator = it.payload
            row = conn.execute(
                "SELECT class_names FROM inspections WHERE id = ?", (iid,)
            ).fetchone()
            if row is None:
                it.error = StationError(f"confirmation: no logged part with row id {iid}")
                continue
            names = json.loads(row[0])
            if class_name is not None and class_name not in names:
                it.error = StationError(
                    f"confirmation: {class_name!r} is not a class of the part's model; "
                    f"its classes are: {', '.join(names)}"
                )
                continue
            cur = conn.execute(
                "INSERT INTO confirmations "
                "(inspection_id, time_utc, defective, class_name, operator) VALUES (?, ?, ?, ?, ?)",
                (iid, t, int(defective), class_name, operator),
            )
            it.row_id = int(cur.lastrowid or 0)
            verdict = "really defective" if defective else "really good"
            if class_name:
                verdict += f" ({class_name})"
            details = canonical_details(
                {
                    "inspection_id": iid,
                    "defective": defective,
                    "class_name": class_name,
                    "operator": operator,
                    "confirmation_id": it.row_id,
                }
            )
            events.append((None, (t, "confirmation", f"{operator}: part {iid} {verdict}", details)))
        if events:
            ids = append_events(conn, [e for _, e in events])
            for (owner, _), event_id in zip(events, ids, strict=True):
                if owner is not None:
                    owner.row_id = event_id

    def _enforce_archive_limit(self) -> None:
        max_bytes = self.limit.max_bytes
        over = max_bytes is not None and self._archive_bytes > max_bytes
        now = time.time()
        max_age_s = None if self.limit.max_age_days is None else self.limit.max_age_days * 86400.0
        aged = max_age_s is not None and self._oldest_image_utc < now - max_age_s
        if not (over or aged):
            return
        try:
            self._prune(now, over, aged)
            self.last_prune_error = None
        except (sqlite3.Error, OSError) as exc:
            self.last_prune_error = explain(self.db_path, exc)

    def _prune(self, now: float, over: bool, aged: bool) -> None:
        conn = self._conn
        victims: list[tuple[int, str, int]] = []
        cutoff = now - (self.limit.max_age_days or 0.0) * 86400.0
        target = None if self.limit.max_bytes is None else int(self.limit.max_bytes * 0.9)
        remaining = self._archive_bytes
        after = 0
        while True:
            chunk = conn.execute(
                "SELECT id, time_utc, image_path, image_bytes FROM inspections "
                "WHERE image_path IS NOT NULL AND id > ? ORDER BY id LIMIT 512",
                (after,),
            ).fetchall()
            if not chunk:
                break
            for row_id, t, rel, nbytes in chunk:
                too_old = aged and t < cutoff
                too_big = over and target is not None and remaining > target
                if not (too_old or too_big):
                    chunk = []
                    break
                victims.append((row_id, rel, nbytes))
                remaining -= nbytes
            if not chunk:
                break
            after = chunk[-1][0]
        if not victims:
            self._oldest_image_utc = self._oldest_image()
            return
        freed = sum(v[2] for v in victims)
        why = []
        if over:
            why.append(f"size limit {self.limit.max_mb:g} MB")
        if aged:
            why.append(f"age limit {self.limit.max_age_days:g} days")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "UPDATE inspections SET image_path = NULL, image_pruned_utc = ? WHERE id = ?",
                [(now, v[0]) for v in victims],
            )
            details = canonical_details(
                {
                    "images": len(victims),
                    "bytes": freed,
                    "first_row": victims[0][0],
                    "last_row": victims[-1][0],
                    "limit_mb": self.limit.max_mb,
                    "max_age_days": self.limit.max_age_days,
                }
            )
            append_events(
                conn,
                [
                    (
                        now,
                        "archive_pruned",
                        f"reject archive: removed {len(victims)} oldest images "
                        f"({freed / 1e6:.1f} MB) for the {' and '.join(why)}; rows kept",
                        details,
                    )
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Only after the rows stopped naming them: a crash here leaves files, never dangling rows.
        arch.remove_quietly(self.archive_dir, [v[1] for v in victims])
        self._archive_bytes -= freed
        self._pruned += len(victims)
        self._oldest_image_utc = self._oldest_image()
