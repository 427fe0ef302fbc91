"""Operator confirmations and events: inserted in order, each confirmation chained and audited.

A confirmation is an operator's verdict on a logged part (the latest one is
the part's truth). It is checked against the part it names inside the
writer's transaction, chained in the confirmations table, and mirrored as a
`confirmation` event in the event trail, in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from station.core.errors import StationError
from station.storage import chain
from station.storage.audit import append_events, canonical_details
from station.storage.writer import Item, Kind


def confirmation_payload(
    inspection_row_id: int, defective: bool, class_name: str | None, operator: str
) -> tuple[Any, ...]:
    """(inspection id, time, defective 0/1, class, operator); StationError when inconsistent."""
    if not operator:
        raise StationError("confirmation: operator name is required")
    if not defective and class_name is not None:
        raise StationError(f"confirmation: a good part has no defect class (got {class_name!r})")
    return (int(inspection_row_id), time.time(), int(bool(defective)), class_name, str(operator))


def _refusal(conn: sqlite3.Connection, iid: int, class_name: str | None) -> StationError | None:
    row = conn.execute("SELECT class_names FROM inspections WHERE id = ?", (iid,)).fetchone()
    if row is None:
        return StationError(f"confirmation: no logged part with row id {iid}")
    names = json.loads(row[0])
    if class_name is not None and class_name not in names:
        return StationError(
            f"confirmation: {class_name!r} is not a class of the part's model; "
            f"its classes are: {', '.join(names)}"
        )
    return None


def _insert_confirmation(conn: sqlite3.Connection, it: Item) -> tuple[float, str, str, str] | None:
    iid, t, defective, class_name, operator = it.payload
    it.error = _refusal(conn, iid, class_name)
    if it.error is not None:
        return None
    row_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM confirmations").fetchone()[0])
    values = (row_id, iid, t, defective, class_name, operator)
    (link,) = chain.extend(conn, "confirmations", [values])
    conn.execute(
        "INSERT INTO confirmations "
        "(id, inspection_id, time_utc, defective, class_name, operator, link) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*values, link),
    )
    it.row_id = row_id
    verdict = "really defective" if defective else "really good"
    if class_name:
        verdict += f" ({class_name})"
    details = canonical_details(
        {
            "inspection_id": iid,
            "defective": bool(defective),
            "class_name": class_name,
            "operator": operator,
            "confirmation_id": row_id,
        }
    )
    return (t, "confirmation", f"{operator}: part {iid} {verdict}", details)


def insert_entries(conn: sqlite3.Connection, items: list[Item]) -> None:
    """Events and confirmations in submission order (inside the writer's transaction).

    An event item's `row_id` becomes its event id, a confirmation's its confirmation id;
    a refused confirmation gets `error` and writes nothing.
    """
    events: list[tuple[Item | None, tuple[float, str, str, str]]] = []
    for it in items:
        if it.kind is Kind.EVENT:
            events.append((it, it.payload))
            continue
        event = _insert_confirmation(conn, it)
        if event is not None:
            events.append((None, event))
    if events:
        ids = append_events(conn, [e for _, e in events])
        for (owner, _), event_id in zip(events, ids, strict=True):
            if owner is not None:
                owner.row_id = event_id
