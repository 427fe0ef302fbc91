"""Opening a log: for writing (creating or upgrading it) or for reading (never writing).

Before anything is written the file is identified, read-only: a station log
is an SQLite database whose `user_version` is a station schema and which has
the station's tables. Any other SQLite database, or any other file, is
refused in one line and left byte-identical; a directory is named as one. A
missing or empty file becomes a new log only when opened for writing
(`station run`); a reader refuses it, and refuses an older schema with the
command that upgrades it, since upgrading is writing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from station.storage.errors import LogUnavailable, SchemaTooNew, explain
from station.storage.schema import SCHEMA_VERSION, migrate, schema_version

SQLITE_MAGIC = b"SQLite format 3\x00"
STATION_TABLES = frozenset({"inspections", "events"})
UPGRADE_COMMAND = "station audit upgrade --db"


@dataclass(frozen=True, slots=True)
class FileKind:
    """What is at a log path: `new` (missing or empty), `station` (with its version)."""

    new: bool
    version: int = 0


def _refuse(path: Path, what: str) -> LogUnavailable:
    return LogUnavailable(f"inspection log {path}: {what}")


def identify(path: Path) -> FileKind:
    """Classify `path` without writing to it; LogUnavailable for anything but a log or nothing."""
    if path.is_dir():
        raise _refuse(
            path, f"is a directory; pass the log file's path, e.g. {path / 'inspections.sqlite3'}"
        )
    if not path.exists():
        return FileKind(new=True)
    try:
        with open(path, "rb") as f:
            magic = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise explain(path, exc) from exc
    if not magic:
        return FileKind(new=True)
    if magic != SQLITE_MAGIC:
        raise _refuse(
            path,
            "the file is corrupt or not a station log (not an SQLite database); left untouched: "
            f"move {path.name} aside (keep it for recovery) or point --db at the station's log",
        )
    version, tables = _probe(path)
    if not tables and version == 0:
        return FileKind(new=True)  # an SQLite file with nothing in it
    if not tables >= STATION_TABLES or version == 0:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise _refuse(
            path,
            f"another program's SQLite database (tables: {shown or 'none'}), not a station log; "
            "left untouched (point --db or the recipe's db_path at the station's log)",
        )
    return FileKind(new=False, version=version)


def _probe(path: Path) -> tuple[int, set[str]]:
    # immutable=1 reads the main file alone (no -wal/-shm created); a log whose newest
    # pages are still in its -wal beside it is re-read through the WAL, read-only.
    wal = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if wal else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
        try:
            version = schema_version(conn)
            tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise explain(path, exc) from exc
    return version, {t for t in tables if not t.startswith("sqlite_")}


def _pragmas(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"cannot switch the log to WAL mode (got {mode})")
    # FULL: the WAL is fsynced at every commit, so a committed row survives a power cut.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _too_new(path: Path, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"inspection log {path}: schema version {version} is newer than this station "
        f"understands ({SCHEMA_VERSION}); update the station, or point --db / the recipe's "
        f"db_path at another file"
    )


def connect(
    path: Path, *, busy_timeout_s: float = 2.0
) -> tuple[sqlite3.Connection, tuple[int, int]]:
    """Open (creating if missing or empty) and upgrade the log at `path` for writing.

    Returns the connection (autocommit; callers use explicit BEGIN IMMEDIATE)
    and the (old, new) schema versions. Raises LogUnavailable saying what to do.
    """
    path = Path(path)
    kind = identify(path)
    if kind.version > SCHEMA_VERSION:
        raise _too_new(path, kind.version)
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
    """A read-only connection (`mode=ro`) for reports, views and checks; never writes.

    Refuses a missing or empty file, a file that is not a station log, an older
    schema (naming the command that upgrades it) and a newer one.
    """
    path = Path(path)
    if not path.exists():
        raise _refuse(path, "no such file; pass --db with the log's path")
    kind = identify(path)
    if kind.new:
        raise _refuse(path, "empty: nothing has been logged in it yet (not a station log)")
    if kind.version > SCHEMA_VERSION:
        raise _too_new(path, kind.version)
    if kind.version < SCHEMA_VERSION:
        raise _refuse(
            path,
            f"schema version {kind.version} is older than this station's ({SCHEMA_VERSION}); "
            f"`{UPGRADE_COMMAND} {path}` upgrades it (the station also does when it opens it)",
        )
    try:
        return _open_read_only(path, busy_timeout_s)
    except sqlite3.Error as exc:
        raise explain(path, exc) from exc


def _open_read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        if path.with_name(path.name + "-wal").exists():
            raise
    # A cleanly closed log on read-only media (a copy on a stick): SQLite cannot create the
    # WAL index beside it, and with no -wal file every page is in the main file.
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)
