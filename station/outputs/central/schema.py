"""The central PostgreSQL schema and its migrations (`station central init --url URL`).

Versioned in `central_schema`; `init` runs the missing migrations in one
transaction under an advisory lock, so two stations initialising at once do
not race. Forwarders only check the version: the plant's forwarding role
needs no DDL rights. Id columns use the "C" collation, so shift-id ranges
("2026-03-29/" up to "2026-03-290") select a date as they do in SQLite.
"""

from __future__ import annotations

from typing import Any

from station.core.errors import StationError

_LOCK_KEY = 0x5354_4154  # pg_advisory_xact_lock key for migrations ("STAT")

SCHEMA_1 = """
CREATE TABLE stations (
    station_id text COLLATE "C" PRIMARY KEY,
    journal_id text NOT NULL,
    hostname text NOT NULL,
    zone text NOT NULL DEFAULT 'UTC',
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    last_sequence bigint NOT NULL DEFAULT 0
);
CREATE TABLE inspections (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    id bigint NOT NULL,
    time_utc double precision NOT NULL,
    logged_station_id text NOT NULL,
    product text NOT NULL,
    shift_id text COLLATE "C" NOT NULL,
    part_sequence bigint NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('PASS', 'REJECT', 'NO DECISION')),
    reasons text NOT NULL,
    class_names text NOT NULL,
    max_scores bytea NOT NULL,
    kept text NOT NULL,
    threshold_set_id text NOT NULL,
    model_sha256 text NOT NULL,
    latency_ms double precision NOT NULL,
    truth_defective smallint,
    zone text NOT NULL,
    why text NOT NULL,
    extra text NOT NULL,
    link bytea,
    received_utc double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
    PRIMARY KEY (station_id, sequence),
    UNIQUE (station_id, id)
);
CREATE INDEX inspections_shift_outcome
    ON inspections (shift_id, station_id, outcome, truth_defective);
CREATE INDEX inspections_time ON inspections (time_utc);
CREATE INDEX inspections_model ON inspections (model_sha256, station_id);
CREATE TABLE images (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    inspection_id bigint NOT NULL,
    path text NOT NULL,
    bytes bigint NOT NULL,
    sha256 text,
    PRIMARY KEY (station_id, sequence)
);
CREATE INDEX images_inspection ON images (station_id, inspection_id);
CREATE TABLE confirmations (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    id bigint NOT NULL,
    inspection_id bigint NOT NULL,
    time_utc double precision NOT NULL,
    defective smallint NOT NULL,
    class_name text,
    operator text NOT NULL,
    link bytea,
    PRIMARY KEY (station_id, sequence),
    UNIQUE (station_id, id)
);
CREATE INDEX confirmations_inspection ON confirmations (station_id, inspection_id, id);
CREATE TABLE events (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    id bigint NOT NULL,
    time_utc double precision NOT NULL,
    kind text NOT NULL,
    message text NOT NULL,
    details text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (station_id, sequence),
    UNIQUE (station_id, id)
);
CREATE INDEX events_kind_time ON events (kind, time_utc);
CREATE TABLE shifts (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    start_utc double precision,
    end_utc double precision,
    zone text NOT NULL,
    PRIMARY KEY (station_id, sequence),
    UNIQUE (station_id, id)
);
CREATE TABLE threshold_sets (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    id text NOT NULL,
    thresholds text NOT NULL,
    PRIMARY KEY (station_id, sequence),
    UNIQUE (station_id, id)
);
CREATE TABLE quarantine (
    station_id text COLLATE "C" NOT NULL,
    sequence bigint NOT NULL,
    kind text NOT NULL,
    row_id bigint NOT NULL,
    error text NOT NULL,
    time_utc double precision NOT NULL,
    PRIMARY KEY (station_id, sequence)
);
"""

MIGRATIONS: tuple[str, ...] = (SCHEMA_1,)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: Any) -> int:
    """The central schema's version; 0 for a database the station never initialised."""
    exists = conn.execute("SELECT to_regclass('central_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = conn.execute("SELECT max(version) FROM central_schema").fetchone()
    return int(row[0] or 0)


def init(conn: Any) -> tuple[int, int]:
    """Create or upgrade the central schema; returns (old, new) versions. Commits."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS central_schema "
            "(version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"
        )
        old = schema_version(conn)
        if old > SCHEMA_VERSION:
            raise StationError(_too_new(old))
        for version in range(old + 1, SCHEMA_VERSION + 1):
            conn.execute(MIGRATIONS[version - 1])
            conn.execute("INSERT INTO central_schema (version) VALUES (%s)", (version,))
    return old, SCHEMA_VERSION


def require_current(conn: Any, where: str) -> None:
    """Refuse a database without the station's schema, or with another version of it."""
    version = schema_version(conn)
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StationError(f"{where}: {_too_new(version)}")
    raise StationError(
        f"{where}: the central schema is at version {version}, this station needs "
        f"{SCHEMA_VERSION}: run `station central init --url URL` first"
    )


def _too_new(version: int) -> str:
    return (
        f"central schema version {version} is newer than this station understands "
        f"({SCHEMA_VERSION}); update the station"
    )
