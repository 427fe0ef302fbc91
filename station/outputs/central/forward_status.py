"""How far the journal's outbox is behind the central database, in the operator's words.

A snapshot the forwarder takes (`Forwarding.status`) for the status line, the
Central panel and `station sync --json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ForwardStatus:
    """What the operator and `station sync` see. Ages in seconds."""

    target: str
    station_id: str = ""
    connected: bool = False
    rows_behind: int = 0
    oldest_age_s: float | None = None
    quarantined: int = 0
    sent: int = 0
    last_error: str = ""
    as_of_utc: float = 0.0  # when this snapshot was taken (time.time())

    @property
    def up_to_date(self) -> bool:
        return self.connected and self.rows_behind == 0

    def text(self) -> str:
        """A status-line phrase, e.g. 'Central: 1,204 rows behind (oldest 3 min) · unreachable'."""
        if self.rows_behind:
            age = "" if self.oldest_age_s is None else f" (oldest {_age(self.oldest_age_s)})"
            parts = [f"Central: {self.rows_behind:,} rows behind{age}"]
        elif self.connected:
            parts = ["Central: up to date"]
        else:
            parts = ["Central: connecting…" if not self.last_error else "Central: nothing queued"]
        if not self.connected and self.last_error:
            parts.append(_problem(self.last_error))
        if self.quarantined:
            parts.append(f"{self.quarantined} row(s) quarantined (kept in the log)")
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "station_id": self.station_id,
            "connected": self.connected,
            "rows_behind": self.rows_behind,
            "oldest_age_s": None if self.oldest_age_s is None else round(self.oldest_age_s, 3),
            "quarantined": self.quarantined,
            "sent": self.sent,
            "last_error": self.last_error,
            "as_of_utc": self.as_of_utc,
        }


_SETUP_PROBLEMS = (
    ("needs psycopg", "psycopg not installed"),
    ("central init", "no central schema: run station central init"),
    ("another journal", "station id already used by another station"),
    ("newer than this station", "central schema newer than this station"),
)


def _problem(error: str) -> str:
    """The operator's words for why nothing is sent (the tooltip has the whole error)."""
    for needle, words in _SETUP_PROBLEMS:
        if needle in error:
            return words
    return "server unreachable"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
