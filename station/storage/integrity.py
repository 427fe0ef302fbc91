"""Checking the log's chains: the event trail, the inspections and the confirmations.

Each check walks a chain in id order and names the first broken link (table,
row id, what it means); it keeps walking to count the other broken rows, so a
report of one broken row means one. A row is checked against the stored link
of the row before it, so one edited row breaks one link, not every link after.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from station.storage.audit import verify_chain
from station.storage.chain import (
    COLUMNS,
    TABLES,
    ChainHead,
    canonical,
    checkpoint_before,
    read_head,
)

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One chain's result. `first_bad_id` None and no `problem`: intact."""

    table: str
    rows: int
    first_bad_id: int | None = None
    problem: str = ""
    broken: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None and not self.problem

    def line(self) -> str:
        """One line for stderr: table, row id, first broken link, what it means."""
        more = f" ({self.broken} broken links in {self.table})" if self.broken > 1 else ""
        where = "" if self.first_bad_id is None else f", row {self.first_bad_id}"
        return f"audit trail BROKEN: table {self.table}{where}: {self.problem}{more}"


@dataclass(frozen=True, slots=True)
class LogCheck:
    """Every chain of a log; `ok` when all are intact."""

    tables: tuple[TableCheck, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def broken(self) -> tuple[TableCheck, ...]:
        return tuple(t for t in self.tables if not t.ok)

    def counts(self) -> str:
        return ", ".join(f"{t.rows} {t.table}" for t in self.tables)


def verify_events(conn: sqlite3.Connection) -> TableCheck:
    check = verify_chain(conn)
    return TableCheck("events", check.entries, check.first_bad_id, check.problem)


def verify_rows(conn: sqlite3.Connection, table: str, from_id: int | None = None) -> TableCheck:
    """Walk `table`'s chain (from the checkpoint at or before `from_id`, else the first row)."""
    start = ChainHead() if from_id is None else checkpoint_before(conn, table, from_id)
    head = read_head(conn, table)
    first: tuple[int, str] | None = None
    broken = 0
    if start.row_id:
        stored = conn.execute(f"SELECT link FROM {table} WHERE id = ?", (start.row_id,)).fetchone()
        if stored is None or stored[0] != start.link:
            first, broken = (start.row_id, "the row at a checkpoint was deleted or edited"), 1
    prev, n, last_id = start.link, start.rows, start.row_id
    cols = ", ".join(COLUMNS[table])
    rows = conn.execute(f"SELECT link, {cols} FROM {table} WHERE id > ? ORDER BY id", (last_id,))
    for link, *values in rows:
        row_id = values[0]
        n += 1
        if link is None or _sha256(prev + canonical(values)).digest() != link:
            broken += 1
            if first is None:
                first = (row_id, _why(link, row_id, last_id))
        if link is not None:
            prev = link
        last_id = row_id
    if first is None:
        first = _head_problem(head, last_id, n, prev)
        broken += first is not None
    if first is None:
        return TableCheck(table, n)
    return TableCheck(table, n, first[0], first[1], broken)


def _why(link: bytes | None, row_id: int, last_id: int) -> str:
    if link is None:
        return "first broken link: the row has no link (it was added outside the station)"
    if row_id != last_id + 1:
        return (
            f"first broken link: the row does not follow row {last_id} "
            f"(rows {last_id + 1}..{row_id - 1} were deleted, or this row was edited)"
        )
    return "first broken link: the row's content does not match its link (the row was edited)"


def _head_problem(
    head: ChainHead | None, last_id: int, n: int, last_link: bytes
) -> tuple[int, str] | None:
    if head is None:
        if n == 0:
            return None
        return last_id, "the chain's head record is missing (deleted): its end cannot be checked"
    if (head.row_id, head.rows, head.link) == (last_id, n, last_link):
        return None
    if head.row_id > last_id or head.rows > n:
        return head.row_id, (
            f"first broken link: the table ends at row {last_id} ({n} rows) but its chain's "
            f"head is row {head.row_id} ({head.rows} rows): rows at the end were deleted"
        )
    return last_id, (
        f"first broken link: the chain's head is row {head.row_id} ({head.rows} rows) but "
        f"the table goes on to row {last_id} ({n} rows): rows were added or the head was edited"
    )


def verify_log(conn: sqlite3.Connection, from_ids: dict[str, int] | None = None) -> LogCheck:
    """Every chain of the log; `from_ids` limits a table's walk to the rows from that id on."""
    from_ids = from_ids or {}
    checks = [verify_events(conn)]
    checks += [verify_rows(conn, t, from_ids.get(t)) for t in TABLES]
    return LogCheck(tuple(checks))
