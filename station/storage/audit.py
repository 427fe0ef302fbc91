"""The event trail, chained: each entry's SHA-256 covers its content and the previous hash.

Editing an entry breaks its own hash; deleting one breaks the link of the
next; deleting entries at the end is caught by the head kept in `meta`
(written in the same transaction as the entries). The chain proves the log
was not edited after the fact; it is not a signature (someone who can
rewrite the whole file can rewrite the whole chain).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from station.storage.chain import chain_anchors

GENESIS = "0" * 64


def canonical_details(details: dict[str, Any]) -> str:
    """The stored (and hashed) text of an event's details: sorted keys, no spaces."""
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if hasattr(value, "to_dict"):  # ThresholdSet and friends
        return value.to_dict()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def entry_hash(
    prev_hash: str, event_id: int, time_utc: float, kind: str, message: str, details: str
) -> str:
    """SHA-256 (hex) of one entry over the previous entry's hash."""
    body = json.dumps([event_id, repr(float(time_utc)), kind, message, details], ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def chain_head(conn: sqlite3.Connection) -> tuple[int, str]:
    """(id, hash) of the last entry, or (0, GENESIS) for an empty trail."""
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """Result of walking the trail. `first_bad_id` is None when the chain is intact."""

    entries: int
    first_bad_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None and not self.problem


def verify_chain(conn: sqlite3.Connection) -> ChainCheck:
    """Walk every entry in id order; stop at the first that does not verify."""
    expected_prev = GENESIS
    last_id = 0
    n = 0
    cur = conn.execute(
        "SELECT id, time_utc, kind, message, details, prev_hash, hash FROM events ORDER BY id"
    )
    for event_id, time_utc, kind, message, details, prev_hash, stored in cur:
        n += 1
        where = f"event {event_id} ({kind}, {message!r})"
        if prev_hash != expected_prev:
            return ChainCheck(
                n,
                event_id,
                f"{where} does not follow event {last_id}: an entry between them was "
                "deleted or edited",
            )
        if entry_hash(prev_hash, event_id, time_utc, kind, message, details) != stored:
            return ChainCheck(
                n, event_id, f"{where} was edited: its content does not match its hash"
            )
        expected_prev, last_id = stored, event_id
    head = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
    if head is not None:
        head_id, _, head_hash = str(head[0]).partition(":")
        if int(head_id) != last_id or head_hash != expected_prev:
            return ChainCheck(
                n,
                int(head_id),
                f"the trail ends at event {last_id} but the log's head is event "
                f"{head_id}: entries at the end were deleted or edited",
            )
    elif n:
        return ChainCheck(n, None, "the log's head record is missing: it was deleted")
    return ChainCheck(n)


def append_events(conn: sqlite3.Connection, events: list[tuple[float, str, str, str]]) -> list[int]:
    """Chain `(time_utc, kind, message, details_json)` entries onto the trail.

    Call inside a write transaction: the head is read and moved under the lock. Each entry
    also records where the inspection and confirmation chains end at that moment
    (`chain` in its details, unless the caller gave one): rows cut off the end of a table
    together with its head are then still seen by the trail (`integrity`).
    """
    head_id, head_hash = chain_head(conn)
    rows, ids = [], []
    anchors = _anchors(conn)
    for t, kind, message, details in ((*e[:3], _anchored(e[3], anchors)) for e in events):
        head_id += 1
        h = entry_hash(head_hash, head_id, t, kind, message, details)
        rows.append((head_id, t, kind, message, details, head_hash, h))
        ids.append(head_id)
        head_hash = h
    conn.executemany(
        "INSERT INTO events (id, time_utc, kind, message, details, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?)",
        (f"{head_id}:{head_hash}",),
    )
    return ids


def _anchors(conn: sqlite3.Connection) -> dict[str, Any]:
    try:
        return chain_anchors(conn)
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return {}  # a log being upgraded: no chains yet


def _anchored(details: str, anchors: dict[str, Any]) -> str:
    """`details` with the chains' heads added under "chain" (kept as given when present)."""
    parsed = json.loads(details) if details and anchors else None
    if not isinstance(parsed, dict) or "chain" in parsed:
        return details
    return canonical_details({**parsed, "chain": anchors})
