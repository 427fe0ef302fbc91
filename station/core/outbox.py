"""Journal rows waiting to be forwarded: the values the journal's outbox and a forwarder share.

Every journal row gets a monotonic sequence per station in the outbox; a
forwarder sends them in that order and a server acknowledges up to a sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Outbox kinds, in the order a new journal's backlog is queued.
KINDS = ("shift", "threshold_set", "inspection", "image", "confirmation", "event")


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row: its sequence, the kind of journal row and that row's rowid."""

    sequence: int
    kind: str
    row_id: int


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Entries `first`..`last` (inclusive, in order) with their rows to send, per kind.

    Each row starts with its entry's sequence; the columns that follow are the
    kind's (see station/outputs/central/tables.py, which names them).
    """

    first: int
    last: int
    entries: tuple[OutboxEntry, ...]
    rows: dict[str, list[tuple[Any, ...]]]

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    """A row a server refused `attempts` times: skipped by the forwarder, kept in the journal."""

    sequence: int
    kind: str
    row_id: int
    error: str
    attempts: int
    time_utc: float
