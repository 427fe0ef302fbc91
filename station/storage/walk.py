"""Walking a row chain: each row checked against the stored link of the row before it.

A long chain is cut at its checkpoints into stretches; all but the last are
walked by worker processes (`python -m station.storage.walk`, each on its own
read-only connection) while the caller walks the last, so a million rows use
every core. Each stretch must end exactly on the checkpoint the next starts at.
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

from station.storage.chain import ChainHead, select_canonical, stored_canonical

_sha256 = hashlib.sha256
PARALLEL_FROM_ROWS = 200_000  # below this a worker process costs more than it saves
MAX_WORKERS = 4


@dataclass(frozen=True, slots=True)
class Walk:
    """What walking one stretch of a chain found."""

    rows: int  # rows chained up to its last row (the start checkpoint's count included)
    last_id: int
    last_link: bytes
    first: tuple[int, str] | None
    broken: int


def walk(conn: sqlite3.Connection, table: str, start: ChainHead, stop_id: int | None) -> Walk:
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
    return Walk(n, last_id, prev, first, broken)


def walk_in_process(path: str, table: str, start: ChainHead, stop_id: int) -> subprocess.Popen[str]:
    """A worker process walking one stretch on its own read-only connection (see `_main`)."""
    args = [path, table, str(start.row_id), str(start.rows), start.link.hex(), str(stop_id)]
    cmd = [sys.executable, "-m", "station.storage.walk", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def walk_result(proc: subprocess.Popen[str]) -> Walk:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise sqlite3.OperationalError(f"chain check worker failed (exit {proc.returncode})")
    doc = json.loads(out)
    first = None if doc["first"] is None else (int(doc["first"][0]), str(doc["first"][1]))
    return Walk(doc["rows"], doc["last_id"], bytes.fromhex(doc["last_link"]), first, doc["broken"])


def _main(argv: list[str]) -> None:
    path, table, row_id, rows, link, stop = argv
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        w = walk(conn, table, ChainHead(int(row_id), int(rows), bytes.fromhex(link)), int(stop))
    finally:
        conn.close()
    doc = {"rows": w.rows, "last_id": w.last_id, "last_link": w.last_link.hex()}
    print(json.dumps({**doc, "first": w.first, "broken": w.broken}))


def stretches(
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


def workers(todo_rows: int) -> int:
    if todo_rows < PARALLEL_FROM_ROWS:
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _why(link: bytes | None, row_id: int, last_id: int) -> str:
    if link is None:
        return "first broken link: the row has no link (it was added outside the station)"
    if row_id != last_id + 1:
        return (
            f"first broken link: the row does not follow row {last_id} "
            f"(rows {last_id + 1}..{row_id - 1} were deleted, or this row was edited)"
        )
    return "first broken link: the row's content does not match its link (the row was edited)"


if __name__ == "__main__":
    _main(sys.argv[1:])
