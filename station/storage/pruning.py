"""Keeping the reject archive within its limits: the oldest frames go, their rows stay.

Past the size limit the oldest frames are deleted until the archive is at 90%
of it (so pruning does not run at every frame); past the age limit every older
frame goes. The rows lose their `image_path` (not sealed by the chain) and an
`archive_pruned` event says how many frames and bytes went, for which limit.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from station.storage import archive as arch
from station.storage.archive_limit import ArchiveLimit
from station.storage.audit import append_events, canonical_details
from station.storage.errors import LogUnavailable, explain


class ArchiveBudget:
    """The archive's size and age bookkeeping, used on the writer thread only."""

    def __init__(
        self, conn: sqlite3.Connection, db_path: Path, folder: Path, limit: ArchiveLimit
    ) -> None:
        self._conn, self._db_path, self._folder, self.limit = conn, db_path, folder, limit
        self.bytes = int(
            conn.execute(
                "SELECT coalesce(sum(image_bytes), 0) FROM inspections WHERE image_path IS NOT NULL"
            ).fetchone()[0]
        )
        self.oldest_utc = self._oldest_image()
        self.pruned = 0
        self.last_error: LogUnavailable | None = None

    def added(self, nbytes: int, time_utc: float) -> None:
        """A frame was attached to its row (committed)."""
        self.bytes += nbytes
        self.oldest_utc = min(self.oldest_utc, time_utc)

    def _oldest_image(self) -> float:
        row = self._conn.execute(
            "SELECT time_utc FROM inspections WHERE image_path IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        return float("inf") if row is None else float(row[0])

    def enforce(self) -> None:
        """Prune when over a limit; a failure is kept in `last_error` (the next batch retries)."""
        max_bytes = self.limit.max_bytes
        over = max_bytes is not None and self.bytes > max_bytes
        now = time.time()
        max_age_s = None if self.limit.max_age_days is None else self.limit.max_age_days * 86400.0
        aged = max_age_s is not None and self.oldest_utc < now - max_age_s
        if not (over or aged):
            return
        try:
            self._prune(now, over, aged)
            self.last_error = None
        except (sqlite3.Error, OSError) as exc:
            self.last_error = explain(self._db_path, exc)

    def _victims(self, now: float, over: bool, aged: bool) -> list[tuple[int, str, int]]:
        victims: list[tuple[int, str, int]] = []
        cutoff = now - (self.limit.max_age_days or 0.0) * 86400.0
        target = None if self.limit.max_bytes is None else int(self.limit.max_bytes * 0.9)
        remaining = self.bytes
        after = 0
        while True:
            chunk = self._conn.execute(
                "SELECT id, time_utc, image_path, image_bytes FROM inspections "
                "WHERE image_path IS NOT NULL AND id > ? ORDER BY id LIMIT 512",
                (after,),
            ).fetchall()
            if not chunk:
                return victims
            for row_id, t, rel, nbytes in chunk:
                too_old = aged and t < cutoff
                too_big = over and target is not None and remaining > target
                if not (too_old or too_big):
                    return victims
                victims.append((row_id, rel, nbytes))
                remaining -= nbytes
            after = chunk[-1][0]

    def _prune(self, now: float, over: bool, aged: bool) -> None:
        conn = self._conn
        victims = self._victims(now, over, aged)
        if not victims:
            self.oldest_utc = self._oldest_image()
            return
        freed = sum(v[2] for v in victims)
        why = []
        if over:
            why.append(f"size limit {self.limit.max_mb:g} MB")
        if aged:
            why.append(f"age limit {self.limit.max_age_days:g} days")
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
        message = (
            f"reject archive: removed {len(victims)} oldest images ({freed / 1e6:.1f} MB) for "
            f"the {' and '.join(why)}; rows kept"
        )
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "UPDATE inspections SET image_path = NULL, image_pruned_utc = ? WHERE id = ?",
                [(now, v[0]) for v in victims],
            )
            append_events(conn, [(now, "archive_pruned", message, details)])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Only after the rows stopped naming them: a crash here leaves files, never dangling rows.
        arch.remove_quietly(self._folder, [v[1] for v in victims])
        self.bytes -= freed
        self.pruned += len(victims)
        self.oldest_utc = self._oldest_image()
