"""The log's schema and its migrations, versioned with `PRAGMA user_version`.

A new database is built by running every migration from version 0, so the
upgrade path of an old database is the path every database takes. An older
database is upgraded in one transaction when opened for writing (never by a
reader); a newer one is refused (this station cannot know what the newer
columns mean). Opening, and refusing files that are not station logs, is
`station.storage.opening`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.storage.audit import append_events, canonical_details
from station.storage.chain import TABLES, read_head, seal
from station.storage.errors import SchemaTooNew

# Version 1: inspections and the hash-chained event trail.
SCHEMA_1 = """
CREATE TABLE inspections (
    id INTEGER PRIMARY KEY,
    time_utc REAL NOT NULL,
    station_id TEXT NOT NULL,
    product TEXT NOT NULL,
    shift_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('PASS', 'REJECT', 'NO DECISION')),
    reasons TEXT NOT NULL,
    class_names TEXT NOT NULL,
    max_scores BLOB NOT NULL,
    kept TEXT NOT NULL,
    threshold_set_id TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    truth_defective INTEGER
);
CREATE INDEX inspections_time ON inspections (time_utc);
CREATE INDEX inspections_shift ON inspections (shift_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time_utc REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""

# Version 2: display zone, no-decision reason, reject archive, shifts, confirmations,
# threshold sets by id, audit head.
SCHEMA_2 = """
ALTER TABLE inspections ADD COLUMN zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE inspections ADD COLUMN why TEXT NOT NULL DEFAULT '';
ALTER TABLE inspections ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
ALTER TABLE inspections ADD COLUMN image_path TEXT;
ALTER TABLE inspections ADD COLUMN image_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inspections ADD COLUMN image_pruned_utc REAL;
CREATE INDEX inspections_images ON inspections (id) WHERE image_path IS NOT NULL;
CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    start_utc REAL,
    end_utc REAL,
    zone TEXT NOT NULL DEFAULT 'UTC'
);
INSERT OR IGNORE INTO shifts (id, name)
    SELECT shift_id, substr(shift_id, instr(shift_id, '/') + 1) FROM inspections GROUP BY shift_id;
CREATE TABLE confirmations (
    id INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    time_utc REAL NOT NULL,
    defective INTEGER NOT NULL,
    class_name TEXT,
    operator TEXT NOT NULL
);
CREATE INDEX confirmations_inspection ON confirmations (inspection_id, id);
CREATE INDEX events_kind_time ON events (kind, time_utc);
CREATE TABLE threshold_sets (id TEXT PRIMARY KEY, thresholds TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value)
    SELECT 'audit_head', id || ':' || hash FROM events ORDER BY id DESC LIMIT 1;
"""

# Version 3: shift summaries read outcome and truth from the index alone (a full shift at
# 50 parts/s is about 1.4 million rows: an index-only scan instead of reading every row).
SCHEMA_3 = """
CREATE INDEX IF NOT EXISTS inspections_shift_outcome
    ON inspections (shift_id, outcome, truth_defective);
DROP INDEX IF EXISTS inspections_shift;
"""

# Version 4: inspections and confirmations hash-chained (station.storage.chain); the rows
# already logged are sealed by the migration, and an event says how many.
SCHEMA_4 = """
ALTER TABLE inspections ADD COLUMN link BLOB;
ALTER TABLE confirmations ADD COLUMN link BLOB;
CREATE TABLE chain_heads (
    tbl TEXT PRIMARY KEY,
    row_id INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    link BLOB NOT NULL
);
CREATE TABLE chain_checkpoints (
    tbl TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    link BLOB NOT NULL,
    PRIMARY KEY (tbl, row_id)
) WITHOUT ROWID;
"""


def _seal_logged_rows(conn: sqlite3.Connection) -> None:
    """Chain the rows logged before version 4, and say so in the event trail."""
    sealed = {table: seal(conn, table) for table in TABLES}
    if not any(sealed.values()):
        return
    heads = {t: read_head(conn, t) for t in TABLES}
    details = {
        "sealed": sealed,
        "heads": {t: {"row_id": h.row_id, "link": h.link.hex()} for t, h in heads.items() if h},
    }
    append_events(
        conn,
        [
            (
                time.time(),
                "records_sealed",
                f"{sealed['inspections']} inspections and {sealed['confirmations']} "
                "confirmations logged before the chain existed were sealed at the upgrade "
                "(edits made to them before this moment cannot be seen)",
                canonical_details(details),
            )
        ],
    )


# Version 5: the outbox a forwarder reads (station/outputs/central). Triggers give every
# journal row, and every archived frame joining its row, a monotonic sequence in the same
# transaction as the row itself; a forwarder's acknowledged high-water mark and the rows a
# server refused (quarantined, never dropped) are kept per target. Rows of older schemas
# are queued in time order; the journal gets a random id so a server can tell two
# journals claiming one station id apart.
SCHEMA_5 = """
CREATE TABLE outbox (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    queued_utc REAL NOT NULL
);
INSERT INTO outbox (kind, row_id, queued_utc)
    SELECT kind, row_id, t FROM (
        SELECT 'shift' AS kind, rowid AS row_id, coalesce(start_utc, 0) AS t, 0 AS o FROM shifts
        UNION ALL SELECT 'threshold_set', rowid, 0, 1 FROM threshold_sets
        UNION ALL SELECT 'inspection', id, time_utc, 2 FROM inspections
        UNION ALL SELECT 'image', id, time_utc, 3 FROM inspections WHERE image_path IS NOT NULL
        UNION ALL SELECT 'confirmation', id, time_utc, 4 FROM confirmations
        UNION ALL SELECT 'event', id, time_utc, 5 FROM events
    ) ORDER BY o < 2 DESC, t, o, row_id;
CREATE TRIGGER outbox_inspection AFTER INSERT ON inspections BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc) VALUES ('inspection', NEW.id, NEW.time_utc);
END;
CREATE TRIGGER outbox_image AFTER UPDATE OF image_path ON inspections
    WHEN NEW.image_path IS NOT NULL AND OLD.image_path IS NULL BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc)
        VALUES ('image', NEW.id, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE TRIGGER outbox_confirmation AFTER INSERT ON confirmations BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc) VALUES ('confirmation', NEW.id, NEW.time_utc);
END;
CREATE TRIGGER outbox_event AFTER INSERT ON events BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc) VALUES ('event', NEW.id, NEW.time_utc);
END;
CREATE TRIGGER outbox_shift AFTER INSERT ON shifts BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc)
        VALUES ('shift', NEW.rowid, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE TRIGGER outbox_threshold_set AFTER INSERT ON threshold_sets BEGIN
    INSERT INTO outbox (kind, row_id, queued_utc)
        VALUES ('threshold_set', NEW.rowid, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE TABLE outbox_acks (
    target TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    acked_utc REAL NOT NULL
);
CREATE TABLE outbox_quarantine (
    target TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    time_utc REAL NOT NULL,
    PRIMARY KEY (target, sequence)
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('journal_id', lower(hex(randomblob(16))));
"""

# Version 6: shadow results, a candidate model's would-be outcome beside each part
# (station.storage.shadow). Not chained and not forwarded: an opinion, not a decision.
SCHEMA_6 = """
CREATE TABLE shadow_results (
    inspection_id INTEGER PRIMARY KEY,
    time_utc REAL NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('PASS', 'REJECT', 'NO DECISION', 'SKIPPED')),
    why TEXT NOT NULL,
    max_scores BLOB,
    model_sha256 TEXT NOT NULL,
    threshold_set_id TEXT NOT NULL,
    latency_ms REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: SQL statements, then an optional step in Python (same transaction)."""

    sql: str
    then: Callable[[sqlite3.Connection], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(SCHEMA_1),
    Migration(SCHEMA_2),
    Migration(SCHEMA_3),
    Migration(SCHEMA_4, _seal_logged_rows),
    Migration(SCHEMA_5),
    Migration(SCHEMA_6),  # shadow results (station.storage.shadow)
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    """Bring the schema to SCHEMA_VERSION in one transaction; returns (old, new) versions."""
    old = schema_version(conn)
    if old > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"inspection log {path}: schema version {old} is newer than this station "
            f"understands ({SCHEMA_VERSION}); update the station, or point --db / the recipe's "
            f"db_path at another file"
        )
    if old == SCHEMA_VERSION:
        return old, old
    # The schema_migrated event is appended in the same transaction as the upgrade.
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = schema_version(conn)
        for step in MIGRATIONS[current:]:
            for statement in _statements(step.sql):
                conn.execute(statement)
            if step.then is not None:
                step.then(conn)
        if current > 0:
            message = f"log upgraded from schema {current} to {SCHEMA_VERSION}"
            details = canonical_details({"old": current, "new": SCHEMA_VERSION})
            append_events(conn, [(time.time(), "schema_migrated", message, details)])
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return old, SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]
