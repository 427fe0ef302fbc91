"""Forwarding a station's journal to the central database: the journal meets the server here."""

from __future__ import annotations

from pathlib import Path

from station.outputs.central.connection import check_url
from station.outputs.central.forwarder import CentralForwarder, Forwarding
from station.storage.outbox import OutboxJournal


def open_forwarding(
    db_path: Path | str, url: str, station_id: str | None = None, *, batch_rows: int = 2000
) -> Forwarding:
    """The journal at `db_path` ready to forward to `url` (nothing is sent yet)."""
    return Forwarding(
        OutboxJournal(db_path, check_url(url)), url, station_id, batch_rows=batch_rows
    )


def start_forwarder(
    db_path: Path | str,
    url: str,
    station_id: str | None = None,
    *,
    poll_s: float = 0.2,
    batch_rows: int = 2000,
) -> CentralForwarder:
    """A background forwarder for a running station (close it when the station stops)."""
    return CentralForwarder(
        lambda: open_forwarding(db_path, url, station_id, batch_rows=batch_rows),
        url,
        station_id,
        poll_s=poll_s,
    ).start()
