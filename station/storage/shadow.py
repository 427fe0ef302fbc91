"""Shadow results: a candidate model's would-be outcome beside each logged production part.

One row per production part the candidate saw (`shadow_results`, schema 6 in `schema`), keyed by the
inspection's id: its outcome (or SKIPPED when it could not keep up), why, its per-class
maxima and its model and threshold set. The rows are an opinion, not a decision: they are
not hash-chained and not forwarded (the production row they sit beside is both). A row
whose insert would fail is ignored rather than failing the batch it shares with
production rows: a shadow row never costs a production part its commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.shadow import SKIPPED, ShadowCounts, disagreement
from station.storage.errors import explain
from station.storage.opening import connect_reader

INSERT = (
    "INSERT OR IGNORE INTO shadow_results (inspection_id, time_utc, outcome, why, max_scores, "
    "model_sha256, threshold_set_id, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A logged part on which the candidate would have decided otherwise."""

    row_id: int
    time_utc: float
    sequence: int
    production: str
    shadow: str
    why: str
    confirmed: bool | None  # the latest confirmation's "defective", None: not confirmed


def insert_rows(conn: sqlite3.Connection, payloads: Iterable[tuple[Any, ...]]) -> None:
    """Inside the writer's transaction; payloads in `INSERT`'s column order."""
    conn.executemany(INSERT, list(payloads))


def has_shadow(conn: sqlite3.Connection) -> bool:
    """A log older than schema 6 (read, never migrated, by a reader) has no shadow table."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'shadow_results'"
    ).fetchone()
    return row is not None


def counts_by_shift(
    conn: sqlite3.Connection, where: str, args: list[Any]
) -> dict[str, ShadowCounts]:
    """Shadow counts per shift of the inspections selected by `where` (alias `i`)."""
    out: dict[str, ShadowCounts] = {}
    if not has_shadow(conn):
        return out
    for shift_id, production, shadow, n in conn.execute(
        "SELECT i.shift_id, i.outcome, s.outcome, count(*) FROM shadow_results s "
        f"JOIN inspections i ON i.id = s.inspection_id WHERE {where} GROUP BY 1, 2, 3",
        args,
    ):
        out[shift_id] = out.get(shift_id, ShadowCounts()).add(production, shadow, int(n))
    return out


def disagreements(
    conn: sqlite3.Connection, shift_id: str, *, limit: int = 50
) -> list[Disagreement]:
    """The shift's counted disagreements, unconfirmed first, newest first."""
    if not has_shadow(conn):
        return []
    rows = conn.execute(
        "SELECT i.id, i.time_utc, i.sequence, i.outcome, s.outcome, s.why, "
        "(SELECT c.defective FROM confirmations c WHERE c.inspection_id = i.id "
        " ORDER BY c.id DESC LIMIT 1) AS confirmed "
        "FROM shadow_results s JOIN inspections i ON i.id = s.inspection_id "
        "WHERE i.shift_id = ? AND s.outcome != ? AND i.outcome != s.outcome "
        "AND 'NO DECISION' NOT IN (i.outcome, s.outcome) "
        "ORDER BY confirmed IS NOT NULL, i.id DESC LIMIT ?",
        (shift_id, SKIPPED, int(limit)),
    ).fetchall()
    return [
        Disagreement(
            int(r[0]),
            float(r[1]),
            int(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            None if r[6] is None else bool(r[6]),
        )
        for r in rows
        if disagreement(str(r[3]), str(r[4])) is not None
    ]


def disagreeing_rows(db_path: Path) -> set[int]:
    """Row ids of every part the shadow model would have decided otherwise (both counted
    disagreements), for an export of the confirmed ones."""
    conn = connect_reader(db_path)
    try:
        if not has_shadow(conn):
            return set()
        rows = conn.execute(
            "SELECT i.id FROM shadow_results s JOIN inspections i ON i.id = s.inspection_id "
            "WHERE (i.outcome = 'REJECT' AND s.outcome = 'PASS') "
            "OR (i.outcome = 'PASS' AND s.outcome = 'REJECT')"
        ).fetchall()
    except sqlite3.Error as exc:
        raise explain(db_path, exc) from exc
    finally:
        conn.close()
    return {int(r[0]) for r in rows}
