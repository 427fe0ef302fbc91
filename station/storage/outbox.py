"""The journal's outbox (schema 4), read in sequence order for a forwarder.

Triggers queue every journal row, and every archived frame joining its row, in
`outbox` with a monotonic sequence, in the row's own transaction. This reader
gives a forwarder the rows after a sequence, per kind, in the column order of
station/outputs/central/tables.py. The forwarder has its own connection (the
log's writer is never blocked by it: WAL readers do not lock writers); its
only writes are the acknowledged high-water mark and quarantined rows, one
small transaction each.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.outbox import OutboxBatch, OutboxEntry, QuarantinedRow
from station.storage.errors import explain
from station.storage.opening import UPGRADE_COMMAND, connect, identify
from station.storage.paths import archive_dir
from station.storage.schema import SCHEMA_VERSION


def _select(columns: str, source: str, kind: str) -> str:
    return (
        f"SELECT o.sequence, {columns} FROM outbox o JOIN {source} s ON s.rowid = o.row_id "
        f"WHERE o.kind = '{kind}' AND o.sequence BETWEEN ? AND ? ORDER BY o.sequence"
    )


# Per kind, the columns a central row carries after (station_id, sequence).
# An image's SHA-256 is hashed from the archived file when it is read (None once pruned).
_SELECTS = {
    "inspection": _select(
        "s.id, s.time_utc, s.station_id, s.product, s.shift_id, s.sequence, s.outcome, "
        "s.reasons, s.class_names, s.max_scores, s.kept, s.threshold_set_id, s.model_sha256, "
        "s.latency_ms, s.truth_defective, s.zone, s.why, s.extra, s.link",
        "inspections",
        "inspection",
    ),
    "image": _select("s.id, s.image_path, s.image_bytes", "inspections", "image"),
    "confirmation": _select(
        "s.id, s.inspection_id, s.time_utc, s.defective, s.class_name, s.operator, s.link",
        "confirmations",
        "confirmation",
    ),
    "event": _select(
        "s.id, s.time_utc, s.kind, s.message, s.details, s.prev_hash, s.hash", "events", "event"
    ),
    "shift": _select("s.id, s.name, s.start_utc, s.end_utc, s.zone", "shifts", "shift"),
    "threshold_set": _select("s.id, s.thresholds", "threshold_sets", "threshold_set"),
}


class OutboxJournal:
    """The outbox of the journal at `db_path` as forwarded to `target` (user@host:port/db)."""

    def __init__(self, db_path: Path | str, target: str) -> None:
        self.db_path = Path(db_path)
        kind = identify(self.db_path)  # refuses a directory or another program's file
        if kind.new:
            raise StationError(f"--db {self.db_path}: no such log; pass the station's log")
        if kind.version < SCHEMA_VERSION:
            raise StationError(
                f"--db {self.db_path}: schema version {kind.version} has no outbox (this "
                f"station writes {SCHEMA_VERSION}); upgrade it first: {UPGRADE_COMMAND} "
                f"{self.db_path}"
            )
        self.target = target
        self._conn, _ = connect(self.db_path, busy_timeout_s=10.0)
        self._archive = archive_dir(self.db_path)

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------------ identity
    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def journal_id(self) -> str:
        value = self.meta("journal_id")
        if value is None:  # the migration writes it; only a hand-edited journal lacks it
            raise StationError(f"{self.db_path}: the journal has no journal_id")
        return value

    def station_id(self, wanted: str | None = None) -> str:
        """The journal's station identity, recorded on first use.

        `wanted` (the recipe's station id) must match a recorded one; without it
        the recorded id, else the latest part's station, else the hostname.
        """
        recorded = self.meta("station_id")
        if recorded is not None:
            if wanted is not None and wanted != recorded:
                raise StationError(
                    f"{self.db_path}: this journal belongs to station {recorded!r}, "
                    f"not {wanted!r}; give each station its own log (or keep its [station] id)"
                )
            return recorded
        if wanted is None:
            row = self._conn.execute(
                "SELECT station_id FROM inspections ORDER BY id DESC LIMIT 1"
            ).fetchone()
            wanted = str(row[0]) if row is not None else socket.gethostname()
        self._write("INSERT OR IGNORE INTO meta (key, value) VALUES ('station_id', ?)", (wanted,))
        return self.meta("station_id") or wanted

    def zone(self) -> str:
        raw = self.meta("schedule")
        return "UTC" if raw is None else str(json.loads(raw).get("zone", "UTC"))

    # ------------------------------------------------------------------ reading
    def last_sequence(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(sequence), 0) FROM outbox").fetchone()
        return int(row[0])

    def acked(self) -> int:
        row = self._conn.execute(
            "SELECT sequence FROM outbox_acks WHERE target = ?", (self.target,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def backlog(self, after: int, now: float | None = None) -> tuple[int, float | None]:
        """(rows behind, age in seconds of the oldest of them or None) after sequence `after`.

        Two index lookups, whatever the backlog: sequences have no gaps (AUTOINCREMENT
        values of a rolled-back row are rolled back with it).
        """
        last = self.last_sequence()
        if last <= after:
            return 0, None
        row = self._conn.execute(
            "SELECT queued_utc FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT 1", (after,)
        ).fetchone()
        oldest = None if row is None else max(0.0, (now or time.time()) - float(row[0]))
        return last - after, oldest

    def pending(self, after: int, limit: int) -> OutboxBatch | None:
        """The next `limit` entries after sequence `after` with their rows, or None."""
        entries = tuple(
            OutboxEntry(int(s), str(k), int(r))
            for s, k, r in self._conn.execute(
                "SELECT sequence, kind, row_id FROM outbox WHERE sequence > ? "
                "ORDER BY sequence LIMIT ?",
                (after, limit),
            )
        )
        if not entries:
            return None
        first, last = entries[0].sequence, entries[-1].sequence
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for kind in dict.fromkeys(e.kind for e in entries):
            select = _SELECTS.get(kind)
            if select is None:
                raise StationError(
                    f"{self.db_path}: outbox kind {kind!r} is unknown to this station"
                )
            fetched = self._conn.execute(select, (first, last)).fetchall()
            if kind == "image":
                fetched = [(*r, self._sha256(r[2])) for r in fetched]
            rows[kind] = fetched
        return OutboxBatch(first, last, entries, rows)

    def _sha256(self, rel: str) -> str | None:
        """The archived frame's SHA-256, or None once the archive pruned it."""
        try:
            with open(self._archive / rel, "rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()
        except OSError:
            return None

    def quarantined(self) -> list[QuarantinedRow]:
        return [
            QuarantinedRow(int(s), str(k), int(r), str(e), int(a), float(t))
            for s, k, r, e, a, t in self._conn.execute(
                "SELECT sequence, kind, row_id, error, attempts, time_utc FROM outbox_quarantine "
                "WHERE target = ? ORDER BY sequence",
                (self.target,),
            )
        ]

    # ------------------------------------------------------------------ writing
    def ack(self, sequence: int) -> None:
        """Record that the server acknowledged every row up to `sequence`."""
        self._write(
            "INSERT INTO outbox_acks (target, sequence, acked_utc) VALUES (?, ?, ?) "
            "ON CONFLICT (target) DO UPDATE SET sequence = excluded.sequence, "
            "acked_utc = excluded.acked_utc",
            (self.target, sequence, time.time()),
        )

    def quarantine(self, entry: OutboxEntry, error: str, attempts: int) -> None:
        self._write(
            "INSERT OR REPLACE INTO outbox_quarantine "
            "(target, sequence, kind, row_id, error, attempts, time_utc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.target, entry.sequence, entry.kind, entry.row_id, error, attempts, time.time()),
        )

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(sql, args)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise explain(self.db_path, exc) from exc
