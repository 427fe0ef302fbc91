"""Checking the log's chains: the event trail, the inspections and the confirmations.

Each check walks a chain in id order and names the first broken link (table,
row id, what it means); it keeps walking to count the other broken rows, so a
report of one broken row means one. A row is checked against the stored link
of the row before it, so one edited row breaks one link, not every link after.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from station.storage.audit import verify_chain
from station.storage.chain import TABLES, ChainHead, checkpoint_before, read_head
from station.storage.walk import stretches, walk, walk_in_process, walk_result, workers


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

    def where(self) -> str:
        """Where each broken chain first broke, e.g. "inspections row 5" ("" when intact)."""
        return "; ".join(
            f"{t.table} row {t.first_bad_id}" if t.first_bad_id is not None else f"{t.table} head"
            for t in self.broken
        )

    def counts(self) -> str:
        return ", ".join(f"{t.rows} {t.table}" for t in self.tables)


def verify_events(conn: sqlite3.Connection) -> TableCheck:
    check = verify_chain(conn)
    return TableCheck("events", check.entries, check.first_bad_id, check.problem)


def verify_rows(conn: sqlite3.Connection, table: str, from_id: int | None = None) -> TableCheck:
    """Walk `table`'s chain (from the checkpoint at or before `from_id`, else the first row).

    A long chain is cut at its checkpoints into stretches walked by worker processes at once
    (one per core, at most MAX_WORKERS); each stretch must end exactly on the next one's
    checkpoint.
    """
    start = ChainHead() if from_id is None else checkpoint_before(conn, table, from_id)
    head = read_head(conn, table)
    path = str(conn.execute("PRAGMA database_list").fetchone()[2])
    todo = (head.rows if head else 0) - start.rows
    starts = stretches(conn, table, start, workers(todo)) if path else [start]
    stops = [s.row_id for s in starts[1:]]
    # The stretches before the last run in worker processes while this one walks the last.
    procs = [walk_in_process(path, table, a, b) for a, b in zip(starts, stops, strict=False)]
    try:
        own = walk(conn, table, starts[-1], None)
    finally:
        walks = [walk_result(p) for p in procs]
    walks.append(own)
    first: tuple[int, str] | None = None
    broken = 0
    for stretch, end in zip(walks, [*starts[1:], None], strict=True):
        broken += stretch.broken
        first = first or stretch.first
        if end is not None and (stretch.last_id, stretch.rows, stretch.last_link) != (
            end.row_id,
            end.rows,
            end.link,
        ):
            broken += 1
            first = first or (end.row_id, "the rows before a checkpoint do not add up to it")
    last = walks[-1]
    if first is None:
        first = _head_problem(head, last.last_id, last.rows, last.last_link)
        broken += first is not None
    if first is None:
        first = _anchor_problem(conn, table)
        broken += first is not None
    if first is None:
        return TableCheck(table, last.rows)
    return TableCheck(table, last.rows, first[0], first[1], broken)


_FURTHEST_ANCHOR = """
SELECT id, kind, json_extract(doc, ?), json_extract(doc, ?)
FROM (SELECT id, kind, CASE WHEN json_valid(details) THEN details END AS doc
      FROM events WHERE details LIKE '%"chain":%')
WHERE json_type(doc, ?) = 'integer'
ORDER BY json_extract(doc, ?) DESC, id LIMIT 1
"""


def _anchor_problem(conn: sqlite3.Connection, table: str) -> tuple[int, str] | None:
    """The furthest row an event anchored (the chain's head when the event was written), if
    it no longer has that link: rows and head rewritten together (cut off the end, or edited
    and re-linked) unless the events after them were cut off too. Every event carries the
    heads (in older logs only log_opened events do); the rows before the furthest anchor are
    held by the chain itself, so that one row is the one to look up. SQLite reads the
    events' JSON (50,000 events: 20-25 ms, against 160 ms parsing them in Python)."""
    row_at, link_at = f"$.chain.{table}[0]", f"$.chain.{table}[2]"
    found = conn.execute(_FURTHEST_ANCHOR, (row_at, link_at, row_at, row_at)).fetchone()
    if found is None:
        return None  # written before anchors existed, or nothing chained yet
    event_id, kind, row_id, link = found
    stored = conn.execute(f"SELECT link FROM {table} WHERE id = ?", (row_id,)).fetchone()
    if stored is not None and isinstance(stored[0], bytes) and stored[0].hex() == str(link):
        return None
    return row_id, (
        f"first broken link: event {event_id} ({kind}) recorded the chain ending at "
        f"row {row_id}, which was since deleted or re-linked (rows and head rewritten)"
    )


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
    """Every chain of the log; `from_ids` limits a table's walk to the rows from that id on.

    Read in one snapshot: a station logging meanwhile commits a row and its chain head
    together, and a check that saw one without the other would cry "edited".
    """
    from_ids = from_ids or {}
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        checks = [verify_events(conn)]
        checks += [verify_rows(conn, t, from_ids.get(t)) for t in TABLES]
    finally:
        if own:
            conn.execute("ROLLBACK")  # it only read
    return LogCheck(tuple(checks))


def verify_under(conn: sqlite3.Connection, shift_ids: Sequence[str] | None) -> LogCheck:
    """The chains under these shifts' rows: from the checkpoint before the first of them on.

    None (or shifts with no rows): the whole log. `station report` and the Shift tab both
    say from this whether the figures they show stand on an intact log.
    """
    first = None
    if shift_ids:
        marks = ", ".join("?" * len(shift_ids))
        first = conn.execute(
            f"SELECT min(id) FROM inspections WHERE shift_id IN ({marks})", list(shift_ids)
        ).fetchone()[0]
    return verify_log(conn, None if first is None else {"inspections": int(first)})
