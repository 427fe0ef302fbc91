"""Hash chains over the inspection and confirmation rows, so that editing one is seen.

Each row's `link` is SHA-256(previous row's link ‖ canonical row), the first
row's previous link being 32 zero bytes. The canonical row is UTF-8 text:
SQLite's `quote()` of each sealed column that is not REAL, in `COLUMNS` order,
joined by ",", then "|", then the REAL columns in Python's shortest round-trip
`repr`, joined by ",". `quote()` is exact and typed for NULL, integers, text
and BLOBs, and SQLite computes it while reading, so a million rows verify in
seconds; REAL is left to Python, whose float repr is exact on every platform.

Editing a row breaks its own link; deleting one breaks the link of the next;
deleting rows at the end is caught by the head (`chain_heads`: last row id,
row count, last link), moved in the same transaction as the rows. Every
`CHECKPOINT_EVERY` rows a checkpoint (row id, count, link) is kept, so a
check of the rows under one report starts at the checkpoint before them
instead of at the first row; each `log_opened` event copies every head into
the event trail (`chain_anchors`). The archive columns (`image_path`,
`image_bytes`, `image_pruned_utc`) are not sealed: the station changes them
when a frame is written or pruned (pruning is an audited event). Like the
event trail, the chain proves the file was not edited row by row; it is not
a signature against someone who rewrites every link after an edit.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = bytes(32)
CHECKPOINT_EVERY = 8192

COLUMNS: dict[str, tuple[str, ...]] = {
    "inspections": (
        "id", "time_utc", "station_id", "product", "shift_id", "sequence", "outcome", "reasons",
        "class_names", "max_scores", "kept", "threshold_set_id", "model_sha256", "latency_ms",
        "truth_defective", "zone", "why", "extra",
    ),
    "confirmations": ("id", "inspection_id", "time_utc", "defective", "class_name", "operator"),
}  # fmt: skip
REAL_COLUMNS: dict[str, frozenset[str]] = {
    "inspections": frozenset({"time_utc", "latency_ms"}),
    "confirmations": frozenset({"time_utc"}),
}
TABLES = tuple(COLUMNS)

_REAL_AT = {
    t: tuple(i for i, c in enumerate(cs) if c in REAL_COLUMNS[t]) for t, cs in COLUMNS.items()
}
_OTHER_AT = {
    t: tuple(i for i, c in enumerate(cs) if c not in REAL_COLUMNS[t]) for t, cs in COLUMNS.items()
}
# The same positions within the values after the id (the id is never REAL).
_TAIL_OTHER_AT = {t: tuple(i - 1 for i in at if i > 0) for t, at in _OTHER_AT.items()}
_TAIL_REAL_AT = {t: tuple(i - 1 for i in at) for t, at in _REAL_AT.items()}
_sha256 = hashlib.sha256


def _quote(value: Any) -> str:
    """SQLite's quote() of a NULL, INTEGER, TEXT (up to a NUL, as SQLite does) or BLOB."""
    kind = type(value)
    if kind is str:
        text: str = value.partition("\x00")[0]
        return "'" + text.replace("'", "''") + "'"
    if kind is int:
        return str(value)
    if value is None:
        return "NULL"
    if kind is bytes:
        blob: bytes = value
        return "X'" + blob.hex().upper() + "'"
    raise TypeError(f"chain: cannot seal a {kind.__name__} value in a non-REAL column")


def canonical_tail(table: str, rest: Sequence[Any]) -> bytes:
    """The canonical row after its id and the comma (`rest`: the values after the id).

    Computed on the caller's thread when a row is queued, so the writer only prefixes the id.
    """
    quoted = ",".join([_quote(rest[i]) for i in _TAIL_OTHER_AT[table]])
    reals = ",".join([repr(float(rest[i])) for i in _TAIL_REAL_AT[table]])
    return f"{quoted}|{reals}".encode()


def canonical(table: str, values: Sequence[Any]) -> bytes:
    """The hashed bytes of one row as the writer has it (`values` in `COLUMNS` order)."""
    return with_id(values[0], canonical_tail(table, values[1:]))


def with_id(row_id: int, tail: bytes) -> bytes:
    return b"%d," % row_id + tail


def select_canonical(table: str) -> str:
    """SQL yielding (link, id, quoted columns, *REAL columns) per row, for `stored_canonical`."""
    cols = COLUMNS[table]
    quoted = " || ',' || ".join(f"quote({cols[i]})" for i in _OTHER_AT[table])
    reals = ", ".join(cols[i] for i in _REAL_AT[table])
    return f"SELECT link, id, {quoted}, {reals} FROM {table}"


def stored_canonical(quoted: str, reals: Sequence[Any]) -> bytes:
    """The hashed bytes of a row as read back by `select_canonical` (REALs not coerced:
    a REAL column edited to hold text no longer matches)."""
    return f"{quoted}|{','.join([repr(v) for v in reals])}".encode()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a table's chain ends: its last row id, the rows chained so far, the last link."""

    row_id: int = 0
    rows: int = 0
    link: bytes = GENESIS


def read_head(conn: sqlite3.Connection, table: str) -> ChainHead | None:
    """The stored head, or None when there is none (a table never chained, or a deleted head)."""
    row = conn.execute(
        "SELECT row_id, rows, link FROM chain_heads WHERE tbl = ?", (table,)
    ).fetchone()
    return None if row is None else ChainHead(int(row[0]), int(row[1]), bytes(row[2]))


def extend(conn: sqlite3.Connection, table: str, rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """Chain `rows` (full value tuples, ascending ids after the head); returns their links.

    Call inside the write transaction that inserts them: the head is read and moved
    under the lock, so two writers on one file still build one chain.
    """
    return extend_canonical(conn, table, [(r[0], canonical(table, r)) for r in rows])


def extend_canonical(
    conn: sqlite3.Connection, table: str, rows: list[tuple[int, bytes]]
) -> list[bytes]:
    """`extend` for rows given as (id, canonical bytes)."""
    head = read_head(conn, table) or ChainHead()
    link, n, last_id = head.link, head.rows, head.row_id
    links: list[bytes] = []
    checkpoints = []
    for row_id, text in rows:
        link = _sha256(link + text).digest()
        links.append(link)
        n += 1
        last_id = row_id
        if n % CHECKPOINT_EVERY == 0:
            checkpoints.append((table, last_id, n, link))
    if links:
        conn.execute(
            "INSERT OR REPLACE INTO chain_heads (tbl, row_id, rows, link) VALUES (?, ?, ?, ?)",
            (table, last_id, n, link),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO chain_checkpoints (tbl, row_id, rows, link) "
            "VALUES (?, ?, ?, ?)",
            checkpoints,
        )
    return links


def seal(conn: sqlite3.Connection, table: str) -> int:
    """Chain a table's rows that have no link yet (rows logged before the chain existed).

    Used by the migration that introduced the chain, inside its transaction; the rows are
    read as a check reads them, so whatever they hold they verify afterwards. Returns how
    many rows were sealed.
    """
    rows = [
        (int(row_id), stored_canonical(quoted, reals))
        for _, row_id, quoted, *reals in conn.execute(
            f"{select_canonical(table)} WHERE link IS NULL ORDER BY id"
        )
    ]
    links = extend_canonical(conn, table, rows)
    conn.executemany(
        f"UPDATE {table} SET link = ? WHERE id = ?",
        [(link, r[0]) for r, link in zip(rows, links, strict=True)],
    )
    return len(rows)


def checkpoint_before(conn: sqlite3.Connection, table: str, row_id: int) -> ChainHead:
    """The last checkpoint at or before `row_id` (the chain's start when there is none)."""
    row = conn.execute(
        "SELECT row_id, rows, link FROM chain_checkpoints WHERE tbl = ? AND row_id <= ? "
        "ORDER BY row_id DESC LIMIT 1",
        (table, int(row_id)),
    ).fetchone()
    return ChainHead() if row is None else ChainHead(int(row[0]), int(row[1]), bytes(row[2]))


def chain_anchors(conn: sqlite3.Connection) -> dict[str, list[Any]]:
    """Each chain's head as `[row id, rows, link hex]`, for an event to anchor.

    The event trail is a chain of its own: a head copied into it (at every log_opened)
    still shows where the rows ended if the rows and their head were later rewritten.
    """
    heads = {t: read_head(conn, t) for t in TABLES}
    return {t: [h.row_id, h.rows, h.link.hex()] for t, h in heads.items() if h is not None}
