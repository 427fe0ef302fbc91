"""The log's schema and its migrations, versioned with `PRAGMA user_version`.

A new database is built by running every migration from version 0, so the
upgrade path of an old database is the path every database takes. An older
database is upgraded in one transaction when opened for writing; a newer one
is refused (this station cannot know what the newer columns mean).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from station.storage.errors import LogUnavailable, SchemaTooNew, explain

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

MIGRATIONS: tuple[str, ...] = (SCHEMA_1, SCHEMA_2, SCHEMA_3)
SCHEMA_VERSION = len(MIGRATIONS)


def _pragmas(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"cannot switch the log to WAL mode (got {mode})")
    # FULL: the WAL is fsynced at every commit, so a committed row survives a power cut.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


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
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = schema_version(conn)
        for script in MIGRATIONS[current:]:
            for statement in _statements(script):
                conn.execute(statement)
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


def connect(
    path: Path, *, busy_timeout_s: float = 2.0
) -> tuple[sqlite3.Connection, tuple[int, int]]:
    """Open (creating if needed) and upgrade the log at `path` for writing.

    Returns the connection (autocommit; callers use explicit BEGIN IMMEDIATE)
    and the (old, new) schema versions. Raises LogUnavailable saying what to do.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise explain(path, exc) from exc
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _pragmas(conn, busy_timeout_s)
        versions = migrate(conn, path)
        return conn, versions
    except LogUnavailable:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise explain(path, exc) from exc


def connect_reader(path: Path, *, busy_timeout_s: float = 5.0) -> sqlite3.Connection:
    """A connection for reports and views; upgrades an older log first.

    Refuses a missing file (a report must not create an empty log) and a newer schema.
    """
    path = Path(path)
    if not path.is_file():
        raise LogUnavailable(f"inspection log {path}: no such file; pass --db with the log's path")
    try:
        conn, _ = connect(path, busy_timeout_s=busy_timeout_s)
        return conn
    except SchemaTooNew:
        raise
    except LogUnavailable as exc:
        # A log on read-only media (a copy on a stick) can still be read, if it is current.
        try:
            ro = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            if schema_version(ro) == SCHEMA_VERSION:
                return ro
            ro.close()
        except sqlite3.Error:
            pass
        raise exc from None
