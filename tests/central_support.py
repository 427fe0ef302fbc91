"""A real PostgreSQL for the central tests, and journal-vs-central content checks.

One scratch cluster per test session (Debian's initdb/pg_ctl on 127.0.0.1 on a
free port, run as the `postgres` user under root); each test gets its own
database in it. The password is only in a .pgpass file named by PGPASSFILE,
as a plant would keep it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.outputs.central import scratch_server
from station.outputs.central.scratch_server import ScratchServer

_counter = itertools.count()

# Per central table: its columns, and the journal query giving the same values in order.
COMPARED = {
    "inspections": (
        "id, time_utc, logged_station_id, product, shift_id, part_sequence, outcome, reasons, "
        "class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms, "
        "truth_defective, zone, why, extra, link",
        "SELECT id, time_utc, station_id, product, shift_id, sequence, outcome, reasons, "
        "class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms, "
        "truth_defective, zone, why, extra, link FROM inspections ORDER BY id",
        "id",
    ),
    "confirmations": (
        "id, inspection_id, time_utc, defective, class_name, operator, link",
        "SELECT id, inspection_id, time_utc, defective, class_name, operator, link "
        "FROM confirmations ORDER BY id",
        "id",
    ),
    "events": (
        "id, time_utc, kind, message, details, prev_hash, hash",
        "SELECT id, time_utc, kind, message, details, prev_hash, hash FROM events ORDER BY id",
        "id",
    ),
    "shifts": (
        "id, name, start_utc, end_utc, zone",
        "SELECT id, name, start_utc, end_utc, zone FROM shifts ORDER BY id",
        "id",
    ),
    "threshold_sets": (
        "id, thresholds",
        "SELECT id, thresholds FROM threshold_sets ORDER BY id",
        "id",
    ),
    "images": (
        "inspection_id, path, bytes",
        "SELECT id, image_path, image_bytes FROM inspections WHERE image_path IS NOT NULL "
        "ORDER BY id",
        "inspection_id",
    ),
}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ScratchServer]:
    why = scratch_server.missing_reason()
    if why is not None:
        pytest.skip(why)
    try:
        import psycopg  # noqa: F401
    except ImportError:  # a venv made before the `central` extra existed
        pytest.skip("psycopg is not installed: run scripts/setup.sh test (the `central` extra)")
    server = ScratchServer()
    old = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(server.pgpass)
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = old
        server.close()


def new_database(server: ScratchServer, *, init: bool = True) -> str:
    """A fresh database in the server; its URL (no password), schema created when `init`."""
    import psycopg

    from station.outputs.central import schema
    from station.outputs.central.connection import connect

    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = server.url.rsplit("/", 1)[0] + f"/{name}"
    if init:
        conn2 = connect(url)
        schema.init(conn2)
        conn2.close()
    return url


@pytest.fixture
def central_url(pg_server: ScratchServer) -> str:
    return new_database(pg_server)


def _norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in row)


def digest(rows: list[tuple[Any, ...]]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(_norm(row)).encode())
    return h.hexdigest()


def local_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {t: [_norm(r) for r in conn.execute(q)] for t, (_, q, _) in COMPARED.items()}
    finally:
        conn.close()


def central_rows(url: str, station_id: str) -> dict[str, list[tuple[Any, ...]]]:
    from station.outputs.central.connection import connect

    conn = connect(url)
    try:
        return {
            t: [
                _norm(tuple(r))
                for r in conn.execute(
                    f"SELECT {cols} FROM {t} WHERE station_id = %s ORDER BY {key}", (station_id,)
                )
            ]
            for t, (cols, _, key) in COMPARED.items()
        }
    finally:
        conn.close()


def assert_central_equals_local(db: Path, url: str, station_id: str) -> dict[str, int]:
    """Every journal row is in the central database once, with the same content; returns counts."""
    local, central = local_rows(db), central_rows(url, station_id)
    for table in COMPARED:
        lo, ce = local[table], central[table]
        assert len(ce) == len(lo), f"{table}: {len(ce)} central rows, {len(lo)} in the journal"
        assert digest(ce) == digest(lo), f"{table}: content differs"
        assert ce == lo
    from station.outputs.central.connection import connect

    conn = connect(url)
    try:
        dupes = conn.execute(
            "SELECT count(*) - count(DISTINCT (station_id, id)) FROM inspections"
        ).fetchone()[0]
    finally:
        conn.close()
    assert dupes == 0
    return {t: len(rows) for t, rows in local.items()}
