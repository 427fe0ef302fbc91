"""Checking the log's chains: the event trail, the inspections and the confirmations.

Each check walks a chain in id order and names the first broken link (table,
row id, what it means); it keeps walking to count the other broken rows, so a
report of one broken row means one. A row is checked against the stored link
of the row before it, so one edited row breaks one link, not every link after.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from station.storage.audit import verify_chain
from station.storage.chain import (
    TABLES,
    ChainHead,
    checkpoint_before,
    read_head,
    select_canonical,
    stored_canonical,
)

_sha256 = hashlib.sha256
PARALLEL_FROM_ROWS = 200_000  # below this a worker process costs more than it saves
MAX_WORKERS = 4


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


@dataclass(frozen=True, slots=True)
class _Walk:
    """What walking one stretch of a chain found."""

    rows: int  # rows chained up to its last row (the start checkpoint's count included)
    last_id: int
    last_link: bytes
    first: tuple[int, str] | None
    broken: int


def _walk(conn: sqlite3.Connection, table: str, start: ChainHead, stop_id: int | None) -> _Walk:
    """Check the rows after `start` (up to `stop_id`), each against its predecessor's link."""
    first: tuple[int, str] | None = None
    broken = 0
    if start.row_id:
        stored = conn.execute(f"SELECT link FROM {table} WHERE id = ?", (start.row_id,)).fetchone()
        if stored is None or stored[0] != start.link:
            first, broken = (start.row_id, "the row at a checkpoint was deleted or edited"), 1
    prev, n, last_id = start.link, start.rows, start.row_id
    stop = "" if stop_id is None else f" AND id <= {int(stop_id)}"
    rows = conn.execute(f"{select_canonical(table)} WHERE id > ?{stop} ORDER BY id", (last_id,))
    for link, row_id, quoted, *reals in rows:
        n += 1
        if link is None or _sha256(prev + stored_canonical(quoted, reals)).digest() != link:
            broken += 1
            if first is None:
                first = (row_id, _why(link, row_id, last_id))
        if link is not None:
            prev = link
        last_id = row_id
    return _Walk(n, last_id, prev, first, broken)


def _walk_in_process(
    path: str, table: str, start: ChainHead, stop_id: int
) -> subprocess.Popen[str]:
    """A worker process walking one stretch on its own read-only connection (see `_main`)."""
    args = [path, table, str(start.row_id), str(start.rows), start.link.hex(), str(stop_id)]
    cmd = [sys.executable, "-m", "station.storage.integrity", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _walk_result(proc: subprocess.Popen[str]) -> _Walk:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise sqlite3.OperationalError(f"chain check worker failed (exit {proc.returncode})")
    doc = json.loads(out)
    first = None if doc["first"] is None else (int(doc["first"][0]), str(doc["first"][1]))
    return _Walk(doc["rows"], doc["last_id"], bytes.fromhex(doc["last_link"]), first, doc["broken"])


def _main(argv: list[str]) -> None:
    path, table, row_id, rows, link, stop = argv
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        w = _walk(conn, table, ChainHead(int(row_id), int(rows), bytes.fromhex(link)), int(stop))
    finally:
        conn.close()
    doc = {"rows": w.rows, "last_id": w.last_id, "last_link": w.last_link.hex()}
    print(json.dumps({**doc, "first": w.first, "broken": w.broken}))


def _stretches(
    conn: sqlite3.Connection, table: str, start: ChainHead, parts: int
) -> list[ChainHead]:
    """Start points splitting the chain after `start` into about `parts` equal stretches."""
    marks = [
        ChainHead(int(r), int(n), bytes(link))
        for r, n, link in conn.execute(
            "SELECT row_id, rows, link FROM chain_checkpoints WHERE tbl = ? AND row_id > ? "
            "ORDER BY row_id",
            (table, start.row_id),
        )
    ]
    picks = sorted({(k * (len(marks) + 1)) // parts - 1 for k in range(1, parts)})
    return [start, *(marks[i] for i in picks if 0 <= i < len(marks))]


def _workers(todo_rows: int) -> int:
    if todo_rows < PARALLEL_FROM_ROWS:
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


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
    starts = _stretches(conn, table, start, _workers(todo)) if path else [start]
    stops = [s.row_id for s in starts[1:]]
    # The stretches before the last run in worker processes while this one walks the last.
    procs = [_walk_in_process(path, table, a, b) for a, b in zip(starts, stops, strict=False)]
    try:
        own = _walk(conn, table, starts[-1], None)
    finally:
        walks = [_walk_result(p) for p in procs]
    walks.append(own)
    first: tuple[int, str] | None = None
    broken = 0
    for walk, end in zip(walks, [*starts[1:], None], strict=True):
        broken += walk.broken
        first = first or walk.first
        if end is not None and (walk.last_id, walk.rows, walk.last_link) != (
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


def _anchor_problem(conn: sqlite3.Connection, table: str) -> tuple[int, str] | None:
    """A row that a log_opened event anchored (its head then) and that no longer has that link.

    Catches rows and head rewritten together: cut off the end, or edited and re-linked.
    """
    for event_id, details in conn.execute(
        "SELECT id, details FROM events WHERE kind = 'log_opened' ORDER BY id"
    ):
        try:
            row_id, _, link = json.loads(details)["chain"][table]
        except (KeyError, ValueError, TypeError):
            continue  # opened before anchors existed, or nothing chained yet
        stored = conn.execute(f"SELECT link FROM {table} WHERE id = ?", (int(row_id),)).fetchone()
        if stored is None or not isinstance(stored[0], bytes) or stored[0].hex() != link:
            return int(row_id), (
                f"first broken link: event {event_id} (log_opened) recorded the chain ending at "
                f"row {row_id}, which was since deleted or re-linked (rows and head rewritten)"
            )
    return None


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


if __name__ == "__main__":
    _main(sys.argv[1:])
