"""Which part of an inspection log a report covers, and the one SQL condition selecting it.

The station's journal (SQLite) and the plant's central database (PostgreSQL)
are asked the same selections over the same columns (`shift_id`, `time_utc`,
and `station_id` centrally); only the parameter mark differs (`?` for
sqlite3, `%s` for psycopg), so the condition is written once, here. Plain
text and parameters: no database is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

MARKS = ("?", "%s")
"""Parameter marks: sqlite3's qmark style and psycopg's format style."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which part of the log to report. All None: every shift in the log.

    `start_utc`/`end_utc` select inspections in `[start, end)`; `day` selects the
    shifts that start on that local date; `shift_id` one shift.
    """

    shift_id: str | None = None
    day: date | None = None
    start_utc: float | None = None
    end_utc: float | None = None

    def where(
        self, mark: str = "?", alias: str = "", station_id: str | None = None
    ) -> tuple[str, list[Any]]:
        """(condition, parameters) selecting these rows of `alias` (a table name or alias);
        `station_id` narrows it to one station (the central database's rows).

        A shift id starts with the local date it began on ("2026-03-29/night"), so a day
        is the ids in ["D/", "D0"): '0' sorts right after '/' (byte order in SQLite, the
        "C" collation in PostgreSQL). Nothing selected: TRUE (both understand it).
        """
        if mark not in MARKS:
            raise ValueError(f"mark: expected one of {MARKS}, got {mark!r}")
        p = f"{alias}." if alias else ""
        clauses: list[str] = []
        args: list[Any] = []
        if station_id is not None:
            clauses.append(f"{p}station_id = {mark}")
            args.append(station_id)
        if self.shift_id is not None:
            clauses.append(f"{p}shift_id = {mark}")
            args.append(self.shift_id)
        if self.day is not None:
            clauses.append(f"{p}shift_id >= {mark} AND {p}shift_id < {mark}")
            args += [f"{self.day.isoformat()}/", f"{self.day.isoformat()}0"]
        if self.start_utc is not None:
            clauses.append(f"{p}time_utc >= {mark}")
            args.append(self.start_utc)
        if self.end_utc is not None:
            clauses.append(f"{p}time_utc < {mark}")
            args.append(self.end_utc)
        return (" AND ".join(clauses) or "TRUE"), args
